package embedded

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Block is one block of the embedded ledger's hash chain. Its hash is the
// SHA-256 of its stored JSON bytes, which the next block names as PrevHash.
// Block 0, the genesis block, holds the channel configuration; later blocks
// hold transactions, or a configuration change (a membership change).
type Block struct {
	Number   uint64       `json:"number"`
	PrevHash string       `json:"prevHash"`
	Time     time.Time    `json:"time"`
	Config   *ChainConfig `json:"config,omitempty"`
	// ConfigUpdate authenticates a configuration change after genesis.
	ConfigUpdate *ConfigUpdate `json:"configUpdate,omitempty"`
	Txs          []TxRecord    `json:"txs"`

	// Hash is the block's hash, computed from its stored bytes when read;
	// it is not part of them.
	Hash string `json:"-"`
}

// ConfigUpdate is a member's signature over a new channel configuration.
type ConfigUpdate struct {
	Org       string `json:"org"`
	User      string `json:"user"`
	Signature []byte `json:"signature"`
}

// configSigningBytes is what a config update's signature covers: the new
// configuration bound to the chain position it applies at.
func configSigningBytes(prevHash string, cfg *ChainConfig) ([]byte, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return append([]byte("tracegate-config-v1\n"+prevHash+"\n"), raw...), nil
}

// Tx is a signed transaction proposal as recorded in a block. Arguments the
// contract marks private are recorded as salted hashes, never in clear.
type Tx struct {
	ID      string   `json:"id"`
	Channel string   `json:"channel"`
	Org     string   `json:"org"`
	User    string   `json:"user"`
	Fn      string   `json:"fn"`
	Args    []string `json:"args"`
	Time    string   `json:"time"` // RFC 3339 with nanoseconds, UTC
	Nonce   string   `json:"nonce"`
}

// signingBytes is what the submitting org signs: every field but the ID,
// which is the hex SHA-256 of these bytes.
func (tx *Tx) signingBytes() ([]byte, error) {
	c := *tx
	c.ID = ""
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("marshal transaction: %w", err)
	}
	return append([]byte("tracegate-tx-v1\n"), raw...), nil
}

// computeID returns the transaction ID its content implies.
func (tx *Tx) computeID() (string, error) {
	b, err := tx.signingBytes()
	if err != nil {
		return "", err
	}
	return hashHex(b), nil
}

// time parses the transaction's timestamp.
func (tx *Tx) time() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, tx.Time)
}

// TxRecord is a committed transaction: the signed proposal, its outcome,
// its event and its write set. Public writes are recorded in full (so the
// state can be rebuilt and checked from the chain); private writes only as
// hashes, like Fabric.
type TxRecord struct {
	Tx            Tx             `json:"tx"`
	Signature     []byte         `json:"signature"`
	Valid         bool           `json:"valid"`
	Error         string         `json:"error,omitempty"`
	Event         *EventRecord   `json:"event,omitempty"`
	Writes        []Write        `json:"writes,omitempty"`
	PrivateWrites []PrivateWrite `json:"privateWrites,omitempty"`
	WriteSetHash  string         `json:"writeSetHash"`
}

// EventRecord is a contract event.
type EventRecord struct {
	Name    string `json:"name"`
	Payload []byte `json:"payload"`
}

// Write is one public state write.
type Write struct {
	Key    string `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Delete bool   `json:"delete,omitempty"`
}

// Private write operations.
const (
	OpPut    = "put"
	OpDelete = "delete"
	OpPurge  = "purge"
)

// PrivateWrite is the public trace of one private data write.
type PrivateWrite struct {
	Collection string `json:"collection"`
	KeyHash    string `json:"keyHash"`
	ValueHash  string `json:"valueHash,omitempty"`
	Op         string `json:"op"`
}

// writeSetHash hashes a transaction's write set.
func writeSetHash(w []Write, p []PrivateWrite) (string, error) {
	// Empty and absent hash alike: the record omits empty write sets.
	if len(w) == 0 {
		w = nil
	}
	if len(p) == 0 {
		p = nil
	}
	raw, err := json.Marshal(struct {
		W []Write        `json:"w"`
		P []PrivateWrite `json:"p"`
	}{w, p})
	if err != nil {
		return "", fmt.Errorf("marshal write set: %w", err)
	}
	return hashHex(raw), nil
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Badger key layout of the embedded backend:
//
//	s/{key}                          public world state
//	p/{collection}\x00{key}\x00      private data (the trailing 0x00 makes the
//	                                 key an exact prefix, for purging)
//	b/{number: 8 bytes big-endian}   block JSON
//	t/{txID}                         tx index: block (8 bytes) ‖ index (4 bytes)
//	m/head                           chain head: number and hash
//	m/config                         current channel configuration
var (
	statePrefix   = []byte("s/")
	privatePrefix = []byte("p/")
	blockPrefix   = []byte("b/")
	txPrefix      = []byte("t/")
	headKey       = []byte("m/head")
	configKey     = []byte("m/config")
)

func stateKey(key string) []byte { return append([]byte("s/"), key...) }

func privateKey(collection, key string) []byte {
	b := make([]byte, 0, 4+len(collection)+len(key))
	b = append(b, "p/"...)
	b = append(b, collection...)
	b = append(b, 0)
	b = append(b, key...)
	return append(b, 0)
}

func blockKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("b/"), n)
}

func txKey(id string) []byte { return append([]byte("t/"), id...) }

func txIndexValue(block uint64, index int) []byte {
	b := binary.BigEndian.AppendUint64(nil, block)
	return binary.BigEndian.AppendUint32(b, uint32(index))
}

func parseTxIndex(v []byte) (block uint64, index int, err error) {
	if len(v) != 12 {
		return 0, 0, fmt.Errorf("tx index value is %d bytes, want 12", len(v))
	}
	return binary.BigEndian.Uint64(v), int(binary.BigEndian.Uint32(v[8:])), nil
}

// head is the chain head as stored under m/head.
type head struct {
	Number uint64 `json:"number"`
	Hash   string `json:"hash"`
}
