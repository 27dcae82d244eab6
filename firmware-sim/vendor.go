package sim

import "time"

// Vendor payload formats of RFID readers (Device.Format and
// ReaderMap.Format).
const (
	// FormatImpinj is the Impinj IoT device interface (R700 …): one JSON
	// object per MQTT message, a tagInventory event per read, and now and
	// then an inventoryStatus event that is not a read.
	FormatImpinj = "impinj"
	// FormatZebraFX is the Zebra FX IoT Connector (FX7500, FX9600 …): one
	// tag report object, or an array of them, with an eventNum increasing
	// per reader.
	FormatZebraFX = "zebra-fx"
)

// ImpinjEvent is one Impinj IoT device interface event.
type ImpinjEvent struct {
	Timestamp            string                 `json:"timestamp"` // RFC 3339, nanoseconds, UTC
	Hostname             string                 `json:"hostname"`
	EventType            string                 `json:"eventType"` // tagInventory | inventoryStatus
	TagInventoryEvent    *ImpinjTagInventory    `json:"tagInventoryEvent,omitempty"`
	InventoryStatusEvent *ImpinjInventoryStatus `json:"inventoryStatusEvent,omitempty"`
}

// ImpinjTagInventory is a tag read.
type ImpinjTagInventory struct {
	EPCHex            string `json:"epcHex"` // upper-case hex
	AntennaPort       int    `json:"antennaPort"`
	AntennaName       string `json:"antennaName"`
	PeakRSSICdbm      int    `json:"peakRssiCdbm"` // dBm × 100
	Frequency         int    `json:"frequency"`    // kHz
	TransmitPowerCdbm int    `json:"transmitPowerCdbm"`
	LastSeenTime      string `json:"lastSeenTime"` // RFC 3339, microseconds, UTC
}

// ImpinjInventoryStatus reports the reader's inventory state.
type ImpinjInventoryStatus struct {
	InventoryStatus string `json:"inventoryStatus"` // running, idle …
}

// ZebraEvent is one Zebra FX IoT Connector tag report.
type ZebraEvent struct {
	Data      ZebraData `json:"data"`
	Timestamp string    `json:"timestamp"` // 2026-11-25T10:00:00.123+0000
	Type      string    `json:"type"`      // SIMPLE
}

// ZebraData is the body of a Zebra tag report.
type ZebraData struct {
	EventNum int     `json:"eventNum"` // increasing per reader
	Format   string  `json:"format"`   // epc
	IDHex    string  `json:"idHex"`    // lower-case hex
	Antenna  int     `json:"antenna"`
	PeakRSSI int     `json:"peakRssi"` // dBm
	Channel  float64 `json:"channel"`  // MHz
	Reads    int     `json:"reads"`
}

// ImpinjTime formats the Impinj event timestamp (nanoseconds, UTC).
func ImpinjTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// ImpinjSeenTime formats the Impinj lastSeenTime (microseconds, UTC).
func ImpinjSeenTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// ZebraTime formats the Zebra timestamp: milliseconds and a numeric
// offset without a colon.
func ZebraTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// euChannelsKHz are the four ETSI EN 302 208 high-power channels.
var euChannelsKHz = []int{865700, 866300, 866900, 867500}
