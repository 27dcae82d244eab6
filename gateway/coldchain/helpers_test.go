package coldchain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

// at returns a temperature reading of sensor "s1" at t0+min minutes.
func at(min float64, c float64) Reading {
	return Reading{Sensor: "s1", At: t0.Add(time.Duration(min * float64(time.Minute))), TempC: f(c)}
}

// series returns temperature readings every step from t0.
func series(sensor string, step time.Duration, temps ...float64) []Reading {
	rs := make([]Reading, len(temps))
	for i, c := range temps {
		rs[i] = Reading{Sensor: sensor, At: t0.Add(time.Duration(i) * step), TempC: f(c), EventID: fmt.Sprintf("%s-%d", sensor, i), Seq: uint64(i)}
	}
	return rs
}

// naiveMKT is the textbook formula evaluated directly in float64, with no
// log-sum-exp: an independent computation for the tests.
func naiveMKT(temps []float64, weights []float64) float64 {
	const dh, r = 83.144e3, 8.3144
	num, den := 0.0, 0.0
	for i, c := range temps {
		num += weights[i] * math.Exp(-dh/(r*(c+273.15)))
		den += weights[i]
	}
	return dh/r/(-math.Log(num/den)) - 273.15
}

// randomStream returns n readings of one sensor in time order with
// irregular intervals, excursions, missing values and stuck stretches.
func randomStream(rng *rand.Rand, sensor string, n int) []Reading {
	rs := make([]Reading, 0, n)
	t := t0
	c, h := 5.0, 50.0
	stuck := 0
	for i := range n {
		t = t.Add(time.Duration(1+rng.IntN(10)) * time.Minute)
		if stuck > 0 {
			stuck--
		} else {
			switch {
			case rng.IntN(40) == 0:
				stuck = 10 + rng.IntN(20)
			case rng.IntN(25) == 0:
				c = []float64{-1, 1.5, 9, 12, 8, 2}[rng.IntN(6)]
			default:
				c += rng.NormFloat64() * 0.7
				h += rng.NormFloat64() * 3
			}
		}
		r := Reading{Sensor: sensor, At: t, EventID: fmt.Sprintf("%s-%d", sensor, i), Seq: uint64(i)}
		if stuck > 0 || rng.IntN(20) != 0 {
			r.TempC = f(math.Round(c*10) / 10)
		}
		if stuck > 0 || rng.IntN(3) != 0 {
			r.Humidity = f(math.Round(h))
		}
		rs = append(rs, r)
	}
	return rs
}
