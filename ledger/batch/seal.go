package batch

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// Leaf is one event of a batch to seal: its CBV 2.0 hash, its JSON and its
// event time.
type Leaf struct {
	Hash [32]byte
	JSON []byte
	Time time.Time
}

// Seal builds batch seq of edge over leaves (in leaf order), after the
// header whose hash is prev ("" for seq 0), and signs it with key.
func Seal(key ed25519.PrivateKey, edge string, seq uint64, prev string, leaves []Leaf) (Sealed, error) {
	if len(leaves) == 0 {
		return Sealed{}, errors.New("batch: nothing to seal")
	}
	hs := make([][32]byte, len(leaves))
	s := Sealed{Events: make([]json.RawMessage, len(leaves))}
	from, to := leaves[0].Time, leaves[0].Time
	for i, l := range leaves {
		hs[i] = l.Hash
		s.Events[i] = json.RawMessage(l.JSON)
		if l.Time.Before(from) {
			from = l.Time
		}
		if l.Time.After(to) {
			to = l.Time
		}
	}
	root, err := Root(hs)
	if err != nil {
		return Sealed{}, err
	}
	s.Header = Header{Edge: edge, Seq: seq, Prev: prev, Count: uint64(len(leaves)), From: FormatTime(from), To: FormatTime(to), Root: hex.EncodeToString(root[:]), Alg: Alg}
	if s.Signature, err = s.Header.Sign(key); err != nil {
		return Sealed{}, err
	}
	return s, nil
}
