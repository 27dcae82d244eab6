// Package store is the gateway's Badger store: accepted batches and their
// leaves, events with their indexes (by eventID, EPC, lot, location, read
// point, business step, type and time), the anchoring queue and anchors,
// and capture jobs.
//
// A batch is stored in one transaction with its events, their indexes and
// its anchoring job: nothing is ever half-stored.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/tracegate/tracegate/ledger/batch"
)

// Key prefixes.
const (
	pEvent   = "ev/" // ev/{hash32} -> EventRecord
	pIndex   = "ix/" // ix/{name}/{value}\x00{time8}{hash32} -> nil
	pBatch   = "bt/" // bt/{edge}\x00{seq8} -> BatchRecord
	pHead    = "bh/" // bh/{edge} -> Head
	pQueue   = "aq/" // aq/{edge}\x00{seq8} -> QueueEntry
	pAnchor  = "an/" // an/{edge}\x00{seq8} -> AnchorRecord
	pJob     = "cj/" // cj/{id} -> CaptureJob
	pSerial  = "sl/" // sl/{epc} -> LotRef (serial -> lot, from commissioning ILMD)
	pLotSer  = "ls/" // ls/{gtin}\x00{lot}\x00{epc} -> nil
	pMetaKey = "meta/"
	pRecent  = "br/" // br/{time8}{edge}\x00{seq8} -> nil: batches by arrival
)

// Errors callers tell apart.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrOrder    = errors.New("out of order")
	ErrTooBig   = errors.New("batch too large for one atomic write")
)

// Store is the gateway's Badger store.
type Store struct {
	db *badger.DB
}

// Open opens or creates the store in dir.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{log.With("component", "gateway-store")}).
		WithMemTableSize(64 << 20).
		WithValueThreshold(256).
		WithNumVersionsToKeep(1).
		WithCompression(options.ZSTD).
		WithBlockCacheSize(64 << 20)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open gateway store in %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the database for packages that keep their own records in the
// gateway store under their own prefixes.
func (s *Store) DB() *badger.DB { return s.db }

func seq8(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func time8(t time.Time) []byte { return seq8(uint64(t.UnixNano()) ^ (1 << 63)) }

func readTime8(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

func edgeSeqKey(prefix, edge string, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+len(edge)+9)
	k = append(k, prefix...)
	k = append(k, edge...)
	k = append(k, 0)
	return append(k, seq8(seq)...)
}

func getJSON(txn *badger.Txn, key []byte, v any) error {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return it.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// Head is how far an edge's chain has been accepted.
type Head struct {
	NextSeq  uint64 `json:"nextSeq"`
	LastHash string `json:"lastHash"`
}

// BatchRecord is an accepted batch.
type BatchRecord struct {
	Header     batch.Header `json:"header"`
	HeaderHash string       `json:"headerHash"`
	Signature  []byte       `json:"signature"`
	Leaves     []byte       `json:"leaves"` // event hashes, 32 bytes each, in leaf order
	ReceivedAt time.Time    `json:"receivedAt"`
	Source     string       `json:"source"` // "edge" or "capture"
}

// EventHashes returns the batch's leaf data.
func (b BatchRecord) EventHashes() [][32]byte {
	out := make([][32]byte, len(b.Leaves)/32)
	for i := range out {
		copy(out[i][:], b.Leaves[i*32:])
	}
	return out
}

// EventRecord is an indexed event and where it was sealed.
type EventRecord struct {
	EventID    string          `json:"eventID"`
	Event      json.RawMessage `json:"event"`
	Edge       string          `json:"edge"`
	Seq        uint64          `json:"seq"`
	Leaf       uint64          `json:"leaf"`
	EventTime  time.Time       `json:"eventTime"`
	RecordTime time.Time       `json:"recordTime"`
	Type       string          `json:"type"`
	BizStep    string          `json:"bizStep,omitempty"`

	cursor []byte // index key it was found under, for paging
}

// AnchorRecord is where a batch is anchored on the ledger.
type AnchorRecord struct {
	Ledger     string    `json:"ledger"`
	Channel    string    `json:"channel"`
	TxID       string    `json:"txID"`
	Block      uint64    `json:"block"`
	AnchoredAt time.Time `json:"anchoredAt"`
}

// QueueEntry is a batch waiting to be anchored.
type QueueEntry struct {
	Edge      string    `json:"edge"`
	Seq       uint64    `json:"seq"`
	Queued    time.Time `json:"queued"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	Permanent bool      `json:"permanent,omitempty"`
}

// Head returns an edge's accepted chain position.
func (s *Store) Head(edge string) (Head, error) {
	var h Head
	err := s.db.View(func(txn *badger.Txn) error {
		err := getJSON(txn, []byte(pHead+edge), &h)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	return h, err
}

// Batch returns an accepted batch.
func (s *Store) Batch(edge string, seq uint64) (BatchRecord, error) {
	var b BatchRecord
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, edgeSeqKey(pBatch, edge, seq), &b) })
	return b, err
}

// Anchor returns the anchor of a batch, ErrNotFound while it is pending.
func (s *Store) Anchor(edge string, seq uint64) (AnchorRecord, error) {
	var a AnchorRecord
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, edgeSeqKey(pAnchor, edge, seq), &a) })
	return a, err
}

// Event returns an indexed event by its hash.
func (s *Store) Event(hash [32]byte) (EventRecord, error) {
	var e EventRecord
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, append([]byte(pEvent), hash[:]...), &e) })
	return e, err
}

// Queue returns the anchoring queue in (edge, seq) order.
func (s *Store) Queue(limit int) ([]QueueEntry, error) {
	var out []QueueEntry
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte(pQueue)})
		defer it.Close()
		for it.Rewind(); it.Valid() && (limit <= 0 || len(out) < limit); it.Next() {
			var q QueueEntry
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &q) }); err != nil {
				return err
			}
			out = append(out, q)
		}
		return nil
	})
	return out, err
}

// UpdateQueue records a failed anchoring attempt.
func (s *Store) UpdateQueue(q QueueEntry) error {
	return s.db.Update(func(txn *badger.Txn) error {
		return setJSON(txn, edgeSeqKey(pQueue, q.Edge, q.Seq), q)
	})
}

// SetAnchored records a batch's anchor and takes it off the queue.
func (s *Store) SetAnchored(edge string, seq uint64, a AnchorRecord) error {
	return s.db.Update(func(txn *badger.Txn) error {
		if err := setJSON(txn, edgeSeqKey(pAnchor, edge, seq), a); err != nil {
			return err
		}
		if err := addCounter(txn, "anchored", 1); err != nil {
			return err
		}
		return txn.Delete(edgeSeqKey(pQueue, edge, seq))
	})
}

// Counts are totals for the dashboard and metrics.
type Counts struct {
	Events   uint64 `json:"events"`
	Batches  uint64 `json:"batches"`
	Anchored uint64 `json:"anchored"`
	Queued   uint64 `json:"queued"`
}

// Each counter has its own key, written by one writer only, so counting
// never makes two transactions conflict.
func counterKey(name string) []byte { return []byte(pMetaKey + "c/" + name) }

func readCounter(txn *badger.Txn, name string) (uint64, error) {
	return readUint(txn, counterKey(name))
}

// readUint reads a big-endian uint64 value (0 when the key is absent).
func readUint(txn *badger.Txn, key []byte) (uint64, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = it.Value(func(b []byte) error {
		if len(b) == 8 {
			n = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	return n, err
}

func addCounter(txn *badger.Txn, name string, d uint64) error {
	n, err := readCounter(txn, name)
	if err != nil {
		return err
	}
	return txn.Set(counterKey(name), seq8(n+d))
}

// Counts returns totals.
func (s *Store) Counts() (Counts, error) {
	var c Counts
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if c.Events, err = readCounter(txn, "events"); err != nil {
			return err
		}
		if c.Batches, err = readCounter(txn, "batches"); err != nil {
			return err
		}
		c.Anchored, err = readCounter(txn, "anchored")
		return err
	})
	if c.Batches > c.Anchored {
		c.Queued = c.Batches - c.Anchored
	}
	return c, err
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Infof(string, ...any)        {}
func (b badgerLogger) Debugf(string, ...any)       {}

// QueueEntry returns a batch's anchoring job, ErrNotFound when it is not
// queued.
func (s *Store) QueueEntry(edge string, seq uint64) (QueueEntry, error) {
	var q QueueEntry
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, edgeSeqKey(pQueue, edge, seq), &q) })
	return q, err
}

// CaptureJob is the state of one EPCIS capture request.
type CaptureJob struct {
	ID        string    `json:"captureID"`
	CreatedAt time.Time `json:"createdAt"`
	EventIDs  []string  `json:"eventIDs"`
	NewEvents int       `json:"newEvents"`
	Errors    []string  `json:"errors,omitempty"`
	Source    string    `json:"source,omitempty"`
}

// PutJob stores a capture job.
func (s *Store) PutJob(j CaptureJob) error {
	return s.db.Update(func(txn *badger.Txn) error { return setJSON(txn, []byte(pJob+j.ID), j) })
}

// Job returns a capture job.
func (s *Store) Job(id string) (CaptureJob, error) {
	var j CaptureJob
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(pJob+id), &j) })
	return j, err
}

func recentBatchKey(t time.Time, edge string, seq uint64) []byte {
	k := append([]byte(pRecent), time8(t)...)
	k = append(k, edge...)
	k = append(k, 0)
	return append(k, seq8(seq)...)
}

// EdgeHead is an edge and how far its chain was accepted.
type EdgeHead struct {
	Edge string `json:"edge"`
	Head
}

// Edges lists every edge that uploaded a batch, sorted by ID.
func (s *Store) Edges() ([]EdgeHead, error) {
	var out []EdgeHead
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte(pHead)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			e := EdgeHead{Edge: string(it.Item().Key()[len(pHead):])}
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &e.Head) }); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// BatchSummary is an accepted batch with its anchor, without its leaves.
type BatchSummary struct {
	Header     batch.Header  `json:"header"`
	HeaderHash string        `json:"headerHash"`
	ReceivedAt time.Time     `json:"receivedAt"`
	Source     string        `json:"source"`
	Anchor     *AnchorRecord `json:"anchor,omitempty"`
	Queue      *QueueEntry   `json:"queue,omitempty"`
}

func summarise(txn *badger.Txn, edge string, seq uint64) (BatchSummary, error) {
	var b BatchRecord
	if err := getJSON(txn, edgeSeqKey(pBatch, edge, seq), &b); err != nil {
		return BatchSummary{}, err
	}
	sum := BatchSummary{Header: b.Header, HeaderHash: b.HeaderHash, ReceivedAt: b.ReceivedAt, Source: b.Source}
	var a AnchorRecord
	if err := getJSON(txn, edgeSeqKey(pAnchor, edge, seq), &a); err == nil {
		sum.Anchor = &a
	}
	var q QueueEntry
	if err := getJSON(txn, edgeSeqKey(pQueue, edge, seq), &q); err == nil {
		sum.Queue = &q
	}
	return sum, nil
}

// RecentBatches lists the latest accepted batches, newest first.
func (s *Store) RecentBatches(limit int) ([]BatchSummary, error) {
	var out []BatchSummary
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pRecent), Reverse: true})
		defer it.Close()
		for it.Seek([]byte(pRecent + "\xff")); it.ValidForPrefix([]byte(pRecent)) && len(out) < limit; it.Next() {
			k := it.Item().Key()[len(pRecent)+8:]
			if len(k) < 9 {
				continue
			}
			edge := string(k[:len(k)-9])
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			sum, err := summarise(txn, edge, seq)
			if err != nil {
				return err
			}
			out = append(out, sum)
		}
		return nil
	})
	return out, err
}

// Batches lists an edge's batches from seq from, in order.
func (s *Store) Batches(edge string, from uint64, limit int) ([]BatchSummary, error) {
	var out []BatchSummary
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := []byte(pBatch + edge + "\x00")
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(edgeSeqKey(pBatch, edge, from)); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			seq := binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
			sum, err := summarise(txn, edge, seq)
			if err != nil {
				return err
			}
			out = append(out, sum)
		}
		return nil
	})
	return out, err
}
