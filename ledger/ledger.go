// Package ledger defines what tracegate needs from a consortium ledger: the
// client-side Ledger interface that the gateway submits transactions through,
// the State interface the contract runs on, the records the contract keeps,
// the errors it returns, and a typed Client over any Ledger.
//
// Two backends implement Ledger: ledger/embedded (in-process, Badger-backed,
// the default) and ledger/fabric (Hyperledger Fabric, later). Both run the
// same contract (ledger/contract) and pass the same conformance suite
// (ledger/ledgertest). State maps 1:1 onto Fabric's ChaincodeStubInterface and
// Ledger onto the fabric-gateway client, so nothing here may assume more than
// Fabric offers.
package ledger

import (
	"context"
	"time"
)

// Identity names who acts: an organisation (its MSP ID on Fabric, e.g.
// "NorthWarehouseMSP") and a user of it. User "admin" is the org's admin.
type Identity struct {
	Org  string `json:"org"`
	User string `json:"user"`
}

// String renders the identity as "user@org".
func (id Identity) String() string { return id.User + "@" + id.Org }

// AdminUser is the user name that always acts as its organisation's admin.
const AdminUser = "admin"

// Caller is the verified submitter as the contract sees it. The backend
// authenticates it: on the embedded backend by the org's Ed25519 signature
// over the transaction, on Fabric by the creator certificate's MSP ID (and
// its admin OU for Admin).
type Caller struct {
	Org   string `json:"org"`
	User  string `json:"user"`
	Admin bool   `json:"admin"`
}

// State is what the contract needs from a backend during one transaction.
// It maps 1:1 onto Fabric's ChaincodeStubInterface, including Fabric's
// semantics: reads see the state before the transaction (a transaction does
// not read its own writes), writes take effect only when the transaction
// commits, and keys are UTF-8 strings that do not start with 0x00.
type State interface {
	// GetState returns the value of key, or nil, nil when it is absent.
	GetState(key string) ([]byte, error)
	// PutState writes value under key.
	PutState(key string, value []byte) error
	// DelState deletes key.
	DelState(key string) error
	// GetStateByRange iterates the keys in [start, end), sorted by key.
	GetStateByRange(start, end string) (Iterator, error)
	// GetPrivateData returns the value of key in a private data collection,
	// or nil, nil when it is absent. Only members of the collection may read.
	GetPrivateData(collection, key string) ([]byte, error)
	// PutPrivateData writes a private value; the block records only hashes.
	PutPrivateData(collection, key string, value []byte) error
	// DelPrivateData deletes a private value (its hashes stay on the chain).
	DelPrivateData(collection, key string) error
	// PurgePrivateData deletes a private value and its history for good.
	PurgePrivateData(collection, key string) error
	// Caller returns the authenticated submitter.
	Caller() (Caller, error)
	// TxID returns the transaction's ID.
	TxID() string
	// TxTime returns the transaction's timestamp, the same on every
	// endorsing peer; the contract never reads the clock.
	TxTime() (time.Time, error)
	// SetEvent sets the transaction's event. Fabric allows one per
	// transaction: a second call replaces the first.
	SetEvent(name string, payload []byte) error
}

// Iterator walks the result of a range query. Close it when done.
type Iterator interface {
	HasNext() bool
	Next() (KV, error)
	Close() error
}

// KV is one key and its value.
type KV struct {
	Key   string
	Value []byte
}

// Ledger is the client side of a consortium ledger, implemented by
// ledger/embedded and (later) ledger/fabric.
type Ledger interface {
	// Submit runs fn as a transaction signed as id and returns after it
	// committed, or when ctx ends (an Unavailable error; the transaction
	// may still commit: look it up with Transaction(Result.TxID)).
	Submit(ctx context.Context, id Identity, fn string, args ...string) (Result, error)
	// Evaluate runs a read-only query as id; nothing is written.
	Evaluate(ctx context.Context, id Identity, fn string, args ...string) ([]byte, error)
	// Events streams committed contract events strictly after the
	// checkpoint (the zero Checkpoint streams from the start) in commit
	// order, then live ones. The channel closes when ctx ends or the ledger
	// closes.
	Events(ctx context.Context, after Checkpoint) (<-chan Event, error)
	// Transaction returns the block and validity of a committed transaction,
	// or a NotFound error.
	Transaction(ctx context.Context, txID string) (TxInfo, error)
	// Info describes the backend.
	Info() Info
	// Close releases the backend.
	Close() error
}

// Result is what a committed transaction returned.
type Result struct {
	TxID    string `json:"txID"`
	Block   uint64 `json:"block"`
	Payload []byte `json:"payload,omitempty"`
}

// Event is a committed contract event.
type Event struct {
	Block   uint64 `json:"block"`
	TxID    string `json:"txID"`
	Name    string `json:"name"`
	Payload []byte `json:"payload"`
}

// Checkpoint marks a position in the event stream, the way fabric-gateway's
// checkpointer does. With TxID set, streaming resumes after that transaction
// of Block. With TxID empty, it resumes at the start of Block; the zero
// Checkpoint therefore streams from the very start.
type Checkpoint struct {
	Block uint64 `json:"block"`
	TxID  string `json:"txID,omitempty"`
}

// After returns the checkpoint that resumes after event e.
func After(e Event) Checkpoint { return Checkpoint{Block: e.Block, TxID: e.TxID} }

// TxInfo describes a committed transaction.
type TxInfo struct {
	TxID  string    `json:"txID"`
	Block uint64    `json:"block"`
	Valid bool      `json:"valid"`
	Time  time.Time `json:"time"`
	Org   string    `json:"org"`
}

// Info describes a backend: Kind is "embedded" or "fabric".
type Info struct {
	Kind      string `json:"kind"`
	Channel   string `json:"channel"`
	Chaincode string `json:"chaincode"`
}

// Backend kinds reported by Info.
const (
	KindEmbedded = "embedded"
	KindFabric   = "fabric"
)
