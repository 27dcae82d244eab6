package coldchain

import "time"

// StuckRule says when a sensor is stuck: it reports exactly the same
// values (temperature and humidity, absent equals absent) for at least
// MinReadings consecutive readings spanning at least MinSpan (from the
// first to the last of them). Zero fields take the defaults, 12 readings
// and one hour. A stuck sensor is a fault flag, not an excursion; it
// recovers at the first reading whose values differ.
type StuckRule struct {
	MinReadings int
	MinSpan     time.Duration
}

// Default stuck rule.
const (
	DefaultStuckReadings = 12
	DefaultStuckSpan     = time.Hour
)

func (r StuckRule) withDefaults() StuckRule {
	if r.MinReadings <= 0 {
		r.MinReadings = DefaultStuckReadings
	}
	if r.MinSpan <= 0 {
		r.MinSpan = DefaultStuckSpan
	}
	return r
}

// StuckPeriod is a period during which a sensor was stuck.
type StuckPeriod struct {
	Sensor string
	// Start is the first reading of the identical run, Detected the reading
	// at which the rule was met, End the last identical reading.
	Start, Detected, End time.Time
	Readings             int // identical readings in the run
	TempC, Humidity      *float64
	// Open reports that the sensor was still stuck at its last reading.
	Open bool
}

// Stuck returns the periods during which one sensor was stuck, after
// normalising its readings (see Normalise). Readings without any value
// are ignored.
func Stuck(sensor string, rs []Reading, rule StuckRule) []StuckPeriod {
	var out []StuckPeriod
	var st stuckState
	var cur *StuckPeriod
	for _, r := range Normalise(rs) {
		switch st.feed(r, rule.withDefaults()) {
		case stuckStarted:
			cur = &StuckPeriod{Sensor: sensor, Start: st.first, Detected: r.At, TempC: r.TempC, Humidity: r.Humidity}
		case stuckRecovered:
			out = append(out, *cur)
			cur = nil
		}
		if cur != nil && st.stuck {
			cur.End, cur.Readings = r.At, st.count
		}
	}
	if cur != nil {
		cur.Open = true
		out = append(out, *cur)
	}
	return out
}

type stuckEvent int

const (
	stuckNone stuckEvent = iota
	stuckStarted
	stuckRecovered
)

// signature is a reading's values, compared exactly.
type signature struct {
	hasT, hasH bool
	t, h       float64
}

func signatureOf(r Reading) (signature, bool) {
	var s signature
	if r.TempC != nil {
		s.hasT, s.t = true, *r.TempC
	}
	if r.Humidity != nil {
		s.hasH, s.h = true, *r.Humidity
	}
	return s, s.hasT || s.hasH
}

// stuckState is the stuck rule's state machine over one sensor's
// readings in time order.
type stuckState struct {
	sig   signature
	count int
	first time.Time
	stuck bool
}

func (s *stuckState) feed(r Reading, rule StuckRule) stuckEvent {
	sig, ok := signatureOf(r)
	if !ok {
		return stuckNone
	}
	ev := stuckNone
	if s.count > 0 && sig == s.sig {
		s.count++
	} else {
		if s.stuck {
			ev = stuckRecovered
			s.stuck = false
		}
		s.sig, s.count, s.first = sig, 1, r.At
	}
	if !s.stuck && s.count >= rule.MinReadings && r.At.Sub(s.first) >= rule.MinSpan {
		s.stuck = true
		ev = stuckStarted
	}
	return ev
}
