package decode

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
)

// impinjRead is the Impinj IoT device interface tagInventory event of the
// STANDARDS.md example (R700), with every field the reader can add.
const impinjRead = `{"timestamp":"2026-11-25T10:00:00.123456789Z","hostname":"impinj-14-15-e5","eventType":"tagInventory","tagInventoryEvent":{"epc":"MDQle/cZTkAAABqF","epcHex":"3034257BF7194E4000001A85","tidHex":"E2801160600002054E5B1A2C","antennaPort":1,"antennaName":"Dock 1 left","peakRssiCdbm":-5250,"frequency":920250,"transmitPowerCdbm":3000,"lastSeenTime":"2026-11-25T10:00:00.123456Z","phaseAngle":31.25}}`

// zebraRead is a Zebra FX IoT Connector data event (FX9600).
const zebraRead = `{"data":{"eventNum":123,"format":"epc","idHex":"3034257bf7194e4000001a85","antenna":1,"peakRssi":-52,"channel":915.25,"reads":3},"timestamp":"2026-11-25T10:00:00.123+0000","type":"SIMPLE"}`

const wantURI = "urn:epc:id:sgtin:0614141.812345.6789"

func TestVendorRFIDFormats(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindRFID, Device: "r"}
	type want struct {
		reads   []string // formats of the reads, in order
		status  []string // vendor/type of status messages
		rejects []string // reasons
		err     string   // message-level reason
	}
	imp := func(ev string) string {
		return `{"timestamp":"2026-11-25T10:00:00Z","hostname":"h","eventType":"tagInventory","tagInventoryEvent":` + ev + `}`
	}
	zeb := func(d string) string {
		return `{"data":` + d + `,"timestamp":"2026-11-25T10:00:00.123+0000","type":"SIMPLE"}`
	}
	cases := []struct {
		name, payload string
		want          want
	}{
		{"impinj full", impinjRead, want{reads: []string{FormatImpinj}}},
		{"impinj array of two", "[" + impinjRead + "," + impinjRead + "]", want{reads: []string{FormatImpinj, FormatImpinj}}},
		{"impinj base64 epc only", imp(`{"epc":"MDQle/cZTkAAABqF","antennaPort":2}`), want{reads: []string{FormatImpinj}}},
		{"impinj no epc", imp(`{"tidHex":"E280","antennaPort":1}`), want{rejects: []string{ReasonEPC}}},
		{"impinj epcHex not an EPC", imp(`{"epcHex":"E28011606000020528F904FA"}`), want{rejects: []string{ReasonEPC}}},
		{"impinj epcHex number", imp(`{"epcHex":3034}`), want{rejects: []string{ReasonEPC}}},
		{"impinj epc not base64", imp(`{"epc":"***"}`), want{rejects: []string{ReasonEPC}}},
		{"impinj tagInventoryEvent not object", imp(`"3034257BF7194E4000001A85"`), want{rejects: []string{ReasonEPC}}},
		{"impinj tagInventory without event", `{"timestamp":"2026-11-25T10:00:00Z","eventType":"tagInventory"}`, want{rejects: []string{ReasonEPC}}},
		{"impinj rssi as string", imp(`{"epcHex":"3034257BF7194E4000001A85","peakRssiCdbm":"-5250"}`), want{rejects: []string{ReasonValue}}},
		{"impinj rssi out of range", imp(`{"epcHex":"3034257BF7194E4000001A85","peakRssiCdbm":-52}`), want{reads: []string{FormatImpinj}}}, // -0.52 dBm is in range
		{"impinj rssi in dBm by mistake", imp(`{"epcHex":"3034257BF7194E4000001A85","peakRssiCdbm":9000}`), want{rejects: []string{ReasonValue}}},
		{"impinj antenna fraction", imp(`{"epcHex":"3034257BF7194E4000001A85","antennaPort":1.5}`), want{rejects: []string{ReasonValue}}},
		{"impinj bad lastSeenTime", imp(`{"epcHex":"3034257BF7194E4000001A85","lastSeenTime":"yesterday"}`), want{rejects: []string{ReasonTime}}},
		{"impinj eventType number", `{"eventType":7}`, want{rejects: []string{ReasonValue}}},
		{"impinj tag data without eventType", `{"tagInventoryEvent":{"epcHex":"3034257BF7194E4000001A85"}}`, want{rejects: []string{ReasonValue}}},
		{"impinj status type with tag data", `{"eventType":"inventoryStatus","tagInventoryEvent":{"epcHex":"3034257BF7194E4000001A85"}}`, want{rejects: []string{ReasonValue}}},
		{"impinj inventoryStatus", `{"timestamp":"2026-11-25T10:00:00Z","hostname":"h","eventType":"inventoryStatus","inventoryStatusEvent":{"inventoryStatus":"running"}}`, want{status: []string{"impinj/inventoryStatus"}}},
		{"impinj diagnostic", `{"timestamp":"2026-11-25T10:00:00Z","eventType":"diagnostic","diagnosticEvent":{"code":1}}`, want{status: []string{"impinj/diagnostic"}}},
		{"impinj unknown type", `{"timestamp":"2026-11-25T10:00:00Z","eventType":"somethingNew"}`, want{status: []string{"impinj/unknown"}}},
		{"impinj status and reads", `[{"eventType":"antennaConnected","antennaConnectedEvent":{"antennaPort":1}},` + impinjRead + `,{"eventType":"inventoryTerminate"}]`,
			want{reads: []string{FormatImpinj}, status: []string{"impinj/antennaConnected", "impinj/inventoryTerminate"}}},

		{"zebra", zebraRead, want{reads: []string{FormatZebraFX}}},
		{"zebra array", "[" + zebraRead + "," + zeb(`{"eventNum":124,"format":"epc","idHex":"3174257BF4499602D2000000"}`) + "]", want{reads: []string{FormatZebraFX, FormatZebraFX}}},
		{"zebra rfc3339 time", `{"data":{"eventNum":1,"format":"epc","idHex":"3034257BF7194E4000001A85"},"timestamp":"2026-11-25T10:00:00.123Z","type":"SIMPLE"}`, want{reads: []string{FormatZebraFX}}},
		{"zebra tid", zeb(`{"eventNum":5,"format":"tid","idHex":"E2801160600002054E5B1A2C"}`), want{rejects: []string{ReasonFormat}}},
		{"zebra user", zeb(`{"eventNum":5,"format":"user","idHex":"00"}`), want{rejects: []string{ReasonFormat}}},
		{"zebra format number", zeb(`{"format":1,"idHex":"3034257BF7194E4000001A85"}`), want{rejects: []string{ReasonValue}}},
		{"zebra no idHex", zeb(`{"eventNum":5,"format":"epc"}`), want{rejects: []string{ReasonEPC}}},
		{"zebra idHex number", zeb(`{"format":"epc","idHex":3034}`), want{rejects: []string{ReasonEPC}}},
		{"zebra data not object", `{"data":"3034257BF7194E4000001A85","timestamp":"2026-11-25T10:00:00Z"}`, want{rejects: []string{ReasonValue}}},
		{"zebra eventNum string", zeb(`{"eventNum":"5","format":"epc","idHex":"3034257BF7194E4000001A85"}`), want{rejects: []string{ReasonValue}}},
		{"zebra eventNum negative", zeb(`{"eventNum":-5,"format":"epc","idHex":"3034257BF7194E4000001A85"}`), want{rejects: []string{ReasonValue}}},
		{"zebra time without zone", `{"data":{"format":"epc","idHex":"3034257BF7194E4000001A85"},"timestamp":"2026-11-25T10:00:00.123"}`, want{rejects: []string{ReasonTime}}},
		{"zebra handheld dataEVT", `{"data":{"tagData":[{"eventNum":1,"epc":"3034257BF7194E4000001A85"}]},"timestamp":"2026-11-25T10:00:00.123+0000","type":"dataEVT"}`, want{rejects: []string{ReasonFormat}}},

		{"mixed array", `[` + impinjRead + `,` + zebraRead + `,{"epc":"3034257BF7194E4000001A85","ts":"2026-11-25T10:00:00Z"},{"eventType":"inventoryStatus"},` + zeb(`{"format":"tid","idHex":"E280"}`) + `,42]`,
			want{reads: []string{FormatImpinj, FormatZebraFX, FormatDefault}, status: []string{"impinj/inventoryStatus"}, rejects: []string{ReasonFormat, ReasonJSON}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Decode(tp, []byte(c.payload), recv, Limits{})
			if c.want.err != "" {
				var de *Error
				if !errors.As(err, &de) || de.Reason != c.want.err {
					t.Fatalf("error %v, want reason %s", err, c.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var reads, status, rejects []string
			for _, r := range res.Reads {
				reads = append(reads, r.Format)
				if r.EPC == "" || !r.DeviceClock {
					t.Errorf("read %+v: want an EPC and the device time", r)
				}
			}
			for _, s := range res.Status {
				status = append(status, s.Vendor+"/"+s.Type)
			}
			for _, r := range res.Rejects {
				rejects = append(rejects, r.Reason)
				if r.Msg == "" {
					t.Error("reject without a message")
				}
			}
			for name, p := range map[string][2][]string{"reads": {reads, c.want.reads}, "status": {status, c.want.status}, "rejects": {rejects, c.want.rejects}} {
				if strings.Join(p[0], ",") != strings.Join(p[1], ",") {
					t.Errorf("%s %q, want %q", name, p[0], p[1])
				}
			}
		})
	}
}

func TestImpinjFields(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindRFID, Device: "r"}
	res, err := Decode(tp, []byte(impinjRead), recv, Limits{})
	if err != nil || len(res.Reads) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	r := res.Reads[0]
	if r.EPC != "urn:epc:id:sgtin:0614141.812345.6789" || r.Antenna != 1 || r.RSSI == nil || *r.RSSI != -52.5 ||
		r.Format != FormatImpinj || r.EventNum != nil || r.Index != -1 {
		t.Errorf("read %+v", r)
	}
	// lastSeenTime wins over the envelope timestamp.
	if want := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC); !r.Time.Equal(want) {
		t.Errorf("time %s, want lastSeenTime %s", r.Time, want)
	}
	// Without lastSeenTime, the envelope timestamp.
	res, _ = Decode(tp, []byte(`{"timestamp":"2026-11-25T10:00:00.5+01:00","eventType":"tagInventory","tagInventoryEvent":{"epc":"MDQle/cZTkAAABqF"}}`), recv, Limits{})
	if len(res.Reads) != 1 || !res.Reads[0].Time.Equal(time.Date(2026, 11, 25, 9, 0, 0, 5e8, time.UTC)) || res.Reads[0].EPC != wantURI || res.Reads[0].RSSI != nil {
		t.Errorf("read from base64 epc and timestamp: %+v", res)
	}
	// The base64 and hex forms name the same tag.
	b, _ := hex.DecodeString("3034257BF7194E4000001A85")
	if base64.StdEncoding.EncodeToString(b) != "MDQle/cZTkAAABqF" {
		t.Fatal("test payload's base64 epc does not match its epcHex")
	}
	// Neither timestamp: the edge's receive time, untimed.
	res, _ = Decode(tp, []byte(`{"eventType":"tagInventory","tagInventoryEvent":{"epcHex":"3034257BF7194E4000001A85"}}`), recv, Limits{})
	if len(res.Reads) != 1 || res.Reads[0].DeviceClock || res.Timed() {
		t.Errorf("read without device time: %+v", res)
	}
}

func TestZebraFields(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindRFID, Device: "r"}
	res, err := Decode(tp, []byte("["+zebraRead+"]"), recv, Limits{})
	if err != nil || len(res.Reads) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	r := res.Reads[0]
	if r.EPC != wantURI || r.Antenna != 1 || r.RSSI == nil || *r.RSSI != -52 || r.Format != FormatZebraFX ||
		r.EventNum == nil || *r.EventNum != 123 || r.Index != 0 {
		t.Errorf("read %+v", r)
	}
	if want := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC); !r.Time.Equal(want) {
		t.Errorf("time %s, want %s", r.Time, want)
	}
	for in, want := range map[string]time.Time{
		"2026-11-25T11:00:00.123+0100": time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC),
		"2026-11-25T10:00:00-0130":     time.Date(2026, 11, 25, 11, 30, 0, 0, time.UTC),
		"2026-11-25T10:00:00Z":         time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
	} {
		got, dev, err := ParseTime(in, recv, Limits{})
		if err != nil || !dev || !got.Equal(want) {
			t.Errorf("ParseTime(%s) = %s, %v, %v; want %s", in, got, dev, err, want)
		}
	}
}

func TestSensorUnits(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindSensor, Device: "s"}
	cases := []struct {
		payload string
		temp    float64 // °C
		unit    string  // SourceUnit
		reason  string  // reject reason
	}{
		{`{"temperature":4.2}`, 4.2, "", ""},
		{`{"temperature":4.2,"unit":"C"}`, 4.2, "", ""},
		{`{"temperature":4.2,"unit":"°C"}`, 4.2, "", ""},
		{`{"temperature":4.2,"temperatureUnit":"CEL"}`, 4.2, "", ""},
		{`{"temperature":4.2,"unit":"cel"}`, 4.2, "", ""},
		{`{"temperature":39.2,"unit":"F"}`, 4, "FAH", ""},
		{`{"temperature":39.56,"unit":"°F"}`, 4.2, "FAH", ""},
		{`{"temperature":-40,"temperatureUnit":"FAH"}`, -40, "FAH", ""},
		{`{"temperature":46.4,"unit":"℉"}`, 8, "FAH", ""},
		{`{"temperature":277.35,"unit":"K"}`, 4.2, "KEL", ""},
		{`{"temperature":253.15,"unit":"KEL"}`, -20, "KEL", ""},
		{`{"temperature":35.6,"unit":"F","temperatureUnit":"FAH"}`, 2, "FAH", ""},
		// Never guessed from the value: 39.2 without a unit is 39.2 °C.
		{`{"temperature":39.2}`, 39.2, "", ""},
		{`{"temperature":4.2,"unit":"R"}`, 0, "", ReasonUnit},
		{`{"temperature":4.2,"unit":""}`, 0, "", ReasonUnit},
		{`{"temperature":4.2,"unit":5}`, 0, "", ReasonUnit},
		{`{"temperature":4.2,"unit":"C","temperatureUnit":"F"}`, 0, "", ReasonUnit},
		{`{"humidity":50,"unit":"Rankine"}`, 0, "", ReasonUnit},
		{`{"temperature":999}`, 0, "", ReasonImplausible},
		{`{"temperature":-100.01}`, 0, "", ReasonImplausible},
		{`{"temperature":100.5,"unit":"C"}`, 0, "", ReasonImplausible},
		{`{"temperature":250,"unit":"F"}`, 0, "", ReasonImplausible}, // 121.11 °C
		{`{"temperature":4.2,"unit":"K"}`, 0, "", ReasonImplausible}, // -268.95 °C: a Celsius value sent as K
		{`{"temperature":150}`, 0, "", ReasonImplausible},
		{`{"temperature":5,"humidity":-1}`, 0, "", ReasonImplausible},
		{`{"temperature":5,"battery":101}`, 0, "", ReasonImplausible},
		{`{"temperature":1e308,"unit":"F"}`, 0, "", ReasonImplausible},
		{`{"temperature":"4","unit":"F"}`, 0, "", ReasonValue},
	}
	for _, c := range cases {
		res, err := Decode(tp, []byte(c.payload), recv, Limits{})
		if err != nil {
			t.Errorf("%s: %v", c.payload, err)
			continue
		}
		if c.reason != "" {
			if len(res.Rejects) != 1 || res.Rejects[0].Reason != c.reason || len(res.Samples) != 0 {
				t.Errorf("%s: %+v, want one %s reject", c.payload, res, c.reason)
			}
			continue
		}
		if len(res.Samples) != 1 {
			t.Errorf("%s: %+v", c.payload, res)
			continue
		}
		s := res.Samples[0]
		if s.Temperature != nil && (*s.Temperature != c.temp || s.SourceUnit != c.unit) {
			t.Errorf("%s: %v °C from %q, want %v °C from %q", c.payload, *s.Temperature, s.SourceUnit, c.temp, c.unit)
		}
		if c.unit != "" && s.SourceTemperature == nil {
			t.Errorf("%s: source temperature %v not kept", c.payload, s.SourceTemperature)
		}
	}
}

// TestParseEPCPublishedExamples decodes the worked examples of the GS1 EPC
// Tag Data Standard (TDS 2.x, Appendix E.3 "Summary examples of all EPC
// schemes": SGTIN-96, SSCC-96, SGLN-96 and GIAI-96 for company prefix
// 0614141) to their pure-identity URIs and back: the same examples are in
// edge/epc/testdata/tds-vectors.json with their sources.
func TestParseEPCPublishedExamples(t *testing.T) {
	for _, c := range []struct{ hex, uri string }{
		{"3074257BF7194E4000001A85", "urn:epc:id:sgtin:0614141.812345.6789"},      // TDS E.3, SGTIN-96
		{"3174257BF4499602D2000000", "urn:epc:id:sscc:0614141.1234567890"},        // TDS E.3, SSCC-96
		{"3274257BF46072000000162E", "urn:epc:id:sgln:0614141.12345.5678"},        // TDS E.3, SGLN-96
		{"3474257BF40000000000162E", "urn:epc:id:giai:0614141.5678"},              // TDS E.3, GIAI-96
		{"3066C4409047E140075BCD15", "urn:epc:id:sgtin:95060001343.05.123456789"}, // TDS 2.3 Table 506
	} {
		got, err := ParseEPC(c.hex)
		if err != nil || got != c.uri {
			t.Errorf("ParseEPC(%s) = %s, %v; want %s", c.hex, got, err, c.uri)
			continue
		}
		if low, err := ParseEPC("0x" + strings.ToLower(c.hex)); err != nil || low != c.uri {
			t.Errorf("ParseEPC(0x%s) = %s, %v", strings.ToLower(c.hex), low, err)
		}
		e, err := epc.ParseURI(c.uri)
		if err != nil {
			t.Fatal(err)
		}
		filter := int(mustHexByte(t, c.hex[2:4]) >> 5)
		if h, err := e.EncodeHex96(filter); err != nil || h != c.hex {
			t.Errorf("EncodeHex96(%s, %d) = %s, %v; want %s", c.uri, filter, h, err, c.hex)
		}
		if u, err := ParseEPC(c.uri); err != nil || u != c.uri {
			t.Errorf("ParseEPC(%s) = %s, %v", c.uri, u, err)
		}
	}
}

func mustHexByte(t *testing.T, s string) byte {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 1 {
		t.Fatalf("bad hex byte %q", s)
	}
	return b[0]
}

func FuzzDecodeRFIDFormats(f *testing.F) {
	for _, s := range []string{impinjRead, zebraRead, "[" + impinjRead + "," + zebraRead + "]",
		`{"eventType":"inventoryStatus"}`, `{"eventType":"tagInventory","tagInventoryEvent":{"epc":"MDQle/cZTkAAABqF"}}`,
		`{"data":{"tagData":[{"eventNum":1}]},"type":"dataEVT"}`, `{"data":{"format":"tid","idHex":"E2"}}`,
		`{"epc":"3074257BF7194E4000001A85","ts":"2026-11-25T11:59:00.1+0100","antenna":2,"rssi":-52.5}`} {
		f.Add([]byte(s))
	}
	tp := Topic{Site: "s", Kind: KindRFID, Device: "d"}
	f.Fuzz(func(t *testing.T, payload []byte) {
		res, err := Decode(tp, payload, recv, Limits{})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		n := len(res.Reads) + len(res.Status) + len(res.Rejects)
		if n == 0 {
			t.Fatal("a message became nothing: no read, status or reject")
		}
		for _, r := range res.Reads {
			if _, err := epc.ParseURI(r.EPC); err != nil && !strings.HasPrefix(r.EPC, "https://") {
				t.Fatalf("read EPC %q does not parse back: %v", r.EPC, err)
			}
			if r.RSSI != nil && (*r.RSSI < -150 || *r.RSSI > 20 || math.IsNaN(*r.RSSI)) {
				t.Fatalf("rssi %v", *r.RSSI)
			}
			if r.Antenna < 0 || r.Antenna > 64 {
				t.Fatalf("antenna %d", r.Antenna)
			}
		}
		for _, s := range res.Status {
			if s.Vendor == "" || s.Type == "" || (s.Type != "unknown" && !impinjStatusTypes[s.Type]) {
				t.Fatalf("status %+v: unbounded metric label", s)
			}
		}
		for _, r := range res.Rejects {
			if r.Reason == "" || r.Msg == "" {
				t.Fatalf("reject %+v", r)
			}
		}
	})
}

func FuzzDecodeSensor(f *testing.F) {
	for _, s := range []string{`{"ts":"2026-11-25T11:00:00Z","temperature":4.2,"humidity":55,"battery":97}`,
		`{"temperature":39.2,"unit":"F"}`, `{"temperature":277.35,"temperatureUnit":"KEL"}`, `[{"temperature":1,"unit":"℃"},{"humidity":3}]`} {
		f.Add([]byte(s))
	}
	tp := Topic{Site: "s", Kind: KindSensor, Device: "d"}
	f.Fuzz(func(t *testing.T, payload []byte) {
		res, err := Decode(tp, payload, recv, Limits{})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if len(res.Samples)+len(res.Rejects) == 0 {
			t.Fatal("a message became nothing")
		}
		for _, s := range res.Samples {
			if s.Temperature != nil && (*s.Temperature < MinCelsius || *s.Temperature > MaxCelsius || math.IsNaN(*s.Temperature)) {
				t.Fatalf("implausible temperature %v passed", *s.Temperature)
			}
			if s.Humidity != nil && (*s.Humidity < 0 || *s.Humidity > 100) {
				t.Fatalf("humidity %v passed", *s.Humidity)
			}
			if (s.SourceUnit == "") != (s.SourceTemperature == nil) {
				t.Fatalf("source unit %q without its value (or the reverse)", s.SourceUnit)
			}
		}
	})
}

// FuzzParseEPC: any input either fails or yields a URI that parses back,
// and a 96-bit hex input re-encodes to itself (decode → encode).
func FuzzParseEPC(f *testing.F) {
	for _, s := range []string{"3074257BF7194E4000001A85", "3174257BF4499602D2000000", "3274257BF46072000000162E",
		"3474257BF40000000000162E", "0x3034257bf7194e4000001a85", "urn:epc:id:sgln:0614141.12345.0", "https://id.gs1.org/00/106141412345678908"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		uri, err := ParseEPC(in)
		if err != nil {
			return
		}
		if strings.HasPrefix(uri, "https://") {
			return
		}
		e, err := epc.ParseURI(uri)
		if err != nil {
			t.Fatalf("ParseEPC(%q) = %s, which does not parse: %v", in, uri, err)
		}
		h := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(in), "0x"), "0X"))
		if len(h) != 24 || strings.HasPrefix(strings.ToLower(strings.TrimSpace(in)), "urn:") {
			return
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return
		}
		switch b[0] {
		case 0x30, 0x31, 0x32, 0x33, 0x34:
		default:
			return
		}
		got, err := e.EncodeHex96(int(b[1] >> 5))
		if err != nil || got != h {
			t.Fatalf("%s → %s → %s, %v", in, uri, got, err)
		}
	})
}
