package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/broker"
	"github.com/tracegate/tracegate/edge/epc"
	"golang.org/x/crypto/argon2"
)

const testPassword = "device-secret"

// testHash is an argon2id PHC string with small parameters (1 MiB, one
// pass): the broker reads parameters from the hash, and the production
// ones cost over half a second per login under the race detector.
var testHash = sync.OnceValue(func() string {
	salt := []byte("tracegate-test-salt")
	key := argon2.IDKey([]byte(testPassword), salt, 1, 1024, 1, 32)
	h := fmt.Sprintf("$argon2id$v=19$m=1024,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if ok, err := broker.CheckPassword(h, testPassword); !ok || err != nil {
		panic(fmt.Sprintf("test hash does not verify: %v", err))
	}
	return h
})

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var epoch = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func demoCreds() map[string]string {
	m := map[string]string{}
	for _, id := range DemoDeviceIDs() {
		m[id] = testPassword
	}
	return m
}

// ingestLog records what the broker stored, per client, in order.
type ingestLog struct {
	mu     sync.Mutex
	stored map[string][]broker.Message
	seen   map[string]bool // topic + payload stored at least once
	fail   func(m broker.Message) error
	calls  int
}

func newIngestLog() *ingestLog {
	return &ingestLog{stored: map[string][]broker.Message{}, seen: map[string]bool{}}
}

func (l *ingestLog) ingest(_ context.Context, m broker.Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.fail != nil {
		if err := l.fail(m); err != nil {
			return err
		}
	}
	l.stored[m.ClientID] = append(l.stored[m.ClientID], m)
	l.seen[m.Topic+"\x00"+string(m.Payload)] = true
	return nil
}

func (l *ingestLog) has(topic string, payload []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[topic+"\x00"+string(payload)]
}

// firstSeen returns a client's stored payloads in order, duplicates removed.
func (l *ingestLog) firstSeen(client string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	dup := map[string]bool{}
	for _, m := range l.stored[client] {
		if !dup[string(m.Payload)] {
			dup[string(m.Payload)] = true
			out = append(out, string(m.Payload))
		}
	}
	return out
}

func (l *ingestLog) messages(client string) []broker.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]broker.Message(nil), l.stored[client]...)
}

// runBroker serves the devices of cfg on addr until stop is called.
func runBroker(t *testing.T, addr string, devs []Device, log *ingestLog) (bound string, stop func()) {
	t.Helper()
	var accts []broker.Account
	for _, d := range devs {
		user := d.Username
		if user == "" {
			user = d.ID
		}
		accts = append(accts, broker.Account{Username: user, PasswordHash: testHash(), Role: broker.RoleDevice, Site: d.Site, Kind: d.Kind})
	}
	b, err := broker.New(broker.Config{Addr: addr, Accounts: accts}, broker.WithIngest(log.ingest))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	<-b.Ready()
	if b.Addr() == "" {
		t.Fatalf("broker: %v", <-done)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("broker Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("broker did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return b.Addr(), stop
}

// freeAddr returns a loopback address nothing listens on (for a broker
// started later).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fastDemo returns the demo fleet sped up for tests, each device stopping
// after n messages.
func fastDemo(addr string, n int) Config {
	cfg := DemoConfig(addr, demoCreds())
	cfg.Rate = 400 // dock-in every 50 ms, sensors every 75–150 ms, scanner every 12.5 ms
	cfg.ReconnectMax = 100 * time.Millisecond
	cfg.ConnectTimeout = 2 * time.Second
	for i := range cfg.Devices {
		cfg.Devices[i].Messages = n
	}
	return cfg
}

// runFleet runs f until it returns, failing the test after timeout.
func runFleet(t *testing.T, ctx context.Context, f *Fleet, timeout time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("fleet Run: %v", err)
		}
	case <-time.After(timeout):
		t.Fatalf("fleet did not finish in %s; stats %+v", timeout, f.Stats())
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// decodeStrict unmarshals exactly one JSON value into v, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func checkTS(s string) (time.Time, error) {
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ts, err
	}
	if len(s) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(s, "Z") {
		return ts, fmt.Errorf("ts %q is not RFC 3339 UTC with milliseconds", s)
	}
	return ts, nil
}

// demoTags maps every demo tag's hex EPC (filters 1 and 6) to its URI.
var demoTags = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	prod := map[string]Product{}
	for _, p := range DemoProducts() {
		prod[p.GTIN] = p
	}
	for _, l := range DemoLots() {
		for s := l.SerialFirst; s <= l.SerialLast; s++ {
			e, _ := itemEPC(prod[l.GTIN], s)
			h, _ := e.EncodeHex96(1)
			m[h] = e.URI()
		}
		for _, pl := range l.Pallets {
			e, _ := epc.FromDigitalLink(epc.DigitalLink{SSCC: pl.SSCC}, DemoCompanyPrefixLength)
			h, _ := e.EncodeHex96(6)
			m[h] = e.URI()
		}
	}
	return m
})

// checkRFID validates an RFID payload (an object or an array) and returns its reads.
func checkRFID(payload []byte, antennas int) ([]RFIDRead, error) {
	var reads []RFIDRead
	if bytes.HasPrefix(payload, []byte("[")) {
		if err := decodeStrict(payload, &reads); err != nil {
			return nil, err
		}
		if len(reads) == 0 {
			return nil, errors.New("empty array")
		}
	} else {
		var r RFIDRead
		if err := decodeStrict(payload, &r); err != nil {
			return nil, err
		}
		reads = []RFIDRead{r}
	}
	for _, r := range reads {
		if _, ok := demoTags()[r.EPC]; !ok {
			return nil, fmt.Errorf("epc %q is not a demo tag", r.EPC)
		}
		if _, err := epc.DecodeHex(r.EPC); err != nil {
			return nil, fmt.Errorf("epc %q: %v", r.EPC, err)
		}
		if _, err := checkTS(r.TS); err != nil {
			return nil, err
		}
		if r.Antenna < 1 || r.Antenna > antennas {
			return nil, fmt.Errorf("antenna %d", r.Antenna)
		}
		if r.RSSI > -25 || r.RSSI < -90 || r.RSSI != math.Round(r.RSSI*10)/10 {
			return nil, fmt.Errorf("rssi %v", r.RSSI)
		}
	}
	return reads, nil
}

func checkSensor(payload []byte, wantHumidity bool) (SensorReading, error) {
	var r SensorReading
	if err := decodeStrict(payload, &r); err != nil {
		return r, err
	}
	if _, err := checkTS(r.TS); err != nil {
		return r, err
	}
	if r.Temperature == nil || *r.Temperature < -40 || *r.Temperature > 60 {
		return r, fmt.Errorf("temperature %v", r.Temperature)
	}
	if (r.Humidity != nil) != wantHumidity || (r.Humidity != nil && (*r.Humidity < 0 || *r.Humidity > 100)) {
		return r, fmt.Errorf("humidity %v (want present: %v)", r.Humidity, wantHumidity)
	}
	if r.Battery == nil || *r.Battery < 0 || *r.Battery > 100 {
		return r, fmt.Errorf("battery %v", r.Battery)
	}
	return r, nil
}

func checkScan(payload []byte) (ObjectEvent, error) {
	var ev ObjectEvent
	if err := decodeStrict(payload, &ev); err != nil {
		return ev, err
	}
	switch {
	case len(ev.Context) != 1 || ev.Context[0] != "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld":
		return ev, fmt.Errorf("@context %v", ev.Context)
	case ev.Type != "ObjectEvent" || ev.Action != "OBSERVE" || ev.Disposition != "in_progress":
		return ev, fmt.Errorf("type/action/disposition %s/%s/%s", ev.Type, ev.Action, ev.Disposition)
	case ev.BizStep != "receiving" && ev.BizStep != "picking":
		return ev, fmt.Errorf("bizStep %q", ev.BizStep)
	case ev.EventTimeZoneOffset != "+00:00":
		return ev, fmt.Errorf("eventTimeZoneOffset %q", ev.EventTimeZoneOffset)
	case ev.ReadPoint == nil || ev.ReadPoint.ID != DemoReadPoint(DemoHandheld) || ev.BizLocation == nil || ev.BizLocation.ID != DemoBizLocation:
		return ev, fmt.Errorf("readPoint/bizLocation %+v %+v", ev.ReadPoint, ev.BizLocation)
	case len(ev.EPCList) == 0 || len(ev.EPCList) > 3:
		return ev, fmt.Errorf("%d EPCs", len(ev.EPCList))
	}
	if _, err := checkTS(ev.EventTime); err != nil {
		return ev, err
	}
	uris := map[string]bool{}
	for _, u := range demoTags() {
		uris[u] = true
	}
	for _, u := range ev.EPCList {
		e, err := epc.ParseURI(u)
		if err != nil || e.Scheme != epc.SGTIN || !uris[u] {
			return ev, fmt.Errorf("epc %q is not a demo SGTIN URI", u)
		}
	}
	return ev, nil
}
