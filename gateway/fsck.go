package gateway

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger/batch"
)

// FsckReport is what a whole-store check found.
type FsckReport struct {
	Edges    int      `json:"edges"`
	Batches  int      `json:"batches"`
	Events   int      `json:"events"`
	Anchored int      `json:"anchored"`
	Pending  int      `json:"pending"`
	Problems []string `json:"problems"`
}

// OK reports whether nothing was wrong.
func (r FsckReport) OK() bool { return len(r.Problems) == 0 }

// Fsck walks every batch of every edge: the header chain, the signature
// against the key registered on the ledger, the root over the stored
// leaves, every leaf's event (present, hashing to its leaf) and every
// recorded anchor against the ledger. progress, when set, is called after
// each edge.
func (s *Service) Fsck(ctx context.Context, progress func(edge string, batches int)) (FsckReport, error) {
	var r FsckReport
	edges, err := s.st.Edges()
	if err != nil {
		return r, err
	}
	r.Edges = len(edges)
	bad := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	for _, eh := range edges {
		dev, err := s.led.Device(ctx, s.cfg.Reader, eh.Edge)
		var key []byte
		if err != nil {
			bad("edge %s: not readable on the ledger: %v", eh.Edge, err)
		} else if key, err = base64.StdEncoding.DecodeString(dev.PublicKey); err != nil {
			bad("edge %s: registered key is not base64", eh.Edge)
		}
		var prev *batch.Header
		for seq := uint64(0); seq < eh.NextSeq; seq++ {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			b, err := s.st.Batch(eh.Edge, seq)
			if err != nil {
				bad("edge %s batch %d: missing (the head says %d batches were accepted): %v", eh.Edge, seq, eh.NextSeq, err)
				prev = nil
				continue
			}
			r.Batches++
			h := b.Header
			if prev != nil {
				if err := h.Follows(*prev); err != nil {
					bad("edge %s batch %d: %v", eh.Edge, seq, err)
				}
			} else if seq == 0 && h.Prev != "" {
				bad("edge %s batch 0: prev is %q, want empty", eh.Edge, h.Prev)
			}
			if hh, _ := h.Hash(); hh != b.HeaderHash {
				bad("edge %s batch %d: stored header hash %s, header hashes to %s", eh.Edge, seq, b.HeaderHash, hh)
			}
			if key != nil {
				if err := h.Verify(key, b.Signature); err != nil {
					bad("edge %s batch %d: %v", eh.Edge, seq, err)
				}
			}
			leaves := b.EventHashes()
			if uint64(len(leaves)) != h.Count {
				bad("edge %s batch %d: %d leaves stored, header count %d", eh.Edge, seq, len(leaves), h.Count)
			} else if root, err := batch.Root(leaves); err != nil || hex.EncodeToString(root[:]) != h.Root {
				bad("edge %s batch %d: stored leaves do not hash to the header root", eh.Edge, seq)
			}
			for i, leaf := range leaves {
				rec, err := s.st.Event(leaf)
				if err != nil {
					bad("edge %s batch %d leaf %d: event %x missing", eh.Edge, seq, i, leaf)
					continue
				}
				r.Events++
				ev, err := parseEvent(rec.Event)
				if err != nil {
					bad("event %s: stored JSON unreadable: %v", rec.EventID, err)
					continue
				}
				got, err := hashEvent(ev)
				if err != nil || got != leaf {
					bad("event %s (edge %s batch %d leaf %d): stored event no longer hashes to its leaf", rec.EventID, eh.Edge, seq, i)
				}
			}
			a, err := s.st.Anchor(eh.Edge, seq)
			switch {
			case errors.Is(err, store.ErrNotFound):
				r.Pending++
			case err != nil:
				bad("edge %s batch %d: anchor record unreadable: %v", eh.Edge, seq, err)
			default:
				r.Anchored++
				la, err := s.led.Anchor(ctx, s.cfg.Reader, eh.Edge, seq)
				switch {
				case err != nil:
					bad("edge %s batch %d: recorded as anchored in tx %s, but the ledger says: %v", eh.Edge, seq, a.TxID, err)
				case la.HeaderHash != b.HeaderHash:
					bad("edge %s batch %d: the ledger anchors header %s, the store holds %s", eh.Edge, seq, la.HeaderHash, b.HeaderHash)
				case la.TxID != a.TxID:
					bad("edge %s batch %d: anchor tx %s recorded, the ledger's is %s", eh.Edge, seq, a.TxID, la.TxID)
				}
			}
			hc := h
			prev = &hc
		}
		if progress != nil {
			progress(eh.Edge, int(eh.NextSeq))
		}
	}
	return r, nil
}

func hashEvent(ev epcis.Event) ([32]byte, error) { return epcis.Hash(ev, nil) }
