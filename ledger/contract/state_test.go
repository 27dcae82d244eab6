package contract

import (
	"maps"
	"sort"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// memState is an in-memory ledger.State for tests. Unlike Fabric, writes
// are visible at once; it counts writes and events so tests can check the
// contract's write discipline.
type memState struct {
	kv       map[string][]byte
	priv     map[string]map[string][]byte
	members  map[string][]string // collection → member orgs
	caller   ledger.Caller
	txID     string
	now      time.Time
	readOnly bool

	writes, events int
	event          string
	payload        []byte
}

func newMemState() *memState {
	return &memState{kv: map[string][]byte{}, priv: map[string]map[string][]byte{}, members: map[string][]string{},
		txID: "tx-0", now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

// fork returns a copy with the same data and fresh counters.
func (m *memState) fork(caller ledger.Caller, txID string) *memState {
	c := newMemState()
	c.kv = maps.Clone(m.kv)
	for col, kv := range m.priv {
		c.priv[col] = maps.Clone(kv)
	}
	c.members = m.members
	c.caller, c.txID = caller, txID
	return c
}

var errRO = ledger.Errorf(ledger.Invalid, "read-only")

func (m *memState) GetState(key string) ([]byte, error) { return m.kv[key], nil }

func (m *memState) PutState(key string, value []byte) error {
	if m.readOnly {
		return errRO
	}
	m.writes++
	m.kv[key] = value
	return nil
}

func (m *memState) DelState(key string) error {
	if m.readOnly {
		return errRO
	}
	m.writes++
	delete(m.kv, key)
	return nil
}

func (m *memState) GetStateByRange(start, end string) (ledger.Iterator, error) {
	var kvs []ledger.KV
	for k, v := range m.kv {
		if k >= start && (end == "" || k < end) {
			kvs = append(kvs, ledger.KV{Key: k, Value: v})
		}
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return &memIter{kvs: kvs}, nil
}

func (m *memState) member(collection string) error {
	orgs, ok := m.members[collection]
	if !ok {
		return ledger.Errorf(ledger.Invalid, "no collection %s", collection)
	}
	for _, o := range orgs {
		if o == m.caller.Org {
			return nil
		}
	}
	return ledger.Errorf(ledger.Forbidden, "not a member of %s", collection)
}

func (m *memState) GetPrivateData(collection, key string) ([]byte, error) {
	if err := m.member(collection); err != nil {
		return nil, err
	}
	return m.priv[collection][key], nil
}

func (m *memState) PutPrivateData(collection, key string, value []byte) error {
	if m.readOnly {
		return errRO
	}
	if err := m.member(collection); err != nil {
		return err
	}
	m.writes++
	if m.priv[collection] == nil {
		m.priv[collection] = map[string][]byte{}
	}
	m.priv[collection][key] = value
	return nil
}

func (m *memState) DelPrivateData(collection, key string) error {
	if m.readOnly {
		return errRO
	}
	if err := m.member(collection); err != nil {
		return err
	}
	m.writes++
	delete(m.priv[collection], key)
	return nil
}

func (m *memState) PurgePrivateData(collection, key string) error {
	return m.DelPrivateData(collection, key)
}

func (m *memState) Caller() (ledger.Caller, error) { return m.caller, nil }
func (m *memState) TxID() string                   { return m.txID }
func (m *memState) TxTime() (time.Time, error)     { return m.now, nil }

func (m *memState) SetEvent(name string, payload []byte) error {
	if m.readOnly {
		return errRO
	}
	m.events++
	m.event, m.payload = name, payload
	return nil
}

type memIter struct {
	kvs []ledger.KV
	i   int
}

func (it *memIter) HasNext() bool { return it.i < len(it.kvs) }
func (it *memIter) Next() (ledger.KV, error) {
	if it.i >= len(it.kvs) {
		return ledger.KV{}, ledger.Errorf(ledger.Invalid, "exhausted")
	}
	it.i++
	return it.kvs[it.i-1], nil
}
func (it *memIter) Close() error { return nil }
