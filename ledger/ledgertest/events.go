package ledgertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// collect reads events from ch until pred says stop, or fails after the
// timeout.
func (s *suite) collect(ch <-chan ledger.Event, stop func(ledger.Event) bool) []ledger.Event {
	s.t.Helper()
	var out []ledger.Event
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				s.t.Fatalf("event stream closed after %d events", len(out))
			}
			out = append(out, e)
			if stop(e) {
				return out
			}
		case <-timer.C:
			s.t.Fatalf("timed out after %d events", len(out))
		}
	}
}

// untilTx stops at the event of transaction txID.
func untilTx(txID string) func(ledger.Event) bool {
	return func(e ledger.Event) bool { return e.TxID == txID }
}

type wantEvent struct {
	txID, name string
}

func testEvents(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	e := NewEdge(s.id("edge"))
	hs, sigs := e.Chain(2)
	p := s.product()

	// The checkpoint: after the first write of this test.
	start := s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), e.Device(mfr)))
	cp := ledger.Checkpoint{Block: start.Block, TxID: start.TxID}

	var want []wantEvent
	var lastBlock uint64 = start.Block
	record := func(name string, res ledger.Result) {
		t.Helper()
		if res.Block < lastBlock {
			t.Fatalf("%s committed in block %d after block %d", name, res.Block, lastBlock)
		}
		lastBlock = res.Block
		if name != "" {
			want = append(want, wantEvent{res.TxID, name})
		}
	}
	record(ledger.EvProductRegistered, s.must(s.c.RegisterProduct(s.ctx(), s.quality(mfr), p)))
	record("", s.must(s.c.RegisterProduct(s.ctx(), s.quality(mfr), p))) // no-op: no event
	_, r, err := s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[0], sigs[0])
	record(ledger.EvBatchAnchored, s.must(r, err))
	_, r, err = s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[0], sigs[0])
	record("", s.must(r, err)) // idempotent: no event
	s.refused("conflict", ledger.Conflict)(s.c.RegisterDevice(s.ctx(), s.operator(fx.Warehouse), e.Device(fx.Warehouse)))
	_, r, err = s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[1], sigs[1])
	record(ledger.EvBatchAnchored, s.must(r, err))
	record(ledger.EvLotRegistered, s.must(s.c.RegisterLot(s.ctx(), s.operator(mfr), ledger.Lot{GTIN: p.GTIN, Lot: "E" + s.run, Quantity: 10, ProducedAt: "2026-01-01", Expiry: "2027-01-01"})))
	moved := e.Device(mfr)
	moved.Site = "moved " + s.run
	record(ledger.EvDeviceUpdated, s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), moved)))
	last := want[len(want)-1].txID

	check := func(what string, events []ledger.Event, want []wantEvent) {
		t.Helper()
		if len(events) != len(want) {
			t.Fatalf("%s: %d events, want %d: %v", what, len(events), len(want), names(events))
		}
		for i := range want {
			if events[i].TxID != want[i].txID || events[i].Name != want[i].name {
				t.Fatalf("%s: event %d is %s %s, want %s %s", what, i, events[i].Name, events[i].TxID, want[i].name, want[i].txID)
			}
			if i > 0 && events[i].Block < events[i-1].Block {
				t.Fatalf("%s: event %d in block %d after block %d", what, i, events[i].Block, events[i-1].Block)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ch, err := s.l.Events(ctx, cp)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	events := s.collect(ch, untilTx(last))
	check("from checkpoint", events, want)

	// Payloads are the records.
	var a ledger.Anchor
	if err := json.Unmarshal(events[1].Payload, &a); err != nil || a.Edge != e.ID || a.Seq != 0 || a.TxID != events[1].TxID {
		t.Errorf("BatchAnchored payload %s (%v)", events[1].Payload, err)
	}

	// Resuming after any event gives exactly the remaining ones.
	for k := 1; k < len(events); k++ {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		ch, err := s.l.Events(ctx, ledger.After(events[k-1]))
		if err != nil {
			cancel()
			t.Fatalf("Events after %d: %v", k, err)
		}
		check(fmt.Sprintf("resume after event %d", k-1), s.collect(ch, untilTx(last)), want[k:])
		cancel()
	}

	// The stream closes when its context ends.
	cancel()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatal("event stream still open after its context ended")
		}
	}
}

func names(events []ledger.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Name
	}
	return out
}

// testEventsLive streams while several goroutines submit: every committed
// event arrives once, in commit order, across the replay/live boundary.
func testEventsLive(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	start := s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), NewEdge(s.id("first")).Device(mfr)))

	const writers, perWriter = 4, 5
	var mu sync.Mutex
	committed := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			e := NewEdge(s.id(fmt.Sprintf("live%d", w)))
			res, err := s.c.RegisterDevice(s.ctx(), s.operator(mfr), e.Device(mfr))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			committed[res.TxID] = true
			mu.Unlock()
			hs, sigs := e.Chain(perWriter - 1)
			for i := range hs {
				_, res, err := s.c.AnchorBatch(s.ctx(), s.operator(mfr), hs[i], sigs[i])
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				committed[res.TxID] = true
				mu.Unlock()
			}
		}(w)
	}
	// Subscribe while the writers run: part replay, part live.
	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ch, err := s.l.Events(ctx, ledger.Checkpoint{Block: start.Block, TxID: start.TxID})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	marker := s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), NewEdge(s.id("marker")).Device(mfr)))
	events := s.collect(ch, untilTx(marker.TxID))
	seen := map[string]bool{}
	for i, e := range events {
		if seen[e.TxID] {
			t.Fatalf("event %d (%s) repeated", i, e.TxID)
		}
		seen[e.TxID] = true
		if i > 0 && e.Block < events[i-1].Block {
			t.Fatalf("event %d out of block order", i)
		}
	}
	for tx := range committed {
		if !seen[tx] {
			t.Errorf("committed transaction %s has no event in the stream", tx)
		}
	}
	if len(events) != writers*perWriter+1 {
		t.Errorf("%d events, want %d", len(events), writers*perWriter+1)
	}

	// A live subscriber from "now" sees the next write.
	info, err := s.l.Transaction(s.ctx(), marker.TxID)
	if err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	ch2, err := s.l.Events(ctx, ledger.Checkpoint{Block: info.Block, TxID: marker.TxID})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	next := s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), NewEdge(s.id("next")).Device(mfr)))
	if ev := s.collect(ch2, untilTx(next.TxID)); len(ev) != 1 {
		t.Errorf("live stream delivered %d events, want 1", len(ev))
	}
}
