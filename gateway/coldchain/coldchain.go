// Package coldchain computes the cold-chain figures of a lot from its
// loggers' readings: per-reading weights, mean kinetic temperature (MKT),
// excursions, the lot's summary and verdict, stuck sensors, and an online
// detector for timely alerts. It is pure: no I/O, no clock, no globals.
//
// The definitions are in docs/cold-chain.md; DESIGN.md ("Cold-chain
// figures") is the source they follow.
package coldchain

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Reading is one logger reading, as carried by an EPCIS sensor event.
type Reading struct {
	Sensor   string
	At       time.Time
	TempC    *float64 // °C; nil when the reading has no temperature
	Humidity *float64 // %RH; nil when the reading has no humidity
	EventID  string   // EPCIS event ID; "" when unknown
	Edge     string
	Seq      uint64 // the edge's sequence number; breaks ties at one instant
	Late     bool   // delivered late by the edge (store and forward); informational: the figures go by At
}

// Weighted is a reading with its weight: the time it stands for.
type Weighted struct {
	Reading
	Weight time.Duration
}

// Units (UN/CEFACT codes as used in the EPCIS events).
const (
	UnitCelsius  = "CEL"
	UnitHumidity = "A93"
)

// temp returns the reading's temperature if it is usable: finite and above
// absolute zero. Anything else is a sensor fault and is treated as absent.
func temp(r Reading) (float64, bool) {
	if r.TempC == nil {
		return 0, false
	}
	v := *r.TempC
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= -KelvinOffset {
		return 0, false
	}
	return v, true
}

// humidity returns the reading's humidity if it is finite.
func humidity(r Reading) (float64, bool) {
	if r.Humidity == nil {
		return 0, false
	}
	v := *r.Humidity
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func cmpOpt(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

func sameOpt(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b || (math.IsNaN(*a) && math.IsNaN(*b))
}

// sameValues reports whether two readings carry the same values.
func sameValues(a, b Reading) bool {
	return sameOpt(a.TempC, b.TempC) && sameOpt(a.Humidity, b.Humidity)
}

// order is the total order of readings: time, then the edge's sequence
// number, event ID, edge, and values, so that the result does not depend
// on the order the readings arrived in.
func order(a, b *Reading) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	if c := strings.Compare(a.EventID, b.EventID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Edge, b.Edge); c != 0 {
		return c
	}
	if c := cmpOpt(a.TempC, b.TempC); c != 0 {
		return c
	}
	return cmpOpt(a.Humidity, b.Humidity)
}

const smallGroup = 8

// valueKey is a reading's values as a map key, equal exactly when
// sameValues is true (all NaNs are one value, −0 is 0).
type valueKey struct {
	hasT, hasH bool
	t, h       uint64
}

func canon(v float64) uint64 {
	switch {
	case math.IsNaN(v):
		return math.Float64bits(math.NaN())
	case v == 0:
		return 0
	}
	return math.Float64bits(v)
}

func keyOf(r Reading) valueKey {
	var k valueKey
	if r.TempC != nil {
		k.hasT, k.t = true, canon(*r.TempC)
	}
	if r.Humidity != nil {
		k.hasH, k.h = true, canon(*r.Humidity)
	}
	return k
}

// Normalise returns one sensor's readings sorted (by time, then Seq,
// EventID, Edge, values) with duplicates collapsed. The input is not
// modified. Duplicates:
//
//   - readings with the same non-empty EventID are one reading: the first
//     in sorted order (the earliest) is kept;
//   - readings at the same instant with the same values (temperature and
//     humidity, absent equals absent) are one reading: the first is kept;
//   - readings at the same instant with different values are all kept
//     (a conflicting reading must not hide an excursion); they share the
//     instant's weight equally (see Weigh).
func Normalise(rs []Reading) []Reading {
	// Sort small keys rather than the readings: swapping them is cheaper
	// than swapping readings (and their pointers' write barriers), and
	// most comparisons are settled by the time alone.
	type key struct {
		sec  int64
		nsec int32
		i    int32
	}
	keys := make([]key, len(rs))
	for i := range rs {
		keys[i] = key{rs[i].At.Unix(), int32(rs[i].At.Nanosecond()), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.sec != b.sec {
			return cmp.Compare(a.sec, b.sec)
		}
		if a.nsec != b.nsec {
			return cmp.Compare(a.nsec, b.nsec)
		}
		if c := order(&rs[a.i], &rs[b.i]); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i) // stable
	})
	idx := keys
	out := make([]Reading, len(rs))
	for i, k := range idx {
		out[i] = rs[k.i]
	}
	var seen map[string]struct{}
	res := out[:0]
	group := 0                       // index in res of the first reading at the current instant
	var values map[valueKey]struct{} // the group's values, once it is large
	for _, r := range out {
		if r.EventID != "" {
			if seen == nil {
				seen = make(map[string]struct{}, len(out))
			}
			if _, dup := seen[r.EventID]; dup {
				continue
			}
			seen[r.EventID] = struct{}{}
		}
		if len(res) > 0 && res[len(res)-1].At.Equal(r.At) {
			if len(res)-group < smallGroup {
				dup := false
				for _, k := range res[group:] {
					if sameValues(k, r) {
						dup = true
						break
					}
				}
				if dup {
					continue
				}
			} else {
				// Many readings at one instant: a set, so that a flood of
				// conflicting readings costs linear time.
				if values == nil {
					values = map[valueKey]struct{}{}
					for _, k := range res[group:] {
						values[keyOf(k)] = struct{}{}
					}
				}
				if _, dup := values[keyOf(r)]; dup {
					continue
				}
				values[keyOf(r)] = struct{}{}
			}
		} else {
			group, values = len(res), nil
		}
		res = append(res, r)
	}
	clear(out[len(res):]) // drop references held by the discarded tail
	return res
}

// Weigh normalises one sensor's readings (see Normalise) and weighs each:
// a reading weighs the time until the sensor's next reading; the readings
// at the last instant weigh the median interval between the series'
// consecutive instants (the mean of the two middle intervals when their
// number is even); a series with a single instant weighs defaultInterval
// (0 if negative). Readings sharing an instant split its weight equally.
//
// The figures weigh each quantity's series separately: the temperature
// figures weigh the readings that have a temperature, the humidity figures
// those that have a humidity, so a reading without temperature neither
// shortens nor extends the weight of the temperature reading before it.
func Weigh(rs []Reading, defaultInterval time.Duration) []Weighted {
	return weigh(Normalise(rs), defaultInterval)
}

// weigh weighs readings that are already normalised.
func weigh(rs []Reading, defaultInterval time.Duration) []Weighted {
	w := weights(len(rs), func(i int) time.Time { return rs[i].At }, defaultInterval)
	ws := make([]Weighted, len(rs))
	for i, r := range rs {
		ws[i] = Weighted{Reading: r, Weight: w[i]}
	}
	return ws
}

// weights returns the weights of n normalised readings whose times at
// returns (see Weigh).
func weights(n int, at func(int) time.Time, defaultInterval time.Duration) []time.Duration {
	ws := make([]time.Duration, n)
	if n == 0 {
		return ws
	}
	intervals := make([]time.Duration, 0, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && at(j).Equal(at(i)) {
			j++
		}
		if j < n {
			w := at(j).Sub(at(i))
			intervals = append(intervals, w)
			for k := i; k < j; k++ {
				ws[k] = w
			}
		}
		i = j
	}
	last := max(defaultInterval, 0)
	if len(intervals) > 0 {
		last = median(intervals)
	}
	// The last instant's readings weigh the median interval.
	i := n - 1
	for i > 0 && at(i-1).Equal(at(n-1)) {
		i--
	}
	for k := i; k < n; k++ {
		ws[k] = last
	}
	// Readings sharing an instant split its weight equally.
	for i := 0; i < n; {
		j := i + 1
		for j < n && at(j).Equal(at(i)) {
			j++
		}
		if k := time.Duration(j - i); k > 1 {
			for m := i; m < j; m++ {
				ws[m] /= k
			}
		}
		i = j
	}
	return ws
}

// median returns the median of ds (reordering ds).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	a, b := ds[n/2-1], ds[n/2]
	return a + (b-a)/2
}

// filter returns the readings for which keep is true.
func filter(rs []Reading, keep func(Reading) bool) []Reading {
	out := make([]Reading, 0, len(rs))
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func hasTemp(r Reading) bool     { _, ok := temp(r); return ok }
func hasHumidity(r Reading) bool { _, ok := humidity(r); return ok }
