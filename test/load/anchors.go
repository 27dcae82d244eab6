package load

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/ledgertest"
)

// AnchorOptions sizes an anchoring run.
type AnchorOptions struct {
	Edges   int // edges anchoring in parallel (each edge's batches in sequence)
	Batches int // batches per edge
	Org     string
}

// AnchorReport is what an anchoring run measured on one ledger.
type AnchorReport struct {
	Ledger       string  `json:"ledger"`
	Anchors      int     `json:"anchors"`
	P50ms        float64 `json:"p50ms"`
	P99ms        float64 `json:"p99ms"`
	Maxms        float64 `json:"maxms"`
	PerSecond    float64 `json:"batchesPerSecond"`
	SeqP50ms     float64 `json:"sequentialP50ms"` // one edge alone: submit → committed
	SeqPerSecond float64 `json:"sequentialBatchesPerSecond"`
}

// Anchors measures AnchorBatch on l the way the gateway's pipeline drives
// it: first one edge alone (each anchor waits for the previous one), then
// o.Edges edges in parallel, each in sequence. Latency is submit →
// committed (the call returns after the commit).
func Anchors(ctx context.Context, l ledger.Ledger, o AnchorOptions, out io.Writer) (AnchorReport, error) {
	r := AnchorReport{Ledger: l.Info().Kind}
	c := ledger.Client{L: l}
	admin := ledger.Identity{Org: o.Org, User: ledger.AdminUser}
	run := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	edges := make([]ledgertest.Edge, o.Edges)
	for i := range edges {
		edges[i] = ledgertest.NewEdge(fmt.Sprintf("bench-%s-%d", run, i))
		if _, err := c.RegisterDevice(ctx, admin, edges[i].Device(o.Org)); err != nil {
			return r, fmt.Errorf("register bench edge: %w", err)
		}
	}
	anchorChain := func(e ledgertest.Edge, n int, lat *[]float64, mu *sync.Mutex) error {
		hs, sigs := e.Chain(n)
		for i := range hs {
			t0 := time.Now()
			if _, _, err := c.AnchorBatch(ctx, admin, hs[i], sigs[i]); err != nil {
				return fmt.Errorf("anchor %s #%d: %w", e.ID, i, err)
			}
			d := float64(time.Since(t0).Microseconds()) / 1000
			mu.Lock()
			*lat = append(*lat, d)
			mu.Unlock()
		}
		return nil
	}
	// One edge alone.
	var seq []float64
	var mu sync.Mutex
	solo := ledgertest.NewEdge("bench-" + run + "-solo")
	if _, err := c.RegisterDevice(ctx, admin, solo.Device(o.Org)); err != nil {
		return r, err
	}
	start := time.Now()
	if err := anchorChain(solo, o.Batches, &seq, &mu); err != nil {
		return r, err
	}
	r.SeqPerSecond = float64(o.Batches) / time.Since(start).Seconds()
	sort.Float64s(seq)
	r.SeqP50ms = pct(seq, 0.5)
	fmt.Fprintf(out, "bench:     %s, one edge: %d anchors, p50 %.0f ms, %.1f batches/s\n", r.Ledger, o.Batches, r.SeqP50ms, r.SeqPerSecond)
	// Many edges in parallel.
	var lat []float64
	var wg sync.WaitGroup
	errs := make(chan error, o.Edges)
	start = time.Now()
	for _, e := range edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := anchorChain(e, o.Batches, &lat, &mu); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return r, err
	}
	el := time.Since(start)
	sort.Float64s(lat)
	r.Anchors = len(lat)
	r.P50ms, r.P99ms, r.Maxms = pct(lat, 0.5), pct(lat, 0.99), lat[len(lat)-1]
	r.PerSecond = float64(len(lat)) / el.Seconds()
	fmt.Fprintf(out, "bench:     %s, %d edges in parallel: %d anchors, p50 %.0f ms, p99 %.0f ms, %.1f batches/s\n",
		r.Ledger, o.Edges, r.Anchors, r.P50ms, r.P99ms, r.PerSecond)
	return r, nil
}
