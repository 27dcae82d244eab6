package gateway

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// AnchorStatus is the anchoring pipeline's state, for /readyz, /metrics
// and the portal.
type AnchorStatus struct {
	Queued     int       `json:"queued"`
	Oldest     time.Time `json:"oldest,omitzero"`
	LedgerDown bool      `json:"ledgerDown"`
	Stuck      int       `json:"stuck"`
	LastError  string    `json:"lastError,omitempty"`
	LastAnchor time.Time `json:"lastAnchor,omitzero"`
}

// AnchorStatus returns the pipeline's latest state.
func (s *Service) AnchorStatus() AnchorStatus {
	s.anMu.Lock()
	defer s.anMu.Unlock()
	return s.anStatus
}

// runAnchorer anchors accepted batches on the ledger: one edge's batches in
// sequence (they touch the same keys and each names the previous), different
// edges in parallel. The queue lives in the store, so it survives restarts;
// a batch leaves it only once its anchor is recorded. Ledger outages back
// off exponentially; refusals (a permanent ledger error) stay queued, are
// reported, and are retried every minute in case an operator fixed the
// cause.
func (s *Service) runAnchorer(ctx context.Context) error {
	backoff := time.Duration(0)
	lastPermRetry := time.Time{}
	for {
		retryPerm := time.Since(lastPermRetry) > time.Minute
		if retryPerm {
			lastPermRetry = time.Now()
		}
		transient, err := s.anchorPass(ctx, retryPerm)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log.Error("anchoring pass", "err", err)
		}
		var wait time.Duration
		if transient {
			backoff = min(max(backoff*2, 200*time.Millisecond), s.cfg.AnchorMaxBackoff)
			wait = backoff/2 + rand.N(backoff/2+1)
		} else {
			backoff = 0
			wait = 2 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.wakeAn:
			if transient {
				// Let the backoff run out before hammering a ledger that is down.
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
			t.Stop()
		case <-t.C:
		}
	}
}

// anchorPass works through the queue once; it reports whether a transient
// failure (ledger unavailable) stopped some edge.
func (s *Service) anchorPass(ctx context.Context, retryPerm bool) (bool, error) {
	q, err := s.st.Queue(0)
	if err != nil {
		return true, err
	}
	byEdge := map[string][]store.QueueEntry{}
	var order []string
	st := AnchorStatus{Queued: len(q)}
	for _, e := range q {
		if _, ok := byEdge[e.Edge]; !ok {
			order = append(order, e.Edge)
		}
		byEdge[e.Edge] = append(byEdge[e.Edge], e)
		if st.Oldest.IsZero() || e.Queued.Before(st.Oldest) {
			st.Oldest = e.Queued
		}
		if e.Permanent {
			st.Stuck++
			st.LastError = e.LastError
		}
	}
	prev := s.AnchorStatus()
	st.LastAnchor = prev.LastAnchor
	if len(q) == 0 {
		s.setAnchorStatus(st)
		return false, nil
	}
	var mu sync.Mutex
	transient := false
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, edgeID := range order {
		entries := byEdge[edgeID]
		g.Go(func() error {
			for _, e := range entries {
				if e.Permanent && !retryPerm {
					return nil
				}
				err := s.anchorOne(gctx, e)
				if err == nil {
					continue
				}
				mu.Lock()
				st.LastError = err.Error()
				if isTransient(err) {
					transient = true
				}
				mu.Unlock()
				return nil // this edge waits; others go on
			}
			return nil
		})
	}
	_ = g.Wait()
	// Recount after the pass.
	q2, err := s.st.Queue(0)
	if err == nil {
		st.Queued, st.Oldest, st.Stuck = len(q2), time.Time{}, 0
		for _, e := range q2 {
			if st.Oldest.IsZero() || e.Queued.Before(st.Oldest) {
				st.Oldest = e.Queued
			}
			if e.Permanent {
				st.Stuck++
			}
		}
	}
	st.LedgerDown = transient
	if st.LastAnchor.IsZero() || s.AnchorStatus().LastAnchor.After(st.LastAnchor) {
		st.LastAnchor = s.AnchorStatus().LastAnchor
	}
	if st.Queued == 0 {
		st.LastError = ""
	}
	s.setAnchorStatus(st)
	return transient, nil
}

func (s *Service) setAnchorStatus(st AnchorStatus) {
	s.anMu.Lock()
	s.anStatus = st
	s.anMu.Unlock()
}

// isTransient tells ledger outages (retry soon) from refusals.
func isTransient(err error) bool {
	code := ledger.CodeOf(err)
	return code == "" || code == ledger.Unavailable
}

// anchorOne anchors one batch and records where.
func (s *Service) anchorOne(ctx context.Context, q store.QueueEntry) error {
	rec, err := s.st.Batch(q.Edge, q.Seq)
	if err != nil {
		return err
	}
	dev, err := s.keys.Get(ctx, q.Edge)
	if err != nil {
		return s.anchorFailed(q, err)
	}
	id := ledger.Identity{Org: dev.Org, User: s.cfg.AnchorUser}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	anc, res, err := s.led.AnchorBatch(actx, id, rec.Header, rec.Signature)
	if err != nil {
		return s.anchorFailed(q, err)
	}
	block := res.Block
	if anc.TxID != res.TxID {
		// Anchored before (a retry after a crash or timeout): find the
		// block of the transaction that wrote it.
		tx, err := s.led.L.Transaction(actx, anc.TxID)
		if err != nil {
			return s.anchorFailed(q, err)
		}
		block = tx.Block
	}
	ar := store.AnchorRecord{Ledger: s.info.Kind, Channel: s.info.Channel, TxID: anc.TxID, Block: block, AnchoredAt: anc.AnchoredAt}
	if err := s.st.SetAnchored(q.Edge, q.Seq, ar); err != nil {
		return err
	}
	now := s.now()
	s.m.anchored.Inc()
	s.m.anchorSubmit.Observe(time.Since(start).Seconds())
	s.m.anchorDelay.Observe(now.Sub(rec.ReceivedAt).Seconds())
	s.anMu.Lock()
	s.anStatus.LastAnchor = now
	s.anMu.Unlock()
	s.bus.Publish(Update{Type: "anchor", Data: map[string]any{"edge": q.Edge, "seq": q.Seq, "txID": anc.TxID, "block": block, "count": rec.Header.Count}})
	s.log.Debug("batch anchored", "edge", q.Edge, "seq", q.Seq, "tx", anc.TxID, "block", block)
	return nil
}

func (s *Service) anchorFailed(q store.QueueEntry, err error) error {
	q.Attempts++
	q.LastError = err.Error()
	q.Permanent = !isTransient(err)
	kind := "unavailable"
	if q.Permanent {
		kind = "refused"
		s.log.Error("ledger refused anchor; kept queued", "edge", q.Edge, "seq", q.Seq, "attempts", q.Attempts, "err", err)
	} else {
		s.log.Warn("ledger unavailable; anchor retried", "edge", q.Edge, "seq", q.Seq, "attempts", q.Attempts, "err", err)
	}
	s.m.anchorErrors.WithLabelValues(kind).Inc()
	if uerr := s.st.UpdateQueue(q); uerr != nil {
		return errors.Join(err, uerr)
	}
	return err
}
