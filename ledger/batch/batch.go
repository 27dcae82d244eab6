// Package batch defines the signed batch header that edges seal their events
// into, and the RFC 6962 Merkle tree over event hashes that the header's root
// commits to.
//
// The header format is part of tracegate's stable proof format: third parties
// verify proofs with it, so every rule here (JCS canonical bytes, Ed25519
// signature over them, RFC 6962 hashing with the 32-byte CBV 2.0 event hash
// as leaf data) is fixed. See docs/proof-format.md.
package batch

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gowebpki/jcs"
)

// Alg names the tree and hash construction of a batch.
const Alg = "rfc6962-sha256"

// Header is a batch header. Its JSON form has exactly these fields.
type Header struct {
	Edge  string `json:"edge"`
	Seq   uint64 `json:"seq"`
	Prev  string `json:"prev"`
	Count uint64 `json:"count"`
	From  string `json:"from"`
	To    string `json:"to"`
	Root  string `json:"root"`
	Alg   string `json:"alg"`
}

// TimeFormat is the layout of Header.From and Header.To: RFC 3339 in UTC with
// millisecond precision, the precision the CBV 2.0 event hash keeps.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t as a header time.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Canonical returns the header's RFC 8785 (JCS) serialisation, the bytes the
// edge signs and the bytes whose SHA-256 the next header names as prev.
func (h Header) Canonical() ([]byte, error) {
	raw, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("marshal header: %w", err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalise header: %w", err)
	}
	return out, nil
}

// Hash returns the lowercase hex SHA-256 of the header's canonical bytes.
func (h Header) Hash() (string, error) {
	c, err := h.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// Errors returned by Validate, Verify and VerifyInclusion. Callers tell them
// apart with errors.Is.
var (
	ErrMalformed = errors.New("malformed batch header")
	ErrSignature = errors.New("batch header signature does not verify")
	ErrRoot      = errors.New("merkle root does not match the events")
	ErrChain     = errors.New("batch header chain is broken")
	ErrInclusion = errors.New("audit path does not lead to the header root")
)

// Validate checks the header's own fields for well-formedness.
func (h Header) Validate() error {
	switch {
	case h.Edge == "":
		return fmt.Errorf("%w: empty edge", ErrMalformed)
	case h.Alg != Alg:
		return fmt.Errorf("%w: alg %q, want %q", ErrMalformed, h.Alg, Alg)
	case h.Count == 0:
		return fmt.Errorf("%w: count is 0", ErrMalformed)
	case h.Seq == 0 && h.Prev != "":
		return fmt.Errorf("%w: seq 0 must have empty prev", ErrMalformed)
	case h.Seq > 0 && !isHex32(h.Prev):
		return fmt.Errorf("%w: prev %q is not 64 lowercase hex digits", ErrMalformed, h.Prev)
	case !isHex32(h.Root):
		return fmt.Errorf("%w: root %q is not 64 lowercase hex digits", ErrMalformed, h.Root)
	}
	from, err := time.Parse(time.RFC3339Nano, h.From)
	if err != nil {
		return fmt.Errorf("%w: from: %v", ErrMalformed, err)
	}
	to, err := time.Parse(time.RFC3339Nano, h.To)
	if err != nil {
		return fmt.Errorf("%w: to: %v", ErrMalformed, err)
	}
	if to.Before(from) {
		return fmt.Errorf("%w: to %s is before from %s", ErrMalformed, h.To, h.From)
	}
	return nil
}

func isHex32(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Sign signs the header's canonical bytes with key.
func (h Header) Sign(key ed25519.PrivateKey) ([]byte, error) {
	c, err := h.Canonical()
	if err != nil {
		return nil, err
	}
	return ed25519.Sign(key, c), nil
}

// Verify checks sig over the header's canonical bytes with pub.
func (h Header) Verify(pub ed25519.PublicKey, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: edge key is %d bytes, want %d", ErrSignature, len(pub), ed25519.PublicKeySize)
	}
	c, err := h.Canonical()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, c, sig) {
		return fmt.Errorf("%w (edge %s, seq %d)", ErrSignature, h.Edge, h.Seq)
	}
	return nil
}

// Follows checks that h is the successor of prev in one edge's chain.
func (h Header) Follows(prev Header) error {
	if h.Edge != prev.Edge {
		return fmt.Errorf("%w: edge %q follows edge %q", ErrChain, h.Edge, prev.Edge)
	}
	if h.Seq != prev.Seq+1 {
		return fmt.Errorf("%w: seq %d follows seq %d", ErrChain, h.Seq, prev.Seq)
	}
	ph, err := prev.Hash()
	if err != nil {
		return err
	}
	if h.Prev != ph {
		return fmt.Errorf("%w: seq %d names prev %s, but seq %d hashes to %s", ErrChain, h.Seq, h.Prev, prev.Seq, ph)
	}
	return nil
}

// EqualBytes reports whether two headers serialise to the same canonical bytes.
func EqualBytes(a, b Header) bool {
	ca, err1 := a.Canonical()
	cb, err2 := b.Canonical()
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}

// Sealed is a batch as it travels from an edge to the gateway: the header,
// the edge's signature over it, and the events in leaf order. Each event's
// CBV 2.0 hash is its leaf data.
type Sealed struct {
	Header    Header            `json:"header"`
	Signature []byte            `json:"signature"` // base64 (standard) in JSON
	Events    []json.RawMessage `json:"events"`
}
