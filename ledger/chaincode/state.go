package chaincode

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/tracegate/tracegate/ledger"
)

// state is the ledger.State of one transaction, over the chaincode stub.
// Reads and writes go to the peer as they happen, with Fabric's own
// semantics (reads see the state before the transaction). Key checks and
// the codes of refusals match the embedded backend's, so the contract
// answers the same on both.
type state struct {
	stub   shim.ChaincodeStubInterface
	caller *ledger.Caller
	err    error // from deriving the caller, kept for repeated calls
}

var _ ledger.State = (*state)(nil)

// NewState returns a ledger.State over stub for one transaction.
func NewState(stub shim.ChaincodeStubInterface) ledger.State {
	return &state{stub: stub}
}

// checkKey applies the embedded backend's key rules, which are Fabric's:
// non-empty UTF-8 not starting with 0x00 (reserved for composite keys).
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

// GetState implements ledger.State.
func (s *state) GetState(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	v, err := s.stub.GetState(key)
	if err != nil {
		return nil, fmt.Errorf("get state: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// PutState implements ledger.State. An empty value is refused: Fabric
// would record it as a delete.
func (s *state) PutState(key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) == 0 {
		return ledger.Errorf(ledger.Invalid, "empty value for state key %q (use DelState)", key)
	}
	if err := s.stub.PutState(key, value); err != nil {
		return fmt.Errorf("put state: %w", err)
	}
	return nil
}

// DelState implements ledger.State.
func (s *state) DelState(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.stub.DelState(key); err != nil {
		return fmt.Errorf("delete state: %w", err)
	}
	return nil
}

// GetStateByRange implements ledger.State. An empty start or end leaves
// that side open; an end at or before start is an empty range.
func (s *state) GetStateByRange(start, end string) (ledger.Iterator, error) {
	for _, k := range []string{start, end} {
		if k != "" {
			if err := checkKey(k); err != nil {
				return nil, err
			}
		}
	}
	if end != "" && end <= start {
		return emptyIterator{}, nil
	}
	it, err := s.stub.GetStateByRange(start, end)
	if err != nil {
		return nil, fmt.Errorf("range query: %w", err)
	}
	return &iterator{it: it}, nil
}

// checkPrivate checks a private data key (the collection is checked by
// the peer).
func checkPrivate(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if strings.IndexByte(key, 0) >= 0 {
		return ledger.Errorf(ledger.Invalid, "private data key contains 0x00")
	}
	return nil
}

// privateErr turns the peer's refusals into the codes and messages the
// embedded backend gives: a non-member (memberOnlyRead/memberOnlyWrite) is
// Forbidden, an unknown collection Invalid.
func (s *state) privateErr(op, collection string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not have read access permission"),
		strings.Contains(msg, "does not have write access permission"):
		org := "the caller's org"
		if c, cerr := s.Caller(); cerr == nil {
			org = "org " + c.Org
		}
		return &ledger.Error{Code: ledger.Forbidden, Msg: fmt.Sprintf("%s is not a member of private data collection %s", org, collection), Err: err}
	case strings.Contains(msg, "could not be found"):
		return &ledger.Error{Code: ledger.Invalid, Msg: fmt.Sprintf("no private data collection %q", collection), Err: err}
	}
	return fmt.Errorf("%s private data in %s: %w", op, collection, err)
}

// GetPrivateData implements ledger.State.
func (s *state) GetPrivateData(collection, key string) ([]byte, error) {
	if err := checkPrivate(key); err != nil {
		return nil, err
	}
	v, err := s.stub.GetPrivateData(collection, key)
	if err != nil {
		return nil, s.privateErr("read", collection, err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// PutPrivateData implements ledger.State.
func (s *state) PutPrivateData(collection, key string, value []byte) error {
	if err := checkPrivate(key); err != nil {
		return err
	}
	if len(value) == 0 {
		return ledger.Errorf(ledger.Invalid, "empty private value (use DelPrivateData)")
	}
	if err := s.stub.PutPrivateData(collection, key, value); err != nil {
		return s.privateErr("write", collection, err)
	}
	return nil
}

// DelPrivateData implements ledger.State.
func (s *state) DelPrivateData(collection, key string) error {
	if err := checkPrivate(key); err != nil {
		return err
	}
	if err := s.stub.DelPrivateData(collection, key); err != nil {
		return s.privateErr("delete", collection, err)
	}
	return nil
}

// PurgePrivateData implements ledger.State. Fabric needs the V2_5
// application capability on the channel for it.
func (s *state) PurgePrivateData(collection, key string) error {
	if err := checkPrivate(key); err != nil {
		return err
	}
	if err := s.stub.PurgePrivateData(collection, key); err != nil {
		return s.privateErr("purge", collection, err)
	}
	return nil
}

// Caller implements ledger.State: the transaction creator's MSP ID and
// certificate, mapped by CallerOf.
func (s *state) Caller() (ledger.Caller, error) {
	if s.caller == nil && s.err == nil {
		c, err := callerOfCreator(s.stub)
		if err != nil {
			s.err = err
		} else {
			s.caller = &c
		}
	}
	if s.err != nil {
		return ledger.Caller{}, s.err
	}
	return *s.caller, nil
}

// TxID implements ledger.State.
func (s *state) TxID() string { return s.stub.GetTxID() }

// TxTime implements ledger.State: the proposal's timestamp, the same on
// every endorsing peer.
func (s *state) TxTime() (time.Time, error) {
	ts, err := s.stub.GetTxTimestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("transaction timestamp: %w", err)
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("transaction timestamp: %w", err)
	}
	return ts.AsTime().UTC(), nil
}

// SetEvent implements ledger.State. Fabric keeps one event per
// transaction: a second call replaces the first.
func (s *state) SetEvent(name string, payload []byte) error {
	if name == "" {
		return ledger.Errorf(ledger.Invalid, "event name is empty")
	}
	if err := s.stub.SetEvent(name, payload); err != nil {
		return fmt.Errorf("set event: %w", err)
	}
	return nil
}

// iterator adapts the shim's range iterator.
type iterator struct {
	it shim.StateQueryIteratorInterface
}

func (i *iterator) HasNext() bool { return i.it.HasNext() }

func (i *iterator) Next() (ledger.KV, error) {
	kv, err := i.it.Next()
	if err != nil {
		return ledger.KV{}, fmt.Errorf("range query: %w", err)
	}
	return ledger.KV{Key: kv.GetKey(), Value: kv.GetValue()}, nil
}

func (i *iterator) Close() error { return i.it.Close() }

// emptyIterator is the result of an empty range.
type emptyIterator struct{}

func (emptyIterator) HasNext() bool { return false }
func (emptyIterator) Next() (ledger.KV, error) {
	return ledger.KV{}, ledger.Errorf(ledger.Invalid, "iterator exhausted")
}
func (emptyIterator) Close() error { return nil }
