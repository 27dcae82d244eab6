package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/broker"
	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
)

// TestTDSVectors encodes the Tag Data Standard examples through the
// functions the simulator uses.
func TestTDSVectors(t *testing.T) {
	f, err := os.Open("testdata/tds-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		v := strings.Split(sc.Text(), "\t")
		if len(v) != 6 {
			t.Fatalf("bad vector %q", sc.Text())
		}
		cpLen, _ := strconv.Atoi(v[1])
		filter, _ := strconv.Atoi(v[3])
		var hex, uri string
		if v[2] == "-" {
			hex, err = palletHex(v[0], cpLen, filter)
			e, _ := epc.FromDigitalLink(epc.DigitalLink{SSCC: v[0]}, cpLen)
			uri = e.URI()
		} else {
			serial, _ := strconv.ParseUint(v[2], 10, 64)
			p := Product{GTIN: v[0], CompanyPrefixLength: cpLen}
			hex, err = itemHex(p, serial, filter)
			e, _ := itemEPC(p, serial)
			uri = e.URI()
		}
		if err != nil || hex != v[5] || uri != v[4] {
			t.Errorf("%s: got %s %s (%v), want %s %s", v[0], uri, hex, err, v[4], v[5])
		}
		n++
	}
	if n != 2 {
		t.Fatalf("read %d vectors", n)
	}
}

// TestDemoCatalogue checks the exported demo identifiers are valid GS1 keys
// that fit together.
func TestDemoCatalogue(t *testing.T) {
	if !epc.ValidCheckDigit(DemoSiteGLN) || !strings.HasPrefix(DemoSiteGLN, DemoWarehousePrefix) {
		t.Errorf("site GLN %s", DemoSiteGLN)
	}
	if e, err := epc.FromDigitalLink(epc.DigitalLink{GLN: DemoSiteGLN}, DemoCompanyPrefixLength); err != nil || e.URI() != DemoBizLocation {
		t.Errorf("biz location %s, GLN gives %s (%v)", DemoBizLocation, e.URI(), err)
	}
	for _, p := range DemoProducts() {
		if len(p.GTIN) != 14 || !epc.ValidCheckDigit(p.GTIN) || p.GTIN[1:8] != DemoCompanyPrefix {
			t.Errorf("product %+v", p)
		}
	}
	ssccs := map[string]bool{}
	for _, l := range DemoLots() {
		covered := uint64(0)
		for _, pl := range l.Pallets {
			if !epc.ValidCheckDigit(pl.SSCC) || pl.SSCC[1:8] != DemoCompanyPrefix || ssccs[pl.SSCC] {
				t.Errorf("pallet %+v", pl)
			}
			ssccs[pl.SSCC] = true
			covered += pl.SerialLast - pl.SerialFirst + 1
		}
		if covered != l.SerialLast-l.SerialFirst+1 {
			t.Errorf("lot %s: pallets hold %d of %d items", l.Lot, covered, l.SerialLast-l.SerialFirst+1)
		}
	}
	cfg := DemoConfig("127.0.0.1:1883", demoCreds())
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range cfg.Devices {
		got = append(got, d.Topic())
		if d.Password != testPassword || d.Username != d.ID {
			t.Errorf("%s credentials %q/%q", d.ID, d.Username, d.Password)
		}
	}
	want := []string{"tracegate/wh1/rfid/dock-in-1", "tracegate/wh1/rfid/dock-out-1", "tracegate/wh1/sensor/coldroom-1",
		"tracegate/wh1/sensor/reefer-1", "tracegate/wh1/scanner/handheld-1"}
	if !slices.Equal(got, want) {
		t.Errorf("topics %v, want %v", got, want)
	}
}

// generate runs a device's generator for n cycles without MQTT.
func generate(t *testing.T, cfg Config, id string, n int, clock Clock) [][]byte {
	t.Helper()
	f, err := New(cfg, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.devices {
		if d.cfg.ID != id {
			continue
		}
		var out [][]byte
		for i := 0; i < n; i++ {
			msgs, err := d.gen.next(clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, msgs...)
		}
		return out
	}
	t.Fatalf("no device %s", id)
	return nil
}

// TestRFIDPass checks what a portal reports while a pallet passes.
func TestRFIDPass(t *testing.T) {
	cfg := DemoConfig("x:1", nil)
	clock := fixedClock{epoch}
	lots := DemoLots()
	for _, id := range []string{DemoDockIn, DemoDockOut} {
		msgs := generate(t, cfg, id, 1, clock)
		perTag := map[string][]RFIDRead{}
		for _, m := range msgs {
			reads, err := checkRFID(m, 2)
			if err != nil {
				t.Fatalf("%s: %s: %v", id, m, err)
			}
			if id == DemoDockIn && len(reads) != 1 {
				t.Errorf("dock-in publishes single reads, got %d", len(reads))
			}
			if id == DemoDockOut && (!bytes.HasPrefix(m, []byte("[")) || len(reads) > 50) {
				t.Errorf("dock-out publishes arrays of at most 50, got %d", len(reads))
			}
			for _, r := range reads {
				perTag[r.EPC] = append(perTag[r.EPC], r)
			}
		}
		// The first pass is the first pallet: its SSCC and its 24 items.
		pl := lots[0].Pallets[0]
		if len(perTag) != 25 {
			t.Errorf("%s: %d tags in a pass, want 25", id, len(perTag))
		}
		for hex, reads := range perTag {
			uri := demoTags()[hex]
			e, _ := epc.ParseURI(uri)
			if e.Scheme == epc.SSCC {
				if sscc, _ := e.SSCC(); sscc != pl.SSCC {
					t.Errorf("pallet %s, want %s", sscc, pl.SSCC)
				}
			} else if s, _ := strconv.ParseUint(e.Serial, 10, 64); s < pl.SerialFirst || s > pl.SerialLast {
				t.Errorf("item %s not on pallet %s", uri, pl.SSCC)
			}
			if len(reads) < 2 || len(reads) > 6 {
				t.Errorf("%s read %d times, want 2..6", uri, len(reads))
			}
			ants := map[int]bool{}
			for _, r := range reads {
				ants[r.Antenna] = true
				ts, _ := checkTS(r.TS)
				if d := ts.Sub(epoch); d < 0 || d >= time.Second {
					t.Errorf("read at %s, want within the second after %s", r.TS, epoch)
				}
			}
			if len(ants) > 2 {
				t.Errorf("%s seen on %d antennas", uri, len(ants))
			}
		}
	}
}

// TestSensorModel checks the thermal model: around the setpoint with the
// door shut, an excursion when it opens, a draining battery.
func TestSensorModel(t *testing.T) {
	cfg := DemoConfig("x:1", nil)
	clock := fixedClock{epoch}
	shut := cfg
	shut.Devices = slices.Clone(cfg.Devices)
	sc := *shut.Devices[2].Sensor
	sc.DoorOpenChance = 0
	shut.Devices[2].Sensor = &sc
	var sum float64
	lastBattery := 101
	msgs := generate(t, shut, DemoColdRoom, 1000, clock)
	for _, m := range msgs {
		r, err := checkSensor(m, true)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		sum += *r.Temperature
		if *r.Battery > lastBattery {
			t.Fatalf("battery rose from %d to %d", lastBattery, *r.Battery)
		}
		lastBattery = *r.Battery
	}
	if mean := sum / float64(len(msgs)); mean < 4.7 || mean > 5.3 {
		t.Errorf("mean %.2f °C with the door shut, want about 5", mean)
	}
	if lastBattery >= 100 || lastBattery < 80 {
		t.Errorf("battery after 1000 readings %d%%, want a slow drain", lastBattery)
	}

	sc.DoorOpenChance = 1 // the door keeps opening
	peak := -100.0
	for _, m := range generate(t, shut, DemoColdRoom, 20, clock) {
		r, _ := checkSensor(m, true)
		peak = max(peak, *r.Temperature)
	}
	if peak < 8 || peak > 18 {
		t.Errorf("peak %.1f °C with the door open, want an excursion above 8 and below ambient", peak)
	}
	for _, m := range generate(t, cfg, DemoReefer, 5, clock) {
		if _, err := checkSensor(m, false); err != nil {
			t.Errorf("reefer (no humidity sensor): %s: %v", m, err)
		}
	}
}

// TestScannerEvents checks the handheld's events, and that the edge's own
// EPCIS parser (GS1's EPCIS 2.0 JSON schema) accepts each payload as is.
func TestScannerEvents(t *testing.T) {
	steps := map[string]int{}
	for _, m := range generate(t, DemoConfig("x:1", nil), DemoHandheld, 50, fixedClock{epoch}) {
		ev, err := checkScan(m)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		steps[ev.BizStep]++
		doc, err := epcis.ParseDocument(m)
		if err != nil {
			t.Fatalf("edge/epcis rejects %s: %v", m, err)
		}
		if len(doc.Events) != 1 || doc.Events[0].Type() != "ObjectEvent" || len(doc.Events[0].EPCs()) != len(ev.EPCList) {
			t.Fatalf("edge/epcis reads %+v", doc.Events)
		}
		// The schema can fail: a wrong action does not validate.
		if _, err := epcis.ParseDocument(bytes.Replace(m, []byte(`"OBSERVE"`), []byte(`"LOOK"`), 1)); err == nil {
			t.Fatal("action LOOK accepted")
		}
	}
	if steps["receiving"] == 0 || steps["picking"] == 0 {
		t.Errorf("bizSteps %v: want both receiving and picking", steps)
	}
}

// TestSeedRepeatableGenerators: same seed, same payloads (clock fixed);
// another seed, other payloads; and the wall clock changes only timestamps.
func TestSeedRepeatableGenerators(t *testing.T) {
	a := DemoConfig("x:1", nil)
	b := DemoConfig("x:1", nil)
	c := DemoConfig("x:1", nil)
	c.Seed++
	for _, id := range DemoDeviceIDs() {
		pa := generate(t, a, id, 10, fixedClock{epoch})
		pb := generate(t, b, id, 10, fixedClock{epoch})
		pc := generate(t, c, id, 10, fixedClock{epoch})
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("%s: same seed, different payloads", id)
		}
		if reflect.DeepEqual(pa, pc) {
			t.Errorf("%s: other seed, same payloads", id)
		}
		later := generate(t, a, id, 10, fixedClock{epoch.Add(time.Hour)})
		for i := range pa {
			if !bytes.Equal(stripTimes(t, pa[i]), stripTimes(t, later[i])) {
				t.Errorf("%s: payload %d differs beyond timestamps:\n%s\n%s", id, i, pa[i], later[i])
				break
			}
		}
	}
}

// stripTimes blanks timestamp fields so payloads can be compared without them.
func stripTimes(t *testing.T, p []byte) []byte {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k := range v {
				if k == "ts" || k == "eventTime" {
					v[k] = ""
				} else {
					strip(v[k])
				}
			}
		case []any:
			for _, e := range v {
				strip(e)
			}
		}
	}
	strip(v)
	out, _ := json.Marshal(v)
	return out
}

// TestFleetDemoPublishes runs the demo fleet against the embedded broker:
// every device publishes, everything is acknowledged and stored, and the
// payloads have the documented shapes.
func TestFleetDemoPublishes(t *testing.T) {
	log := newIngestLog()
	const n = 40
	addr, _ := runBroker(t, "127.0.0.1:0", DemoConfig("", nil).Devices, log)
	var mu sync.Mutex
	acked := map[string]int{}
	f, err := New(fastDemo(addr, n), WithLogger(testLogger(t)), OnAck(func(dev, topic string, _ []byte) {
		mu.Lock()
		acked[dev+" "+topic]++
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	runFleet(t, context.Background(), f, 60*time.Second)
	for _, d := range f.Devices() {
		st := f.Stats()[d.ID]
		if st.Generated != n || st.Published != n || st.Acked != n || st.Queued != 0 || st.Inflight != 0 || st.Dropped != 0 || !st.Finished {
			t.Errorf("%s: stats %+v", d.ID, st)
		}
		if acked[d.ID+" "+d.Topic()] != n {
			t.Errorf("%s: OnAck called %d times on %s", d.ID, acked[d.ID+" "+d.Topic()], d.Topic())
		}
		msgs := log.messages(d.ID)
		if len(log.firstSeen(d.ID)) != n {
			t.Errorf("%s: %d distinct payloads stored, want %d", d.ID, len(log.firstSeen(d.ID)), n)
			for _, m := range msgs {
				t.Logf("%s dup=%v id=%d", m.Payload, m.Duplicate, m.PacketID)
			}
		}
		for _, m := range msgs {
			if m.Topic != d.Topic() || m.QoS != 1 || m.Username != d.ID {
				t.Errorf("%s: message %+v", d.ID, m)
			}
			var err error
			switch d.Kind {
			case KindRFID:
				_, err = checkRFID(m.Payload, 2)
			case KindSensor:
				_, err = checkSensor(m.Payload, d.ID == DemoColdRoom)
			case KindScanner:
				_, err = checkScan(m.Payload)
			}
			if err != nil {
				t.Errorf("%s: %s: %v", d.ID, m.Payload, err)
			}
		}
	}
}

// TestFleetBrokerRestart stops the broker mid-run and starts a new one on
// the same address: devices buffer, reconnect, drain in order, and nothing
// they were acknowledged for is missing.
func TestFleetBrokerRestart(t *testing.T) {
	log := newIngestLog()
	addr, stopA := runBroker(t, "127.0.0.1:0", DemoConfig("", nil).Devices, log)
	cfg := fastDemo(addr, 0)
	want := map[string]int{DemoDockIn: 800, DemoDockOut: 100, DemoColdRoom: 40, DemoReefer: 30, DemoHandheld: 200}
	for i := range cfg.Devices {
		cfg.Devices[i].Messages = want[cfg.Devices[i].ID] // each runs for seconds
	}
	var mu sync.Mutex
	var violations []string
	ackOrder := map[string][]string{}
	f, err := New(cfg, WithLogger(testLogger(t)), OnAck(func(dev, topic string, p []byte) {
		mu.Lock()
		defer mu.Unlock()
		// A PUBACK means stored: the broker stores before acknowledging.
		if !log.has(topic, p) {
			violations = append(violations, dev+": "+string(p))
		}
		ackOrder[dev] = append(ackOrder[dev], string(p))
	}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runFleet(t, context.Background(), f, 120*time.Second)
	}()

	waitUntil(t, 30*time.Second, "every device acknowledged", func() bool {
		for _, s := range f.Stats() {
			if s.Acked == 0 {
				return false
			}
		}
		return true
	})
	stopA()
	acked := func() (n int) {
		for _, s := range f.Stats() {
			n += s.Acked
		}
		return n
	}
	time.Sleep(100 * time.Millisecond) // PUBACKs already on the wire
	before := acked()
	for id, s := range f.Stats() {
		if s.Finished {
			t.Fatalf("%s finished before the broker stopped; the test would prove nothing", id)
		}
	}
	// Offline, the devices keep generating into their outboxes.
	time.Sleep(400 * time.Millisecond)
	for id, s := range f.Stats() {
		if s.Queued == 0 {
			t.Errorf("%s buffered nothing while the broker was down: %+v", id, s)
		}
	}
	if acked() != before {
		t.Errorf("acknowledgements while the broker was down: %d -> %d", before, acked())
	}
	runBroker(t, addr, cfg.Devices, log)
	<-done

	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Errorf("%d acknowledged messages were not stored first, e.g. %s", len(violations), violations[0])
	}
	for _, d := range f.Devices() {
		n := want[d.ID]
		st := f.Stats()[d.ID]
		if st.Acked != n || st.Dropped != 0 || st.Lost < 1 || st.Reconnects < 1 || !st.Finished {
			t.Errorf("%s: stats %+v", d.ID, st)
		}
		stored := log.firstSeen(d.ID)
		if len(stored) != n {
			t.Errorf("%s: %d distinct messages stored, want %d", d.ID, len(stored), n)
		}
		// In order: the broker first saw messages in the order they were
		// generated, which is the order they were acknowledged.
		if !slices.Equal(stored, ackOrder[d.ID]) {
			t.Errorf("%s: stored order differs from acknowledgement order", d.ID)
		}
	}
}

// TestAckOnlyAfterIngest makes the broker's ingest fail at random: each
// failure disconnects the device, which re-sends. OnAck must never report a
// message before it was stored, and nothing may be lost; with one message
// in flight (the default) nothing is reordered either.
func TestAckOnlyAfterIngest(t *testing.T) {
	for _, inflight := range []int{1, 8} {
		t.Run(fmt.Sprintf("inflight=%d", inflight), func(t *testing.T) {
			log := newIngestLog()
			r := rand.New(rand.NewPCG(7, uint64(inflight)))
			log.fail = func(broker.Message) error {
				if r.IntN(5) == 0 {
					return errors.New("simulated inbox failure")
				}
				return nil
			}
			const n = 60
			addr, _ := runBroker(t, "127.0.0.1:0", DemoConfig("", nil).Devices, log)
			cfg := fastDemo(addr, n)
			cfg.MaxInflight = inflight
			var mu sync.Mutex
			var early []string
			ackOrder := map[string][]string{}
			f, err := New(cfg, WithLogger(testLogger(t)), OnAck(func(dev, topic string, p []byte) {
				mu.Lock()
				defer mu.Unlock()
				if !log.has(topic, p) {
					early = append(early, dev)
				}
				ackOrder[dev] = append(ackOrder[dev], string(p))
			}))
			if err != nil {
				t.Fatal(err)
			}
			runFleet(t, context.Background(), f, 120*time.Second)
			mu.Lock()
			defer mu.Unlock()
			if len(early) > 0 {
				t.Errorf("%d messages reported acknowledged before they were stored (devices %v)", len(early), early)
			}
			failures := 0
			for _, d := range f.Devices() {
				st := f.Stats()[d.ID]
				failures += st.Lost
				if st.Acked != n || !st.Finished {
					t.Errorf("%s: stats %+v", d.ID, st)
				}
				stored := log.firstSeen(d.ID)
				if len(stored) != n {
					t.Errorf("%s: %d distinct messages stored, want %d", d.ID, len(stored), n)
				}
				if inflight == 1 && !slices.Equal(stored, ackOrder[d.ID]) {
					t.Errorf("%s: stored order differs from acknowledgement order", d.ID)
				}
			}
			if failures == 0 {
				t.Fatal("no ingest failure happened; the test proved nothing")
			}
		})
	}
}

// TestFleetStartsBeforeBroker: devices started with no broker buffer until
// it comes up.
func TestFleetStartsBeforeBroker(t *testing.T) {
	addr := freeAddr(t)
	const n = 20
	f, err := New(fastDemo(addr, n), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runFleet(t, context.Background(), f, 60*time.Second)
	}()
	waitUntil(t, 10*time.Second, "outboxes filling", func() bool { return f.Stats()[DemoColdRoom].Queued >= 3 })
	for _, s := range f.Stats() {
		if s.Acked != 0 || s.Published != 0 {
			t.Fatalf("published without a broker: %+v", s)
		}
	}
	log := newIngestLog()
	runBroker(t, addr, DemoConfig("", nil).Devices, log)
	<-done
	for _, id := range DemoDeviceIDs() {
		if got := len(log.firstSeen(id)); got != n {
			t.Errorf("%s: %d stored, want %d", id, got, n)
		}
	}
}

// TestOutboxFull checks both overflow policies with the broker away: the
// count of dropped readings, and which readings survive.
func TestOutboxFull(t *testing.T) {
	for _, policy := range []string{OutboxDropNewest, OutboxDropOldest} {
		t.Run(policy, func(t *testing.T) {
			addr := freeAddr(t)
			cfg := fastDemo(addr, 20)
			cfg.Devices = []Device{cfg.Devices[2]} // coldroom-1: one message per cycle
			cfg.Outbox = 5
			cfg.OutboxFull = policy
			clock := fixedClock{epoch}
			want := generate(t, cfg, DemoColdRoom, 20, clock)
			f, err := New(cfg, WithClock(clock), WithLogger(testLogger(t)))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				runFleet(t, context.Background(), f, 60*time.Second)
			}()
			waitUntil(t, 10*time.Second, "all generated", func() bool { return f.Stats()[DemoColdRoom].Generated == 20 })
			if st := f.Stats()[DemoColdRoom]; st.Dropped != 15 || st.Queued != 5 {
				t.Fatalf("stats %+v, want 15 dropped, 5 queued", st)
			}
			log := newIngestLog()
			runBroker(t, addr, cfg.Devices, log)
			<-done
			got := log.firstSeen(DemoColdRoom)
			keep := want[:5]
			if policy == OutboxDropOldest {
				keep = want[15:]
			}
			var wantS []string
			for _, p := range keep {
				wantS = append(wantS, string(p))
			}
			if !slices.Equal(got, wantS) {
				t.Errorf("stored %q,\nwant %q", got, wantS)
			}
		})
	}
}

// TestFleetSeedRepeatable runs the same fleet twice against the broker with
// a fixed clock: each device publishes the same payload sequence.
func TestFleetSeedRepeatable(t *testing.T) {
	runOnce := func(seed int64) map[string][]string {
		log := newIngestLog()
		addr, stop := runBroker(t, "127.0.0.1:0", DemoConfig("", nil).Devices, log)
		defer stop()
		cfg := fastDemo(addr, 30)
		cfg.Seed = seed
		f, err := New(cfg, WithClock(fixedClock{epoch}), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		runFleet(t, context.Background(), f, 60*time.Second)
		out := map[string][]string{}
		for _, id := range DemoDeviceIDs() {
			// Every message as stored (with a fixed clock two readings can
			// be byte-identical, so do not deduplicate).
			for _, m := range log.messages(id) {
				out[id] = append(out[id], string(m.Payload))
			}
		}
		return out
	}
	a, b, c := runOnce(1), runOnce(1), runOnce(2)
	for _, id := range DemoDeviceIDs() {
		if len(a[id]) != 30 || !slices.Equal(a[id], b[id]) {
			t.Errorf("%s: same seed, different sequences (%d, %d payloads)", id, len(a[id]), len(b[id]))
			for i := range min(len(a[id]), len(b[id])) {
				if a[id][i] != b[id][i] {
					t.Errorf("first difference at %d:\n%s\n%s", i, a[id][i], b[id][i])
					break
				}
			}
		}
		if slices.Equal(a[id], c[id]) {
			t.Errorf("%s: different seeds, same sequence", id)
		}
	}
}

// TestFleetStopsOnCancel: devices without a message limit run until the
// context ends, then disconnect, and Run returns.
func TestFleetStopsOnCancel(t *testing.T) {
	log := newIngestLog()
	addr, _ := runBroker(t, "127.0.0.1:0", DemoConfig("", nil).Devices, log)
	cfg := fastDemo(addr, 0)
	f, err := New(cfg, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runFleet(t, ctx, f, 30*time.Second)
	}()
	waitUntil(t, 20*time.Second, "every device acknowledged", func() bool {
		for _, s := range f.Stats() {
			if s.Acked == 0 {
				return false
			}
		}
		return true
	})
	cancel()
	<-done
	if err := f.Run(context.Background()); err == nil {
		t.Error("a fleet ran twice")
	}
	for id, s := range f.Stats() {
		if s.Finished || s.Acked == 0 {
			t.Errorf("%s: stats %+v", id, s)
		}
	}
}

// TestBadCredentials: a device the broker refuses keeps its readings and
// reports why.
func TestBadCredentials(t *testing.T) {
	log := newIngestLog()
	addr, _ := runBroker(t, "127.0.0.1:0", DemoConfig("", nil).Devices, log)
	creds := demoCreds()
	creds[DemoColdRoom] = "wrong"
	cfg := DemoConfig(addr, creds)
	cfg.Rate, cfg.ReconnectMax = 400, 100*time.Millisecond
	cfg.Devices = []Device{cfg.Devices[2]}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runFleet(t, ctx, f, 30*time.Second)
	}()
	waitUntil(t, 10*time.Second, "failed attempts", func() bool { return f.Stats()[DemoColdRoom].Failures >= 2 })
	cancel()
	<-done
	st := f.Stats()[DemoColdRoom]
	if st.Acked != 0 || st.Queued == 0 || !strings.Contains(strings.ToLower(st.LastError), "bad user name or password") {
		t.Errorf("stats %+v", st)
	}
	if len(log.firstSeen(DemoColdRoom)) != 0 {
		t.Error("refused device stored messages")
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() Config { return DemoConfig("127.0.0.1:1883", demoCreds()) }
	mod := func(f func(*Config)) Config { c := base(); f(&c); return c }
	dev := func(i int, f func(*Device)) Config {
		return mod(func(c *Config) { c.Devices = slices.Clone(c.Devices); f(&c.Devices[i]) })
	}
	for name, cfg := range map[string]Config{
		"no broker":         mod(func(c *Config) { c.Broker = "" }),
		"negative rate":     mod(func(c *Config) { c.Rate = -1 }),
		"outbox policy":     mod(func(c *Config) { c.OutboxFull = "drop-random" }),
		"bad GTIN":          mod(func(c *Config) { c.Products = []Product{{GTIN: "00614141100018", CompanyPrefixLength: 7}} }),
		"prefix length":     mod(func(c *Config) { c.Products = []Product{{GTIN: DemoN95GTIN, CompanyPrefixLength: 5}} }),
		"unknown product":   mod(func(c *Config) { c.Products = c.Products[1:] }),
		"serial too big":    mod(func(c *Config) { c.Lots = slices.Clone(c.Lots); c.Lots[0].SerialLast = 1 << 40 }),
		"bad SSCC":          mod(func(c *Config) { c.Lots = DemoLots(); c.Lots[0].Pallets[0].SSCC = "306141410000000014" }),
		"pallet off lot":    mod(func(c *Config) { c.Lots = DemoLots(); c.Lots[0].Pallets[0].SerialFirst = 1 }),
		"bad expiry":        mod(func(c *Config) { c.Lots = DemoLots(); c.Lots[0].Expiry = "31/10/2031" }),
		"duplicate device":  mod(func(c *Config) { c.Devices = append(c.Devices, c.Devices[0]) }),
		"bad kind":          dev(0, func(d *Device) { d.Kind = "camera" }),
		"slash in id":       dev(0, func(d *Device) { d.ID = "a/b" }),
		"no site":           dev(0, func(d *Device) { d.Site = "" }),
		"unknown format":    dev(0, func(d *Device) { d.Format = "alien" }),
		"impinj sensor":     dev(2, func(d *Device) { d.Format = FormatImpinj }),
		"bad unit":          dev(2, func(d *Device) { s := DefaultSensorConfig(); s.Unit = "K"; d.Sensor = &s }),
		"unknown lot":       dev(0, func(d *Device) { r := DefaultRFIDConfig(); r.Lots = []string{"nope"}; d.RFID = &r }),
		"reads":             dev(0, func(d *Device) { r := DefaultRFIDConfig(); r.ReadsMax = 1; d.RFID = &r }),
		"filter":            dev(0, func(d *Device) { r := DefaultRFIDConfig(); r.ItemFilter = 8; d.RFID = &r }),
		"negative interval": dev(2, func(d *Device) { d.Interval = -time.Second }),
		"door chance":       dev(2, func(d *Device) { s := DefaultSensorConfig(); s.DoorOpenChance = 2; d.Sensor = &s }),
		"time constant":     dev(2, func(d *Device) { s := SensorConfig{Setpoint: 5}; d.Sensor = &s }),
		"read point":        dev(4, func(d *Device) { s := DefaultScannerConfig(); s.BizLocation = DemoBizLocation; d.Scanner = &s }),
		"tz offset":         dev(4, func(d *Device) { s := *d.Scanner; s.TimeZoneOffset = "CET"; d.Scanner = &s }),
	} {
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v", name, err)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := New(base(), WithClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
}

// TestParseConfigYAML reads the commented example; fields left out keep
// their defaults.
func TestParseConfigYAML(t *testing.T) {
	data, err := os.ReadFile("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	devs := f.Devices()
	if len(devs) != 3 {
		t.Fatalf("%d devices", len(devs))
	}
	r := devs[0].RFID
	if !r.Batch || r.Antennas != 4 || r.ReadsMin != 2 || r.ReadsMax != 6 || r.ItemFilter != 1 || r.PalletFilter != 6 || devs[0].Interval != 15*time.Second {
		t.Errorf("rfid %+v every %s", r, devs[0].Interval)
	}
	s := devs[1].Sensor
	if s.Setpoint != -20 || s.Ambient != 22 || s.Humidity != 0 || s.TimeConstant != 20*time.Minute || devs[1].Username != "freezer-1" {
		t.Errorf("sensor %+v user %q", s, devs[1].Username)
	}
	if devs[2].Scanner.ItemsPerScan != 3 || devs[2].Scanner.ReadPoint != "urn:epc:id:sgln:0614141.00001.handheld-1" {
		t.Errorf("scanner %+v", devs[2].Scanner)
	}
	if _, err := ParseConfig([]byte("devices: [")); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad YAML: %v", err)
	}
	for i := 0; i < 200; i++ {
		// Random mutations of the file must give an error, never a panic.
		b := bytes.Clone(data)
		rr := rand.New(rand.NewPCG(uint64(i), 0))
		for j := 0; j < 5; j++ {
			b[rr.IntN(len(b))] = byte(rr.IntN(128))
		}
		if c, err := ParseConfig(b); err == nil {
			_, _ = New(c)
		}
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
