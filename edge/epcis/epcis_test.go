package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func decodeEvent(t testing.TB, s string) Event {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var e Event
	if err := dec.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

const sampleEvent = `{
  "type": "ObjectEvent",
  "eventTime": "2024-03-01T10:15:30.1234+01:00",
  "eventTimeZoneOffset": "+01:00",
  "eventID": "ni:///sha-256;00?ver=CBV2.0",
  "epcList": ["urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/09521234543213/21/77"],
  "action": "ADD",
  "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
  "disposition": "https://ref.gs1.org/cbv/Disp-in_progress",
  "readPoint": {"id": "urn:epc:id:sgln:4012345.00005.0"},
  "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
  "quantityList": [
    {"epcClass": "urn:epc:class:lgtin:4012345.012345.LOT7", "quantity": 12.5, "uom": "KGM"},
    {"epcClass": "https://id.gs1.org/01/04012345123456/10/LOT8"}
  ],
  "ilmd": {"cbvmda:lotNumber": "L42"},
  "tg:reader": "site-1/dock-2"
}`

func TestEventAccessors(t *testing.T) {
	e := decodeEvent(t, sampleEvent)
	if got := e.Type(); got != "ObjectEvent" {
		t.Errorf("Type = %q", got)
	}
	if got := e.Action(); got != "ADD" {
		t.Errorf("Action = %q", got)
	}
	if got := e.ID(); got != "ni:///sha-256;00?ver=CBV2.0" {
		t.Errorf("ID = %q", got)
	}
	tm, err := e.Time()
	if err != nil || !tm.Equal(time.Date(2024, 3, 1, 9, 15, 30, 123400000, time.UTC)) {
		t.Errorf("Time = %v, %v", tm, err)
	}
	if got := e.BizStep(); got != "receiving" {
		t.Errorf("BizStep = %q", got)
	}
	if got := e.Disposition(); got != "in_progress" {
		t.Errorf("Disposition = %q", got)
	}
	if got := e.ReadPoint(); got != "urn:epc:id:sgln:4012345.00005.0" {
		t.Errorf("ReadPoint = %q", got)
	}
	if got := e.BizLocation(); got != "urn:epc:id:sgln:4012345.00001.0" {
		t.Errorf("BizLocation = %q", got)
	}
	if got := e.EPCs(); !slices.Equal(got, []string{"urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/09521234543213/21/77"}) {
		t.Errorf("EPCs = %q", got)
	}
	if got := e.Classes(); len(got) != 2 {
		t.Errorf("Classes = %q", got)
	}
	want := []LotRef{
		{GTIN: "04012345123456", Lot: "LOT7"},
		{GTIN: "04012345123456", Lot: "LOT8"},
		{GTIN: "04012345111118", Lot: "L42"},
		{GTIN: "09521234543213", Lot: "L42"},
		{GTIN: "04012345123456", Lot: "L42"},
	}
	got := e.Lots()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Lots = %v, missing %v", got, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Lots = %v, want %d", got, len(want))
	}
}

func TestCBVShortNames(t *testing.T) {
	for in, want := range map[string]string{
		"shipping":                                 "shipping",
		"urn:epcglobal:cbv:bizstep:shipping":       "shipping",
		"https://ref.gs1.org/cbv/BizStep-shipping": "shipping",
		"cbv:BizStep-shipping":                     "shipping",
		"https://example.com/steps/custom":         "https://example.com/steps/custom",
		"urn:epcglobal:cbv:bizstep:notacbvword":    "urn:epcglobal:cbv:bizstep:notacbvword",
	} {
		if got := (Event{"bizStep": in}).BizStep(); got != want {
			t.Errorf("BizStep(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (Event{"disposition": "urn:epcglobal:cbv:disp:in_transit"}).Disposition(); got != "in_transit" {
		t.Errorf("Disposition = %q", got)
	}
}

func TestEventIDRoundTrip(t *testing.T) {
	var h [32]byte
	for i := range h {
		h[i] = byte(i * 7)
	}
	id := EventID(h)
	if !strings.HasPrefix(id, "ni:///sha-256;") || !strings.HasSuffix(id, "?ver=CBV2.0") || strings.ToLower(id[14:78]) != id[14:78] {
		t.Fatalf("EventID = %q", id)
	}
	hexOnly := strings.TrimSuffix(strings.TrimPrefix(id, "ni:///sha-256;"), "?ver=CBV2.0")
	for _, in := range []string{id, hexOnly, strings.ToUpper(hexOnly)} {
		got, err := ParseEventID(in)
		if err != nil || got != h {
			t.Errorf("ParseEventID(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ni:///sha-256;abc?ver=CBV2.0", hexOnly[:63] + "g", "ni:///sha-512;" + hexOnly + "?ver=CBV2.0", hexOnly + "00", "ni:///sha-256;" + hexOnly + "?ver=CBV1.0"} {
		_, err := ParseEventID(bad)
		var ie *EventIDError
		if !errors.As(err, &ie) {
			t.Errorf("ParseEventID(%q) error %v, want *EventIDError", bad, err)
		}
	}
}

func TestContextOf(t *testing.T) {
	doc := map[string]any{"@context": []any{
		StandardContextIRI,
		map[string]any{"ex": "https://ex.example/ns/", "term": map[string]any{"@id": "https://ex.example/term", "@type": "@id"}, "@version": json.Number("1.1")},
		map[string]any{"tg": Namespace},
	}}
	ctx, err := ContextOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := Context{"ex": "https://ex.example/ns/", "term": "https://ex.example/term", "tg": Namespace}
	if len(ctx) != len(want) {
		t.Fatalf("ContextOf = %v", ctx)
	}
	for k, v := range want {
		if ctx[k] != v {
			t.Errorf("ContextOf[%q] = %q, want %q", k, ctx[k], v)
		}
	}
	var ce *ContextError
	if _, err := ContextOf(map[string]any{"@context": json.Number("3")}); !errors.As(err, &ce) {
		t.Errorf("numeric @context: %v", err)
	}
}

func TestHashIsByteExactForKnownEvent(t *testing.T) {
	// The first event of the reference's ReferenceEventHashAlgorithm.jsonld,
	// hashed on its own with the document's prefixes.
	doc := decodeJSONFile(t, "testdata/hashgen/ReferenceEventHashAlgorithm.jsonld")
	ctx, _ := ContextOf(doc)
	events, _ := referenceEvents(doc, ctx)
	h, err := Hash(events[0], ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := readLines(t, "testdata/hashgen/ReferenceEventHashAlgorithm.hashes")[0]
	if EventID(h) != want {
		t.Errorf("Hash = %s, want %s", EventID(h), want)
	}
}

func TestStandalone(t *testing.T) {
	e := decodeEvent(t, sampleEvent)
	ctx := Context{"tg": Namespace, "unused": "https://unused.example/"}
	h, err := Hash(e, ctx)
	if err != nil {
		t.Fatal(err)
	}
	alone := e.Standalone(ctx)
	if _, had := e["@context"]; had {
		t.Fatal("Standalone changed its receiver")
	}
	got, err := ContextOf(alone)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["tg"] != Namespace {
		t.Errorf("standalone prefixes = %v, want only tg", got)
	}
	if first := alone["@context"].([]any)[0]; first != StandardContextIRI {
		t.Errorf("standalone @context starts with %v", first)
	}
	h2, err := Hash(alone, nil)
	if err != nil || h2 != h {
		t.Errorf("Hash(standalone) = %x %v, want %x", h2, err, h)
	}
	// Without the prefix the extension key is hashed differently.
	if h3, _ := Hash(e, nil); h3 == h {
		t.Error("prefix tg made no difference to the hash")
	}
	// A standalone event's own @context is kept but ctx wins.
	h4, err := Hash(alone, Context{"tg": "https://other.example/"})
	if err != nil || h4 == h {
		t.Errorf("ctx did not override the event's own @context: %v", err)
	}
}

func TestHashGoValuesLikeJSON(t *testing.T) {
	goEvent := Event{
		"type":                "ObjectEvent",
		"eventTime":           "2024-01-01T00:00:00Z",
		"eventTimeZoneOffset": "+00:00",
		"action":              "OBSERVE",
		"epcList":             []string{"urn:epc:id:sscc:4012345.0000000111"},
		"tg:count":            3,
		"tg:rssi":             -52.5,
		"tg:ok":               true,
		"tg:list":             []int{1, 2},
		"tg:obj":              map[string]string{"tg:a": "b"},
	}
	b, err := json.Marshal(goEvent)
	if err != nil {
		t.Fatal(err)
	}
	back := decodeEvent(t, string(b))
	ctx := Context{"tg": Namespace}
	h1, err1 := Hash(goEvent, ctx)
	h2, err2 := Hash(back, ctx)
	if err1 != nil || err2 != nil || h1 != h2 {
		t.Errorf("Go values hash %x (%v), JSON %x (%v)", h1, err1, h2, err2)
	}
}

func TestHashRejectsWithoutPanic(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for i := 0; i < 2000; i++ {
		next := map[string]any{}
		cur["x:y"] = next
		cur = next
	}
	cyclic := map[string]any{"type": "ObjectEvent"}
	cyclic["self"] = cyclic
	for name, e := range map[string]Event{
		"nil":     nil,
		"no type": {"eventTime": "2024-01-01T00:00:00Z"},
		"NaN":     {"type": "ObjectEvent", "v": math.NaN()},
		"deep":    {"type": "ObjectEvent", "d": deep},
		"cyclic":  cyclic,
		"chan":    {"type": "ObjectEvent", "c": make(chan int)},
	} {
		var he *HashError
		if _, err := Hash(e, nil); !errors.As(err, &he) {
			t.Errorf("%s: error %v, want *HashError", name, err)
		}
	}
}

func TestCanonicalValues(t *testing.T) {
	for in, want := range map[string]string{
		"0042": "42", "+1.50": "1.5", "1e-5": "1e-05", "1E2": "100", "1_000": "1000", "-0": "0", ".5": "0.5", "5.": "5",
		"12345678901234567890": "12345678901234567168", "0.0001": "0.0001", "123.456": "123.456", "nan": "nan", "inf": "inf",
		"1__0": "1__0", "_1": "_1", "0x10": "0x10", "abc": "abc", "": "", "1e400": "1e400", "3.14159265358979": "3.14159265358979",
		"urn:epcglobal:cbv:bizstep:receiving":                      "https://ref.gs1.org/cbv/BizStep-receiving",
		"urn:epc:id:sgtin:4012345.011111.9876":                     "https://id.gs1.org/01/04012345111118/21/9876",
		"urn:epc:id:sgln:4012345.00005.0":                          "https://id.gs1.org/414/4012345000054",
		"https://example.com/gtin/9521234543213/lot/A1/ser/77?x=1": "https://id.gs1.org/01/09521234543213/21/77",
	} {
		if got := canonValue(in); got != want {
			t.Errorf("canonValue(%q) = %q, want %q", in, got, want)
		}
	}
	for f, want := range map[float64]string{26: "26.0", 12.1: "12.1", 1e-5: "1e-05", 1e16: "1e+16", 123456789012345.6: "123456789012345.6", -0.5: "-0.5", 1e22: "1e+22", 5e-324: "5e-324"} {
		if got := pyFloatRepr(f); got != want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestCanonicalTime(t *testing.T) {
	for in, want := range map[string]string{
		"2023-02-02T11:04:03.1415Z":        "2023-02-02T11:04:03.142Z", // half to even: 141.5 → 142
		"2023-02-02T11:04:03.1425Z":        "2023-02-02T11:04:03.142Z", // 142.5 → 142
		"2023-02-02T11:04:03.1414999Z":     "2023-02-02T11:04:03.141Z", // beyond µs is cut, not rounded
		"2005-04-04T20:33:31.116-06:00":    "2005-04-05T02:33:31.116Z",
		"2022-02-15T01:33:31.116000-06:00": "2022-02-15T07:33:31.116Z",
		"2020-03-04T11:00:30+0100":         "2020-03-04T10:00:30.000Z",
		"2020-03-04T11:00:30":              "2020-03-04T11:00:30.000Z",
		"2023-12-31T23:59:59.9996Z":        "2024-01-01T00:00:00.000Z",
		"2023-02-30T00:00:00Z":             "2023-02-30T00:00:00Z",
		"2023-01-01T00:00:60Z":             "2023-01-01T00:00:60Z",
		"yesterday":                        "yesterday",
	} {
		if got := canonTime(in); got != want {
			t.Errorf("canonTime(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDocumentForms(t *testing.T) {
	ev := `{"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00.000Z","eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sscc:4012345.0000000111"],"action":"OBSERVE","bizStep":"urn:epcglobal:cbv:bizstep:receiving"}`
	docJSON := `{"@context":["` + StandardContextIRI + `",{"tg":"` + Namespace + `"}],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[` + ev + `]}}`
	for _, tc := range []struct {
		name string
		in   string
		form Form
		n    int
	}{
		{"document", docJSON, FormDocument, 1},
		{"event", ev, FormEvent, 1},
		{"array", "[" + ev + "," + ev + "]", FormEventArray, 2},
	} {
		d, err := ParseDocument([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if d.Form != tc.form || len(d.Events) != tc.n || d.Type != "EPCISDocument" {
			t.Errorf("%s: form %v, %d events, type %q", tc.name, d.Form, len(d.Events), d.Type)
		}
		if got := d.Events[0].str("bizStep"); got != "urn:epcglobal:cbv:bizstep:receiving" {
			t.Errorf("%s: bizStep kept as %q", tc.name, got)
		}
		if _, err := Hash(d.Events[0], d.Context); err != nil {
			t.Errorf("%s: Hash: %v", tc.name, err)
		}
	}
	d, _ := ParseDocument([]byte(docJSON))
	if d.Context["tg"] != Namespace {
		t.Errorf("document context = %v", d.Context)
	}
}

func TestParseDocumentProblems(t *testing.T) {
	bad := `{"@context":"` + StandardContextIRI + `","type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[
	  {"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":[],"action":"OBSERVE"},
	  {"type":"ObjectEvent","eventTime":"not a time","eventTimeZoneOffset":"+00:00","epcList":[],"action":"LOOK"}]}}`
	_, err := ParseDocument([]byte(bad))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want *ValidationError", err)
	}
	var sawTime, sawAction bool
	for _, p := range ve.Problems {
		if p.Event != 1 {
			t.Errorf("problem in event %d: %+v", p.Event, p)
		}
		sawTime = sawTime || p.Pointer == "/epcisBody/eventList/1/eventTime"
		sawAction = sawAction || p.Pointer == "/epcisBody/eventList/1/action"
	}
	if !sawTime || !sawAction {
		t.Errorf("problems %+v lack eventTime or action", ve.Problems)
	}
	for name, in := range map[string]string{
		"syntax":        `{"type":`,
		"trailing":      `{"type":"ObjectEvent"} {}`,
		"scalar":        `42`,
		"array of junk": `[1]`,
	} {
		if _, err := ParseDocument([]byte(in)); !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want *ValidationError", name, err)
		}
	}
}

func TestParseDocumentLimits(t *testing.T) {
	ev := `{"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":[],"action":"OBSERVE"}`
	var le *LimitError
	if _, err := (Limits{MaxEvents: 2}).ParseDocument([]byte("[" + ev + "," + ev + "," + ev + "]")); !errors.As(err, &le) || le.What != "events" {
		t.Errorf("events: %v", err)
	}
	if _, err := (Limits{MaxBytes: 10}).ParseDocument([]byte(ev)); !errors.As(err, &le) || le.What != "bytes" {
		t.Errorf("bytes: %v", err)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := ParseDocument([]byte(deep)); !errors.As(err, &le) || le.What != "depth" {
		t.Errorf("depth: %v", err)
	}
	if _, err := ParseDocument([]byte(`{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}`)); errors.As(err, &le) {
		t.Errorf("brackets inside a string counted as depth: %v", err)
	}
}

func TestMarshalDocumentRoundTrip(t *testing.T) {
	e := NewObjectEvent(ObjectEventFields{
		Action: "OBSERVE", EPCs: []string{"urn:epc:id:sgtin:4012345.011111.9876"},
		Time: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("", 3600)), BizStep: "receiving",
		ReadPoint: "urn:epc:id:sgln:4012345.00005.0", Extensions: map[string]any{"tg:reader": "r1", "tg:count": 3},
	})
	ctx := Context{"tg": Namespace}
	b, err := MarshalDocument([]Event{e}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	h1, _ := Hash(e, ctx)
	h2, err := Hash(d.Events[0], d.Context)
	if err != nil || h1 != h2 {
		t.Errorf("hash before %x, after %x (%v)", h1, h2, err)
	}
	var raw map[string]any
	json.Unmarshal(b, &raw)
	if raw["schemaVersion"] != "2.0" || raw["creationDate"] == nil {
		t.Errorf("document header %v", raw)
	}
}

func TestNewObjectEvent(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123600000, time.FixedZone("", -5*3600))
	sensor := NewObjectEvent(ObjectEventFields{
		Action: "OBSERVE", Time: at, BizStep: "sensor_reporting", ReadPoint: "urn:epc:id:sgln:4012345.00005.0",
		Sensor: &SensorElement{Time: at, DeviceID: "urn:epc:id:giai:4000001.111", Reports: []SensorReport{
			{Type: "gs1:Temperature", Value: 4.2, UOM: "CEL"},
			{Type: "https://gs1.org/voc/RelativeHumidity", Value: 55, UOM: "A93", Exception: "gs1:ALARM_CONDITION"},
			{Type: "tg:Battery", Value: 97, UOM: "P1"},
		}},
		Extensions: map[string]any{"tg:sensor": "site/s1"},
	})
	if _, has := sensor["epcList"]; has {
		t.Error("sensor-only event has an epcList")
	}
	if sensor["eventTime"] != "2024-05-06T12:08:09.124Z" || sensor["eventTimeZoneOffset"] != "-05:00" {
		t.Errorf("time fields %v %v", sensor["eventTime"], sensor["eventTimeZoneOffset"])
	}
	reps := sensor["sensorElementList"].([]any)[0].(map[string]any)["sensorReport"].([]any)
	if ty := reps[0].(map[string]any)["type"]; ty != "Temperature" {
		t.Errorf("report type %v", ty)
	}
	if v := reps[0].(map[string]any)["value"]; v != json.Number("4.2") {
		t.Errorf("report value %#v", v)
	}
	if ex := reps[1].(map[string]any)["exception"]; ex != "ALARM_CONDITION" {
		t.Errorf("exception %v", ex)
	}
	if err := ValidateEvent(sensor); err != nil {
		t.Errorf("sensor event invalid: %v", err)
	}
	pre, err := PreHash(sensor, Context{"tg": Namespace})
	if err != nil || !strings.Contains(pre, "sensorReporttype=https://gs1.org/voc/Temperaturevalue=4.2uom=CEL") {
		t.Errorf("pre-hash %s (%v)", pre, err)
	}
	plain := NewObjectEvent(ObjectEventFields{Action: "ADD", Time: at})
	if l, ok := plain["epcList"].([]any); !ok || len(l) != 0 {
		t.Errorf("event without EPCs: epcList %v", plain["epcList"])
	}
	if err := ValidateEvent(plain); err != nil {
		t.Errorf("plain event invalid: %v", err)
	}
	// Stored form: JSON round trip keeps the hash.
	ctx := Context{"tg": Namespace}
	h1, _ := Hash(sensor.Standalone(ctx), nil)
	b, _ := json.Marshal(sensor.Standalone(ctx))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var back Event
	dec.Decode(&back)
	if h2, _ := Hash(back, nil); h1 != h2 {
		t.Error("hash changed through JSON")
	}
}

func TestValidateEvent(t *testing.T) {
	good := decodeEvent(t, sampleEvent)
	if err := ValidateEvent(good); err != nil {
		t.Errorf("sample event: %v", err)
	}
	bad := decodeEvent(t, sampleEvent)
	bad["action"] = "LOOK"
	delete(bad, "eventTimeZoneOffset")
	var ve *ValidationError
	if err := ValidateEvent(bad); !errors.As(err, &ve) || len(ve.Problems) < 2 {
		t.Errorf("bad event: %v", err)
	}
}
