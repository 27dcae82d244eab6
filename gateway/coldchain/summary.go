package coldchain

import (
	"fmt"
	"slices"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// SensorFigures are one sensor's overall figures.
type SensorFigures struct {
	Sensor      string
	Readings    int // after duplicates are collapsed
	First, Last time.Time
	MKTC        *float64 // time-weighted MKT of all its temperatures
	MinC, MaxC  *float64
	MinHumidity *float64
	MaxHumidity *float64
}

// Summary is a lot's cold-chain figures across its sensors.
type Summary struct {
	// Excursions of every sensor, sorted by Start (then Kind, Sensor).
	Excursions []Excursion
	// OutOfRange is, per excursion kind, the time during which at least
	// one sensor was out of range in that kind: the length of the union
	// of the excursions' [Start, Start+Duration) windows, so overlapping
	// excursions of several sensors are not counted twice.
	OutOfRange map[string]time.Duration
	// TemperatureOutOfRange is the union over both temperature kinds (the
	// time at least one sensor was above MaxC or below MinC);
	// HumidityOutOfRange the union of humidity excursions. These are the
	// cumulative figures the verdict compares with
	// MaxCumulativeExcursionMin.
	TemperatureOutOfRange time.Duration
	HumidityOutOfRange    time.Duration
	// Sensors, sorted by name.
	Sensors []SensorFigures
	// MinC and MaxC over all sensors; MKTC the highest sensor MKT (the
	// one the verdict compares with MKTMaxC).
	MinC, MaxC *float64
	MKTC       *float64
	Verdict    Verdict
}

// Verdict rules.
const (
	RuleSingle     = "single-excursion"     // an excursion longer than MaxSingleExcursionMin
	RuleCumulative = "cumulative-excursion" // cumulative time out of range longer than MaxCumulativeExcursionMin
	RuleMKT        = "mkt"                  // a sensor's MKT above MKTMaxC
)

// Verdict is whether the lot breached its storage profile, and why.
type Verdict struct {
	Breach  bool
	Reasons []Reason
}

// Reason is one broken rule. Value and Limit are in minutes for the
// duration rules and in °C for the MKT rule.
type Reason struct {
	Rule   string
	Kind   string // the excursion kind, or "temperature"/"humidity" for the cumulative rule
	Sensor string // for the single-excursion and MKT rules
	Start  time.Time
	Value  float64
	Limit  float64
}

func (r Reason) String() string {
	switch r.Rule {
	case RuleSingle:
		return fmt.Sprintf("%s excursion on %s from %s lasted %.4g min > %g min", r.Kind, r.Sensor, r.Start.UTC().Format(time.RFC3339), r.Value, r.Limit)
	case RuleCumulative:
		return fmt.Sprintf("cumulative %s time out of range %.4g min > %g min", r.Kind, r.Value, r.Limit)
	case RuleMKT:
		return fmt.Sprintf("MKT of %s %.4g °C > %g °C", r.Sensor, r.Value, r.Limit)
	}
	return r.Rule
}

// Judge applies the breach rule to a summary's figures. A limit that is
// nil is not applied; a figure equal to its limit is not a breach:
//
//   - single: an excursion (any kind) whose Duration in minutes is above
//     MaxSingleExcursionMin;
//   - cumulative: TemperatureOutOfRange, or HumidityOutOfRange, in minutes
//     above MaxCumulativeExcursionMin;
//   - MKT: a sensor's MKT above MKTMaxC.
func Judge(p ledger.StorageProfile, s Summary) Verdict {
	var v Verdict
	if p.MaxSingleExcursionMin != nil {
		for _, e := range s.Excursions {
			if m := e.Duration.Minutes(); m > *p.MaxSingleExcursionMin {
				v.Reasons = append(v.Reasons, Reason{Rule: RuleSingle, Kind: e.Kind, Sensor: e.Sensor, Start: e.Start, Value: m, Limit: *p.MaxSingleExcursionMin})
			}
		}
	}
	if p.MaxCumulativeExcursionMin != nil {
		for _, c := range []struct {
			kind string
			d    time.Duration
		}{{"temperature", s.TemperatureOutOfRange}, {"humidity", s.HumidityOutOfRange}} {
			if m := c.d.Minutes(); m > *p.MaxCumulativeExcursionMin {
				v.Reasons = append(v.Reasons, Reason{Rule: RuleCumulative, Kind: c.kind, Value: m, Limit: *p.MaxCumulativeExcursionMin})
			}
		}
	}
	if p.MKTMaxC != nil {
		for _, f := range s.Sensors {
			if f.MKTC != nil && *f.MKTC > *p.MKTMaxC {
				v.Reasons = append(v.Reasons, Reason{Rule: RuleMKT, Sensor: f.Sensor, Value: *f.MKTC, Limit: *p.MKTMaxC})
			}
		}
	}
	v.Breach = len(v.Reasons) > 0
	return v
}

// Summarise computes a lot's figures from its sensors' readings (keyed by
// sensor; the key names the sensor) under profile p, and its verdict.
func Summarise(p ledger.StorageProfile, perSensor map[string][]Reading, defaultInterval time.Duration) Summary {
	s := Summary{OutOfRange: map[string]time.Duration{}}
	names := make([]string, 0, len(perSensor))
	for name := range perSensor {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		rs := Normalise(perSensor[name])
		f := SensorFigures{Sensor: name, Readings: len(rs)}
		if len(rs) > 0 {
			f.First, f.Last = rs[0].At, rs[len(rs)-1].At
		}
		pos, ws := qTemp.series(rs, defaultInterval)
		var acc mktAcc
		for i, k := range pos {
			t, _ := temp(rs[k])
			acc.add(t, ws[i])
		}
		f.MKTC = acc.ptr()
		if acc.ok {
			f.MinC, f.MaxC = &acc.min, &acc.max
		}
		var hr extent
		for _, r := range rs {
			if h, ok := humidity(r); ok {
				hr.add(h)
			}
		}
		f.MinHumidity, f.MaxHumidity = hr.ptrs()
		if f.MinC != nil {
			s.MinC, s.MaxC = minPtr(s.MinC, *f.MinC), maxPtr(s.MaxC, *f.MaxC)
		}
		if f.MKTC != nil {
			s.MKTC = maxPtr(s.MKTC, *f.MKTC)
		}
		s.Sensors = append(s.Sensors, f)
		s.Excursions = append(s.Excursions, detectNormalised(p, name, rs, defaultInterval)...)
	}
	sortExcursions(s.Excursions)
	byKind := map[string][]window{}
	for _, e := range s.Excursions {
		byKind[e.Kind] = append(byKind[e.Kind], window{e.Start, e.Start.Add(e.Duration)})
	}
	for kind, ws := range byKind {
		s.OutOfRange[kind] = union(ws)
	}
	s.TemperatureOutOfRange = union(append(slices.Clone(byKind[TemperatureHigh]), byKind[TemperatureLow]...))
	s.HumidityOutOfRange = s.OutOfRange[HumidityHigh]
	s.Verdict = Judge(p, s)
	return s
}

// extent is the range of some values.
type extent struct {
	ok       bool
	min, max float64
}

func (e *extent) add(v float64) {
	if !e.ok {
		e.ok, e.min, e.max = true, v, v
	}
	e.min, e.max = min(e.min, v), max(e.max, v)
}

func (e *extent) ptrs() (*float64, *float64) {
	if !e.ok {
		return nil, nil
	}
	lo, hi := e.min, e.max
	return &lo, &hi
}

type window struct{ from, to time.Time }

// union returns the total length of the union of the windows.
func union(ws []window) time.Duration {
	slices.SortFunc(ws, func(a, b window) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur window
	open := false
	for _, w := range ws {
		if !w.to.After(w.from) {
			continue
		}
		if open && !w.from.After(cur.to) {
			if w.to.After(cur.to) {
				cur.to = w.to
			}
			continue
		}
		if open {
			total += cur.to.Sub(cur.from)
		}
		cur, open = w, true
	}
	if open {
		total += cur.to.Sub(cur.from)
	}
	return total
}

func minPtr(p *float64, v float64) *float64 {
	if p == nil || v < *p {
		return &v
	}
	return p
}

func maxPtr(p *float64, v float64) *float64 {
	if p == nil || v > *p {
		return &v
	}
	return p
}
