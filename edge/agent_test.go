package edge

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/edge/journal"
	"github.com/tracegate/tracegate/ledger/batch"
)

// recorder is an Uploader that keeps what it was sent; it can fail.
type recorder struct {
	mu      sync.Mutex
	batches []batch.Sealed
	fail    error
}

func (r *recorder) Upload(_ context.Context, b batch.Sealed) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.batches = append(r.batches, b)
	return nil
}

func (r *recorder) events() []epcis.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []epcis.Event
	for _, b := range r.batches {
		for _, raw := range b.Events {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			var ev epcis.Event
			_ = d.Decode(&ev)
			out = append(out, ev)
		}
	}
	return out
}

func testConfig(t testing.TB) Config {
	cfg := Defaults()
	cfg.ID = "edge-test"
	cfg.DataDir = t.TempDir()
	cfg.Batch.MaxAge = 50 * time.Millisecond
	cfg.Smoothing.Window = 200 * time.Millisecond
	cfg.Limits.MinFreeBytes = 0
	cfg.Sites = map[string]Site{"s1": {Location: "urn:epc:id:sgln:0614141.00001.0",
		Readers: map[string]Reader{"door": {ReadPoint: "urn:epc:id:sgln:0614141.00001.1", BizStep: "receiving", Disposition: "in_progress"}}}}
	return cfg
}

func startAgent(t *testing.T, cfg Config, up Uploader) (*Agent, func()) {
	t.Helper()
	a, err := New(cfg, WithUploader(up))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hexEPC(t *testing.T, serial int) string {
	e, err := epc.ParseURI(fmt.Sprintf("urn:epc:id:sgtin:0614141.812345.%d", serial))
	if err != nil {
		t.Fatal(err)
	}
	h, err := e.EncodeHex96(3)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPipelineSmoothsDedupesSealsAndSigns(t *testing.T) {
	rec := &recorder{}
	a, stop := startAgent(t, testConfig(t), rec)
	defer stop()
	ctx := context.Background()
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	msgs := []journal.Raw{
		{Topic: "tracegate/s1/rfid/door", Payload: fmt.Appendf(nil, `[{"epc":%q,"ts":%q,"antenna":1,"rssi":-60},{"epc":%q,"ts":%q,"antenna":2,"rssi":-50}]`, hexEPC(t, 1), ts(0), hexEPC(t, 1), ts(20*time.Millisecond))},
		{Topic: "tracegate/s1/rfid/door", Payload: fmt.Appendf(nil, `{"epc":%q,"ts":%q,"antenna":1}`, hexEPC(t, 2), ts(0))},
		{Topic: "tracegate/s1/sensor/probe", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":4.25,"humidity":51}`, ts(0))},
		{Topic: "tracegate/s1/sensor/probe", Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":4.25,"humidity":51}`, ts(0))}, // re-delivery
		{Topic: "tracegate/s1/sensor/probe", Payload: []byte(`{"temperature": "warm"}`)},
		{Topic: "tracegate/s1/oven/x", Payload: []byte(`{}`)},
	}
	for _, m := range msgs {
		m.Received = now
		if err := a.Ingest(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "3 events uploaded", func() bool { return len(rec.events()) >= 3 })
	time.Sleep(300 * time.Millisecond) // nothing more may come
	evs := rec.events()
	if len(evs) != 3 {
		t.Fatalf("%d events uploaded, want 3 (two tags, one sensor reading)", len(evs))
	}
	var tag1 epcis.Event
	for _, e := range evs {
		h, err := epcis.Hash(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.ID() != epcis.EventID(h) {
			t.Errorf("eventID %s is not the event's hash %s", e.ID(), epcis.EventID(h))
		}
		if eps := e.EPCs(); len(eps) == 1 && eps[0] == "urn:epc:id:sgtin:0614141.812345.1" {
			tag1 = e
		}
	}
	if tag1 == nil {
		t.Fatalf("no event for tag 1 in %v", evs)
	}
	if fmt.Sprint(tag1["tg:readCount"]) != "2" || tag1.BizStep() != "receiving" || tag1.ReadPoint() != "urn:epc:id:sgln:0614141.00001.1" {
		t.Errorf("smoothed event wrong: %v", tag1)
	}
	// Batches verify and chain.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var prev *batch.Header
	for _, b := range rec.batches {
		if err := b.Header.Verify(a.PublicKey(), b.Signature); err != nil {
			t.Fatal(err)
		}
		var hs [][32]byte
		for _, raw := range b.Events {
			var ev epcis.Event
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			_ = d.Decode(&ev)
			h, _ := epcis.Hash(ev, nil)
			hs = append(hs, h)
		}
		root, _ := batch.Root(hs)
		if hex.EncodeToString(root[:]) != b.Header.Root {
			t.Fatalf("batch %d root mismatch", b.Header.Seq)
		}
		if prev != nil {
			if err := b.Header.Follows(*prev); err != nil {
				t.Fatal(err)
			}
		}
		h := b.Header
		prev = &h
	}
	dl, _ := a.Journal().DeadLetters(0, 10)
	if len(dl) != 2 {
		t.Fatalf("%d dead letters, want 2: %+v", len(dl), dl)
	}
	st, _ := a.Journal().Stats()
	if st.Unacked != 0 || st.Pending != 0 || st.Inbox != 0 {
		t.Errorf("backlog left after upload: %+v", st)
	}
}

func TestUploadFailureKeepsBatches(t *testing.T) {
	rec := &recorder{fail: &RejectedError{Status: 403, Problem: Problem{Title: "unknown edge"}}}
	cfg := testConfig(t)
	a, stop := startAgent(t, cfg, rec)
	for i := range 5 {
		raw := journal.Raw{Topic: "tracegate/s1/sensor/probe", Payload: fmt.Appendf(nil, `{"ts":"2026-11-25T10:00:0%d.000Z","temperature":5}`, i), Received: time.Now()}
		if err := a.Ingest(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a rejected upload", func() bool { return a.LastUpload().Rejected })
	st, err := a.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready || st.Journal.Unacked == 0 {
		t.Fatalf("rejected batches must stay and make the edge unready: %+v", st)
	}
	stop()
	// Restart: the batches are still there and go through once the
	// gateway accepts them.
	rec2 := &recorder{}
	a2, stop2 := startAgent(t, cfg, rec2)
	defer stop2()
	waitFor(t, "5 events acknowledged after restart", func() bool { return len(rec2.events()) == 5 && a2.LastUpload().OK })
}

func TestIngestRefusedOnFullDisk(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.MinFreeBytes = 1 << 62
	a, stop := startAgent(t, cfg, &recorder{})
	defer stop()
	err := a.Ingest(context.Background(), journal.Raw{Topic: "tracegate/s1/sensor/probe", Payload: []byte(`{"temperature":1}`)})
	if !errors.Is(err, journal.ErrDiskFull) {
		t.Fatalf("ingest on a full disk: %v", err)
	}
}
