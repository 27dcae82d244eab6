package epcis

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// ObjectEventFields are the parts of an ObjectEvent the edge fills in from
// device readings.
type ObjectEventFields struct {
	Action string   // ADD, OBSERVE or DELETE
	EPCs   []string // epcList; empty for a sensor-only observation
	Time   time.Time
	// TZOffset is eventTimeZoneOffset ("+01:00"); empty means the offset
	// of Time's location.
	TZOffset    string
	BizStep     string // CBV short name ("receiving") or a URI
	Disposition string // CBV short name ("in_transit") or a URI
	ReadPoint   string // readPoint id (an SGLN or other URI)
	BizLocation string // bizLocation id
	Sensor      *SensorElement
	// Extensions are added as top-level members; keys are compact IRIs
	// such as "tg:reader" (prefix "tg" bound to Namespace) or full IRIs.
	Extensions map[string]any
}

// SensorElement is one sensorElementList entry: metadata and reports.
type SensorElement struct {
	Time     time.Time // sensorMetadata.time; zero to omit
	DeviceID string    // sensorMetadata.deviceID; empty to omit
	Reports  []SensorReport
}

// SensorReport is one sensor report.
type SensorReport struct {
	// Type is the measurement type: a GS1 term ("Temperature",
	// "gs1:Temperature" or https://gs1.org/voc/Temperature) or another URI.
	Type  string
	Value float64
	// UOM is the UN/CEFACT unit code ("CEL", "A93", "P1" …).
	UOM string
	// Exception is ALARM_CONDITION or ERROR_CONDITION when set.
	Exception string
	// Time is the report's own time; zero to omit.
	Time time.Time
}

// NewObjectEvent builds the JSON-LD form of an ObjectEvent. Without EPCs
// and with sensor data it is a sensor-only observation as in GS1's sensor
// examples (no epcList, readPoint required by the schema); without either
// it has an empty epcList. eventTime is written in UTC with millisecond
// precision (rounded), so the hash never has to round it.
//
// GS1 measurement types and sensor alert types are written as the bare
// terms of the standard context ("Temperature"), the form GS1's examples
// use, whatever form they are given in: the CBV 2.0 hash then reads them
// as https://gs1.org/voc/Temperature, as it does in XML, whereas the
// reference hashes a JSON "gs1:Temperature" as written.
//
// The event is in the form a JSON round trip gives (numbers as
// json.Number), so Hash sees the same event before and after storage.
func NewObjectEvent(f ObjectEventFields) Event {
	// The event is built in decoded-JSON form straight away; only the
	// extension values, which may be any Go values, are normalised. When
	// one cannot be (or a sensor value is NaN or infinite), the event is
	// built as given instead (see newObjectEventAsGiven).
	e := objectEventBase(f)
	if f.Sensor != nil {
		el, ok := f.Sensor.jsonLD(true)
		if !ok {
			return newObjectEventAsGiven(f)
		}
		e["sensorElementList"] = []any{el}
	}
	for k, v := range f.Extensions {
		if _, taken := e[k]; !taken {
			n, err := normalizeJSON(v, 1)
			if err != nil {
				return newObjectEventAsGiven(f)
			}
			e[k] = n
		}
	}
	return e
}

// objectEventBase is the event without sensor data and extensions.
func objectEventBase(f ObjectEventFields) Event {
	e := make(Event, 10+len(f.Extensions))
	e["type"] = "ObjectEvent"
	e["eventTime"] = formatEventTime(f.Time)
	e["eventTimeZoneOffset"] = tzOffset(f.Time, f.TZOffset)
	e["action"] = f.Action
	switch {
	case len(f.EPCs) > 0:
		l := make([]any, len(f.EPCs))
		for i, s := range f.EPCs {
			l[i] = s
		}
		e["epcList"] = l
	case f.Sensor == nil || f.ReadPoint == "":
		e["epcList"] = []any{}
	}
	if f.BizStep != "" {
		e["bizStep"] = f.BizStep
	}
	if f.Disposition != "" {
		e["disposition"] = f.Disposition
	}
	if f.ReadPoint != "" {
		e["readPoint"] = map[string]any{"id": f.ReadPoint}
	}
	if f.BizLocation != "" {
		e["bizLocation"] = map[string]any{"id": f.BizLocation}
	}
	return e
}

// newObjectEventAsGiven is NewObjectEvent for fields JSON cannot hold
// (NaN, channels …): the event is normalised if it can be, and otherwise
// returned as built, for Hash to report the problem.
func newObjectEventAsGiven(f ObjectEventFields) Event {
	e := objectEventBase(f)
	if f.Sensor != nil {
		el, _ := f.Sensor.jsonLD(false)
		e["sensorElementList"] = []any{el}
	}
	for k, v := range f.Extensions {
		if _, taken := e[k]; !taken {
			e[k] = v
		}
	}
	norm, err := normalizeJSON(map[string]any(e), 0)
	if err != nil {
		return e
	}
	return Event(norm.(map[string]any))
}

// jsonLD returns the sensorElementList entry. With asJSON the report
// values are json.Numbers as encoding/json writes them (ok is false if one
// has no JSON form: NaN or an infinity); otherwise they are float64s.
func (s *SensorElement) jsonLD(asJSON bool) (el map[string]any, ok bool) {
	el = map[string]any{}
	md := map[string]any{}
	if !s.Time.IsZero() {
		md["time"] = formatEventTime(s.Time)
	}
	if s.DeviceID != "" {
		md["deviceID"] = s.DeviceID
	}
	if len(md) > 0 {
		el["sensorMetadata"] = md
	}
	reps := make([]any, 0, len(s.Reports))
	for _, r := range s.Reports {
		var value any = r.Value
		if asJSON {
			n, ok := jsonFloat(r.Value)
			if !ok {
				return nil, false
			}
			value = n
		}
		rep := map[string]any{"type": gs1Term(r.Type, measurementTerms), "value": value}
		if r.UOM != "" {
			rep["uom"] = r.UOM
		}
		if r.Exception != "" {
			rep["exception"] = gs1Term(r.Exception, alertTerms)
		}
		if !r.Time.IsZero() {
			rep["time"] = formatEventTime(r.Time)
		}
		reps = append(reps, rep)
	}
	el["sensorReport"] = reps
	return el, true
}

// jsonFloat writes f as encoding/json writes a float64: shortest digits,
// exponent form below 1e-6 and from 1e21 on, exponents without a leading
// zero. NaN and the infinities have no JSON form.
func jsonFloat(f float64) (json.Number, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	var buf [32]byte
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(buf[:0], f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return json.Number(b), true
}

// gs1Term writes a GS1 vocabulary value as its bare standard-context term
// when it is one.
func gs1Term(v string, terms map[string]string) string {
	for _, p := range []string{"gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/"} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			if _, known := terms[rest]; known {
				return rest
			}
		}
	}
	return v
}

// formatEventTime writes t in UTC with milliseconds, rounded half up.
func formatEventTime(t time.Time) string {
	return t.Round(time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
}

// tzOffset returns the given offset or t's own, as "+hh:mm".
func tzOffset(t time.Time, given string) string {
	if given != "" {
		return given
	}
	_, off := t.Zone()
	b := make([]byte, 1, 8)
	b[0] = '+'
	if off < 0 {
		b[0] = '-'
		off = -off
	}
	b = appendPadded2(b, off/3600)
	b = append(b, ':')
	b = appendPadded2(b, off%3600/60)
	return string(b)
}

// appendPadded2 appends v >= 0 as fmt's %02d writes it.
func appendPadded2(b []byte, v int) []byte {
	if v < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(v), 10)
}
