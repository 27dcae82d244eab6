package edge

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tracegate/tracegate/edge/decode"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/edge/journal"
)

// edgeContext is the @context of events the edge makes: the standard
// context plus tracegate's extension namespace. The events carry it
// themselves (withContext), so they need no Standalone pass.
var edgeContext epcis.Context

// withContext gives an edge-made event its own @context.
func withContext(ev epcis.Event) epcis.Event {
	ev["@context"] = []any{epcis.StandardContextIRI, map[string]any{"tg": epcis.Namespace}}
	return ev
}

// readTemplate is what a smoothing window needs to build its event.
type readTemplate struct {
	EPC         string `json:"epc"`
	Site        string `json:"site"`
	Reader      string `json:"reader"`
	ReadPoint   string `json:"readPoint"`
	BizLocation string `json:"bizLocation,omitempty"`
	BizStep     string `json:"bizStep,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	// Format is the reader's vendor format (tg:format); empty for the
	// default format, so default-format events hash as before.
	Format string `json:"format,omitempty"`
	// EventNum is the Zebra eventNum of the read that opened the window.
	EventNum *int64 `json:"eventNum,omitempty"`
	// Unmapped: the reader has no mapping (tg:unmapped).
	Unmapped bool `json:"unmapped,omitempty"`
}

// readerMapping returns where a reader's reads happen and what they mean.
func (a *Agent) readerMapping(site, reader string) (Reader, bool) {
	s, ok := a.cfg.Sites[site]
	if !ok {
		return Reader{ReadPoint: syntheticLocation(site, "rfid", reader)}, false
	}
	r, ok := s.Readers[reader]
	if !ok {
		return Reader{ReadPoint: syntheticLocation(site, "rfid", reader), BizLocation: s.Location}, false
	}
	if r.ReadPoint == "" {
		r.ReadPoint = s.Location
	}
	if r.BizLocation == "" {
		r.BizLocation = s.Location
	}
	return r, true
}

// syntheticLocation names a device's place when configuration does not.
func syntheticLocation(site, kind, device string) string {
	return "urn:tracegate:device:" + site + ":" + kind + ":" + device
}

func windowKey(site, reader, epc string) string { return site + "/" + reader + "\x00" + epc }

// addRead folds one RFID read into its smoothing window, closing the old
// window first when the read falls outside it.
func (a *Agent) addRead(tx *journal.Tx, win map[string]*journal.Window, st *stepStats, t decode.Topic, raw journal.Raw, r decode.Read) error {
	m, mapped := a.readerMapping(t.Site, t.Device)
	if !mapped {
		st.unmapped++
		if a.cfg.Unmapped == UnmappedDeadLetter {
			return a.deadLetter(tx, st, raw, r.Index, decode.ReasonUnmapped,
				fmt.Sprintf("reader %s/%s has no mapping in the edge configuration (sites.%s.readers) and unmapped is %s", t.Site, t.Device, t.Site, UnmappedDeadLetter))
		}
	}
	key := windowKey(t.Site, t.Device, r.EPC)
	w := win[key]
	if w != nil && a.cfg.Smoothing.Window > 0 && absDur(r.Time.Sub(w.First)) < a.cfg.Smoothing.Window {
		w.Count++
		if r.Time.Before(w.First) {
			w.First = r.Time
		}
		if r.Time.After(w.Last) {
			w.Last = r.Time
		}
		if !slices.Contains(w.Antennas, r.Antenna) {
			w.Antennas = append(w.Antennas, r.Antenna)
			slices.Sort(w.Antennas)
		}
		if r.RSSI != nil && (w.PeakRSSI == nil || *r.RSSI > *w.PeakRSSI) {
			v := *r.RSSI
			w.PeakRSSI = &v
		}
		return tx.PutWindow(*w)
	}
	if w != nil {
		if err := a.closeWindow(tx, win, st, w); err != nil {
			return err
		}
	}
	tmpl, _ := json.Marshal(readTemplate{
		EPC: r.EPC, Site: t.Site, Reader: t.Device, ReadPoint: m.ReadPoint,
		BizLocation: m.BizLocation, BizStep: m.BizStep, Disposition: m.Disposition,
		Format: r.Format, EventNum: r.EventNum, Unmapped: !mapped,
	})
	opened := raw.Received
	if opened.IsZero() {
		opened = a.now()
	}
	nw := &journal.Window{
		Key: key, Opened: opened.UTC(), First: r.Time, Last: r.Time, Count: 1,
		Antennas: []int{r.Antenna}, Template: tmpl, ClientID: raw.ClientID, LastTopic: raw.Topic,
	}
	if r.RSSI != nil {
		v := *r.RSSI
		nw.PeakRSSI = &v
	}
	if a.cfg.Smoothing.Window <= 0 {
		return a.storeEvent(tx, st, "rfid", windowEvent(nw), edgeContext)
	}
	win[key] = nw
	return tx.PutWindow(*nw)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// closeWindow turns a window into its event and forgets the window.
func (a *Agent) closeWindow(tx *journal.Tx, win map[string]*journal.Window, st *stepStats, w *journal.Window) error {
	delete(win, w.Key)
	if err := tx.DeleteWindow(w.Key); err != nil {
		return err
	}
	return a.storeEvent(tx, st, "rfid", windowEvent(w), edgeContext)
}

// windowEvent builds the ObjectEvent of a smoothed read.
func windowEvent(w *journal.Window) epcis.Event {
	var t readTemplate
	_ = json.Unmarshal(w.Template, &t) // written by addRead; a zero template still yields a valid, hashable event
	ext := map[string]any{
		"tg:readCount": w.Count,
		"tg:reader":    t.Site + "/" + t.Reader,
	}
	if len(w.Antennas) > 0 {
		ext["tg:antennas"] = w.Antennas
	}
	if w.PeakRSSI != nil {
		ext["tg:peakRssi"] = *w.PeakRSSI
	}
	if w.Last.After(w.First) {
		ext["tg:lastSeen"] = w.Last.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if t.Format != "" {
		ext["tg:format"] = t.Format
	}
	if t.EventNum != nil {
		ext["tg:eventNum"] = *t.EventNum
	}
	if t.Unmapped {
		ext["tg:unmapped"] = true
	}
	return withContext(epcis.NewObjectEvent(epcis.ObjectEventFields{
		Action:      "OBSERVE",
		EPCs:        []string{t.EPC},
		Time:        w.First,
		BizStep:     t.BizStep,
		Disposition: t.Disposition,
		ReadPoint:   t.ReadPoint,
		BizLocation: t.BizLocation,
		Extensions:  ext,
	}))
}

// closeDueWindows closes the windows whose first read arrived at least one
// window before the watermark (all of them when force is set), in one
// journal step. The watermark is the arrival time of the oldest message
// not yet processed (now when the inbox is empty): with a backlog, a
// window stays open until the reads that arrived within it were processed.
func (a *Agent) closeDueWindows(force bool) error {
	a.procMu.Lock()
	defer a.procMu.Unlock()
	a.mu.Lock()
	n := len(a.windows)
	a.mu.Unlock()
	if n == 0 {
		return nil
	}
	watermark := a.now()
	if head, err := a.j.ReadInbox(1); err == nil && len(head) == 1 && !head[0].Raw.Received.IsZero() && head[0].Raw.Received.Before(watermark) {
		watermark = head[0].Raw.Received
	}
	a.mu.Lock()
	var due []string
	for k, w := range a.windows {
		if force || watermark.Sub(w.Opened) >= a.cfg.Smoothing.Window {
			due = append(due, k)
		}
	}
	a.mu.Unlock()
	if len(due) == 0 {
		return nil
	}
	slices.Sort(due)
	win := a.cloneWindows()
	st := newStepStats()
	err := a.j.Update(func(tx *journal.Tx) error {
		for _, k := range due {
			if w := win[k]; w != nil {
				if err := a.closeWindow(tx, win, st, w); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.setWindows(win)
	a.applyStats(st)
	return nil
}

// sensorEvent builds the ObjectEvent of one sensor sample.
func (a *Agent) sensorEvent(t decode.Topic, s decode.Sample) (ev epcis.Event, ctx epcis.Context, unmapped bool, err error) {
	site := a.cfg.Sites[t.Site]
	sc, ok := site.Sensors[t.Device]
	if !ok {
		unmapped = true
		if a.cfg.Unmapped == UnmappedDeadLetter {
			return nil, nil, true, &decode.Error{Reason: decode.ReasonUnmapped,
				Msg: fmt.Sprintf("sensor %s/%s has no mapping in the edge configuration (sites.%s.sensors) and unmapped is %s", t.Site, t.Device, t.Site, UnmappedDeadLetter)}
		}
		sc = Sensor{ReadPoint: syntheticLocation(t.Site, "sensor", t.Device), BizLocation: site.Location}
	}
	if sc.ReadPoint == "" {
		sc.ReadPoint = site.Location
	}
	if sc.ReadPoint == "" {
		sc.ReadPoint = syntheticLocation(t.Site, "sensor", t.Device)
	}
	if sc.DeviceID == "" {
		sc.DeviceID = syntheticLocation(t.Site, "sensor", t.Device)
	}
	var reports []epcis.SensorReport
	if s.Temperature != nil {
		reports = append(reports, epcis.SensorReport{Type: "gs1:Temperature", Value: *s.Temperature, UOM: "CEL"})
	}
	if s.Humidity != nil {
		reports = append(reports, epcis.SensorReport{Type: "gs1:RelativeHumidity", Value: *s.Humidity, UOM: "A93"})
	}
	if len(reports) == 0 {
		return nil, nil, unmapped, fmt.Errorf("sample has no measurement")
	}
	ext := map[string]any{"tg:sensor": t.Site + "/" + t.Device}
	if s.Battery != nil {
		ext["tg:battery"] = *s.Battery
	}
	if !s.DeviceClock {
		ext["tg:timeSource"] = "edge"
	}
	if s.SourceUnit != "" && s.Temperature != nil {
		ext["tg:sourceUnit"] = s.SourceUnit
		if s.SourceTemperature != nil {
			ext["tg:sourceTemperature"] = *s.SourceTemperature
		}
	}
	if unmapped {
		ext["tg:unmapped"] = true
	}
	ev = withContext(epcis.NewObjectEvent(epcis.ObjectEventFields{
		Action:      "OBSERVE",
		EPCs:        sc.EPCs,
		Time:        s.Time,
		BizStep:     "sensor_reporting",
		ReadPoint:   sc.ReadPoint,
		BizLocation: sc.BizLocation,
		Sensor:      &epcis.SensorElement{Time: s.Time, DeviceID: sc.DeviceID, Reports: reports},
		Extensions:  ext,
	}))
	return ev, edgeContext, unmapped, nil
}

// countStatus counts reader status messages (vendor events that are not
// tag reads); they are not stored and not dead letters.
func (a *Agent) countStatus(sts []decode.Status) {
	for _, s := range sts {
		a.m.status.WithLabelValues(s.Vendor, s.Type).Inc()
	}
}
