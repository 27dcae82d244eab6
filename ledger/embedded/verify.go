package embedded

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"
)

// ErrCorrupt is returned (wrapped) by Verify when the ledger is inconsistent.
var ErrCorrupt = errors.New("ledger integrity check failed")

// Report is the outcome of Verify.
type Report struct {
	Height       uint64 `json:"height"`       // number of the last block
	Blocks       uint64 `json:"blocks"`       // blocks checked
	Txs          int    `json:"txs"`          // transactions checked
	Events       int    `json:"events"`       // events found
	ConfigBlocks int    `json:"configBlocks"` // genesis and membership changes
	StateKeys    int    `json:"stateKeys"`    // public state keys checked
	PrivateKeys  int    `json:"privateKeys"`  // private data keys checked
	GenesisHash  string `json:"genesisHash"`
	HeadHash     string `json:"headHash"`
	// Problem is the first inconsistency found, nil when there is none.
	Problem *Problem `json:"problem,omitempty"`
}

// Problem locates an inconsistency.
type Problem struct {
	Block uint64 `json:"block"`
	Tx    int    `json:"tx"`            // index in the block, -1 when not about a transaction
	Key   string `json:"key,omitempty"` // state key, when about the state
	Msg   string `json:"msg"`
}

// String renders the problem as "block N tx I key K: message".
func (p *Problem) String() string {
	s := fmt.Sprintf("block %d", p.Block)
	if p.Tx >= 0 {
		s += fmt.Sprintf(" tx %d", p.Tx)
	}
	if p.Key != "" {
		s += fmt.Sprintf(" key %q", p.Key)
	}
	return s + ": " + p.Msg
}

// lastWrite is the expected state of one key after replaying the chain.
type lastWrite struct {
	hash  [32]byte
	block uint64
	tx    int
}

// Verify checks the whole ledger, like an fsck: every block decodes, has
// its number, and names the previous block's hash; the head names the last
// block; configuration changes are signed by a member; every transaction's
// ID matches its content, its signature verifies against the members of
// its time, its write set matches its hash and its index entry points back
// at it; and the world state and private data are exactly what replaying
// the blocks' write sets gives. It returns the first problem in
// Report.Problem and as an error wrapping ErrCorrupt; other errors mean
// the check could not run.
func (l *Ledger) Verify(ctx context.Context) (Report, error) {
	if l.isClosed() {
		return Report{}, errClosed()
	}
	var rep Report
	err := l.db.View(func(btx *badger.Txn) error {
		v := &verifier{ctx: ctx, btx: btx, rep: &rep, state: map[string]lastWrite{}, private: map[string]lastWrite{}}
		return v.run()
	})
	if err != nil {
		return rep, err
	}
	if rep.Problem != nil {
		return rep, fmt.Errorf("%w: %s", ErrCorrupt, rep.Problem)
	}
	return rep, nil
}

type verifier struct {
	ctx     context.Context
	btx     *badger.Txn
	rep     *Report
	cfg     *ChainConfig
	state   map[string]lastWrite // public key → last write
	private map[string]lastWrite // collection \x00 keyHash → last write
}

// errStop ends the walk once a problem is recorded.
var errStop = errors.New("stop")

func (v *verifier) fail(block uint64, tx int, key, format string, args ...any) error {
	v.rep.Problem = &Problem{Block: block, Tx: tx, Key: key, Msg: fmt.Sprintf(format, args...)}
	return errStop
}

func (v *verifier) run() error {
	err := v.walk()
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (v *verifier) walk() error {
	var h head
	if err := getJSON(v.btx, headKey, &h); err != nil {
		return v.fail(0, -1, "", "chain head unreadable: %v", err)
	}
	v.rep.Height = h.Number
	prevHash := ""
	for n := uint64(0); n <= h.Number; n++ {
		if err := v.ctx.Err(); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		raw, err := readBlockBytes(v.btx, n)
		if err != nil {
			return v.fail(n, -1, "", "%v", err)
		}
		var b Block
		if err := json.Unmarshal(raw, &b); err != nil {
			return v.fail(n, -1, "", "block does not decode: %v", err)
		}
		if b.Number != n {
			return v.fail(n, -1, "", "block says it is number %d", b.Number)
		}
		if n == 0 && b.PrevHash != "" {
			return v.fail(0, -1, "", "genesis block names prevHash %s", b.PrevHash)
		}
		if n > 0 && b.PrevHash != prevHash {
			return v.fail(n-1, -1, "", "block %d hashes to %s, but block %d names prevHash %s: block %d (or %d) was altered", n-1, prevHash, n, b.PrevHash, n-1, n)
		}
		if n == 0 {
			v.rep.GenesisHash = hashHex(raw)
		}
		if err := v.block(&b, prevHash); err != nil {
			return err
		}
		prevHash = hashHex(raw)
		v.rep.Blocks++
	}
	if prevHash != h.Hash {
		return v.fail(h.Number, -1, "", "last block hashes to %s, but the chain head records %s: the block was altered", prevHash, h.Hash)
	}
	v.rep.HeadHash = h.Hash
	if extra, err := blockExists(v.btx, h.Number+1); err != nil || extra {
		return v.fail(h.Number+1, -1, "", "a block exists beyond the chain head (%v)", err)
	}
	var cur ChainConfig
	if err := getJSON(v.btx, configKey, &cur); err != nil {
		return v.fail(h.Number, -1, "", "current configuration unreadable: %v", err)
	}
	cur.normalise()
	if d := v.cfg.diff(&cur); d != "" {
		return v.fail(h.Number, -1, "", "stored current configuration differs from the chain's: %s", d)
	}
	if err := v.checkIndex(); err != nil {
		return err
	}
	if err := v.checkState(); err != nil {
		return err
	}
	return v.checkPrivate()
}

func blockExists(btx *badger.Txn, n uint64) (bool, error) {
	_, err := btx.Get(blockKey(n))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// block checks one block's configuration and transactions and replays its
// writes.
func (v *verifier) block(b *Block, prevHash string) error {
	n := b.Number
	if n == 0 {
		if b.Config == nil {
			return v.fail(0, -1, "", "genesis block has no configuration")
		}
		if len(b.Txs) != 0 {
			return v.fail(0, -1, "", "genesis block has transactions")
		}
	}
	if b.Config != nil {
		if err := b.Config.validate(); err != nil {
			return v.fail(n, -1, "", "configuration is invalid: %v", err)
		}
		if n > 0 {
			if len(b.Txs) != 0 {
				return v.fail(n, -1, "", "configuration block has transactions")
			}
			u := b.ConfigUpdate
			if u == nil {
				return v.fail(n, -1, "", "configuration change is not signed")
			}
			pub, ok := v.cfg.member(u.Org)
			if !ok {
				return v.fail(n, -1, "", "configuration change signed by %s, not a member", u.Org)
			}
			msg, err := configSigningBytes(prevHash, b.Config)
			if err != nil || !ed25519.Verify(pub, msg, u.Signature) {
				return v.fail(n, -1, "", "configuration change signature by %s does not verify", u.Org)
			}
		}
		cfg := *b.Config
		cfg.normalise()
		v.cfg = &cfg
		v.rep.ConfigBlocks++
		return nil
	}
	for i := range b.Txs {
		if err := v.tx(n, i, &b.Txs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (v *verifier) tx(n uint64, i int, rec *TxRecord) error {
	v.rep.Txs++
	if err := authenticate(v.cfg, &rec.Tx, rec.Signature); err != nil {
		return v.fail(n, i, "", "%v", err)
	}
	wsh, err := writeSetHash(rec.Writes, rec.PrivateWrites)
	if err != nil || wsh != rec.WriteSetHash {
		return v.fail(n, i, "", "write set hashes to %s, the record says %s", wsh, rec.WriteSetHash)
	}
	item, err := v.btx.Get(txKey(rec.Tx.ID))
	if err != nil {
		return v.fail(n, i, "", "transaction %s has no index entry: %v", rec.Tx.ID, err)
	}
	iv, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read tx index: %w", err)
	}
	if bn, bi, err := parseTxIndex(iv); err != nil || bn != n || bi != i {
		return v.fail(n, i, "", "index entry of transaction %s points to block %d tx %d (%v)", rec.Tx.ID, bn, bi, err)
	}
	if rec.Event != nil {
		v.rep.Events++
	}
	if !rec.Valid {
		return nil
	}
	for _, w := range rec.Writes {
		if w.Delete {
			delete(v.state, w.Key)
			continue
		}
		v.state[w.Key] = lastWrite{hash: sha256.Sum256(w.Value), block: n, tx: i}
	}
	for _, p := range rec.PrivateWrites {
		k := p.Collection + "\x00" + p.KeyHash
		if p.Op != OpPut {
			delete(v.private, k)
			continue
		}
		var want [32]byte
		if raw, err := hex.DecodeString(p.ValueHash); err != nil || len(raw) != len(want) {
			return v.fail(n, i, "", "private write value hash %q is not 64 hex digits", p.ValueHash)
		} else {
			copy(want[:], raw)
		}
		v.private[k] = lastWrite{hash: want, block: n, tx: i}
	}
	return nil
}

// checkIndex checks that no index entry names a transaction the chain
// does not hold.
func (v *verifier) checkIndex() error {
	it := v.btx.NewIterator(badger.IteratorOptions{Prefix: txPrefix})
	defer it.Close()
	count := 0
	for it.Rewind(); it.Valid(); it.Next() {
		count++
	}
	if count != v.rep.Txs {
		return v.fail(v.rep.Height, -1, "", "the transaction index has %d entries, the chain %d transactions", count, v.rep.Txs)
	}
	return nil
}

// checkState compares the world state with the replayed writes.
func (v *verifier) checkState() error {
	it := v.btx.NewIterator(badger.IteratorOptions{Prefix: statePrefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	seen := 0
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := string(item.Key()[len(statePrefix):])
		want, ok := v.state[key]
		if !ok {
			return v.fail(v.rep.Height, -1, key, "state key was never written by any transaction")
		}
		var got [32]byte
		if err := item.Value(func(val []byte) error { got = sha256.Sum256(val); return nil }); err != nil {
			return fmt.Errorf("read state %q: %w", key, err)
		}
		if got != want.hash {
			return v.fail(want.block, want.tx, key, "state value differs from the value this transaction wrote (the last write of the key)")
		}
		seen++
		v.rep.StateKeys++
	}
	if seen != len(v.state) {
		missing := make([]string, 0, len(v.state)-seen)
		for k := range v.state {
			if _, err := v.btx.Get(stateKey(k)); errors.Is(err, badger.ErrKeyNotFound) {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			w := v.state[missing[0]]
			return v.fail(w.block, w.tx, missing[0], "state key written by this transaction is missing (%d keys missing)", len(missing))
		}
	}
	return nil
}

// checkPrivate compares private data with the hashes the chain recorded.
func (v *verifier) checkPrivate() error {
	it := v.btx.NewIterator(badger.IteratorOptions{Prefix: privatePrefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	seen := 0
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		rest := item.Key()[len(privatePrefix):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 || len(rest) < i+2 || rest[len(rest)-1] != 0 {
			return v.fail(v.rep.Height, -1, string(rest), "malformed private data key")
		}
		if item.ValueSize() == 0 {
			continue // purged, awaiting removal: absent
		}
		collection, key := string(rest[:i]), rest[i+1:len(rest)-1]
		id := collection + "\x00" + hashHex(key)
		want, ok := v.private[id]
		if !ok {
			return v.fail(v.rep.Height, -1, "", "private data in %s under key hash %s was never written (or was deleted)", collection, hashHex(key))
		}
		var got [32]byte
		if err := item.Value(func(val []byte) error { got = sha256.Sum256(val); return nil }); err != nil {
			return fmt.Errorf("read private data: %w", err)
		}
		if got != want.hash {
			return v.fail(want.block, want.tx, "", "private data in %s under key hash %s differs from the hash this transaction recorded", collection, hashHex(key))
		}
		seen++
		v.rep.PrivateKeys++
	}
	if seen != len(v.private) {
		return v.fail(v.rep.Height, -1, "", "%d private data values recorded on the chain are missing", len(v.private)-seen)
	}
	return nil
}
