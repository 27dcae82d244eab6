// Package embedded is tracegate's default ledger backend: an in-process,
// Badger-backed chain of hash-linked blocks that runs the contract
// (ledger/contract) under per-organisation Ed25519 identities.
//
// Every transaction is signed by its org's key and verified against the
// consortium's member list before the contract sees its Caller, so access
// rules hold per organisation exactly as on Fabric. A committed block, its
// state writes and its indexes go to disk in one Badger transaction with
// synchronous writes. Verify walks the whole chain and state and reports the
// first inconsistency.
package embedded

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/contract"
)

// MaxTxBytes bounds the total size of a transaction's arguments.
const MaxTxBytes = 1 << 20

// maxBlockBytes bounds the arguments grouped into one block, keeping a
// block's Badger transaction far below Badger's batch limit.
const maxBlockBytes = 4 << 20

// Ledger is the embedded ledger. It implements ledger.Ledger.
type Ledger struct {
	db        *badger.DB
	keys      map[string]ed25519.PrivateKey
	chaincode string
	maxTxs    int
	log       *slog.Logger

	reqs       chan *request
	done       chan struct{}
	writerDone chan struct{}
	subs       sync.WaitGroup
	closeOnce  sync.Once

	mu     sync.Mutex
	head   head
	cfg    *ChainConfig
	notify chan struct{} // closed and replaced on every commit
	closed bool
}

var _ ledger.Ledger = (*Ledger)(nil)

// Open opens (or creates) the ledger in dir.
func Open(dir string, cfg Config) (*Ledger, error) {
	if cfg.Channel == "" {
		cfg.Channel = DefaultChannel
	}
	if cfg.Chaincode == "" {
		cfg.Chaincode = DefaultChaincode
	}
	if cfg.MaxBlockTxs <= 0 {
		cfg.MaxBlockTxs = DefaultMaxBlockTxs
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	want := &ChainConfig{Channel: cfg.Channel, Members: slices.Clone(cfg.Members), Collections: slices.Clone(cfg.Collections)}
	want.normalise()
	if len(cfg.Members) > 0 {
		if err := want.validate(); err != nil {
			return nil, fmt.Errorf("open ledger: config: %w", err)
		}
	}
	opts := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(badgerLogger{log})
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", dir, err)
	}
	l := &Ledger{
		db: db, keys: map[string]ed25519.PrivateKey{}, chaincode: cfg.Chaincode, maxTxs: cfg.MaxBlockTxs, log: log,
		reqs: make(chan *request, 256), done: make(chan struct{}), writerDone: make(chan struct{}),
		notify: make(chan struct{}),
	}
	if err := l.load(want, len(cfg.Members) > 0, len(cfg.Collections) > 0); err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger %s: %w", dir, err)
	}
	for org, k := range cfg.Keys {
		if len(k) != ed25519.PrivateKeySize {
			db.Close()
			return nil, fmt.Errorf("open ledger: key of %s is %d bytes, want %d", org, len(k), ed25519.PrivateKeySize)
		}
		pub, ok := l.cfg.member(org)
		if !ok {
			db.Close()
			return nil, fmt.Errorf("open ledger: holds a key for %s, which is not a member", org)
		}
		if !pub.Equal(k.Public()) {
			db.Close()
			return nil, fmt.Errorf("open ledger: the key held for %s does not match its member public key", org)
		}
		l.keys[org] = k
	}
	pending, err := l.pendingPurges()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger: find pending purges: %w", err)
	}
	l.purge(pending)
	go l.writer()
	return l, nil
}

// load reads the chain head and configuration, writing the genesis block
// first if the ledger is new.
func (l *Ledger) load(want *ChainConfig, haveMembers, haveCollections bool) error {
	return l.db.Update(func(btx *badger.Txn) error {
		item, err := btx.Get(headKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			if !haveMembers {
				return errors.New("a new ledger needs Config.Members for its genesis block")
			}
			g := &Block{Number: 0, Time: time.Now().UTC(), Config: want, Txs: []TxRecord{}}
			raw, err := json.Marshal(g)
			if err != nil {
				return fmt.Errorf("marshal genesis block: %w", err)
			}
			h := head{Number: 0, Hash: hashHex(raw)}
			if err := putJSON(btx, headKey, h); err != nil {
				return err
			}
			if err := putJSON(btx, configKey, want); err != nil {
				return err
			}
			if err := btx.Set(blockKey(0), raw); err != nil {
				return fmt.Errorf("write genesis block: %w", err)
			}
			l.head, l.cfg = h, want
			return nil
		}
		if err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &l.head) }); err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		var cfg ChainConfig
		if err := getJSON(btx, configKey, &cfg); err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		cfg.normalise()
		l.cfg = &cfg
		check := want.clone()
		if !haveMembers {
			check.Members = cfg.Members
		}
		if !haveCollections {
			check.Collections = nil
		}
		if d := cfg.diff(check); d != "" {
			return fmt.Errorf("the config does not match the ledger: %s", d)
		}
		return nil
	})
}

func putJSON(btx *badger.Txn, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", key, err)
	}
	if err := btx.Set(key, raw); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func getJSON(btx *badger.Txn, key []byte, v any) error {
	item, err := btx.Get(key)
	if err != nil {
		return err
	}
	return item.Value(func(raw []byte) error { return json.Unmarshal(raw, v) })
}

// Info implements ledger.Ledger.
func (l *Ledger) Info() ledger.Info {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ledger.Info{Kind: ledger.KindEmbedded, Channel: l.cfg.Channel, Chaincode: l.chaincode}
}

// Height returns the number of the latest block.
func (l *Ledger) Height() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head.Number
}

// Members returns the current consortium members.
func (l *Ledger) Members() []Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg.clone().Members
}

func (l *Ledger) config() *ChainConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

func errClosed() error { return ledger.Errorf(ledger.Unavailable, "embedded ledger is closed") }

func (l *Ledger) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Close stops the writer and the event streams and closes the database.
func (l *Ledger) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.done)
		<-l.writerDone
		l.subs.Wait()
		if e := l.db.Close(); e != nil {
			err = fmt.Errorf("close ledger: %w", e)
		}
	})
	return err
}

// identity checks that this process may act as id and returns its key.
func (l *Ledger) identity(id ledger.Identity) (ed25519.PrivateKey, error) {
	l.mu.Lock()
	key, ok := l.keys[id.Org]
	l.mu.Unlock()
	if !ok {
		return nil, ledger.Errorf(ledger.Forbidden, "this process holds no identity key for org %q", id.Org)
	}
	if id.User == "" || len(id.User) > 128 || !utf8.ValidString(id.User) {
		return nil, ledger.Errorf(ledger.Invalid, "user name %q is empty, too long or not UTF-8", id.User)
	}
	return key, nil
}

// checkArgs refuses arguments that cannot be recorded faithfully.
func checkArgs(fn string, args []string) error {
	if !utf8.ValidString(fn) || len(fn) > 128 {
		return ledger.Errorf(ledger.Invalid, "function name is not valid UTF-8 or too long")
	}
	total := 0
	for i, a := range args {
		if !utf8.ValidString(a) {
			return ledger.Errorf(ledger.Invalid, "%s: argument %d is not valid UTF-8", fn, i)
		}
		total += len(a)
	}
	if total > MaxTxBytes {
		return ledger.Errorf(ledger.Invalid, "%s: arguments are %d bytes, more than %d", fn, total, MaxTxBytes)
	}
	return nil
}

func newNonce() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", ledger.Errorf(ledger.Unavailable, "nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// privateArgHash is what a block records for a private argument: a hash
// salted with the transaction's nonce, so guessable values stay hidden.
func privateArgHash(nonce string, i int, arg string) string {
	return "private:sha256:" + hashHex([]byte(fmt.Sprintf("%s\x00%d\x00%s", nonce, i, arg)))
}

// Submit implements ledger.Ledger.
func (l *Ledger) Submit(ctx context.Context, id ledger.Identity, fn string, args ...string) (ledger.Result, error) {
	if l.isClosed() {
		return ledger.Result{}, errClosed()
	}
	key, err := l.identity(id)
	if err != nil {
		return ledger.Result{}, err
	}
	if err := checkArgs(fn, args); err != nil {
		return ledger.Result{}, err
	}
	nonce, err := newNonce()
	if err != nil {
		return ledger.Result{}, err
	}
	tx := Tx{Channel: l.config().Channel, Org: id.Org, User: id.User, Fn: fn, Args: slices.Clone(args),
		Time: time.Now().UTC().Format(time.RFC3339Nano), Nonce: nonce}
	var private map[int]string
	if info, ok := contract.Lookup(fn); ok {
		for _, i := range info.PrivateArgs {
			if i < len(args) {
				if private == nil {
					private = map[int]string{}
				}
				private[i] = args[i]
				tx.Args[i] = privateArgHash(nonce, i, args[i])
			}
		}
	}
	signed, err := tx.signingBytes()
	if err != nil {
		return ledger.Result{}, err
	}
	tx.ID = hashHex(signed)
	req := &request{ctx: ctx, tx: tx, sig: ed25519.Sign(key, signed), private: private, size: len(signed), reply: make(chan response, 1)}
	// Authenticate here, concurrently with other submitters, rather than
	// in the single writer. Membership only grows, so a signature that
	// verifies against the members now still does when the writer runs.
	if err := authenticate(l.config(), &req.tx, req.sig); err != nil {
		return ledger.Result{TxID: tx.ID}, err
	}
	req.authenticated = true
	return l.send(ctx, req)
}

// send queues a request for the writer and waits for its outcome.
func (l *Ledger) send(ctx context.Context, req *request) (ledger.Result, error) {
	pending := ledger.Result{TxID: req.tx.ID}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		return pending, ledger.Errorf(ledger.Unavailable, "submit %s: %w", req.tx.Fn, ctx.Err())
	case <-l.done:
		return pending, errClosed()
	}
	select {
	case r := <-req.reply:
		return r.res, r.err
	case <-ctx.Done():
		return pending, ledger.Errorf(ledger.Unavailable, "submit %s: %w before commit; the transaction may still commit, look up %s", req.tx.Fn, ctx.Err(), req.tx.ID)
	case <-l.done:
		select {
		case r := <-req.reply:
			return r.res, r.err
		default:
		}
		return pending, ledger.Errorf(ledger.Unavailable, "submit %s: ledger closed before commit", req.tx.Fn)
	}
}

// Evaluate implements ledger.Ledger: it runs fn on a read-only snapshot.
func (l *Ledger) Evaluate(ctx context.Context, id ledger.Identity, fn string, args ...string) ([]byte, error) {
	if l.isClosed() {
		return nil, errClosed()
	}
	if _, err := l.identity(id); err != nil {
		return nil, err
	}
	if err := checkArgs(fn, args); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "evaluate %s: %w", fn, err)
	}
	cfg := l.config()
	if _, ok := cfg.member(id.Org); !ok {
		return nil, ledger.Errorf(ledger.Forbidden, "org %s is not a member of channel %s", id.Org, cfg.Channel)
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	var out []byte
	err = l.db.View(func(btx *badger.Txn) error {
		s := newTxState(btx, cfg, hashHex([]byte(nonce)), time.Now().UTC(), callerOf(id), true)
		var err error
		out, err = invoke(s, fn, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// callerOf is the Caller of an authenticated identity.
func callerOf(id ledger.Identity) ledger.Caller {
	return ledger.Caller{Org: id.Org, User: id.User, Admin: id.User == ledger.AdminUser}
}

// invoke runs the contract, turning a panic into an error so that one bad
// transaction cannot take the writer down.
func invoke(s ledger.State, fn string, args []string) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, ledger.Errorf(ledger.Unavailable, "contract %s panicked: %v", fn, r)
		}
	}()
	return contract.Invoke(s, fn, args)
}

// Transaction implements ledger.Ledger. Time is the transaction's
// timestamp, the one the contract saw as TxTime.
func (l *Ledger) Transaction(ctx context.Context, txID string) (ledger.TxInfo, error) {
	if l.isClosed() {
		return ledger.TxInfo{}, errClosed()
	}
	if err := ctx.Err(); err != nil {
		return ledger.TxInfo{}, ledger.Errorf(ledger.Unavailable, "transaction %s: %w", txID, err)
	}
	var info ledger.TxInfo
	err := l.db.View(func(btx *badger.Txn) error {
		item, err := btx.Get(txKey(txID))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ledger.Errorf(ledger.NotFound, "transaction %s is not committed", txID)
		}
		if err != nil {
			return ledger.Errorf(ledger.Unavailable, "read tx index: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return ledger.Errorf(ledger.Unavailable, "read tx index: %w", err)
		}
		n, i, err := parseTxIndex(v)
		if err != nil {
			return ledger.Errorf(ledger.Unavailable, "tx %s: %w", txID, err)
		}
		b, err := readBlock(btx, n)
		if err != nil {
			return err
		}
		if i >= len(b.Txs) || b.Txs[i].Tx.ID != txID {
			return ledger.Errorf(ledger.Unavailable, "tx index of %s points to block %d tx %d, which is another transaction", txID, n, i)
		}
		rec := b.Txs[i]
		t, _ := rec.Tx.time()
		info = ledger.TxInfo{TxID: txID, Block: n, Valid: rec.Valid, Time: t, Org: rec.Tx.Org}
		return nil
	})
	return info, err
}

// Block returns block n, with its hash computed from its stored bytes.
func (l *Ledger) Block(n uint64) (*Block, error) {
	if l.isClosed() {
		return nil, errClosed()
	}
	var b *Block
	err := l.db.View(func(btx *badger.Txn) error {
		var err error
		b, err = readBlock(btx, n)
		return err
	})
	return b, err
}

// readBlock reads and decodes block n.
func readBlock(btx *badger.Txn, n uint64) (*Block, error) {
	raw, err := readBlockBytes(btx, n)
	if err != nil {
		return nil, err
	}
	var b Block
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "block %d does not decode: %w", n, err)
	}
	b.Hash = hashHex(raw)
	return &b, nil
}

func readBlockBytes(btx *badger.Txn, n uint64) ([]byte, error) {
	item, err := btx.Get(blockKey(n))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ledger.Errorf(ledger.NotFound, "block %d does not exist", n)
	}
	if err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "read block %d: %w", n, err)
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "read block %d: %w", n, err)
	}
	return raw, nil
}

// AddMember adds an organisation to the consortium in a configuration
// block signed by by, a member whose key this process holds. (Fabric's
// equivalent is a channel configuration update signed by a majority of the
// channel's admins; the embedded ledger trusts any one member.) It returns
// the number of the configuration block.
func (l *Ledger) AddMember(ctx context.Context, by ledger.Identity, m Member) (uint64, error) {
	if l.isClosed() {
		return 0, errClosed()
	}
	key, err := l.identity(by)
	if err != nil {
		return 0, err
	}
	if by.User != ledger.AdminUser {
		return 0, ledger.Errorf(ledger.Forbidden, "only an org's admin may change the consortium, not %s", by)
	}
	m.PublicKey = slices.Clone(m.PublicKey)
	req := &request{ctx: ctx, config: &configChange{by: by, key: key, member: m}, reply: make(chan response, 1)}
	req.tx.Fn = "AddMember"
	res, err := l.send(ctx, req)
	return res.Block, err
}

// HoldKey lets this process sign as org, a member added since the ledger
// was opened (AddMember), with its key.
func (l *Ledger) HoldKey(org string, k ed25519.PrivateKey) error {
	if len(k) != ed25519.PrivateKeySize {
		return fmt.Errorf("key of %s is %d bytes, want %d", org, len(k), ed25519.PrivateKeySize)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	pub, ok := l.cfg.member(org)
	if !ok {
		return fmt.Errorf("%s is not a member", org)
	}
	if !pub.Equal(k.Public()) {
		return fmt.Errorf("the key for %s does not match its member public key", org)
	}
	l.keys[org] = k
	return nil
}

// badgerLogger forwards Badger's warnings and errors to slog.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "ledger/embedded", "source", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "ledger/embedded", "source", "badger")
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
