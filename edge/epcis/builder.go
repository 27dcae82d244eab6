package epcis

import (
	"fmt"
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
	e := Event{
		"type":                "ObjectEvent",
		"eventTime":           formatEventTime(f.Time),
		"eventTimeZoneOffset": tzOffset(f.Time, f.TZOffset),
		"action":              f.Action,
	}
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
	if f.Sensor != nil {
		e["sensorElementList"] = []any{f.Sensor.jsonLD()}
	}
	for k, v := range f.Extensions {
		if _, taken := e[k]; !taken {
			e[k] = v
		}
	}
	norm, err := normalizeJSON(map[string]any(e), 0)
	if err != nil {
		// Only extension values that JSON cannot hold (NaN, channels …)
		// get here; the event stays as built and Hash reports them.
		return e
	}
	return Event(norm.(map[string]any))
}

func (s *SensorElement) jsonLD() map[string]any {
	el := map[string]any{}
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
		rep := map[string]any{"type": gs1Term(r.Type, measurementTerms), "value": r.Value}
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
	return el
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
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}
