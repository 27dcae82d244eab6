package coldchain

import (
	"sync"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// Transition kinds reported by the Detector.
const (
	BreachStart     = "breach-start"     // a reading left the range: an excursion began
	BreachEnd       = "breach-end"       // a reading came back (or changed kind): the excursion ended
	SensorStuck     = "sensor-stuck"     // the stuck rule was met
	SensorRecovered = "sensor-recovered" // a stuck sensor's values changed
	LateExcursion   = "late-excursion"   // a late (out of order) reading was out of range
)

// Transition is a change the Detector reports.
type Transition struct {
	Kind    string
	Subject string
	Sensor  string
	At      time.Time // the time of the reading that caused it
	// Excursion is the excursion so far (breach-start: Open, Duration 0;
	// late-excursion: the lone late reading) or final (breach-end). Its
	// Readings are nil: the detector keeps no readings. Nil for the stuck
	// kinds.
	Excursion *Excursion
	// Stuck is the stuck period so far (sensor-stuck) or final
	// (sensor-recovered); nil otherwise.
	Stuck   *StuckPeriod
	Reading Reading // the reading that caused it
}

// DetectorConfig configures a Detector.
type DetectorConfig struct {
	Stuck StuckRule
}

// Detector finds excursions and stuck sensors as readings arrive, for
// alerts within seconds. It is keyed by (subject, sensor) and keeps per
// key only the last reading, the current excursion of each quantity and
// the stuck run. It is safe for concurrent use.
//
// The authoritative figures are Detect and Summarise over all stored
// readings; the Detector matches them on a stream fed in time order and:
//
//   - ignores duplicates: a reading whose EventID is among the key's last
//     few (recentIDs) or that has the last reading's time and values;
//   - does not re-evaluate on a late reading (one older than the key's
//     last): its state is unchanged, and if the late reading is out of
//     range it reports a late-excursion transition so that an excursion
//     delivered late by store and forward is still alerted;
//   - treats a reading at the same instant as the last one, with other
//     values, as in order (the previous one weighs zero; Detect shares the
//     instant's weight instead).
type Detector struct {
	mu    sync.Mutex
	rule  StuckRule
	state map[detectorKey]*sensorState
}

type detectorKey struct{ subject, sensor string }

const recentIDs = 8

type sensorState struct {
	last    Reading
	has     bool
	ids     [recentIDs]string
	next    int
	temp    runState
	hum     runState
	stuck   stuckState
	stuckAt time.Time
	stuckR  Reading
}

type runState struct {
	lastAt time.Time // the quantity's last reading
	open   bool
	ex     Excursion
	lastV  float64 // the last out-of-range value, awaiting its weight
	acc    mktAcc
}

// NewDetector returns a Detector.
func NewDetector(cfg DetectorConfig) *Detector {
	return &Detector{rule: cfg.Stuck.withDefaults(), state: map[detectorKey]*sensorState{}}
}

// Feed evaluates reading r of subject (a lot, a shipment…) from sensor
// r.Sensor under profile p and returns the transitions it causes, in
// order: breach-end before breach-start, temperature before humidity, then
// the stuck transitions.
func (d *Detector) Feed(subject string, r Reading, p ledger.StorageProfile) []Transition {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := detectorKey{subject, r.Sensor}
	s := d.state[k]
	if s == nil {
		s = &sensorState{}
		d.state[k] = s
	}
	if r.EventID != "" {
		for _, id := range s.ids {
			if id == r.EventID {
				return nil
			}
		}
	}
	if s.has {
		if r.At.Equal(s.last.At) && sameValues(r, s.last) {
			return nil
		}
		if r.At.Before(s.last.At) {
			s.remember(r.EventID)
			return late(subject, r, p)
		}
	}
	s.remember(r.EventID)
	s.last, s.has = r, true
	var out []Transition
	if v, ok := temp(r); ok {
		out = s.temp.feed(out, subject, r, v, qTemp, p)
	}
	if v, ok := humidity(r); ok {
		out = s.hum.feed(out, subject, r, v, qHumidity, p)
	}
	prev := s.stuck
	switch s.stuck.feed(r, d.rule) {
	case stuckStarted:
		s.stuckAt, s.stuckR = r.At, r
		out = append(out, Transition{Kind: SensorStuck, Subject: subject, Sensor: r.Sensor, At: r.At, Reading: r, Stuck: s.stuckPeriod(r.Sensor, s.stuck, true)})
	case stuckRecovered:
		out = append(out, Transition{Kind: SensorRecovered, Subject: subject, Sensor: r.Sensor, At: r.At, Reading: r, Stuck: s.stuckPeriod(r.Sensor, prev, false)})
	}
	if s.stuck.stuck {
		s.stuckR = r // the last identical reading, for the period's End
	}
	return out
}

func (s *sensorState) remember(id string) {
	if id == "" {
		return
	}
	s.ids[s.next] = id
	s.next = (s.next + 1) % recentIDs
}

// stuckPeriod describes the stuck run st (for a recovery, the run as it
// was before the recovering reading restarted the state).
func (s *sensorState) stuckPeriod(sensor string, st stuckState, open bool) *StuckPeriod {
	return &StuckPeriod{Sensor: sensor, Start: st.first, Detected: s.stuckAt, End: s.stuckR.At,
		Readings: st.count, TempC: s.stuckR.TempC, Humidity: s.stuckR.Humidity, Open: open}
}

func (q *runState) feed(out []Transition, subject string, r Reading, v float64, qt quantity, p ledger.StorageProfile) []Transition {
	if q.open {
		// The previous out-of-range reading weighs the time until this one.
		w := r.At.Sub(q.lastAt)
		q.ex.Duration += w
		if qt.temp {
			q.acc.add(q.lastV, w)
		}
	}
	kind, limit := qt.classify(p, v)
	if q.open && kind != q.ex.Kind {
		ex := q.ex
		ex.Open = false
		if qt.temp {
			ex.MKTC = q.acc.ptr()
		}
		out = append(out, Transition{Kind: BreachEnd, Subject: subject, Sensor: r.Sensor, At: r.At, Excursion: &ex, Reading: r})
		q.open = false
	}
	if kind != "" {
		if !q.open {
			q.open = true
			q.ex = Excursion{Kind: kind, Sensor: r.Sensor, Start: r.At, Peak: v, Limit: limit, Unit: qt.unit, Open: true}
			q.acc = mktAcc{}
			ex := q.ex
			out = append(out, Transition{Kind: BreachStart, Subject: subject, Sensor: r.Sensor, At: r.At, Excursion: &ex, Reading: r})
		}
		q.ex.End = r.At
		if further(kind, v, q.ex.Peak) {
			q.ex.Peak = v
		}
		q.lastV = v
	}
	q.lastAt = r.At
	return out
}

// late reports a late reading that is out of range.
func late(subject string, r Reading, p ledger.StorageProfile) []Transition {
	var out []Transition
	for _, qt := range []quantity{qTemp, qHumidity} {
		v, ok := qt.value(r)
		if !ok {
			continue
		}
		if kind, limit := qt.classify(p, v); kind != "" {
			ex := &Excursion{Kind: kind, Sensor: r.Sensor, Start: r.At, End: r.At, Peak: v, Limit: limit, Unit: qt.unit}
			if qt.temp {
				ex.MKTC = &v
			}
			out = append(out, Transition{Kind: LateExcursion, Subject: subject, Sensor: r.Sensor, At: r.At, Excursion: ex, Reading: r})
		}
	}
	return out
}

// Open returns the excursions of subject that are open now, sorted by
// Start: what an operator's dashboard shows as "in breach".
func (d *Detector) Open(subject string) []Excursion {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Excursion
	for k, s := range d.state {
		if k.subject != subject {
			continue
		}
		for _, q := range []*runState{&s.temp, &s.hum} {
			if q.open {
				ex := q.ex
				if q.ex.Unit == UnitCelsius {
					acc := q.acc // the last reading's weight is not known yet
					acc.add(q.lastV, 0)
					ex.MKTC = acc.ptr()
				}
				out = append(out, ex)
			}
		}
	}
	sortExcursions(out)
	return out
}

// Forget drops the state of subject's sensors (when its lot is closed).
func (d *Detector) Forget(subject string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.state {
		if k.subject == subject {
			delete(d.state, k)
		}
	}
}
