package coldchain

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// decodeReadings turns fuzz bytes into readings, 4 bytes each: minutes
// since the previous reading (signed, so input can be out of order; 0 is
// the same instant), temperature (255 none, 254 NaN, 253 −300 °C),
// humidity (255 none), event ID (0 none; few distinct values, so
// duplicates happen).
func decodeReadings(data []byte) []Reading {
	var rs []Reading
	t := t0
	for i := 0; i+4 <= len(data); i += 4 {
		t = t.Add(time.Duration(int8(data[i])) * time.Minute)
		r := Reading{Sensor: "s", At: t, Seq: uint64(i / 4)}
		switch b := data[i+1]; b {
		case 255:
		case 254:
			r.TempC = f(math.NaN())
		case 253:
			r.TempC = f(-300)
		default:
			r.TempC = f(-20 + float64(b)*0.2)
		}
		if b := data[i+2]; b != 255 {
			r.Humidity = f(float64(b) / 2.5)
		}
		if b := data[i+3]; b != 0 {
			r.EventID = fmt.Sprint("e", b%32)
		}
		rs = append(rs, r)
	}
	return rs
}

func FuzzDetect(fz *testing.F) {
	fz.Add([]byte{5, 120, 100, 1, 5, 150, 200, 2, 5, 160, 255, 3, 0, 160, 180, 0, 251, 10, 100, 4}, uint16(5))
	fz.Add([]byte{1, 125, 125, 0}, uint16(0))
	fz.Add([]byte{10, 253, 255, 0, 10, 254, 255, 0, 0, 0, 0, 0}, uint16(60))
	fz.Fuzz(func(t *testing.T, data []byte, defMin uint16) {
		rs := decodeReadings(data)
		def := time.Duration(defMin) * time.Minute
		p := ledger.StorageProfile{MinC: f(2), MaxC: f(8), MaxHumidity: f(70), MaxSingleExcursionMin: f(30), MaxCumulativeExcursionMin: f(60), MKTMaxC: f(8)}
		ex := Detect(p, "s", rs, def)
		norm := Normalise(rs)
		for _, q := range []struct {
			has   func(Reading) bool
			kinds map[string]bool
		}{{hasTemp, map[string]bool{TemperatureHigh: true, TemperatureLow: true}}, {hasHumidity, map[string]bool{HumidityHigh: true}}} {
			series := filter(norm, q.has)
			var total time.Duration
			for _, e := range ex {
				if q.kinds[e.Kind] {
					total += e.Duration
				}
			}
			if len(series) == 0 {
				if total != 0 {
					t.Fatalf("excursions without readings: %+v", ex)
				}
				continue
			}
			// The last instant weighs the median interval (or the default).
			ws := weigh(series, def)
			var intervals []time.Duration
			for i := 1; i < len(series); i++ {
				if d := series[i].At.Sub(series[i-1].At); d > 0 {
					intervals = append(intervals, d)
				}
			}
			last := max(def, 0)
			if len(intervals) > 0 {
				last = median(intervals)
			}
			span := series[len(series)-1].At.Sub(series[0].At)
			if total > span+last {
				t.Fatalf("excursions last %v > span %v + last weight %v", total, span, last)
			}
			var sum time.Duration
			for _, w := range ws {
				if w.Weight < 0 {
					t.Fatalf("negative weight %+v", w)
				}
				sum += w.Weight
			}
			if sum > span+last || sum < span+last-time.Duration(len(ws)) {
				t.Fatalf("weights sum to %v, want span %v + last %v", sum, span, last)
			}
		}
		for _, e := range ex {
			if e.End.Before(e.Start) || e.Duration < 0 || len(e.Readings) == 0 {
				t.Fatalf("bad excursion %+v", e)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range e.Readings {
				v, ok := temp(r)
				if e.Unit == UnitHumidity {
					v, ok = humidity(r)
				}
				if !ok {
					t.Fatalf("excursion reading without the value: %+v", r)
				}
				if (e.Kind == TemperatureLow && v >= e.Limit) || (e.Kind != TemperatureLow && v <= e.Limit) {
					t.Fatalf("in-range reading %v in %s excursion (limit %v)", v, e.Kind, e.Limit)
				}
				lo, hi = min(lo, v), max(hi, v)
			}
			if e.MKTC != nil && (*e.MKTC < lo || *e.MKTC > hi) {
				t.Fatalf("excursion MKT %v outside [%v, %v]", *e.MKTC, lo, hi)
			}
			if e.Peak != lo && e.Peak != hi {
				t.Fatalf("peak %v not an extreme [%v, %v]", e.Peak, lo, hi)
			}
		}
		if m, ok := MKT(rs); ok {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range rs {
				if v, ok := temp(r); ok {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			if m < lo || m > hi || math.IsNaN(m) {
				t.Fatalf("MKT %v outside [%v, %v]", m, lo, hi)
			}
		}
		half := len(rs) / 2
		s := Summarise(p, map[string][]Reading{"a": rs[:half], "b": rs[half:]}, def)
		var sum time.Duration
		for _, e := range s.Excursions {
			if e.Kind != HumidityHigh {
				sum += e.Duration
			}
		}
		if s.TemperatureOutOfRange > sum || s.TemperatureOutOfRange < 0 {
			t.Fatalf("union %v above the sum %v", s.TemperatureOutOfRange, sum)
		}
		Stuck("s", rs, StuckRule{MinReadings: 2, MinSpan: time.Minute})
		Disagreement(rs[:half], rs[half:], 0.5, time.Minute)
		d := NewDetector(DetectorConfig{Stuck: StuckRule{MinReadings: 3, MinSpan: time.Minute}})
		for _, r := range rs {
			d.Feed("lot", r, p)
		}
		d.Open("lot")
	})
}
