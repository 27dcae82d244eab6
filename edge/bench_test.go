package edge

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/journal"
)

func benchMessages(n int) []journal.Raw {
	base := time.Now().UTC().Add(-time.Hour)
	out := make([]journal.Raw, n)
	for i := range out {
		out[i] = journal.Raw{Topic: "tracegate/s1/sensor/probe", Received: base,
			Payload: fmt.Appendf(nil, `{"ts":%q,"temperature":%.2f,"humidity":50}`, base.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), 2+float64(i%600)/100)}
	}
	return out
}

// BenchmarkPipeline measures the edge path: durable inbox write (group
// commit) → decode → CBV 2.0 hash → event stored → sealed into a signed
// batch, with batches acknowledged at once. Compare readings/s with
// BenchmarkBaselineInbox, the bare durable write of the same messages.
func BenchmarkPipeline(b *testing.B) {
	cfg := testConfig(b)
	cfg.Batch.MaxEvents = 2000
	a, err := New(cfg, WithUploader(&recorder{}))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	msgs := benchMessages(b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range msgs {
		if err := a.IngestAsync(ctx, msgs[i:i+1], func(error) {}); err != nil {
			b.Fatal(err)
		}
	}
	for a.Counters().Sealed < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "readings/s")
}

// BenchmarkBaselineInbox is the baseline: the same messages made durable in
// Badger in groups, nothing else.
func BenchmarkBaselineInbox(b *testing.B) {
	j, err := journal.Open(b.TempDir(), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	msgs := benchMessages(b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(msgs); i += 512 {
		if err := j.AppendInbox(msgs[i:min(i+512, len(msgs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "readings/s")
}
