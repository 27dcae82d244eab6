package web

import (
	"context"
	"sync"
	"time"

	"github.com/tracegate/tracegate/gateway/store"
)

// activityMinutes is how far back the dashboard's events-per-minute chart
// looks.
const activityMinutes = 60

// activity counts newly indexed events per minute for the dashboard's
// chart: filled from the store when the app starts, then from the live
// bus.
type activity struct {
	mu      sync.Mutex
	buckets map[int64]int // unix minute -> events
}

func newActivity() *activity { return &activity{buckets: map[int64]int{}} }

func (ac *activity) add(t time.Time, n int) {
	m := t.Unix() / 60
	ac.mu.Lock()
	ac.buckets[m] += n
	for k := range ac.buckets {
		if k < m-2*activityMinutes {
			delete(ac.buckets, k)
		}
	}
	ac.mu.Unlock()
}

// series returns the last activityMinutes per-minute counts, oldest first,
// ending with the current minute.
func (ac *activity) series(now time.Time) []int {
	end := now.Unix() / 60
	out := make([]int, activityMinutes)
	ac.mu.Lock()
	for i := range out {
		out[i] = ac.buckets[end-int64(activityMinutes-1-i)]
	}
	ac.mu.Unlock()
	return out
}

// collectActivity backfills the last hour from the store, then counts
// live batches until ctx ends.
func (a *App) collectActivity(ctx context.Context) {
	sub, cancel := a.svc.Bus().Subscribe()
	defer cancel()
	since := time.Now().Add(-activityMinutes * time.Minute)
	recs, _, err := a.svc.Store().Walk(store.Scan{Index: store.IdxRecorded, From: since, Limit: 20000}, nil)
	if err == nil {
		for _, r := range recs {
			a.activity.add(r.RecordTime, 1)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-sub:
			if !ok {
				return
			}
			if u.Type != "batch" {
				continue
			}
			if m, ok := u.Data.(map[string]any); ok {
				if n, ok := m["newEvents"].(int); ok && n > 0 {
					a.activity.add(time.Now(), n)
				}
			}
		}
	}
}
