package edge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config configures an edge agent. Zero fields take the defaults of
// Defaults; environment variables TRACEGATE_EDGE_* override the file (see
// docs/edge.md).
type Config struct {
	// ID is the edge's device ID, the one registered on the ledger with the
	// edge's public key.
	ID string `yaml:"id"`
	// DataDir holds the journal (Badger) and, unless KeyFile says otherwise,
	// the Ed25519 key (edge.key).
	DataDir string `yaml:"dataDir"`
	KeyFile string `yaml:"keyFile"`
	// Listen is the address of the edge's own HTTP API (health, metrics,
	// dead letters); empty disables it.
	Listen string `yaml:"listen"`

	MQTT      MQTTConfig      `yaml:"mqtt"`
	Gateway   GatewayConfig   `yaml:"gateway"`
	Batch     BatchConfig     `yaml:"batch"`
	Smoothing SmoothingConfig `yaml:"smoothing"`
	Limits    LimitsConfig    `yaml:"limits"`
	// Unmapped says what happens to a reading from a reader or sensor that
	// Sites does not map: UnmappedFlag (default) keeps it with a synthetic
	// read point and tg:unmapped: true, so the gateway can keep it out of a
	// lot's custody as an unknown place; UnmappedDeadLetter dead-letters it
	// (reason unmapped-device). Both count it in
	// tracegate_edge_unmapped_devices_total.
	Unmapped string `yaml:"unmapped"`
	// Sites maps each site of the topic layout to its EPCIS locations.
	Sites map[string]Site `yaml:"sites"`
}

// Policies for readings from unmapped devices (Config.Unmapped).
const (
	UnmappedFlag       = "flag"
	UnmappedDeadLetter = "deadletter"
)

// MQTTConfig is the edge's subscription to an external broker.
type MQTTConfig struct {
	// Broker is tcp://host:port (or ssl://); empty means the edge is fed
	// in-process (tracegate up) and runs no subscriber.
	Broker   string   `yaml:"broker"`
	ClientID string   `yaml:"clientID"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Topics   []string `yaml:"topics"`
	// MaxPending bounds received messages not yet durable; paho stops
	// reading from the socket while it is full.
	MaxPending int `yaml:"maxPending"`
}

// GatewayConfig says where sealed batches go.
type GatewayConfig struct {
	URL     string        `yaml:"url"`
	Timeout time.Duration `yaml:"timeout"`
	// MaxBackoff caps the wait between upload attempts.
	MaxBackoff time.Duration `yaml:"maxBackoff"`
}

// BatchConfig says when a batch is sealed: at MaxEvents events or when the
// oldest pending event is MaxAge old, whichever comes first.
type BatchConfig struct {
	MaxEvents int           `yaml:"maxEvents"`
	MaxAge    time.Duration `yaml:"maxAge"`
}

// SmoothingConfig collapses repeated reads of one tag at one read point.
type SmoothingConfig struct {
	// Window: reads of the same tag at the same reader within Window of the
	// first become one event with their count. 0 turns smoothing off.
	Window time.Duration `yaml:"window"`
}

// LimitsConfig bounds input and disk use.
type LimitsConfig struct {
	MaxPayload   int           `yaml:"maxPayload"`
	MaxItems     int           `yaml:"maxItems"`
	MinFreeBytes uint64        `yaml:"minFreeBytes"`
	DedupeTTL    time.Duration `yaml:"dedupeTTL"`
}

// Site is one physical site of the topic layout (tracegate/{site}/...).
type Site struct {
	// Location is the site's EPCIS business location (an SGLN URI) and the
	// default read point of its devices.
	Location string `yaml:"location"`
	// Readers maps RFID reader IDs to what their reads mean.
	Readers map[string]Reader `yaml:"readers"`
	// Sensors maps sensor IDs to where they are and what they watch.
	Sensors map[string]Sensor `yaml:"sensors"`
}

// Reader says what a read at one reader means in EPCIS terms.
type Reader struct {
	ReadPoint   string `yaml:"readPoint"`
	BizLocation string `yaml:"bizLocation"`
	BizStep     string `yaml:"bizStep"`
	Disposition string `yaml:"disposition"`
}

// Sensor says where a sensor is and what it watches.
type Sensor struct {
	ReadPoint   string   `yaml:"readPoint"`
	BizLocation string   `yaml:"bizLocation"`
	DeviceID    string   `yaml:"deviceID"`
	EPCs        []string `yaml:"epcs"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{
		ID:      "edge-1",
		DataDir: "data/edge",
		MQTT: MQTTConfig{
			Topics:     []string{"tracegate/+/+/+"},
			MaxPending: 4096,
		},
		Gateway:   GatewayConfig{URL: "http://127.0.0.1:8080", Timeout: 30 * time.Second, MaxBackoff: 30 * time.Second},
		Batch:     BatchConfig{MaxEvents: 1000, MaxAge: 500 * time.Millisecond},
		Smoothing: SmoothingConfig{Window: time.Second},
		Limits:    LimitsConfig{MaxPayload: 64 << 10, MaxItems: 1000, MinFreeBytes: 256 << 20, DedupeTTL: 72 * time.Hour},
		Unmapped:  UnmappedFlag,
	}
}

// LoadConfig reads a YAML file over the defaults, then applies environment
// overrides, then validates.
func LoadConfig(path string) (Config, error) {
	cfg := Defaults()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read edge config: %w", err)
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("parse edge config %s: %w", path, err)
		}
	}
	if err := cfg.applyEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	str := map[string]*string{
		"TRACEGATE_EDGE_ID":            &c.ID,
		"TRACEGATE_EDGE_DATA_DIR":      &c.DataDir,
		"TRACEGATE_EDGE_KEY_FILE":      &c.KeyFile,
		"TRACEGATE_EDGE_LISTEN":        &c.Listen,
		"TRACEGATE_EDGE_MQTT_BROKER":   &c.MQTT.Broker,
		"TRACEGATE_EDGE_MQTT_CLIENTID": &c.MQTT.ClientID,
		"TRACEGATE_EDGE_MQTT_USERNAME": &c.MQTT.Username,
		"TRACEGATE_EDGE_MQTT_PASSWORD": &c.MQTT.Password,
		"TRACEGATE_EDGE_GATEWAY_URL":   &c.Gateway.URL,
		"TRACEGATE_EDGE_UNMAPPED":      &c.Unmapped,
	}
	for k, p := range str {
		if v, ok := lookup(k); ok {
			*p = v
		}
	}
	dur := map[string]*time.Duration{
		"TRACEGATE_EDGE_BATCH_MAX_AGE":    &c.Batch.MaxAge,
		"TRACEGATE_EDGE_SMOOTHING_WINDOW": &c.Smoothing.Window,
	}
	for k, p := range dur {
		if v, ok := lookup(k); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: %w", k, v, err)
			}
			*p = d
		}
	}
	if v, ok := lookup("TRACEGATE_EDGE_BATCH_MAX_EVENTS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("TRACEGATE_EDGE_BATCH_MAX_EVENTS=%q: %w", v, err)
		}
		c.Batch.MaxEvents = n
	}
	return nil
}

// Validate checks the configuration and names every problem.
func (c *Config) Validate() error {
	var errs []error
	if c.ID == "" || strings.ContainsAny(c.ID, "/ \t\n") {
		errs = append(errs, fmt.Errorf("id %q: want a non-empty edge ID without slashes or spaces", c.ID))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("dataDir is empty"))
	}
	if c.KeyFile == "" && c.DataDir != "" {
		c.KeyFile = filepath.Join(c.DataDir, "edge.key")
	}
	if c.Batch.MaxEvents < 1 || c.Batch.MaxEvents > 10000 {
		errs = append(errs, fmt.Errorf("batch.maxEvents %d: want 1..10000", c.Batch.MaxEvents))
	}
	if c.Batch.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("batch.maxAge %s: want > 0", c.Batch.MaxAge))
	}
	if c.Smoothing.Window < 0 {
		errs = append(errs, fmt.Errorf("smoothing.window %s: want >= 0", c.Smoothing.Window))
	}
	switch c.Unmapped {
	case "":
		c.Unmapped = UnmappedFlag
	case UnmappedFlag, UnmappedDeadLetter:
	default:
		errs = append(errs, fmt.Errorf("unmapped %q: want %s or %s", c.Unmapped, UnmappedFlag, UnmappedDeadLetter))
	}
	for name, s := range c.Sites {
		for id, r := range s.Readers {
			if r.BizStep != "" && !cbvWord(r.BizStep) {
				errs = append(errs, fmt.Errorf("sites.%s.readers.%s.bizStep %q: want a CBV business step (receiving, packing, shipping, …) or a URI", name, id, r.BizStep))
			}
			if r.Disposition != "" && !cbvWord(r.Disposition) {
				errs = append(errs, fmt.Errorf("sites.%s.readers.%s.disposition %q: want a CBV disposition (in_progress, in_transit, …) or a URI", name, id, r.Disposition))
			}
		}
	}
	if c.MQTT.Broker != "" {
		if !strings.Contains(c.MQTT.Broker, "://") {
			errs = append(errs, fmt.Errorf("mqtt.broker %q: want tcp://host:port", c.MQTT.Broker))
		}
		if len(c.MQTT.Topics) == 0 {
			errs = append(errs, errors.New("mqtt.topics is empty"))
		}
		if c.MQTT.ClientID == "" {
			c.MQTT.ClientID = c.ID
		}
		if c.MQTT.MaxPending <= 0 {
			c.MQTT.MaxPending = 4096
		}
	}
	if c.Gateway.Timeout <= 0 {
		c.Gateway.Timeout = 30 * time.Second
	}
	if c.Gateway.MaxBackoff <= 0 {
		c.Gateway.MaxBackoff = 30 * time.Second
	}
	return errors.Join(errs...)
}

// cbvWord reports whether s can be a bizStep or disposition: a bare CBV
// word (lower case and underscores, as in receiving or in_transit) or a
// URI (urn:…, https://…) for a user vocabulary.
func cbvWord(s string) bool {
	if strings.Contains(s, ":") {
		return !strings.ContainsAny(s, " \t\n")
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return s != ""
}
