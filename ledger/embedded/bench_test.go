package embedded

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

// BenchmarkAnchorBatch measures anchors per second on the embedded backend
// with synchronous writes: one submitter (one block, one fsync per anchor),
// and 16 concurrent edges (group commit shares blocks). The sequential
// case is the baseline for the concurrent one.
func BenchmarkAnchorBatch(b *testing.B) {
	for _, edges := range []int{1, 16} {
		b.Run(fmt.Sprintf("edges=%d", edges), func(b *testing.B) {
			l := openTest(b, b.TempDir(), testConfig())
			c := ledger.Client{L: l}
			ctx := ctxT(b)
			if _, err := c.RegisterOrg(ctx, admin(orgMfr), ledger.Org{ID: orgMfr, Name: "M", Kind: ledger.OrgManufacturer}); err != nil {
				b.Fatal(err)
			}
			type chain struct {
				e    edgeT
				prev string
				seq  uint64
			}
			chains := make([]*chain, edges)
			for i := range chains {
				e := newEdge(fmt.Sprintf("bench-%d", i))
				if _, err := c.RegisterDevice(ctx, admin(orgMfr), e.Device(orgMfr)); err != nil {
					b.Fatal(err)
				}
				chains[i] = &chain{e: e}
			}
			// Headers are signed in advance so the benchmark measures the ledger.
			per := b.N/edges + 1
			headers := make([][]batch.Header, edges)
			sigs := make([][][]byte, edges)
			for i, ch := range chains {
				headers[i], sigs[i] = ch.e.Chain(per)
			}
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			done := make(chan error, edges)
			var anchored atomic.Int64
			for i := range chains {
				go func(i int) {
					for seq := 0; seq < per; seq++ {
						if next.Add(1) > int64(b.N) {
							break
						}
						if _, _, err := c.AnchorBatch(ctx, admin(orgMfr), headers[i][seq], sigs[i][seq]); err != nil {
							done <- err
							return
						}
						anchored.Add(1)
					}
					done <- nil
				}(i)
			}
			for range chains {
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(anchored.Load())/elapsed.Seconds(), "anchors/s")
			b.ReportMetric(float64(anchored.Load())/float64(max(1, l.Height()-uint64(edges)-1)), "anchors/block")
		})
	}
}
