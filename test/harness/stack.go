// Package harness starts real tracegate components for end-to-end tests and
// for `tracegate bench`: the embedded ledger, the gateway with its web API,
// edge agents, the embedded broker, and a real Mosquitto process. Nothing
// here is a mock.
package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/broker"
	"github.com/tracegate/tracegate/edge/journal"
	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/backend"
	"github.com/tracegate/tracegate/web"
)

// GatewayOrg is the org the test gateway reads the ledger as.
const GatewayOrg = demo.Warehouse

// Gateway is a running ledger + gateway + web API.
type Gateway struct {
	Dir    string
	Ledger ledger.Ledger
	Svc    *gateway.Service
	App    *web.App
	Addr   string
	URL    string
	Reg    *prometheus.Registry

	// Run is a random suffix that makes this run's device IDs unique.
	Run string

	borrowed bool // the ledger belongs to the caller
	cancel   context.CancelFunc
	done     chan error
}

// FreeAddr returns a free 127.0.0.1 TCP address.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Option changes what the harness starts.
type Option func(*options)

type options struct {
	ledger   ledger.Ledger
	scenario *sim.Scenario
	alerts   gateway.AlertPublisher
}

// WithScenario seeds a simulator scenario's master data (sites, products,
// lots), maps its devices in the edge and gives the gateway its sites'
// alert topics.
func WithScenario(sc *sim.Scenario) Option { return func(o *options) { o.scenario = sc } }

// alertSink forwards the gateway's alerts to the broker, set once the
// broker exists.
type alertSink struct{ b *broker.Broker }

func (a *alertSink) PublishAlert(topic string, payload []byte) error {
	if a.b == nil {
		return errors.New("no broker yet")
	}
	return a.b.Publish(topic, payload, false, 1)
}

// WithLedger runs the gateway on l (for example a Fabric network's) instead
// of a fresh embedded ledger; the caller keeps ownership of l.
func WithLedger(l ledger.Ledger) Option { return func(o *options) { o.ledger = l } }

// StartGateway opens the embedded ledger with the demo consortium (or uses
// the ledger given WithLedger), seeds it (orgs, products, lots, the
// capture device) and serves the gateway's web API on a free port.
func StartGateway(ctx context.Context, dir string, log *slog.Logger, opts ...Option) (*Gateway, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	g := &Gateway{Dir: dir, Reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	if o.ledger != nil {
		g.Ledger, g.borrowed = o.ledger, true
	} else {
		lcfg := backend.Config{Kind: ledger.KindEmbedded, Orgs: demo.OrgIDs(), Collections: demo.Collections()}
		if err := lcfg.Validate(dir); err != nil {
			return nil, err
		}
		led, err := backend.Open(lcfg, log)
		if err != nil {
			return nil, err
		}
		g.Ledger = led
	}
	led := g.Ledger
	addr, err := FreeAddr()
	if err != nil {
		g.closeStores()
		return nil, err
	}
	g.Addr, g.URL = addr, "http://"+addr
	// Device IDs are unique per run: a shared ledger (one Fabric network
	// for a test package) keeps every device ever registered.
	g.Run = runID()
	gopts := []gateway.Option{gateway.WithLogger(log), gateway.WithRegistry(g.Reg)}
	if o.scenario != nil {
		gopts = append(gopts, gateway.WithSiteTopics(demo.SiteTopics(o.scenario)))
	}
	if o.alerts != nil {
		gopts = append(gopts, gateway.WithAlertPublisher(o.alerts))
	}
	svc, err := gateway.New(gateway.Config{
		DataDir: filepath.Join(dir, "gateway"), Reader: ledger.Identity{Org: GatewayOrg, User: ledger.AdminUser}, PublicURL: g.URL,
		Capture: gateway.CaptureConfig{Edge: "capture-" + g.Run},
	}, led, gopts...)
	if err != nil {
		g.closeStores()
		return nil, err
	}
	g.Svc = svc
	capID, capKey := svc.CaptureDevice()
	axID, axKey := svc.AccessLogDevice()
	if err := demo.Seed(ctx, svc, []demo.Device{{ID: capID, Org: GatewayOrg, Kind: ledger.DeviceCapture, PublicKey: capKey},
		{ID: axID, Org: GatewayOrg, Kind: ledger.DeviceAccessLog, PublicKey: axKey}}, log); err != nil {
		g.closeStores()
		return nil, err
	}
	if o.scenario != nil {
		if err := demo.SeedScenario(ctx, svc, o.scenario); err != nil {
			g.closeStores()
			return nil, err
		}
	}
	app, err := web.New(svc, web.Config{PublicURL: g.URL, Registry: g.Reg, Places: demo.Places})
	if err != nil {
		g.closeStores()
		return nil, err
	}
	g.App = app
	rctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	errs := make(chan error, 2)
	go func() { errs <- svc.Run(rctx) }()
	go func() { errs <- app.Run(rctx, addr) }()
	go func() {
		e1, e2 := <-errs, <-errs
		g.done <- errors.Join(ignoreCanceled(e1), ignoreCanceled(e2))
	}()
	if err := WaitHTTP(ctx, g.URL+"/healthz"); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (g *Gateway) closeStores() {
	if g.Svc != nil {
		g.Svc.Close()
	}
	if g.Ledger != nil && !g.borrowed {
		g.Ledger.Close()
	}
}

// Close stops the gateway and closes its stores.
func (g *Gateway) Close() error {
	var err error
	if g.cancel != nil {
		g.cancel()
		err = <-g.done
	}
	g.closeStores()
	return err
}

// RegisterEdge registers an edge's key on the ledger as the warehouse's.
func (g *Gateway) RegisterEdge(ctx context.Context, id string, pub []byte) error {
	return demo.RegisterDevice(ctx, g.Svc, demo.Device{ID: id, Org: demo.Warehouse, Kind: ledger.DeviceEdge, Site: "wh1", PublicKey: pub})
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not come up: %v", url, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// EdgeConfig is the demo warehouse edge's configuration for a test.
func EdgeConfig(id, dir, gatewayURL string) edge.Config {
	cfg := edge.Defaults()
	cfg.ID = id
	cfg.DataDir = dir
	cfg.Gateway.URL = gatewayURL
	cfg.Gateway.MaxBackoff = 2 * time.Second
	cfg.Batch.MaxAge = 200 * time.Millisecond
	// Generous: mosquitto_pub processes on a loaded test machine may be a
	// second apart; the scenario's reads of one tag arrive within this.
	cfg.Smoothing.Window = 3 * time.Second
	cfg.Limits.MinFreeBytes = 0
	cfg.Sites = map[string]edge.Site{
		"wh1": {
			Location: demo.WarehouseSite,
			Readers: map[string]edge.Reader{
				"dock-in-1":  {ReadPoint: demo.WarehouseDockIn, BizStep: "receiving", Disposition: "in_progress"},
				"dock-out-1": {ReadPoint: demo.WarehouseDockOut, BizStep: "shipping", Disposition: "in_transit"},
			},
			Sensors: map[string]edge.Sensor{
				"coldroom-1": {ReadPoint: demo.WarehouseColdRoom, BizLocation: demo.WarehouseColdRoom},
			},
		},
	}
	return cfg
}

// Embedded is the tracegate up topology in-process: a gateway, an edge
// fed by the embedded broker's publish hook, and the broker.
type Embedded struct {
	*Gateway
	Agent  *edge.Agent
	Broker *broker.Broker
	MQTT   string

	cancel context.CancelFunc
	done   chan error
}

// StartEmbedded starts the embedded topology with the given device
// accounts (see DeviceAccount).
func StartEmbedded(ctx context.Context, dir string, accounts []broker.Account, log *slog.Logger, opts ...Option) (*Embedded, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	sink := &alertSink{}
	g, err := StartGateway(ctx, dir, log, append(opts, func(o *options) { o.alerts = sink })...)
	if err != nil {
		return nil, err
	}
	e := &Embedded{Gateway: g, done: make(chan error, 2)}
	ecfg := EdgeConfig("edge-wh1-"+g.Run, filepath.Join(dir, "edge"), g.URL)
	if o.scenario != nil {
		for id, s := range demo.EdgeSites(o.scenario) {
			ecfg.Sites[id] = s
		}
		ecfg.Smoothing.Window = time.Second
	}
	a, err := edge.New(ecfg, edge.WithLogger(log), edge.WithRegistry(g.Reg))
	if err != nil {
		g.Close()
		return nil, err
	}
	e.Agent = a
	if err := g.RegisterEdge(ctx, a.ID(), a.PublicKey()); err != nil {
		a.Close()
		g.Close()
		return nil, err
	}
	mqttAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	e.MQTT = mqttAddr
	b, err := broker.New(broker.Config{Addr: mqttAddr, Accounts: accounts}, broker.WithLogger(log), broker.WithMetrics(g.Reg),
		broker.WithIngest(func(ctx context.Context, m broker.Message) error {
			return a.Ingest(ctx, journal.Raw{Topic: m.Topic, Payload: m.Payload, ClientID: m.ClientID, Received: m.Received, PacketID: m.PacketID, Dup: m.Duplicate})
		}))
	if err != nil {
		a.Close()
		g.Close()
		return nil, err
	}
	e.Broker = b
	sink.b = b
	rctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.done <- ignoreCanceled(a.Run(rctx)) }()
	go func() { e.done <- ignoreCanceled(b.Run(rctx)) }()
	if err := waitTCP(ctx, mqttAddr); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops everything.
func (e *Embedded) Close() error {
	e.cancel()
	err := errors.Join(<-e.done, <-e.done)
	e.Agent.Close()
	return errors.Join(err, e.Gateway.Close())
}

// DeviceAccount makes a broker account for a device and returns it with
// its password.
func DeviceAccount(site, kind, id string) (broker.Account, string, error) {
	pw := id + "-secret"
	h, err := broker.HashPassword(pw)
	return broker.Account{Username: id, PasswordHash: h, Role: broker.RoleDevice, Site: site, Kind: kind}, pw, err
}

func waitTCP(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not accept connections: %v", addr, err)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
