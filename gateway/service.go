// Package gateway is tracegate's gateway: it accepts signed batches from
// edges, verifies and indexes their events, anchors batch roots on the
// ledger, answers EPCIS queries and builds proofs and product passports.
// The web layer (package web) is a thin HTTP face over this service.
package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// Config configures the gateway service.
type Config struct {
	// DataDir holds the gateway store and the capture journal.
	DataDir string `yaml:"dataDir"`
	// Reader is the identity the gateway reads the ledger as.
	Reader ledger.Identity `yaml:"reader"`
	// AnchorUser is the user the gateway anchors as, in the org that owns
	// each edge (that org's operator or admin, per the contract).
	AnchorUser string `yaml:"anchorUser"`
	// Capture is the gateway's own sealer for events captured over
	// POST /epcis/capture; its device must be registered by Capture.Org.
	Capture CaptureConfig `yaml:"capture"`
	// MaxBatchBytes bounds an uploaded batch (decompressed).
	MaxBatchBytes int64 `yaml:"maxBatchBytes"`
	// AnchorMaxBackoff caps the wait between anchoring attempts.
	AnchorMaxBackoff time.Duration `yaml:"anchorMaxBackoff"`
	// PublicURL is the portal's public base URL (QR codes, Digital Links).
	PublicURL string `yaml:"publicURL"`
}

// CaptureConfig configures the capture sealer.
type CaptureConfig struct {
	Edge string `yaml:"edge"`
	// AccessLogEdge is the device ID of the access log's sealer (default:
	// the capture edge's ID with "capture" replaced by "access", else
	// "access-" and the capture edge's ID).
	AccessLogEdge string        `yaml:"accessLogEdge"`
	Org           string        `yaml:"org"`
	MaxEvents     int           `yaml:"maxEvents"`
	MaxAge        time.Duration `yaml:"maxAge"`
	MaxBytes      int64         `yaml:"maxBytes"`
}

func (c *Config) withDefaults() {
	if c.AnchorUser == "" {
		c.AnchorUser = ledger.AdminUser
	}
	if c.Reader.User == "" {
		c.Reader.User = ledger.AdminUser
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = 64 << 20
	}
	if c.AnchorMaxBackoff <= 0 {
		c.AnchorMaxBackoff = 30 * time.Second
	}
	if c.Capture.Edge == "" {
		c.Capture.Edge = "capture-" + c.Reader.Org
	}
	if c.Capture.Org == "" {
		c.Capture.Org = c.Reader.Org
	}
	if c.Capture.AccessLogEdge == "" {
		if rest, ok := strings.CutPrefix(c.Capture.Edge, "capture"); ok {
			c.Capture.AccessLogEdge = "access" + rest
		} else {
			c.Capture.AccessLogEdge = "access-" + c.Capture.Edge
		}
	}
	if c.Capture.MaxEvents <= 0 {
		c.Capture.MaxEvents = 1000
	}
	if c.Capture.MaxAge <= 0 {
		c.Capture.MaxAge = 300 * time.Millisecond
	}
	if c.Capture.MaxBytes <= 0 {
		c.Capture.MaxBytes = 16 << 20
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	c.withDefaults()
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("gateway dataDir is empty"))
	}
	if c.Reader.Org == "" {
		errs = append(errs, errors.New("gateway reader.org is empty: name the organisation the gateway reads the ledger as"))
	}
	return errors.Join(errs...)
}

// Service is the gateway.
type Service struct {
	cfg    Config
	log    *slog.Logger
	st     *store.Store
	led    ledger.Client
	info   ledger.Info
	m      *metrics
	bus    *Bus
	keys   *deviceCache
	cap    *edge.Agent
	ingMu  sync.Mutex // batches are accepted one at a time
	wakeAn chan struct{}
	now    func() time.Time

	anMu     sync.Mutex
	anStatus AnchorStatus

	siteC    siteCache
	alertPub AlertPublisher
	lots     lotCache
	post     chan []store.IndexedEvent
	cold     *coldEngine
	topics   siteTopics

	noAnalysis bool
	axl        *accessLog
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithRegistry registers the gateway's metrics (and its capture sealer's).
func WithRegistry(reg *prometheus.Registry) Option {
	return func(s *Service) { s.m = newMetrics(reg, s) }
}

// New opens the gateway's store and capture journal over ledger l.
func New(cfg Config, l ledger.Ledger, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: slog.Default(), led: ledger.Client{L: l}, info: l.Info(),
		bus: NewBus(), wakeAn: make(chan struct{}, 1), now: time.Now, post: make(chan []store.IndexedEvent, 1024), cold: newColdEngine()}
	var reg *prometheus.Registry
	for _, o := range opts {
		o(s)
	}
	if s.m != nil {
		reg = s.m.reg
	} else {
		s.m = newMetrics(nil, s)
	}
	s.log = s.log.With("component", "gateway")
	s.keys = newDeviceCache(s.led, cfg.Reader)
	st, err := store.Open(filepath.Join(cfg.DataDir, "store"), s.log)
	if err != nil {
		return nil, err
	}
	s.st = st
	ecfg := edge.Defaults()
	ecfg.ID = cfg.Capture.Edge
	ecfg.DataDir = filepath.Join(cfg.DataDir, "capture")
	ecfg.Batch = edge.BatchConfig{MaxEvents: cfg.Capture.MaxEvents, MaxAge: cfg.Capture.MaxAge}
	ecfg.Gateway.URL = "in-process"
	eopts := []edge.Option{edge.WithLogger(s.log), edge.WithUploader(localUploader{s})}
	if reg != nil {
		eopts = append(eopts, edge.WithRegistry(reg))
	}
	cap, err := edge.New(ecfg, eopts...)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open capture sealer: %w", err)
	}
	s.cap = cap
	if s.axl, err = openAccessLog(filepath.Join(cfg.DataDir, "access"), cfg.Capture.AccessLogEdge); err != nil {
		cap.Close()
		st.Close()
		return nil, fmt.Errorf("open the access log: %w", err)
	}
	return s, nil
}

// Store exposes the store (read side, for tools such as fsck).
func (s *Service) Store() *store.Store { return s.st }

// Ledger returns the typed ledger client.
func (s *Service) Ledger() ledger.Client { return s.led }

// LedgerInfo describes the ledger backend.
func (s *Service) LedgerInfo() ledger.Info { return s.info }

// Bus returns the live-update bus.
func (s *Service) Bus() *Bus { return s.bus }

// Config returns the service configuration (with defaults applied).
func (s *Service) Config() Config { return s.cfg }

// CaptureDevice returns the capture sealer's device ID and public key, to
// be registered on the ledger by the capture org.
func (s *Service) CaptureDevice() (string, []byte) { return s.cap.ID(), s.cap.PublicKey() }

// Run runs the anchoring pipeline and the capture sealer until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.cap.Run(ctx) })
	g.Go(func() error { return s.runAnchorer(ctx) })
	g.Go(func() error { return s.runLedgerWatcher(ctx) })
	g.Go(func() error { return s.runPostIngest(ctx) })
	g.Go(func() error { return s.runColdChain(ctx) })
	g.Go(func() error { return s.runAccessLog(ctx) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close closes the store and the capture journal; call after Run returned.
func (s *Service) Close() error {
	return errors.Join(s.cap.Close(), s.st.Close())
}

// Ready reports whether the gateway can do its work, with the reasons when
// it cannot.
func (s *Service) Ready(ctx context.Context) (bool, []string) {
	var problems []string
	an := s.AnchorStatus()
	if an.LedgerDown {
		problems = append(problems, "ledger unavailable: "+an.LastError)
	}
	if an.Stuck > 0 {
		problems = append(problems, fmt.Sprintf("%d batches refused by the ledger: %s", an.Stuck, an.LastError))
	}
	if !an.Oldest.IsZero() && s.now().Sub(an.Oldest) > 5*time.Minute {
		problems = append(problems, fmt.Sprintf("oldest batch waiting for its anchor since %s", an.Oldest.Format(time.RFC3339)))
	}
	cs, err := s.cap.Status()
	if err != nil {
		problems = append(problems, "capture journal: "+err.Error())
	} else {
		problems = append(problems, cs.Problems...)
	}
	return len(problems) == 0, problems
}

// EnsureCaptureDevice registers the capture sealer's key on the ledger for
// the capture org (idempotent), acting as that org's user AnchorUser. A
// gateway calls it at start so captured events can be anchored.
func (s *Service) EnsureCaptureDevice(ctx context.Context) error {
	id, key := s.CaptureDevice()
	return s.ensureOwnDevice(ctx, id, key, ledger.DeviceCapture, "gateway capture sealer (POST /epcis/capture)", "capture")
}

// ensureOwnDevice registers one of the gateway's own signing keys for the
// capture org, as its user AnchorUser (idempotent).
func (s *Service) ensureOwnDevice(ctx context.Context, id string, key []byte, kind, description, what string) error {
	org := s.cfg.Capture.Org
	_, err := s.led.RegisterDevice(ctx, ledger.Identity{Org: org, User: s.cfg.AnchorUser}, ledger.Device{
		ID: id, Org: org, Kind: kind, Description: description, PublicKey: base64.StdEncoding.EncodeToString(key),
	})
	if err != nil {
		return fmt.Errorf("register the %s device %s for %s: %w", what, id, org, err)
	}
	return nil
}
