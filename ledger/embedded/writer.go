package embedded

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger"
)

// request is a transaction (or a configuration change) waiting for the
// writer.
type request struct {
	ctx     context.Context
	tx      Tx
	sig     []byte
	private map[int]string // the clear values of private arguments
	size    int
	// authenticated is set when Submit verified the signature already.
	authenticated bool
	config        *configChange
	reply         chan response
}

type response struct {
	res ledger.Result
	err error
}

type configChange struct {
	by     ledger.Identity
	key    ed25519.PrivateKey
	member Member
}

func (r *request) respond(res ledger.Result, err error) { r.reply <- response{res, err} }

// writer is the single goroutine that executes and commits transactions.
// Transactions that queue up while a block commits share the next block
// (group commit), so concurrent submitters share one fsync.
func (l *Ledger) writer() {
	defer close(l.writerDone)
	var next *request
	for {
		if next == nil {
			select {
			case next = <-l.reqs:
			case <-l.done:
				return
			}
		}
		if next.config != nil {
			l.commitConfig(next)
			next = nil
			continue
		}
		group := []*request{next}
		size := next.size
		next = nil
	drain:
		for len(group) < l.maxTxs && size < maxBlockBytes {
			select {
			case r := <-l.reqs:
				if r.config != nil {
					next = r
					break drain
				}
				group = append(group, r)
				size += r.size
			default:
				break drain
			}
		}
		l.commitGroup(group)
	}
}

// executed is a transaction that ran successfully in the current block.
type executed struct {
	req     *request
	rec     TxRecord
	payload []byte
}

// commitGroup executes the group's transactions in order on one Badger
// transaction and commits those that succeeded as one block.
func (l *Ledger) commitGroup(group []*request) {
	l.mu.Lock()
	h, cfg := l.head, l.cfg
	l.mu.Unlock()
	number := h.Number + 1

	btx := l.db.NewTransaction(true)
	defer btx.Discard()
	var done []executed
	var purge [][]byte
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.respond(ledger.Result{TxID: r.tx.ID}, ledger.Errorf(ledger.Unavailable, "submit %s: %w before execution; not committed", r.tx.Fn, err))
			continue
		}
		rec, payload, p, err := l.execute(btx, cfg, r)
		if err != nil {
			if ledger.CodeOf(err) == ledger.Unavailable && errors.Is(err, badger.ErrTxnTooBig) {
				// Writes are partly applied: the whole group fails.
				l.failGroup(group, err)
				return
			}
			r.respond(ledger.Result{TxID: r.tx.ID}, err)
			continue
		}
		purge = append(purge, p...)
		done = append(done, executed{req: r, rec: rec, payload: payload})
	}
	if len(done) == 0 {
		return
	}
	b := &Block{Number: number, PrevHash: h.Hash, Time: time.Now().UTC()}
	for _, e := range done {
		b.Txs = append(b.Txs, e.rec)
	}
	nh, err := l.writeBlock(btx, b)
	if err == nil {
		for i, e := range done {
			if err = btx.Set(txKey(e.rec.Tx.ID), txIndexValue(number, i)); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = btx.Commit()
	}
	if err != nil {
		err = ledger.Errorf(ledger.Unavailable, "commit block %d: %w", number, err)
		for _, e := range done {
			e.req.respond(ledger.Result{TxID: e.rec.Tx.ID}, err)
		}
		return
	}
	l.advance(nh, nil)
	l.purge(purge)
	for _, e := range done {
		e.req.respond(ledger.Result{TxID: e.rec.Tx.ID, Block: number, Payload: e.payload}, nil)
	}
}

func (l *Ledger) failGroup(group []*request, err error) {
	err = ledger.Errorf(ledger.Unavailable, "block too large, nothing committed: %w", err)
	for _, r := range group {
		select {
		case r.reply <- response{ledger.Result{TxID: r.tx.ID}, err}:
		default: // already answered
		}
	}
}

// execute authenticates one transaction, runs the contract and applies its
// writes to btx.
func (l *Ledger) execute(btx *badger.Txn, cfg *ChainConfig, r *request) (TxRecord, []byte, [][]byte, error) {
	tx := r.tx
	if !r.authenticated {
		if err := authenticate(cfg, &tx, r.sig); err != nil {
			return TxRecord{}, nil, nil, err
		}
	}
	if _, err := btx.Get(txKey(tx.ID)); err == nil {
		return TxRecord{}, nil, nil, ledger.Errorf(ledger.Conflict, "transaction %s is already committed", tx.ID)
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return TxRecord{}, nil, nil, ledger.Errorf(ledger.Unavailable, "read tx index: %w", err)
	}
	t, err := tx.time()
	if err != nil {
		return TxRecord{}, nil, nil, ledger.Errorf(ledger.Invalid, "transaction time %q: %w", tx.Time, err)
	}
	args := make([]string, len(tx.Args))
	copy(args, tx.Args)
	for i, v := range r.private {
		args[i] = v
	}
	s := newTxState(btx, cfg, tx.ID, t, callerOf(ledger.Identity{Org: tx.Org, User: tx.User}), false)
	payload, err := invoke(s, tx.Fn, args)
	if err != nil {
		return TxRecord{}, nil, nil, err
	}
	writes, private := s.writeSet()
	wsh, err := writeSetHash(writes, private)
	if err != nil {
		return TxRecord{}, nil, nil, ledger.Errorf(ledger.Unavailable, "%w", err)
	}
	purge, err := s.apply()
	if err != nil {
		return TxRecord{}, nil, nil, ledger.Errorf(ledger.Unavailable, "apply %s: %w", tx.ID, err)
	}
	rec := TxRecord{Tx: tx, Signature: r.sig, Valid: true, Event: s.event, Writes: writes, PrivateWrites: private, WriteSetHash: wsh}
	return rec, payload, purge, nil
}

// authenticate checks a transaction's channel, ID and signature against the
// channel's members: only then is its Caller trusted.
func authenticate(cfg *ChainConfig, tx *Tx, sig []byte) error {
	if tx.Channel != cfg.Channel {
		return ledger.Errorf(ledger.Invalid, "transaction for channel %q on channel %q", tx.Channel, cfg.Channel)
	}
	pub, ok := cfg.member(tx.Org)
	if !ok {
		return ledger.Errorf(ledger.Forbidden, "org %s is not a member of channel %s", tx.Org, cfg.Channel)
	}
	signed, err := tx.signingBytes()
	if err != nil {
		return ledger.Errorf(ledger.Invalid, "%w", err)
	}
	if hashHex(signed) != tx.ID {
		return ledger.Errorf(ledger.Invalid, "transaction ID %s does not match its content", tx.ID)
	}
	if !ed25519.Verify(pub, signed, sig) {
		return ledger.Errorf(ledger.Forbidden, "transaction %s: signature does not verify against the key of member %s", tx.ID, tx.Org)
	}
	return nil
}

// writeBlock adds block b and the new head to btx and returns the head.
func (l *Ledger) writeBlock(btx *badger.Txn, b *Block) (head, error) {
	if b.Txs == nil {
		b.Txs = []TxRecord{}
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return head{}, fmt.Errorf("marshal block %d: %w", b.Number, err)
	}
	if err := btx.Set(blockKey(b.Number), raw); err != nil {
		return head{}, fmt.Errorf("write block %d: %w", b.Number, err)
	}
	h := head{Number: b.Number, Hash: hashHex(raw)}
	if err := putJSON(btx, headKey, h); err != nil {
		return head{}, err
	}
	return h, nil
}

// advance publishes a committed head (and configuration) and wakes the
// event streams.
func (l *Ledger) advance(h head, cfg *ChainConfig) {
	l.mu.Lock()
	l.head = h
	if cfg != nil {
		l.cfg = cfg
	}
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

// purge removes every version of purged private keys from Badger once the
// block that purges them has committed. The block leaves each such key
// with an empty value, a marker no real value has (PutPrivateData refuses
// empty values) and that reads as absent; DropPrefix then drops the marker
// with every older version. Should the process die in between, Open finds
// the markers and finishes the job.
func (l *Ledger) purge(keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	if err := l.db.DropPrefix(keys...); err != nil {
		l.log.Error("purge private data: drop old versions", "component", "ledger/embedded", "err", err)
	}
}

// pendingPurges lists the private keys marked for purging.
func (l *Ledger) pendingPurges() ([][]byte, error) {
	var keys [][]byte
	err := l.db.View(func(btx *badger.Txn) error {
		it := btx.NewIterator(badger.IteratorOptions{Prefix: privatePrefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if it.Item().ValueSize() == 0 {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	return keys, err
}

// commitConfig commits a membership change as its own block.
func (l *Ledger) commitConfig(r *request) {
	if err := r.ctx.Err(); err != nil {
		r.respond(ledger.Result{}, ledger.Errorf(ledger.Unavailable, "add member: %w", err))
		return
	}
	l.mu.Lock()
	h, cfg := l.head, l.cfg
	l.mu.Unlock()
	c := r.config
	if _, ok := cfg.member(c.by.Org); !ok {
		r.respond(ledger.Result{}, ledger.Errorf(ledger.Forbidden, "org %s is not a member", c.by.Org))
		return
	}
	if _, ok := cfg.member(c.member.Org); ok {
		r.respond(ledger.Result{}, ledger.Errorf(ledger.Conflict, "org %s is already a member", c.member.Org))
		return
	}
	next := cfg.clone()
	next.Members = append(next.Members, c.member)
	next.normalise()
	if err := next.validate(); err != nil {
		r.respond(ledger.Result{}, ledger.Errorf(ledger.Invalid, "add member: %w", err))
		return
	}
	msg, err := configSigningBytes(h.Hash, next)
	if err != nil {
		r.respond(ledger.Result{}, ledger.Errorf(ledger.Invalid, "%w", err))
		return
	}
	b := &Block{Number: h.Number + 1, PrevHash: h.Hash, Time: time.Now().UTC(), Config: next,
		ConfigUpdate: &ConfigUpdate{Org: c.by.Org, User: c.by.User, Signature: ed25519.Sign(c.key, msg)}}
	btx := l.db.NewTransaction(true)
	defer btx.Discard()
	nh, err := l.writeBlock(btx, b)
	if err == nil {
		err = putJSON(btx, configKey, next)
	}
	if err == nil {
		err = btx.Commit()
	}
	if err != nil {
		r.respond(ledger.Result{}, ledger.Errorf(ledger.Unavailable, "commit config block %d: %w", b.Number, err))
		return
	}
	l.advance(nh, next)
	r.respond(ledger.Result{Block: b.Number}, nil)
}
