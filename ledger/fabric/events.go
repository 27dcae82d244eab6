package fabric

import (
	"context"
	"slices"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/tracegate/tracegate/ledger"
)

// Events implements ledger.Ledger with the gateway's chaincode events
// (network.ChaincodeEvents), read as the reader identity.
//
// The stream resumes strictly after the checkpoint: it starts at
// after.Block and drops the events of the transactions of that block up
// to and including after.TxID, the way fabric-gateway's checkpointer
// resumes. The positions come from the block itself (qscc), not from the
// gateway's after-transaction filter, which only recognises a transaction
// that emitted an event: a checkpoint taken from a Result of a write that
// emitted none (an idempotent repeat) would otherwise drop everything. A
// checkpoint whose TxID is not in its (existing) block is Invalid, as on
// the embedded backend.
//
// When the stream breaks (a peer restart, a network cut) it reconnects
// with backoff from the block of the last delivered event, dropping the
// events of that block already delivered: no gaps, no repeats. The channel
// closes when ctx ends or the ledger closes.
func (l *Ledger) Events(ctx context.Context, after ledger.Checkpoint) (<-chan ledger.Event, error) {
	if l.closed.Load() {
		return nil, errClosed()
	}
	r := &resume{block: after.Block, seen: map[string]bool{}}
	if after.TxID != "" {
		h, err := l.height(ctx)
		if err != nil {
			return nil, err
		}
		if after.Block < h {
			if err := r.skipThrough(ctx, l, after.TxID, true); err != nil {
				return nil, err
			}
		} else {
			r.pendingTx = after.TxID // the block does not exist yet
		}
	}
	out := make(chan ledger.Event, 64)
	l.streams.Add(1)
	go l.stream(ctx, r, out)
	return out, nil
}

// resume is a stream's position: the block it (re)starts at and the
// transactions of that block not to deliver (again).
type resume struct {
	block uint64
	seen  map[string]bool
	// pendingTx is a checkpoint transaction of a block that did not exist
	// when the stream started; its block is read when its first event
	// arrives.
	pendingTx string
}

// skipThrough marks the transactions of r.block up to and including txID
// as seen. strict refuses a txID that is not in the block; otherwise the
// whole block is delivered, as the embedded backend does for a checkpoint
// in a future block.
func (r *resume) skipThrough(ctx context.Context, l *Ledger, txID string, strict bool) error {
	ids, err := l.blockTxIDs(ctx, r.block)
	if err != nil {
		return err
	}
	i := slices.Index(ids, txID)
	if i < 0 {
		if strict {
			return ledger.Errorf(ledger.Invalid, "checkpoint: transaction %s is not in block %d", txID, r.block)
		}
		return nil
	}
	for _, id := range ids[:i+1] {
		r.seen[id] = true
	}
	return nil
}

// stream delivers events until ctx ends or the ledger closes,
// reconnecting when the gateway's stream breaks.
func (l *Ledger) stream(ctx context.Context, r *resume, out chan<- ledger.Event) {
	defer l.streams.Done()
	defer close(out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()

	failures := 0
	for ctx.Err() == nil {
		delivered, err := l.streamOnce(ctx, r, out)
		if ctx.Err() != nil {
			return
		}
		if delivered {
			failures = 0
		}
		l.log.Warn("chaincode event stream broke; resuming", "component", "ledger/fabric", "block", r.block, "err", err)
		l.reader.peer.redial()
		if !l.backoff(ctx, failures) {
			return
		}
		failures++
	}
}

// streamOnce reads one gateway stream from r.block until it breaks or ctx
// ends, and reports whether it delivered anything.
func (l *Ledger) streamOnce(ctx context.Context, r *resume, out chan<- ledger.Event) (delivered bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	events, err := l.reader.network.ChaincodeEvents(sctx, l.cfg.Chaincode, client.WithStartBlock(r.block))
	if err != nil {
		cancel()
		return false, err
	}
	defer func() {
		cancel()
		// fabric-gateway's reader blocks sending to an unread channel:
		// drain it so that it sees the cancel and ends.
		for range events {
		}
	}()
	for ev := range events {
		if r.pendingTx != "" && ev.BlockNumber >= r.block {
			if ev.BlockNumber == r.block {
				for ctx.Err() == nil {
					if err := r.skipThrough(ctx, l, r.pendingTx, false); err == nil {
						break
					} else if !l.backoff(ctx, 0) {
						return delivered, err
					}
				}
				if ctx.Err() != nil {
					return delivered, ctx.Err()
				}
			}
			r.pendingTx = ""
		}
		switch {
		case ev.BlockNumber < r.block:
			continue
		case ev.BlockNumber == r.block && r.seen[ev.TransactionID]:
			continue
		case ev.BlockNumber > r.block:
			r.block, r.seen = ev.BlockNumber, map[string]bool{}
		}
		select {
		case out <- ledger.Event{Block: ev.BlockNumber, TxID: ev.TransactionID, Name: ev.EventName, Payload: ev.Payload}:
			r.seen[ev.TransactionID] = true
			delivered = true
		case <-ctx.Done():
			return delivered, ctx.Err()
		}
	}
	return delivered, nil
}
