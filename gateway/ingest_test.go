package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
	"github.com/tracegate/tracegate/ledger/embedded"
)

const testOrg = "WarehouseMSP"

type fixture struct {
	svc  *Service
	led  *embedded.Ledger
	key  ed25519.PrivateKey
	edge string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	keys, err := embedded.LoadOrCreateKeys(filepath.Join(dir, "ids"), []string{testOrg})
	if err != nil {
		t.Fatal(err)
	}
	led, err := embedded.Open(filepath.Join(dir, "ledger"), embedded.Config{Members: embedded.MembersOf(keys), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	svc, err := New(Config{DataDir: filepath.Join(dir, "gw"), Reader: ledger.Identity{Org: testOrg}}, led)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx := context.Background()
	admin := ledger.Identity{Org: testOrg, User: ledger.AdminUser}
	c := svc.Ledger()
	if _, err := c.RegisterOrg(ctx, admin, ledger.Org{ID: testOrg, Name: "Warehouse", Kind: ledger.OrgWarehouse}); err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	if _, err := c.RegisterDevice(ctx, admin, ledger.Device{ID: "edge-1", Org: testOrg, Kind: ledger.DeviceEdge, PublicKey: base64.StdEncoding.EncodeToString(pub)}); err != nil {
		t.Fatal(err)
	}
	capID, capKey := svc.CaptureDevice()
	if _, err := c.RegisterDevice(ctx, admin, ledger.Device{ID: capID, Org: testOrg, Kind: ledger.DeviceCapture, PublicKey: base64.StdEncoding.EncodeToString(capKey)}); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, led: led, key: priv, edge: "edge-1"}
}

// sealed builds a signed batch of n sensor events after prev.
func (f *fixture) sealed(t *testing.T, seq uint64, prev string, n int, salt string) batch.Sealed {
	t.Helper()
	var evs []epcis.Event
	base := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := range n {
		evs = append(evs, epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{fmt.Sprintf("urn:epc:id:sgtin:0614141.812345.%s%d", salt, i+1)},
			Time: base.Add(time.Duration(i) * time.Second), BizStep: "receiving", ReadPoint: "urn:epc:id:sgln:0614141.00001.0"}))
	}
	prep, err := edge.Prepare(evs, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := batch.Seal(f.key, f.edge, seq, prev, leavesOf(prep))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIngestVerifiesEverything(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b0 := f.sealed(t, 0, "", 3, "")
	if r, err := f.svc.IngestBatch(ctx, b0, SourceEdge); err != nil || r.Status != "accepted" || r.NewEvents != 3 {
		t.Fatalf("batch 0: %+v %v", r, err)
	}
	if r, err := f.svc.IngestBatch(ctx, b0, SourceEdge); err != nil || r.Status != "duplicate" {
		t.Fatalf("batch 0 again: %+v %v", r, err)
	}
	h0, _ := b0.Header.Hash()
	cases := []struct {
		name string
		b    func() batch.Sealed
		kind Kind
	}{
		{"different batch, same seq", func() batch.Sealed { return f.sealed(t, 0, "", 2, "x") }, KindConflict},
		{"ahead of sequence", func() batch.Sealed { return f.sealed(t, 2, h0, 2, "y") }, KindOutOfOrder},
		{"prev does not name batch 0", func() batch.Sealed { return f.sealed(t, 1, hex.EncodeToString(make([]byte, 32)), 2, "z") }, KindUnverified},
		{"bad signature", func() batch.Sealed {
			b := f.sealed(t, 1, h0, 2, "s")
			b.Signature[0] ^= 1
			return b
		}, KindUnverified},
		{"wrong root", func() batch.Sealed {
			b := f.sealed(t, 1, h0, 2, "r")
			b.Events[0], b.Events[1] = b.Events[1], b.Events[0]
			return b
		}, KindUnverified},
		{"changed event", func() batch.Sealed {
			b := f.sealed(t, 1, h0, 2, "c")
			var ev map[string]any
			_ = json.Unmarshal(b.Events[0], &ev)
			ev["bizStep"] = "shipping"
			b.Events[0], _ = json.Marshal(ev)
			return b
		}, KindUnverified},
		{"count mismatch", func() batch.Sealed {
			b := f.sealed(t, 1, h0, 2, "n")
			b.Events = b.Events[:1]
			return b
		}, KindInvalid},
		{"unknown edge", func() batch.Sealed {
			b := f.sealed(t, 0, "", 1, "u")
			b.Header.Edge = "edge-unknown"
			b.Signature, _ = b.Header.Sign(f.key)
			return b
		}, KindUnknownEdge},
		{"malformed header", func() batch.Sealed {
			b := f.sealed(t, 1, h0, 1, "m")
			b.Header.Alg = "md5"
			return b
		}, KindInvalid},
	}
	for _, c := range cases {
		_, err := f.svc.IngestBatch(ctx, c.b(), SourceEdge)
		if KindOf(err) != c.kind {
			t.Errorf("%s: error %v (kind %q), want kind %q", c.name, err, KindOf(err), c.kind)
		}
	}
	var oe *Error
	_, err := f.svc.IngestBatch(ctx, f.sealed(t, 5, h0, 1, "o"), SourceEdge)
	if !errors.As(err, &oe) || oe.Extra["expectedSeq"] != uint64(1) {
		t.Fatalf("out-of-order error should name expectedSeq 1: %#v", err)
	}
	// Nothing of the refused batches was stored.
	if c, _ := f.svc.Store().Counts(); c.Events != 3 || c.Batches != 1 {
		t.Fatalf("counts after refusals: %+v", c)
	}
	b1 := f.sealed(t, 1, h0, 2, "ok")
	if r, err := f.svc.IngestBatch(ctx, b1, SourceEdge); err != nil || r.Status != "accepted" {
		t.Fatalf("batch 1: %+v %v", r, err)
	}
}

func TestAnchorAndProve(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	b0 := f.sealed(t, 0, "", 5, "")
	if _, err := f.svc.IngestBatch(ctx, b0, SourceEdge); err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	_ = json.Unmarshal(b0.Events[3], &ev)
	id := ev["eventID"].(string)
	deadline := time.Now().Add(10 * time.Second)
	var d *proof.Document
	for {
		var err error
		d, err = f.svc.Proof(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Anchor != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.Anchor == nil {
		t.Fatal("batch not anchored within 10 s")
	}
	res := f.svc.VerifyProof(ctx, d)
	if !res.Verified {
		t.Fatalf("proof does not verify: %v", res.Err())
	}
	// Capture goes through the same sealing, anchoring and proofs.
	doc, _ := epcis.MarshalDocument([]epcis.Event{epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE",
		EPCs: []string{"urn:epc:id:sgtin:0614141.812345.999"}, Time: time.Now().UTC(), BizStep: "inspecting"})}, nil)
	st, err := f.svc.Capture(ctx, doc, false)
	if err != nil {
		t.Fatal(err)
	}
	for st.Running || st.Proven == 0 {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("capture job stuck: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		st, _ = f.svc.CaptureJob(ctx, st.CaptureID)
	}
	cd, err := f.svc.Proof(ctx, st.EventIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if res := f.svc.VerifyProof(ctx, cd); !res.Verified {
		t.Fatalf("captured event's proof: %v", res.Err())
	}
	// fsck finds nothing wrong.
	rep, err := f.svc.Fsck(ctx, nil)
	if err != nil || !rep.OK() || rep.Batches < 2 {
		t.Fatalf("fsck: %+v %v", rep, err)
	}
	// A stored event changed behind the gateway's back is found.
	h0, _ := epcis.ParseEventID(id)
	err = f.svc.Store().DB().Update(func(txn *badger.Txn) error {
		it, err := txn.Get(append([]byte("ev/"), h0[:]...))
		if err != nil {
			return err
		}
		v, _ := it.ValueCopy(nil)
		return txn.Set(it.KeyCopy(nil), bytes.Replace(v, []byte("receiving"), []byte("shipping"), 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = f.svc.Fsck(ctx, nil)
	if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "no longer hashes to its leaf") {
		t.Fatalf("fsck missed a tampered event: %+v %v", rep, err)
	}
	// Not EPCIS → invalid.
	if _, err := f.svc.Capture(ctx, []byte(`{"hello":"world"}`), false); KindOf(err) != KindInvalid {
		t.Fatalf("capture of a non-EPCIS document: %v", err)
	}
}

// BenchmarkIngest measures batch verification and indexing (events/s).
func BenchmarkIngest(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	ctx := context.Background()
	prev := ""
	const per = 500
	batches := make([]batch.Sealed, b.N)
	for i := range batches {
		batches[i] = f.sealed(t, uint64(i), prev, per, fmt.Sprintf("b%d-", i))
		prev, _ = batches[i].Header.Hash()
	}
	b.ResetTimer()
	for i := range batches {
		if _, err := f.svc.IngestBatch(ctx, batches[i], SourceEdge); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "events/s")
}
