package coldchain

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

var vaccine = ledger.StorageProfile{MinC: f(2), MaxC: f(8), MaxHumidity: f(70), MaxSingleExcursionMin: f(30), MaxCumulativeExcursionMin: f(60), MKTMaxC: f(8)}

type wantEx struct {
	kind       string
	start, end float64 // minutes after t0
	dur        time.Duration
	peak       float64
	limit      float64
	n          int
	open       bool
}

func checkExcursions(t *testing.T, got []Excursion, want []wantEx) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d excursions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		ws, we := t0.Add(time.Duration(w.start*float64(time.Minute))), t0.Add(time.Duration(w.end*float64(time.Minute)))
		if g.Kind != w.kind || !g.Start.Equal(ws) || !g.End.Equal(we) || g.Duration != w.dur || g.Peak != w.peak || g.Limit != w.limit || len(g.Readings) != w.n || g.Open != w.open {
			t.Errorf("[%d] got %s %v..%v dur %v peak %v limit %v n %d open %v; want %+v",
				i, g.Kind, g.Start.Sub(t0), g.End.Sub(t0), g.Duration, g.Peak, g.Limit, len(g.Readings), g.Open, w)
		}
	}
}

func TestDetectBoundaries(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name string
		rs   []Reading
		want []wantEx
	}{
		{name: "all in range, on the bounds", rs: series("s", 5*m, 2, 8, 8, 2, 5)},
		{name: "start and end at the first and last out-of-range reading",
			rs:   series("s", 5*m, 5, 8, 8.5, 9, 8, 7),
			want: []wantEx{{TemperatureHigh, 10, 15, 10 * m, 9, 8, 2, false}}},
		{name: "low excursion", rs: series("s", 5*m, 3, 2, 1.9, 2.0, 3),
			want: []wantEx{{TemperatureLow, 10, 10, 5 * m, 1.9, 2, 1, false}}},
		{name: "high then directly low is two excursions", rs: series("s", 5*m, 5, 9, 10, 1, 0.5, 5),
			want: []wantEx{{TemperatureHigh, 5, 10, 10 * m, 10, 8, 2, false}, {TemperatureLow, 15, 20, 10 * m, 0.5, 2, 2, false}}},
		{name: "open at the end: the last weighs the median interval", rs: series("s", 5*m, 5, 5, 9, 9.5),
			want: []wantEx{{TemperatureHigh, 10, 15, 10 * m, 9.5, 8, 2, true}}},
		{name: "single out-of-range reading weighs the default", rs: series("s", 5*m, 12),
			want: []wantEx{{TemperatureHigh, 0, 0, 3 * m, 12, 8, 1, true}}},
		{name: "two separate excursions", rs: series("s", 10*m, 9, 5, 5, 9, 9, 5),
			want: []wantEx{{TemperatureHigh, 0, 0, 10 * m, 9, 8, 1, false}, {TemperatureHigh, 30, 40, 20 * m, 9, 8, 2, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkExcursions(t, Detect(vaccine, "s", tc.rs, 3*m), tc.want)
		})
	}
}

func TestDetectExcursionMKT(t *testing.T) {
	rs := series("s", 5*time.Minute, 5, 9, 11, 5)
	ex := Detect(vaccine, "s", rs, time.Minute)
	if len(ex) != 1 || ex[0].MKTC == nil {
		t.Fatalf("got %+v", ex)
	}
	if want := naiveMKT([]float64{9, 11}, []float64{5, 5}); math.Abs(*ex[0].MKTC-want) > 1e-9 {
		t.Errorf("excursion MKT %v, want %v", *ex[0].MKTC, want)
	}
	if ex[0].Unit != UnitCelsius || ex[0].Sensor != "s" {
		t.Errorf("unit %q sensor %q", ex[0].Unit, ex[0].Sensor)
	}
}

func TestDetectHumidityAndMissingValues(t *testing.T) {
	m := time.Minute
	rs := []Reading{
		{At: t0, TempC: f(5), Humidity: f(60)},
		{At: t0.Add(5 * m), TempC: f(9), Humidity: f(71)},
		{At: t0.Add(10 * m), Humidity: f(75)}, // no temperature: transparent for the temperature run
		{At: t0.Add(15 * m), TempC: f(9.5)},   // no humidity: transparent for the humidity run
		{At: t0.Add(20 * m), TempC: f(5), Humidity: f(70)},
	}
	got := Detect(vaccine, "s", rs, m)
	checkExcursions(t, got, []wantEx{
		{HumidityHigh, 5, 10, 15 * m, 75, 70, 2, false},
		{TemperatureHigh, 5, 15, 15 * m, 9.5, 8, 2, false},
	})
	if got[0].Unit != UnitHumidity || got[0].MKTC != nil {
		t.Errorf("humidity excursion unit %q MKT %v", got[0].Unit, got[0].MKTC)
	}
	// A profile without bounds has no excursions.
	if ex := Detect(ledger.StorageProfile{}, "s", rs, m); len(ex) != 0 {
		t.Errorf("unconstrained profile: %+v", ex)
	}
	// Only a lower bound.
	if ex := Detect(ledger.StorageProfile{MinC: f(6)}, "s", rs, m); len(ex) != 2 || ex[0].Kind != TemperatureLow {
		t.Errorf("MinC only: %+v", ex)
	}
}

func TestDetectUnsortedAndDuplicates(t *testing.T) {
	rs := series("s", 5*time.Minute, 5, 9, 10, 5, 1, 5)
	want := Detect(vaccine, "s", rs, time.Minute)
	shuffled := []Reading{rs[4], rs[2], rs[0], rs[5], rs[1], rs[3], rs[2], rs[4]}
	redelivered := rs[1]
	redelivered.Late = true
	shuffled = append(shuffled, redelivered)
	sameInstant := rs[3]
	sameInstant.EventID = "other"
	shuffled = append(shuffled, sameInstant)
	got := Detect(vaccine, "s", shuffled, time.Minute)
	if len(got) != len(want) {
		t.Fatalf("got %d excursions, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Duration != w.Duration || g.Peak != w.Peak || len(g.Readings) != len(w.Readings) {
			t.Errorf("[%d] %+v, want %+v", i, g, w)
		}
	}
}

func TestDetectSameInstantConflict(t *testing.T) {
	// Two readings at one instant, one in and one out of range: both kept,
	// the out-of-range one is an excursion weighing half the interval.
	m := time.Minute
	rs := []Reading{at(0, 5), at(10, 5), at(10, 9), at(20, 5)}
	checkExcursions(t, Detect(vaccine, "s", rs, m), []wantEx{{TemperatureHigh, 10, 10, 5 * m, 9, 8, 1, false}})
}

func TestSummariseOverlappingSensors(t *testing.T) {
	m := time.Minute
	// Sensor a: high from 10 to 30 min (readings at 10, 20, 30, each 10 min);
	// sensor b: high from 20 to 40. Union: [10, 50) = 40 min, not 60.
	a := series("a", 10*m, 5, 9, 9, 9, 5, 5, 5)
	b := series("b", 10*m, 5, 5, 9.5, 9, 9, 5, 5)
	c := series("c", 10*m, 5, 5, 5, 5, 5, 5, 1) // open low excursion at 60 min, weighs 10 min
	s := Summarise(vaccine, map[string][]Reading{"a": a, "b": b, "c": c}, m)
	if len(s.Excursions) != 3 || s.Excursions[0].Sensor != "a" || s.Excursions[1].Sensor != "b" || s.Excursions[2].Sensor != "c" {
		t.Fatalf("excursions %+v", s.Excursions)
	}
	if got := s.OutOfRange[TemperatureHigh]; got != 40*m {
		t.Errorf("high out of range %v, want 40m", got)
	}
	if got := s.OutOfRange[TemperatureLow]; got != 10*m {
		t.Errorf("low out of range %v, want 10m", got)
	}
	if s.TemperatureOutOfRange != 50*m || s.HumidityOutOfRange != 0 {
		t.Errorf("temperature out of range %v, humidity %v", s.TemperatureOutOfRange, s.HumidityOutOfRange)
	}
	if len(s.Sensors) != 3 || s.Sensors[0].Sensor != "a" || s.Sensors[0].Readings != 7 || *s.MinC != 1 || *s.MaxC != 9.5 {
		t.Errorf("sensors %+v min %v max %v", s.Sensors, *s.MinC, *s.MaxC)
	}
	// 30 min single excursions are not above the 30 min limit; the 50 min
	// cumulative is not above 60; MKTs are below 8.
	if s.Verdict.Breach {
		t.Errorf("unexpected breach: %v", s.Verdict.Reasons)
	}
	// Tighter profile: every rule breaks.
	p := vaccine
	p.MaxSingleExcursionMin, p.MaxCumulativeExcursionMin, p.MKTMaxC = f(29.9), f(45), f(5.5)
	s = Summarise(p, map[string][]Reading{"a": a, "b": b, "c": c}, m)
	var rules []string
	for _, r := range s.Verdict.Reasons {
		rules = append(rules, r.Rule+"/"+r.Sensor+r.Kind)
		if r.String() == "" {
			t.Error("empty reason text")
		}
	}
	want := []string{"single-excursion/atemperature-high", "single-excursion/btemperature-high", "cumulative-excursion/temperature", "mkt/a", "mkt/b"}
	if !s.Verdict.Breach || !slices.Equal(rules, want) {
		t.Errorf("reasons %v, want %v", rules, want)
	}
}

func TestSummariseMKT(t *testing.T) {
	h := time.Hour
	s := Summarise(vaccine, map[string][]Reading{
		"a": series("a", h, 2, 4, 6, 8, 25),
		"b": series("b", h, 5, 5),
		"d": nil,
	}, time.Minute)
	if len(s.Sensors) != 3 || s.Sensors[2].MKTC != nil || s.Sensors[2].Readings != 0 {
		t.Fatalf("sensors %+v", s.Sensors)
	}
	if math.Abs(*s.Sensors[0].MKTC-13.936934493231687) > 1e-9 || math.Abs(*s.Sensors[1].MKTC-5) > 1e-9 || *s.MKTC != *s.Sensors[0].MKTC {
		t.Errorf("MKTs %v %v lot %v", *s.Sensors[0].MKTC, *s.Sensors[1].MKTC, *s.MKTC)
	}
	// The 25 °C reading is a 60 min excursion (> 30) and the MKT is above 8.
	if !s.Verdict.Breach || len(s.Verdict.Reasons) != 2 || s.Verdict.Reasons[0].Rule != RuleSingle || s.Verdict.Reasons[1].Rule != RuleMKT {
		t.Errorf("verdict %+v", s.Verdict)
	}
}

func TestUnion(t *testing.T) {
	m := time.Minute
	w := func(a, b float64) window {
		return window{t0.Add(time.Duration(a * float64(m))), t0.Add(time.Duration(b * float64(m)))}
	}
	tests := []struct {
		ws   []window
		want time.Duration
	}{
		{nil, 0},
		{[]window{w(0, 10)}, 10 * m},
		{[]window{w(0, 10), w(10, 20)}, 20 * m}, // touching
		{[]window{w(5, 15), w(0, 10)}, 15 * m},  // overlapping, unsorted
		{[]window{w(0, 30), w(5, 10)}, 30 * m},  // nested
		{[]window{w(0, 10), w(20, 25)}, 15 * m}, // disjoint
		{[]window{w(0, 0), w(3, 3)}, 0},         // empty windows
	}
	for i, tc := range tests {
		if got := union(tc.ws); got != tc.want {
			t.Errorf("[%d] union = %v, want %v", i, got, tc.want)
		}
	}
}
