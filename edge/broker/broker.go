package broker

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

// Message is one accepted device publish, handed to the ingest callback.
type Message struct {
	Topic string
	// Payload is shared with delivery to subscribers: the callback may keep
	// it but must not modify it.
	Payload   []byte
	ClientID  string
	Username  string
	QoS       byte
	Received  time.Time // UTC, when the broker began handling the publish
	PacketID  uint16    // the client's packet identifier (0 at QoS 0)
	Duplicate bool      // the client marked it as a re-send (DUP flag)
}

// IngestFunc makes a device's reading durable. It is called synchronously
// for every accepted device publish, before the PUBACK; calls for different
// clients run concurrently. ctx ends when the broker stops or
// Config.IngestTimeout passes. Returning an error means "not stored": the
// device gets no success acknowledgement and publishes the message again.
type IngestFunc func(ctx context.Context, m Message) error

// Option configures a Broker in New.
type Option func(*Broker) error

// WithIngest sets the callback that makes each device publish durable
// before it is acknowledged. Without it device publishes are accepted and
// only delivered to subscribers.
func WithIngest(fn IngestFunc) Option {
	return func(b *Broker) error {
		if fn == nil {
			return errors.New("WithIngest: nil function")
		}
		b.ingest = fn
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(b *Broker) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		b.log = l
		return nil
	}
}

// WithMetrics registers the broker's metrics with reg. Give each broker its
// own registry; registering two brokers with one fails.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(b *Broker) error {
		if reg == nil {
			return errors.New("WithMetrics: nil registerer")
		}
		b.reg = reg
		return nil
	}
}

// ErrNotRunning is returned by Publish when the broker is not serving.
var ErrNotRunning = errors.New("broker not running")

// Broker is the embedded MQTT broker: mochi-mqtt with tracegate's accounts,
// ACL, size limit and the durable-before-PUBACK ingest hook. A Broker runs
// once; make a new one to serve again.
type Broker struct {
	cfg      Config
	log      *slog.Logger
	ingest   IngestFunc
	reg      prometheus.Registerer
	metrics  *metrics
	auth     *authenticator
	accounts atomic.Pointer[accountTable]

	started atomic.Bool
	ready   chan struct{}

	mu   sync.Mutex
	srv  *mqtt.Server // non-nil while serving
	addr string
}

// New checks cfg, applies defaults and options, and returns a broker ready
// to Run.
func New(cfg Config, opts ...Option) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := &Broker{
		cfg:   cfg,
		log:   slog.New(slog.DiscardHandler),
		ready: make(chan struct{}),
	}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, fmt.Errorf("new broker: %w", err)
		}
	}
	b.log = b.log.With("component", "broker")
	m, err := newMetrics(b.reg)
	if err != nil {
		return nil, fmt.Errorf("new broker: %w", err)
	}
	b.metrics = m
	t, err := newAccountTable(cfg.Accounts)
	if err != nil {
		return nil, err
	}
	b.accounts.Store(t)
	b.auth, err = newAuthenticator(cfg.AuthConcurrency)
	if err != nil {
		return nil, fmt.Errorf("new broker: %w", err)
	}
	return b, nil
}

// Run listens on Config.Addr and serves until ctx ends, then disconnects
// every client, waits for in-flight ingest calls (their context is
// cancelled) and returns nil. It returns an error if it cannot start, or if
// called a second time.
func (b *Broker) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("broker: Run called twice")
	}
	ln, err := net.Listen("tcp", b.cfg.Addr)
	if err != nil {
		close(b.ready)
		return fmt.Errorf("broker: listen on %s: %w", b.cfg.Addr, err)
	}
	ingestCtx, cancelIngest := context.WithCancel(ctx)
	defer cancelIngest()

	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClients = int64(b.cfg.MaxClients)
	caps.MaximumPacketSize = b.cfg.maxPacketSize()
	caps.ReceiveMaximum = uint16(b.cfg.InflightQuota)
	caps.MaximumInflight = uint16(b.cfg.SubscriberInflight)
	caps.MaximumClientWritesPending = int32(b.cfg.WritesPending)
	caps.MaximumMessageExpiryInterval = int64(b.cfg.MessageExpiry / time.Second)
	srv := mqtt.New(&mqtt.Options{
		Capabilities:           caps,
		InlineClient:           true,
		Logger:                 slog.New(mochiHandler{b.log.Handler()}).With("lib", "mochi"),
		SysTopicResendInterval: 10,
	})
	h := &hook{b: b, srv: srv, ingestCtx: ingestCtx}
	if err := srv.AddHook(h, nil); err != nil {
		_ = ln.Close()
		close(b.ready)
		return fmt.Errorf("broker: add hook: %w", err)
	}
	if err := srv.AddListener(newTCPListener("tcp", ln, b.log)); err != nil {
		_ = ln.Close()
		close(b.ready)
		return fmt.Errorf("broker: add listener: %w", err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		close(b.ready)
		return fmt.Errorf("broker: serve: %w", err)
	}
	b.mu.Lock()
	b.srv = srv
	b.addr = ln.Addr().String()
	b.mu.Unlock()
	close(b.ready)
	b.log.Info("broker listening", "addr", ln.Addr().String(), "accounts", len(b.accounts.Load().byUser))

	<-ctx.Done()
	b.mu.Lock()
	b.srv = nil
	b.mu.Unlock()
	cancelIngest()
	err = srv.Close()
	b.log.Info("broker stopped")
	return err
}

// Ready is closed once the broker listens, or once Run has failed to
// start (then Addr returns "").
func (b *Broker) Ready() <-chan struct{} { return b.ready }

// Addr returns the address the broker listens on, "" before it listens.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// Publish sends a message from the broker itself (alerts), bypassing the
// ACL and the ingest hook. Subscribers receive it at up to qos.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if qos > 2 {
		return fmt.Errorf("publish %s: qos %d above 2", topic, qos)
	}
	if topic == "" || !mqtt.IsValidFilter(topic, true) {
		return fmt.Errorf("publish: invalid topic %q", topic)
	}
	b.mu.Lock()
	srv := b.srv
	b.mu.Unlock()
	if srv == nil {
		return fmt.Errorf("publish %s: %w", topic, ErrNotRunning)
	}
	if err := srv.Publish(topic, payload, retain, qos); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// SetAccounts replaces the accounts, e.g. when a device is registered while
// the broker runs. Connected clients whose account was removed or changed
// (password, role, site or kind) are disconnected; their next connection is
// checked against the new accounts. On error nothing changes.
func (b *Broker) SetAccounts(accts []Account) error {
	t, err := newAccountTable(accts)
	if err != nil {
		return err
	}
	old := b.accounts.Swap(t)
	b.auth.prune(t)
	b.mu.Lock()
	srv := b.srv
	b.mu.Unlock()
	if srv == nil {
		return nil
	}
	for _, cl := range srv.Clients.GetAll() {
		if cl.Net.Inline || cl.Closed() {
			continue
		}
		user := string(cl.Properties.Username)
		na, oa := t.lookup(user), old.lookup(user)
		if na != nil && oa != nil && na.Account == oa.Account {
			continue
		}
		b.log.Info("disconnecting client: account removed or changed", "client", cl.ID, "username", user)
		_ = srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
	return nil
}

// authenticator verifies passwords with a bounded number of concurrent
// argon2id computations, and remembers successful logins so that a
// reconnect storm (every device after a broker restart) costs one HMAC per
// device instead of one argon2id. It keeps HMAC-SHA256(password) under a
// random per-process key, never the password; an entry is used only while
// the account's hash is unchanged. A wrong password always gets the full
// argon2id check, so the cache does not speed up guessing.
type authenticator struct {
	key [32]byte
	sem chan struct{}

	mu   sync.Mutex
	seen map[string]authEntry
}

type authEntry struct {
	hash string
	mac  [32]byte
}

func newAuthenticator(concurrency int) (*authenticator, error) {
	a := &authenticator{sem: make(chan struct{}, concurrency), seen: map[string]authEntry{}}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, fmt.Errorf("auth cache key: %w", err)
	}
	return a, nil
}

func (a *authenticator) mac(user string, pw []byte) [32]byte {
	h := hmac.New(sha256.New, a.key[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(user)))
	h.Write(n[:])
	h.Write([]byte(user))
	h.Write(pw)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (a *authenticator) verify(acct *account, pw []byte) (bool, error) {
	m := a.mac(acct.Username, pw)
	a.mu.Lock()
	e, hit := a.seen[acct.Username]
	a.mu.Unlock()
	if hit && e.hash == acct.PasswordHash && hmac.Equal(e.mac[:], m[:]) {
		return true, nil
	}
	a.sem <- struct{}{}
	ok, err := CheckPassword(acct.PasswordHash, string(pw))
	<-a.sem
	if ok {
		a.mu.Lock()
		a.seen[acct.Username] = authEntry{hash: acct.PasswordHash, mac: m}
		a.mu.Unlock()
	}
	return ok, err
}

// prune forgets logins whose account is gone or has a new hash.
func (a *authenticator) prune(t *accountTable) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for u, e := range a.seen {
		if acct := t.lookup(u); acct == nil || acct.PasswordHash != e.hash {
			delete(a.seen, u)
		}
	}
}
