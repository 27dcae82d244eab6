package coldchain

import (
	"math"
	"time"
)

// Divergence is a period during which two co-located sensors' temperatures
// differed by more than a threshold.
type Divergence struct {
	// Start is the first instant the difference exceeded the threshold; End
	// the instant it came back within it (or, when Open, the last instant
	// of the readings).
	Start, End time.Time
	MaxDiff    float64 // the largest |a−b| seen, °C
	Open       bool
}

// Disagreement compares the temperatures of two co-located sensors. Each
// reading's value holds until that sensor's next reading (as its weight
// does); at every instant where either sensor reports, once both have
// reported, the held values are compared. It returns the periods during
// which |a−b| stayed above threshold for at least minDuration. Both
// series are normalised first; readings without a usable temperature are
// skipped. At an instant with several readings of one sensor, the last in
// order holds.
func Disagreement(a, b []Reading, threshold float64, minDuration time.Duration) []Divergence {
	as := filter(Normalise(a), hasTemp)
	bs := filter(Normalise(b), hasTemp)
	var out []Divergence
	var cur *Divergence
	var va, vb float64
	haveA, haveB := false, false
	i, j := 0, 0
	emit := func(end time.Time, open bool) {
		cur.End, cur.Open = end, open
		if cur.End.Sub(cur.Start) >= minDuration {
			out = append(out, *cur)
		}
		cur = nil
	}
	var last time.Time
	for i < len(as) || j < len(bs) {
		var t time.Time
		switch {
		case j >= len(bs) || (i < len(as) && !as[i].At.After(bs[j].At)):
			t = as[i].At
		default:
			t = bs[j].At
		}
		for i < len(as) && as[i].At.Equal(t) {
			va, _ = temp(as[i])
			haveA = true
			i++
		}
		for j < len(bs) && bs[j].At.Equal(t) {
			vb, _ = temp(bs[j])
			haveB = true
			j++
		}
		last = t
		if !haveA || !haveB {
			continue
		}
		diff := math.Abs(va - vb)
		if diff > threshold {
			if cur == nil {
				cur = &Divergence{Start: t}
			}
			cur.MaxDiff = max(cur.MaxDiff, diff)
		} else if cur != nil {
			emit(t, false)
		}
	}
	if cur != nil {
		emit(last, true)
	}
	return out
}
