package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/coldchain"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// The cold-chain engine. A lot's exposure is joined from the sensors of
// every place and container its packs were in, over the time they were
// there (see lotExposure). When a sensor reading arrives, the lots exposed
// to it are marked dirty; a worker re-evaluates dirty lots at once from the
// store (so late and out-of-order readings count the same as timely ones),
// raises an alert when an excursion starts and when it breaches the
// product's limits, and records each excursion on the ledger once it has
// ended and the batches of its readings are anchored. The contract then
// sets the lot's status (excursion or quarantined).

// DefaultSensorInterval weighs a lone reading whose sensor has no interval
// of its own yet.
const DefaultSensorInterval = 5 * time.Minute

// maxEvidence bounds the readings an excursion record points to.
const maxEvidence = 200

type coldEngine struct {
	// stuck finds sensors that repeat one value (a fault, not an
	// excursion); keyed by sensor alone.
	stuck *coldchain.Detector
	mu    sync.Mutex
	dirty map[store.LotRef]time.Time // lot -> when the reading that dirtied it was accepted
	wake  chan struct{}
	// subject cache: lots exposed to a subject now.
	subj map[string]subjEntry
	// waiting: excursions waiting for their sensor's readings, since when.
	waiting map[string]time.Time
}

type subjEntry struct {
	lots []store.LotRef
	at   time.Time
}

const subjTTL = 2 * time.Second

func newColdEngine() *coldEngine {
	return &coldEngine{stuck: coldchain.NewDetector(coldchain.DetectorConfig{}), dirty: map[store.LotRef]time.Time{}, wake: make(chan struct{}, 1), subj: map[string]subjEntry{}}
}

func (c *coldEngine) mark(l store.LotRef, at time.Time) {
	c.mu.Lock()
	if old, ok := c.dirty[l]; !ok || at.Before(old) {
		c.dirty[l] = at
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// CompletenessGrace is how long an excursion whose goods left the
// sensor's care waits for the sensor's later readings before it is
// recorded with what arrived.
const CompletenessGrace = 10 * time.Minute

// graceOver reports whether excursion id has waited CompletenessGrace for
// its sensor's readings (the wait starts at the first call).
func (c *coldEngine) graceOver(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting == nil {
		c.waiting = map[string]time.Time{}
	}
	first, ok := c.waiting[id]
	if !ok {
		c.waiting[id] = now
		return false
	}
	return now.Sub(first) >= CompletenessGrace
}

func (c *coldEngine) take() map[store.LotRef]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirty
	c.dirty = map[store.LotRef]time.Time{}
	return d
}

// coldIngest marks the lots that new events concern: those exposed to a
// new sensor reading, and those whose packs or containers moved.
func (s *Service) coldIngest(ctx context.Context, evs []store.IndexedEvent) {
	now := s.now()
	for _, ev := range evs {
		if ev.Sensor != nil {
			s.watchSensor(ctx, ev)
			for _, subj := range ev.Sensor.Subjects {
				for _, l := range s.lotsExposedTo(subj) {
					s.cold.mark(l, now)
				}
			}
			continue
		}
		for _, l := range ev.Lots {
			s.cold.mark(l, now)
		}
		for _, id := range ev.EPCs {
			for _, l := range s.lotsUnder(id, 0) {
				s.cold.mark(l, now)
			}
		}
	}
}

// lotsExposedTo lists the lots with packs at a place, or inside a
// container, now.
func (s *Service) lotsExposedTo(subject string) []store.LotRef {
	s.cold.mu.Lock()
	e, ok := s.cold.subj[subject]
	s.cold.mu.Unlock()
	if ok && time.Since(e.at) < subjTTL {
		return e.lots
	}
	seen := map[store.LotRef]bool{}
	var out []store.LotRef
	add := func(ls []store.LotRef) {
		for _, l := range ls {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	add(s.lotsUnder(subject, 0))
	if ids, err := s.st.At(subject, 10000); err == nil {
		for _, id := range ids {
			add(s.lotsUnder(id, 0))
		}
	}
	s.cold.mu.Lock()
	s.cold.subj[subject] = subjEntry{lots: out, at: time.Now()}
	s.cold.mu.Unlock()
	return out
}

// lotsUnder lists the lots of a pack, or of the packs a container holds
// (nested).
func (s *Service) lotsUnder(id string, depth int) []store.LotRef {
	if l, err := s.st.LotOf(id); err == nil {
		return []store.LotRef{l}
	}
	if depth >= maxNesting {
		return nil
	}
	kids, err := s.st.Children(id)
	if err != nil || len(kids) == 0 {
		return nil
	}
	seen := map[store.LotRef]bool{}
	var out []store.LotRef
	for _, k := range kids {
		for _, l := range s.lotsUnder(k, depth+1) {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// runColdChain evaluates dirty lots until ctx ends. At start it marks the
// lots of every product with a storage profile, so excursions that ended
// while the gateway was down are still found and recorded.
func (s *Service) runColdChain(ctx context.Context) error {
	go s.markAllLots(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	retry := map[store.LotRef]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.cold.wake:
		case <-tick.C:
			for l, at := range retry {
				s.cold.mark(l, at)
			}
			retry = map[store.LotRef]time.Time{}
		}
		for l, at := range s.cold.take() {
			again, err := s.evaluateLot(ctx, l, at)
			if err != nil {
				s.log.Warn("cold chain: evaluate lot", "gtin", l.GTIN, "lot", l.Lot, "err", err)
			}
			if again || err != nil {
				retry[l] = at
			}
		}
	}
}

func (s *Service) markAllLots(ctx context.Context) {
	prods, err := s.led.Products(ctx, s.cfg.Reader)
	if err != nil {
		return
	}
	for _, p := range prods {
		if p.Profile == nil {
			continue
		}
		lots, err := s.led.Lots(ctx, s.cfg.Reader, p.GTIN)
		if err != nil {
			continue
		}
		for _, l := range lots {
			s.cold.mark(store.LotRef{GTIN: p.GTIN, Lot: l.Lot}, s.now())
		}
	}
}

// Stay is a span of time a lot's goods were exposed to what a subject's
// sensors measure: a place or a container.
type Stay struct {
	Subject string    `json:"subject"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to,omitzero"` // zero: still there
}

// stays derives where a lot's goods were from their custody history:
// every container span, and every place from an event there until the
// same track (the lot's own events, or one container's) shows up
// elsewhere or leaves in transit.
func stays(h []historyEvent, spans []Containment) []Stay {
	var out []Stay
	for _, c := range spans {
		out = append(out, Stay{Subject: c.Parent, From: c.From, To: c.To})
	}
	open := map[string]int{} // track -> index of its open stay
	for _, e := range h {
		if e.Rec.BizStep == "sensor_reporting" {
			continue
		}
		track := e.Via
		place := e.place()
		i, has := open[track]
		if has && (place != out[i].Subject || e.Disposition == "in_transit") {
			out[i].To = e.Rec.EventTime
			delete(open, track)
			has = false
		}
		if place == "" || e.Unmapped || e.Disposition == "in_transit" || has {
			continue
		}
		open[track] = len(out)
		out = append(out, Stay{Subject: place, From: e.Rec.EventTime})
	}
	return out
}

// Exposure is what a lot went through: where it was and every reading of
// the sensors there while it was.
type Exposure struct {
	Stays    []Stay
	Readings map[string][]coldchain.Reading // by sensor
	// Subject of each sensor (where it measured), and whether the lot is
	// still exposed to it.
	SensorSubject map[string]string
	SensorOpen    map[string]bool
	// SensorWhere is each sensor's own place (an SGLN).
	SensorWhere map[string]string
	// SensorCovered tells, for a sensor whose stays have all ended,
	// whether readings of it from after the end have arrived: only then is
	// everything it measured while the lot was there known (devices
	// deliver in order, but one device may lag behind the others).
	SensorCovered map[string]bool
}

func (s *Service) lotExposure(gtin, lot string) (Exposure, error) {
	h, spans, err := s.lotHistory(gtin, lot)
	if err != nil {
		return Exposure{}, err
	}
	x := Exposure{Stays: stays(h, spans), Readings: map[string][]coldchain.Reading{}, SensorSubject: map[string]string{}, SensorOpen: map[string]bool{}, SensorWhere: map[string]string{}, SensorCovered: map[string]bool{}}
	seen := map[[32]byte]bool{}
	// ended[sensor]: the ended stays it contributed readings through.
	ended := map[string][]Stay{}
	for _, st := range x.Stays {
		to := st.To
		if !to.IsZero() {
			to = to.Add(time.Nanosecond)
		}
		rs, err := s.st.Readings(st.Subject, st.From, to, 0)
		if err != nil {
			return x, err
		}
		for _, r := range rs {
			sensor := r.Value.Sensor
			if st.To.IsZero() {
				x.SensorOpen[sensor] = true
			} else {
				if _, ok := x.SensorOpen[sensor]; !ok {
					x.SensorOpen[sensor] = false
				}
				if es := ended[sensor]; len(es) == 0 || es[len(es)-1] != st {
					ended[sensor] = append(ended[sensor], st)
				}
			}
			x.SensorSubject[sensor] = st.Subject
			if r.Value.Where != "" {
				x.SensorWhere[sensor] = r.Value.Where
			}
			if seen[r.Hash] {
				continue
			}
			seen[r.Hash] = true
			x.Readings[sensor] = append(x.Readings[sensor], coldchain.Reading{
				Sensor: sensor, At: r.At, TempC: r.Value.TempC, Humidity: r.Value.Humidity, EventID: epcis.EventID(r.Hash),
			})
		}
	}
	// For each sensor, has it reported (on the same subject) since every
	// ended stay it measured the lot through?
	for sensor, es := range ended {
		covered := true
		for _, st := range es {
			after, err := s.st.Readings(st.Subject, st.To, time.Time{}, 200)
			if err != nil {
				return x, err
			}
			found := false
			for _, r := range after {
				if r.Value.Sensor == sensor {
					found = true
					break
				}
			}
			if !found {
				covered = false
				break
			}
		}
		x.SensorCovered[sensor] = covered
	}
	return x, nil
}

// ExcursionID is the ID the contract gives an excursion.
func ExcursionID(gtin, lot, kind, sensor string, start time.Time) string {
	h := sha256.Sum256([]byte(gtin + "\x00" + lot + "\x00" + kind + "\x00" + sensor + "\x00" + start.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:])[:32]
}

// ColdChainReport is a lot's cold chain: the profile, the figures, the
// excursions (recorded on the ledger or not yet) and the readings per
// sensor for charts.
type ColdChainReport struct {
	GTIN       string                         `json:"gtin"`
	Lot        string                         `json:"lot"`
	Profile    *ledger.StorageProfile         `json:"profile,omitempty"`
	Stays      []Stay                         `json:"stays"`
	Summary    coldchain.Summary              `json:"summary"`
	Readings   map[string][]coldchain.Reading `json:"readings,omitempty"`
	Recorded   []ledger.Excursion             `json:"recorded"`
	Pending    []string                       `json:"pending,omitempty"` // IDs of excursions not yet on the ledger
	Evaluated  time.Time                      `json:"evaluated"`
	SensorSite map[string]string              `json:"sensorSubjects,omitempty"`
}

// ColdChain reports a lot's cold chain.
func (s *Service) ColdChain(ctx context.Context, gtin, lot string, withReadings bool) (ColdChainReport, error) {
	rep := ColdChainReport{GTIN: gtin, Lot: lot, Evaluated: s.now().UTC(), Recorded: []ledger.Excursion{}}
	prod, err := s.led.Product(ctx, s.cfg.Reader, gtin)
	if err != nil {
		return rep, fromLedger("cannot read the product from the ledger", err)
	}
	rep.Profile = prod.Profile
	x, err := s.lotExposure(gtin, lot)
	if err != nil {
		return rep, errf(KindUnavailable, "cannot read the lot's exposure", "%w", err)
	}
	rep.Stays, rep.SensorSite = x.Stays, x.SensorSubject
	if prod.Profile != nil {
		rep.Summary = coldchain.Summarise(*prod.Profile, x.Readings, DefaultSensorInterval)
	}
	if withReadings {
		rep.Readings = x.Readings
	}
	if rec, err := s.led.Excursions(ctx, s.cfg.Reader, gtin, lot); err == nil {
		rep.Recorded = rec
	}
	have := map[string]bool{}
	for _, e := range rep.Recorded {
		have[e.ID] = true
	}
	for _, e := range rep.Summary.Excursions {
		if id := ExcursionID(gtin, lot, e.Kind, e.Sensor, e.Start); !have[id] {
			rep.Pending = append(rep.Pending, id)
		}
	}
	return rep, nil
}

// evaluateLot re-evaluates one lot: alerts for new excursions and
// breaches, ledger records for ended ones. again asks for another look
// soon (an excursion waits for its readings' anchors, or is still open).
func (s *Service) evaluateLot(ctx context.Context, l store.LotRef, trigger time.Time) (again bool, err error) {
	prod, err := s.led.Product(ctx, s.cfg.Reader, l.GTIN)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if prod.Profile == nil {
		return false, nil
	}
	lotRec, found, err := s.lotRecord(ctx, l)
	if err != nil {
		return false, err
	}
	if !found {
		return false, nil
	}
	x, err := s.lotExposure(l.GTIN, l.Lot)
	if err != nil {
		return false, err
	}
	sum := coldchain.Summarise(*prod.Profile, x.Readings, DefaultSensorInterval)
	if len(sum.Excursions) == 0 {
		return false, nil
	}
	recorded, err := s.led.Excursions(ctx, s.cfg.Reader, l.GTIN, l.Lot)
	if err != nil {
		return true, err
	}
	have := map[string]bool{}
	for _, e := range recorded {
		have[e.ID] = true
	}
	sites := s.sites(ctx)
	for _, e := range sum.Excursions {
		id := ExcursionID(l.GTIN, l.Lot, e.Kind, e.Sensor, e.Start)
		subject := x.SensorSubject[e.Sensor]
		site := ""
		if _, ok := sites[siteOf(subject)]; ok {
			site = siteOf(subject)
		} else if hs := s.siteAt(ctx, l, e.Start); hs != "" {
			site = hs
		}
		// Still going, or not known to be over yet: the goods are still
		// in the sensor's care and its last reading is out of range; or
		// they left its care but its readings up to then have not all
		// arrived (waited for up to CompletenessGrace).
		open := e.Open && (x.SensorOpen[e.Sensor] || !x.SensorCovered[e.Sensor] && !s.cold.graceOver(id, s.now()))
		what := excursionWhat(e)
		if !have[id] && s.raise(ctx, Alert{
			ID: "excursion-start/" + id, Kind: AlertExcursionStart, Severity: "warning", EventTime: e.Start,
			Site: site, Orgs: []string{lotRec.Org}, GTIN: l.GTIN, Lot: l.Lot, Sensor: e.Sensor,
			Title:   fmt.Sprintf("Cold-chain excursion: %s, lot %s", prod.Name, l.Lot),
			Message: fmt.Sprintf("%s since %s (sensor %s).", what, e.Start.UTC().Format("2006-01-02 15:04:05Z"), e.Sensor),
			Link:    "/01/" + l.GTIN + "/10/" + l.Lot, Data: map[string]any{"excursionID": id, "kind": e.Kind, "peak": e.Peak, "limit": e.Limit, "start": e.Start},
		}) {
			s.m.alertDelay.Observe(s.now().Sub(trigger).Seconds())
		}
		if p := prod.Profile.MaxSingleExcursionMin; p != nil && e.Duration.Minutes() > *p {
			s.raise(ctx, Alert{
				ID: "excursion-breach/" + id, Kind: AlertExcursionBreach, Severity: "critical", EventTime: e.Start.Add(e.Duration),
				Site: site, Orgs: []string{lotRec.Org}, GTIN: l.GTIN, Lot: l.Lot, Sensor: e.Sensor,
				Title:   fmt.Sprintf("Excursion limit exceeded: %s, lot %s", prod.Name, l.Lot),
				Message: fmt.Sprintf("%s for %.0f min, more than the %.0f min allowed. Quarantine the goods.", what, e.Duration.Minutes(), *p),
				Link:    "/01/" + l.GTIN + "/10/" + l.Lot, Data: map[string]any{"excursionID": id},
			})
		}
		if have[id] {
			continue
		}
		if open {
			again = true
			continue
		}
		where := x.SensorWhere[e.Sensor]
		if strings.HasPrefix(subject, "urn:epc:id:") {
			where = subject
		}
		done, err := s.recordExcursion(ctx, l, lotRec, prod, e, id, where, site, lotMKTUpTo(x, e.End))
		if err != nil {
			s.m.excursions.WithLabelValues("error").Inc()
			return true, err
		}
		if !done {
			again = true
		}
	}
	return again, nil
}

func excursionWhat(e coldchain.Excursion) string {
	unit := "°C"
	if e.Unit == ledger.UnitPercentRH {
		unit = "%RH"
	}
	switch e.Kind {
	case ledger.ExcursionTempLow:
		return fmt.Sprintf("%.1f %s, below the %.1f %s minimum", e.Peak, unit, e.Limit, unit)
	case ledger.ExcursionHumidityHigh:
		return fmt.Sprintf("humidity %.0f %s, above the %.0f %s maximum", e.Peak, unit, e.Limit, unit)
	default:
		return fmt.Sprintf("%.1f %s, above the %.1f %s maximum", e.Peak, unit, e.Limit, unit)
	}
}

// siteAt returns the site a lot was last seen at before t.
func (s *Service) siteAt(ctx context.Context, l store.LotRef, t time.Time) string {
	steps, _, err := s.LotCustody(ctx, l.GTIN, l.Lot)
	if err != nil {
		return ""
	}
	site := ""
	for _, st := range steps {
		if st.From.After(t) {
			break
		}
		if st.Site != "" {
			site = st.Site
		}
	}
	return site
}

// recordExcursion writes an ended excursion on the ledger, as the org of
// the site where it was measured (else the lot's owner), once the batches
// of its readings are anchored. done is false while it waits for anchors.
func (s *Service) recordExcursion(ctx context.Context, l store.LotRef, lotRec ledger.Lot, prod ledger.Product, e coldchain.Excursion, id, subject, site string, lotMKT *float64) (bool, error) {
	ev := evidenceSample(e.Readings, maxEvidence)
	refs := make([]ledger.EvidenceRef, 0, len(ev))
	for _, r := range ev {
		h, err := epcis.ParseEventID(r.EventID)
		if err != nil {
			continue
		}
		rec, err := s.st.Event(h)
		if err != nil {
			return false, err
		}
		if _, err := s.st.Anchor(rec.Edge, rec.Seq); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return false, nil // not anchored yet: look again soon
			}
			return false, err
		}
		refs = append(refs, ledger.EvidenceRef{EventID: r.EventID, Edge: rec.Edge, Seq: rec.Seq})
	}
	org := lotRec.Org
	if si, ok := s.sites(ctx)[site]; ok && si.Org != "" {
		org = si.Org
	}
	ex := ledger.Excursion{
		ID: id, GTIN: l.GTIN, Lot: l.Lot, Kind: e.Kind, Sensor: e.Sensor, Location: subject,
		Start: e.Start.UTC(), End: e.End.UTC(), DurationMin: round2(e.Duration.Minutes()), PeakValue: round2(e.Peak), LimitValue: e.Limit,
		Unit: e.Unit, Readings: len(e.Readings), Evidence: refs,
	}
	if e.MKTC != nil {
		v := round2(*e.MKTC)
		ex.MKTC = &v
	}
	if lotMKT != nil {
		v := round2(*lotMKT)
		ex.LotMKTC = &v
	}
	stored, _, err := s.led.RecordExcursion(ctx, ledger.Identity{Org: org, User: s.cfg.AnchorUser}, ex)
	if err != nil {
		return false, err
	}
	s.forgetLot(l)
	s.m.excursions.WithLabelValues("recorded").Inc()
	status := "excursion"
	sev := "warning"
	if stored.Breach {
		status, sev = "quarantined", "critical"
	}
	msg := fmt.Sprintf("%s, %s to %s, %.0f min out of range (cumulative %.0f min)", excursionWhat(e),
		e.Start.UTC().Format("2006-01-02 15:04Z"), e.End.UTC().Format("15:04Z"), ex.DurationMin, stored.CumulativeMin)
	if ex.MKTC != nil {
		msg += fmt.Sprintf(", MKT %.2f °C", *ex.MKTC)
	}
	if stored.Breach {
		msg += ". Limits breached: " + stored.BreachReason + ". The lot is quarantined."
	} else {
		msg += ". Within the product's allowance; the lot is flagged."
	}
	s.raise(ctx, Alert{
		ID: "excursion-recorded/" + id, Kind: AlertExcursionRecorded, Severity: sev, EventTime: e.End,
		Site: site, Orgs: []string{lotRec.Org, org}, GTIN: l.GTIN, Lot: l.Lot, Sensor: e.Sensor,
		Title:   fmt.Sprintf("Excursion recorded on the ledger: %s, lot %s is %s", prod.Name, l.Lot, status),
		Message: msg, Link: "/01/" + l.GTIN + "/10/" + l.Lot, Data: stored,
	})
	return true, nil
}

func round2(v float64) float64 {
	if v < 0 {
		return -round2(-v)
	}
	return float64(int64(v*100+0.5)) / 100
}

// evidenceSample keeps at most n readings: the first, the peak, the last
// and evenly spaced ones between.
func evidenceSample(rs []coldchain.Reading, n int) []coldchain.Reading {
	if len(rs) <= n {
		return rs
	}
	idx := map[int]bool{0: true, len(rs) - 1: true}
	step := float64(len(rs)-1) / float64(n-2)
	for i := 0; len(idx) < n-1 && i < n; i++ {
		idx[int(float64(i)*step)] = true
	}
	keys := make([]int, 0, len(idx))
	for k := range idx {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([]coldchain.Reading, 0, len(keys))
	for _, k := range keys {
		out = append(out, rs[k])
	}
	return out
}

// watchSensor feeds a sensor reading to the stuck-sensor rule and raises
// a sensor-fault alert when the sensor is stuck.
func (s *Service) watchSensor(ctx context.Context, ev store.IndexedEvent) {
	sv := ev.Sensor
	r := coldchain.Reading{Sensor: sv.Sensor, At: ev.Record.EventTime, TempC: sv.TempC, Humidity: sv.Humidity, EventID: ev.Record.EventID}
	for _, tr := range s.cold.stuck.Feed("", r, ledger.StorageProfile{}) {
		if tr.Kind != coldchain.SensorStuck || tr.Stuck == nil {
			continue
		}
		site := ""
		if len(sv.Subjects) > 0 {
			site = siteOf(sv.Subjects[0])
		}
		val := ""
		if tr.Stuck.TempC != nil {
			val = fmt.Sprintf("%.2f °C", *tr.Stuck.TempC)
		}
		if tr.Stuck.Humidity != nil {
			if val != "" {
				val += ", "
			}
			val += fmt.Sprintf("%.1f %%RH", *tr.Stuck.Humidity)
		}
		s.raise(ctx, Alert{
			ID: "sensor-stuck/" + sv.Sensor + "/" + tr.Stuck.Start.UTC().Format(time.RFC3339Nano), Kind: AlertSensorFault, Severity: "warning",
			EventTime: tr.Stuck.Detected, Site: site, Sensor: sv.Sensor,
			Title:   "Sensor stuck: " + sv.Sensor,
			Message: fmt.Sprintf("%d identical readings (%s) since %s: the logger is probably faulty; its readings cannot show an excursion. Check or replace it.", tr.Stuck.Readings, val, tr.Stuck.Start.UTC().Format("2006-01-02 15:04Z")),
			Data:    tr.Stuck,
		})
	}
}

// lotMKTUpTo is the lot's mean kinetic temperature up to t: the highest of
// its sensors' MKTs over the readings it was exposed to until then.
func lotMKTUpTo(x Exposure, t time.Time) *float64 {
	var best *float64
	for _, rs := range x.Readings {
		var upTo []coldchain.Reading
		for _, r := range rs {
			if !r.At.After(t) {
				upTo = append(upTo, r)
			}
		}
		if m, ok := coldchain.MKT(upTo); ok && (best == nil || m > *best) {
			v := m
			best = &v
		}
	}
	return best
}
