package coldchain

import (
	"math"
	"testing"
	"time"
)

func TestWeigh(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name    string
		in      []Reading
		def     time.Duration
		wantAt  []float64 // minutes after t0, in output order
		wantW   []time.Duration
		wantVal []float64
	}{
		{name: "empty", def: m},
		{name: "single reading weighs the default", in: []Reading{at(0, 5)}, def: 7 * m, wantAt: []float64{0}, wantW: []time.Duration{7 * m}},
		{name: "negative default weighs zero", in: []Reading{at(0, 5)}, def: -m, wantAt: []float64{0}, wantW: []time.Duration{0}},
		{name: "regular", in: []Reading{at(0, 5), at(5, 5), at(10, 5)}, def: m,
			wantAt: []float64{0, 5, 10}, wantW: []time.Duration{5 * m, 5 * m, 5 * m}},
		{name: "last weighs the median (odd count)", in: []Reading{at(0, 5), at(1, 5), at(11, 5), at(13, 5)}, def: m,
			wantAt: []float64{0, 1, 11, 13}, wantW: []time.Duration{1 * m, 10 * m, 2 * m, 2 * m}},
		{name: "last weighs the median (even count: mean of the middle two)", in: []Reading{at(0, 5), at(1, 5), at(4, 5)}, def: m,
			wantAt: []float64{0, 1, 4}, wantW: []time.Duration{1 * m, 3 * m, 2 * m}},
		{name: "unsorted input is sorted", in: []Reading{at(10, 3), at(0, 1), at(5, 2)}, def: m,
			wantAt: []float64{0, 5, 10}, wantW: []time.Duration{5 * m, 5 * m, 5 * m}, wantVal: []float64{1, 2, 3}},
		{name: "same time and values is a duplicate", in: []Reading{at(0, 5), at(5, 6), at(5, 6), at(10, 5)}, def: m,
			wantAt: []float64{0, 5, 10}, wantW: []time.Duration{5 * m, 5 * m, 5 * m}},
		{name: "same EventID is a duplicate (earliest kept)", in: []Reading{
			{At: t0, TempC: f(5), EventID: "a"}, {At: t0.Add(5 * m), TempC: f(6), EventID: "b"},
			{At: t0.Add(7 * m), TempC: f(9), EventID: "a"}, {At: t0.Add(10 * m), TempC: f(5), EventID: "c"}}, def: m,
			wantAt: []float64{0, 5, 10}, wantW: []time.Duration{5 * m, 5 * m, 5 * m}, wantVal: []float64{5, 6, 5}},
		{name: "same instant, different values: both kept, weight shared", in: []Reading{at(0, 5), at(5, 9), at(5, 6), at(10, 5)}, def: m,
			wantAt: []float64{0, 5, 5, 10}, wantW: []time.Duration{5 * m, 150 * time.Second, 150 * time.Second, 5 * m}, wantVal: []float64{5, 6, 9, 5}},
		{name: "shared last instant", in: []Reading{at(0, 5), at(4, 6), at(4, 7)}, def: m,
			wantAt: []float64{0, 4, 4}, wantW: []time.Duration{4 * m, 2 * m, 2 * m}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := Weigh(tc.in, tc.def)
			if len(ws) != len(tc.wantW) {
				t.Fatalf("got %d weighted readings, want %d: %+v", len(ws), len(tc.wantW), ws)
			}
			for i, w := range ws {
				if want := t0.Add(time.Duration(tc.wantAt[i] * float64(m))); !w.At.Equal(want) {
					t.Errorf("[%d] At = %v, want %v", i, w.At, want)
				}
				if w.Weight != tc.wantW[i] {
					t.Errorf("[%d] Weight = %v, want %v", i, w.Weight, tc.wantW[i])
				}
				if tc.wantVal != nil && *w.TempC != tc.wantVal[i] {
					t.Errorf("[%d] TempC = %v, want %v", i, *w.TempC, tc.wantVal[i])
				}
			}
		})
	}
}

func TestNormaliseDoesNotModifyInput(t *testing.T) {
	in := []Reading{at(10, 3), at(0, 1), at(10, 3)}
	Normalise(in)
	if !in[0].At.Equal(t0.Add(10*time.Minute)) || len(in) != 3 || in[2].TempC == nil {
		t.Fatalf("input modified: %+v", in)
	}
}

func TestNormaliseOrderIndependent(t *testing.T) {
	a := []Reading{at(5, 9), at(5, 6), at(0, 5), {At: t0.Add(5 * time.Minute), Humidity: f(40)}}
	b := []Reading{a[3], a[2], a[1], a[0]}
	na, nb := Normalise(a), Normalise(b)
	if len(na) != len(nb) {
		t.Fatalf("lengths differ")
	}
	for i := range na {
		if !na[i].At.Equal(nb[i].At) || !sameValues(na[i], nb[i]) {
			t.Fatalf("[%d] %+v vs %+v", i, na[i], nb[i])
		}
	}
}

func TestNormaliseManyAtOneInstant(t *testing.T) {
	// 20 000 readings at one instant with 1 000 distinct values (each
	// repeated 20 times): linear time, 1 000 kept, sharing the default.
	rs := make([]Reading, 0, 20000)
	for i := range 20000 {
		rs = append(rs, Reading{At: t0, TempC: f(float64(i % 1000)), Seq: uint64(i % 7)})
	}
	rs = append(rs, Reading{At: t0, TempC: f(math.NaN())}, Reading{At: t0, TempC: f(math.NaN())}, Reading{At: t0, TempC: f(math.Copysign(0, -1))})
	start := time.Now()
	ws := Weigh(rs, 1000*time.Minute)
	if len(ws) != 1001 {
		t.Fatalf("kept %d, want 1001 (1000 values and one NaN)", len(ws))
	}
	if ws[0].Weight != 1000*time.Minute/1001 {
		t.Errorf("weight %v", ws[0].Weight)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
