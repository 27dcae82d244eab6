package coldchain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func kinds(ts []Transition) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Kind)
	}
	return out
}

func TestDetectorTransitions(t *testing.T) {
	d := NewDetector(DetectorConfig{})
	rs := series("s", 5*time.Minute, 5, 9, 10, 1, 5)
	var got [][]string
	var all []Transition
	for _, r := range rs {
		ts := d.Feed("lot-1", r, vaccine)
		got = append(got, kinds(ts))
		all = append(all, ts...)
	}
	want := [][]string{nil, {BreachStart}, nil, {BreachEnd, BreachStart}, {BreachEnd}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("transitions %v, want %v", got, want)
	}
	start := all[0]
	if start.Subject != "lot-1" || start.Sensor != "s" || !start.At.Equal(rs[1].At) || !start.Excursion.Open || start.Excursion.Duration != 0 || start.Excursion.Kind != TemperatureHigh {
		t.Errorf("breach-start %+v %+v", start, start.Excursion)
	}
	end := all[1].Excursion
	if end.Open || !end.Start.Equal(rs[1].At) || !end.End.Equal(rs[2].At) || end.Duration != 10*time.Minute || end.Peak != 10 || end.MKTC == nil {
		t.Errorf("breach-end %+v", end)
	}
	if len(d.Open("lot-1")) != 0 {
		t.Errorf("open after recovery: %+v", d.Open("lot-1"))
	}
}

func TestDetectorDuplicatesAndLate(t *testing.T) {
	d := NewDetector(DetectorConfig{})
	rs := series("s", 5*time.Minute, 5, 5, 9, 5)
	for _, r := range rs[:3] {
		d.Feed("lot", r, vaccine)
	}
	// The same event again (any time), or the same time and values: ignored.
	if ts := d.Feed("lot", rs[2], vaccine); ts != nil {
		t.Errorf("duplicate by EventID: %v", kinds(ts))
	}
	again := rs[2]
	again.EventID = ""
	if ts := d.Feed("lot", again, vaccine); ts != nil {
		t.Errorf("duplicate by time and value: %v", kinds(ts))
	}
	if ts := d.Feed("lot", rs[0], vaccine); ts != nil {
		t.Errorf("old duplicate: %v", kinds(ts))
	}
	// A late in-range reading: nothing. A late out-of-range one: a
	// late-excursion, and the state is unchanged.
	if ts := d.Feed("lot", at(2, 5), vaccine); ts != nil {
		t.Errorf("late in range: %v", kinds(ts))
	}
	late := at(3, 1)
	late.Sensor = "s"
	ts := d.Feed("lot", late, vaccine)
	if len(ts) != 1 || ts[0].Kind != LateExcursion || ts[0].Excursion.Kind != TemperatureLow || ts[0].Excursion.Peak != 1 {
		t.Fatalf("late out of range: %+v", ts)
	}
	open := d.Open("lot")
	if len(open) != 1 || open[0].Kind != TemperatureHigh || *open[0].MKTC != 9 {
		t.Fatalf("open %+v", open)
	}
	// The excursion still ends as Detect says.
	ts = d.Feed("lot", rs[3], vaccine)
	if len(ts) != 1 || ts[0].Kind != BreachEnd || ts[0].Excursion.Duration != 5*time.Minute {
		t.Fatalf("end %+v", ts)
	}
	// Another subject, same sensor name: separate state.
	if ts := d.Feed("lot-2", rs[2], vaccine); len(ts) != 1 || ts[0].Kind != BreachStart {
		t.Fatalf("other subject %v", kinds(ts))
	}
	d.Forget("lot-2")
	if len(d.Open("lot-2")) != 0 {
		t.Error("forgotten subject still open")
	}
}

// The online detector's excursions equal Detect's on the same stream fed
// in time order: every closed excursion as a breach-end, the open one as
// Open at the end.
func TestDetectorMatchesDetect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var nClosed, nOpen, nStuck, nHumidity int
	defer func() {
		t.Logf("compared %d closed (%d humidity) and %d open excursions, %d stuck periods", nClosed, nHumidity, nOpen, nStuck)
		if nClosed < 50 || nOpen == 0 || nStuck < 10 || nHumidity == 0 {
			t.Error("the random streams do not exercise the detector enough")
		}
	}()
	for iter := range 50 {
		rs := randomStream(rng, "s", 50+rng.IntN(400))
		d := NewDetector(DetectorConfig{})
		var closed []Excursion
		var stuck, recovered []Transition
		for _, r := range rs {
			for _, tr := range d.Feed("lot", r, vaccine) {
				switch tr.Kind {
				case BreachEnd:
					closed = append(closed, *tr.Excursion)
				case SensorStuck:
					stuck = append(stuck, tr)
				case SensorRecovered:
					recovered = append(recovered, tr)
				case LateExcursion:
					t.Fatalf("late excursion on an ordered stream")
				}
			}
		}
		sortExcursions(closed)
		open := d.Open("lot")
		want := Detect(vaccine, "s", rs, time.Minute)
		var wantClosed, wantOpen []Excursion
		for _, e := range want {
			if e.Open {
				wantOpen = append(wantOpen, e)
			} else {
				wantClosed = append(wantClosed, e)
			}
		}
		if len(closed) != len(wantClosed) || len(open) != len(wantOpen) {
			t.Fatalf("iter %d: detector %d closed %d open, Detect %d closed %d open", iter, len(closed), len(open), len(wantClosed), len(wantOpen))
		}
		nClosed, nOpen, nStuck = nClosed+len(closed), nOpen+len(open), nStuck+len(stuck)
		for i, g := range closed {
			w := wantClosed[i]
			if g.Kind == HumidityHigh {
				nHumidity++
			}
			if g.Kind != w.Kind || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Duration != w.Duration || g.Peak != w.Peak || g.Limit != w.Limit || g.Unit != w.Unit {
				t.Fatalf("iter %d [%d]: detector %+v\nDetect %+v", iter, i, g, w)
			}
			if (g.MKTC == nil) != (w.MKTC == nil) || (g.MKTC != nil && math.Abs(*g.MKTC-*w.MKTC) > 1e-12) {
				t.Fatalf("iter %d [%d]: MKT %v vs %v", iter, i, g.MKTC, w.MKTC)
			}
		}
		for i, g := range open {
			w := wantOpen[i]
			if g.Kind != w.Kind || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Peak != w.Peak || !g.Open {
				t.Fatalf("iter %d open [%d]: detector %+v\nDetect %+v", iter, i, g, w)
			}
		}
		// Stuck transitions match Stuck.
		periods := Stuck("s", rs, StuckRule{})
		if len(stuck) != len(periods) {
			t.Fatalf("iter %d: %d stuck transitions, %d periods", iter, len(stuck), len(periods))
		}
		for i, p := range periods {
			if !stuck[i].At.Equal(p.Detected) || !stuck[i].Stuck.Start.Equal(p.Start) {
				t.Fatalf("iter %d: stuck %+v vs period %+v", iter, stuck[i].Stuck, p)
			}
			if !p.Open {
				r := recovered[i].Stuck
				if !r.Start.Equal(p.Start) || !r.End.Equal(p.End) || r.Readings != p.Readings || r.Open {
					t.Fatalf("iter %d: recovered %+v vs period %+v", iter, r, p)
				}
			}
		}
	}
}

func TestDetectorConcurrent(t *testing.T) {
	d := NewDetector(DetectorConfig{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for _, r := range randomStream(rng, fmt.Sprint("s", g%2), 300) {
				d.Feed(fmt.Sprint("lot", g/2), r, vaccine)
				d.Open("lot0")
			}
		})
	}
	wg.Wait()
}

func TestStuck(t *testing.T) {
	m := time.Minute
	temps := make([]float64, 0, 20)
	for range 13 {
		temps = append(temps, 4.5) // 13 readings, 5 min apart: 0..60 min
	}
	temps = append(temps, 4.6, 4.7)
	rs := series("s", 5*m, temps...)
	ps := Stuck("s", rs, StuckRule{})
	if len(ps) != 1 {
		t.Fatalf("periods %+v", ps)
	}
	p := ps[0]
	// Met at the 13th reading (60 min): 12 readings span only 55 min.
	if !p.Start.Equal(t0) || !p.Detected.Equal(t0.Add(60*m)) || !p.End.Equal(t0.Add(60*m)) || p.Readings != 13 || p.Open || *p.TempC != 4.5 {
		t.Errorf("period %+v", p)
	}
	// 12 readings spanning 55 min: not stuck.
	if ps := Stuck("s", rs[:12], StuckRule{}); len(ps) != 0 {
		t.Errorf("12 readings over 55 min: %+v", ps)
	}
	// 30 readings a minute apart (29 min): not stuck by default, stuck with
	// a custom rule, and still open.
	rs = series("s", m, slicesRepeat(7.25, 30)...)
	if ps := Stuck("s", rs, StuckRule{}); len(ps) != 0 {
		t.Errorf("29 min: %+v", ps)
	}
	ps = Stuck("s", rs, StuckRule{MinReadings: 5, MinSpan: 10 * m})
	if len(ps) != 1 || !ps[0].Detected.Equal(t0.Add(10*m)) || !ps[0].Open || ps[0].Readings != 30 {
		t.Errorf("custom rule: %+v", ps)
	}
	// Duplicates do not count: 13 copies of one reading are one reading.
	dup := make([]Reading, 13)
	for i := range dup {
		dup[i] = at(0, 4)
	}
	if ps := Stuck("s", dup, StuckRule{MinReadings: 2, MinSpan: time.Nanosecond}); len(ps) != 0 {
		t.Errorf("duplicates: %+v", ps)
	}
	// Humidity counts: same temperature, varying humidity is not stuck.
	var hs []Reading
	for i := range 20 {
		hs = append(hs, Reading{At: t0.Add(time.Duration(i) * 5 * m), TempC: f(5), Humidity: f(float64(40 + i))})
	}
	if ps := Stuck("s", hs, StuckRule{}); len(ps) != 0 {
		t.Errorf("humidity varies: %+v", ps)
	}
}

func slicesRepeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestDisagreement(t *testing.T) {
	m := time.Minute
	a := series("a", 10*m, 5, 5, 5, 5, 5, 5, 5, 5)
	b := series("b", 10*m, 5.2, 7, 7.5, 7, 5.1, 5, 8, 8)
	// |a−b| > 1 from 10 to 40 min (30 min), and from 60 min to the last
	// instant, 70 min (open: 10 min so far).
	got := Disagreement(a, b, 1, 10*m)
	if len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	if !got[0].Start.Equal(t0.Add(10*m)) || !got[0].End.Equal(t0.Add(40*m)) || got[0].MaxDiff != 2.5 || got[0].Open {
		t.Errorf("first %+v", got[0])
	}
	if !got[1].Start.Equal(t0.Add(60*m)) || !got[1].End.Equal(t0.Add(70*m)) || got[1].MaxDiff != 3 || !got[1].Open {
		t.Errorf("second %+v", got[1])
	}
	if got := Disagreement(a, b, 1, 20*m); len(got) != 1 {
		t.Errorf("minDuration 20 min: %+v", got)
	}
	if got := Disagreement(a, b, 1, 30*m+1); len(got) != 0 {
		t.Errorf("longer minDuration: %+v", got)
	}
	if got := Disagreement(a, b, 10, 0); len(got) != 0 {
		t.Errorf("large threshold: %+v", got)
	}
	// Interleaved times: values hold until the sensor's next reading.
	c := []Reading{{At: t0.Add(5 * m), TempC: f(9)}, {At: t0.Add(25 * m), TempC: f(5)}}
	got = Disagreement(a, c, 1, 0)
	if len(got) != 1 || !got[0].Start.Equal(t0.Add(5*m)) || !got[0].End.Equal(t0.Add(25*m)) {
		t.Errorf("interleaved %+v", got)
	}
}
