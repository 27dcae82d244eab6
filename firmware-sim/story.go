package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
)

// story accumulates a scenario: devices, messages and what the messages
// say (commissioning, observations, sensor readings), from which finish
// computes Expected.
type story struct {
	sc    *Scenario
	rng   *rand.Rand
	sites map[string]Site
	used  map[string]bool
	devs  map[string]*devState
	prods map[string]ScenarioProduct
	lots  map[string]*ScenarioLot // "gtin/lot"
	// epcLot maps commissioned SGTIN URIs to their "gtin/lot".
	epcLot       map[string]string
	commissioned map[string]bool
	msgs         []seqMsg
	seq          int
	obs          []observation
	exposures    []exposure
	readings     map[string][]sample // "site/device" → published samples
	intervals    map[string]time.Duration
	custodyKeys  []string
	anomalies    []string
	sensorFaults []string
	deadLetters  map[string]int
	// serial and SSCC number ranges unique per (scenario, seed)
	serialBase uint64
	ssccBase   uint64
	ssccNext   uint64
	lotCount   int
}

type devState struct {
	dev      Device
	eventNum int
}

type seqMsg struct {
	Message
	seq int
}

// observation: an EPC seen at a custody step at a time (by message index
// in story order).
type observation struct {
	at   time.Time
	epc  string
	site string
	step string
}

// exposure: a lot in a sensor's care during [from, to].
type exposure struct {
	sensor   string
	lot      string
	from, to time.Time
}

// sample is one published sensor payload, in °C.
type sample struct {
	ts  time.Time
	c   *float64
	rh  *float64
	raw []byte
}

// TimeZoneOffset is the eventTimeZoneOffset of the scenarios' events
// (Germany in winter).
const TimeZoneOffset = "+01:00"

func newStory(sc *Scenario, rng *rand.Rand) *story {
	idx := slices.IndexFunc(scenarioDefs, func(d scenarioDef) bool { return d.info.Name == sc.Name })
	prods := map[string]ScenarioProduct{}
	for _, p := range scenarioProducts() {
		prods[p.GTIN] = p
	}
	return &story{
		sc: sc, rng: rng, sites: allSites(), used: map[string]bool{}, devs: map[string]*devState{},
		prods: prods, lots: map[string]*ScenarioLot{}, epcLot: map[string]string{}, commissioned: map[string]bool{},
		readings: map[string][]sample{}, intervals: map[string]time.Duration{}, deadLetters: map[string]int{},
		serialBase: uint64(idx+1)*100_000_000 + (sc.Seed%100_000)*1000,
		ssccBase:   uint64(idx+1)*100_000_000 + (sc.Seed%100_000)*1000,
	}
}

// t returns the virtual time d after the start.
func (s *story) t(d time.Duration) time.Time { return s.sc.Start.Add(d) }

// jitter returns up to max of random delay.
func (s *story) jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(max)))
}

func (s *story) site(id string) Site {
	st, ok := s.sites[id]
	if !ok {
		panic("sim: unknown site " + id)
	}
	s.used[id] = true
	return st
}

// addDevice registers a device.
func (s *story) addDevice(id, kind, site, format string) {
	if _, dup := s.devs[id]; dup {
		panic("sim: device " + id + " added twice")
	}
	s.site(site)
	d := Device{ID: id, Kind: kind, Site: site, Username: id, Format: format}
	s.devs[id] = &devState{dev: d}
	s.sc.Devices = append(s.sc.Devices, d)
}

// reader adds an RFID reader at a site's sub-location.
func (s *story) reader(site, id, format, subKey, bizStep, disposition string) {
	s.addDevice(id, KindRFID, site, format)
	st := s.sites[site]
	st.Readers[id] = ReaderMap{ReadPoint: st.sub(subKey), BizLocation: st.Location, BizStep: bizStep, Disposition: disposition, Format: format}
}

// scanner adds a handheld or packing-station scanner.
func (s *story) scanner(site, id string) { s.addDevice(id, KindScanner, site, FormatDefault) }

// logger adds a cold-chain logger at a sub-location watching epcs.
func (s *story) logger(site, id, subKey string, epcs []string, unit string) {
	s.addDevice(id, KindSensor, site, FormatDefault)
	st := s.sites[site]
	s.sites[site].Sensors[id] = SensorMap{ReadPoint: st.sub(subKey), BizLocation: st.Location, EPCs: epcs, DeviceID: id, Unit: unit}
}

// emit queues a message of a device.
func (s *story) emit(dev string, at time.Time, payload []byte, note string) {
	d, ok := s.devs[dev]
	if !ok {
		panic("sim: unknown device " + dev)
	}
	s.seq++
	s.msgs = append(s.msgs, seqMsg{Message: Message{At: at, Device: dev, Topic: d.dev.Topic(), Payload: payload, Note: note}, seq: s.seq})
}

// lot creates a lot of n packs of a product, produced on the start day.
func (s *story) lot(gtin, code string, n int, shelfLife time.Duration) *ScenarioLot {
	name := fmt.Sprintf("S-%s-%d", code, s.sc.Seed%100_000)
	base := s.serialBase + uint64(s.lotCount)*200 + 1
	s.lotCount++
	l := &ScenarioLot{GTIN: gtin, Lot: name, Produced: s.sc.Start.Format(time.DateOnly), Expiry: s.sc.Start.Add(shelfLife).Format(time.DateOnly)}
	for i := 0; i < n; i++ {
		l.Serials = append(l.Serials, base+uint64(i))
	}
	s.lots[gtin+"/"+name] = l
	s.sc.Lots = append(s.sc.Lots, *l)
	return l
}

// key returns "gtin/lot".
func (l *ScenarioLot) key() string { return l.GTIN + "/" + l.Lot }

// packs returns the SGTIN URIs of serials of a lot.
func (s *story) packs(l *ScenarioLot, serials []uint64) []string {
	out := make([]string, len(serials))
	for i, n := range serials {
		u, err := SGTINURI(l.GTIN, s.prods[l.GTIN].PrefixLength, n)
		if err != nil {
			panic(err)
		}
		out[i] = u
	}
	return out
}

// newSSCC returns the URI of a fresh SSCC under a company prefix (extension
// digit 3 for pallets, 1 for cases).
func (s *story) newSSCC(ext byte, prefix string) string {
	s.ssccNext++
	u, err := SSCCURI(SSCC(ext, prefix, s.ssccBase+s.ssccNext), len(prefix))
	if err != nil {
		panic(err)
	}
	return u
}

func (s *story) observe(at time.Time, site, step string, epcs ...string) {
	for _, e := range epcs {
		s.obs = append(s.obs, observation{at: at, epc: e, site: site, step: step})
	}
}

// event publishes an EPCIS event from a scanner.
func (s *story) event(dev string, at time.Time, ev map[string]any, note string) {
	ev["@context"] = []any{EPCISContext}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	s.emit(dev, at, b, note)
}

func (s *story) devSite(dev string) Site { return s.sites[s.devs[dev].dev.Site] }

// commission publishes the manufacturer's commissioning of packs (ObjectEvent
// ADD, commissioning, active, with the lot and expiry in ILMD).
func (s *story) commission(dev string, at time.Time, l *ScenarioLot, serials []uint64) []string {
	st := s.devSite(dev)
	epcs := s.packs(l, serials)
	ev := epcis.NewObjectEvent(epcis.ObjectEventFields{
		Action: "ADD", EPCs: epcs, Time: at, TZOffset: TimeZoneOffset, BizStep: "commissioning", Disposition: "active",
		ReadPoint: st.sub(SubPacking), BizLocation: st.Location,
		Extensions: map[string]any{"ilmd": map[string]any{"cbvmda:lotNumber": l.Lot, "cbvmda:itemExpirationDate": l.Expiry}},
	})
	for _, e := range epcs {
		s.epcLot[e] = l.key()
		s.commissioned[e] = true
	}
	s.observe(at, st.ID, st.ID, epcs...)
	s.event(dev, at, ev, "")
	return epcs
}

// objectEvent publishes an ObjectEvent OBSERVE from a scanner at a
// sub-location; custody is the custody step ("" = the site).
func (s *story) objectEvent(dev string, at time.Time, epcs []string, bizStep, disp, subKey, custody, note string) {
	st := s.devSite(dev)
	loc := st.sub(subKey)
	biz := st.Location
	if bizStep == "dispensing" {
		biz = loc
	}
	ev := epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: epcs, Time: at, TZOffset: TimeZoneOffset,
		BizStep: bizStep, Disposition: disp, ReadPoint: loc, BizLocation: biz})
	if custody == "" {
		custody = st.ID
	}
	s.observe(at, st.ID, custody, epcs...)
	s.event(dev, at, ev, note)
}

// aggregation publishes an AggregationEvent.
func (s *story) aggregation(dev string, at time.Time, action, parent string, children []string, bizStep, disp, subKey, note string) {
	st := s.devSite(dev)
	ev := map[string]any{
		"type": "AggregationEvent", "eventTime": at.UTC().Format("2006-01-02T15:04:05.000Z"), "eventTimeZoneOffset": TimeZoneOffset,
		"parentID": parent, "childEPCs": children, "action": action, "bizStep": bizStep, "disposition": disp,
		"readPoint": map[string]any{"id": st.sub(subKey)}, "bizLocation": map[string]any{"id": st.Location},
	}
	s.observe(at, st.ID, st.ID, children...)
	if !strings.HasPrefix(parent, "urn:epc:id:giai:") {
		s.observe(at, st.ID, st.ID, parent)
	}
	s.event(dev, at, ev, note)
}

// pack packs children into a new parent (AggregationEvent ADD, packing).
func (s *story) pack(dev string, at time.Time, parent string, children []string) {
	s.aggregation(dev, at, "ADD", parent, children, "packing", "in_progress", SubPacking, "")
}

// rfidPass publishes the reads of tags passing a reader within about two
// seconds after at, in the reader's format; it returns the time of the
// last message.
func (s *story) rfidPass(dev string, at time.Time, epcs []string, note string) time.Time {
	d := s.devs[dev]
	st := s.sites[d.dev.Site]
	type read struct {
		at   time.Time
		hex  string
		ant  int
		rssi float64
		n    int
	}
	var reads []read
	for _, u := range epcs {
		filter := 1
		if strings.HasPrefix(u, "urn:epc:id:sscc:") {
			filter = 0
		}
		hex, err := uriHex(u, filter)
		if err != nil {
			panic(fmt.Sprintf("sim: %s: %v", u, err))
		}
		base := -45 - 25*s.rng.Float64()
		ant := 1 + s.rng.IntN(2)
		enter := time.Duration(s.rng.IntN(1200)) * time.Millisecond
		n := 1 + s.rng.IntN(3)
		for i := 0; i < n; i++ {
			a := ant
			if i%2 == 1 {
				a = 3 - ant
			}
			r := max(-85, min(-30, base+1.5*s.rng.NormFloat64()))
			reads = append(reads, read{at: at.Add(enter + time.Duration(i*150+s.rng.IntN(100))*time.Millisecond), hex: hex, ant: a, rssi: r, n: n})
		}
	}
	sort.SliceStable(reads, func(i, j int) bool { return reads[i].at.Before(reads[j].at) })
	last := at
	switch d.dev.Format {
	case FormatImpinj:
		host := "impinj-" + dev + "." + st.ID + ".example"
		if s.rng.IntN(2) == 0 {
			b, _ := json.Marshal(ImpinjEvent{Timestamp: ImpinjTime(at), Hostname: host, EventType: "inventoryStatus",
				InventoryStatusEvent: &ImpinjInventoryStatus{InventoryStatus: "running"}})
			s.emit(dev, at, b, "status")
		}
		for _, r := range reads {
			b, _ := json.Marshal(ImpinjEvent{Timestamp: ImpinjTime(r.at.Add(3 * time.Millisecond)), Hostname: host, EventType: "tagInventory",
				TagInventoryEvent: &ImpinjTagInventory{EPCHex: r.hex, AntennaPort: r.ant, AntennaName: "Antenna " + strconv.Itoa(r.ant),
					PeakRSSICdbm: int(math.Round(r.rssi * 100)), Frequency: euChannelsKHz[s.rng.IntN(len(euChannelsKHz))],
					TransmitPowerCdbm: 3000, LastSeenTime: ImpinjSeenTime(r.at)}})
			s.emit(dev, r.at, b, note)
			last = r.at
		}
	case FormatZebraFX:
		// The connector reports each tag once per pass with its read count.
		seen := map[string]bool{}
		var batch []ZebraEvent
		flush := func(t time.Time) {
			if len(batch) == 0 {
				return
			}
			var b []byte
			if len(batch) == 1 {
				b, _ = json.Marshal(batch[0])
			} else {
				b, _ = json.Marshal(batch)
			}
			s.emit(dev, t, b, note)
			batch = nil
		}
		for _, r := range reads {
			if seen[r.hex] {
				continue
			}
			seen[r.hex] = true
			d.eventNum++
			batch = append(batch, ZebraEvent{Data: ZebraData{EventNum: d.eventNum, Format: "epc", IDHex: strings.ToLower(r.hex), Antenna: r.ant,
				PeakRSSI: int(math.Round(r.rssi)), Channel: float64(euChannelsKHz[s.rng.IntN(len(euChannelsKHz))]) / 1000, Reads: r.n},
				Timestamp: ZebraTime(r.at), Type: "SIMPLE"})
			last = r.at
			if len(batch) == 20 {
				flush(r.at)
			}
		}
		flush(last)
	default:
		for _, r := range reads {
			b, _ := json.Marshal(RFIDRead{EPC: r.hex, TS: Timestamp(r.at), Antenna: r.ant, RSSI: round(r.rssi, 1)})
			s.emit(dev, r.at, b, note)
			last = r.at
		}
	}
	s.observe(at, st.ID, st.ID, epcs...)
	return last
}

// window is a half-open time interval.
type window struct{ from, to time.Time }

func (w window) has(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

// envFn says what the air around a logger heads for at t, and how fast.
type envFn func(t time.Time) (target float64, tau time.Duration)

// loggerSpec describes one logger's run and its faults.
type loggerSpec struct {
	dev      string
	from, to time.Time
	interval time.Duration
	env      envFn
	initial  float64
	noise    float64
	// humidity: mean %RH (0: no humidity sensor); battery: starting % (0: none).
	humidity, battery float64
	fahrenheit        bool
	driftFrom         time.Time // zero: no drift
	driftPerHour      float64
	stick             []window
	skew              time.Duration
	offline           []window
	shuffleBurst      bool    // an offline burst comes out in a shuffled order
	dupChance         float64 // chance a payload is delivered twice
	swapChance        float64 // chance two consecutive payloads swap
}

// trace is a logger's true air temperature per minute.
type trace struct {
	from time.Time
	air  []float64
}

func (tr *trace) at(t time.Time) float64 {
	i := int(t.Sub(tr.from) / time.Minute)
	return tr.air[max(0, min(len(tr.air)-1, i))]
}

// runLogger simulates a logger and publishes its readings with its faults;
// it returns the true air temperature for loggers that follow it.
func (s *story) runLogger(sp loggerSpec) *trace {
	key := s.devs[sp.dev].dev.Site + "/" + sp.dev
	s.intervals[key] = sp.interval
	tr := &trace{from: sp.from}
	air := sp.initial
	battery := sp.battery
	var lastT, lastH *float64
	type out struct {
		at      time.Time
		payload []byte
	}
	var outs []out
	t := sp.from
	step := min(time.Minute, sp.interval)
	next := sp.from
	for !t.After(sp.to) {
		tr.air = append(tr.air, air)
		if !t.Before(next) {
			next = next.Add(sp.interval)
			temp := air + sp.noise*s.rng.NormFloat64()
			if !sp.driftFrom.IsZero() && t.After(sp.driftFrom) {
				temp += sp.driftPerHour * t.Sub(sp.driftFrom).Hours()
			}
			temp = round(temp, 1)
			var hum *float64
			if sp.humidity > 0 {
				h := round(max(0, min(100, sp.humidity+1.5*s.rng.NormFloat64()+0.3*(air-sp.initial))), 1)
				hum = &h
			}
			stuck := false
			for _, w := range sp.stick {
				stuck = stuck || (w.has(t) && lastT != nil)
			}
			if stuck {
				temp, hum = *lastT, lastH
			}
			lastT, lastH = &temp, hum
			ts := t.Add(sp.skew)
			r := SensorReading{TS: Timestamp(ts)}
			smp := sample{ts: ts.Truncate(time.Millisecond)}
			if sp.fahrenheit {
				f := round(temp*9/5+32, 1)
				r.Temperature, r.Unit = &f, "F"
				c := (f - 32) * 5 / 9
				smp.c = &c
			} else {
				tc := temp
				r.Temperature = &tc
				smp.c = &tc
			}
			if hum != nil {
				hv := *hum
				r.Humidity = &hv
				smp.rh = &hv
			}
			if sp.battery > 0 && !sp.fahrenheit {
				bv := int(math.Ceil(battery))
				r.Battery = &bv
				battery = max(0, battery-0.01)
			}
			b, err := json.Marshal(r)
			if err != nil {
				panic(err)
			}
			smp.raw = b
			s.readings[key] = append(s.readings[key], smp)
			outs = append(outs, out{at: t, payload: b})
		}
		target, tau := sp.env(t)
		air += (target - air) * (1 - math.Exp(-float64(step)/float64(tau)))
		t = t.Add(step)
	}
	// Delivery: offline buffering, swaps, duplicates.
	skewNote := ""
	if sp.skew != 0 {
		skewNote = fmt.Sprintf("clock skew %+ds", int(sp.skew/time.Second))
	}
	var buffered []out
	var bufEnd time.Time
	flush := func() {
		if len(buffered) == 0 {
			return
		}
		note := "burst after offline"
		if sp.shuffleBurst {
			s.rng.Shuffle(len(buffered), func(i, j int) { buffered[i], buffered[j] = buffered[j], buffered[i] })
			note = "burst after offline, out-of-order"
		}
		for _, o := range buffered {
			s.emit(sp.dev, bufEnd, o.payload, note)
		}
		buffered = nil
	}
	for i := 0; i < len(outs); i++ {
		o := outs[i]
		off := false
		for _, w := range sp.offline {
			if w.has(o.at) {
				off, bufEnd = true, w.to
			}
		}
		if off {
			buffered = append(buffered, o)
			continue
		}
		if len(buffered) > 0 && !o.at.Before(bufEnd) {
			flush()
		}
		if sp.swapChance > 0 && i+1 < len(outs) && s.rng.Float64() < sp.swapChance {
			nx := outs[i+1]
			offNext := false
			for _, w := range sp.offline {
				offNext = offNext || w.has(nx.at)
			}
			if !offNext {
				s.emit(sp.dev, nx.at, nx.payload, "")
				s.emit(sp.dev, nx.at, o.payload, "out-of-order")
				i++
				continue
			}
		}
		s.emit(sp.dev, o.at, o.payload, skewNote)
		if sp.dupChance > 0 && s.rng.Float64() < sp.dupChance {
			s.emit(sp.dev, o.at.Add(time.Duration(200+s.rng.IntN(800))*time.Millisecond), o.payload, "duplicate")
		}
	}
	if len(buffered) > 0 {
		if bufEnd.After(sp.to) {
			bufEnd = sp.to
		}
		flush()
	}
	return tr
}

// constant returns an env that holds target with tau.
func constant(target float64, tau time.Duration) envFn {
	return func(time.Time) (float64, time.Duration) { return target, tau }
}

// withDoors lets the air head for ambient four times as fast while a door
// is open.
func withDoors(base envFn, ambient float64, doors []window) envFn {
	return func(t time.Time) (float64, time.Duration) {
		target, tau := base(t)
		for _, d := range doors {
			if d.has(t) {
				return ambient, tau / 4
			}
		}
		return target, tau
	}
}

// expose puts a lot in a sensor's care for [from, to].
func (s *story) expose(dev string, l *ScenarioLot, from, to time.Time) {
	s.exposures = append(s.exposures, exposure{sensor: s.devs[dev].dev.Site + "/" + dev, lot: l.key(), from: from, to: to})
}

// recall adds a regulator's recall action.
func (s *story) recall(at time.Time, l *ScenarioLot, reason, class string) {
	s.sc.Actions = append(s.sc.Actions, Action{At: at, Kind: ActionRecall, Org: OrgRegulator, GTIN: l.GTIN, Lot: l.Lot, Reason: reason, Class: class})
}

// finish orders the messages and writes Expected.
func (s *story) finish() error {
	sc := s.sc
	// Master data.
	for _, id := range []string{SitePlant, SiteWH1, SiteWH2, SiteDepot, SiteHospital, SiteClinic, SiteReefer} {
		if s.used[id] {
			sc.Sites = append(sc.Sites, s.sites[id])
		}
	}
	gtins := map[string]bool{}
	for _, l := range sc.Lots {
		gtins[l.GTIN] = true
	}
	for _, p := range scenarioProducts() {
		if gtins[p.GTIN] {
			sc.Products = append(sc.Products, p)
		}
	}
	// Per device, publish times never go back; then all in time order.
	last := map[string]time.Time{}
	for i := range s.msgs {
		m := &s.msgs[i]
		if l := last[m.Device]; m.At.Before(l) {
			m.At = l
		}
		last[m.Device] = m.At
	}
	sort.SliceStable(s.msgs, func(i, j int) bool {
		if !s.msgs[i].At.Equal(s.msgs[j].At) {
			return s.msgs[i].At.Before(s.msgs[j].At)
		}
		return s.msgs[i].seq < s.msgs[j].seq
	})
	end := sc.Start.Add(sc.Duration)
	sc.Messages = make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		if m.At.Before(sc.Start) || m.At.After(end) {
			return fmt.Errorf("message %d of %s at %s is outside the scenario's %s..%s", i, m.Device, m.At, sc.Start, end)
		}
		sc.Messages[i] = m.Message
	}
	for _, a := range sc.Actions {
		if a.At.Before(sc.Start) || a.At.After(end) {
			return fmt.Errorf("action %s at %s is outside the scenario", a.Kind, a.At)
		}
	}
	sort.SliceStable(s.obs, func(i, j int) bool { return s.obs[i].at.Before(s.obs[j].at) })
	ex := &sc.Expected
	ex.Excursions = s.excursions()
	ex.Suspects, ex.Custody = s.suspectsAndCustody()
	ex.RecallHolders = s.recallHolders()
	ex.LotStatus = map[string]string{}
	for _, l := range sc.Lots {
		ex.LotStatus[l.GTIN+"/"+l.Lot] = s.lotStatus(l)
	}
	ex.SensorFaults = s.sensorFaults
	ex.Anomalies = s.anomalies
	if len(s.deadLetters) > 0 {
		ex.DeadLetters = s.deadLetters
	}
	ex.Faults = map[string]int{}
	for _, m := range sc.Messages {
		if m.Note != "" && m.Note != "status" {
			ex.Faults[m.Note]++
		}
	}
	return nil
}

// excursions finds, per exposure and kind, the first and last
// out-of-range reading the sensor published while the lot was in its care.
func (s *story) excursions() []ExpectedExcursion {
	var out []ExpectedExcursion
	for _, e := range s.exposures {
		l := s.lots[e.lot]
		p := s.prods[l.GTIN]
		rs := dedupSamples(s.readings[e.sensor])
		var in []sample
		for _, r := range rs {
			if !r.ts.Before(e.from) && !r.ts.After(e.to) {
				in = append(in, r)
			}
		}
		type check struct {
			kind  string
			val   func(sample) *float64
			out   func(v float64) bool
			lower bool
		}
		var checks []check
		if p.MaxC != nil {
			checks = append(checks, check{"temperature-high", func(r sample) *float64 { return r.c }, func(v float64) bool { return v > *p.MaxC }, false})
		}
		if p.MinC != nil {
			checks = append(checks, check{"temperature-low", func(r sample) *float64 { return r.c }, func(v float64) bool { return v < *p.MinC }, true})
		}
		if p.MaxHumidity != nil {
			checks = append(checks, check{"humidity-high", func(r sample) *float64 { return r.rh }, func(v float64) bool { return v > *p.MaxHumidity }, false})
		}
		for _, c := range checks {
			first, lastI := -1, -1
			for i, r := range in {
				if v := c.val(r); v != nil && c.out(*v) {
					if first < 0 {
						first = i
					}
					lastI = i
				}
			}
			if first < 0 {
				continue
			}
			x := ExpectedExcursion{GTIN: l.GTIN, Lot: l.Lot, Sensor: e.sensor, Kind: c.kind, Start: in[first].ts, End: in[lastI].ts, Interval: s.intervals[e.sensor]}
			for i, r := range in[first : lastI+1] {
				v := c.val(r)
				if v == nil {
					continue
				}
				x.Readings = append(x.Readings, ExpReading{At: r.ts, C: *v})
				if i == 0 || (!c.lower && *v > x.Peak) || (c.lower && *v < x.Peak) {
					x.Peak = *v
				}
			}
			out = append(out, x)
		}
	}
	return out
}

func dedupSamples(in []sample) []sample {
	seen := map[time.Time]bool{}
	var out []sample
	for _, r := range in {
		if !seen[r.ts] {
			seen[r.ts] = true
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ts.Before(out[j].ts) })
	return out
}

// lotStatus: recalled; quarantined when an excursion is longer than the
// product's single-excursion limit or all together longer than its
// cumulative limit (or it has no duration limits at all); excursion when
// within them; ok without excursions.
func (s *story) lotStatus(l ScenarioLot) string {
	for _, a := range s.sc.Actions {
		if a.Kind == ActionRecall && a.GTIN == l.GTIN && a.Lot == l.Lot {
			return LotRecalled
		}
	}
	p := s.prods[l.GTIN]
	var total float64
	n := 0
	quarantine := false
	for _, x := range s.sc.Expected.Excursions {
		if x.GTIN != l.GTIN || x.Lot != l.Lot {
			continue
		}
		n++
		total += x.Minutes()
		if p.MaxSingleExcursionMin != nil && x.Minutes() > *p.MaxSingleExcursionMin {
			quarantine = true
		}
	}
	if p.MaxCumulativeExcursionMin != nil && total > *p.MaxCumulativeExcursionMin {
		quarantine = true
	}
	if n > 0 && p.MaxSingleExcursionMin == nil && p.MaxCumulativeExcursionMin == nil {
		quarantine = true
	}
	switch {
	case quarantine:
		return LotQuarantined
	case n > 0:
		return LotExcursion
	}
	return LotOK
}

// impossibleKmh is the speed above which two sightings of one pack at
// different sites are impossible travel.
const impossibleKmh = 300

func haversineKm(a, b Site) float64 {
	const r = 6371.0
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lon-a.Lon)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

// suspectsAndCustody flags packs never commissioned, seen at two sites too
// far apart for the time between, or seen after their lot was recalled,
// and writes custody paths from the remaining sightings.
func (s *story) suspectsAndCustody() ([]ExpectedSuspect, map[string][]string) {
	var sus []ExpectedSuspect
	flagged := map[string]bool{}
	flag := func(e, reason, site string) {
		if !flagged[e+reason] {
			flagged[e+reason] = true
			sus = append(sus, ExpectedSuspect{EPC: e, Reason: reason, Site: site})
		}
	}
	bad := map[int]bool{} // observation indexes left out of custody
	lastSeen := map[string]int{}
	for i, o := range s.obs {
		if !strings.HasPrefix(o.epc, "urn:epc:id:sgtin:") {
			continue
		}
		if !s.commissioned[o.epc] {
			flag(o.epc, SuspectNotCommissioned, o.site)
			bad[i] = true
			continue
		}
		if j, ok := lastSeen[o.epc]; ok {
			p := s.obs[j]
			if p.site != o.site {
				km := haversineKm(s.sites[p.site], s.sites[o.site])
				h := o.at.Sub(p.at).Hours()
				if km > 50 && (h <= 0 || km/h > impossibleKmh) {
					flag(o.epc, SuspectImpossible, o.site)
					bad[i] = true
					continue
				}
			}
		}
		lastSeen[o.epc] = i
		for _, a := range s.sc.Actions {
			if a.Kind == ActionRecall && s.epcLot[o.epc] == a.GTIN+"/"+a.Lot && o.at.After(a.At) {
				flag(o.epc, SuspectRecalled, o.site)
			}
		}
	}
	cust := map[string][]string{}
	firstAt := map[string]map[string]time.Time{}
	for i, o := range s.obs {
		lk := s.epcLot[o.epc]
		if bad[i] || lk == "" {
			continue
		}
		if firstAt[lk] == nil {
			firstAt[lk] = map[string]time.Time{}
		}
		if _, ok := firstAt[lk][o.step]; !ok {
			firstAt[lk][o.step] = o.at
			cust[lk] = append(cust[lk], o.step)
		}
	}
	for _, k := range s.custodyKeys {
		var path []string
		for i, o := range s.obs {
			if o.epc == k && !bad[i] && (len(path) == 0 || path[len(path)-1] != o.step) {
				path = append(path, o.step)
			}
		}
		cust[k] = path
	}
	return sus, cust
}

// recallHolders: per recalled lot, the organisations where its packs were
// last seen before the recall.
func (s *story) recallHolders() map[string][]string {
	out := map[string][]string{}
	for _, a := range s.sc.Actions {
		if a.Kind != ActionRecall {
			continue
		}
		k := a.GTIN + "/" + a.Lot
		where := map[string]string{}
		for _, o := range s.obs {
			if s.epcLot[o.epc] == k && !o.at.After(a.At) {
				where[o.epc] = o.site
			}
		}
		orgs := map[string]bool{}
		for _, site := range where {
			orgs[s.sites[site].Org] = true
		}
		var list []string
		for o := range orgs {
			list = append(list, o)
		}
		sort.Strings(list)
		out[k] = list
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// chunk splits epcs into groups of n.
func chunk(epcs []string, n int) [][]string {
	var out [][]string
	for len(epcs) > 0 {
		k := min(n, len(epcs))
		out = append(out, epcs[:k])
		epcs = epcs[k:]
	}
	return out
}

// checkEPC panics on an EPC URI edge/epc does not accept (a generator bug).
func checkEPC(u string) {
	if _, err := epc.ParseURI(u); err != nil {
		panic(fmt.Sprintf("sim: %s: %v", u, err))
	}
}

// duplicateLast delivers the n-th last message of a device once more, the
// same bytes, right after the device's last message.
func (s *story) duplicateLast(dev string, n int) {
	var idx []int
	for i := len(s.msgs) - 1; i >= 0 && len(idx) < n; i-- {
		if s.msgs[i].Device == dev {
			idx = append(idx, i)
		}
	}
	if len(idx) < n {
		return
	}
	src := s.msgs[idx[n-1]]
	at := s.msgs[idx[0]].At.Add(150 * time.Millisecond)
	s.emit(dev, at, src.Payload, "duplicate")
}

// badRead publishes one default-format read of a tag whose EPC memory is
// corrupt (an SGTIN-96 with the reserved partition value 7): the edge
// must dead-letter it with reason bad_epc.
func (s *story) badRead(dev string, at time.Time, uri string) {
	hex, err := uriHex(uri, 1)
	if err != nil {
		panic(err)
	}
	b := []byte(hex)
	// Second byte: filter (3 bits) | partition (3 bits) | 2 bits of prefix.
	v, _ := strconv.ParseUint(string(b[2:4]), 16, 8)
	v |= 0x7 << 2
	copy(b[2:4], fmt.Sprintf("%02X", v))
	p, _ := json.Marshal(RFIDRead{EPC: string(b), TS: Timestamp(at), Antenna: 1, RSSI: -61.5})
	s.emit(dev, at, p, "bad input: corrupt EPC")
	s.deadLetters["bad_epc"]++
}
