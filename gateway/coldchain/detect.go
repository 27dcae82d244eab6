package coldchain

import (
	"cmp"
	"slices"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// Excursion kinds.
const (
	TemperatureHigh = "temperature-high"
	TemperatureLow  = "temperature-low"
	HumidityHigh    = "humidity-high"
)

// Excursion is a maximal run of consecutive out-of-range readings of one
// kind from one sensor.
type Excursion struct {
	Kind   string
	Sensor string
	// Start and End are the times of the first and the last out-of-range
	// reading.
	Start, End time.Time
	// Duration is the time out of range: the sum of the weights of the
	// excursion's readings, so the excursion covers [Start, Start+Duration).
	Duration time.Duration
	// Peak is the reading furthest from the range; Limit the bound crossed.
	Peak, Limit float64
	Unit        string
	// MKTC is the weighted MKT of the excursion's readings (temperature
	// kinds only).
	MKTC *float64
	// Readings are the excursion's out-of-range readings (nil in the
	// online detector's transitions, which keep no readings).
	Readings []Reading
	// Open reports that the last reading given is still out of range.
	Open bool
}

// quantity describes one measured quantity for excursion detection.
type quantity struct {
	value func(Reading) (float64, bool)
	unit  string
	temp  bool
}

var (
	qTemp     = quantity{value: temp, unit: UnitCelsius, temp: true}
	qHumidity = quantity{value: humidity, unit: UnitHumidity}
)

// classify returns the excursion kind of value v of quantity q under p
// and the bound crossed, or "" when v is in range. A value on a bound is
// in range; a nil bound is not constrained.
func (q quantity) classify(p ledger.StorageProfile, v float64) (string, float64) {
	if q.temp {
		if p.MaxC != nil && v > *p.MaxC {
			return TemperatureHigh, *p.MaxC
		}
		if p.MinC != nil && v < *p.MinC {
			return TemperatureLow, *p.MinC
		}
		return "", 0
	}
	if p.MaxHumidity != nil && v > *p.MaxHumidity {
		return HumidityHigh, *p.MaxHumidity
	}
	return "", 0
}

// further reports whether v is further from the range than peak for kind.
func further(kind string, v, peak float64) bool {
	if kind == TemperatureLow {
		return v < peak
	}
	return v > peak
}

// Detect returns the excursions of one sensor's readings under profile p,
// sorted by Start (then Kind). The readings are normalised first (sorted,
// duplicates collapsed: see Normalise); all of them are taken to be the
// given sensor's, whose name the excursions carry. Temperature and
// humidity are separate series: a reading without a temperature neither
// extends nor interrupts a temperature excursion. defaultInterval weighs
// a series with a single reading (see Weigh).
func Detect(p ledger.StorageProfile, sensor string, rs []Reading, defaultInterval time.Duration) []Excursion {
	return detectNormalised(p, sensor, Normalise(rs), defaultInterval)
}

func detectNormalised(p ledger.StorageProfile, sensor string, rs []Reading, defaultInterval time.Duration) []Excursion {
	var out []Excursion
	if p.MinC != nil || p.MaxC != nil {
		out = detectQuantity(out, p, sensor, qTemp, rs, defaultInterval)
	}
	if p.MaxHumidity != nil {
		out = detectQuantity(out, p, sensor, qHumidity, rs, defaultInterval)
	}
	sortExcursions(out)
	return out
}

func sortExcursions(es []Excursion) {
	slices.SortStableFunc(es, func(a, b Excursion) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Sensor, b.Sensor)
	})
}

// series returns the positions in rs of the readings that have quantity
// q and their weights as a series of their own.
func (q quantity) series(rs []Reading, defaultInterval time.Duration) ([]int32, []time.Duration) {
	pos := make([]int32, 0, len(rs))
	for i, r := range rs {
		if _, ok := q.value(r); ok {
			pos = append(pos, int32(i))
		}
	}
	return pos, weights(len(pos), func(i int) time.Time { return rs[pos[i]].At }, defaultInterval)
}

func detectQuantity(out []Excursion, p ledger.StorageProfile, sensor string, q quantity, rs []Reading, defaultInterval time.Duration) []Excursion {
	pos, ws := q.series(rs, defaultInterval)
	var cur *Excursion
	var acc mktAcc
	first := 0 // position in pos of the current excursion's first reading
	closeRun := func(end int) {
		if q.temp {
			cur.MKTC = acc.ptr()
		}
		cur.Readings = make([]Reading, 0, end-first)
		for _, k := range pos[first:end] {
			cur.Readings = append(cur.Readings, rs[k])
		}
		out = append(out, *cur)
		cur = nil
	}
	for i, k := range pos {
		r := &rs[k]
		v, _ := q.value(*r)
		kind, limit := q.classify(p, v)
		if cur != nil && kind != cur.Kind {
			closeRun(i)
		}
		if kind == "" {
			continue
		}
		if cur == nil {
			cur = &Excursion{Kind: kind, Sensor: sensor, Start: r.At, Peak: v, Limit: limit, Unit: q.unit}
			acc = mktAcc{}
			first = i
		}
		cur.End = r.At
		cur.Duration += ws[i]
		if further(kind, v, cur.Peak) {
			cur.Peak = v
		}
		if q.temp {
			acc.add(v, ws[i])
		}
	}
	if cur != nil {
		cur.Open = true
		closeRun(len(pos))
	}
	return out
}
