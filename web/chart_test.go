package web

import (
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/gateway/coldchain"
	"github.com/tracegate/tracegate/ledger"
)

func fp(v float64) *float64 { return &v }

// TestColdCharts checks the chart layout: a line per sensor, the band
// between the limits, excursions as spans with their peak, a humidity
// chart only when the profile limits humidity, and axes.
func TestColdCharts(t *testing.T) {
	t0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	rs := map[string][]coldchain.Reading{}
	for i := 0; i < 96; i++ {
		at := t0.Add(time.Duration(i) * 30 * time.Minute)
		c, h := 5.0, 50.0
		if i >= 40 && i < 44 {
			c, h = 9+float64(i-40), 80
		}
		rs["a"] = append(rs["a"], coldchain.Reading{Sensor: "a", At: at, TempC: fp(c), Humidity: fp(h)})
		rs["b"] = append(rs["b"], coldchain.Reading{Sensor: "b", At: at.Add(time.Minute), TempC: fp(c - 1)})
	}
	prof := ledger.StorageProfile{MinC: fp(2), MaxC: fp(8), MaxHumidity: fp(70)}
	sum := coldchain.Summarise(prof, rs, 5*time.Minute)
	if len(sum.Excursions) < 2 {
		t.Fatalf("test data: %d excursions", len(sum.Excursions))
	}
	charts := coldCharts(rs, &prof, sum.Excursions, nil, nil)
	if len(charts) != 2 || charts[0].ID != "temp-chart" || charts[1].ID != "hum-chart" {
		t.Fatalf("charts %d", len(charts))
	}
	temp := charts[0]
	if len(temp.Legend) != 2 || temp.Readings != 192 || temp.BandLabel != "Allowed 2–8 °C" {
		t.Errorf("temperature chart: legend %v, %d readings, band %q", temp.Legend, temp.Readings, temp.BandLabel)
	}
	for _, v := range temp.Views {
		if len(v.Lines) != 2 || v.Band == nil || v.Band.H <= 0 || len(v.Limits) != 2 {
			t.Errorf("%s: %d lines, band %+v", v.ID, len(v.Lines), v.Band)
		}
		if len(v.Exc) != temp.Excursions || len(v.Exc) < 2 {
			t.Errorf("%s: %d excursion spans", v.ID, len(v.Exc))
		}
		for _, x := range v.Exc {
			if x.W <= 0 || x.X < v.PlotX || x.X+x.W > v.PlotX+v.PlotW+0.5 || x.PY < v.PlotY || x.PY > v.Bottom || x.Recorded != "pending" {
				t.Errorf("%s: excursion span %+v outside the plot", v.ID, x)
			}
		}
		if !strings.Contains(v.Exc[0].Label, "12 °C") && !strings.Contains(v.Exc[1].Label, "12 °C") {
			t.Errorf("%s: peaks labelled %q, %q, want 12 °C", v.ID, v.Exc[0].Label, v.Exc[1].Label)
		}
		if len(v.XTicks) < 2 || len(v.YTicks) < 3 {
			t.Errorf("%s: %d time ticks, %d value ticks", v.ID, len(v.XTicks), len(v.YTicks))
		}
		// The band lies between the 2 °C and 8 °C ticks.
		if v.Band.Y < v.PlotY || v.Band.Y+v.Band.H > v.Bottom {
			t.Errorf("%s: band %+v outside the plot", v.ID, v.Band)
		}
	}
	hum := charts[1]
	if len(hum.Legend) != 1 || hum.Excursions != 1 || hum.BandLabel != "Allowed up to 70 %RH" {
		t.Errorf("humidity chart: legend %v, %d excursions, band %q", hum.Legend, hum.Excursions, hum.BandLabel)
	}
	// No humidity limit, no humidity chart; no readings, no chart.
	if cs := coldCharts(rs, &ledger.StorageProfile{MaxC: fp(8)}, nil, nil, nil); len(cs) != 1 {
		t.Errorf("%d charts without a humidity limit", len(cs))
	}
	if cs := coldCharts(map[string][]coldchain.Reading{}, &prof, nil, nil, nil); len(cs) != 0 {
		t.Errorf("%d charts without readings", len(cs))
	}
}

func TestDecimateKeepsPeaks(t *testing.T) {
	t0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	var pts []chartPt
	for i := 0; i < 10000; i++ {
		v := 5.0
		if i == 4321 {
			v = 15
		}
		pts = append(pts, chartPt{t0.Add(time.Duration(i) * time.Minute), v})
	}
	out := decimate(pts, 300)
	if len(out) > 600 || len(out) < 300 {
		t.Errorf("decimated to %d points", len(out))
	}
	peak := false
	for i, p := range out {
		peak = peak || p.v == 15
		if i > 0 && p.t.Before(out[i-1].t) {
			t.Fatalf("decimated points out of order")
		}
	}
	if !peak {
		t.Error("decimation lost the peak")
	}
}
