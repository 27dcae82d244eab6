package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
)

var scenarioStart = time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)

func buildT(t *testing.T, name string, seed uint64) *Scenario {
	t.Helper()
	sc, err := BuildScenario(name, seed, scenarioStart)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestScenarioList(t *testing.T) {
	want := []string{"mask-warehouse-day", "vaccine-reefer-failure", "counterfeit-distributor", "hospital-donated-masks", "donations-2020"}
	if got := ScenarioNames(); !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	for _, in := range Scenarios() {
		if in.Title == "" || len(in.Story) < 200 || in.Duration <= 0 {
			t.Errorf("%s: title/story/duration missing: %+v", in.Name, in)
		}
	}
	_, err := BuildScenario("no-such", 1, scenarioStart)
	if !errors.Is(err, ErrUnknownScenario) || !strings.Contains(err.Error(), "vaccine-reefer-failure") {
		t.Fatalf("unknown scenario error %v should list the names", err)
	}
}

func TestScenarioDeterministic(t *testing.T) {
	for _, name := range ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			a, b := buildT(t, name, 7), buildT(t, name, 7)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatal("same name, seed and start gave different scenarios")
			}
			c := buildT(t, name, 8)
			if len(c.Messages) == len(a.Messages) {
				same := true
				for i := range c.Messages {
					same = same && bytes.Equal(c.Messages[i].Payload, a.Messages[i].Payload)
				}
				if same {
					t.Fatal("another seed gave the same payloads")
				}
			}
		})
	}
}

// TestScenarioMasterData checks identifiers, device placement and message
// order for several seeds.
func TestScenarioMasterData(t *testing.T) {
	for _, name := range ScenarioNames() {
		for seed := uint64(1); seed <= 3; seed++ {
			sc := buildT(t, name, seed)
			sites := map[string]Site{}
			for _, s := range sc.Sites {
				sites[s.ID] = s
				if len(s.GLN) != 13 || !epc.ValidCheckDigit(s.GLN) {
					t.Errorf("%s: site %s GLN %q", name, s.ID, s.GLN)
				}
				e, err := epc.ParseURI(s.Location)
				if err != nil || e.Scheme != epc.SGLN {
					t.Errorf("%s: site %s location %q: %v", name, s.ID, s.Location, err)
				} else if g, _ := e.GLN(); g != s.GLN {
					t.Errorf("%s: site %s location GLN %s != %s", name, s.ID, g, s.GLN)
				}
				for _, l := range s.Locations {
					e, err := epc.ParseURI(l.ID)
					if g, _ := e.GLN(); err != nil || g != s.GLN {
						t.Errorf("%s: sub-location %q: %v", name, l.ID, err)
					}
				}
				for id, r := range s.Readers {
					if r.ReadPoint == "" || r.BizLocation != s.Location {
						t.Errorf("%s: reader %s map %+v", name, id, r)
					}
				}
			}
			devs := map[string]Device{}
			for _, d := range sc.Devices {
				devs[d.ID] = d
				s, ok := sites[d.Site]
				if !ok {
					t.Errorf("%s: device %s at unknown site %s", name, d.ID, d.Site)
				}
				switch d.Kind {
				case KindRFID:
					if r, ok := s.Readers[d.ID]; !ok || r.Format != d.Format {
						t.Errorf("%s: reader %s not mapped at its site", name, d.ID)
					}
				case KindSensor:
					if _, ok := s.Sensors[d.ID]; !ok {
						t.Errorf("%s: sensor %s not mapped at its site", name, d.ID)
					}
				}
			}
			for _, p := range sc.Products {
				if !epc.ValidCheckDigit(p.GTIN) || len(p.GTIN) != 14 {
					t.Errorf("GTIN %s", p.GTIN)
				}
			}
			last := map[string]time.Time{}
			end := sc.Start.Add(sc.Duration)
			for i, m := range sc.Messages {
				d, ok := devs[m.Device]
				if !ok || m.Topic != d.Topic() {
					t.Fatalf("%s: message %d: device %s topic %s", name, i, m.Device, m.Topic)
				}
				if m.At.Before(last[m.Device]) || m.At.Before(sc.Start) || m.At.After(end) {
					t.Fatalf("%s: message %d of %s at %s out of order or outside the story", name, i, m.Device, m.At)
				}
				if i > 0 && m.At.Before(sc.Messages[i-1].At) {
					t.Fatalf("%s: message %d before message %d", name, i, i-1)
				}
				last[m.Device] = m.At
			}
		}
	}
}

var (
	impinjTS     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`)
	impinjSeenTS = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	zebraTS      = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$`)
	upperHex     = regexp.MustCompile(`^[0-9A-F]{24}$`)
	lowerHex     = regexp.MustCompile(`^[0-9a-f]{24}$`)
)

// checkPayload validates a message for its device's kind and format and
// returns the EPC URIs it names.
func checkPayload(d Device, p []byte, zebraNum map[string]int) ([]string, error) {
	var epcs []string
	hexEPC := func(h string) error {
		u, err := hexURI(h)
		if err != nil {
			return err
		}
		epcs = append(epcs, u)
		return nil
	}
	switch {
	case d.Kind == KindRFID && d.Format == FormatImpinj:
		var ev ImpinjEvent
		if err := decodeStrict(p, &ev); err != nil {
			return nil, err
		}
		if !impinjTS.MatchString(ev.Timestamp) || ev.Hostname == "" {
			return nil, fmt.Errorf("impinj timestamp/hostname %q %q", ev.Timestamp, ev.Hostname)
		}
		switch ev.EventType {
		case "inventoryStatus":
			if ev.InventoryStatusEvent == nil || ev.InventoryStatusEvent.InventoryStatus != "running" || ev.TagInventoryEvent != nil {
				return nil, errors.New("bad inventoryStatus event")
			}
		case "tagInventory":
			r := ev.TagInventoryEvent
			if r == nil || ev.InventoryStatusEvent != nil || !upperHex.MatchString(r.EPCHex) || !impinjSeenTS.MatchString(r.LastSeenTime) ||
				r.PeakRSSICdbm > -2500 || r.PeakRSSICdbm < -9000 || r.AntennaPort < 1 || r.AntennaName == "" || r.Frequency < 860000 || r.TransmitPowerCdbm != 3000 {
				return nil, fmt.Errorf("bad tagInventory %+v", r)
			}
			return epcs, hexEPC(r.EPCHex)
		default:
			return nil, fmt.Errorf("eventType %q", ev.EventType)
		}
	case d.Kind == KindRFID && d.Format == FormatZebraFX:
		var evs []ZebraEvent
		if bytes.HasPrefix(p, []byte("[")) {
			if err := decodeStrict(p, &evs); err != nil {
				return nil, err
			}
		} else {
			var ev ZebraEvent
			if err := decodeStrict(p, &ev); err != nil {
				return nil, err
			}
			evs = []ZebraEvent{ev}
		}
		for _, ev := range evs {
			if ev.Type != "SIMPLE" || !zebraTS.MatchString(ev.Timestamp) || ev.Data.Format != "epc" || !lowerHex.MatchString(ev.Data.IDHex) ||
				ev.Data.Reads < 1 || ev.Data.Antenna < 1 || ev.Data.Channel < 860 || ev.Data.PeakRSSI > -25 {
				return nil, fmt.Errorf("bad zebra event %+v", ev)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000-0700", ev.Timestamp); err != nil {
				return nil, err
			}
			if ev.Data.EventNum != zebraNum[d.ID]+1 {
				return nil, fmt.Errorf("eventNum %d after %d", ev.Data.EventNum, zebraNum[d.ID])
			}
			zebraNum[d.ID] = ev.Data.EventNum
			if err := hexEPC(ev.Data.IDHex); err != nil {
				return nil, err
			}
		}
	case d.Kind == KindRFID:
		var r RFIDRead
		if err := decodeStrict(p, &r); err != nil {
			return nil, err
		}
		if _, err := checkTS(r.TS); err != nil {
			return nil, err
		}
		return epcs, hexEPC(r.EPC)
	case d.Kind == KindSensor:
		var r SensorReading
		if err := decodeStrict(p, &r); err != nil {
			return nil, err
		}
		if _, err := checkTS(r.TS); err != nil {
			return nil, err
		}
		if r.Temperature == nil || (r.Unit != "" && r.Unit != "F") {
			return nil, fmt.Errorf("sensor reading %s", p)
		}
	case d.Kind == KindScanner:
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.UseNumber()
		var ev epcis.Event
		if err := dec.Decode(&ev); err != nil {
			return nil, err
		}
		if err := epcis.ValidateEvent(ev); err != nil {
			return nil, fmt.Errorf("EPCIS: %v", err)
		}
		if ev.BizStep() == "" || ev.ReadPoint() == "" || ev.BizLocation() == "" {
			return nil, fmt.Errorf("event without bizStep/readPoint/bizLocation: %s", p)
		}
		for _, u := range ev.EPCs() {
			if _, err := epc.ParseURI(u); err != nil {
				return nil, err
			}
		}
		return ev.EPCs(), nil
	}
	return epcs, nil
}

func TestScenarioPayloadsValid(t *testing.T) {
	for _, name := range ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			sc := buildT(t, name, 1)
			devs := map[string]Device{}
			for _, d := range sc.Devices {
				devs[d.ID] = d
			}
			zebra := map[string]int{}
			seen := map[string]bool{}
			formats := map[string]bool{}
			for i, m := range sc.Messages {
				d := devs[m.Device]
				if m.Note == "duplicate" {
					if !seen[m.Device+string(m.Payload)] {
						t.Errorf("message %d is a duplicate of nothing", i)
					}
					continue // its eventNum was checked the first time
				}
				seen[m.Device+string(m.Payload)] = true
				if strings.HasPrefix(m.Note, "bad input") {
					var r RFIDRead
					if err := decodeStrict(m.Payload, &r); err != nil {
						t.Fatal(err)
					}
					if _, err := epc.DecodeHex(r.EPC); err == nil {
						t.Fatalf("message %d: deliberately bad EPC %s decodes", i, r.EPC)
					}
					continue
				}
				if _, err := checkPayload(d, m.Payload, zebra); err != nil {
					t.Fatalf("message %d (%s %s/%s): %v\n%s", i, m.Device, d.Kind, d.Format, err, m.Payload)
				}
				formats[d.Kind+"/"+d.Format] = true
			}
			t.Logf("%d messages, formats %v", len(sc.Messages), formats)
		})
	}
}

// sensorSamples returns a sensor's published readings, deduplicated by
// timestamp and sorted, in °C (and %RH), read back from the payloads.
func sensorSamples(t *testing.T, sc *Scenario, dev string) []sample {
	var out []sample
	seen := map[time.Time]bool{}
	for _, m := range sc.Messages {
		if m.Device != dev {
			continue
		}
		var r SensorReading
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, r.TS)
		if seen[ts] {
			continue
		}
		seen[ts] = true
		c := *r.Temperature
		if r.Unit == "F" {
			c = (c - 32) * 5 / 9
		}
		out = append(out, sample{ts: ts, c: &c, rh: r.Humidity})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ts.Before(out[j].ts) })
	return out
}

// mkt is the mean kinetic temperature of readings, each weighted by the
// time to the next one (the last by interval).
func mkt(rs []ExpReading, interval time.Duration) float64 {
	const dhR = 83.144e3 / 8.3144
	var num, den float64
	for i, r := range rs {
		w := interval.Seconds()
		if i+1 < len(rs) {
			w = rs[i+1].At.Sub(r.At).Seconds()
		}
		num += w * math.Exp(-dhR/(r.C+273.15))
		den += w
	}
	return dhR/-math.Log(num/den) - 273.15
}

// TestScenarioExpectedFromReadings recomputes every expected excursion
// from the published payloads.
func TestScenarioExpectedFromReadings(t *testing.T) {
	for _, name := range ScenarioNames() {
		for seed := uint64(1); seed <= 5; seed++ {
			sc := buildT(t, name, seed)
			prods := map[string]ScenarioProduct{}
			for _, p := range sc.Products {
				prods[p.GTIN] = p
			}
			for _, x := range sc.Expected.Excursions {
				dev := x.Sensor[strings.Index(x.Sensor, "/")+1:]
				p := prods[x.GTIN]
				var want []ExpReading
				for _, s := range sensorSamples(t, sc, dev) {
					if s.ts.Before(x.Start) || s.ts.After(x.End) {
						continue
					}
					v := s.c
					if x.Kind == "humidity-high" {
						v = s.rh
					}
					want = append(want, ExpReading{At: s.ts, C: *v})
				}
				if !slices.Equal(want, x.Readings) {
					t.Fatalf("%s seed %d: excursion %s/%s on %s: readings differ from the payloads", name, seed, x.Lot, x.Kind, x.Sensor)
				}
				limit := *p.MaxC
				out := func(v float64) bool { return v > limit }
				switch x.Kind {
				case "temperature-low":
					limit = *p.MinC
					out = func(v float64) bool { return v < limit }
				case "humidity-high":
					limit = *p.MaxHumidity
				}
				// Each excursion is one unbroken run: every reading in it is out of range.
				for _, r := range x.Readings {
					if !out(r.C) {
						t.Errorf("%s seed %d: %s %s reading %v at %s inside the limit %v: the excursion is not one run", name, seed, x.Sensor, x.Kind, r.C, r.At, limit)
					}
				}
				if len(x.Readings) > 1 {
					gaps := []time.Duration{}
					for i := 1; i < len(x.Readings); i++ {
						gaps = append(gaps, x.Readings[i].At.Sub(x.Readings[i-1].At))
					}
					slices.Sort(gaps)
					if gaps[len(gaps)/2] != x.Interval {
						t.Errorf("%s: median gap %s != interval %s", x.Sensor, gaps[len(gaps)/2], x.Interval)
					}
				}
			}
			switch name {
			case "vaccine-reefer-failure":
				checkVaccine(t, sc, seed)
			case "mask-warehouse-day", "hospital-donated-masks":
				if len(sc.Expected.Excursions) != 0 {
					t.Errorf("%s seed %d: unexpected excursions %+v", name, seed, sc.Expected.Excursions[0])
				}
				for k, v := range sc.Expected.LotStatus {
					if v != LotOK {
						t.Errorf("%s seed %d: lot %s %s", name, seed, k, v)
					}
				}
			}
		}
	}
}

func checkVaccine(t *testing.T, sc *Scenario, seed uint64) {
	t.Helper()
	got := map[string]ExpectedExcursion{}
	for _, x := range sc.Expected.Excursions {
		got[x.GTIN+" "+x.Sensor+" "+x.Kind] = x
	}
	for _, k := range []string{
		ScenarioVaccineGTIN + " reefer7/reefer7-logger temperature-high",
		ScenarioRBCGTIN + " reefer7/reefer7-logger temperature-high",
		ScenarioVaccineGTIN + " wh1/pallet-logger-1 temperature-high",
	} {
		x, ok := got[k]
		if !ok {
			t.Fatalf("seed %d: no excursion %s; have %v", seed, k, got)
		}
		if x.Minutes() < 60 {
			t.Errorf("seed %d: excursion %s lasts %.0f min, want well over 30", seed, k, x.Minutes())
		}
		if m := mkt(x.Readings, x.Interval); m <= 8 {
			t.Errorf("seed %d: MKT of %s is %.1f", seed, k, m)
		}
	}
	if len(got) != 3 {
		t.Errorf("seed %d: excursions %v", seed, got)
	}
	for k, v := range sc.Expected.LotStatus {
		if v != LotQuarantined {
			t.Errorf("seed %d: lot %s %s, want quarantined", seed, k, v)
		}
	}
}

// TestScenarioFaults checks that the deliberate delivery faults are in the
// messages.
func TestScenarioFaults(t *testing.T) {
	vx := buildT(t, "vaccine-reefer-failure", 1)
	var burst []Message
	for _, m := range vx.Messages {
		if m.Note == "burst after offline" {
			burst = append(burst, m)
		}
	}
	if len(burst) != 30 {
		t.Fatalf("reefer burst of %d messages, want 30 (30 min at 1 min)", len(burst))
	}
	var prev time.Time
	for _, m := range burst {
		var r SensorReading
		json.Unmarshal(m.Payload, &r)
		ts, _ := time.Parse(time.RFC3339Nano, r.TS)
		if m.Device != DevReeferLogger || !m.At.Equal(burst[0].At) || !ts.Before(m.At) || !ts.After(prev) {
			t.Fatalf("burst message %s at %s with ts %s: not buffered and in order", m.Device, m.At, ts)
		}
		prev = ts
	}
	skewed := 0
	for _, m := range vx.Messages {
		if m.Device == DevPalletLogger {
			var r SensorReading
			json.Unmarshal(m.Payload, &r)
			ts, _ := time.Parse(time.RFC3339Nano, r.TS)
			if ts.Sub(m.At) != 90*time.Second {
				t.Fatalf("pallet logger ts %s published at %s: skew %s", ts, m.At, ts.Sub(m.At))
			}
			skewed++
		}
	}
	if skewed == 0 {
		t.Fatal("no pallet logger messages")
	}

	day := buildT(t, "mask-warehouse-day", 1)
	dups, ooo := 0, 0
	lastTS := map[string]time.Time{}
	payloads := map[string]int{}
	var hum []float64
	for _, m := range day.Messages {
		payloads[m.Device+string(m.Payload)]++
		if m.Note == "duplicate" {
			dups++
		}
		if m.Device == DevWH1Ambient {
			var r SensorReading
			json.Unmarshal(m.Payload, &r)
			if r.Unit != "F" || r.Humidity != nil || r.Battery != nil {
				t.Fatalf("ambient logger payload %s", m.Payload)
			}
			ts, _ := time.Parse(time.RFC3339Nano, r.TS)
			if ts.Before(lastTS[m.Device]) {
				ooo++
			}
			lastTS[m.Device] = ts
		}
		if m.Device == DevWH1Humidity && m.Note != "duplicate" {
			var r SensorReading
			json.Unmarshal(m.Payload, &r)
			hum = append(hum, *r.Humidity)
		}
	}
	twice := 0
	for _, n := range payloads {
		if n > 1 {
			twice++
		}
	}
	if dups == 0 || twice != dups {
		t.Errorf("%d duplicates noted, %d payloads published twice", dups, twice)
	}
	if ooo == 0 {
		t.Error("no out-of-order delivery from the ambient logger")
	}
	run, best := 1, 1
	for i := 1; i < len(hum); i++ {
		if hum[i] == hum[i-1] {
			run++
			best = max(best, run)
		} else {
			run = 1
		}
	}
	if best < 12 {
		t.Errorf("humidity logger repeats at most %d readings; want a 2 h stick (12 at 10 min)", best)
	}
	if day.Expected.DeadLetters["bad_epc"] != 1 || day.Expected.Faults["bad input: corrupt EPC"] != 1 {
		t.Errorf("dead letters %v, faults %v", day.Expected.DeadLetters, day.Expected.Faults)
	}
	if !slices.Equal(day.Expected.SensorFaults, []string{"wh1/wh1-humidity"}) {
		t.Errorf("sensor faults %v", day.Expected.SensorFaults)
	}
	for _, k := range []string{ScenarioMaskGTIN + "/S-MA-1", ScenarioMaskGTIN + "/S-MB-1"} {
		if !slices.Equal(day.Expected.Custody[k], []string{SitePlant, SiteWH1, SiteHospital}) {
			t.Errorf("custody %s %v", k, day.Expected.Custody[k])
		}
	}
}

func TestScenarioCounterfeitAndDonated(t *testing.T) {
	sc := buildT(t, "counterfeit-distributor", 1)
	reasons := map[string]int{}
	for _, s := range sc.Expected.Suspects {
		reasons[s.Reason]++
		if s.Site != SiteWH2 {
			t.Errorf("suspect %+v not at wh2", s)
		}
	}
	if reasons[SuspectNotCommissioned] != 6 || reasons[SuspectImpossible] != 6 || reasons[SuspectRecalled] != 6 {
		t.Errorf("suspects by reason %v", reasons)
	}
	recalled := ScenarioMaskGTIN + "/S-NR-1"
	if sc.Expected.LotStatus[recalled] != LotRecalled || sc.Expected.LotStatus[ScenarioMaskGTIN+"/S-NA-1"] != LotOK {
		t.Errorf("lot status %v", sc.Expected.LotStatus)
	}
	if !slices.Equal(sc.Expected.RecallHolders[recalled], []string{OrgHospital, OrgWarehouse}) {
		t.Errorf("recall holders %v", sc.Expected.RecallHolders)
	}
	if len(sc.Actions) != 1 || sc.Actions[0].Org != OrgRegulator || sc.Actions[0].Lot != "S-NR-1" {
		t.Errorf("actions %+v", sc.Actions)
	}

	dn := buildT(t, "hospital-donated-masks", 1)
	lot := ScenarioMaskGTIN + "/S-ND-1"
	if !slices.Equal(dn.Expected.Custody[lot][:4], []string{SitePlant, SiteDepot, SiteHospital, "hospital/ward3"}) {
		t.Errorf("custody %v", dn.Expected.Custody[lot])
	}
	if len(dn.Expected.Anomalies) != 1 {
		t.Fatalf("anomalies %v", dn.Expected.Anomalies)
	}
	found := false
	for _, m := range dn.Messages {
		if bytes.Contains(m.Payload, []byte(`"parentID":"`+dn.Expected.Anomalies[0]+`"`)) && bytes.Contains(m.Payload, []byte(`"DELETE"`)) {
			found = true
		}
	}
	if !found {
		t.Error("the anomaly's unpacking event is not in the messages")
	}
}

// TestPlayScenario plays a scenario through the embedded broker and checks
// every device's messages arrived in order, acknowledged, with the action
// run after everything before it was acknowledged.
func TestPlayScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("plays ~700 messages")
	}
	sc := buildT(t, "counterfeit-distributor", 3)
	log := newIngestLog()
	addr, _ := runBroker(t, "127.0.0.1:0", sc.Devices, log)
	creds := map[string]string{}
	for _, d := range sc.Devices {
		creds[d.ID] = testPassword
	}
	var mu sync.Mutex
	ackedIdx := map[int]bool{}
	var atAction int
	progress := 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Play(ctx, sc, addr, creds, 0,
		OnMessageAck(func(i int, m Message, at time.Time) {
			mu.Lock()
			ackedIdx[i] = true
			mu.Unlock()
		}),
		BeforeAction(func(_ context.Context, a Action) error {
			mu.Lock()
			atAction = len(ackedIdx)
			mu.Unlock()
			return nil
		}),
		OnProgress(50*time.Millisecond, func(PlayStats) { progress++ }),
		WithLogger(testLogger(t)))
	if err != nil {
		t.Fatalf("Play: %v (stats %+v)", err, st)
	}
	if st.Acked != len(sc.Messages) || st.Published != len(sc.Messages) || st.Actions != 1 || len(ackedIdx) != len(sc.Messages) || progress == 0 {
		t.Fatalf("stats %+v, %d acks seen, progress %d", st, len(ackedIdx), progress)
	}
	before := 0
	for _, m := range sc.Messages {
		if !m.At.After(sc.Actions[0].At) {
			before++
		}
	}
	if atAction != before {
		t.Errorf("action ran with %d messages acknowledged, want the %d before it", atAction, before)
	}
	for _, d := range sc.Devices {
		var want []string
		for _, m := range sc.Messages {
			if m.Device == d.ID {
				want = append(want, string(m.Payload))
			}
		}
		var got []string
		for _, m := range log.messages(d.ID) {
			got = append(got, string(m.Payload))
		}
		if !slices.Equal(got, want) {
			t.Errorf("device %s: broker stored %d messages, want the scenario's %d in order", d.ID, len(got), len(want))
		}
	}
}

func TestPlayBadCredentials(t *testing.T) {
	sc := buildT(t, "hospital-donated-masks", 1)
	log := newIngestLog()
	addr, _ := runBroker(t, "127.0.0.1:0", sc.Devices, log)
	creds := map[string]string{}
	for _, d := range sc.Devices {
		creds[d.ID] = "wrong"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Play(ctx, sc, addr, creds, 0)
	if err == nil || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("Play with wrong passwords: %v", err)
	}
	delete(creds, DevHospDock)
	if _, err := Play(ctx, sc, addr, creds, 0); err == nil || !strings.Contains(err.Error(), DevHospDock) {
		t.Fatalf("Play without a password: %v", err)
	}
}

// TestPlaySpeed plays a scenario at a speed that fits it into about 1.5 s
// and checks messages are not published before their scaled time.
func TestPlaySpeed(t *testing.T) {
	sc := buildT(t, "hospital-donated-masks", 1)
	log := newIngestLog()
	addr, _ := runBroker(t, "127.0.0.1:0", sc.Devices, log)
	creds := map[string]string{}
	for _, d := range sc.Devices {
		creds[d.ID] = testPassword
	}
	speed := float64(sc.Duration) / float64(1500*time.Millisecond)
	begin := time.Now()
	var mu sync.Mutex
	early := 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Play(ctx, sc, addr, creds, speed, OnMessageAck(func(i int, m Message, at time.Time) {
		if at.Before(begin.Add(time.Duration(float64(m.At.Sub(sc.Start)) / speed))) {
			mu.Lock()
			early++
			mu.Unlock()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	last := sc.Messages[len(sc.Messages)-1].At.Sub(sc.Start)
	if min := time.Duration(float64(last) / speed); st.Elapsed < min {
		t.Errorf("played in %s, faster than the %s the speed allows", st.Elapsed, min)
	}
	if early > 0 {
		t.Errorf("%d messages acknowledged before their time", early)
	}
}

// TestDonations2020 checks the 2020 story's ledger actions against the
// messages: every action refers to records made before it, the shipped
// pallets are the ones packed, and the clinic's scans name one of its two
// pallets.
func TestDonations2020(t *testing.T) {
	sc := buildT(t, "donations-2020", 1)
	made := map[string]Action{}
	kinds := map[string]int{}
	for _, a := range sc.Actions {
		kinds[a.Kind]++
		for _, r := range a.Refs {
			if _, ok := made[r]; !ok {
				t.Fatalf("%s at %s refers to %s before it exists", a.Kind, a.At, r)
			}
		}
		if a.Ref != "" {
			made[a.Ref] = a
		}
	}
	if kinds[ActionRequest] != 2 || kinds[ActionPledge] != 2 || kinds[ActionPledgeReceipt] != 2 || kinds[ActionAllocate] != 2 || kinds[ActionShip] != 2 {
		t.Fatalf("actions %v", kinds)
	}
	if len(sc.Orgs) != 1 || sc.Orgs[0].ID != OrgClinic {
		t.Fatalf("orgs %+v", sc.Orgs)
	}
	want := map[string]ExpectedDonation{OrgHospital: {160, 160, 160}, OrgClinic: {30, 30, 15}}
	for org, w := range want {
		if sc.Expected.Donations[org] != w {
			t.Errorf("%s: %+v, want %+v", org, sc.Expected.Donations[org], w)
		}
	}
	// The receipt codes are stable per seed and differ between seeds.
	other := buildT(t, "donations-2020", 2)
	if made["pledge-anon"].ReceiptCode != buildT(t, "donations-2020", 1).Actions[3].ReceiptCode || made["pledge-anon"].ReceiptCode == other.Actions[3].ReceiptCode {
		t.Errorf("receipt codes: %q vs %q", made["pledge-anon"].ReceiptCode, other.Actions[3].ReceiptCode)
	}
	// Which pallets each hospital's handheld received.
	received := map[string][]string{}
	for _, m := range sc.Messages {
		if m.Device != DevHospHandheld && m.Device != DevClinicHandheld {
			continue
		}
		var ev struct {
			BizStep string   `json:"bizStep"`
			EPCList []string `json:"epcList"`
		}
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.BizStep == "receiving" {
			received[m.Device] = append(received[m.Device], ev.EPCList...)
		}
	}
	var shipped []string
	for _, a := range sc.Actions {
		if a.Kind == ActionShip {
			shipped = append(shipped, a.Pallets...)
		}
	}
	if len(shipped) != 6 || !slices.Equal(received[DevHospHandheld], shipped[:4]) || !slices.Equal(received[DevClinicHandheld], shipped[4:5]) {
		t.Fatalf("shipped %v, received %v", shipped, received)
	}
}
