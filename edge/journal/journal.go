// Package journal is the edge's durable log in Badger: the inbox of raw
// device messages, the events made from them, the smoothing windows of RFID
// reads, the dead letters, and the sealed batches waiting for the gateway.
//
// Every hand-off inside the edge is one Badger transaction, so a crash at
// any point leaves each message either still in the inbox or already turned
// into events (never both, never neither), and each event either pending or
// sealed into exactly one batch. Data leaves the journal only when the
// gateway acknowledged the batch that holds it.
//
// Two writes are synced to disk before they are answered: the inbox append
// (the device's acknowledgement follows it) and the seal (a batch may be
// uploaded as soon as it exists, so it must never be sealed differently
// after a crash). Processing steps and acknowledgements in between are not
// synced on their own: Badger's log is sequential, so the next sync makes
// them durable too, and losing one to a power cut only undoes it (its
// inbox entries come back and are processed again into the same events).
package journal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Key prefixes. Sequence numbers are 8-byte big-endian so keys sort in order.
var (
	pInbox  = []byte("in/")
	pEvent  = []byte("ev/")
	pRawSum = []byte("rs/")
	pEvSum  = []byte("es/")
	pWindow = []byte("sw/")
	pDead   = []byte("dl/")
	pBatch  = []byte("bt/")
	kMeta   = []byte("meta/chain")
)

// ErrDiskFull is returned when the journal refuses new data because the
// disk holding it has less free space than configured. Nothing already in
// the journal is overwritten; the device is not acknowledged and re-sends.
var ErrDiskFull = errors.New("edge journal: disk space below the configured minimum; refusing new readings")

// Options configures a Journal.
type Options struct {
	// DedupeTTL is how long duplicate markers (raw message and event hashes)
	// are kept. QoS 1 redeliveries arrive within seconds to hours.
	DedupeTTL time.Duration
	// MinFreeBytes is the free space the journal's disk must keep; below it
	// new readings are refused (ErrDiskFull) with an alarm.
	MinFreeBytes uint64
	// Logger receives Badger's warnings and errors.
	Logger *slog.Logger
}

// Journal is the edge's durable store.
type Journal struct {
	db   *badger.DB
	dir  string
	opts Options

	inSeq    atomic.Uint64 // next inbox sequence
	inCursor atomic.Uint64 // inbox entries below it are consumed

	durableNext atomic.Uint64 // batches below this sequence are synced
	evSeq       atomic.Uint64 // next event sequence
	dlSeq       atomic.Uint64 // next dead-letter sequence

	// evMu orders event sequence allocation with commits: a sealed cursor
	// must never pass an event sequence whose transaction has not committed.
	evMu sync.Mutex

	diskMu      sync.Mutex
	diskChecked time.Time
	diskFull    bool
}

// Open opens or creates the journal in dir.
func Open(dir string, opts Options) (*Journal, error) {
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = 72 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	bopts := badger.DefaultOptions(dir).
		WithSyncWrites(false). // synced explicitly where it matters (see the package doc)
		WithLogger(badgerLogger{opts.Logger.With("component", "edge-journal")}).
		WithMemTableSize(16 << 20).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithNumVersionsToKeep(1).
		WithCompression(options.None). // short-lived data: compression costs more CPU than the disk it saves
		WithValueThreshold(1 << 10)
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, fmt.Errorf("open edge journal in %s: %w", dir, err)
	}
	j := &Journal{db: db, dir: dir, opts: opts}
	for _, s := range []struct {
		prefix []byte
		ctr    *atomic.Uint64
	}{{pInbox, &j.inSeq}, {pEvent, &j.evSeq}, {pDead, &j.dlSeq}} {
		last, ok, err := j.lastSeq(s.prefix)
		if err != nil {
			db.Close()
			return nil, err
		}
		if ok {
			s.ctr.Store(last + 1)
		}
	}
	// Events are deleted after the gateway acknowledged them; the chain
	// state remembers how far event sequences went, so numbers never repeat.
	st, err := j.Chain()
	if err != nil {
		db.Close()
		return nil, err
	}
	if st.NextEvent > j.evSeq.Load() {
		j.evSeq.Store(st.NextEvent)
	}
	j.durableNext.Store(st.NextSeq) // whatever survived a restart is on disk
	return j, nil
}

// Close flushes and closes the journal.
func (j *Journal) Close() error { return j.db.Close() }

// Dir returns the journal's directory.
func (j *Journal) Dir() string { return j.dir }

func seqKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], seq)
	return k
}

func keySeq(prefix, key []byte) uint64 {
	return binary.BigEndian.Uint64(key[len(prefix):])
}

func (j *Journal) lastSeq(prefix []byte) (uint64, bool, error) {
	var last uint64
	var ok bool
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
		defer it.Close()
		seek := append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		it.Seek(seek)
		if it.ValidForPrefix(prefix) {
			last, ok = keySeq(prefix, it.Item().Key()), true
		}
		return nil
	})
	return last, ok, err
}

// CheckDisk reports ErrDiskFull when the journal's disk is below the
// configured free-space minimum. It checks at most once a second.
func (j *Journal) CheckDisk() error {
	if j.opts.MinFreeBytes == 0 {
		return nil
	}
	j.diskMu.Lock()
	defer j.diskMu.Unlock()
	if time.Since(j.diskChecked) > time.Second {
		j.diskChecked = time.Now()
		var st syscall.Statfs_t
		if err := syscall.Statfs(j.dir, &st); err == nil {
			j.diskFull = st.Bavail*uint64(st.Bsize) < j.opts.MinFreeBytes
		}
	}
	if j.diskFull {
		return ErrDiskFull
	}
	return nil
}

// DiskFull reports the last disk check's verdict.
func (j *Journal) DiskFull() bool {
	j.diskMu.Lock()
	defer j.diskMu.Unlock()
	return j.diskFull
}

// Raw is one message as it arrived from the broker.
type Raw struct {
	Topic    string    `json:"topic"`
	Payload  []byte    `json:"payload"`
	ClientID string    `json:"clientID,omitempty"`
	Received time.Time `json:"received"`
	// PacketID is the MQTT packet identifier the message arrived with and
	// Dup its DUP flag: a re-send repeats both.
	PacketID uint16 `json:"packetID,omitempty"`
	Dup      bool   `json:"dup,omitempty"`
}

// encodeRaw lays a message out as: version 1, received (unix ns, 8),
// packet ID (2), dup (1), topic length (2), topic, client length (2),
// client, payload.
func encodeRaw(r Raw) ([]byte, error) {
	if len(r.Topic) > 0xffff || len(r.ClientID) > 0xffff {
		return nil, fmt.Errorf("topic or client ID longer than 65535 bytes")
	}
	b := make([]byte, 0, 16+len(r.Topic)+len(r.ClientID)+len(r.Payload))
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Received.UnixNano()))
	b = binary.BigEndian.AppendUint16(b, r.PacketID)
	if r.Dup {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Topic)))
	b = append(b, r.Topic...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.ClientID)))
	b = append(b, r.ClientID...)
	return append(b, r.Payload...), nil
}

func decodeRaw(v []byte) (Raw, error) {
	var r Raw
	if len(v) < 16 || v[0] != 1 {
		return r, fmt.Errorf("inbox record of %d bytes has an unknown layout", len(v))
	}
	r.Received = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))).UTC()
	r.PacketID = binary.BigEndian.Uint16(v[9:])
	r.Dup = v[11] == 1
	n := int(binary.BigEndian.Uint16(v[12:]))
	if len(v) < 14+n+2 {
		return r, fmt.Errorf("inbox record truncated")
	}
	r.Topic = string(v[14 : 14+n])
	off := 14 + n
	m := int(binary.BigEndian.Uint16(v[off:]))
	off += 2
	if len(v) < off+m {
		return r, fmt.Errorf("inbox record truncated")
	}
	r.ClientID = string(v[off : off+m])
	r.Payload = append([]byte(nil), v[off+m:]...)
	return r, nil
}

// InboxEntry is a Raw with its inbox sequence.
type InboxEntry struct {
	Seq uint64
	Raw Raw
}

// AppendInbox makes raws durable in one synchronous transaction.
func (j *Journal) AppendInbox(raws []Raw) error {
	if err := j.CheckDisk(); err != nil {
		return err
	}
	wb := j.db.NewWriteBatch()
	defer wb.Cancel()
	for _, r := range raws {
		v, err := encodeRaw(r)
		if err != nil {
			return fmt.Errorf("encode inbox message: %w", err)
		}
		if err := wb.Set(seqKey(pInbox, j.inSeq.Add(1)-1), v); err != nil {
			return fmt.Errorf("append inbox: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("append inbox: %w", err)
	}
	if err := j.db.Sync(); err != nil {
		return fmt.Errorf("append inbox: sync: %w", err)
	}
	return nil
}

// ReadInbox returns up to max inbox entries in arrival order. It starts
// from the inbox cursor, past entries already consumed: the deletions they
// leave behind are never walked again.
func (j *Journal) ReadInbox(max int) ([]InboxEntry, error) {
	var out []InboxEntry
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: max, Prefix: pInbox})
		defer it.Close()
		for it.Seek(seqKey(pInbox, j.inCursor.Load())); it.Valid() && len(out) < max; it.Next() {
			e := InboxEntry{Seq: keySeq(pInbox, it.Item().Key())}
			if err := it.Item().Value(func(v []byte) error {
				var err error
				e.Raw, err = decodeRaw(v)
				return err
			}); err != nil {
				// A record we cannot read is still consumed through the
				// dead-letter path by the processor (its topic is empty,
				// so it is kept as an unknown topic), never skipped.
				e.Raw = Raw{Topic: "", Payload: []byte(fmt.Sprintf("unreadable inbox record %d: %v", e.Seq, err))}
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Event is an event the edge made, waiting to be sealed.
type Event struct {
	Seq  uint64
	Hash [32]byte
	Time time.Time // eventTime, for the batch header's time range
	JSON []byte
}

// encodeEvent lays an event out as hash ‖ eventTime (unix ns) ‖ JSON.
func encodeEvent(h [32]byte, t time.Time, js []byte) []byte {
	v := make([]byte, 40+len(js))
	copy(v, h[:])
	binary.BigEndian.PutUint64(v[32:], uint64(t.UnixNano()))
	copy(v[40:], js)
	return v
}

func decodeEvent(seq uint64, v []byte) (Event, error) {
	if len(v) < 40 {
		return Event{}, fmt.Errorf("event %d: record of %d bytes is corrupt", seq, len(v))
	}
	e := Event{Seq: seq, Time: time.Unix(0, int64(binary.BigEndian.Uint64(v[32:]))).UTC(), JSON: append([]byte{}, v[40:]...)}
	copy(e.Hash[:], v)
	return e, nil
}

// DeadLetter is input the edge could not turn into an event, kept with the
// reason so an operator can look at it and replay it.
type DeadLetter struct {
	Seq      uint64    `json:"seq"`
	Topic    string    `json:"topic"`
	ClientID string    `json:"clientID,omitempty"`
	Payload  []byte    `json:"payload"`
	Index    int       `json:"index"` // element of an array payload, -1 for the whole message
	Reason   string    `json:"reason"`
	Stage    string    `json:"stage"`
	Received time.Time `json:"received"`
	At       time.Time `json:"at"`
}

// Window is an open RFID smoothing window: repeated reads of one tag at one
// read point, collapsed into one event when the window closes.
type Window struct {
	Key       string          `json:"key"`
	Opened    time.Time       `json:"opened"` // edge clock when the first read arrived
	First     time.Time       `json:"first"`  // device time of the first read
	Last      time.Time       `json:"last"`   // device time of the latest read
	Count     int             `json:"count"`
	Antennas  []int           `json:"antennas,omitempty"`
	PeakRSSI  *float64        `json:"peakRssi,omitempty"`
	Template  json.RawMessage `json:"template"` // what the edge needs to build the event
	ClientID  string          `json:"clientID,omitempty"`
	LastTopic string          `json:"topic"`
}

// Tx is one atomic step of the processor.
type Tx struct {
	j        *Journal
	txn      *badger.Txn
	now      time.Time
	consumed uint64
}

// Update runs fn in one synchronous read-write transaction. Steps are
// serialised with each other and with sealing.
func (j *Journal) Update(fn func(tx *Tx) error) error {
	j.evMu.Lock()
	defer j.evMu.Unlock()
	var consumed uint64
	err := j.db.Update(func(txn *badger.Txn) error {
		tx := &Tx{j: j, txn: txn, now: time.Now()}
		err := fn(tx)
		consumed = tx.consumed
		return err
	})
	if err == nil && consumed > j.inCursor.Load() {
		j.inCursor.Store(consumed)
	}
	return err
}

// ErrTooBig reports that a step did not fit in one transaction; the caller
// retries with fewer messages.
var ErrTooBig = badger.ErrTxnTooBig

// ConsumeInbox deletes an inbox entry; it is called in the same step that
// stores what the entry became. Entries are consumed in order, so the
// cursor moves past it once the step commits.
func (tx *Tx) ConsumeInbox(seq uint64) error {
	if seq+1 > tx.consumed {
		tx.consumed = seq + 1
	}
	return tx.txn.Delete(seqKey(pInbox, seq))
}

func (tx *Tx) seen(prefix []byte, h [32]byte) (bool, error) {
	_, err := tx.txn.Get(append(append([]byte{}, prefix...), h[:]...))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (tx *Tx) mark(prefix []byte, h [32]byte, val []byte, ttl time.Duration) error {
	e := badger.NewEntry(append(append([]byte{}, prefix...), h[:]...), val).WithTTL(ttl)
	return tx.txn.SetEntry(e)
}

// SeenRaw reports whether a raw message with this digest was processed
// within ttl (the journal's dedupe TTL when ttl is 0), and marks it as
// processed.
func (tx *Tx) SeenRaw(h [32]byte, ttl time.Duration) (bool, error) {
	ok, err := tx.seen(pRawSum, h)
	if err != nil || ok {
		return ok, err
	}
	if ttl <= 0 {
		ttl = tx.j.opts.DedupeTTL
	}
	return false, tx.mark(pRawSum, h, nil, ttl)
}

// AppendEvent stores a new event unless one with the same hash was stored
// within the dedupe TTL; it reports whether the event was new.
func (tx *Tx) AppendEvent(h [32]byte, eventTime time.Time, eventJSON []byte) (bool, error) {
	ok, err := tx.seen(pEvSum, h)
	if err != nil {
		return false, err
	}
	if ok {
		return false, nil
	}
	seq := tx.j.evSeq.Add(1) - 1
	if err := tx.txn.Set(seqKey(pEvent, seq), encodeEvent(h, eventTime, eventJSON)); err != nil {
		return false, err
	}
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	return true, tx.mark(pEvSum, h, s[:], tx.j.opts.DedupeTTL)
}

// DeadLetter stores input that could not become an event.
func (tx *Tx) DeadLetter(d DeadLetter) error {
	d.Seq = tx.j.dlSeq.Add(1) - 1
	if d.At.IsZero() {
		d.At = tx.now
	}
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.txn.Set(seqKey(pDead, d.Seq), v)
}

// PutWindow stores an open smoothing window.
func (tx *Tx) PutWindow(w Window) error {
	v, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return tx.txn.Set(append(append([]byte{}, pWindow...), w.Key...), v)
}

// DeleteWindow removes a closed smoothing window.
func (tx *Tx) DeleteWindow(key string) error {
	return tx.txn.Delete(append(append([]byte{}, pWindow...), key...))
}

// Windows returns every open smoothing window (used at start-up).
func (j *Journal) Windows() ([]Window, error) {
	var out []Window
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: pWindow})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var w Window
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &w) }); err != nil {
				return fmt.Errorf("read window %q: %w", it.Item().Key(), err)
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// DeadLetters returns dead letters with sequence >= from, up to limit.
func (j *Journal) DeadLetters(from uint64, limit int) ([]DeadLetter, error) {
	var out []DeadLetter
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: pDead})
		defer it.Close()
		for it.Seek(seqKey(pDead, from)); it.ValidForPrefix(pDead) && len(out) < limit; it.Next() {
			var d DeadLetter
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// Stats describes the journal's backlog.
type Stats struct {
	Inbox        int       `json:"inbox"`
	Pending      int       `json:"pendingEvents"`
	Windows      int       `json:"openWindows"`
	Unacked      int       `json:"unackedBatches"`
	OldestUnack  time.Time `json:"oldestUnacked,omitzero"`
	DeadLetters  int       `json:"deadLetters"`
	NextBatchSeq uint64    `json:"nextBatchSeq"`
	DiskFull     bool      `json:"diskFull"`
	LSMBytes     int64     `json:"lsmBytes"`
	VlogBytes    int64     `json:"vlogBytes"`
}

// Stats counts the backlog. It walks keys only, never values.
func (j *Journal) Stats() (Stats, error) {
	var st Stats
	chain, err := j.Chain()
	if err != nil {
		return st, err
	}
	st.NextBatchSeq = chain.NextSeq
	err = j.db.View(func(txn *badger.Txn) error {
		countFrom := func(prefix []byte, from uint64) int {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			n := 0
			for it.Seek(seqKey(prefix, from)); it.ValidForPrefix(prefix); it.Next() {
				n++
			}
			return n
		}
		count := func(prefix []byte) int {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			n := 0
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return n
		}
		st.Inbox = countFrom(pInbox, j.inCursor.Load())
		st.Windows = count(pWindow)
		st.DeadLetters = count(pDead)
		st.Unacked = count(pBatch)
		// Pending events are those past the sealed cursor.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pEvent})
		defer it.Close()
		for it.Seek(seqKey(pEvent, chain.NextEvent)); it.ValidForPrefix(pEvent); it.Next() {
			st.Pending++
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if b, ok, err := j.OldestUnacked(); err == nil && ok {
		st.OldestUnack = b.SealedAt
	}
	st.DiskFull = j.DiskFull()
	st.LSMBytes, st.VlogBytes = j.db.Size()
	return st, nil
}

// RunGC reclaims value-log space; call it periodically.
func (j *Journal) RunGC() {
	for j.db.RunValueLogGC(0.5) == nil {
	}
}

// DiskUsage returns the bytes the journal occupies on disk.
func (j *Journal) DiskUsage() (int64, error) {
	var total int64
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += info.Size()
		}
	}
	return total, nil
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Infof(string, ...any)        {}
func (b badgerLogger) Debugf(string, ...any)       {}
