// Package decode turns device MQTT messages into readings: RFID tag reads,
// sensor samples and EPCIS events from handheld scanners. It knows payload
// formats and topic layouts, nothing about storage.
//
// Every problem is reported, never skipped: a message that cannot be read at
// all returns an *Error; one bad element of an array payload becomes a
// Reject with its index while the good elements are kept.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
)

// Kinds of device on the default topic layout.
const (
	KindRFID    = "rfid"
	KindSensor  = "sensor"
	KindScanner = "scanner"
)

// Reason classes, used as metric labels and in dead letters.
const (
	ReasonTopic    = "unknown_topic"
	ReasonTooLarge = "too_large"
	ReasonJSON     = "bad_json"
	ReasonEPC      = "bad_epc"
	ReasonTime     = "bad_time"
	ReasonValue    = "bad_value"
	ReasonEPCIS    = "not_epcis"
	ReasonEmpty    = "empty"
	// ReasonImplausible: a well-formed number outside what the quantity can
	// physically be (after unit conversion), e.g. 999 °C or 120 %RH.
	ReasonImplausible = "implausible-value"
	// ReasonUnit: a sensor names a unit the edge does not know; values are
	// never converted by guessing.
	ReasonUnit = "unknown-unit"
	// ReasonFormat: a recognised vendor envelope carrying something the edge
	// does not turn into reads (Zebra TID or user-memory reports, Zebra
	// handheld dataEVT).
	ReasonFormat = "unsupported-format"
	// ReasonUnmapped: a device with no mapping in the edge configuration,
	// when the configuration says to dead-letter such readings (the edge
	// agent uses it; Decode never does).
	ReasonUnmapped = "unmapped-device"
)

// Vendor formats of RFID payloads, recorded in events as tg:format. The
// default format has no name (and adds nothing to events).
const (
	FormatDefault = ""
	FormatImpinj  = "impinj"   // Impinj IoT device interface (R700, …)
	FormatZebraFX = "zebra-fx" // Zebra FX IoT Connector data events
)

// Error is a message-level decoding failure.
type Error struct {
	Reason string // one of the Reason constants
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func errorf(reason, format string, a ...any) *Error {
	return &Error{Reason: reason, Msg: fmt.Sprintf(format, a...)}
}

// Topic is a parsed default-layout topic: tracegate/{site}/{kind}/{device}.
type Topic struct {
	Site, Kind, Device string
}

// String renders the topic back.
func (t Topic) String() string { return "tracegate/" + t.Site + "/" + t.Kind + "/" + t.Device }

// ParseTopic parses a default-layout device topic.
func ParseTopic(topic string) (Topic, error) {
	parts := strings.Split(topic, "/")
	if len(parts) != 4 || parts[0] != "tracegate" {
		return Topic{}, errorf(ReasonTopic, "topic %q is not tracegate/{site}/{rfid|sensor|scanner}/{device}", topic)
	}
	t := Topic{Site: parts[1], Kind: parts[2], Device: parts[3]}
	if t.Site == "" || t.Device == "" {
		return Topic{}, errorf(ReasonTopic, "topic %q has an empty site or device", topic)
	}
	switch t.Kind {
	case KindRFID, KindSensor, KindScanner:
	default:
		return Topic{}, errorf(ReasonTopic, "topic %q: unknown device kind %q (want rfid, sensor or scanner)", topic, t.Kind)
	}
	return t, nil
}

// Limits bound what one message may hold.
type Limits struct {
	MaxPayload int           // bytes
	MaxItems   int           // elements of an array payload
	MaxFuture  time.Duration // how far ahead of the edge clock a device time may be
	MinTime    time.Time     // earliest plausible device time
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{
	MaxPayload: 64 << 10,
	MaxItems:   1000,
	MaxFuture:  24 * time.Hour,
	MinTime:    time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
}

func (l Limits) withDefaults() Limits {
	if l.MaxPayload <= 0 {
		l.MaxPayload = DefaultLimits.MaxPayload
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultLimits.MaxItems
	}
	if l.MaxFuture <= 0 {
		l.MaxFuture = DefaultLimits.MaxFuture
	}
	if l.MinTime.IsZero() {
		l.MinTime = DefaultLimits.MinTime
	}
	return l
}

// Read is one RFID tag read.
type Read struct {
	Index       int       // element index in an array payload; -1 for the whole message
	EPC         string    // pure-identity EPC URI
	Time        time.Time // device time (edge receive time when the device sent none)
	DeviceClock bool      // Time came from the device
	Antenna     int
	RSSI        *float64 // dBm
	Format      string   // FormatDefault, FormatImpinj or FormatZebraFX
	EventNum    *int64   // Zebra FX eventNum, when the reader sent one
}

// Sample is one sensor sample; nil fields were not measured.
type Sample struct {
	Index       int // element index in an array payload; -1 for the whole message
	Time        time.Time
	DeviceClock bool
	Temperature *float64 // °C (converted when the device sent another unit)
	Humidity    *float64 // %RH
	Battery     *float64 // %
	// SourceUnit is the UN/CEFACT code of the temperature unit the device
	// sent ("FAH", "KEL") when it was converted to °C; empty for Celsius.
	SourceUnit string
	// SourceTemperature is the temperature as the device sent it, when it
	// was converted.
	SourceTemperature *float64
}

// Status is a reader status message (Impinj inventoryStatus, diagnostic,
// antennaConnected, …): not a read and not an error. It is counted, not
// stored.
type Status struct {
	Index  int    // element index in an array payload; -1 for the whole message
	Vendor string // FormatImpinj, …
	Type   string // the vendor's event type, or "unknown"
}

// ScannerEvent is an EPCIS event sent by a handheld scanner.
type ScannerEvent struct {
	Event   epcis.Event
	Context epcis.Context
}

// Reject is one element of a message that could not be used.
type Reject struct {
	Index  int // element index in an array payload; -1 for the whole message
	Reason string
	Msg    string
}

// Result is what one message held.
type Result struct {
	Reads   []Read
	Samples []Sample
	Events  []ScannerEvent
	Rejects []Reject
	Status  []Status
}

// Timed reports whether every reading carries the device's own time (EPCIS
// events always do).
func (r Result) Timed() bool {
	for _, x := range r.Reads {
		if !x.DeviceClock {
			return false
		}
	}
	for _, x := range r.Samples {
		if !x.DeviceClock {
			return false
		}
	}
	return true
}

// Decode reads the payload of a message on topic t, received at recv.
func Decode(t Topic, payload []byte, recv time.Time, lim Limits) (Result, error) {
	lim = lim.withDefaults()
	if len(payload) > lim.MaxPayload {
		return Result{}, errorf(ReasonTooLarge, "payload of %d bytes is above the %d-byte limit", len(payload), lim.MaxPayload)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return Result{}, errorf(ReasonEmpty, "empty payload")
	}
	switch t.Kind {
	case KindScanner:
		return decodeScanner(payload)
	case KindRFID, KindSensor:
		items, err := splitItems(payload, lim)
		if err != nil {
			return Result{}, err
		}
		var res Result
		for i, it := range items {
			idx := i
			if len(items) == 1 && !isArray(payload) {
				idx = -1
			}
			var err *Error
			if t.Kind == KindRFID {
				var (
					r  Read
					st *Status
				)
				r, st, err = decodeRFID(it, recv, lim)
				switch {
				case err != nil:
				case st != nil:
					st.Index = idx
					res.Status = append(res.Status, *st)
				default:
					r.Index = idx
					res.Reads = append(res.Reads, r)
				}
			} else {
				var s Sample
				s, err = decodeSample(it, recv, lim)
				if err == nil {
					s.Index = idx
					res.Samples = append(res.Samples, s)
				}
			}
			if err != nil {
				res.Rejects = append(res.Rejects, Reject{Index: idx, Reason: err.Reason, Msg: err.Msg})
			}
		}
		return res, nil
	}
	return Result{}, errorf(ReasonTopic, "unknown device kind %q", t.Kind)
}

func isArray(p []byte) bool {
	p = bytes.TrimSpace(p)
	return len(p) > 0 && p[0] == '['
}

// splitItems accepts a JSON object or an array of objects.
func splitItems(payload []byte, lim Limits) ([]json.RawMessage, error) {
	p := bytes.TrimSpace(payload)
	if !json.Valid(p) {
		return nil, errorf(ReasonJSON, "payload is not valid JSON")
	}
	switch p[0] {
	case '{':
		return []json.RawMessage{p}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(p, &items); err != nil {
			return nil, errorf(ReasonJSON, "payload array: %v", err)
		}
		if len(items) == 0 {
			return nil, errorf(ReasonEmpty, "payload is an empty array")
		}
		if len(items) > lim.MaxItems {
			return nil, errorf(ReasonTooLarge, "payload has %d elements, above the limit of %d", len(items), lim.MaxItems)
		}
		return items, nil
	}
	return nil, errorf(ReasonJSON, "payload must be a JSON object or an array of objects")
}

// object decodes a JSON object keeping numbers exact.
func object(raw json.RawMessage) (map[string]any, *Error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, errorf(ReasonJSON, "element is not a JSON object")
	}
	return m, nil
}

// ParseTime reads a device timestamp: an RFC 3339 string with a zone, or a
// number of milliseconds since the Unix epoch. An ISO 8601 offset without
// a colon ("+0000", as Zebra FX readers send) is accepted too.
func ParseTime(v any, recv time.Time, lim Limits) (time.Time, bool, *Error) {
	return parseTimeField("ts", v, recv, lim)
}

// zoneNoColon is ISO 8601 with a basic-format offset ("+0100", or "Z");
// fractional seconds are accepted after the seconds when parsing.
const zoneNoColon = "2006-01-02T15:04:05Z0700"

func parseTimeField(key string, v any, recv time.Time, lim Limits) (time.Time, bool, *Error) {
	lim = lim.withDefaults()
	var t time.Time
	switch x := v.(type) {
	case nil:
		return recv.UTC(), false, nil
	case string:
		var err error
		t, err = time.Parse(time.RFC3339Nano, x)
		if err != nil {
			t, err = time.Parse(zoneNoColon, x)
		}
		if err != nil {
			return time.Time{}, false, errorf(ReasonTime, "%s %q is not an RFC 3339 time with a zone (e.g. 2026-11-25T10:00:00.000Z)", key, truncate(x, 80))
		}
	case json.Number:
		ms, err := x.Int64()
		if err != nil {
			return time.Time{}, false, errorf(ReasonTime, "%s %s is not a whole number of milliseconds since 1970", key, truncate(x.String(), 40))
		}
		t = time.UnixMilli(ms)
	default:
		return time.Time{}, false, errorf(ReasonTime, "%s must be an RFC 3339 string or epoch milliseconds, not %s", key, describe(v))
	}
	if t.Before(lim.MinTime) {
		return time.Time{}, false, errorf(ReasonTime, "%s %s is before %s: the device clock is not set", key, t.UTC().Format(time.RFC3339), lim.MinTime.Format("2006-01-02"))
	}
	if t.After(recv.Add(lim.MaxFuture)) {
		return time.Time{}, false, errorf(ReasonTime, "%s %s is more than %s ahead of the edge clock", key, t.UTC().Format(time.RFC3339), lim.MaxFuture)
	}
	return t.UTC(), true, nil
}

// number reads an optional finite number field.
func number(m map[string]any, key string) (*float64, *Error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, errorf(ReasonValue, "%s must be a number, not %s", key, describe(v))
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, errorf(ReasonValue, "%s %s is not a finite number", key, truncate(n.String(), 40))
	}
	return &f, nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null or absent"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// ParseEPC reads an EPC from a reader: SGTIN-96/SSCC-96/SGLN-96 hex, an
// EPC URI (pure identity or tag URI), or a GS1 Digital Link URI of one
// instance (a 2D code read by a handheld), whose check digits are
// verified. It returns the pure-identity URI, or the canonical Digital
// Link URI for Digital Link input (EPCIS 2.0 accepts both in epcList).
func ParseEPC(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("epc is empty")
	}
	if low := strings.ToLower(s); strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "http://") {
		dl, err := epc.ParseDigitalLink(s)
		if err != nil {
			return "", err
		}
		if (dl.GTIN == "" || dl.Serial == "") && dl.SSCC == "" && dl.GIAI == "" && dl.GRAI == "" && dl.GLN == "" {
			return "", fmt.Errorf("%s names no single item (want /01/{gtin}/21/{serial}, /00/{sscc}, /8003/, /8004/ or /414/)", dl.Path())
		}
		return dl.URI(epc.DefaultDigitalLinkBase), nil
	}
	var (
		e   epc.EPC
		err error
	)
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		e, err = epc.ParseURI(s)
	} else {
		e, err = epc.DecodeHex(s)
	}
	if err != nil {
		return "", err
	}
	return e.URI(), nil
}

// decodeRFID decodes one element of an RFID payload, recognising the
// vendor format by its shape: Impinj IoT device interface events carry
// eventType or tagInventoryEvent, Zebra FX IoT Connector events a data
// object; anything else is the default {"epc","ts","antenna","rssi"}. It
// returns a read, or a reader status message (not a read), or an error.
func decodeRFID(raw json.RawMessage, recv time.Time, lim Limits) (Read, *Status, *Error) {
	m, jerr := object(raw)
	if jerr != nil {
		return Read{}, nil, jerr
	}
	_, hasET := m["eventType"]
	_, hasTIE := m["tagInventoryEvent"]
	if hasET || hasTIE {
		return decodeImpinj(m, recv, lim)
	}
	if _, ok := m["data"]; ok {
		if _, own := m["epc"]; !own {
			r, err := decodeZebraFX(m, recv, lim)
			return r, nil, err
		}
	}
	r, err := decodeDefaultRead(m, recv, lim)
	return r, nil, err
}

func decodeDefaultRead(m map[string]any, recv time.Time, lim Limits) (Read, *Error) {
	s, ok := m["epc"].(string)
	if !ok {
		return Read{}, errorf(ReasonEPC, "read has no epc string")
	}
	r, err := readEPC("epc", s)
	if err != nil {
		return Read{}, err
	}
	if r.Time, r.DeviceClock, err = ParseTime(m["ts"], recv, lim); err != nil {
		return Read{}, err
	}
	if r.Antenna, err = antenna(m, "antenna"); err != nil {
		return Read{}, err
	}
	if r.RSSI, err = rssi(m, "rssi", 1); err != nil {
		return Read{}, err
	}
	return r, nil
}

// readEPC starts a read from an EPC string.
func readEPC(key, s string) (Read, *Error) {
	uri, err := ParseEPC(s)
	if err != nil {
		return Read{}, errorf(ReasonEPC, "%s %q: %v", key, truncate(s, 80), err)
	}
	return Read{EPC: uri}, nil
}

// antenna reads an optional antenna port number 0–64.
func antenna(m map[string]any, key string) (int, *Error) {
	a, err := number(m, key)
	if err != nil || a == nil {
		return 0, err
	}
	if *a < 0 || *a > 64 || *a != math.Trunc(*a) {
		return 0, errorf(ReasonValue, "%s %v is not a port number 0–64", key, *a)
	}
	return int(*a), nil
}

// rssi reads an optional RSSI, divided by div (100 for centi-dBm), in dBm
// within -150..20.
func rssi(m map[string]any, key string, div float64) (*float64, *Error) {
	v, err := number(m, key)
	if err != nil || v == nil {
		return nil, err
	}
	d := *v / div
	if d < -150 || d > 20 {
		return nil, errorf(ReasonValue, "%s %v is %v dBm, outside -150..20", key, *v, d)
	}
	return &d, nil
}

func decodeSample(raw json.RawMessage, recv time.Time, lim Limits) (Sample, *Error) {
	m, jerr := object(raw)
	if jerr != nil {
		return Sample{}, jerr
	}
	t, dev, terr := ParseTime(m["ts"], recv, lim)
	if terr != nil {
		return Sample{}, terr
	}
	s := Sample{Time: t, DeviceClock: dev}
	unit, uerr := temperatureUnit(m)
	if uerr != nil {
		return Sample{}, uerr
	}
	for _, f := range []struct {
		key      string
		dst      **float64
		min, max float64
		unit     string
	}{
		{"temperature", &s.Temperature, MinCelsius, MaxCelsius, "°C"},
		{"humidity", &s.Humidity, 0, 100, "%RH"},
		{"battery", &s.Battery, 0, 100, "%"},
	} {
		v, err := number(m, f.key)
		if err != nil {
			return Sample{}, err
		}
		if v != nil && f.key == "temperature" && unit.code != "CEL" {
			src := *v
			c := unit.toCelsius(src)
			if math.IsInf(c, 0) || math.IsNaN(c) {
				return Sample{}, errorf(ReasonValue, "temperature %v %s is not a finite number of °C", src, unit.code)
			}
			v = &c
			s.SourceUnit, s.SourceTemperature = unit.code, &src
		}
		if v != nil && (*v < f.min || *v > f.max) {
			shown := fmt.Sprintf("%v %s", *v, f.unit)
			if s.SourceTemperature != nil && f.key == "temperature" {
				shown = fmt.Sprintf("%v %s (%v °C)", *s.SourceTemperature, s.SourceUnit, *v)
			}
			return Sample{}, errorf(ReasonImplausible, "%s %s is outside the plausible range %v..%v %s", f.key, shown, f.min, f.max, f.unit)
		}
		*f.dst = v
	}
	if s.Temperature == nil && s.Humidity == nil {
		return Sample{}, errorf(ReasonValue, "sample has neither temperature nor humidity")
	}
	return s, nil
}

func decodeScanner(payload []byte) (Result, error) {
	doc, err := epcis.ParseDocument(payload)
	if err != nil {
		return Result{}, errorf(ReasonEPCIS, "scanner payload is not an EPCIS 2.0 event or document: %v", err)
	}
	var res Result
	for _, e := range doc.Events {
		res.Events = append(res.Events, ScannerEvent{Event: e, Context: doc.Context})
	}
	if len(res.Events) == 0 {
		return Result{}, errorf(ReasonEmpty, "EPCIS document holds no events")
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
