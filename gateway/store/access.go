package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// The access log: every read of another organisation's data through the
// gateway, in append order. Entries are sealed into signed batches (like
// readings) and the batches anchored on the ledger, so the log is
// tamper-evident without one ledger transaction per read.
const (
	pAccess      = "xl/e/" // xl/e/{seq8} -> AccessRecord JSON
	pAccessOwner = "xl/o/" // xl/o/{owner}\x00{seq8} -> nil
	pAccessBatch = "xl/b/" // xl/b/{batch seq8} -> AccessBatch JSON
	kAccessNext  = "xl/next"
	kAccessSeal  = "xl/sealed" // next entry seq not yet sealed
)

// AccessRecord is a stored access-log entry: the entry's JSON (its leaf
// data: the CBV-style hash of its canonical form) plus where it was sealed.
type AccessRecord struct {
	Seq   uint64          `json:"seq"`
	Owner string          `json:"owner"`
	Entry json.RawMessage `json:"entry"`
	Hash  string          `json:"hash"` // hex SHA-256 of the entry's canonical JSON
	// Batch and Index place the entry in a sealed batch (Sealed false
	// until then).
	Sealed bool   `json:"sealed"`
	Batch  uint64 `json:"batch"`
	Index  uint64 `json:"index"`
}

// AccessBatch is a sealed batch of access-log entries.
type AccessBatch struct {
	Seq       uint64   `json:"seq"`
	Header    []byte   `json:"header"` // the batch header's JSON
	Signature []byte   `json:"signature"`
	Entries   []uint64 `json:"entries"` // entry seqs in leaf order
	Hashes    []string `json:"hashes"`  // their leaf hashes (hex)
	TxID      string   `json:"txID,omitempty"`
	Anchored  bool     `json:"anchored"`
	LastError string   `json:"lastError,omitempty"`
}

// AppendAccess stores an entry durably and returns its sequence number.
func (s *Store) AppendAccess(owner string, entry json.RawMessage, hash string) (uint64, error) {
	var seq uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		n, err := readUint(txn, []byte(kAccessNext))
		if err != nil {
			return err
		}
		seq = n
		b, err := json.Marshal(AccessRecord{Seq: seq, Owner: owner, Entry: entry, Hash: hash})
		if err != nil {
			return err
		}
		if err := txn.Set(append([]byte(pAccess), seq8(seq)...), b); err != nil {
			return err
		}
		if err := txn.Set(append([]byte(pAccessOwner+owner+"\x00"), seq8(seq)...), nil); err != nil {
			return err
		}
		return txn.Set([]byte(kAccessNext), seq8(seq+1))
	})
	return seq, err
}

func getAccess(txn *badger.Txn, seq uint64) (AccessRecord, error) {
	var r AccessRecord
	it, err := txn.Get(append([]byte(pAccess), seq8(seq)...))
	if err != nil {
		return r, err
	}
	err = it.Value(func(b []byte) error { return json.Unmarshal(b, &r) })
	return r, err
}

// UnsealedAccess returns up to limit entries not yet sealed, in order.
func (s *Store) UnsealedAccess(limit int) ([]AccessRecord, error) {
	var out []AccessRecord
	err := s.db.View(func(txn *badger.Txn) error {
		from, err := readUint(txn, []byte(kAccessSeal))
		if err != nil {
			return err
		}
		next, err := readUint(txn, []byte(kAccessNext))
		if err != nil {
			return err
		}
		for q := from; q < next && len(out) < limit; q++ {
			r, err := getAccess(txn, q)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// SealAccess stores a sealed batch over entries (which must be the next
// unsealed ones, in order) and marks them sealed, in one transaction.
func (s *Store) SealAccess(b AccessBatch) error {
	return s.db.Update(func(txn *badger.Txn) error {
		from, err := readUint(txn, []byte(kAccessSeal))
		if err != nil {
			return err
		}
		for i, q := range b.Entries {
			if q != from+uint64(i) {
				return errors.New("access log: entries to seal are not the next unsealed ones")
			}
			r, err := getAccess(txn, q)
			if err != nil {
				return err
			}
			r.Sealed, r.Batch, r.Index = true, b.Seq, uint64(i)
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := txn.Set(append([]byte(pAccess), seq8(q)...), v); err != nil {
				return err
			}
		}
		v, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if err := txn.Set(append([]byte(pAccessBatch), seq8(b.Seq)...), v); err != nil {
			return err
		}
		return txn.Set([]byte(kAccessSeal), seq8(from+uint64(len(b.Entries))))
	})
}

// PutAccessBatch updates a sealed batch (its anchoring state).
func (s *Store) PutAccessBatch(b AccessBatch) error {
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(append([]byte(pAccessBatch), seq8(b.Seq)...), v)
	})
}

// AccessBatches returns sealed batches from seq from on, in order (limit
// <= 0: all).
func (s *Store) AccessBatches(from uint64, limit int) ([]AccessBatch, error) {
	var out []AccessBatch
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pAccessBatch), PrefetchValues: true})
		defer it.Close()
		for it.Seek(append([]byte(pAccessBatch), seq8(from)...)); it.ValidForPrefix([]byte(pAccessBatch)); it.Next() {
			var b AccessBatch
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &b) }); err != nil {
				return err
			}
			out = append(out, b)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// AccessBatch returns one sealed batch.
func (s *Store) AccessBatch(seq uint64) (AccessBatch, error) {
	var b AccessBatch
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(append([]byte(pAccessBatch), seq8(seq)...))
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error { return json.Unmarshal(v, &b) })
	})
	return b, err
}

// AccessOf returns an owner's access-log entries, newest first.
func (s *Store) AccessOf(owner string, limit int) ([]AccessRecord, error) {
	if limit <= 0 {
		limit = 200
	}
	prefix := []byte(pAccessOwner + owner + "\x00")
	var out []AccessRecord
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(append([]byte{}, prefix...), 0xff)); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			k := it.Item().Key()
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			r, err := getAccess(txn, seq)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// LastAccessBatch returns the newest sealed batch (false when none).
func (s *Store) LastAccessBatch() (AccessBatch, bool, error) {
	var b AccessBatch
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := []byte(pAccessBatch)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		it.Seek(append(append([]byte{}, prefix...), 0xff))
		if !it.ValidForPrefix(prefix) {
			return nil
		}
		found = true
		return it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &b) })
	})
	return b, found, err
}
