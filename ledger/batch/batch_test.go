package batch

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func hashes(n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		out[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8)})
	}
	return out
}

// TestRootMatchesRFC6962 checks the tree against a direct recursive
// implementation of RFC 6962 §2.1 MTH for many sizes.
func TestRootMatchesRFC6962(t *testing.T) {
	var mth func(leaves [][]byte) []byte
	mth = func(leaves [][]byte) []byte {
		if len(leaves) == 1 {
			return Hasher.HashLeaf(leaves[0])
		}
		k := 1
		for k*2 < len(leaves) {
			k *= 2
		}
		return Hasher.HashChildren(mth(leaves[:k]), mth(leaves[k:]))
	}
	for n := 1; n <= 70; n++ {
		hs := hashes(n)
		got, err := Root(hs)
		if err != nil {
			t.Fatal(err)
		}
		raw := make([][]byte, n)
		for i := range hs {
			raw[i] = hs[i][:]
		}
		if want := mth(raw); hex.EncodeToString(want) != hex.EncodeToString(got[:]) {
			t.Fatalf("size %d: root %x, want %x", n, got, want)
		}
		for i := 0; i < n; i++ {
			path, err := InclusionProof(hs, uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(hs[i], uint64(i), uint64(n), path, hex.EncodeToString(got[:])); err != nil {
				t.Fatalf("size %d leaf %d: %v", n, i, err)
			}
			if i > 0 {
				if err := VerifyInclusion(hs[i-1], uint64(i), uint64(n), path, hex.EncodeToString(got[:])); !errors.Is(err, ErrInclusion) {
					t.Fatalf("wrong leaf accepted: %v", err)
				}
			}
		}
	}
}

// TestRFC6962Vector checks the empty-string leaf of RFC 6962's test data.
func TestRFC6962Vector(t *testing.T) {
	// Leaf hash of the empty leaf, from RFC 6962 test vectors
	// (certificate-transparency-go merkletree tests).
	want := "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
	if got := hex.EncodeToString(Hasher.HashLeaf(nil)); got != want {
		t.Fatalf("empty leaf %s, want %s", got, want)
	}
}

func TestSignVerifyChain(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	root, _ := Root(hashes(3))
	h0 := Header{Edge: "edge-1", Seq: 0, Count: 3, From: "2026-11-25T10:00:00.000Z", To: "2026-11-25T10:00:01.000Z", Root: hex.EncodeToString(root[:]), Alg: Alg}
	if err := h0.Validate(); err != nil {
		t.Fatal(err)
	}
	sig, err := h0.Sign(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := h0.Verify(pub, sig); err != nil {
		t.Fatal(err)
	}
	c, _ := h0.Canonical()
	if string(c) != `{"alg":"rfc6962-sha256","count":3,"edge":"edge-1","from":"2026-11-25T10:00:00.000Z","prev":"","root":"`+h0.Root+`","seq":0,"to":"2026-11-25T10:00:01.000Z"}` {
		t.Fatalf("canonical bytes %s", c)
	}
	bad := h0
	bad.Count = 4
	if err := bad.Verify(pub, sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("changed header verified: %v", err)
	}
	ph, _ := h0.Hash()
	h1 := h0
	h1.Seq, h1.Prev = 1, ph
	if err := h1.Follows(h0); err != nil {
		t.Fatal(err)
	}
	h1.Prev = ph[:63] + "0"
	if err := h1.Follows(h0); !errors.Is(err, ErrChain) {
		t.Fatalf("broken chain accepted: %v", err)
	}
}
