package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// LotRef names a lot of a product.
type LotRef struct {
	GTIN string `json:"gtin"`
	Lot  string `json:"lot"`
}

// IndexedEvent is an event with the values it is indexed by.
type IndexedEvent struct {
	Hash   [32]byte
	Record EventRecord
	EPCs   []string // every EPC the event names
	Lots   []LotRef
	// Serials maps serialised EPCs to the lot this event commissions them
	// into (from its ILMD).
	Serials     map[string]LotRef
	BizLocation string
	ReadPoint   string
	Action      string
	Disposition string
	// Aggregation is set for AggregationEvents with a parent.
	Aggregation *Aggregation
	// Sensor is set for events with sensor measurements.
	Sensor *SensorValues
}

// OrderError says an edge sent a batch ahead of the one the gateway
// expects next.
type OrderError struct {
	Edge     string
	Got      uint64
	Expected uint64
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("edge %s sent batch %d, the gateway expects batch %d next", e.Edge, e.Got, e.Expected)
}

func (e *OrderError) Unwrap() error { return ErrOrder }

// ChainError says a batch does not name the previous accepted header.
type ChainError struct {
	Edge     string
	Seq      uint64
	Prev     string
	Expected string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("edge %s batch %d names prev %q, but the accepted batch %d hashes to %q", e.Edge, e.Seq, e.Prev, e.Seq-1, e.Expected)
}

func indexKey(name, value string, t time.Time, hash [32]byte) []byte {
	k := make([]byte, 0, len(pIndex)+len(name)+len(value)+2+8+32)
	k = append(k, pIndex...)
	k = append(k, name...)
	k = append(k, '/')
	k = append(k, value...)
	k = append(k, 0)
	k = append(k, time8(t)...)
	return append(k, hash[:]...)
}

func indexPrefix(name, value string) []byte {
	k := []byte(pIndex + name + "/" + value)
	return append(k, 0)
}

// Index names.
const (
	IdxTime     = "t"
	IdxRecorded = "rec"
	IdxEPC      = "epc"
	IdxLot      = "lot"
	IdxLocation = "loc"
	IdxReadPt   = "rp"
	IdxBizStep  = "bs"
	IdxType     = "type"
)

func lotValue(l LotRef) string { return l.GTIN + "|" + l.Lot }

// PutBatch stores an accepted batch with its events, their indexes and its
// anchoring job in one transaction. It reports dup when the same batch was
// already stored. A different batch with the same (edge, seq) is
// ErrConflict; a batch ahead of the expected sequence is an *OrderError; a
// batch whose prev does not name the last accepted header is a *ChainError.
func (s *Store) PutBatch(rec BatchRecord, events []IndexedEvent) (dup bool, newEvents int, err error) {
	h := rec.Header
	err = s.db.Update(func(txn *badger.Txn) error {
		var head Head
		if err := getJSON(txn, []byte(pHead+h.Edge), &head); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if h.Seq < head.NextSeq {
			var old BatchRecord
			if err := getJSON(txn, edgeSeqKey(pBatch, h.Edge, h.Seq), &old); err != nil {
				return fmt.Errorf("read accepted batch %s #%d: %w", h.Edge, h.Seq, err)
			}
			if old.HeaderHash == rec.HeaderHash {
				dup = true
				return nil
			}
			return fmt.Errorf("%w: edge %s batch %d was already accepted with header %s; this one hashes to %s", ErrConflict, h.Edge, h.Seq, old.HeaderHash, rec.HeaderHash)
		}
		if h.Seq > head.NextSeq {
			return &OrderError{Edge: h.Edge, Got: h.Seq, Expected: head.NextSeq}
		}
		if h.Prev != head.LastHash {
			return &ChainError{Edge: h.Edge, Seq: h.Seq, Prev: h.Prev, Expected: head.LastHash}
		}
		for _, ev := range events {
			ek := append([]byte(pEvent), ev.Hash[:]...)
			if _, err := txn.Get(ek); err == nil {
				continue // sealed before: the first batch stays its proof
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			newEvents++
			if err := setJSON(txn, ek, ev.Record); err != nil {
				return err
			}
			if err := indexEvent(txn, ev); err != nil {
				return err
			}
		}
		if err := setJSON(txn, edgeSeqKey(pBatch, h.Edge, h.Seq), rec); err != nil {
			return err
		}
		if err := txn.Set(recentBatchKey(rec.ReceivedAt, h.Edge, h.Seq), nil); err != nil {
			return err
		}
		if err := setJSON(txn, []byte(pHead+h.Edge), Head{NextSeq: h.Seq + 1, LastHash: rec.HeaderHash}); err != nil {
			return err
		}
		if err := setJSON(txn, edgeSeqKey(pQueue, h.Edge, h.Seq), QueueEntry{Edge: h.Edge, Seq: h.Seq, Queued: rec.ReceivedAt}); err != nil {
			return err
		}
		if err := addCounter(txn, "events", uint64(newEvents)); err != nil {
			return err
		}
		return addCounter(txn, "batches", 1)
	})
	if errors.Is(err, badger.ErrTxnTooBig) {
		return false, 0, fmt.Errorf("%w: %d events; lower the edge's batch.maxEvents", ErrTooBig, len(events))
	}
	return dup, newEvents, err
}

func indexEvent(txn *badger.Txn, ev IndexedEvent) error {
	r := ev.Record
	t := r.EventTime
	set := func(name, value string, tm time.Time) error {
		if value == "" {
			return nil
		}
		return txn.Set(indexKey(name, value, tm, ev.Hash), nil)
	}
	// The time indexes have an empty value (set skips those).
	if err := txn.Set(indexKey(IdxTime, "", t, ev.Hash), nil); err != nil {
		return err
	}
	if err := txn.Set(indexKey(IdxRecorded, "", r.RecordTime, ev.Hash), nil); err != nil {
		return err
	}
	seen := map[string]bool{}
	lots := append([]LotRef(nil), ev.Lots...)
	for _, e := range ev.EPCs {
		if seen[e] {
			continue
		}
		seen[e] = true
		if err := set(IdxEPC, e, t); err != nil {
			return err
		}
		if l, ok := ev.Serials[e]; ok {
			if err := setJSON(txn, []byte(pSerial+e), l); err != nil {
				return err
			}
			if err := txn.Set([]byte(pLotSer+l.GTIN+"\x00"+l.Lot+"\x00"+e), nil); err != nil {
				return err
			}
			lots = append(lots, l)
			continue
		}
		var l LotRef
		if err := getJSON(txn, []byte(pSerial+e), &l); err == nil {
			lots = append(lots, l)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	seenLot := map[LotRef]bool{}
	for _, l := range lots {
		if seenLot[l] {
			continue
		}
		seenLot[l] = true
		if err := set(IdxLot, lotValue(l), t); err != nil {
			return err
		}
	}
	for _, kv := range [][2]string{{IdxLocation, ev.BizLocation}, {IdxReadPt, ev.ReadPoint}, {IdxBizStep, r.BizStep}, {IdxType, r.Type}} {
		if err := set(kv[0], kv[1], t); err != nil {
			return err
		}
	}
	if err := indexSensor(txn, ev); err != nil {
		return err
	}
	return updateCurrent(txn, ev)
}

// SerialsOfLot lists the serialised EPCs commissioned into a lot.
func (s *Store) SerialsOfLot(l LotRef, limit int) ([]string, error) {
	var out []string
	prefix := []byte(pLotSer + l.GTIN + "\x00" + l.Lot + "\x00")
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && (limit <= 0 || len(out) < limit); it.Next() {
			out = append(out, string(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	return out, err
}

// LotOf returns the lot a serialised EPC was commissioned into.
func (s *Store) LotOf(epc string) (LotRef, error) {
	var l LotRef
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(pSerial+epc), &l) })
	return l, err
}

// Scan describes one walk over an index.
type Scan struct {
	Index string    // one of the Idx names
	Value string    // the indexed value ("" for IdxTime and IdxRecorded)
	From  time.Time // inclusive; zero for the beginning
	To    time.Time // exclusive; zero for the end
	Desc  bool
	After []byte // resume after this key (from a previous page)
	Limit int
}

// LotIndexValue is the Value of a Scan over IdxLot.
func LotIndexValue(l LotRef) string { return lotValue(l) }

// Walk visits events of an index in time order, calling match for each;
// matched events are returned, up to Limit. next is the resume key when
// more may follow.
func (s *Store) Walk(sc Scan, match func(*EventRecord) bool) (out []EventRecord, next []byte, err error) {
	prefix := indexPrefix(sc.Index, sc.Value)
	lo := append(append([]byte{}, prefix...), time8(sc.From)...)
	if sc.From.IsZero() {
		lo = append([]byte{}, prefix...)
	}
	var hi []byte
	if !sc.To.IsZero() {
		hi = append(append([]byte{}, prefix...), time8(sc.To)...)
	}
	limit := sc.Limit
	if limit <= 0 {
		limit = 100
	}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: sc.Desc})
		defer it.Close()
		switch {
		case sc.After != nil:
			it.Seek(sc.After)
			if it.Valid() && bytes.Equal(it.Item().Key(), sc.After) {
				it.Next()
			}
		case sc.Desc && hi != nil:
			it.Seek(hi)
			if it.Valid() && bytes.Compare(it.Item().Key(), hi) >= 0 {
				it.Next()
			}
		case sc.Desc:
			it.Seek(append(append([]byte{}, prefix...), 0xff))
		default:
			it.Seek(lo)
		}
		for ; it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()
			if !sc.Desc && hi != nil && bytes.Compare(k, hi) >= 0 {
				break
			}
			if sc.Desc && bytes.Compare(k, lo) < 0 {
				break
			}
			if len(k) < len(prefix)+40 {
				continue
			}
			var rec EventRecord
			if err := getJSON(txn, append([]byte(pEvent), k[len(k)-32:]...), &rec); err != nil {
				return fmt.Errorf("index entry without event: %w", err)
			}
			if match != nil && !match(&rec) {
				continue
			}
			if len(out) == limit {
				next = out[len(out)-1].cursor
				return nil
			}
			rec.cursor = append([]byte{}, k...)
			out = append(out, rec)
		}
		return nil
	})
	return out, next, err
}
