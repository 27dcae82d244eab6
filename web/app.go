// Package web is tracegate's HTTP face: the portal pages, the GS1 Digital
// Link resolver, the EPCIS 2.0 REST binding, the JSON API for edges and
// integrations, and portal sign-in. Handlers are thin: they parse input,
// call the gateway service and render; every error becomes an RFC 9457
// problem document (or, for browsers, an error page with the same status)
// in one place, problem.go.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/journal"
	"github.com/tracegate/tracegate/gateway"
)

// EdgeView is an edge agent running in the same process (tracegate up):
// the portal shows its backlog and its dead letters. *edge.Agent satisfies
// it.
type EdgeView interface {
	ID() string
	Status() (edge.Status, error)
	Journal() *journal.Journal
}

// Config configures the web app.
type Config struct {
	// PublicURL is the portal's public base URL, e.g.
	// https://trace.example.org. Digital Links, QR codes, linksets and
	// Location headers use it; when empty they use the request's host.
	PublicURL string
	// Registry serves /metrics, and receives the web layer's own metrics.
	// Nil serves the web layer's metrics only.
	Registry *prometheus.Registry
	// Edges are in-process edge agents whose backlog the portal shows.
	Edges []EdgeView
	// CookieSecure marks session cookies Secure (set it behind HTTPS).
	CookieSecure bool
	// SessionTTL is how long a portal sign-in lasts; default 12 hours.
	SessionTTL time.Duration
	// Places names read points and business locations for people
	// ("North Warehouse, dock door 1"), keyed by the identifier events
	// use (an SGLN URI or a GLN Digital Link). Locations without a name
	// are described by the organisation owning their GS1 company prefix.
	Places map[string]string
	// CaptureTokens, when set, protect POST /epcis/capture and POST
	// /epcis/events: a request needs "Authorization: Bearer <token>" with
	// one of them, or a portal session (with its CSRF token). Empty leaves
	// capture open, as in the single-machine demo.
	CaptureTokens []string
	// ShutdownTimeout bounds the graceful shutdown; default 10 seconds.
	ShutdownTimeout time.Duration
	// ProxyHeader names the header a trusted reverse proxy puts the
	// client's address in (e.g. X-Forwarded-For). Sign-in throttling
	// counts failures per client address, so behind a proxy set it; never
	// set it when clients reach the app directly (they could forge it).
	ProxyHeader string
}

func (c *Config) withDefaults() {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	c.withDefaults()
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return fmt.Errorf("web publicURL %q: want an http:// or https:// base URL", c.PublicURL)
	}
	for i, e := range c.Edges {
		if e == nil {
			return fmt.Errorf("web edges[%d] is nil", i)
		}
	}
	for i, t := range c.CaptureTokens {
		if len(t) < 16 {
			return fmt.Errorf("web captureTokens[%d] is shorter than 16 characters", i)
		}
	}
	return nil
}

// Option configures an App.
type Option func(*App)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(a *App) { a.log = l } }

// WithClock sets the clock sessions and login throttling read (tests).
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// WithHeartbeat sets the interval of the comment lines that keep
// server-sent event streams open and detect departed clients; default 15
// seconds.
func WithHeartbeat(d time.Duration) Option { return func(a *App) { a.heartbeat = d } }

// App is the web app over one gateway service.
type App struct {
	svc       *gateway.Service
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	heartbeat time.Duration
	fiber     *fiber.App
	views     *views
	users     *userStore
	throttle  *throttle
	activity  *activity
	names     *namer
	m         *webMetrics

	siteMu    sync.Mutex // the site directory's names, for pages
	siteNames map[string]string
	siteAt    time.Time

	stop     chan struct{} // closed when the app stops: live streams end
	stopOnce sync.Once
	streams  atomic.Int64 // open server-sent event streams
	running  atomic.Bool
	conns    *connTracker
}

// New builds the app over svc. It starts nothing: Run serves.
func New(svc *gateway.Service, cfg Config, opts ...Option) (*App, error) {
	if svc == nil {
		return nil, errors.New("web: nil gateway service")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{svc: svc, cfg: cfg, log: slog.Default(), now: time.Now, heartbeat: 15 * time.Second, stop: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	if a.heartbeat <= 0 {
		return nil, errors.New("web: heartbeat must be positive")
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.log = a.log.With("component", "web")
	v, err := loadViews()
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	a.views = v
	a.users = &userStore{db: svc.Store().DB(), now: func() time.Time { return a.now() }}
	a.throttle = newThrottle(func() time.Time { return a.now() })
	a.activity = newActivity()
	a.names = newNamer(svc, cfg.Places)
	a.m = newWebMetrics(cfg.Registry, a)

	gcfg := svc.Config()
	limit := max(gcfg.MaxBatchBytes, gcfg.Capture.MaxBytes) + 1<<20
	a.fiber = fiber.New(fiber.Config{
		AppName:               "tracegate",
		DisableStartupMessage: true,
		ErrorHandler:          a.handleError,
		BodyLimit:             int(min(limit, 1<<30)),
		ReadTimeout:           60 * time.Second,
		IdleTimeout:           120 * time.Second,
		ReadBufferSize:        16 << 10,
		Immutable:             true,
		CaseSensitive:         true,
		ProxyHeader:           cfg.ProxyHeader,
	})
	a.conns = newConnTracker()
	a.fiber.Use(a.conns.busy, a.observe, recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		a.log.Error("handler panicked", "method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(e))
	}}), a.securityHeaders)
	a.routes()
	return a, nil
}

// Fiber returns the underlying Fiber app (for tests and for mounting).
func (a *App) Fiber() *fiber.App { return a.fiber }

// Run serves HTTP on addr until ctx ends, then shuts down gracefully: live
// streams are ended, in-flight requests finish (within the shutdown
// timeout), and Run returns after the server stopped. It returns nil after
// a shutdown caused by ctx.
func (a *App) Run(ctx context.Context, addr string) error {
	if a.running.Load() {
		return errors.New("web: the app is already serving")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w", addr, err)
	}
	return a.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened; it closes ln.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if !a.running.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("web: the app is already serving (an App serves once)")
	}
	bg, cancelBg := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.collectActivity(bg) }()
	defer func() { cancelBg(); wg.Wait() }()

	ln = a.conns.listener(ln)
	served := make(chan error, 1)
	go func() { served <- a.fiber.Listener(ln) }()
	a.log.Info("portal and API listening", "addr", ln.Addr().String(), "publicURL", a.cfg.PublicURL)
	select {
	case err := <-served:
		a.endStreams()
		if err != nil {
			return fmt.Errorf("web: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	a.endStreams()
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	// Connections that are not running a handler (idle, or accepted and
	// never used) are closed while the shutdown waits for the others,
	// after a second in which the ended streams say goodbye.
	closer := make(chan struct{})
	go func() {
		select {
		case <-closer:
			return
		case <-time.After(min(time.Second, a.cfg.ShutdownTimeout/2)):
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			a.conns.closeWaiting()
			select {
			case <-closer:
				return
			case <-t.C:
			}
		}
	}()
	serr := a.fiber.ShutdownWithContext(sctx)
	close(closer)
	// Shutdown may run before the server registered the listener; closing
	// it here makes Serve return in that case too.
	_ = ln.Close()
	select {
	case <-served:
	case <-sctx.Done():
		return fmt.Errorf("web: shutdown: connections still open after %s", a.cfg.ShutdownTimeout)
	}
	if serr != nil && !errors.Is(serr, context.Canceled) {
		return fmt.Errorf("web: shutdown: %w", serr)
	}
	a.log.Info("portal stopped")
	return nil
}

// endStreams ends every server-sent event stream, so that a graceful
// shutdown never waits for them.
func (a *App) endStreams() { a.stopOnce.Do(func() { close(a.stop) }) }

// baseURL is the public base URL, or the request's scheme and host.
func (a *App) baseURL(c *fiber.Ctx) string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	return c.Protocol() + "://" + c.Hostname()
}
