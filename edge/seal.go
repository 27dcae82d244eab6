package edge

import (
	"context"
	"time"
)

// runSealer cuts batches when MaxEvents are pending or the oldest pending
// event is MaxAge old.
func (a *Agent) runSealer(ctx context.Context) error {
	tick := time.NewTicker(max(a.cfg.Batch.MaxAge/4, 5*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.wakeSeal:
		case <-tick.C:
		}
		for {
			sealed, err := a.sealIfDue()
			if err != nil {
				a.log.Error("seal batch", "err", err)
				break
			}
			if !sealed {
				break
			}
		}
	}
}

// sealIfDue seals one batch if one is due and reports whether it did.
func (a *Agent) sealIfDue() (bool, error) {
	n, err := a.j.PendingCount(a.cfg.Batch.MaxEvents)
	if err != nil || n == 0 {
		if n == 0 {
			a.mu.Lock()
			a.pendingAt = time.Time{}
			a.mu.Unlock()
		}
		return false, err
	}
	a.mu.Lock()
	if a.pendingAt.IsZero() {
		// Pending events found at start-up: their age is unknown, treat
		// them as due now.
		a.pendingAt = a.now().Add(-a.cfg.Batch.MaxAge)
	}
	age := a.now().Sub(a.pendingAt)
	a.mu.Unlock()
	if n < a.cfg.Batch.MaxEvents && age < a.cfg.Batch.MaxAge {
		return false, nil
	}
	b, err := a.j.Seal(a.cfg.ID, a.key, a.cfg.Batch.MaxEvents)
	if err != nil || b == nil {
		return false, err
	}
	a.mu.Lock()
	if n <= int(b.Header.Count) {
		a.pendingAt = time.Time{}
	} else {
		a.pendingAt = a.now()
	}
	a.mu.Unlock()
	a.m.sealed.Inc()
	a.m.sealedEv.Add(float64(b.Header.Count))
	a.nSealed.Add(b.Header.Count)
	a.log.Debug("batch sealed", "seq", b.Header.Seq, "count", b.Header.Count, "root", b.Header.Root)
	wake(a.wakeUpload)
	return true, nil
}

// Flush closes every open smoothing window and seals everything pending,
// regardless of size and age (used on shutdown and by tests and tools).
func (a *Agent) Flush() error {
	if _, err := a.processOnce(processChunk); err != nil {
		return err
	}
	if err := a.closeDueWindows(true); err != nil {
		return err
	}
	for {
		b, err := a.j.Seal(a.cfg.ID, a.key, a.cfg.Batch.MaxEvents)
		if err != nil {
			return err
		}
		if b == nil {
			break
		}
		a.m.sealed.Inc()
		a.m.sealedEv.Add(float64(b.Header.Count))
		a.nSealed.Add(b.Header.Count)
	}
	a.mu.Lock()
	a.pendingAt = time.Time{}
	a.mu.Unlock()
	wake(a.wakeUpload)
	return nil
}
