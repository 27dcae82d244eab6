package coldchain

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMKTConstantIsItself(t *testing.T) {
	for _, c := range []float64{-270, -80, -20, 0, 2, 5, 8, 25, 40, 150} {
		rs := series("s", 15*time.Minute, c, c, c, c, c)
		got, ok := MKT(rs)
		if !ok || math.Abs(got-c) > 1e-9 {
			t.Errorf("MKT of constant %g = %v, %v", c, got, ok)
		}
		if got, ok := MKT(rs[:1]); !ok || got != c {
			t.Errorf("MKT of a lone reading %g = %v, %v", c, got, ok)
		}
	}
}

// Reference values computed independently with Python's decimal module at
// 50 significant digits from the same formula (ΔH = 83144 J/mol,
// R = 8.3144 J/(mol·K), T in K = °C + 273.15). No published worked example
// (e.g. USP <1079.2>) was found through the search tool, so these stand in.
func TestMKTReferenceValues(t *testing.T) {
	h := time.Hour
	hourly := func(temps ...float64) []Reading { return series("s", h, temps...) }
	tests := []struct {
		name string
		rs   []Reading
		want float64
	}{
		{"2,4,6,8,25 °C hourly", hourly(2, 4, 6, 8, 25), 13.936934493231687},
		{"20..40 °C by 2, hourly", hourly(20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40), 31.94288905425188},
		{"23 h at 5 °C, 1 h at 25 °C", hourly(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 25), 7.756421961545362},
	}
	for _, tc := range tests {
		got, ok := MKT(tc.rs)
		if !ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: MKT = %.12f, want %.12f", tc.name, got, tc.want)
		}
	}
	// Unequal weights given directly.
	ws := []Weighted{
		{Reading: Reading{TempC: f(-20)}, Weight: 10 * h},
		{Reading: Reading{TempC: f(-18.5)}, Weight: 5 * h},
		{Reading: Reading{TempC: f(40)}, Weight: 30 * time.Minute},
	}
	if got, _ := WeightedMKT(ws); math.Abs(got-9.728534765480489) > 1e-9 {
		t.Errorf("weighted MKT = %.12f, want 9.728534765480489", got)
	}
}

func TestMKTAgainstNaiveFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + rng.IntN(300)
		temps := make([]float64, n)
		weights := make([]float64, n)
		ws := make([]Weighted, n)
		for i := range temps {
			temps[i] = -30 + 70*rng.Float64()
			d := time.Duration(1+rng.IntN(3600)) * time.Second
			weights[i] = d.Seconds()
			ws[i] = Weighted{Reading: Reading{TempC: &temps[i]}, Weight: d}
		}
		got, ok := WeightedMKT(ws)
		want := naiveMKT(temps, weights)
		if !ok || math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Fatalf("WeightedMKT = %.12f, naive %.12f", got, want)
		}
	}
}

func TestMKTNumericallyCareful(t *testing.T) {
	// exp(−10000/3.15) underflows to 0 in float64: the naive formula
	// breaks, the log-sum-exp does not.
	if naive := naiveMKT([]float64{-270, -270}, []float64{1, 1}); !math.IsInf(naive, 0) && !math.IsNaN(naive) && math.Abs(naive+270) < 1e-6 {
		t.Logf("naive formula happened to work: %v", naive)
	}
	got, ok := MKT(series("s", time.Minute, -270, -269, -270))
	if !ok || got < -270 || got > -269 || math.IsNaN(got) {
		t.Fatalf("MKT near absolute zero = %v", got)
	}
	// A huge spread: the result lies between the extremes and is pulled
	// towards the hot one.
	got, _ = MKT(series("s", time.Minute, -250, 500))
	if !(got > 125 && got < 500) {
		t.Fatalf("MKT(-250, 500) = %v", got)
	}
}

func TestMKTProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := 2 + rng.IntN(50)
		ws := make([]Weighted, n)
		lo, hi, mean, total := math.Inf(1), math.Inf(-1), 0.0, 0.0
		for i := range ws {
			c := -25 + 60*rng.Float64()
			w := time.Duration(1+rng.IntN(100)) * time.Minute
			ws[i] = Weighted{Reading: Reading{TempC: f(c)}, Weight: w}
			lo, hi = min(lo, c), max(hi, c)
			mean += c * w.Minutes()
			total += w.Minutes()
		}
		mean /= total
		got, _ := WeightedMKT(ws)
		if got < lo || got > hi {
			t.Fatalf("MKT %v outside [%v, %v]", got, lo, hi)
		}
		// exp(−c/T) is convex below c/2 K, so MKT ≥ the weighted mean.
		if got < mean-1e-9 {
			t.Fatalf("MKT %v below the weighted mean %v", got, mean)
		}
	}
}

func TestMKTNoTemperatures(t *testing.T) {
	if _, ok := MKT(nil); ok {
		t.Error("MKT(nil) ok")
	}
	rs := []Reading{{At: t0, Humidity: f(50)}, {At: t0.Add(time.Minute), TempC: f(math.NaN())}, {At: t0.Add(2 * time.Minute), TempC: f(-300)}}
	if v, ok := MKT(rs); ok {
		t.Errorf("MKT without usable temperatures = %v", v)
	}
	// Zero weights: the readings weigh equally.
	if got, ok := WeightedMKT([]Weighted{{Reading: Reading{TempC: f(4)}}, {Reading: Reading{TempC: f(4)}}}); !ok || math.Abs(got-4) > 1e-9 {
		t.Errorf("zero-weight MKT = %v, %v", got, ok)
	}
}
