package embedded

import (
	"context"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger"
)

// Events implements ledger.Ledger. One goroutine per stream reads committed
// blocks from its position up to the current head, then waits for the next
// commit; the replay and the live tail are the same loop, so nothing is
// missed or repeated at the boundary.
//
// A checkpoint whose TxID is not in its block (when that block exists
// already) is refused as Invalid.
func (l *Ledger) Events(ctx context.Context, after ledger.Checkpoint) (<-chan ledger.Event, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errClosed()
	}
	l.subs.Add(1)
	height := l.head.Number
	l.mu.Unlock()

	next, skipTx := after.Block, after.TxID
	if skipTx != "" && after.Block <= height {
		b, err := l.Block(after.Block)
		if err != nil {
			l.subs.Done()
			return nil, err
		}
		if txIndex(b, skipTx) < 0 {
			l.subs.Done()
			return nil, ledger.Errorf(ledger.Invalid, "checkpoint: transaction %s is not in block %d", skipTx, after.Block)
		}
	}
	ch := make(chan ledger.Event, 64)
	go func() {
		defer l.subs.Done()
		defer close(ch)
		for {
			l.mu.Lock()
			notify, height := l.notify, l.head.Number
			l.mu.Unlock()
			for ; next <= height; next++ {
				var b *Block
				err := l.db.View(func(btx *badger.Txn) error {
					var err error
					b, err = readBlock(btx, next)
					return err
				})
				if err != nil {
					l.log.Error("event stream stopped", "component", "ledger/embedded", "block", next, "err", err)
					return
				}
				start := 0
				if skipTx != "" && next == after.Block {
					start = txIndex(b, skipTx) + 1 // 0 when absent: the whole block
				}
				for _, rec := range b.Txs[start:] {
					if rec.Event == nil || !rec.Valid {
						continue
					}
					ev := ledger.Event{Block: b.Number, TxID: rec.Tx.ID, Name: rec.Event.Name, Payload: rec.Event.Payload}
					select {
					case ch <- ev:
					case <-ctx.Done():
						return
					case <-l.done:
						return
					}
				}
			}
			select {
			case <-notify:
			case <-ctx.Done():
				return
			case <-l.done:
				return
			}
		}
	}()
	return ch, nil
}

// txIndex returns the index of txID in b, or -1.
func txIndex(b *Block, txID string) int {
	for i, rec := range b.Txs {
		if rec.Tx.ID == txID {
			return i
		}
	}
	return -1
}
