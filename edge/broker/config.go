package broker

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Roles an account can have.
const (
	// RoleDevice is a reader, logger or scanner: it publishes only on its own
	// topic and subscribes only to its site's alerts.
	RoleDevice = "device"
	// RoleService is the edge agent, the gateway or an operator tool: it may
	// subscribe to anything under tracegate/ and publish alerts.
	RoleService = "service"
)

// Device kinds, the third level of a device topic.
const (
	KindRFID    = "rfid"
	KindSensor  = "sensor"
	KindScanner = "scanner"
)

// TopicRoot is the first level of every tracegate topic.
const TopicRoot = "tracegate"

// Defaults applied by New to zero fields of Config.
const (
	DefaultAddr               = ":1883"
	DefaultMaxPayload         = 64 << 10
	DefaultMaxClients         = 10000
	DefaultInflightQuota      = 1024
	DefaultSubscriberInflight = 8192
	DefaultWritesPending      = 8192
	DefaultMessageExpiry      = 24 * time.Hour
	DefaultIngestTimeout      = 10 * time.Second
)

// Config is the embedded broker's configuration. Zero fields take the
// defaults above; Validate reports what cannot work.
type Config struct {
	// Addr is the TCP listen address, e.g. "127.0.0.1:1883"; ":0" picks a
	// free port, which Broker.Addr reports once listening.
	Addr string `yaml:"addr"`
	// Accounts are who may connect. Change them at run time with
	// Broker.SetAccounts.
	Accounts []Account `yaml:"accounts"`
	// MaxPayload is the largest accepted publish payload in bytes (default
	// 64 KiB). A larger publish is refused: not ingested, not delivered.
	// Packets larger than MaxPayload plus room for a topic and properties
	// are not even read: the connection is closed.
	MaxPayload int `yaml:"max_payload"`
	// MaxClients caps concurrently connected clients (default 10000).
	MaxClients int `yaml:"max_clients"`
	// InflightQuota is how many QoS 1/2 publishes one client may have
	// unacknowledged towards the broker (MQTT 5 Receive Maximum, default 1024).
	InflightQuota int `yaml:"inflight_quota"`
	// SubscriberInflight is how many QoS 1/2 messages the broker keeps per
	// subscriber awaiting its acknowledgement (default 8192); above it new
	// messages for that subscriber are dropped and logged by mochi.
	SubscriberInflight int `yaml:"subscriber_inflight"`
	// WritesPending is the per-client queue of packets waiting to be written
	// to a slow connection (default 8192).
	WritesPending int `yaml:"writes_pending"`
	// MessageExpiry caps how long a queued message waits for an offline
	// subscriber (default 24h).
	MessageExpiry time.Duration `yaml:"message_expiry"`
	// IngestTimeout bounds one ingest call (default 10s). Keep it below the
	// devices' keep-alive: while a client's ingest runs, the broker reads
	// nothing else from that client, pings included.
	IngestTimeout time.Duration `yaml:"ingest_timeout"`
	// AuthConcurrency caps concurrent argon2id verifications, which bounds
	// memory during a reconnect storm (default GOMAXPROCS).
	AuthConcurrency int `yaml:"auth_concurrency"`
	// NegativePubackV5 answers an MQTT 5 QoS 1 publish whose ingest failed
	// with PUBACK 0x80 instead of closing the connection. Only for devices
	// that publish again on a failure reason code; many clients drop the
	// message instead (see the package documentation).
	NegativePubackV5 bool `yaml:"negative_puback_v5"`
}

// Account is one identity allowed to connect.
type Account struct {
	// Username is, for a device, its device ID, which is also its required
	// MQTT client ID.
	Username string `yaml:"username"`
	// PasswordHash is an argon2id PHC string made by HashPassword.
	PasswordHash string `yaml:"password_hash"`
	// Role is RoleDevice or RoleService.
	Role string `yaml:"role"`
	// Site and Kind place a device: it may publish exactly on
	// tracegate/{Site}/{Kind}/{Username} and subscribe only to
	// tracegate/{Site}/alerts. Services leave them empty.
	Site string `yaml:"site,omitempty"`
	Kind string `yaml:"kind,omitempty"`
}

// Topic returns the only topic a device account may publish on, or "" for
// a service.
func (a Account) Topic() string {
	if a.Role != RoleDevice {
		return ""
	}
	return TopicRoot + "/" + a.Site + "/" + a.Kind + "/" + a.Username
}

// AlertsTopic returns the alerts topic of a site.
func AlertsTopic(site string) string {
	return TopicRoot + "/" + site + "/alerts"
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid broker config")

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.MaxClients == 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.InflightQuota == 0 {
		c.InflightQuota = DefaultInflightQuota
	}
	if c.SubscriberInflight == 0 {
		c.SubscriberInflight = DefaultSubscriberInflight
	}
	if c.WritesPending == 0 {
		c.WritesPending = DefaultWritesPending
	}
	if c.MessageExpiry == 0 {
		c.MessageExpiry = DefaultMessageExpiry
	}
	if c.IngestTimeout == 0 {
		c.IngestTimeout = DefaultIngestTimeout
	}
	if c.AuthConcurrency == 0 {
		c.AuthConcurrency = max(runtime.GOMAXPROCS(0), 2)
	}
	return c
}

// maxPacketSize is the wire limit: room for the payload, a topic of up to
// 64 KiB and properties. Packets above it are never read into memory.
func (c Config) maxPacketSize() uint32 {
	return uint32(c.MaxPayload) + 64<<10 + 1<<10
}

// Validate reports the first problem with c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.MaxPayload < 0 || c.MaxPayload > 256<<20-(65<<10):
		return fmt.Errorf("%w: max_payload %d out of range", ErrInvalidConfig, c.MaxPayload)
	case c.MaxClients < 0:
		return fmt.Errorf("%w: max_clients %d is negative", ErrInvalidConfig, c.MaxClients)
	case c.InflightQuota < 0 || c.InflightQuota > 65535:
		return fmt.Errorf("%w: inflight_quota %d not in 1..65535", ErrInvalidConfig, c.InflightQuota)
	case c.SubscriberInflight < 0 || c.SubscriberInflight > 65535:
		return fmt.Errorf("%w: subscriber_inflight %d not in 1..65535", ErrInvalidConfig, c.SubscriberInflight)
	case c.WritesPending < 0 || c.WritesPending > 1<<20:
		return fmt.Errorf("%w: writes_pending %d out of range", ErrInvalidConfig, c.WritesPending)
	case c.MessageExpiry < time.Second:
		return fmt.Errorf("%w: message_expiry %s below 1s", ErrInvalidConfig, c.MessageExpiry)
	case c.IngestTimeout < 0:
		return fmt.Errorf("%w: ingest_timeout %s is negative", ErrInvalidConfig, c.IngestTimeout)
	case c.AuthConcurrency < 0:
		return fmt.Errorf("%w: auth_concurrency %d is negative", ErrInvalidConfig, c.AuthConcurrency)
	}
	_, err := newAccountTable(c.Accounts)
	return err
}

// validName reports whether s can be one topic level: not empty, no
// separators or wildcards, no leading $, printable.
func validName(s string) bool {
	if s == "" || len(s) > 128 || strings.HasPrefix(s, "$") {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '+' || r == '#' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// account is a validated Account with what the hot path needs precomputed.
type account struct {
	Account
	topic  string // device: the only publish topic
	alerts string // device: the only subscription
}

// accountTable is an immutable set of accounts; SetAccounts swaps tables.
type accountTable struct {
	byUser map[string]*account
}

func newAccountTable(accts []Account) (*accountTable, error) {
	t := &accountTable{byUser: make(map[string]*account, len(accts))}
	for i, a := range accts {
		if !validName(a.Username) {
			return nil, fmt.Errorf("%w: account %d: username %q is not a valid topic level", ErrInvalidConfig, i, a.Username)
		}
		if _, dup := t.byUser[a.Username]; dup {
			return nil, fmt.Errorf("%w: account %q listed twice", ErrInvalidConfig, a.Username)
		}
		if _, err := parsePHC(a.PasswordHash); err != nil {
			return nil, fmt.Errorf("%w: account %q: %w", ErrInvalidConfig, a.Username, err)
		}
		acct := &account{Account: a}
		switch a.Role {
		case RoleDevice:
			if !validName(a.Site) {
				return nil, fmt.Errorf("%w: device %q: site %q is not a valid topic level", ErrInvalidConfig, a.Username, a.Site)
			}
			switch a.Kind {
			case KindRFID, KindSensor, KindScanner:
			default:
				return nil, fmt.Errorf("%w: device %q: kind %q is not rfid, sensor or scanner", ErrInvalidConfig, a.Username, a.Kind)
			}
			acct.topic = a.Topic()
			acct.alerts = AlertsTopic(a.Site)
		case RoleService:
			if a.Site != "" || a.Kind != "" {
				return nil, fmt.Errorf("%w: service %q: site and kind are for devices", ErrInvalidConfig, a.Username)
			}
		default:
			return nil, fmt.Errorf("%w: account %q: role %q is not %q or %q", ErrInvalidConfig, a.Username, a.Role, RoleDevice, RoleService)
		}
		t.byUser[a.Username] = acct
	}
	return t, nil
}

func (t *accountTable) lookup(user string) *account {
	if t == nil {
		return nil
	}
	return t.byUser[user]
}

// canPublish reports whether a may publish on topic.
func (a *account) canPublish(topic string) bool {
	switch a.Role {
	case RoleDevice:
		return topic == a.topic
	case RoleService:
		site, ok := alertsSite(topic)
		return ok && validName(site)
	}
	return false
}

// canRead reports whether a may subscribe to filter (or receive a message
// on the topic name filter, which mochi checks at delivery).
func (a *account) canRead(filter string) bool {
	switch a.Role {
	case RoleDevice:
		return filter == a.alerts
	case RoleService:
		if len(filter) > 7 && strings.EqualFold(filter[:7], "$share/") {
			_, f, found := strings.Cut(filter[7:], "/")
			if !found {
				return false
			}
			filter = f
		}
		first, _, _ := strings.Cut(filter, "/")
		return first == TopicRoot
	}
	return false
}

// alertsSite returns the site of a topic of the form tracegate/{site}/alerts.
func alertsSite(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, TopicRoot+"/")
	if !ok {
		return "", false
	}
	site, ok := strings.CutSuffix(rest, "/alerts")
	if !ok || strings.Contains(site, "/") {
		return "", false
	}
	return site, true
}
