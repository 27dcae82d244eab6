package coldchain

import (
	"math"
	"testing"
	"time"
)

// TestDocExample checks the worked example of docs/cold-chain.md.
func TestDocExample(t *testing.T) {
	m := time.Minute
	a := series("A", 10*m, 5.0, 6.0, 8.0, 9.5, 11.0, 8.4, 7.0, 6.0)
	b := series("B", 15*m, 5.5, 5.0, 5.0, 9.0, 8.5, 5.0)
	s := Summarise(vaccine, map[string][]Reading{"A": a, "B": b}, 5*m)
	checkExcursions(t, s.Excursions, []wantEx{
		{TemperatureHigh, 30, 50, 30 * m, 11, 8, 3, false},
		{TemperatureHigh, 45, 60, 30 * m, 9, 8, 2, false},
	})
	near := func(name string, got *float64, want float64) {
		if got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("excursion A MKT", s.Excursions[0].MKTC, 9.7006502344715136)
	near("excursion B MKT", s.Excursions[1].MKTC, 8.7537101162978062)
	near("MKT A", s.Sensors[0].MKTC, 7.8278795818462745)
	near("MKT B", s.Sensors[1].MKTC, 6.5198767041233882)
	if s.TemperatureOutOfRange != 45*m {
		t.Errorf("cumulative %v, want 45m", s.TemperatureOutOfRange)
	}
	if s.Verdict.Breach {
		t.Errorf("breach: %v", s.Verdict.Reasons)
	}
	p := vaccine
	p.MaxSingleExcursionMin, p.MKTMaxC = f(20), f(7.5)
	v := Summarise(p, map[string][]Reading{"A": a, "B": b}, 5*m).Verdict
	if !v.Breach || len(v.Reasons) != 3 || v.Reasons[2].Rule != RuleMKT || v.Reasons[2].Sensor != "A" {
		t.Errorf("tighter profile: %+v", v)
	}
}
