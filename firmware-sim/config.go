package sim

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"gopkg.in/yaml.v3"
)

// Device kinds, the third level of a device's topic.
const (
	KindRFID    = "rfid"
	KindSensor  = "sensor"
	KindScanner = "scanner"
)

// FormatDefault is the payload layout of DESIGN.md ("MQTT"); RFID readers
// may also use FormatImpinj or FormatZebraFX.
const FormatDefault = "tracegate"

// What a device does with a new reading when its outbox is full.
const (
	// OutboxDropNewest refuses the new reading (the default): what was
	// buffered is never overwritten.
	OutboxDropNewest = "drop-newest"
	// OutboxDropOldest overwrites the oldest reading, as a ring-buffer
	// logger does.
	OutboxDropOldest = "drop-oldest"
)

// Defaults applied to zero fields.
const (
	DefaultKeepAlive      = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultReconnectMax   = 10 * time.Second
	DefaultOutbox         = 10000
	DefaultMaxInflight    = 1
	DefaultRFIDInterval   = 20 * time.Second
	DefaultSensorInterval = 30 * time.Second
	DefaultScanInterval   = 5 * time.Second
)

// Config describes a fleet of simulated devices. Every random choice comes
// from Seed, per device, so the same Config publishes the same payload
// sequences (timestamps aside, unless a Clock fixes them too).
type Config struct {
	// Broker is host:port or tcp://host:port.
	Broker string `yaml:"broker"`
	// Seed drives all randomness.
	Seed int64 `yaml:"seed"`
	// Rate multiplies how often devices publish (2 = twice as often);
	// default 1. The simulated physics keeps using the nominal interval.
	Rate float64 `yaml:"rate"`
	// KeepAlive, ConnectTimeout and ReconnectMax (the longest wait between
	// reconnection attempts) tune every device's MQTT client.
	KeepAlive      time.Duration `yaml:"keep_alive"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	ReconnectMax   time.Duration `yaml:"reconnect_max"`
	// Outbox is how many messages a device buffers while it cannot
	// publish (default 10000); OutboxFull says what happens beyond it.
	Outbox     int    `yaml:"outbox"`
	OutboxFull string `yaml:"outbox_full"`
	// MaxInflight is how many publishes a device has awaiting PUBACK
	// (default 1). With 1 the broker receives a device's messages in
	// generation order even across reconnects. More raises throughput
	// (load tests), but then paho can put a new publish on the wire of a
	// fresh connection ahead of its re-sends, so order around a reconnect
	// is no longer guaranteed (nothing is lost either way).
	MaxInflight int `yaml:"max_inflight"`
	// Products and Lots are the tagged goods devices read.
	Products []Product `yaml:"products"`
	Lots     []Lot     `yaml:"lots"`
	Devices  []Device  `yaml:"devices"`
}

// Product is a trade item by GTIN.
type Product struct {
	// GTIN is the 14-digit GTIN with its check digit.
	GTIN string `yaml:"gtin"`
	// CompanyPrefixLength is the number of digits of the GS1 Company Prefix
	// inside the GTIN (6–12); EPC encodings need it.
	CompanyPrefixLength int    `yaml:"company_prefix_length"`
	Name                string `yaml:"name"`
}

// Lot is a production lot of a product: its serial numbers and the
// pallets (SSCC) they are shipped on.
type Lot struct {
	GTIN   string `yaml:"gtin"`
	Lot    string `yaml:"lot"`
	Expiry string `yaml:"expiry"` // YYYY-MM-DD
	// SerialFirst..SerialLast (inclusive) are the lot's serial numbers.
	SerialFirst uint64   `yaml:"serial_first"`
	SerialLast  uint64   `yaml:"serial_last"`
	Pallets     []Pallet `yaml:"pallets"`
}

// Pallet is a logistic unit of one lot.
type Pallet struct {
	// SSCC is the 18-digit SSCC with its check digit; its company prefix
	// has the product's company prefix length.
	SSCC string `yaml:"sscc"`
	// SerialFirst..SerialLast (inclusive) are the items on it.
	SerialFirst uint64 `yaml:"serial_first"`
	SerialLast  uint64 `yaml:"serial_last"`
}

// Device is one simulated device.
type Device struct {
	// ID is the device ID: its MQTT client ID, last topic level and
	// default username.
	ID       string `yaml:"id" json:"id"`
	Kind     string `yaml:"kind" json:"kind"` // rfid, sensor or scanner
	Site     string `yaml:"site" json:"site"`
	Username string `yaml:"username" json:"username,omitempty"` // default ID
	Password string `yaml:"password" json:"-"`
	// Interval between reading cycles before Rate (defaults per kind).
	Interval time.Duration `yaml:"interval" json:"interval,omitempty"`
	// Messages stops the device after publishing that many messages and
	// having them all acknowledged (0: until the fleet's context ends).
	Messages int `yaml:"messages" json:"messages,omitempty"`
	// Format is the payload layout (default FormatDefault).
	Format string `yaml:"format" json:"format,omitempty"`

	// Kind-specific settings; nil means the kind's defaults.
	RFID    *RFIDConfig    `yaml:"rfid,omitempty" json:"rfid,omitempty"`
	Sensor  *SensorConfig  `yaml:"sensor,omitempty" json:"sensor,omitempty"`
	Scanner *ScannerConfig `yaml:"scanner,omitempty" json:"scanner,omitempty"`
}

// Topic returns the device's topic, tracegate/{site}/{kind}/{id}.
func (d Device) Topic() string { return "tracegate/" + d.Site + "/" + d.Kind + "/" + d.ID }

// RFIDConfig simulates a fixed reader at a dock door: each cycle one pallet
// (its SSCC and its items) passes the portal, every tag read several times
// within a second on one or two antennas.
type RFIDConfig struct {
	// Lots whose pallets pass this portal, by lot number (default all).
	Lots []string `yaml:"lots"`
	// Antennas on the portal (default 2).
	Antennas int `yaml:"antennas"`
	// ReadsMin..ReadsMax reads of each tag per pass (default 2..6).
	ReadsMin int `yaml:"reads_min"`
	ReadsMax int `yaml:"reads_max"`
	// TagsPerPass caps the items read per pass (default 24); lots without
	// pallets pass in groups of this size.
	TagsPerPass int `yaml:"tags_per_pass"`
	// Batch publishes a pass as arrays of up to MaxBatch reads (default
	// 50) instead of one message per read.
	Batch    bool `yaml:"batch"`
	MaxBatch int  `yaml:"max_batch"`
	// ItemFilter and PalletFilter are the EPC filter values written on the
	// tags (defaults 1, point of sale item, and 6, unit load).
	ItemFilter   int `yaml:"item_filter"`
	PalletFilter int `yaml:"pallet_filter"`
}

// DefaultRFIDConfig returns the RFID settings used when a device has none;
// YAML fields not given keep these values.
func DefaultRFIDConfig() RFIDConfig {
	return RFIDConfig{Antennas: 2, ReadsMin: 2, ReadsMax: 6, TagsPerPass: 24, MaxBatch: 50, ItemFilter: 1, PalletFilter: 6}
}

// UnmarshalYAML starts from DefaultRFIDConfig.
func (c *RFIDConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain RFIDConfig
	*c = DefaultRFIDConfig()
	return n.Decode((*plain)(c))
}

// SensorConfig simulates a cold-chain logger: the air temperature follows
// a first-order thermal model towards the setpoint while the door is shut
// and towards ambient while it is open; doors open at random.
type SensorConfig struct {
	Setpoint float64 `yaml:"setpoint"` // °C the cooling holds
	Ambient  float64 `yaml:"ambient"`  // °C outside
	// TimeConstant is how fast the air follows the cooling (door shut);
	// with the door open it follows ambient four times as fast.
	TimeConstant time.Duration `yaml:"time_constant"`
	Noise        float64       `yaml:"noise"` // σ of the measurement noise, °C
	// Humidity is the mean relative humidity, %; 0 means the logger has no
	// humidity sensor (the field is left out).
	Humidity float64 `yaml:"humidity"`
	// DoorOpenChance is the probability per reading that a door opens,
	// for DoorOpenFor.
	DoorOpenChance float64       `yaml:"door_open_chance"`
	DoorOpenFor    time.Duration `yaml:"door_open_for"`
	// Battery is the starting charge, %; BatteryDrain is lost per reading.
	// A Battery of 0 leaves the field out.
	Battery      float64 `yaml:"battery"`
	BatteryDrain float64 `yaml:"battery_drain"`
	// Unit is "C" (default) or "F": a Fahrenheit logger publishes
	// {"ts", "temperature", "unit": "F"} (no humidity or battery).
	Unit string `yaml:"unit"`
	// Faults makes the logger misbehave; nil for none.
	Faults *SensorFaults `yaml:"faults,omitempty"`
}

// SensorFaults are the faults a logger can simulate. Times count from
// the logger's first reading in nominal intervals (whatever the Rate).
type SensorFaults struct {
	// CompressorFailAfter: from then on there is no cooling and the air
	// heads for Ambient with the time constant (0: never).
	CompressorFailAfter time.Duration `yaml:"compressor_fail_after"`
	// DriftPerHour is a measurement offset growing linearly, °C per hour.
	DriftPerHour float64 `yaml:"drift_per_hour"`
	// StickAfter..StickAfter+StickFor the sensor repeats its last value.
	StickAfter time.Duration `yaml:"stick_after"`
	StickFor   time.Duration `yaml:"stick_for"`
	// ClockSkew offsets the payload timestamps.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// DuplicateChance is the chance a payload is published twice (the
	// same bytes); SwapChance the chance it is published after the next.
	DuplicateChance float64 `yaml:"duplicate_chance"`
	SwapChance      float64 `yaml:"swap_chance"`
	// OfflineAfter..OfflineAfter+OfflineFor nothing is published; the
	// buffered payloads burst out in order with the next reading.
	OfflineAfter time.Duration `yaml:"offline_after"`
	OfflineFor   time.Duration `yaml:"offline_for"`
}

// DefaultSensorConfig returns a cold room at 5 °C.
func DefaultSensorConfig() SensorConfig {
	return SensorConfig{Setpoint: 5, Ambient: 22, TimeConstant: 20 * time.Minute, Noise: 0.1, Humidity: 55,
		DoorOpenChance: 0.02, DoorOpenFor: 3 * time.Minute, Battery: 100, BatteryDrain: 0.01}
}

// UnmarshalYAML starts from DefaultSensorConfig.
func (c *SensorConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain SensorConfig
	*c = DefaultSensorConfig()
	return n.Decode((*plain)(c))
}

// ScannerConfig simulates a handheld scanner: each cycle a receiving or
// picking scan of a few items, published as an EPCIS 2.0 ObjectEvent.
type ScannerConfig struct {
	Lots []string `yaml:"lots"` // default all
	// ReadPoint and BizLocation are SGLN EPC URIs (urn:epc:id:sgln:…).
	ReadPoint   string `yaml:"read_point"`
	BizLocation string `yaml:"biz_location"`
	// ItemsPerScan is the most items in one event (default 3).
	ItemsPerScan int `yaml:"items_per_scan"`
	// PickingChance is the share of picking scans; the rest are receiving.
	PickingChance float64 `yaml:"picking_chance"`
	// TimeZoneOffset is the eventTimeZoneOffset, e.g. "+01:00".
	TimeZoneOffset string `yaml:"time_zone_offset"`
}

// DefaultScannerConfig returns the scanner defaults; ReadPoint and
// BizLocation have none and must be set.
func DefaultScannerConfig() ScannerConfig {
	return ScannerConfig{ItemsPerScan: 3, PickingChance: 0.4, TimeZoneOffset: "+00:00"}
}

// UnmarshalYAML starts from DefaultScannerConfig.
func (c *ScannerConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain ScannerConfig
	*c = DefaultScannerConfig()
	return n.Decode((*plain)(c))
}

// ParseConfig reads a YAML fleet configuration and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return c, c.Validate()
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid fleet config")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// withDefaults returns c with zero fields and nil device settings filled in.
func (c Config) withDefaults() Config {
	if c.Rate == 0 {
		c.Rate = 1
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.Outbox == 0 {
		c.Outbox = DefaultOutbox
	}
	if c.OutboxFull == "" {
		c.OutboxFull = OutboxDropNewest
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	devs := make([]Device, len(c.Devices))
	for i, d := range c.Devices {
		if d.Username == "" {
			d.Username = d.ID
		}
		if d.Format == "" {
			d.Format = FormatDefault
		}
		switch d.Kind {
		case KindRFID:
			if d.Interval == 0 {
				d.Interval = DefaultRFIDInterval
			}
			if d.RFID == nil {
				r := DefaultRFIDConfig()
				d.RFID = &r
			}
		case KindSensor:
			if d.Interval == 0 {
				d.Interval = DefaultSensorInterval
			}
			if d.Sensor == nil {
				s := DefaultSensorConfig()
				d.Sensor = &s
			}
		case KindScanner:
			if d.Interval == 0 {
				d.Interval = DefaultScanInterval
			}
			if d.Scanner == nil {
				s := DefaultScannerConfig()
				d.Scanner = &s
			}
		}
		devs[i] = d
	}
	c.Devices = devs
	return c
}

// Validate reports the first problem with c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case strings.TrimPrefix(c.Broker, "tcp://") == "":
		return invalid("broker address missing")
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return invalid("rate %v must be positive", c.Rate)
	case c.KeepAlive < time.Second:
		return invalid("keep_alive %s below 1s", c.KeepAlive)
	case c.ConnectTimeout < 0 || c.ReconnectMax < 0:
		return invalid("negative connect_timeout or reconnect_max")
	case c.Outbox < 1:
		return invalid("outbox %d below 1", c.Outbox)
	case c.OutboxFull != OutboxDropNewest && c.OutboxFull != OutboxDropOldest:
		return invalid("outbox_full %q is not %q or %q", c.OutboxFull, OutboxDropNewest, OutboxDropOldest)
	case c.MaxInflight < 1 || c.MaxInflight > 65535:
		return invalid("max_inflight %d not in 1..65535", c.MaxInflight)
	}
	products := map[string]Product{}
	for _, p := range c.Products {
		if err := p.validate(); err != nil {
			return err
		}
		if _, dup := products[p.GTIN]; dup {
			return invalid("product %s listed twice", p.GTIN)
		}
		products[p.GTIN] = p
	}
	lots := map[string]bool{}
	for _, l := range c.Lots {
		p, ok := products[l.GTIN]
		if !ok {
			return invalid("lot %q: product %s not listed", l.Lot, l.GTIN)
		}
		if err := l.validate(p); err != nil {
			return err
		}
		if lots[l.Lot] {
			return invalid("lot %q listed twice", l.Lot)
		}
		lots[l.Lot] = true
	}
	ids := map[string]bool{}
	for i, d := range c.Devices {
		if err := d.validate(lots); err != nil {
			return fmt.Errorf("device %d (%s): %w", i, d.ID, err)
		}
		if ids[d.ID] {
			return invalid("device %q listed twice", d.ID)
		}
		ids[d.ID] = true
	}
	return nil
}

func (p Product) validate() error {
	if len(p.GTIN) != 14 || !epc.ValidCheckDigit(p.GTIN) {
		return invalid("product %q: GTIN must be 14 digits with a valid check digit", p.GTIN)
	}
	if p.CompanyPrefixLength < 6 || p.CompanyPrefixLength > 12 {
		return invalid("product %s: company_prefix_length %d not in 6..12", p.GTIN, p.CompanyPrefixLength)
	}
	return nil
}

func (l Lot) validate(p Product) error {
	if l.Lot == "" || len(l.Lot) > 20 {
		return invalid("lot number %q must have 1 to 20 characters", l.Lot)
	}
	if l.Expiry != "" {
		if _, err := time.Parse(time.DateOnly, l.Expiry); err != nil {
			return invalid("lot %q: expiry %q is not YYYY-MM-DD", l.Lot, l.Expiry)
		}
	}
	if l.SerialFirst > l.SerialLast {
		return invalid("lot %q: serial_first %d after serial_last %d", l.Lot, l.SerialFirst, l.SerialLast)
	}
	for _, s := range []uint64{l.SerialFirst, l.SerialLast} {
		if _, err := itemHex(p, s, 1); err != nil {
			return invalid("lot %q: serial %d has no SGTIN-96: %v", l.Lot, s, err)
		}
	}
	for _, pl := range l.Pallets {
		if pl.SerialFirst > pl.SerialLast || pl.SerialFirst < l.SerialFirst || pl.SerialLast > l.SerialLast {
			return invalid("lot %q: pallet %s serials %d..%d outside the lot's", l.Lot, pl.SSCC, pl.SerialFirst, pl.SerialLast)
		}
		if len(pl.SSCC) != 18 || !epc.ValidCheckDigit(pl.SSCC) {
			return invalid("lot %q: SSCC %q must be 18 digits with a valid check digit", l.Lot, pl.SSCC)
		}
		if _, err := palletHex(pl.SSCC, p.CompanyPrefixLength, 0); err != nil {
			return invalid("lot %q: SSCC %s has no SSCC-96: %v", l.Lot, pl.SSCC, err)
		}
	}
	return nil
}

func validLevel(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/+#") && !strings.HasPrefix(s, "$")
}

func (d Device) validate(lots map[string]bool) error {
	if !validLevel(d.ID) || !validLevel(d.Site) {
		return invalid("id and site must be non-empty topic levels without / + # or a leading $")
	}
	if d.Interval <= 0 {
		return invalid("interval %s must be positive", d.Interval)
	}
	if d.Messages < 0 {
		return invalid("messages %d is negative", d.Messages)
	}
	if d.Format != FormatDefault && !(d.Kind == KindRFID && (d.Format == FormatImpinj || d.Format == FormatZebraFX)) {
		return invalid("format %q not supported for a %s (rfid: %q, %q or %q; sensor and scanner: %q)", d.Format, d.Kind, FormatDefault, FormatImpinj, FormatZebraFX, FormatDefault)
	}
	checkLots := func(names []string) error {
		for _, n := range names {
			if !lots[n] {
				return invalid("lot %q not listed", n)
			}
		}
		if len(lots) == 0 {
			return invalid("a %s needs lots to read", d.Kind)
		}
		return nil
	}
	switch d.Kind {
	case KindRFID:
		r := d.RFID
		switch {
		case r.Antennas < 1 || r.Antennas > 64:
			return invalid("antennas %d not in 1..64", r.Antennas)
		case r.ReadsMin < 1 || r.ReadsMax < r.ReadsMin || r.ReadsMax > 100:
			return invalid("reads %d..%d: need 1 <= reads_min <= reads_max <= 100", r.ReadsMin, r.ReadsMax)
		case r.TagsPerPass < 1:
			return invalid("tags_per_pass %d below 1", r.TagsPerPass)
		case r.MaxBatch < 1:
			return invalid("max_batch %d below 1", r.MaxBatch)
		case r.ItemFilter < 0 || r.ItemFilter > 7 || r.PalletFilter < 0 || r.PalletFilter > 7:
			return invalid("filter values must be 0..7")
		}
		return checkLots(r.Lots)
	case KindSensor:
		s := d.Sensor
		switch {
		case s.TimeConstant <= 0:
			return invalid("time_constant must be positive")
		case s.Noise < 0 || s.Noise > 10:
			return invalid("noise %v not in 0..10", s.Noise)
		case s.Humidity < 0 || s.Humidity > 100:
			return invalid("humidity %v not in 0..100", s.Humidity)
		case s.DoorOpenChance < 0 || s.DoorOpenChance > 1:
			return invalid("door_open_chance %v not in 0..1", s.DoorOpenChance)
		case s.DoorOpenFor < 0:
			return invalid("door_open_for is negative")
		case s.Battery < 0 || s.Battery > 100 || s.BatteryDrain < 0:
			return invalid("battery %v must be in 0..100 and battery_drain non-negative", s.Battery)
		case math.Abs(s.Setpoint) > 100 || math.Abs(s.Ambient) > 100:
			return invalid("setpoint and ambient must be within ±100 °C")
		case s.Unit != "" && s.Unit != "C" && s.Unit != "F":
			return invalid("unit %q is not C or F", s.Unit)
		}
		if f := s.Faults; f != nil {
			switch {
			case f.CompressorFailAfter < 0 || f.StickAfter < 0 || f.StickFor < 0 || f.OfflineAfter < 0 || f.OfflineFor < 0:
				return invalid("fault times must not be negative")
			case f.DuplicateChance < 0 || f.DuplicateChance > 1 || f.SwapChance < 0 || f.SwapChance > 1:
				return invalid("duplicate_chance and swap_chance must be in 0..1")
			}
		}
		return nil
	case KindScanner:
		s := d.Scanner
		for _, u := range []string{s.ReadPoint, s.BizLocation} {
			e, err := epc.ParseURI(u)
			if err != nil || e.Scheme != epc.SGLN {
				return invalid("read_point and biz_location must be SGLN URIs, got %q", u)
			}
		}
		switch {
		case s.ItemsPerScan < 1:
			return invalid("items_per_scan %d below 1", s.ItemsPerScan)
		case s.PickingChance < 0 || s.PickingChance > 1:
			return invalid("picking_chance %v not in 0..1", s.PickingChance)
		}
		if _, err := time.Parse("-07:00", s.TimeZoneOffset); err != nil || len(s.TimeZoneOffset) != 6 {
			return invalid("time_zone_offset %q is not ±hh:mm", s.TimeZoneOffset)
		}
		return checkLots(s.Lots)
	}
	return invalid("kind %q is not rfid, sensor or scanner", d.Kind)
}
