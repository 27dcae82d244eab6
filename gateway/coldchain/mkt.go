package coldchain

import (
	"math"
	"time"
)

// MKT constants: ΔH = 83.144 kJ/mol, R = 8.3144 J/(mol·K).
const (
	DeltaH       = 83144.0 // J/mol
	GasConstant  = 8.3144  // J/(mol·K)
	KelvinOffset = 273.15
)

// mktAcc accumulates Σ w·exp(−ΔH/(R·T)) as a log-sum-exp: the exponents
// are taken relative to the largest seen (m), so no term underflows to
// zero or overflows whatever the temperatures. It also keeps the
// unweighted sum, used when every weight is zero.
type mktAcc struct {
	ok       bool
	m        float64 // largest exponent −ΔH/(R·T) so far
	s, w     float64 // Σ w·exp(x−m), Σ w (weights in nanoseconds)
	s1, n    float64 // Σ exp(x−m), count
	min, max float64 // °C
}

func (a *mktAcc) add(tc float64, w time.Duration) {
	x := -(DeltaH / GasConstant) / (tc + KelvinOffset)
	if !a.ok {
		a.ok, a.m, a.min, a.max = true, x, tc, tc
	}
	if x > a.m {
		scale := math.Exp(a.m - x)
		a.s *= scale
		a.s1 *= scale
		a.m = x
	}
	e := math.Exp(x - a.m)
	if w > 0 {
		a.s += float64(w) * e
		a.w += float64(w)
	}
	a.s1 += e
	a.n++
	a.min, a.max = min(a.min, tc), max(a.max, tc)
}

// mkt returns the accumulated MKT in °C, clamped to the range of the
// temperatures (where it lies mathematically; the clamp only absorbs
// rounding).
func (a *mktAcc) mkt() (float64, bool) {
	if !a.ok {
		return 0, false
	}
	var lnMean float64
	if a.w > 0 {
		lnMean = a.m + math.Log(a.s/a.w)
	} else {
		lnMean = a.m + math.Log(a.s1/a.n)
	}
	t := (DeltaH/GasConstant)/(-lnMean) - KelvinOffset
	return min(max(t, a.min), a.max), true
}

func (a *mktAcc) ptr() *float64 {
	if v, ok := a.mkt(); ok {
		return &v
	}
	return nil
}

// MKT returns the time-weighted mean kinetic temperature, in °C, of one
// sensor's readings:
//
//	T_k = (ΔH/R) / −ln( Σ w_i·exp(−ΔH/(R·T_i)) / Σ w_i )
//
// with T_i in kelvin and w_i the reading's weight (see Weigh; the
// readings with a temperature are weighed as a series of their own). A
// lone reading is its own MKT. It reports false when no reading has a
// usable temperature.
func MKT(rs []Reading) (float64, bool) {
	return WeightedMKT(weigh(filter(Normalise(rs), hasTemp), 0))
}

// WeightedMKT returns the mean kinetic temperature, in °C, of readings
// with the given weights (readings without a usable temperature are
// skipped; a negative weight counts as zero). When every weight is zero
// the readings weigh equally. It
// reports false when no reading has a usable temperature.
func WeightedMKT(ws []Weighted) (float64, bool) {
	var a mktAcc
	for _, w := range ws {
		if t, ok := temp(w.Reading); ok {
			a.add(t, w.Weight)
		}
	}
	return a.mkt()
}
