package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/edge/journal"
	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/test/harness"
)

// publishFn publishes one payload on a topic as the named device.
type publishFn func(device, topic string, payload []byte) error

// scenario is a set of device messages with what they must become.
type scenario struct {
	t0 time.Time
	// Sensor readings of coldroom-1, each a distinct event.
	sensorTimes []time.Time
	// RFID: tag URIs and how many reads each event must count.
	tags map[string]int
	// Scanner event EPC.
	scannerEPC string
	// Dead-letter reasons (prefixes) that must appear.
	deadReasons []string
	badEPCs     int
}

func sgtin(serial uint64) string { return demo.SerialURI(sim.DemoN95GTIN, serial) }

func hex96(t *testing.T, uri string) string {
	t.Helper()
	e, err := epc.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	h, err := e.EncodeHex96(3)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// publishScenario sends good readings, a duplicate and bad payloads.
func publishScenario(t *testing.T, pub publishFn) scenario {
	t.Helper()
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Minute)
	sc := scenario{t0: t0, tags: map[string]int{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sensor := "tracegate/wh1/sensor/coldroom-1"
	var first []byte
	for i := range 5 {
		tm := t0.Add(time.Duration(i) * time.Second)
		p := fmt.Appendf(nil, `{"ts":%q,"temperature":%.1f,"humidity":50,"battery":97}`, ts(tm), 4.0+0.1*float64(i))
		if i == 0 {
			first = p
		}
		must(pub("coldroom-1", sensor, p))
		sc.sensorTimes = append(sc.sensorTimes, tm)
	}
	// A re-delivery of the same message must be stored once.
	must(pub("coldroom-1", sensor, first))

	rfid := "tracegate/wh1/rfid/dock-in-1"
	tagA, tagB, tagC, tagD := sgtin(100001), "urn:epc:id:sscc:0614141.1000000001", sgtin(100002), sgtin(100003)
	t1 := t0.Add(10 * time.Second)
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `[{"epc":%q,"ts":%q,"antenna":1,"rssi":-52.5},{"epc":%q,"ts":%q,"antenna":2,"rssi":-49},{"epc":%q,"ts":%q,"antenna":1,"rssi":-60}]`,
		hex96(t, tagA), ts(t1), hex96(t, tagA), ts(t1.Add(50*time.Millisecond)), hex96(t, tagA), ts(t1.Add(100*time.Millisecond)))))
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `{"epc":%q,"ts":%q,"antenna":1,"rssi":-55}`, hex96(t, tagA), ts(t1.Add(150*time.Millisecond)))))
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `{"epc":%q,"ts":%q,"antenna":1}`, hex96(t, tagB), ts(t1))))
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `{"epc":%q,"ts":%q}`, tagC, ts(t1))))
	// One good and one bad element: the good one is kept.
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `[{"epc":%q,"ts":%q},{"epc":"not-an-epc","ts":%q}]`, hex96(t, tagD), ts(t1), ts(t1))))
	sc.tags[tagA], sc.tags[tagB], sc.tags[tagC], sc.tags[tagD] = 4, 1, 1, 1

	sc.scannerEPC = sgtin(100010)
	must(pub("handheld-1", "tracegate/wh1/scanner/handheld-1", fmt.Appendf(nil, `{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
  "type": "ObjectEvent", "eventTime": %q, "eventTimeZoneOffset": "+01:00",
  "epcList": [%q], "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
  "readPoint": {"id": %q}, "bizLocation": {"id": %q}}`, ts(t0.Add(20*time.Second)), sc.scannerEPC, demo.WarehouseDockIn, demo.WarehouseSite)))

	// Bad input, each must land in the dead-letter store with its reason.
	must(pub("coldroom-1", sensor, []byte(`this is not json`)))
	must(pub("coldroom-1", sensor, fmt.Appendf(nil, `{"ts":"yesterday","temperature":4}`)))
	must(pub("coldroom-1", sensor, fmt.Appendf(nil, `{"ts":%q,"temperature":999}`, ts(t0))))
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `{"epc":"FF74257BF7194E4000001A85","ts":%q}`, ts(t1))))                   // bad header
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `{"epc":"307C257BF7194E4000001A85","ts":%q}`, ts(t1))))                   // partition 7
	must(pub("dock-in-1", rfid, fmt.Appendf(nil, `{"epc":"https://id.gs1.org/01/00614141100018/21/77","ts":%q}`, ts(t1)))) // check digit
	must(pub("handheld-1", "tracegate/wh1/scanner/handheld-1", []byte(`{"type":"ObjectEvent"}`)))
	sc.deadReasons = []string{"bad_json", "bad_time", "implausible-value", "bad_epc", "not_epcis"}
	sc.badEPCs = 4 // not-an-epc, bad header, bad partition, bad check digit
	return sc
}

// checkScenario waits for the scenario's events, checks their number and
// content, proves each with `tracegate verify`, and checks dead letters.
func checkScenario(t *testing.T, ctx context.Context, base string, st *store.Store, j *journal.Journal, sc scenario) []string {
	t.Helper()
	var ids []string
	deadline := time.Now().Add(60 * time.Second)
	// Sensor events.
	var sensorEvents []map[string]any
	for {
		evs, err := harness.QueryEvents(ctx, base, url.Values{"EQ_bizStep": {"sensor_reporting"}, "EQ_readPoint": {demo.WarehouseColdRoom},
			"GE_eventTime": {sc.t0.Add(-time.Millisecond).Format(time.RFC3339Nano)}, "LT_eventTime": {sc.t0.Add(time.Minute).Format(time.RFC3339Nano)}})
		if err != nil {
			t.Fatal(err)
		}
		sensorEvents = evs
		if len(evs) >= len(sc.sensorTimes) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(sensorEvents) != len(sc.sensorTimes) {
		t.Fatalf("%d sensor events indexed, want %d (duplicates must be stored once)", len(sensorEvents), len(sc.sensorTimes))
	}
	seen := map[string]int{}
	for _, e := range sensorEvents {
		seen[e["eventTime"].(string)]++
		ids = append(ids, e["eventID"].(string))
	}
	for _, tm := range sc.sensorTimes {
		if seen[ts(tm)] != 1 {
			t.Errorf("sensor reading at %s stored %d times, want once", ts(tm), seen[ts(tm)])
		}
	}
	// RFID events, smoothed.
	for tag, reads := range sc.tags {
		var evs []map[string]any
		for {
			var err error
			evs, err = harness.QueryEvents(ctx, base, url.Values{"MATCH_epc": {tag}, "EQ_bizStep": {"receiving"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(evs) != 1 {
			t.Fatalf("tag %s: %d events, want exactly 1 (reads within the window are one event)", tag, len(evs))
		}
		got := fmt.Sprint(evs[0]["tg:readCount"])
		if got != fmt.Sprint(reads) {
			t.Errorf("tag %s: readCount %s, want %d", tag, got, reads)
		}
		ids = append(ids, evs[0]["eventID"].(string))
	}
	// The scanner's own EPCIS event.
	evs, err := harness.QueryEvents(ctx, base, url.Values{"MATCH_epc": {sc.scannerEPC}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("scanner event: %d events, want 1", len(evs))
	}
	ids = append(ids, evs[0]["eventID"].(string))

	if err := harness.WaitAnchored(ctx, st, ids, 60*time.Second, epcis.ParseEventID); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		args := []string{harness.ProofURL(base, id)}
		if i%2 == 1 {
			args = []string{"--gateway", base, id} // the eventID form
		}
		code, out, err := harness.Verify(ctx, args...)
		if err != nil || code != 0 {
			t.Fatalf("tracegate verify %v: exit %d, %v\n%s", args, code, err, out)
		}
	}
	// Dead letters: every kind of bad input is kept with its reason.
	dl, err := j.DeadLetters(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range sc.deadReasons {
		found := false
		for _, d := range dl {
			if strings.HasPrefix(d.Reason, want) {
				found = true
				if len(d.Payload) == 0 {
					t.Errorf("dead letter %q kept no payload", d.Reason)
				}
			}
		}
		if !found {
			t.Errorf("no dead letter with reason %s; have %v", want, reasons(dl))
		}
	}
	n := 0
	for _, d := range dl {
		if strings.HasPrefix(d.Reason, "bad_epc") {
			n++
		}
	}
	if n != sc.badEPCs {
		t.Errorf("%d bad_epc dead letters, want %d: %v", n, sc.badEPCs, reasons(dl))
	}
	return ids
}

func reasons(dl []journal.DeadLetter) []string {
	var out []string
	for _, d := range dl {
		out = append(out, d.Reason)
	}
	return out
}

// tamperChecks proves that changing anything the proof covers makes
// `tracegate verify` fail, and that fields outside the CBV 2.0 hash
// (recordTime) do not matter.
func tamperChecks(t *testing.T, ctx context.Context, base, eventID string) {
	t.Helper()
	raw, err := fetch(ctx, harness.ProofURL(base, eventID))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	type mutation struct {
		name  string
		apply func(doc map[string]any)
		ok    bool
	}
	ev := func(doc map[string]any) map[string]any { return doc["event"].(map[string]any) }
	hdr := func(doc map[string]any) map[string]any { return doc["header"].(map[string]any) }
	flipHex := func(s string) string {
		b := []byte(s)
		if b[0] == '0' {
			b[0] = '1'
		} else {
			b[0] = '0'
		}
		return string(b)
	}
	muts := []mutation{
		{"unchanged", func(map[string]any) {}, true},
		{"recordTime added (not hashed)", func(d map[string]any) { ev(d)["recordTime"] = "2030-01-01T00:00:00.000Z" }, true},
		{"eventTime", func(d map[string]any) { ev(d)["eventTime"] = "2020-01-01T00:00:00.000Z" }, false},
		{"eventTimeZoneOffset", func(d map[string]any) { ev(d)["eventTimeZoneOffset"] = "+02:00" }, false},
		{"bizStep", func(d map[string]any) { ev(d)["bizStep"] = "shipping" }, false},
		{"readPoint", func(d map[string]any) { ev(d)["readPoint"] = map[string]any{"id": demo.WarehouseDockOut} }, false},
		{"sensor value", func(d map[string]any) {
			sel := ev(d)["sensorElementList"].([]any)[0].(map[string]any)
			rep := sel["sensorReport"].([]any)[0].(map[string]any)
			rep["value"] = 12.5
		}, false},
		{"extension added", func(d map[string]any) { ev(d)["tg:note"] = "forged" }, false},
		{"eventID", func(d map[string]any) { d["eventID"] = epcis.EventID([32]byte{1}) }, false},
		{"header count", func(d map[string]any) { hdr(d)["count"] = hdr(d)["count"].(float64) + 1 }, false},
		{"header root", func(d map[string]any) { hdr(d)["root"] = flipHex(hdr(d)["root"].(string)) }, false},
		{"header seq", func(d map[string]any) { hdr(d)["seq"] = hdr(d)["seq"].(float64) + 1 }, false},
		{"header from", func(d map[string]any) { hdr(d)["from"] = "2020-01-01T00:00:00.000Z" }, false},
		{"header edge", func(d map[string]any) { hdr(d)["edge"] = "edge-forged" }, false},
		{"signature", func(d map[string]any) {
			s := []byte(d["signature"].(string))
			if s[0] == 'A' {
				s[0] = 'B'
			} else {
				s[0] = 'A'
			}
			d["signature"] = string(s)
		}, false},
		{"edge key", func(d map[string]any) { d["edgeKey"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }, false},
		{"leafIndex", func(d map[string]any) { d["leafIndex"] = d["leafIndex"].(float64) + 1 }, false},
		{"anchor txID", func(d map[string]any) { d["anchor"].(map[string]any)["txID"] = "forged" }, false},
		{"anchor block", func(d map[string]any) { d["anchor"].(map[string]any)["block"] = 999999.0 }, false},
	}
	var doc0 map[string]any
	if err := json.Unmarshal(raw, &doc0); err != nil {
		t.Fatal(err)
	}
	if ap, ok := doc0["auditPath"].([]any); ok && len(ap) > 0 {
		muts = append(muts, mutation{"audit path", func(d map[string]any) {
			p := d["auditPath"].([]any)
			p[0] = flipHex(p[0].(string))
		}, false})
	} else {
		t.Fatalf("proof of %s has an empty audit path: publish more events per batch", eventID)
	}
	for i, m := range muts {
		var doc map[string]any
		_ = json.Unmarshal(raw, &doc)
		m.apply(doc)
		b, _ := json.Marshal(doc)
		f := filepath.Join(dir, fmt.Sprintf("proof-%d.json", i))
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, err := harness.Verify(ctx, f, "--gateway", base)
		if err != nil {
			t.Fatal(err)
		}
		if m.ok && code != 0 {
			t.Errorf("%s: verify exit %d, want 0\n%s", m.name, code, out)
		}
		if !m.ok && code == 0 {
			t.Errorf("%s: tampered proof verified\n%s", m.name, out)
		}
		if !m.ok && !strings.Contains(out, "FAILED") {
			t.Errorf("%s: verify gave no reason\n%s", m.name, out)
		}
	}
}
