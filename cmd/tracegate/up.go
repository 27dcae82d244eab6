package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

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

// upOptions are the flags of tracegate up.
type upOptions struct {
	data         string
	http         string
	mqtt         string
	devices      bool
	public       string
	ledger       string
	fabricConfig string
	scenario     string
	seed         uint64
	speed        float64
}

func newUpCmd() *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run everything in one process on embedded defaults: broker, ledger, gateway, portal, an edge agent and demo devices",
		Long: `up runs tracegate on one machine with no other services: the embedded MQTT
broker (device authentication and topic ACLs on), the embedded ledger, the
gateway with the web portal, one edge agent fed by the broker's publish
hook (a device's PUBACK follows durability), and demo devices that keep
publishing. It seeds a demo consortium the first time and carries on where
it stopped on later runs with the same --data. Credentials are written to
<data>/demo-credentials.json.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUp(cmd.Context(), o) },
	}
	cmd.Flags().StringVar(&o.data, "data", "data", "data directory (created if missing)")
	cmd.Flags().StringVar(&o.http, "http", "127.0.0.1:8080", "portal and API listen address")
	cmd.Flags().StringVar(&o.mqtt, "mqtt", "127.0.0.1:1883", "MQTT broker listen address")
	cmd.Flags().BoolVar(&o.devices, "devices", true, "run the simulated demo devices")
	cmd.Flags().StringVar(&o.public, "public-url", "", "public base URL of the portal (default http://<--http>)")
	cmd.Flags().StringVar(&o.ledger, "ledger", ledger.KindEmbedded, "ledger backend: embedded, or fabric (with --fabric-config)")
	cmd.Flags().StringVar(&o.fabricConfig, "fabric-config", "", "gateway config with the Fabric connection (tracegate fabric up writes <dir>/gateway-fabric.yaml)")
	cmd.Flags().StringVar(&o.scenario, "scenario", "", "also play a named simulator scenario (tracegate sim --list names them): its sites, products and lots are seeded and its devices publish")
	cmd.Flags().Uint64Var(&o.seed, "seed", 1, "seed of --scenario")
	cmd.Flags().Float64Var(&o.speed, "speed", 0, "playback speed of --scenario: 0 as fast as the broker acknowledges, N for N× its story time")
	return cmd
}

// Credentials is <data>/demo-credentials.json (DESIGN.md).
type Credentials struct {
	Portal string `json:"portal"`
	Admin  struct {
		User     string `json:"user"`
		Password string `json:"password"`
	} `json:"admin"`
	Device DeviceCredential `json:"device"`
	// Regulator is a regulator-inspector of the demo regulator (the
	// /regulator page: suspect packs, recalls).
	Regulator struct {
		User     string `json:"user"`
		Password string `json:"password"`
	} `json:"regulator"`
	// People are the other demo portal users, one per role's page
	// (charity, hospital, hospital admin, insurer, clinic).
	People []PortalUser `json:"people,omitempty"`
}

// PortalUser is a demo portal user: an org's user with a role, and the
// page their work is on.
type PortalUser struct {
	Label    string `json:"label"`
	User     string `json:"user"`
	Password string `json:"password"`
	Org      string `json:"org"`
	Role     string `json:"role"`
	Page     string `json:"page"`
}

// demoPeople are the demo's role users (passwords are added when the
// credentials are first created). The clinic exists on the ledger only
// with the donations-2020 scenario.
func demoPeople() []PortalUser {
	return []PortalUser{
		{Label: "Charity", User: "charity", Org: demo.Charity, Role: ledger.RoleCharityOfficer, Page: "/charity"},
		{Label: "Hospital", User: "hospital", Org: demo.Hospital, Role: ledger.RoleHospitalReceiver, Page: "/hospital"},
		{Label: "Sharing", User: "hospital-admin", Org: demo.Hospital, Role: ledger.RoleOrgAdmin, Page: "/sharing"},
		{Label: "Insurer", User: "insurer", Org: demo.Insurer, Role: ledger.RoleInsurerAssessor, Page: "/insurance"},
		{Label: "Clinic", User: "clinic", Org: sim.OrgClinic, Role: ledger.RoleHospitalReceiver, Page: "/hospital"},
	}
}

// DeviceCredential is one device's MQTT login.
type DeviceCredential struct {
	ClientID string `json:"clientID"`
	Username string `json:"username"`
	Password string `json:"password"`
	Topic    string `json:"topic"`
	Site     string `json:"site,omitempty"`
	Kind     string `json:"kind,omitempty"`
}

const (
	demoSite       = "wh1"
	demoEdgeID     = "edge-wh1"
	demoProbe      = "probe-1"
	adminUser      = "admin"
	regulatorUser  = "inspector"
	gatewayOrg     = demo.Warehouse
	credentialFile = "demo-credentials.json"
	devicesFile    = "devices.json"
)

func randomSecret() string {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writeJSONFile writes v to path with mode 0600, atomically.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSONFile(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

// demoEdgeConfig maps the demo warehouse's devices to EPCIS locations.
func demoEdgeConfig(data, gatewayURL string) edge.Config {
	cfg := edge.Defaults()
	cfg.ID = demoEdgeID
	cfg.DataDir = filepath.Join(data, "edge")
	cfg.Gateway.URL = gatewayURL
	cfg.Sites = map[string]edge.Site{
		demoSite: {
			Location: demo.WarehouseSite,
			Readers: map[string]edge.Reader{
				"dock-in-1":  {ReadPoint: demo.WarehouseDockIn, BizLocation: demo.WarehouseSite, BizStep: "receiving", Disposition: "in_progress"},
				"dock-out-1": {ReadPoint: demo.WarehouseDockOut, BizLocation: demo.WarehouseSite, BizStep: "shipping", Disposition: "in_transit"},
			},
			Sensors: map[string]edge.Sensor{
				"coldroom-1": {ReadPoint: demo.WarehouseColdRoom, BizLocation: demo.WarehouseColdRoom},
				"reefer-1":   {ReadPoint: demo.WarehouseReefer, BizLocation: demo.WarehouseReefer}, // the trailer, not the warehouse
				demoProbe:    {ReadPoint: demo.WarehouseProbe, BizLocation: demo.WarehouseColdRoom},
			},
		},
	}
	return cfg
}

func runUp(ctx context.Context, o upOptions) error {
	log := slog.Default()
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	for _, a := range []struct{ flag, addr string }{{"--http", o.http}, {"--mqtt", o.mqtt}} {
		if ln, err := net.Listen("tcp", a.addr); err != nil {
			return fmt.Errorf("%s %s is not free (%v): stop what uses it or pick another address, e.g. %s 127.0.0.1:0", a.flag, a.addr, err, a.flag)
		} else {
			ln.Close()
		}
	}
	public := o.public
	if public == "" {
		public = "http://" + o.http
	}
	step := func(msg string, args ...any) { log.Info(msg, args...) }

	// Ledger.
	var lcfg backend.Config
	switch o.ledger {
	case ledger.KindEmbedded:
		step("opening the embedded ledger", "dir", filepath.Join(o.data, "ledger"))
		lcfg = backend.Config{Kind: ledger.KindEmbedded, Orgs: demo.OrgIDs(), Collections: demo.Collections()}
		if err := lcfg.Validate(o.data); err != nil {
			return err
		}
	case ledger.KindFabric:
		if o.fabricConfig == "" {
			return fmt.Errorf("--ledger fabric needs --fabric-config FILE: start a network with `tracegate fabric up` and pass the gateway config it writes")
		}
		var err error
		if lcfg, err = loadLedgerFile(o.fabricConfig); err != nil {
			return err
		}
		if lcfg.Kind != ledger.KindFabric {
			return fmt.Errorf("%s describes a %q ledger, not fabric", o.fabricConfig, lcfg.Kind)
		}
		step("connecting to Fabric", "channel", lcfg.Fabric.Channel, "chaincode", lcfg.Fabric.Chaincode, "peers", len(lcfg.Fabric.Peers))
	default:
		return fmt.Errorf("--ledger %q: want embedded or fabric", o.ledger)
	}
	led, err := backend.Open(lcfg, log)
	if err != nil {
		return err
	}
	defer led.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The scenario, if any: its story ends now.
	var sc *sim.Scenario
	if o.scenario != "" {
		probe, err := sim.BuildScenario(o.scenario, o.seed, time.Time{})
		if err != nil {
			return fmt.Errorf("--scenario: %w (tracegate sim --list shows the scenarios)", err)
		}
		if sc, err = sim.BuildScenario(o.scenario, o.seed, time.Now().UTC().Add(-probe.Duration).Truncate(time.Minute)); err != nil {
			return err
		}
		step("scenario", "name", sc.Name, "title", sc.Title, "messages", len(sc.Messages), "devices", len(sc.Devices))
	}

	// Gateway: alerts go out on the embedded broker's tracegate/{site}/alerts.
	sink := &brokerAlerts{}
	topics := map[string]string{sim.DemoSiteGLN: demoSite}
	if sc != nil {
		for gln, site := range demo.SiteTopics(sc) {
			topics[gln] = site
		}
	}
	step("opening the gateway store", "dir", filepath.Join(o.data, "gateway"))
	svc, err := gateway.New(gateway.Config{
		DataDir:   filepath.Join(o.data, "gateway"),
		Reader:    ledger.Identity{Org: gatewayOrg, User: ledger.AdminUser},
		PublicURL: public,
	}, led, gateway.WithLogger(log), gateway.WithRegistry(reg), gateway.WithAlertPublisher(sink), gateway.WithSiteTopics(topics))
	if err != nil {
		return err
	}
	defer svc.Close()

	// Edge agent, uploading to the gateway over its HTTP API.
	ecfg := demoEdgeConfig(o.data, "http://"+o.http)
	if sc != nil {
		for id, site := range demo.EdgeSites(sc) {
			ecfg.Sites[id] = site
		}
	}
	agent, err := edge.New(ecfg, edge.WithLogger(log), edge.WithRegistry(reg))
	if err != nil {
		return err
	}
	defer agent.Close()

	// Seed the demo consortium (idempotent).
	capID, capKey := svc.CaptureDevice()
	axID, axKey := svc.AccessLogDevice()
	step("seeding the demo consortium (idempotent)")
	if err := demo.Seed(ctx, svc, []demo.Device{
		{ID: demoEdgeID, Org: demo.Warehouse, Kind: ledger.DeviceEdge, Site: demoSite, Description: "edge agent at the North warehouse", PublicKey: agent.PublicKey()},
		{ID: capID, Org: gatewayOrg, Kind: ledger.DeviceCapture, Description: "gateway capture sealer (POST /epcis/capture)", PublicKey: capKey},
		{ID: axID, Org: gatewayOrg, Kind: ledger.DeviceAccessLog, Description: "gateway access log (reads of shared data)", PublicKey: axKey},
	}, log); err != nil {
		return fmt.Errorf("seed demo consortium: %w", err)
	}
	if sc != nil {
		step("seeding the scenario's sites, products and lots", "scenario", sc.Name)
		if err := demo.SeedScenario(ctx, svc, sc); err != nil {
			return fmt.Errorf("seed scenario %s: %w", sc.Name, err)
		}
	}

	// Device and portal credentials, created once and reused.
	creds, devs, err := loadOrCreateCredentials(o.data, public, o.mqtt)
	if err != nil {
		return err
	}

	// Broker, feeding the edge from its publish hook.
	accounts, err := brokerAccounts(devs)
	if err != nil {
		return err
	}
	scenarioCreds := map[string]string{}
	if sc != nil {
		for _, d := range sc.Devices {
			pw := randomSecret()
			h, err := broker.HashPassword(pw)
			if err != nil {
				return err
			}
			scenarioCreds[d.ID] = pw
			accounts = append(accounts, broker.Account{Username: d.ID, PasswordHash: h, Role: broker.RoleDevice, Site: d.Site, Kind: d.Kind})
		}
	}
	brk, err := broker.New(broker.Config{Addr: o.mqtt, Accounts: accounts},
		broker.WithLogger(log),
		broker.WithMetrics(reg),
		broker.WithIngest(func(ctx context.Context, m broker.Message) error {
			return agent.Ingest(ctx, journal.Raw{Topic: m.Topic, Payload: m.Payload, ClientID: m.ClientID, Received: m.Received, PacketID: m.PacketID, Dup: m.Duplicate})
		}))
	if err != nil {
		return err
	}
	sink.b = brk

	app, err := web.New(svc, web.Config{PublicURL: public, Registry: reg, Edges: []web.EdgeView{agent}, Places: demo.Places})
	if err != nil {
		return err
	}
	if err := app.EnsureUser(creds.Admin.User, creds.Admin.Password, gatewayOrg, ledger.RoleOrgAdmin); err != nil {
		return fmt.Errorf("portal admin: %w", err)
	}
	// The regulator's inspector and the role users: portal users and
	// users of their orgs in the contract's registry (their work is signed
	// as them). On Fabric a portal user signs as an identity the network
	// enrolled: its org's User1 (its admin for an org-admin).
	ledgerUser := func(name, role string) string {
		if o.ledger != ledger.KindFabric {
			return ""
		}
		if role == ledger.RoleOrgAdmin {
			return ledger.AdminUser
		}
		return "User1"
	}
	people := append([]PortalUser{{User: creds.Regulator.User, Password: creds.Regulator.Password, Org: demo.Regulator, Role: ledger.RoleRegulatorInspector}}, creds.People...)
	shown := creds
	shown.People = nil
	for i, p := range people {
		if _, err := svc.Ledger().Org(ctx, ledger.Identity{Org: p.Org, User: ledger.AdminUser}, p.Org); err != nil {
			continue // not in this consortium (the clinic without its scenario)
		}
		if i > 0 {
			shown.People = append(shown.People, p)
		}
		lu := ledgerUser(p.User, p.Role)
		if lu != ledger.AdminUser {
			id := p.User
			if lu != "" {
				id = lu
			}
			if _, err := svc.Ledger().RegisterUser(ctx, ledger.Identity{Org: p.Org, User: ledger.AdminUser}, ledger.User{Org: p.Org, ID: id, Role: p.Role}); err != nil {
				return fmt.Errorf("register %s of %s on the ledger: %w", id, p.Org, err)
			}
		}
		if err := app.EnsureLedgerUser(p.User, p.Password, p.Org, p.Role, lu); err != nil {
			return fmt.Errorf("portal user %s: %w", p.User, err)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return svc.Run(gctx) })
	g.Go(func() error { return app.Run(gctx, o.http) })
	g.Go(func() error { return agent.Run(gctx) })
	g.Go(func() error { return brk.Run(gctx) })
	if o.devices {
		g.Go(func() error { return runDemoDevices(gctx, brk, devs, log) })
	}
	if sc != nil {
		g.Go(func() error { return upPlayScenario(gctx, brk, svc, sc, scenarioCreds, o.speed, log) })
	}
	printBanner(os.Stdout, shown, o)
	err = g.Wait()
	if ctx.Err() != nil {
		log.Info("tracegate stopped cleanly")
		return nil
	}
	return err
}

// loadOrCreateCredentials reads <data>/demo-credentials.json and
// <data>/devices.json, creating them with fresh secrets the first time.
func loadOrCreateCredentials(data, public, mqttAddr string) (Credentials, []DeviceCredential, error) {
	var creds Credentials
	cpath := filepath.Join(data, credentialFile)
	ok, err := readJSONFile(cpath, &creds)
	if err != nil {
		return creds, nil, fmt.Errorf("read %s: %w", cpath, err)
	}
	var devs []DeviceCredential
	dpath := filepath.Join(data, devicesFile)
	okd, err := readJSONFile(dpath, &devs)
	if err != nil {
		return creds, nil, fmt.Errorf("read %s: %w", dpath, err)
	}
	if !okd {
		for _, d := range demoDevices() {
			d.Password = randomSecret()
			devs = append(devs, d)
		}
		if err := writeJSONFile(dpath, devs); err != nil {
			return creds, nil, err
		}
	}
	if !ok || creds.Admin.Password == "" {
		creds.Admin.User = adminUser
		creds.Admin.Password = randomSecret()
	}
	if creds.Regulator.Password == "" {
		creds.Regulator.User = regulatorUser
		creds.Regulator.Password = randomSecret()
	}
	if len(creds.People) == 0 {
		creds.People = demoPeople()
		for i := range creds.People {
			creds.People[i].Password = randomSecret()
		}
	}
	creds.Portal = public
	for _, d := range devs {
		if d.Username == demoProbe {
			creds.Device = d
		}
	}
	if err := writeJSONFile(cpath, creds); err != nil {
		return creds, nil, err
	}
	return creds, devs, nil
}

// demoDevices are the demo warehouse's devices (passwords are added when
// the credentials are first created).
func demoDevices() []DeviceCredential {
	mk := func(kind, id string) DeviceCredential {
		return DeviceCredential{ClientID: id, Username: id, Site: demoSite, Kind: kind, Topic: "tracegate/" + demoSite + "/" + kind + "/" + id}
	}
	return []DeviceCredential{
		mk(broker.KindRFID, "dock-in-1"),
		mk(broker.KindRFID, "dock-out-1"),
		mk(broker.KindSensor, "coldroom-1"),
		mk(broker.KindSensor, "reefer-1"),
		mk(broker.KindScanner, "handheld-1"),
		mk(broker.KindSensor, demoProbe),
	}
}

func brokerAccounts(devs []DeviceCredential) ([]broker.Account, error) {
	out := make([]broker.Account, 0, len(devs))
	for _, d := range devs {
		h, err := broker.HashPassword(d.Password)
		if err != nil {
			return nil, err
		}
		out = append(out, broker.Account{Username: d.Username, PasswordHash: h, Role: broker.RoleDevice, Site: d.Site, Kind: d.Kind})
	}
	return out, nil
}

func printBanner(w *os.File, c Credentials, o upOptions) {
	host, port, _ := net.SplitHostPort(o.mqtt)
	if host == "" {
		host = "127.0.0.1"
	}
	fmt.Fprintf(w, `
tracegate is up (embedded broker, %s ledger, gateway, edge%s)

  Portal     %s
  Admin      user %q  password %q
  Regulator  user %q  password %q  (%s/regulator)
%s  Device     client ID %q  user %q  password %q
             topic %s
  Data       %s  (credentials in %s)

Publish a reading and prove it:
  mosquitto_pub -h %s -p %s -q 1 -i %s -u %s -P '%s' \
    -t %s -m '{"temperature": 4.2}'
  open %s/events   (or: tracegate verify --gateway %s <eventID>)

Ctrl-C stops everything cleanly; run again with the same --data to carry on.
`, o.ledger, map[bool]string{true: ", demo devices", false: ""}[o.devices],
		c.Portal, c.Admin.User, c.Admin.Password, c.Regulator.User, c.Regulator.Password, c.Portal, peopleLines(c),
		c.Device.ClientID, c.Device.Username, c.Device.Password, c.Device.Topic,
		o.data, filepath.Join(o.data, credentialFile),
		host, port, c.Device.ClientID, c.Device.Username, c.Device.Password, c.Device.Topic,
		c.Portal, c.Portal)
}

// peopleLines lists the role users for the banner.
func peopleLines(c Credentials) string {
	var b strings.Builder
	for _, p := range c.People {
		fmt.Fprintf(&b, "  %-10s user %q  password %q  (%s%s, %s)\n", p.Label, p.User, p.Password, c.Portal, p.Page, p.Org)
	}
	return b.String()
}

// runDemoDevices runs the simulated demo fleet against the embedded broker
// once it listens.
func runDemoDevices(ctx context.Context, brk *broker.Broker, devs []DeviceCredential, log *slog.Logger) error {
	select {
	case <-ctx.Done():
		return nil
	case <-brk.Ready():
	}
	creds := map[string]string{}
	for _, d := range devs {
		creds[d.Username] = d.Password
	}
	fleet, err := sim.New(sim.DemoConfig(brk.Addr(), creds), sim.WithLogger(log.With("component", "sim")))
	if err != nil {
		return fmt.Errorf("demo devices: %w", err)
	}
	log.Info("demo devices publishing", "devices", len(fleet.Devices()), "broker", brk.Addr())
	if err := fleet.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("demo devices: %w", err)
	}
	return nil
}

// waitTCP waits until addr accepts connections.
func waitTCP(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// brokerAlerts publishes the gateway's alerts on the embedded broker.
type brokerAlerts struct{ b *broker.Broker }

func (a *brokerAlerts) PublishAlert(topic string, payload []byte) error {
	if a.b == nil {
		return fmt.Errorf("broker not started")
	}
	return a.b.Publish(topic, payload, false, 1)
}

// upPlayScenario plays a scenario on the embedded broker once it listens,
// performing its ledger actions (a regulator's recall) on the way.
func upPlayScenario(ctx context.Context, brk *broker.Broker, svc *gateway.Service, sc *sim.Scenario, creds map[string]string, speed float64, log *slog.Logger) error {
	select {
	case <-ctx.Done():
		return nil
	case <-brk.Ready():
	}
	log.Info("playing scenario", "name", sc.Name, "messages", len(sc.Messages), "speed", speed)
	actor := demo.NewActor(svc)
	st, err := sim.Play(ctx, sc, brk.Addr(), creds, speed,
		sim.BeforeAction(func(ctx context.Context, a sim.Action) error {
			log.Info("scenario action", "kind", a.Kind, "org", a.Org, "gtin", a.GTIN, "lot", a.Lot, "ref", a.Ref)
			if err := actor.Do(ctx, a); err != nil {
				return err
			}
			if a.Kind == sim.ActionPledge {
				log.Info("donor receipt code", "donor", a.Pseudonym, "code", a.ReceiptCode, "page", svc.Config().PublicURL+"/donations/receipt?code="+a.ReceiptCode)
			}
			return nil
		}),
		sim.OnProgress(5*time.Second, func(p sim.PlayStats) {
			log.Info("scenario progress", "name", sc.Name, "acked", p.Acked, "of", p.Messages)
		}))
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	log.Info("scenario played", "name", sc.Name, "acked", st.Acked, "of", st.Messages, "took", st.Elapsed.Round(time.Millisecond))
	return nil
}
