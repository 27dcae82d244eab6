package web

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tracegate/tracegate/gateway/coldchain"
	"github.com/tracegate/tracegate/ledger"
)

// Cold-chain charts are drawn on the server as inline SVG: one line per
// sensor, the allowed range as a shaded band, excursions as red spans
// with their peak, and labelled time and value axes. Each chart comes in
// two shapes, a wide one for desktops and a narrow one for phones, so
// that its labels stay readable at both sizes (CSS shows one).

// chartBlock is one chart (temperature or humidity) on the passport.
type chartBlock struct {
	ID         string // "temp-chart", "hum-chart"
	Title      string
	Unit       string // "°C", "%RH"
	Views      []svgChart
	Legend     []legendItem
	Label      string // the accessible summary
	BandLabel  string // "Allowed 2–8 °C"
	Readings   int
	Excursions int
	First      string
	Last       string
}

type legendItem struct {
	Name  string
	Color string
}

// svgChart is one rendering of a chart, in its own coordinates.
type svgChart struct {
	Class, ID          string
	W, H               int
	PlotX, PlotY       float64
	PlotW, PlotH       float64
	Band               *svgRect
	Limits             []svgTick // dashed lines at the range's limits
	Lines              []svgLine
	Out                []svgPoint // out-of-range readings
	Exc                []svgExc
	XTicks, YTicks     []svgTick
	AxisTitleX, Bottom float64
}

type svgRect struct{ X, Y, W, H float64 }

type svgLine struct {
	Path, Color, Name string
}

type svgPoint struct {
	X, Y float64
	Tip  string
}

type svgExc struct {
	X, Y, W, H     float64
	PX, PY         float64 // the peak
	LX, LY         float64 // its label
	Label, Tip     string
	Anchor         string
	Kind, Recorded string
}

type svgTick struct {
	X, Y  float64
	Text  string
	Text2 string // a second line (the date under a time)
	Edge  string // text-anchor
}

// seriesColors are distinguishable line colours (never red: red is for
// excursions), dark enough on white (WCAG AA for graphics).
var seriesColors = []string{"#0b5e7e", "#6a3fb0", "#b45309", "#2f6f3a", "#9d2a6a", "#4b5563"}

type chartPt struct {
	t time.Time
	v float64
}

type chartSeries struct {
	name string
	pts  []chartPt
}

// coldCharts builds the passport's temperature chart (and humidity chart
// when the profile limits humidity) from a cold-chain report.
func coldCharts(readings map[string][]coldchain.Reading, prof *ledger.StorageProfile, excs []coldchain.Excursion, recorded map[string]bool, idOf func(coldchain.Excursion) string) []*chartBlock {
	var out []*chartBlock
	names := make([]string, 0, len(readings))
	for n := range readings {
		names = append(names, n)
	}
	sort.Strings(names)
	build := func(id, title, unit string, value func(coldchain.Reading) (float64, bool), lo, hi *float64, kinds ...string) *chartBlock {
		var ss []chartSeries
		total := 0
		for _, n := range names {
			var pts []chartPt
			for _, r := range readings[n] {
				if v, ok := value(r); ok {
					pts = append(pts, chartPt{r.At, v})
				}
			}
			if len(pts) == 0 {
				continue
			}
			sort.SliceStable(pts, func(i, j int) bool { return pts[i].t.Before(pts[j].t) })
			total += len(pts)
			ss = append(ss, chartSeries{name: n, pts: pts})
		}
		if total == 0 {
			return nil
		}
		var ex []coldchain.Excursion
		for _, e := range excs {
			for _, k := range kinds {
				if e.Kind == k {
					ex = append(ex, e)
				}
			}
		}
		cb := &chartBlock{ID: id, Title: title, Unit: unit, Readings: total, Excursions: len(ex)}
		for i, s := range ss {
			cb.Legend = append(cb.Legend, legendItem{Name: s.name, Color: seriesColors[i%len(seriesColors)]})
		}
		t0, t1 := ss[0].pts[0].t, ss[0].pts[0].t
		for _, s := range ss {
			t0 = minTime(t0, s.pts[0].t)
			t1 = maxTime(t1, s.pts[len(s.pts)-1].t)
		}
		if !t1.After(t0) {
			t0, t1 = t0.Add(-30*time.Minute), t1.Add(30*time.Minute)
		}
		cb.First, cb.Last = fmtTime(t0), fmtTime(t1)
		cb.BandLabel = bandLabel(lo, hi, unit)
		cb.Views = []svgChart{
			drawChart(ss, ex, lo, hi, t0, t1, unit, 760, 280, 7, "chart chart-wide", id, recorded, idOf),
			drawChart(ss, ex, lo, hi, t0, t1, unit, 360, 260, 3, "chart chart-narrow", id+"-narrow", recorded, idOf),
		}
		cb.Label = fmt.Sprintf("%s of %s from %s to %s: %s", title, plural(len(ss), "sensor", "sensors"), cb.First, cb.Last, plural(len(ex), "excursion", "excursions"))
		if cb.BandLabel != "" {
			cb.Label += "; " + strings.ToLower(cb.BandLabel[:1]) + cb.BandLabel[1:]
		}
		return cb
	}
	var lo, hi, hum *float64
	if prof != nil {
		lo, hi, hum = prof.MinC, prof.MaxC, prof.MaxHumidity
	}
	if cb := build("temp-chart", "Temperature", "°C", func(r coldchain.Reading) (float64, bool) {
		if r.TempC == nil || math.IsNaN(*r.TempC) || math.IsInf(*r.TempC, 0) {
			return 0, false
		}
		return *r.TempC, true
	}, lo, hi, ledger.ExcursionTempHigh, ledger.ExcursionTempLow); cb != nil {
		out = append(out, cb)
	}
	if hum != nil {
		if cb := build("hum-chart", "Humidity", "%RH", func(r coldchain.Reading) (float64, bool) {
			if r.Humidity == nil || math.IsNaN(*r.Humidity) || math.IsInf(*r.Humidity, 0) {
				return 0, false
			}
			return *r.Humidity, true
		}, nil, hum, ledger.ExcursionHumidityHigh); cb != nil {
			out = append(out, cb)
		}
	}
	return out
}

func bandLabel(lo, hi *float64, unit string) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("Allowed %s–%s %s", f(*lo), f(*hi), unit)
	case hi != nil:
		return fmt.Sprintf("Allowed up to %s %s", f(*hi), unit)
	case lo != nil:
		return fmt.Sprintf("Allowed from %s %s", f(*lo), unit)
	}
	return ""
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// fmtNum renders a value with at most one decimal.
func fmtNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// drawChart lays out one rendering.
func drawChart(ss []chartSeries, ex []coldchain.Excursion, lo, hi *float64, t0, t1 time.Time, unit string, width, height, maxXTicks int, class, id string,
	recorded map[string]bool, idOf func(coldchain.Excursion) string) svgChart {
	const left, right, top, bottom = 44.0, 16.0, 18.0, 44.0
	v := svgChart{Class: class, ID: id, W: width, H: height, PlotX: left, PlotY: top,
		PlotW: float64(width) - left - right, PlotH: float64(height) - top - bottom}
	v.Bottom = top + v.PlotH
	// Value range: the readings and the limits, with some air.
	vlo, vhi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.pts {
			vlo, vhi = math.Min(vlo, p.v), math.Max(vhi, p.v)
		}
	}
	if lo != nil {
		vlo, vhi = math.Min(vlo, *lo), math.Max(vhi, *lo)
	}
	if hi != nil {
		vlo, vhi = math.Min(vlo, *hi), math.Max(vhi, *hi)
	}
	pad := math.Max((vhi-vlo)*0.12, 0.5)
	vlo, vhi = vlo-pad, vhi+pad
	step := niceStep((vhi - vlo) / 5)
	vlo, vhi = math.Floor(vlo/step)*step, math.Ceil(vhi/step)*step
	span := t1.Sub(t0).Seconds()
	x := func(t time.Time) float64 { return left + v.PlotW*t.Sub(t0).Seconds()/span }
	y := func(c float64) float64 { return top + v.PlotH*(vhi-c)/(vhi-vlo) }
	r1 := func(f float64) float64 { return math.Round(f*10) / 10 }

	// Band and limit lines.
	if lo != nil || hi != nil {
		yt, yb := top, v.Bottom
		if hi != nil {
			yt = y(*hi)
		}
		if lo != nil {
			yb = y(*lo)
		}
		v.Band = &svgRect{X: left, Y: r1(yt), W: r1(v.PlotW), H: r1(yb - yt)}
		for _, l := range []*float64{hi, lo} {
			if l != nil {
				v.Limits = append(v.Limits, svgTick{Y: r1(y(*l)), Text: fmtNum(*l) + " " + unit})
			}
		}
	}
	// Value ticks.
	for c := vlo; c <= vhi+step/2; c += step {
		v.YTicks = append(v.YTicks, svgTick{X: left - 6, Y: r1(y(c)), Text: fmtNum(c) + "°"})
	}
	if unit != "°C" {
		for i := range v.YTicks {
			v.YTicks[i].Text = strings.TrimSuffix(v.YTicks[i].Text, "°") + "%"
		}
	}
	// Time ticks.
	v.XTicks = timeTicks(t0, t1, maxXTicks, x, v.Bottom)
	// Lines, broken where a sensor was silent much longer than usual.
	for i, s := range ss {
		pts := decimate(s.pts, int(v.PlotW))
		gap := 4 * medianGap(s.pts)
		if gap < 30*time.Minute {
			gap = 30 * time.Minute
		}
		var b strings.Builder
		for j, p := range pts {
			cmd := " L"
			if j == 0 || p.t.Sub(pts[j-1].t) > gap {
				cmd = " M"
			}
			fmt.Fprintf(&b, "%s%.1f %.1f", cmd, x(p.t), y(p.v))
		}
		v.Lines = append(v.Lines, svgLine{Path: strings.TrimSpace(b.String()), Color: seriesColors[i%len(seriesColors)], Name: s.name})
		for _, p := range s.pts {
			if (hi != nil && p.v > *hi) || (lo != nil && p.v < *lo) {
				if len(v.Out) < 400 {
					v.Out = append(v.Out, svgPoint{X: r1(x(p.t)), Y: r1(y(p.v)), Tip: fmt.Sprintf("%s %s at %s (%s)", fmtNum(p.v), unit, fmtTime(p.t), s.name)})
				}
			}
		}
	}
	// Excursions: a red span over the time out of range, and the peak.
	for _, e := range ex {
		end := e.Start.Add(e.Duration)
		if e.End.After(end) {
			end = e.End
		}
		if end.After(t1) {
			end = t1
		}
		xa, xb := x(e.Start), x(end)
		if xb-xa < 4 {
			xa, xb = xa-2, xa+2
		}
		at := e.Start
		for _, r := range e.Readings {
			val := r.TempC
			if e.Kind == ledger.ExcursionHumidityHigh {
				val = r.Humidity
			}
			if val != nil && *val == e.Peak {
				at = r.At
				break
			}
		}
		se := svgExc{X: r1(xa), Y: top, W: r1(xb - xa), H: r1(v.PlotH), PX: r1(x(at)), PY: r1(y(e.Peak)), Kind: e.Kind,
			Label: fmtNum(e.Peak) + " " + unit, Anchor: "middle"}
		se.Tip = fmt.Sprintf("Excursion on %s: %s to %s, peak %s %s", e.Sensor, fmtTime(e.Start), fmtTime(e.End), fmtNum(e.Peak), unit)
		se.LX, se.LY = se.PX, se.PY-9
		if e.Kind == ledger.ExcursionTempLow {
			se.LY = se.PY + 17
		}
		if se.LY < 12 {
			se.LY = se.PY + 17
		}
		if se.LX < left+24 {
			se.Anchor = "start"
		} else if se.LX > left+v.PlotW-24 {
			se.Anchor = "end"
		}
		se.Recorded = "pending"
		if idOf != nil && recorded[idOf(e)] {
			se.Recorded = "recorded"
		}
		v.Exc = append(v.Exc, se)
	}
	// Keep peak labels apart: a label that would overlap an earlier one
	// goes beside its marker instead, on the side with room.
	for i := range v.Exc {
		for j := 0; j < i; j++ {
			a, b := &v.Exc[i], v.Exc[j]
			w := 6.5 * float64(len(a.Label)+len(b.Label)) / 2
			if math.Abs(a.LX-b.LX) < w && math.Abs(a.LY-b.LY) < 14 {
				a.LY = a.PY + 4
				if a.PX+9+6.5*float64(len(a.Label)) < left+v.PlotW {
					a.LX, a.Anchor = a.PX+9, "start"
				} else {
					a.LX, a.Anchor = a.PX-9, "end"
				}
			}
		}
	}
	return v
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return math.Max(m*p, 0.5)
		}
	}
	return 10 * p
}

var tickSteps = []time.Duration{
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// timeTicks places at most n time ticks on round times (UTC).
func timeTicks(t0, t1 time.Time, n int, x func(time.Time) float64, bottom float64) []svgTick {
	span := t1.Sub(t0)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	start := t0.UTC().Truncate(step)
	if step >= 24*time.Hour {
		start = time.Date(t0.UTC().Year(), t0.UTC().Month(), t0.UTC().Day(), 0, 0, 0, 0, time.UTC)
	}
	if start.Before(t0) {
		start = start.Add(step)
	}
	var out []svgTick
	lastDay := ""
	for t := start; !t.After(t1); t = t.Add(step) {
		tk := svgTick{X: math.Round(x(t)*10) / 10, Y: bottom + 16, Edge: "middle"}
		day := t.Format("2 Jan")
		if step >= 24*time.Hour {
			tk.Text = day
		} else {
			tk.Text = t.Format("15:04")
			if day != lastDay {
				tk.Text2 = day
			}
		}
		lastDay = day
		out = append(out, tk)
	}
	return out
}

func medianGap(pts []chartPt) time.Duration {
	if len(pts) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		gaps = append(gaps, pts[i].t.Sub(pts[i-1].t))
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	return gaps[len(gaps)/2]
}

// decimate keeps at most about 2×buckets points: per time bucket, its
// lowest and highest reading (in time order), so peaks survive.
func decimate(pts []chartPt, buckets int) []chartPt {
	if buckets < 10 || len(pts) <= 2*buckets {
		return pts
	}
	t0, t1 := pts[0].t, pts[len(pts)-1].t
	span := t1.Sub(t0)
	if span <= 0 {
		return pts
	}
	out := make([]chartPt, 0, 2*buckets+2)
	i := 0
	for b := 0; b < buckets && i < len(pts); b++ {
		end := t0.Add(span * time.Duration(b+1) / time.Duration(buckets))
		lo, hi := -1, -1
		for ; i < len(pts) && (!pts[i].t.After(end) || b == buckets-1); i++ {
			if lo < 0 || pts[i].v < pts[lo].v {
				lo = i
			}
			if hi < 0 || pts[i].v > pts[hi].v {
				hi = i
			}
		}
		switch {
		case lo < 0:
		case lo == hi:
			out = append(out, pts[lo])
		case lo < hi:
			out = append(out, pts[lo], pts[hi])
		default:
			out = append(out, pts[hi], pts[lo])
		}
	}
	return out
}
