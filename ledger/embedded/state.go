package embedded

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger"
)

// txState is the ledger.State one transaction runs on. Reads go to the
// Badger transaction (the committed state plus the writes of the earlier
// transactions of the same block); the transaction's own writes are
// buffered and not visible to its reads, as on Fabric.
type txState struct {
	btx      *badger.Txn
	cfg      *ChainConfig
	txID     string
	txTime   time.Time
	caller   ledger.Caller
	readOnly bool

	writes  map[string]Write
	private map[string]*privateWrite // by collection \x00 key
	event   *EventRecord
}

// privateWrite is a buffered private data write.
type privateWrite struct {
	collection, key string
	value           []byte
	op              string
}

func newTxState(btx *badger.Txn, cfg *ChainConfig, txID string, txTime time.Time, caller ledger.Caller, readOnly bool) *txState {
	return &txState{btx: btx, cfg: cfg, txID: txID, txTime: txTime, caller: caller, readOnly: readOnly,
		writes: map[string]Write{}, private: map[string]*privateWrite{}}
}

var errReadOnly = ledger.Errorf(ledger.Invalid, "this is a read-only evaluation: submit the transaction to write")

// checkKey applies Fabric's key rules: non-empty UTF-8 not starting with
// 0x00 (reserved for composite keys).
func checkKey(key string) error {
	switch {
	case key == "":
		return ledger.Errorf(ledger.Invalid, "empty state key")
	case !utf8.ValidString(key):
		return ledger.Errorf(ledger.Invalid, "state key is not valid UTF-8")
	case key[0] == 0:
		return ledger.Errorf(ledger.Invalid, "state key starts with 0x00, reserved for composite keys")
	}
	return nil
}

func (s *txState) get(k []byte) ([]byte, error) {
	item, err := s.btx.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "read state: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "read state: %w", err)
	}
	return v, nil
}

// GetState implements ledger.State.
func (s *txState) GetState(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return s.get(stateKey(key))
}

// PutState implements ledger.State. An empty value is refused: Fabric
// would record it as a delete.
func (s *txState) PutState(key string, value []byte) error {
	if s.readOnly {
		return errReadOnly
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) == 0 {
		return ledger.Errorf(ledger.Invalid, "empty value for state key %q (use DelState)", key)
	}
	s.writes[key] = Write{Key: key, Value: slices.Clone(value)}
	return nil
}

// DelState implements ledger.State.
func (s *txState) DelState(key string) error {
	if s.readOnly {
		return errReadOnly
	}
	if err := checkKey(key); err != nil {
		return err
	}
	s.writes[key] = Write{Key: key, Delete: true}
	return nil
}

// GetStateByRange implements ledger.State. An empty start or end leaves
// that side open. The result is read at once (Badger allows one iterator
// per read-write transaction), so the contract's range queries should stay
// small, as on Fabric, where they are capped by totalQueryLimit.
func (s *txState) GetStateByRange(start, end string) (ledger.Iterator, error) {
	for _, k := range []string{start, end} {
		if k != "" {
			if err := checkKey(k); err != nil {
				return nil, err
			}
		}
	}
	if end != "" && end <= start {
		return &sliceIterator{}, nil
	}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = statePrefix
	it := s.btx.NewIterator(opts)
	defer it.Close()
	var kvs []ledger.KV
	for it.Seek(stateKey(start)); it.Valid(); it.Next() {
		item := it.Item()
		key := string(item.Key()[len(statePrefix):])
		if end != "" && key >= end {
			break
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, ledger.Errorf(ledger.Unavailable, "range read: %w", err)
		}
		kvs = append(kvs, ledger.KV{Key: key, Value: v})
	}
	return &sliceIterator{kvs: kvs}, nil
}

// collectionFor checks that the caller's org may use collection.
func (s *txState) collectionFor(collection, key string) error {
	col, ok := s.cfg.collection(collection)
	if !ok {
		return ledger.Errorf(ledger.Invalid, "no private data collection %q", collection)
	}
	if !slices.Contains(col.Members, s.caller.Org) {
		return ledger.Errorf(ledger.Forbidden, "org %s is not a member of private data collection %s", s.caller.Org, collection)
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if strings.IndexByte(key, 0) >= 0 {
		return ledger.Errorf(ledger.Invalid, "private data key contains 0x00")
	}
	return nil
}

// GetPrivateData implements ledger.State.
func (s *txState) GetPrivateData(collection, key string) ([]byte, error) {
	if err := s.collectionFor(collection, key); err != nil {
		return nil, err
	}
	v, err := s.get(privateKey(collection, key))
	if len(v) == 0 {
		return nil, err // absent, or purged and awaiting removal
	}
	return v, err
}

func (s *txState) putPrivate(collection, key string, value []byte, op string) error {
	if s.readOnly {
		return errReadOnly
	}
	if err := s.collectionFor(collection, key); err != nil {
		return err
	}
	pk := collection + "\x00" + key
	if prev, ok := s.private[pk]; ok && prev.op == OpPurge && op != OpPurge {
		// A purge in the same transaction wins: the history goes anyway.
		op = OpPurge
	}
	s.private[pk] = &privateWrite{collection: collection, key: key, value: slices.Clone(value), op: op}
	return nil
}

// PutPrivateData implements ledger.State.
func (s *txState) PutPrivateData(collection, key string, value []byte) error {
	if len(value) == 0 {
		return ledger.Errorf(ledger.Invalid, "empty private value (use DelPrivateData)")
	}
	return s.putPrivate(collection, key, value, OpPut)
}

// DelPrivateData implements ledger.State.
func (s *txState) DelPrivateData(collection, key string) error {
	return s.putPrivate(collection, key, nil, OpDelete)
}

// PurgePrivateData implements ledger.State.
func (s *txState) PurgePrivateData(collection, key string) error {
	return s.putPrivate(collection, key, nil, OpPurge)
}

// Caller implements ledger.State.
func (s *txState) Caller() (ledger.Caller, error) { return s.caller, nil }

// TxID implements ledger.State.
func (s *txState) TxID() string { return s.txID }

// TxTime implements ledger.State.
func (s *txState) TxTime() (time.Time, error) { return s.txTime, nil }

// SetEvent implements ledger.State.
func (s *txState) SetEvent(name string, payload []byte) error {
	if s.readOnly {
		return errReadOnly
	}
	if name == "" {
		return ledger.Errorf(ledger.Invalid, "event name is empty")
	}
	s.event = &EventRecord{Name: name, Payload: slices.Clone(payload)}
	return nil
}

// writeSet returns the buffered writes in key order, the private ones as
// hashes, and the purged private keys.
func (s *txState) writeSet() ([]Write, []PrivateWrite) {
	ws := make([]Write, 0, len(s.writes))
	for _, w := range s.writes {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Key < ws[j].Key })
	var ps []PrivateWrite
	for _, p := range s.sortedPrivate() {
		pw := PrivateWrite{Collection: p.collection, KeyHash: hashHex([]byte(p.key)), Op: p.op}
		if p.op == OpPut {
			pw.ValueHash = hashHex(p.value)
		}
		ps = append(ps, pw)
	}
	return ws, ps
}

func (s *txState) sortedPrivate() []*privateWrite {
	out := make([]*privateWrite, 0, len(s.private))
	for _, p := range s.private {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].collection != out[j].collection {
			return out[i].collection < out[j].collection
		}
		return out[i].key < out[j].key
	})
	return out
}

// apply writes the buffered writes into the Badger transaction and returns
// the private keys to purge physically once committed (see Ledger.purge).
func (s *txState) apply() (purge [][]byte, err error) {
	ws, _ := s.writeSet()
	for _, w := range ws {
		if w.Delete {
			err = s.btx.Delete(stateKey(w.Key))
		} else {
			err = s.btx.Set(stateKey(w.Key), w.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("write %q: %w", w.Key, err)
		}
	}
	for _, p := range s.sortedPrivate() {
		k := privateKey(p.collection, p.key)
		switch p.op {
		case OpPut:
			err = s.btx.Set(k, p.value)
		case OpPurge:
			// An empty value marks the key for purging: Badger's DropPrefix
			// only drops keys it can see, and a deleted key it cannot.
			err = s.btx.Set(k, []byte{})
		default:
			err = s.btx.Delete(k)
		}
		if err != nil {
			return nil, fmt.Errorf("write private data: %w", err)
		}
		if p.op == OpPurge {
			purge = append(purge, k)
		}
	}
	return purge, nil
}

// sliceIterator iterates a materialised range.
type sliceIterator struct {
	kvs []ledger.KV
	i   int
}

func (it *sliceIterator) HasNext() bool { return it.i < len(it.kvs) }

func (it *sliceIterator) Next() (ledger.KV, error) {
	if it.i >= len(it.kvs) {
		return ledger.KV{}, ledger.Errorf(ledger.Invalid, "iterator exhausted")
	}
	kv := it.kvs[it.i]
	it.i++
	return kv, nil
}

func (it *sliceIterator) Close() error { return nil }
