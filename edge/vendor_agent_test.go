package edge

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracegate/tracegate/edge/decode"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/edge/journal"
)

// exampleConfig is configs/edge.yaml with a test data directory and short
// timers: the shipped reader mappings are the ones under test.
func exampleConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := LoadConfig("../configs/edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.KeyFile = ""
	cfg.Listen = ""
	cfg.MQTT.Broker = ""
	cfg.Batch.MaxAge = 20 * time.Millisecond
	cfg.Smoothing.Window = 50 * time.Millisecond
	cfg.Limits.MinFreeBytes = 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startWithRegistry(t *testing.T, cfg Config, up Uploader) (*Agent, *prometheus.Registry, func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	a, err := New(cfg, WithUploader(up), WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, reg, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	}
}

// counter returns the value of a counter series with the given labels (0
// when absent).
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func ingestAll(t *testing.T, a *Agent, msgs []journal.Raw) {
	t.Helper()
	for _, m := range msgs {
		m.Received = time.Now()
		if err := a.Ingest(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// byEPC indexes uploaded events by their single EPC.
func byEPC(evs []epcis.Event) map[string]epcis.Event {
	out := map[string]epcis.Event{}
	for _, e := range evs {
		if eps := e.EPCs(); len(eps) == 1 {
			out[eps[0]] = e
		}
	}
	return out
}

func TestAgentVendorFormats(t *testing.T) {
	rec := &recorder{}
	a, reg, stop := startWithRegistry(t, exampleConfig(t), rec)
	defer stop()
	now := time.Now().UTC()
	iso := now.Format(time.RFC3339Nano)
	zebraTS := now.Format("2006-01-02T15:04:05.000-0700")
	impinj := fmt.Sprintf(`{"timestamp":%q,"hostname":"impinj-14-15-e5","eventType":"tagInventory","tagInventoryEvent":{"epcHex":%q,"tidHex":"E2801160","antennaPort":3,"antennaName":"Dock 1 left","peakRssiCdbm":-5250,"frequency":920250,"transmitPowerCdbm":3000,"lastSeenTime":%q,"phaseAngle":31.25}}`,
		iso, hexEPC(t, 1), iso)
	zebra := fmt.Sprintf(`[{"data":{"eventNum":123,"format":"epc","idHex":%q,"antenna":2,"peakRssi":-61,"channel":915.25,"reads":3},"timestamp":%q,"type":"SIMPLE"}]`,
		strings.ToLower(hexEPC(t, 2)), zebraTS)
	def := fmt.Sprintf(`{"epc":%q,"ts":%q,"antenna":1,"rssi":-48.5}`, hexEPC(t, 3), iso)
	ingestAll(t, a, []journal.Raw{
		{Topic: "tracegate/wh1/rfid/dock-in-1", Payload: []byte(impinj)},
		{Topic: "tracegate/wh1/rfid/dock-out-1", Payload: []byte(zebra)},
		{Topic: "tracegate/wh1/rfid/pack-1", Payload: []byte(def)},
		// Reader status: counted, neither an event nor a dead letter.
		{Topic: "tracegate/wh1/rfid/dock-in-1", Payload: fmt.Appendf(nil, `[{"timestamp":%q,"eventType":"inventoryStatus","inventoryStatusEvent":{"inventoryStatus":"running"}},{"timestamp":%q,"eventType":"antennaConnected"}]`, iso, iso)},
		// Dead letters with their reasons.
		{Topic: "tracegate/wh1/rfid/dock-out-1", Payload: fmt.Appendf(nil, `{"data":{"eventNum":124,"format":"tid","idHex":"E2801160600002054E5B1A2C"},"timestamp":%q,"type":"SIMPLE"}`, zebraTS)},
		{Topic: "tracegate/wh1/rfid/dock-in-1", Payload: fmt.Appendf(nil, `{"timestamp":%q,"eventType":"tagInventory","tagInventoryEvent":{"tidHex":"E2801160","antennaPort":1}}`, iso)},
	})
	waitFor(t, "3 read events", func() bool { return len(rec.events()) >= 3 })
	time.Sleep(150 * time.Millisecond)
	evs := byEPC(rec.events())
	if len(rec.events()) != 3 {
		t.Fatalf("%d events, want 3: %v", len(rec.events()), rec.events())
	}
	for _, c := range []struct {
		serial                               int
		readPoint, bizStep, disposition, fmt string
		antenna, rssi, eventNum              string
	}{
		{1, "urn:epc:id:sgln:4012345.00001.1", "receiving", "in_progress", "impinj", "[3]", "-52.5", ""},
		{2, "urn:epc:id:sgln:4012345.00001.2", "shipping", "in_transit", "zebra-fx", "[2]", "-61", "123"},
		{3, "urn:epc:id:sgln:4012345.00001.4", "packing", "", "", "[1]", "-48.5", ""},
	} {
		uri := fmt.Sprintf("urn:epc:id:sgtin:0614141.812345.%d", c.serial)
		e := evs[uri]
		if e == nil {
			t.Errorf("no event for %s", uri)
			continue
		}
		if e.ReadPoint() != c.readPoint || e.BizStep() != c.bizStep || e.Disposition() != c.disposition {
			t.Errorf("%s: readPoint %s bizStep %s disposition %s; want %s %s %s", uri, e.ReadPoint(), e.BizStep(), e.Disposition(), c.readPoint, c.bizStep, c.disposition)
		}
		if got := fmt.Sprint(e["tg:antennas"]); got != c.antenna {
			t.Errorf("%s: tg:antennas %s, want %s", uri, got, c.antenna)
		}
		if got := fmt.Sprint(e["tg:peakRssi"]); got != c.rssi {
			t.Errorf("%s: tg:peakRssi %s, want %s", uri, got, c.rssi)
		}
		if f, ok := e["tg:format"]; (c.fmt == "" && ok) || (c.fmt != "" && fmt.Sprint(f) != c.fmt) {
			t.Errorf("%s: tg:format %v, want %q", uri, f, c.fmt)
		}
		if n, ok := e["tg:eventNum"]; (c.eventNum == "" && ok) || (c.eventNum != "" && fmt.Sprint(n) != c.eventNum) {
			t.Errorf("%s: tg:eventNum %v, want %q", uri, n, c.eventNum)
		}
		if _, ok := e["tg:unmapped"]; ok {
			t.Errorf("%s: mapped reader flagged unmapped", uri)
		}
	}
	dl, _ := a.Journal().DeadLetters(0, 10)
	var reasons []string
	for _, d := range dl {
		reasons = append(reasons, strings.SplitN(d.Reason, ":", 2)[0])
	}
	if strings.Join(reasons, ",") != decode.ReasonFormat+","+decode.ReasonEPC {
		t.Errorf("dead letters %q, want unsupported-format then bad_epc", reasons)
	}
	for reason, want := range map[string]float64{decode.ReasonFormat: 1, decode.ReasonEPC: 1} {
		if got := counter(t, reg, "tracegate_edge_dead_letters_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("dead letters %s = %v, want %v", reason, got, want)
		}
	}
	if got := counter(t, reg, "tracegate_edge_rfid_reads_total", nil); got != 3 {
		t.Errorf("rfid reads %v, want 3 (status messages are not reads)", got)
	}
	if got := counter(t, reg, "tracegate_edge_unmapped_devices_total", nil); got != 0 {
		t.Errorf("unmapped %v, want 0", got)
	}
}

// TestVendorStatusMetric checks the status counter itself; the processor
// calls countStatus for each message's decode.Result.Status.
func TestVendorStatusMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := &Agent{m: newMetrics(reg, "e")}
	a.countStatus([]decode.Status{{Vendor: "impinj", Type: "inventoryStatus"}, {Vendor: "impinj", Type: "inventoryStatus"}, {Vendor: "impinj", Type: "unknown"}})
	if got := counter(t, reg, "tracegate_edge_vendor_status_events_total", map[string]string{"vendor": "impinj", "type": "inventoryStatus"}); got != 2 {
		t.Errorf("inventoryStatus %v, want 2", got)
	}
	if got := counter(t, reg, "tracegate_edge_vendor_status_events_total", map[string]string{"vendor": "impinj", "type": "unknown"}); got != 1 {
		t.Errorf("unknown %v, want 1", got)
	}
}

func TestAgentSensorUnits(t *testing.T) {
	rec := &recorder{}
	a, reg, stop := startWithRegistry(t, exampleConfig(t), rec)
	defer stop()
	base := time.Now().UTC().Truncate(time.Second)
	ts := func(i int) string { return base.Add(time.Duration(i) * time.Second).Format(time.RFC3339) }
	ingestAll(t, a, []journal.Raw{
		{Topic: "tracegate/wh1/sensor/coldroom-1", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":39.56,"unit":"°F","humidity":51}`, ts(0))},
		{Topic: "tracegate/wh1/sensor/coldroom-1", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":277.35,"temperatureUnit":"KEL"}`, ts(1))},
		{Topic: "tracegate/wh1/sensor/coldroom-1", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":4.5,"unit":"C"}`, ts(2))},
		{Topic: "tracegate/wh1/sensor/coldroom-1", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":4.5,"unit":"Réaumur"}`, ts(3))},
		{Topic: "tracegate/wh1/sensor/coldroom-1", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":250,"unit":"F"}`, ts(4))},
		{Topic: "tracegate/wh1/sensor/coldroom-1", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":999}`, ts(5))},
	})
	waitFor(t, "3 sensor events", func() bool { return len(rec.events()) >= 3 })
	time.Sleep(100 * time.Millisecond)
	evs := rec.events()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	got := map[string]string{}
	for _, e := range evs {
		sl, _ := e["sensorElementList"].([]any)
		se, _ := sl[0].(map[string]any)
		reps, _ := se["sensorReport"].([]any)
		r0, _ := reps[0].(map[string]any)
		got[fmt.Sprint(e["eventTime"])] = fmt.Sprintf("%v %v %v %v", r0["value"], r0["uom"], e["tg:sourceUnit"], e["tg:sourceTemperature"])
	}
	want := map[string]string{
		ts(0): "4.2 CEL FAH 39.56",
		ts(1): "4.2 CEL KEL 277.35",
		ts(2): "4.5 CEL <nil> <nil>",
	}
	for k, w := range want {
		var g string
		for gk, gv := range got {
			if strings.HasPrefix(gk, strings.TrimSuffix(k, "Z")) {
				g = gv
			}
		}
		if g != w {
			t.Errorf("sample at %s: %q, want %q (all: %v)", k, g, w, got)
		}
	}
	for reason, n := range map[string]float64{decode.ReasonUnit: 1, decode.ReasonImplausible: 2} {
		if c := counter(t, reg, "tracegate_edge_dead_letters_total", map[string]string{"reason": reason}); c != n {
			t.Errorf("dead letters %s = %v, want %v", reason, c, n)
		}
	}
}

func TestAgentUnmappedPolicy(t *testing.T) {
	iso := time.Now().UTC().Format(time.RFC3339Nano)
	msgs := []journal.Raw{
		{Topic: "tracegate/wh1/rfid/mystery-reader", Payload: fmt.Appendf(nil, `{"data":{"eventNum":9,"format":"epc","idHex":%q,"antenna":1,"peakRssi":-50},"timestamp":%q,"type":"SIMPLE"}`, hexEPC(t, 7), iso)},
		{Topic: "tracegate/wh9/rfid/r", Payload: fmt.Appendf(nil, `{"epc":%q,"ts":%q}`, hexEPC(t, 8), iso)},
		{Topic: "tracegate/wh1/sensor/mystery-probe", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":5}`, iso)},
	}
	t.Run("flag", func(t *testing.T) {
		rec := &recorder{}
		cfg := exampleConfig(t)
		if cfg.Unmapped != UnmappedFlag {
			t.Fatalf("configs/edge.yaml unmapped = %q, want flag", cfg.Unmapped)
		}
		a, reg, stop := startWithRegistry(t, cfg, rec)
		defer stop()
		ingestAll(t, a, msgs)
		waitFor(t, "3 events", func() bool { return len(rec.events()) >= 3 })
		for _, e := range rec.events() {
			if e["tg:unmapped"] != true || !strings.HasPrefix(e.ReadPoint(), "urn:tracegate:device:") {
				t.Errorf("unmapped device's event: tg:unmapped %v, readPoint %s", e["tg:unmapped"], e.ReadPoint())
			}
		}
		if e := byEPC(rec.events())["urn:epc:id:sgtin:0614141.812345.7"]; e == nil || e.ReadPoint() != "urn:tracegate:device:wh1:rfid:mystery-reader" || fmt.Sprint(e["tg:format"]) != "zebra-fx" {
			t.Errorf("unmapped zebra read: %v", e)
		}
		if got := counter(t, reg, "tracegate_edge_unmapped_devices_total", nil); got != 3 {
			t.Errorf("unmapped counter %v, want 3", got)
		}
		if dl, _ := a.Journal().DeadLetters(0, 10); len(dl) != 0 {
			t.Errorf("dead letters with unmapped: flag: %+v", dl)
		}
	})
	t.Run("deadletter", func(t *testing.T) {
		rec := &recorder{}
		cfg := exampleConfig(t)
		cfg.Unmapped = UnmappedDeadLetter
		a, reg, stop := startWithRegistry(t, cfg, rec)
		defer stop()
		ingestAll(t, a, msgs[:2])
		ingestAll(t, a, []journal.Raw{{Topic: "tracegate/wh1/rfid/dock-in-1", Payload: fmt.Appendf(nil, `{"epc":%q,"ts":%q}`, hexEPC(t, 9), iso)}})
		waitFor(t, "the mapped read's event", func() bool { return len(rec.events()) >= 1 })
		time.Sleep(150 * time.Millisecond)
		if n := len(rec.events()); n != 1 {
			t.Errorf("%d events, want only the mapped reader's", n)
		}
		dl, _ := a.Journal().DeadLetters(0, 10)
		if len(dl) != 2 {
			t.Fatalf("%d dead letters, want 2: %+v", len(dl), dl)
		}
		for _, d := range dl {
			if !strings.HasPrefix(d.Reason, decode.ReasonUnmapped+": ") || len(d.Payload) == 0 {
				t.Errorf("dead letter %q", d.Reason)
			}
		}
		if got := counter(t, reg, "tracegate_edge_dead_letters_total", map[string]string{"reason": decode.ReasonUnmapped}); got != 2 {
			t.Errorf("unmapped-device dead letters %v, want 2", got)
		}
		// An unmapped sensor is dead-lettered too (its reason label is
		// set by the processor, see sensorEvent).
		ingestAll(t, a, msgs[2:])
		waitFor(t, "the sensor's dead letter", func() bool { dl, _ := a.Journal().DeadLetters(0, 10); return len(dl) == 3 })
		dl, _ = a.Journal().DeadLetters(0, 10)
		if !strings.Contains(dl[2].Reason, "mystery-probe has no mapping") {
			t.Errorf("sensor dead letter %q", dl[2].Reason)
		}
	})
}

func TestConfigUnmappedAndReaderVocabulary(t *testing.T) {
	cfg := Defaults()
	if cfg.Unmapped != UnmappedFlag {
		t.Errorf("default unmapped %q", cfg.Unmapped)
	}
	cfg.Unmapped = ""
	if err := cfg.Validate(); err != nil || cfg.Unmapped != UnmappedFlag {
		t.Errorf("empty unmapped: %v, %q", err, cfg.Unmapped)
	}
	cfg.Unmapped = "drop"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "unmapped") {
		t.Errorf("unmapped: drop accepted: %v", err)
	}
	cfg = Defaults()
	cfg.Sites = map[string]Site{"s": {Readers: map[string]Reader{
		"ok":  {BizStep: "receiving", Disposition: "in_progress"},
		"uri": {BizStep: "urn:epcglobal:cbv:bizstep:shipping", Disposition: "https://example.com/disp/x"},
		"bad": {BizStep: "Receiving Dock", Disposition: "in transit"},
	}}}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "readers.bad.bizStep") || !strings.Contains(err.Error(), "readers.bad.disposition") || strings.Contains(err.Error(), "readers.ok") || strings.Contains(err.Error(), "readers.uri") {
		t.Errorf("reader vocabulary: %v", err)
	}
	var env Config = Defaults()
	if err := env.applyEnv(func(k string) (string, bool) { return "deadletter", k == "TRACEGATE_EDGE_UNMAPPED" }); err != nil || env.Unmapped != UnmappedDeadLetter {
		t.Errorf("TRACEGATE_EDGE_UNMAPPED: %v %q", err, env.Unmapped)
	}
}
