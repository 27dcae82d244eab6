// Package edge is tracegate's edge agent: it takes device messages (from an
// MQTT subscription or, in tracegate up, from the embedded broker's publish
// hook), makes each durable in its journal before the device is
// acknowledged, turns readings into EPCIS 2.0 events identified by their
// CBV 2.0 event hash, seals them into signed RFC 6962 batches and uploads
// those to the gateway, keeping everything until the gateway acknowledged it.
package edge

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"crypto/x509"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tracegate/tracegate/edge/decode"
	"github.com/tracegate/tracegate/edge/journal"
)

// Agent is one edge agent.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	j        *journal.Journal
	key      ed25519.PrivateKey
	m        *metrics
	gatherer prometheus.Gatherer
	up       Uploader
	now      func() time.Time
	limits   decode.Limits
	commits  chan commitReq

	wakeProcess chan struct{}
	wakeSeal    chan struct{}
	wakeUpload  chan struct{}

	subscribed atomic.Bool
	nDurable   atomic.Uint64
	nEvents    atomic.Uint64
	nSealed    atomic.Uint64
	nAcked     atomic.Uint64

	// procMu serialises processing steps (the processor, Flush).
	procMu sync.Mutex

	mu         sync.Mutex
	pendingAt  time.Time // when the oldest unsealed event was stored (edge clock)
	lastUpload UploadStatus
	windows    map[string]*journal.Window
}

// UploadStatus is the uploader's latest news, for /readyz and the portal.
type UploadStatus struct {
	OK       bool      `json:"ok"`
	At       time.Time `json:"at,omitzero"`
	Error    string    `json:"error,omitempty"`
	Rejected bool      `json:"rejected,omitempty"`
}

// Option configures an Agent.
type Option func(*Agent)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithRegistry registers the agent's metrics with reg, which also serves
// them on the edge's /metrics.
func WithRegistry(reg *prometheus.Registry) Option {
	return func(a *Agent) { a.m, a.gatherer = newMetrics(reg, a.cfg.ID), reg }
}

// WithUploader replaces the HTTP uploader (the gateway's capture path
// uploads in-process).
func WithUploader(u Uploader) Option { return func(a *Agent) { a.up = u } }

// WithClock replaces the edge clock (tests).
func WithClock(now func() time.Time) Option { return func(a *Agent) { a.now = now } }

// New opens the agent's journal and key; Run starts it.
func New(cfg Config, opts ...Option) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("edge config: %w", err)
	}
	a := &Agent{
		cfg: cfg, log: slog.Default(), now: time.Now,
		commits:     make(chan commitReq, 1024),
		wakeProcess: make(chan struct{}, 1),
		wakeSeal:    make(chan struct{}, 1),
		wakeUpload:  make(chan struct{}, 1),
		windows:     map[string]*journal.Window{},
		limits:      decode.Limits{MaxPayload: cfg.Limits.MaxPayload, MaxItems: cfg.Limits.MaxItems},
	}
	for _, o := range opts {
		o(a)
	}
	a.log = a.log.With("component", "edge", "edge", cfg.ID)
	if a.m == nil {
		a.m = newMetrics(nil, cfg.ID)
	}
	if a.up == nil {
		a.up = NewHTTPUploader(cfg.Gateway.URL, cfg.Gateway.Timeout)
	}
	key, err := LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	a.key = key
	j, err := journal.Open(filepath.Join(cfg.DataDir, "journal"), journal.Options{
		DedupeTTL: cfg.Limits.DedupeTTL, MinFreeBytes: cfg.Limits.MinFreeBytes, Logger: a.log,
	})
	if err != nil {
		return nil, err
	}
	a.j = j
	ws, err := j.Windows()
	if err != nil {
		j.Close()
		return nil, err
	}
	for i := range ws {
		a.windows[ws[i].Key] = &ws[i]
	}
	return a, nil
}

// ID returns the edge ID.
func (a *Agent) ID() string { return a.cfg.ID }

// PublicKey returns the edge's Ed25519 public key, the one to register on
// the ledger for this edge.
func (a *Agent) PublicKey() ed25519.PublicKey { return a.key.Public().(ed25519.PublicKey) }

// Journal exposes the journal (read-only use: stats, dead letters).
func (a *Agent) Journal() *journal.Journal { return a.j }

// Close closes the journal. Call it after Run returned.
func (a *Agent) Close() error { return a.j.Close() }

// Run runs the agent until ctx ends: the group committer, the processor,
// the sealer, the uploader, and, when configured, the MQTT subscriber and
// the HTTP API.
func (a *Agent) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.runCommitter(ctx) })
	g.Go(func() error { return a.runProcessor(ctx) })
	g.Go(func() error { return a.runSealer(ctx) })
	g.Go(func() error { return a.runUploader(ctx) })
	g.Go(func() error { return a.runHousekeeping(ctx) })
	if a.cfg.MQTT.Broker != "" {
		g.Go(func() error { return a.runSubscriber(ctx) })
	}
	if a.cfg.Listen != "" {
		g.Go(func() error { return a.serveHTTP(ctx) })
	}
	a.log.Info("edge agent running", "gateway", a.cfg.Gateway.URL, "mqtt", a.cfg.MQTT.Broker)
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// commitReq is one caller's messages waiting for the group commit.
type commitReq struct {
	raws []journal.Raw
	done func(error)
}

// Ingest makes raws durable in the journal and returns once they are (or
// with the reason they could not be, in which case the caller must not
// acknowledge them). Concurrent callers share one synchronous write.
func (a *Agent) Ingest(ctx context.Context, raws ...journal.Raw) error {
	ch := make(chan error, 1)
	if err := a.IngestAsync(ctx, raws, func(err error) { ch <- err }); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IngestAsync queues raws for the group commit and calls done once they are
// durable or failed. Callbacks run in commit order, so acknowledgements go
// out in the order messages arrived.
func (a *Agent) IngestAsync(ctx context.Context, raws []journal.Raw, done func(error)) error {
	select {
	case a.commits <- commitReq{raws: raws, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runCommitter drains the commit queue, writing everything queued in one
// synchronous journal write, then answers every waiter.
func (a *Agent) runCommitter(ctx context.Context) error {
	var batch []commitReq
	var raws []journal.Raw
	for {
		batch, raws = batch[:0], raws[:0]
		select {
		case <-ctx.Done():
			// Answer anything still queued so no caller waits forever.
			for {
				select {
				case r := <-a.commits:
					r.done(ctx.Err())
				default:
					return ctx.Err()
				}
			}
		case r := <-a.commits:
			batch = append(batch, r)
			raws = append(raws, r.raws...)
		}
	drain:
		for len(raws) < 4096 {
			select {
			case r := <-a.commits:
				batch = append(batch, r)
				raws = append(raws, r.raws...)
			default:
				break drain
			}
		}
		start := time.Now()
		err := a.j.AppendInbox(raws)
		a.m.commit.Observe(time.Since(start).Seconds())
		if err != nil {
			a.m.messages.WithLabelValues("refused").Add(float64(len(raws)))
			if errors.Is(err, journal.ErrDiskFull) {
				a.m.diskFull.Set(1)
			}
			a.log.Error("messages not made durable; devices will re-send", "count", len(raws), "err", err)
		} else {
			a.nDurable.Add(uint64(len(raws)))
			a.m.messages.WithLabelValues("durable").Add(float64(len(raws)))
			a.m.diskFull.Set(0)
			wake(a.wakeProcess)
		}
		for _, r := range batch {
			r.done(err)
		}
	}
}

// LoadOrCreateKey reads the edge's Ed25519 key (PKCS #8 PEM), creating it
// with mode 0600 the first time.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("edge key %s: not PEM", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("edge key %s: %w", path, err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("edge key %s: not an Ed25519 key", path)
		}
		return ek, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read edge key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("write edge key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write edge key: %w", err)
	}
	return priv, nil
}

// Counters are running totals since the agent started.
type Counters struct {
	Durable uint64 `json:"durable"` // messages made durable
	Events  uint64 `json:"events"`  // events stored
	Sealed  uint64 `json:"sealed"`  // events sealed into batches
	Acked   uint64 `json:"acked"`   // events in batches the gateway acknowledged
}

// Counters returns the running totals.
func (a *Agent) Counters() Counters {
	return Counters{Durable: a.nDurable.Load(), Events: a.nEvents.Load(), Sealed: a.nSealed.Load(), Acked: a.nAcked.Load()}
}
