package embedded

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// TestEventsNoGapsUnderLoad starts subscribers at different moments and
// checkpoints while eight writers submit; each must receive exactly the
// chain's events after its checkpoint, in order, once.
func TestEventsNoGapsUnderLoad(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig())
	c := ledger.Client{L: l}
	if _, err := c.RegisterOrg(ctxT(t), admin(orgMfr), ledger.Org{ID: orgMfr, Name: "M", Kind: ledger.OrgManufacturer}); err != nil {
		t.Fatal(err)
	}
	const writers, per = 8, 20
	total := 1 + writers*(per+1)

	type sub struct {
		from ledger.Checkpoint
		got  []ledger.Event
	}
	var (
		mu      sync.Mutex
		subs    []*sub
		last    ledger.Result
		subWG   sync.WaitGroup
		writeWG sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subscribe := func(cp ledger.Checkpoint) {
		ch, err := l.Events(ctx, cp)
		if err != nil {
			t.Errorf("Events(%+v): %v", cp, err)
			return
		}
		s := &sub{from: cp}
		mu.Lock()
		subs = append(subs, s)
		mu.Unlock()
		subWG.Add(1)
		go func() {
			defer subWG.Done()
			for e := range ch {
				mu.Lock()
				s.got = append(s.got, e)
				mu.Unlock()
			}
		}()
	}
	subscribe(ledger.Checkpoint{})
	for w := 0; w < writers; w++ {
		writeWG.Add(1)
		go func(w int) {
			defer writeWG.Done()
			e := newEdge(fmt.Sprintf("load-%d", w))
			res, err := c.RegisterDevice(ctxT(t), admin(orgMfr), e.Device(orgMfr))
			if err != nil {
				t.Error(err)
				return
			}
			hs, sigs := e.Chain(per)
			for i := range hs {
				if i%5 == 0 {
					mu.Lock()
					cp := ledger.Checkpoint{Block: last.Block, TxID: last.TxID}
					mu.Unlock()
					subscribe(cp) // from the latest result any writer saw
				}
				_, res, err = c.AnchorBatch(ctxT(t), admin(orgMfr), hs[i], sigs[i])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if res.Block >= last.Block {
					last = res
				}
				mu.Unlock()
			}
		}(w)
	}
	writeWG.Wait()

	// The chain's events, in commit order.
	var all []ledger.Event
	for n := uint64(1); n <= l.Height(); n++ {
		b, err := l.Block(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Txs {
			all = append(all, ledger.Event{Block: n, TxID: r.Tx.ID, Name: r.Event.Name})
		}
	}
	if len(all) != total {
		t.Fatalf("%d events on the chain, want %d", len(all), total)
	}
	// Wait until every subscriber has caught up, then stop them.
	for {
		mu.Lock()
		done := true
		for _, s := range subs {
			if want := suffixAfter(all, s.from); len(s.got) < len(want) {
				done = false
			}
		}
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-ctxT(t).Done():
			t.Fatal("subscribers did not catch up")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	subWG.Wait()
	for i, s := range subs {
		want := suffixAfter(all, s.from)
		if len(s.got) != len(want) {
			t.Fatalf("subscriber %d from %+v: %d events, want %d", i, s.from, len(s.got), len(want))
		}
		for j := range want {
			if s.got[j].TxID != want[j].TxID || s.got[j].Block != want[j].Block {
				t.Fatalf("subscriber %d event %d: %s in block %d, want %s in block %d", i, j, s.got[j].TxID, s.got[j].Block, want[j].TxID, want[j].Block)
			}
		}
	}
	t.Logf("%d subscribers, %d events in %d blocks", len(subs), len(all), l.Height())
}

// suffixAfter returns the events strictly after checkpoint cp.
func suffixAfter(all []ledger.Event, cp ledger.Checkpoint) []ledger.Event {
	if cp.TxID == "" {
		for i, e := range all {
			if e.Block >= cp.Block {
				return all[i:]
			}
		}
		return nil
	}
	for i, e := range all {
		if e.TxID == cp.TxID {
			return all[i+1:]
		}
	}
	return nil
}
