package sim

import (
	"math"
	"time"
)

// RFIDRead is one tag read in the default format: published alone or in a
// JSON array of reads.
type RFIDRead struct {
	EPC     string  `json:"epc"` // SGTIN-96 or SSCC-96, 24 upper-case hex digits
	TS      string  `json:"ts"`  // RFC 3339 with milliseconds, UTC
	Antenna int     `json:"antenna"`
	RSSI    float64 `json:"rssi"` // dBm
}

// SensorReading is a cold-chain logger reading in the default format;
// fields a logger does not measure are left out.
type SensorReading struct {
	TS          string   `json:"ts"`
	Temperature *float64 `json:"temperature,omitempty"` // °C
	Humidity    *float64 `json:"humidity,omitempty"`    // %RH
	Battery     *int     `json:"battery,omitempty"`     // %
	// Unit is "F" when the logger reports Fahrenheit (the edge converts);
	// absent means °C.
	Unit string `json:"unit,omitempty"`
}

// EPCISContext is the JSON-LD context of EPCIS 2.0 documents and events.
const EPCISContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// ObjectEvent is the EPCIS 2.0 ObjectEvent (JSON-LD) a handheld scanner
// publishes.
type ObjectEvent struct {
	Context             []string  `json:"@context"`
	Type                string    `json:"type"`
	EventTime           string    `json:"eventTime"`
	EventTimeZoneOffset string    `json:"eventTimeZoneOffset"`
	EPCList             []string  `json:"epcList"`
	Action              string    `json:"action"`
	BizStep             string    `json:"bizStep"`
	Disposition         string    `json:"disposition"`
	ReadPoint           *Location `json:"readPoint,omitempty"`
	BizLocation         *Location `json:"bizLocation,omitempty"`
}

// Location is an EPCIS readPoint or bizLocation.
type Location struct {
	ID string `json:"id"`
}

// Timestamp formats t as the payloads do: RFC 3339, UTC, milliseconds.
func Timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// round rounds v to the given number of decimals.
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
