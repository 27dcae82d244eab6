package ledgertest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"time"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

// Edge is a simulated edge: a registered device key and its header chain.
type Edge struct {
	ID   string
	Pub  ed25519.PublicKey
	Priv ed25519.PrivateKey
}

// NewEdge returns an edge with a fresh key.
func NewEdge(id string) Edge {
	pub, priv := newKey()
	return Edge{ID: id, Pub: pub, Priv: priv}
}

// Device is the edge's device record for org.
func (e Edge) Device(org string) ledger.Device {
	return ledger.Device{ID: e.ID, Org: org, PublicKey: b64(e.Pub), Kind: ledger.DeviceEdge}
}

// Header builds a well-formed header for seq over n random event hashes,
// naming prev (the previous header's hash, "" for seq 0).
func (e Edge) Header(seq uint64, prev string, n int) batch.Header {
	hs := make([][32]byte, n)
	for i := range hs {
		if _, err := rand.Read(hs[i][:]); err != nil {
			panic(err)
		}
	}
	root, err := batch.Root(hs)
	if err != nil {
		panic(err)
	}
	from := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Minute)
	return batch.Header{Edge: e.ID, Seq: seq, Prev: prev, Count: uint64(n), From: batch.FormatTime(from),
		To: batch.FormatTime(from.Add(59 * time.Second)), Root: hexOf(root), Alg: batch.Alg}
}

// Sign signs h with the edge's key.
func (e Edge) Sign(h batch.Header) []byte {
	sig, err := h.Sign(e.Priv)
	if err != nil {
		panic(err)
	}
	return sig
}

// Chain builds n consecutive signed headers from seq 0.
func (e Edge) Chain(n int) ([]batch.Header, [][]byte) {
	hs := make([]batch.Header, n)
	sigs := make([][]byte, n)
	prev := ""
	for i := range hs {
		hs[i] = e.Header(uint64(i), prev, 3+i)
		sigs[i] = e.Sign(hs[i])
		var err error
		if prev, err = hs[i].Hash(); err != nil {
			panic(err)
		}
	}
	return hs, sigs
}

func hexOf(b [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func testAnchors(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	e := NewEdge(s.id("edge"))
	hs, sigs := e.Chain(3)

	s.anchorRefused("unregistered edge", ledger.NotFound)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[0], sigs[0]))
	s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), e.Device(mfr)))

	s.anchorRefused("another org anchors the edge's batch", ledger.Forbidden)(s.c.AnchorBatch(s.ctx(), admin(fx.Warehouse), hs[0], sigs[0]))
	s.anchorRefused("quality role anchors", ledger.Forbidden)(s.c.AnchorBatch(s.ctx(), s.quality(mfr), hs[0], sigs[0]))
	wrong := NewEdge(e.ID)
	s.anchorRefused("signature by another key", ledger.Invalid)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[0], wrong.Sign(hs[0])))
	tampered := hs[0]
	tampered.Count++
	s.anchorRefused("header changed after signing", ledger.Invalid)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), tampered, sigs[0]))
	malformed := hs[0]
	malformed.Alg = "sha1"
	s.anchorRefused("malformed header", ledger.Invalid)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), malformed, e.Sign(malformed)))

	a0, res0, err := s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[0], sigs[0])
	if err != nil {
		t.Fatalf("anchor seq 0: %v", err)
	}
	h0, _ := hs[0].Hash()
	if a0.Edge != e.ID || a0.Seq != 0 || a0.HeaderHash != h0 || a0.Prev != "" || a0.Root != hs[0].Root || a0.Count != hs[0].Count ||
		a0.From != hs[0].From || a0.To != hs[0].To || a0.Org != mfr || a0.TxID != res0.TxID || a0.AnchoredAt.IsZero() || a0.Signature != b64(sigs[0]) {
		t.Fatalf("anchor = %+v (tx %s)", a0, res0.TxID)
	}

	// The same header again: the existing anchor, nothing written.
	again, resAgain, err := s.c.AnchorBatch(s.ctx(), admin(mfr), hs[0], sigs[0])
	if err != nil {
		t.Fatalf("re-anchor seq 0: %v", err)
	}
	if again != a0 {
		t.Fatalf("re-anchor returned %+v, want %+v", again, a0)
	}
	if resAgain.TxID == res0.TxID {
		t.Errorf("re-anchor reports the original transaction as its own")
	}
	// A different header for an anchored seq.
	other := e.Header(0, "", 9)
	s.anchorRefused("different header for seq 0", ledger.Conflict)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), other, e.Sign(other)))

	got[ledger.Anchor](s, "GetAnchor")(s.c.Anchor(s.ctx(), admin(fx.Regulator), e.ID, 0))
	if back := got[ledger.Anchor](s, "GetAnchor")(s.c.Anchor(s.ctx(), admin(fx.Regulator), e.ID, 0)); back != a0 {
		t.Errorf("GetAnchor = %+v, want %+v", back, a0)
	}
	if latest := got[ledger.Anchor](s, "LatestAnchor")(s.c.LatestAnchor(s.ctx(), s.other(fx.Hospital), e.ID)); latest != a0 {
		t.Errorf("LatestAnchor = %+v", latest)
	}
	denied[ledger.Anchor](s, "unanchored seq", ledger.NotFound)(s.c.Anchor(s.ctx(), admin(fx.Regulator), e.ID, 1))
	denied[ledger.Anchor](s, "edge without anchors", ledger.NotFound)(s.c.LatestAnchor(s.ctx(), admin(fx.Regulator), s.id("quiet")))
	if fx.Outsider != "" {
		denied[ledger.Anchor](s, "outsider reads an anchor", ledger.Forbidden)(s.c.Anchor(s.ctx(), admin(fx.Outsider), e.ID, 0))
	}
}

func testAnchorChain(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	e := NewEdge(s.id("edge"))
	s.must(s.c.RegisterDevice(s.ctx(), admin(mfr), e.Device(mfr)))
	hs, sigs := e.Chain(4)

	s.anchorRefused("seq 1 before seq 0", ledger.Conflict)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[1], sigs[1]))
	badPrev := e.Header(0, "", 3)
	badPrev.Prev = hexOf([32]byte{1})
	s.anchorRefused("seq 0 with a prev", ledger.Invalid)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), badPrev, e.Sign(badPrev)))

	s.must(func() (ledger.Result, error) {
		_, r, err := s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[0], sigs[0])
		return r, err
	}())
	s.anchorRefused("seq 2 before seq 1", ledger.Conflict)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[2], sigs[2]))

	fork := e.Header(1, hexOf([32]byte{7}), 5)
	s.anchorRefused("seq 1 naming the wrong prev", ledger.Invalid)(s.c.AnchorBatch(s.ctx(), s.operator(mfr), fork, e.Sign(fork)))

	for i := 1; i < len(hs); i++ {
		a, _, err := s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[i], sigs[i])
		if err != nil {
			t.Fatalf("anchor seq %d: %v", i, err)
		}
		want, _ := hs[i-1].Hash()
		if a.Prev != want || a.Seq != uint64(i) {
			t.Fatalf("anchor seq %d = %+v", i, a)
		}
	}
	// Re-anchoring an old seq still answers idempotently.
	if _, _, err := s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[1], sigs[1]); err != nil {
		t.Fatalf("re-anchor seq 1: %v", err)
	}
	latest := got[ledger.Anchor](s, "LatestAnchor")(s.c.LatestAnchor(s.ctx(), admin(fx.Warehouse), e.ID))
	if latest.Seq != 3 {
		t.Errorf("LatestAnchor seq = %d, want 3", latest.Seq)
	}
	list := got[[]ledger.Anchor](s, "ListAnchors")(s.c.Anchors(s.ctx(), admin(fx.Warehouse), e.ID, 1, 2))
	if len(list) != 2 || list[0].Seq != 1 || list[1].Seq != 2 {
		t.Errorf("ListAnchors(from 1, limit 2) = %+v", list)
	}
	all := got[[]ledger.Anchor](s, "ListAnchors")(s.c.Anchors(s.ctx(), admin(fx.Warehouse), e.ID, 0, 0))
	if len(all) != 4 {
		t.Fatalf("ListAnchors = %d anchors, want 4", len(all))
	}
	// The anchored chain verifies link by link with the batch package.
	for i := 1; i < len(all); i++ {
		if err := hs[i].Follows(hs[i-1]); err != nil || all[i].Prev != all[i-1].HeaderHash {
			t.Errorf("chain broken at seq %d: %v", i, err)
		}
	}
	raw, _ := json.Marshal(hs[3])
	if _, err := s.l.Submit(s.ctx(), s.operator(mfr), ledger.FnAnchorBatch, string(raw), "%%%"); err == nil {
		t.Errorf("signature not base64 accepted")
	} else {
		wantCode(t, "signature not base64", err, ledger.Invalid)
	}
}
