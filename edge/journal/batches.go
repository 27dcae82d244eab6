package journal

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger/batch"
)

// Chain is the edge's header-chain state.
type Chain struct {
	NextSeq   uint64 `json:"nextSeq"`   // sequence of the next batch
	PrevHash  string `json:"prevHash"`  // hash of the last sealed header, "" before seq 0
	NextEvent uint64 `json:"nextEvent"` // first event sequence not yet sealed
}

// Batch is a sealed batch waiting for the gateway's acknowledgement.
type Batch struct {
	Header     batch.Header `json:"header"`
	Signature  []byte       `json:"signature"`
	FirstEvent uint64       `json:"firstEvent"`
	LastEvent  uint64       `json:"lastEvent"`
	SealedAt   time.Time    `json:"sealedAt"`
}

// Chain returns the header-chain state.
func (j *Journal) Chain() (Chain, error) {
	var c Chain
	err := j.db.View(func(txn *badger.Txn) error {
		var err error
		c, err = readChain(txn)
		return err
	})
	return c, err
}

func readChain(txn *badger.Txn) (Chain, error) {
	var c Chain
	it, err := txn.Get(kMeta)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	err = it.Value(func(v []byte) error { return json.Unmarshal(v, &c) })
	return c, err
}

// PendingCount counts events not yet sealed, up to limit.
func (j *Journal) PendingCount(limit int) (int, error) {
	n := 0
	err := j.db.View(func(txn *badger.Txn) error {
		c, err := readChain(txn)
		if err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pEvent})
		defer it.Close()
		for it.Seek(seqKey(pEvent, c.NextEvent)); it.ValidForPrefix(pEvent) && n < limit; it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// Seal cuts the next batch from up to maxCount pending events, signs its
// header with key and stores it, all in one transaction. It returns nil
// when nothing is pending.
func (j *Journal) Seal(edge string, key ed25519.PrivateKey, maxCount int) (*Batch, error) {
	j.evMu.Lock()
	defer j.evMu.Unlock()
	var out *Batch
	err := j.db.Update(func(txn *badger.Txn) error {
		c, err := readChain(txn)
		if err != nil {
			return fmt.Errorf("read chain: %w", err)
		}
		var hashes [][32]byte
		var from, to time.Time
		var first, last uint64
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: pEvent})
		for it.Seek(seqKey(pEvent, c.NextEvent)); it.ValidForPrefix(pEvent) && len(hashes) < maxCount; it.Next() {
			seq := keySeq(pEvent, it.Item().Key())
			var e Event
			if err := it.Item().Value(func(v []byte) error {
				var err error
				e, err = decodeEvent(seq, v)
				return err
			}); err != nil {
				it.Close()
				return err
			}
			if len(hashes) == 0 {
				first, from, to = seq, e.Time, e.Time
			}
			if e.Time.Before(from) {
				from = e.Time
			}
			if e.Time.After(to) {
				to = e.Time
			}
			last = seq
			hashes = append(hashes, e.Hash)
		}
		it.Close()
		if len(hashes) == 0 {
			return nil
		}
		root, err := batch.Root(hashes)
		if err != nil {
			return err
		}
		h := batch.Header{
			Edge: edge, Seq: c.NextSeq, Prev: c.PrevHash, Count: uint64(len(hashes)),
			From: batch.FormatTime(from), To: batch.FormatTime(to),
			Root: hex.EncodeToString(root[:]), Alg: batch.Alg,
		}
		sig, err := h.Sign(key)
		if err != nil {
			return err
		}
		hh, err := h.Hash()
		if err != nil {
			return err
		}
		b := &Batch{Header: h, Signature: sig, FirstEvent: first, LastEvent: last, SealedAt: time.Now().UTC()}
		bv, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if err := txn.Set(seqKey(pBatch, h.Seq), bv); err != nil {
			return err
		}
		next := Chain{NextSeq: h.Seq + 1, PrevHash: hh, NextEvent: last + 1}
		cv, _ := json.Marshal(next)
		if err := txn.Set(kMeta, cv); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seal batch: %w", err)
	}
	if out != nil {
		if err := j.db.Sync(); err != nil {
			return nil, fmt.Errorf("seal batch %d: sync: %w", out.Header.Seq, err)
		}
		j.durableNext.Store(out.Header.Seq + 1)
	}
	return out, nil
}

// OldestUnacked returns the lowest-sequence batch not yet acknowledged.
// A batch whose seal is not yet known to be on disk is not offered: it must
// never leave the edge and then be sealed differently after a crash.
func (j *Journal) OldestUnacked() (Batch, bool, error) {
	var b Batch
	var ok bool
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 1, Prefix: pBatch})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return nil
		}
		ok = true
		return it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &b) })
	})
	if ok && b.Header.Seq >= j.durableNext.Load() {
		return Batch{}, false, err
	}
	return b, ok, err
}

// BatchEvents returns the events of b, in leaf order.
func (j *Journal) BatchEvents(b Batch) ([]Event, error) {
	out := make([]Event, 0, b.Header.Count)
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: pEvent})
		defer it.Close()
		for it.Seek(seqKey(pEvent, b.FirstEvent)); it.ValidForPrefix(pEvent); it.Next() {
			seq := keySeq(pEvent, it.Item().Key())
			if seq > b.LastEvent {
				break
			}
			if err := it.Item().Value(func(v []byte) error {
				e, err := decodeEvent(seq, v)
				out = append(out, e)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(out)) != b.Header.Count {
		return nil, fmt.Errorf("batch %d: journal holds %d of its %d events", b.Header.Seq, len(out), b.Header.Count)
	}
	return out, nil
}

// Ack records the gateway's acknowledgement of batch b: its events and the
// batch record leave the journal in one transaction. Only the chain state
// remains.
func (j *Journal) Ack(b Batch) error {
	err := j.db.Update(func(txn *badger.Txn) error {
		var keys [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pEvent})
		for it.Seek(seqKey(pEvent, b.FirstEvent)); it.ValidForPrefix(pEvent); it.Next() {
			k := it.Item().KeyCopy(nil)
			if keySeq(pEvent, k) > b.LastEvent {
				break
			}
			keys = append(keys, k)
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Delete(seqKey(pBatch, b.Header.Seq))
	})
	if err != nil {
		return fmt.Errorf("ack batch %d: %w", b.Header.Seq, err)
	}
	return nil
}
