package fabric

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/chaincode"
	"github.com/tracegate/tracegate/ledger/contract"
)

// collectionArg names, for the contract functions that work on a private
// data collection, the argument that names it. Their proposals carry
// transient data and are endorsed (or evaluated) by the collection's
// member orgs only (Config.Collections).
var collectionArg = map[string]int{
	ledger.FnPutPrivate:    0,
	ledger.FnDeletePrivate: 0,
	ledger.FnPurgePrivate:  0,
	ledger.FnGetPrivate:    0,
}

// fixedCollection names, for the contract functions that always work on
// one private data collection (donor identities), that collection: their
// proposals are endorsed (or evaluated) by its member orgs only, as
// collectionArg's are.
var fixedCollection = map[string]string{
	ledger.FnPutDonorIdentity:   ledger.CollectionCharityPrivate,
	ledger.FnPurgeDonorIdentity: ledger.CollectionCharityPrivate,
	ledger.FnGetDonorIdentity:   ledger.CollectionCharityPrivate,
}

// proposalOptions builds the proposal of fn(args): private arguments
// (contract.FunctionInfo.PrivateArgs) go as transient data
// chaincode.TransientKey(i) with an empty string in their place, and a
// function on a configured collection targets the collection's members.
func (l *Ledger) proposalOptions(fn string, args []string) []client.ProposalOption {
	public := slices.Clone(args)
	var opts []client.ProposalOption
	if info, ok := contract.Lookup(fn); ok && len(info.PrivateArgs) > 0 {
		transient := map[string][]byte{}
		for _, i := range info.PrivateArgs {
			if i < len(args) {
				transient[chaincode.TransientKey(i)] = []byte(args[i])
				public[i] = ""
			}
		}
		if len(transient) > 0 {
			opts = append(opts, client.WithTransient(transient))
		}
	}
	col, ok := fixedCollection[fn]
	if i, named := collectionArg[fn]; named && i < len(args) {
		col, ok = args[i], true
	}
	if ok {
		// An unconfigured collection is left to the Fabric gateway, which
		// sends transient data to the collection's members only (or
		// refuses); the contract then answers as usual.
		if members := l.cfg.Collections[col]; len(members) > 0 {
			opts = append(opts, client.WithEndorsingOrganizations(members...))
		}
	}
	return append(opts, client.WithArguments(public...))
}

// checkFunction refuses a name the contract API cannot route to the
// contract, with the contract's own answer to an unknown function: the
// contract API reads "a:b" as function b of a contract named a.
func checkFunction(fn string) error {
	if fn == "" || strings.ContainsRune(fn, ':') {
		return ledger.Errorf(ledger.Invalid, "unknown contract function %q", fn)
	}
	return nil
}

// backoff sleeps before retry number attempt (from 0), or returns false
// when ctx ends first.
func (l *Ledger) backoff(ctx context.Context, attempt int) bool {
	d := l.backoffMin << min(attempt, 16)
	if d > l.backoffMax || d <= 0 {
		d = l.backoffMax
	}
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Submit implements ledger.Ledger: endorse, submit to the orderer and wait
// for the commit status, each step bounded by its Config timeout and by
// ctx. Transient failures (peers or orderer unavailable, MVCC and phantom
// read conflicts) are retried up to Config.Retries times with backoff: an
// endorsement or a read conflict with a new proposal, an orderer failure
// by sending the same transaction again. A contract refusal is never
// retried. When the commit status does not arrive in time the error is
// Unavailable and Result.TxID names the transaction, which may still
// commit (look it up with Transaction).
func (l *Ledger) Submit(ctx context.Context, id ledger.Identity, fn string, args ...string) (ledger.Result, error) {
	s, err := l.signerFor(id)
	if err != nil {
		return ledger.Result{}, err
	}
	if err := checkFunction(fn); err != nil {
		return ledger.Result{}, err
	}
	opts := l.proposalOptions(fn, args)
	var (
		tx  *client.Transaction
		res ledger.Result
	)
	for attempt := 0; ; attempt++ {
		var retry bool
		res, tx, retry, err = l.submitOnce(ctx, s, fn, tx, opts)
		if err == nil || !retry || attempt >= l.cfg.Retries {
			var le *ledger.Error
			if err != nil && retry && errors.As(err, &le) {
				le.Msg += fmt.Sprintf(" (gave up after %d attempts)", attempt+1)
			}
			return res, err
		}
		l.log.Warn("fabric submit failed, retrying", "component", "ledger/fabric", "fn", fn, "identity", id.String(), "tx", res.TxID, "attempt", attempt+1, "err", err)
		s.peer.redial()
		if !l.backoff(ctx, attempt) {
			return res, ledger.Errorf(ledger.Unavailable, "submit %s: %w (last error: %v)", fn, ctx.Err(), err)
		}
	}
}

// submitOnce makes one attempt. With tx set (an earlier attempt's endorsed
// transaction whose submit failed) it sends tx again instead of a new
// proposal. It returns the transaction to send again, if any, and whether
// a new attempt may succeed.
func (l *Ledger) submitOnce(ctx context.Context, s *signer, fn string, tx *client.Transaction, opts []client.ProposalOption) (ledger.Result, *client.Transaction, bool, error) {
	if tx == nil {
		prop, err := s.contract.NewProposal(fn, opts...)
		if err != nil {
			return ledger.Result{}, nil, false, ledger.Errorf(ledger.Invalid, "build proposal %s: %w", fn, err)
		}
		ectx, cancel := context.WithTimeout(ctx, l.cfg.EndorseTimeout)
		tx, err = prop.EndorseWithContext(ectx)
		cancel()
		if err != nil {
			err, retry := classify(ctx, "endorse", fn, prop.TransactionID(), err)
			return ledger.Result{TxID: prop.TransactionID()}, nil, retry, err
		}
	}
	res := ledger.Result{TxID: tx.TransactionID(), Payload: tx.Result()}
	sctx, cancel := context.WithTimeout(ctx, l.cfg.SubmitTimeout)
	commit, err := tx.SubmitWithContext(sctx)
	cancel()
	if err != nil {
		err, retry := classify(ctx, "submit", fn, res.TxID, err)
		return res, tx, retry, err
	}
	cctx, cancel := context.WithTimeout(ctx, l.cfg.CommitStatusTimeout)
	st, err := commit.StatusWithContext(cctx)
	cancel()
	if err != nil {
		ge := gatewayError("commit status", fn, res.TxID, err)
		return res, nil, false, &ledger.Error{Code: ledger.Unavailable,
			Msg: fmt.Sprintf("%v; the transaction was sent to the orderer and may still commit: look it up with Transaction(%q)", ge, res.TxID),
			Err: errors.Join(ctx.Err(), ge)}
	}
	res.Block = st.BlockNumber
	if !st.Successful {
		verr := &ValidationError{TxID: res.TxID, Block: st.BlockNumber, Code: st.Code}
		if st.Code == peer.TxValidationCode_DUPLICATE_TXID {
			// A resend of a transaction the orderer had taken after all:
			// the first copy decides.
			if info, err := l.Transaction(ctx, res.TxID); err == nil && info.Valid {
				res.Block = info.Block
				l.awaitPeers(ctx, commit, s.peer)
				return res, nil, false, nil
			}
		}
		if transientValidation(st.Code) {
			return res, nil, true, &ledger.Error{Code: ledger.Unavailable, Msg: "submit " + fn + ": " + verr.Error(), Err: verr}
		}
		return res, nil, false, &ledger.Error{Code: ledger.Invalid, Msg: "submit " + fn + ": " + verr.Error(), Err: verr}
	}
	l.awaitPeers(ctx, commit, s.peer)
	return res, nil, false, nil
}

// awaitPeers waits, up to the peer-sync timeout, until the configured
// peers other than the submitting one have committed the transaction too.
// It only delays: a peer that misses the wait is logged and skipped for a
// while.
func (l *Ledger) awaitPeers(ctx context.Context, commit *client.Commit, done *peerConn) {
	if l.peerSync <= 0 || len(l.peers) < 2 {
		return
	}
	raw, err := commit.Bytes()
	if err != nil {
		return
	}
	now := time.Now().UnixNano()
	var wg sync.WaitGroup
	for _, pc := range l.peers {
		if pc == done || pc.Endpoint == done.Endpoint || pc.syncBadUntil.Load() > now {
			continue
		}
		wg.Add(1)
		go func(pc *peerConn) {
			defer wg.Done()
			c, err := pc.sync.NewCommit(raw)
			if err == nil {
				wctx, cancel := context.WithTimeout(ctx, l.peerSync)
				_, err = c.StatusWithContext(wctx)
				cancel()
			}
			if err != nil && ctx.Err() == nil {
				pc.syncBadUntil.Store(time.Now().Add(syncPenalty).UnixNano())
				l.log.Warn("peer did not confirm a commit in time; skipping it for a while", "component", "ledger/fabric",
					"peer", pc.Endpoint, "org", pc.Org, "tx", commit.TransactionID(), "wait", l.peerSync, "err", err)
			}
		}(pc)
	}
	wg.Wait()
}

// Evaluate implements ledger.Ledger: a query on one peer (the identity's
// own, or a member of the collection a private read names), retried like
// Submit on transient failures.
func (l *Ledger) Evaluate(ctx context.Context, id ledger.Identity, fn string, args ...string) ([]byte, error) {
	s, err := l.signerFor(id)
	if err != nil {
		return nil, err
	}
	if err := checkFunction(fn); err != nil {
		return nil, err
	}
	opts := l.proposalOptions(fn, args)
	for attempt := 0; ; attempt++ {
		out, retry, err := l.evaluateOnce(ctx, s.contract, fn, opts)
		if err == nil || !retry || attempt >= l.cfg.Retries {
			return out, err
		}
		l.log.Warn("fabric evaluate failed, retrying", "component", "ledger/fabric", "fn", fn, "identity", id.String(), "attempt", attempt+1, "err", err)
		s.peer.redial()
		if !l.backoff(ctx, attempt) {
			return nil, ledger.Errorf(ledger.Unavailable, "evaluate %s: %w (last error: %v)", fn, ctx.Err(), err)
		}
	}
}

func (l *Ledger) evaluateOnce(ctx context.Context, c *client.Contract, fn string, opts []client.ProposalOption) ([]byte, bool, error) {
	prop, err := c.NewProposal(fn, opts...)
	if err != nil {
		return nil, false, ledger.Errorf(ledger.Invalid, "build proposal %s: %w", fn, err)
	}
	ectx, cancel := context.WithTimeout(ctx, l.cfg.EvaluateTimeout)
	defer cancel()
	out, err := prop.EvaluateWithContext(ectx)
	if err != nil {
		err, retry := classify(ctx, "evaluate", fn, prop.TransactionID(), err)
		return nil, retry, err
	}
	return out, false, nil
}
