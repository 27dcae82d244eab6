package coldchain

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const benchN = 100_000

// benchInput is 100k readings of one sensor, shuffled (so Detect has to
// sort), with excursions, stuck stretches and missing values.
func benchInput() []Reading {
	rng := rand.New(rand.NewPCG(7, 8))
	rs := randomStream(rng, "s", benchN)
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	return rs
}

func BenchmarkDetect(b *testing.B) {
	rs := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		if ex := Detect(vaccine, "s", rs, time.Minute); len(ex) == 0 {
			b.Fatal("no excursions")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/reading")
}

// BenchmarkSortOnly is the baseline: copying and sorting the same input
// by time, the least any batch computation over unsorted readings does.
func BenchmarkSortOnly(b *testing.B) {
	rs := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		c := slices.Clone(rs)
		slices.SortFunc(c, func(x, y Reading) int { return x.At.Compare(y.At) })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/reading")
}

// BenchmarkDetectorFeed is the online detector over the same readings in
// time order.
func BenchmarkDetectorFeed(b *testing.B) {
	rs := Normalise(benchInput())
	b.ReportAllocs()
	for b.Loop() {
		d := NewDetector(DetectorConfig{})
		for _, r := range rs {
			d.Feed("lot", r, vaccine)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rs)), "ns/reading")
}

func BenchmarkSummarise(b *testing.B) {
	rs := benchInput()
	per := map[string][]Reading{"a": rs[:benchN/2], "b": rs[benchN/2:]}
	b.ReportAllocs()
	for b.Loop() {
		Summarise(vaccine, per, time.Minute)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/reading")
}
