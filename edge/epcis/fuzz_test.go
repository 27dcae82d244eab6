package epcis

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/hashgen/*.jsonld")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(sampleEvent))
	f.Add([]byte(`[` + sampleEvent + `]`))
	f.Add([]byte(`{"type":"ObjectEvent","x:y":{"source":1,"type":"po"},"bizTransactionList":[{"bizTransaction":"a"}],"n":1e400}`))
	f.Add([]byte(`{"type":"ObjectEvent","@context":[{"p":"urn:x:"},"x"],"p:a":"p:b","eventTime":"2023-12-31T23:59:59.9999999Z"}`))
}

// FuzzParseDocument: no input makes ParseDocument panic, and what it
// accepts hashes, before and after Standalone.
func FuzzParseDocument(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := ParseDocument(data)
		if err != nil {
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			return
		}
		for _, e := range doc.Events {
			h, err := Hash(e, doc.Context)
			if err != nil {
				continue
			}
			if h2, err := Hash(e.Standalone(doc.Context), nil); err != nil || h2 != h {
				t.Fatalf("standalone hash differs: %v", err)
			}
		}
	})
}

// FuzzHash: no JSON object makes Hash or PreHash panic; a hash is the
// SHA-256 of the pre-hash string and survives Standalone and a JSON
// round trip.
func FuzzHash(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var e Event
		if dec.Decode(&e) != nil {
			return
		}
		ctx := Context{"ex": "https://ex.example/", "tg": Namespace}
		pre, err := PreHash(e, ctx)
		h, err2 := Hash(e, ctx)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("PreHash error %v, Hash error %v", err, err2)
		}
		if err != nil {
			return
		}
		if h != sha256.Sum256([]byte(pre)) {
			t.Fatal("hash is not SHA-256 of the pre-hash string")
		}
		alone := e.Standalone(ctx)
		if h2, err := Hash(alone, nil); err != nil || h2 != h {
			t.Fatalf("standalone: %v", err)
		}
		b, err := json.Marshal(alone)
		if err != nil {
			return
		}
		dec = json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var back Event
		if err := dec.Decode(&back); err != nil {
			t.Fatal(err)
		}
		if h3, err := Hash(back, nil); err != nil || h3 != h {
			t.Fatalf("after JSON round trip: %v", err)
		}
		_ = ValidateEvent(e)
		_, _ = e.Time()
		_ = e.Lots()
		_ = e.BizStep()
	})
}

// BenchmarkHash reports the cost of the CBV 2.0 hash per event, with plain
// SHA-256 over the event's JSON encoding as the baseline.
func BenchmarkHash(b *testing.B) {
	doc := decodeJSONFile(b, "testdata/hashgen/epcisDocWithVariousEventTypes.jsonld")
	ctx, _ := ContextOf(doc)
	events, _ := referenceEvents(doc, ctx)
	edge := NewObjectEvent(ObjectEventFields{
		Action: "OBSERVE", Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), BizStep: "sensor_reporting",
		ReadPoint: "urn:epc:id:sgln:4012345.00005.0",
		Sensor: &SensorElement{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), DeviceID: "urn:epc:id:giai:4000001.111",
			Reports: []SensorReport{{Type: "Temperature", Value: 4.2, UOM: "CEL"}, {Type: "RelativeHumidity", Value: 55, UOM: "A93"}}},
		Extensions: map[string]any{"tg:sensor": "site-1/s1", "tg:battery": 97},
	})
	edgeCtx := Context{"tg": Namespace}
	b.Run("reference-examples", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := Hash(events[i%len(events)], ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	})
	b.Run("edge-sensor-event", func(b *testing.B) {
		for b.Loop() {
			if _, err := Hash(edge, edgeCtx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	})
	b.Run("baseline-sha256-of-json", func(b *testing.B) {
		for b.Loop() {
			js, _ := json.Marshal(edge)
			_ = sha256.Sum256(js)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	})
}
