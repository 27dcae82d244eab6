package proof

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/ledger/batch"
)

// makeProof builds a real proof of one event in a batch of n events.
func makeProof(tb testing.TB, n int, leaf int) (*Document, ed25519.PublicKey) {
	tb.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	var hashes [][32]byte
	var target epcis.Event
	for i := range n {
		ev := epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{"urn:epc:id:sgtin:0614141.812345." + itoa(i+1)},
			Time: time.Date(2026, 11, 25, 10, 0, i%60, 0, time.UTC), BizStep: "receiving", ReadPoint: "urn:epc:id:sgln:0614141.00001.0"})
		h, err := epcis.Hash(ev, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if i == leaf {
			ev["eventID"] = epcis.EventID(h)
			target = ev
		}
		hashes = append(hashes, h)
	}
	root, _ := batch.Root(hashes)
	h := batch.Header{Edge: "e", Seq: 0, Count: uint64(n), From: "2026-11-25T10:00:00.000Z", To: "2026-11-25T10:00:59.000Z", Root: hex.EncodeToString(root[:]), Alg: batch.Alg}
	sig, _ := h.Sign(priv)
	path, _ := batch.InclusionProof(hashes, uint64(leaf))
	raw, _ := json.Marshal(target)
	d := &Document{EventID: epcis.EventID(hashes[leaf]), Event: raw, LeafIndex: uint64(leaf), TreeSize: uint64(n), Header: h,
		Signature: base64.StdEncoding.EncodeToString(sig), EdgeKey: base64.StdEncoding.EncodeToString(pub)}
	for _, p := range path {
		d.AuditPath = append(d.AuditPath, hex.EncodeToString(p))
	}
	return d, pub
}

func itoa(i int) string {
	b := []byte{}
	for i > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}

func TestOfflineVerify(t *testing.T) {
	d, _ := makeProof(t, 1000, 417)
	res := Verify(context.Background(), d, nil)
	if res.Verified || !offlineOK(res) {
		t.Fatalf("offline verification: %+v", res)
	}
	d.LeafIndex++
	if res := Verify(context.Background(), d, nil); offlineOK(res) {
		t.Fatal("wrong leaf index verified")
	}
}

func offlineOK(r Result) bool {
	for _, s := range r.Steps {
		if !s.OK && !s.Skip {
			return false
		}
	}
	return true
}

// BenchmarkVerifyOffline times the offline checks of a proof (event hash,
// audit path in a 1000-event batch, header signature) …
func BenchmarkVerifyOffline(b *testing.B) {
	d, _ := makeProof(b, 1000, 417)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if res := Verify(ctx, d, nil); !offlineOK(res) {
			b.Fatal(res.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/proof")
}

// … against its baseline in the same run: one bare Ed25519 verification
// of the header's bytes, the irreducible cost of any signed proof.
func BenchmarkVerifyBaselineEd25519(b *testing.B) {
	d, pub := makeProof(b, 1000, 417)
	c, _ := d.Header.Canonical()
	sig, _ := base64.StdEncoding.DecodeString(d.Signature)
	b.ResetTimer()
	for b.Loop() {
		if !ed25519.Verify(pub, c, sig) {
			b.Fatal("baseline failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/verify")
}
