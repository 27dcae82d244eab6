package decode

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var recv = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestParseTopic(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		kind string
	}{
		{"tracegate/wh1/rfid/dock-in-1", true, KindRFID},
		{"tracegate/wh1/sensor/s", true, KindSensor},
		{"tracegate/wh1/scanner/h", true, KindScanner},
		{"tracegate/wh1/alerts", false, ""},
		{"tracegate/wh1/camera/c", false, ""},
		{"other/wh1/rfid/r", false, ""},
		{"tracegate//rfid/r", false, ""},
		{"tracegate/wh1/rfid/r/extra", false, ""},
	} {
		tp, err := ParseTopic(c.in)
		if (err == nil) != c.ok || (c.ok && tp.Kind != c.kind) {
			t.Errorf("ParseTopic(%q) = %+v, %v", c.in, tp, err)
		}
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Reason != ReasonTopic {
				t.Errorf("ParseTopic(%q): error %v is not an unknown_topic *Error", c.in, err)
			}
		}
	}
}

func TestDecodeRFID(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindRFID, Device: "r"}
	cases := []struct {
		name    string
		payload string
		reads   int
		rejects []string // reasons, in order
		err     string   // message-level reason
	}{
		{"sgtin-96 hex", `{"epc":"3074257BF7194E4000001A85","ts":"2026-11-25T11:59:00Z","antenna":2,"rssi":-52.5}`, 1, nil, ""},
		{"lower-case hex with 0x", `{"epc":"0x3074257bf7194e4000001a85","ts":"2026-11-25T11:59:00Z"}`, 1, nil, ""},
		{"epc uri", `{"epc":"urn:epc:id:sgtin:0614141.812345.6789","ts":1764071940000}`, 1, nil, ""},
		{"digital link", `{"epc":"https://id.gs1.org/01/09506000134352/21/ABC1"}`, 1, nil, ""},
		{"array, one bad", `[{"epc":"3074257BF7194E4000001A85"},{"epc":"zz"},{"epc":"3074257BF7194E4000001A85","ts":"soon"}]`, 1, []string{ReasonEPC, ReasonTime}, ""},
		{"bad header", `{"epc":"FF74257BF7194E4000001A85"}`, 0, []string{ReasonEPC}, ""},
		{"bad partition", `{"epc":"307C257BF7194E4000001A85"}`, 0, []string{ReasonEPC}, ""},
		{"bad check digit", `{"epc":"https://id.gs1.org/01/09506000134353/21/ABC1"}`, 0, []string{ReasonEPC}, ""},
		{"class-level link", `{"epc":"https://id.gs1.org/01/09506000134352"}`, 0, []string{ReasonEPC}, ""},
		{"no epc", `{"ts":"2026-11-25T11:59:00Z"}`, 0, []string{ReasonEPC}, ""},
		{"antenna out of range", `{"epc":"3074257BF7194E4000001A85","antenna":99}`, 0, []string{ReasonValue}, ""},
		{"rssi as string", `{"epc":"3074257BF7194E4000001A85","rssi":"-50"}`, 0, []string{ReasonValue}, ""},
		{"time without zone", `{"epc":"3074257BF7194E4000001A85","ts":"2026-11-25T11:59:00"}`, 0, []string{ReasonTime}, ""},
		{"clock not set", `{"epc":"3074257BF7194E4000001A85","ts":"1970-01-01T00:00:00Z"}`, 0, []string{ReasonTime}, ""},
		{"clock far ahead", `{"epc":"3074257BF7194E4000001A85","ts":"2027-11-25T11:59:00Z"}`, 0, []string{ReasonTime}, ""},
		{"not json", `epc=3074`, 0, nil, ReasonJSON},
		{"empty", `  `, 0, nil, ReasonEmpty},
		{"empty array", `[]`, 0, nil, ReasonEmpty},
		{"scalar", `42`, 0, nil, ReasonJSON},
	}
	for _, c := range cases {
		res, err := Decode(tp, []byte(c.payload), recv, Limits{})
		if c.err != "" {
			var de *Error
			if !errors.As(err, &de) || de.Reason != c.err {
				t.Errorf("%s: error %v, want reason %s", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(res.Reads) != c.reads {
			t.Errorf("%s: %d reads, want %d", c.name, len(res.Reads), c.reads)
		}
		var got []string
		for _, r := range res.Rejects {
			got = append(got, r.Reason)
			if r.Msg == "" {
				t.Errorf("%s: reject without a message", c.name)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.rejects, ",") {
			t.Errorf("%s: rejects %v, want %v", c.name, got, c.rejects)
		}
	}
	res, _ := Decode(tp, []byte(`{"epc":"3074257BF7194E4000001A85","ts":"2026-11-25T11:59:00.123+01:00","antenna":2,"rssi":-52.5}`), recv, Limits{})
	r := res.Reads[0]
	if r.EPC != "urn:epc:id:sgtin:0614141.812345.6789" || r.Antenna != 2 || *r.RSSI != -52.5 || !r.DeviceClock ||
		!r.Time.Equal(time.Date(2026, 11, 25, 10, 59, 0, 123e6, time.UTC)) {
		t.Errorf("read decoded as %+v", r)
	}
	res, _ = Decode(tp, []byte(`{"epc":"3074257BF7194E4000001A85"}`), recv, Limits{})
	if res.Reads[0].DeviceClock || !res.Reads[0].Time.Equal(recv) || res.Timed() {
		t.Errorf("a read without ts takes the receive time and is untimed: %+v", res.Reads[0])
	}
}

func TestDecodeSensor(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindSensor, Device: "s"}
	res, err := Decode(tp, []byte(`{"ts":"2026-11-25T11:00:00Z","temperature":4.2,"humidity":55,"battery":97}`), recv, Limits{})
	if err != nil || len(res.Samples) != 1 || *res.Samples[0].Temperature != 4.2 || *res.Samples[0].Humidity != 55 || *res.Samples[0].Battery != 97 {
		t.Fatalf("sample %+v %v", res, err)
	}
	for _, c := range []struct{ payload, reason string }{
		{`{"temperature":999}`, ReasonImplausible},
		{`{"humidity":101}`, ReasonImplausible},
		{`{"temperature":"4.2"}`, ReasonValue},
		{`{"battery":50}`, ReasonValue},
		{`{"temperature":1e999}`, ReasonValue},
		{`{"ts":"later","temperature":4}`, ReasonTime},
	} {
		res, err := Decode(tp, []byte(c.payload), recv, Limits{})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Reason != c.reason {
				t.Errorf("%s: %v, want %s", c.payload, err, c.reason)
			}
			continue
		}
		if len(res.Rejects) != 1 || res.Rejects[0].Reason != c.reason || len(res.Samples) != 0 {
			t.Errorf("%s: %+v, want one %s reject", c.payload, res, c.reason)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindSensor, Device: "s"}
	big := `{"temperature":4,"pad":"` + strings.Repeat("x", 100) + `"}`
	if _, err := Decode(tp, []byte(big), recv, Limits{MaxPayload: 64}); err == nil || err.(*Error).Reason != ReasonTooLarge {
		t.Errorf("oversized payload: %v", err)
	}
	arr := "[" + strings.Repeat(`{"temperature":4},`, 5) + `{"temperature":4}]`
	if _, err := Decode(tp, []byte(arr), recv, Limits{MaxItems: 5}); err == nil || err.(*Error).Reason != ReasonTooLarge {
		t.Errorf("too many elements: %v", err)
	}
}

func TestDecodeScanner(t *testing.T) {
	tp := Topic{Site: "wh1", Kind: KindScanner, Device: "h"}
	ok := `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"ObjectEvent","eventTime":"2026-11-25T11:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:0614141.812345.1"],"action":"OBSERVE","bizStep":"receiving"}`
	res, err := Decode(tp, []byte(ok), recv, Limits{})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("scanner event: %+v %v", res, err)
	}
	if _, err := Decode(tp, []byte(`{"type":"ObjectEvent"}`), recv, Limits{}); err == nil || err.(*Error).Reason != ReasonEPCIS {
		t.Errorf("invalid EPCIS: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("rfid", []byte(`[{"epc":"3074257BF7194E4000001A85","ts":"2026-11-25T11:59:00Z","antenna":2,"rssi":-52.5}]`))
	f.Add("sensor", []byte(`{"ts":1764071940000,"temperature":4.2,"humidity":55}`))
	f.Add("scanner", []byte(`{"type":"ObjectEvent"}`))
	f.Fuzz(func(t *testing.T, kind string, payload []byte) {
		res, err := Decode(Topic{Site: "s", Kind: kind, Device: "d"}, payload, recv, Limits{})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		for _, r := range res.Reads {
			if r.EPC == "" {
				t.Fatal("read without EPC")
			}
		}
	})
}
