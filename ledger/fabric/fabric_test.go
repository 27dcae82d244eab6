package fabric_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/chaincode"
	"github.com/tracegate/tracegate/ledger/fabric"
	"github.com/tracegate/tracegate/ledger/fabricnet"
	"github.com/tracegate/tracegate/ledger/fabricnet/fabricnettest"
	"github.com/tracegate/tracegate/ledger/ledgertest"
)

// ConfigEnv names the file describing the Fabric network the tests run
// against (see testNetworkFile).
const ConfigEnv = "TRACEGATE_FABRIC_TEST_CONFIG"

// testNetworkFile is the YAML (or JSON) file ConfigEnv names. Relative
// paths in it are relative to the file.
//
//	fabric:            # a fabric.Config
//	  channel: …
//	fixture:           # the ledgertest.Fixture
//	  manufacturer: ManufacturerMSP
//	  warehouse: …, regulator: …, hospital: …, insurer: …, outsider: …
//	  users: [User1, User2, User3]
//	  collection: mfrWarehouse
//	chaincode:         # optional: serve the chaincode from the test binary
//	  id: tracegate_1.0:…     # the installed package ID
//	  address: 127.0.0.1:9999 # the address in its connection.json
type testNetworkFile struct {
	Fabric  fabric.Config `yaml:"fabric"`
	Fixture struct {
		Manufacturer string   `yaml:"manufacturer"`
		Warehouse    string   `yaml:"warehouse"`
		Regulator    string   `yaml:"regulator"`
		Hospital     string   `yaml:"hospital"`
		Insurer      string   `yaml:"insurer"`
		Outsider     string   `yaml:"outsider"`
		Charity      string   `yaml:"charity"`
		Users        []string `yaml:"users"`
		Collection   string   `yaml:"collection"`
	} `yaml:"fixture"`
	Chaincode *struct {
		ID      string `yaml:"id"`
		Address string `yaml:"address"`
	} `yaml:"chaincode"`
}

// testNet is the network under test.
type testNet struct {
	cfg fabric.Config
	fx  ledgertest.Fixture
	// cc restarts or stops the chaincode server; nil when the chaincode
	// runs elsewhere.
	cc chaincodeServer
}

// chaincodeServer is a chaincode server a test can stop and start again.
type chaincodeServer interface {
	stop() error
	start() error
}

const instructions = `to test against an existing Fabric network, set ` + ConfigEnv + ` to a YAML file naming one.
The file holds the connection config, the conformance fixture and, optionally, the chaincode to serve in-process:

  fabric:    {channel: tracegate, chaincode: tracegate, peers: [...], identities: [...], collections: {mfrWarehouse: [ManufacturerMSP, WarehouseMSP]}}
  fixture:   {manufacturer: ManufacturerMSP, warehouse: WarehouseMSP, regulator: RegulatorMSP, hospital: HospitalMSP,
              insurer: InsurerMSP, outsider: OutsiderMSP, users: [User1, User2, User3], collection: mfrWarehouse}
  chaincode: {id: <package ID>, address: 127.0.0.1:9999}

The network needs five member orgs with an admin and three users each (orgs without peers are fine: their
clients use another org's peer), a private data collection of Manufacturer and Warehouse only, the
tracegate chaincode installed as a service (package connection.json -> the chaincode address) with an
endorsement policy the configured peers can satisfy, and channel capability V2_5 (private data purge).

Without ` + ConfigEnv + ` the tests start a local network themselves (ledger/fabricnet).`

var (
	netOnce sync.Once
	netVal  *testNet
	netErr  error
	// netShown: the instructions are printed by the first failing test only.
	netShown atomic.Bool
)

// testNetwork returns the Fabric network the tests run against, set up
// once per test binary: the network ConfigEnv's file names when it is set,
// else a local network started here with ledger/fabricnet (binaries built
// once per machine, a free port block, the chaincode served in this
// process), stopped by TestMain. It never skips: a network that cannot be
// had fails the test.
func testNetwork(t *testing.T) *testNet {
	t.Helper()
	netOnce.Do(func() {
		if path := os.Getenv(ConfigEnv); path != "" {
			netVal, netErr = networkFromFile(path)
			return
		}
		netVal, netErr = startLocalNetwork(t)
	})
	if netErr != nil {
		if netShown.CompareAndSwap(false, true) {
			t.Fatalf("%v", netErr)
		}
		t.Fatalf("%s (see the first failing test)", strings.SplitN(netErr.Error(), "\n", 2)[0])
	}
	return netVal
}

// localNet is the network startLocalNetwork started, for TestMain to stop.
var localNet *fabricnet.Network

// testOutsider is the suite's Outsider on the local network: a member
// added to fabricnet's DefaultOrgs that never registers in the contract
// (every default member has a role in the suite).
const testOutsider = "OutsiderMSP"

func startLocalNetwork(t *testing.T) (*testNet, error) {
	dir, err := os.MkdirTemp("", "tracegate-fabric-test-")
	if err != nil {
		return nil, err
	}
	base, err := fabricnet.FreeBasePort()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a cold binary build included
	defer cancel()
	n, err := fabricnet.Up(ctx, fabricnet.Options{
		Orgs: append(append([]string(nil), fabricnet.DefaultOrgs...), testOutsider), Dir: dir, BasePort: base, StopWithParent: true, ServeChaincode: fabricnettest.ServeChaincode,
		Progress: func(msg string) { t.Logf("fabric [%5.1fs] %s", time.Since(start).Seconds(), msg) },
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start a local Fabric network: %w", err)
	}
	localNet = n
	return &testNet{cfg: n.GatewayConfig(), fx: ledgertest.Fixture{
		Manufacturer: fabricnet.Manufacturer, Warehouse: fabricnet.Warehouse, Regulator: fabricnet.Regulator, Hospital: fabricnet.Hospital,
		Insurer: fabricnet.Insurer, Outsider: testOutsider, Charity: fabricnet.Charity, Users: []string{"User1", "User2", "User3"}, Collection: fabricnet.DefaultCollections[0].Name,
	}, cc: netChaincode{n}}, nil
}

// netChaincode stops and starts the local network's chaincode server.
type netChaincode struct{ n *fabricnet.Network }

func (c netChaincode) stop() error  { return c.n.StopChaincode(context.Background()) }
func (c netChaincode) start() error { return c.n.StartChaincode(context.Background()) }

func networkFromFile(path string) (*testNet, error) {
	if path == "" {
		return nil, errors.New(instructions)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n\n%s", ConfigEnv, err, instructions)
	}
	var f testNetworkFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s=%s: %w", ConfigEnv, path, err)
	}
	dir := filepath.Dir(path)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range f.Fabric.Peers {
		abs(&f.Fabric.Peers[i].TLSCACert)
	}
	for i := range f.Fabric.Identities {
		abs(&f.Fabric.Identities[i].Cert)
		abs(&f.Fabric.Identities[i].Key)
	}
	if err := f.Fabric.Validate(); err != nil {
		return nil, fmt.Errorf("%s=%s: %w", ConfigEnv, path, err)
	}
	fx := f.Fixture
	n := &testNet{cfg: f.Fabric, fx: ledgertest.Fixture{
		Manufacturer: fx.Manufacturer, Warehouse: fx.Warehouse, Regulator: fx.Regulator, Hospital: fx.Hospital, Insurer: fx.Insurer,
		Outsider: fx.Outsider, Charity: fx.Charity, Users: fx.Users, Collection: fx.Collection,
	}}
	if f.Chaincode != nil {
		n.cc = &ccServer{id: f.Chaincode.ID, address: f.Chaincode.Address}
		if err := n.cc.start(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// ccServer is the chaincode served from the test binary
// (chaincode.Serve), under the installed package ID and address: the peers
// dial it as they would the chaincode process.
type ccServer struct {
	id, address string
	mu          sync.Mutex
	cancel      context.CancelFunc
	done        chan error
}

func (s *ccServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lis net.Listener
	var err error
	for i := 0; i < 50; i++ { // the previous server may still hold the port
		if lis, err = net.Listen("tcp", s.address); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("serve the chaincode on %s (is a chaincode process still running there?): %w", s.address, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- chaincode.Serve(ctx, chaincode.ServerConfig{CCID: s.id, Listener: lis}) }()
	return nil
}

func (s *ccServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	return <-s.done
}

func TestMain(m *testing.M) {
	code := m.Run()
	if localNet != nil {
		if err := localNet.Down(context.Background(), fabricnet.Purge()); err != nil {
			fmt.Fprintln(os.Stderr, "fabric network down:", err)
		}
		os.RemoveAll(localNet.Dir())
	} else if netVal != nil && netVal.cc != nil {
		netVal.cc.stop()
	}
	os.Exit(code)
}

// open returns a Ledger on the test network, closed when the test ends.
func (n *testNet) open(t *testing.T, cfg fabric.Config, opts ...fabric.Option) *fabric.Ledger {
	t.Helper()
	opts = append([]fabric.Option{fabric.WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))}, opts...)
	l, err := fabric.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestConformance runs the ledger conformance suite against Fabric.
func TestConformance(t *testing.T) {
	n := testNetwork(t)
	ledgertest.Run(t, func(t *testing.T) (ledger.Ledger, ledgertest.Fixture) {
		return n.open(t, n.cfg), n.fx
	})
}

func TestUnknownIdentityIsForbidden(t *testing.T) {
	n := testNetwork(t)
	l := n.open(t, n.cfg)
	_, err := l.Submit(ctxT(t), ledger.Identity{Org: n.fx.Hospital, User: "nobody"}, ledger.FnWhoami)
	var le *ledger.Error
	if !errors.As(err, &le) || le.Code != ledger.Forbidden || !strings.Contains(le.Msg, "no Fabric identity for nobody@"+n.fx.Hospital) || !strings.Contains(le.Msg, "admin@"+n.fx.Manufacturer) {
		t.Fatalf("unknown identity: %v", err)
	}
	if _, err := l.Evaluate(ctxT(t), ledger.Identity{Org: "NoSuchMSP", User: "admin"}, ledger.FnWhoami); ledger.CodeOf(err) != ledger.Forbidden {
		t.Fatalf("unknown org: %v", err)
	}
}

// TestContractRefusalNamesEndorsers checks that a contract refusal is the
// contract's error, with the peers that refused as its cause.
func TestContractRefusalNamesEndorsers(t *testing.T) {
	n := testNetwork(t)
	l := n.open(t, n.cfg)
	c := ledger.Client{L: l}
	// The Warehouse's admin may not register the Manufacturer.
	_, err := c.RegisterOrg(ctxT(t), ledger.Identity{Org: n.fx.Warehouse, User: ledger.AdminUser},
		ledger.Org{ID: n.fx.Manufacturer, Name: "x", Kind: ledger.OrgManufacturer})
	var le *ledger.Error
	if !errors.As(err, &le) || le.Code != ledger.Forbidden || le.Msg != fmt.Sprintf("register org %s: org %s may not act for org %s", n.fx.Manufacturer, n.fx.Warehouse, n.fx.Manufacturer) {
		t.Fatalf("refusal: %v", err)
	}
	var ge *fabric.GatewayError
	if !errors.As(err, &ge) || ge.Stage != "endorse" || len(ge.Peers) == 0 || ge.Peers[0].MSPID == "" || ge.Peers[0].Address == "" {
		t.Fatalf("cause %#v", ge)
	}
	t.Logf("contract refusal: %v\n  cause: %v", err, ge)
}

// TestChaincodeDownIsUnavailable stops the in-process chaincode: the
// endorsement fails at every peer, Unavailable, naming them; once the
// chaincode is back, submits work again.
func TestChaincodeDownIsUnavailable(t *testing.T) {
	n := testNetwork(t)
	if n.cc == nil {
		t.Skip("the chaincode runs outside the test binary (no chaincode: section in " + ConfigEnv + "); nothing to stop")
	}
	cfg := n.cfg
	cfg.Retries = 1
	l := n.open(t, cfg, fabric.WithRetryBackoff(50*time.Millisecond, 100*time.Millisecond))
	mfr := ledger.Identity{Org: n.fx.Manufacturer, User: ledger.AdminUser}
	if _, err := l.Evaluate(ctxT(t), mfr, ledger.FnWhoami); err != nil {
		t.Fatal(err)
	}
	if err := n.cc.stop(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			n.cc.start()
		}
	}()
	_, err := l.Submit(ctxT(t), mfr, ledger.FnRegisterOrg, `{"id":"`+n.fx.Manufacturer+`","name":"Conformance Manufacturer","kind":"manufacturer","gln":"4012345000009","country":"DE"}`)
	var ge *fabric.GatewayError
	if ledger.CodeOf(err) != ledger.Unavailable || !errors.As(err, &ge) || len(ge.Peers) == 0 || !strings.Contains(err.Error(), n.fx.Manufacturer) {
		t.Fatalf("chaincode down: %v", err)
	}
	t.Logf("chaincode down: %v", err)
	if err := n.cc.start(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := l.Evaluate(ctxT(t), mfr, ledger.FnWhoami)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaincode back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestEventsFromEventlessCheckpoint resumes after a transaction that
// emitted no event (an idempotent repeat): Fabric's own after-transaction
// filter would wait for it forever.
func TestEventsFromEventlessCheckpoint(t *testing.T) {
	n := testNetwork(t)
	l := n.open(t, n.cfg)
	c := ledger.Client{L: l}
	op := ledger.Identity{Org: n.fx.Manufacturer, User: n.fx.Users[0]}
	registerFixture(t, c, n.fx)
	e := ledgertest.NewEdge("noevent-" + fmt.Sprint(time.Now().UnixNano()))
	first, err := c.RegisterDevice(ctxT(t), op, e.Device(n.fx.Manufacturer))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.RegisterDevice(ctxT(t), op, e.Device(n.fx.Manufacturer)) // no change: no event
	if err != nil {
		t.Fatal(err)
	}
	hs, sigs := e.Chain(1)
	_, next, err := c.AnchorBatch(ctxT(t), op, hs[0], sigs[0])
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	ch, err := l.Events(ctx, ledger.Checkpoint{Block: again.Block, TxID: again.TxID})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		if ev.TxID != next.TxID || ev.Name != ledger.EvBatchAnchored {
			t.Fatalf("first event after the checkpoint: %s %s, want %s of %s (the device's was %s)", ev.Name, ev.TxID, ledger.EvBatchAnchored, next.TxID, first.TxID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event after an eventless checkpoint")
	}
	if _, err := l.Events(ctx, ledger.Checkpoint{Block: first.Block, TxID: "not-in-that-block"}); ledger.CodeOf(err) != ledger.Invalid {
		t.Errorf("checkpoint naming a transaction not in its block: %v", err)
	}
}

// registerFixture registers the fixture's orgs and users (idempotent), as
// ledgertest does, for tests outside the suite.
func registerFixture(t *testing.T, c ledger.Client, fx ledgertest.Fixture) {
	t.Helper()
	kinds := map[string]string{fx.Manufacturer: ledger.OrgManufacturer, fx.Warehouse: ledger.OrgWarehouse, fx.Regulator: ledger.OrgRegulator, fx.Hospital: ledger.OrgHospital}
	names := map[string]string{fx.Manufacturer: "Conformance Manufacturer", fx.Warehouse: "Conformance Warehouse", fx.Regulator: "Conformance Regulator", fx.Hospital: "Conformance Hospital"}
	extra := map[string][2]string{fx.Manufacturer: {"4012345000009", "DE"}, fx.Warehouse: {"", "NL"}, fx.Regulator: {"", "FR"}, fx.Hospital: {"", "IT"}}
	for _, org := range []string{fx.Manufacturer, fx.Warehouse, fx.Regulator, fx.Hospital} {
		adm := ledger.Identity{Org: org, User: ledger.AdminUser}
		if _, err := c.RegisterOrg(ctxT(t), adm, ledger.Org{ID: org, Name: names[org], Kind: kinds[org], GLN: extra[org][0], Country: extra[org][1]}); err != nil {
			t.Fatalf("register %s: %v", org, err)
		}
		for i, role := range []string{ledger.RoleOperator, ledger.RoleQuality, ledger.RoleHospitalReceiver} {
			if _, err := c.RegisterUser(ctxT(t), adm, ledger.User{Org: org, ID: fx.Users[i], Role: role}); err != nil {
				t.Fatalf("register %s of %s: %v", fx.Users[i], org, err)
			}
		}
	}
}

// TestEventsSurviveABrokenStream cuts the event stream's connection (a
// proxy in front of the reader's peer drops every connection and refuses
// new ones for a while) while another client writes: the stream resumes
// with no gap and no repeat.
func TestEventsSurviveABrokenStream(t *testing.T) {
	n := testNetwork(t)
	writer := n.open(t, n.cfg)
	c := ledger.Client{L: writer}
	registerFixture(t, c, n.fx)

	// The reader (first identity) reaches its peer through the proxy.
	cfg := n.cfg
	cfg.Peers = slices.Clone(cfg.Peers)
	readerPeer := 0
	for i, p := range cfg.Peers {
		if p.Org == cfg.Identities[0].Org {
			readerPeer = i
			break
		}
	}
	px := newProxy(t, cfg.Peers[readerPeer].Endpoint)
	cfg.Peers[readerPeer].Endpoint = px.addr()
	reader := n.open(t, cfg, fabric.WithPeerSync(0), fabric.WithRetryBackoff(100*time.Millisecond, 500*time.Millisecond))

	op := ledger.Identity{Org: n.fx.Manufacturer, User: n.fx.Users[0]}
	e := ledgertest.NewEdge(fmt.Sprintf("cut-%d", time.Now().UnixNano()))
	start, err := c.RegisterDevice(ctxT(t), op, e.Device(n.fx.Manufacturer))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	ch, err := reader.Events(ctx, ledger.After(ledger.Event{Block: start.Block, TxID: start.TxID}))
	if err != nil {
		t.Fatal(err)
	}
	const total = 12
	hs, sigs := e.Chain(total)
	var want []string
	got := make(chan ledger.Event, total*2)
	go func() {
		for ev := range ch {
			got <- ev
		}
		close(got)
	}()
	for i := range hs {
		_, res, err := c.AnchorBatch(ctxT(t), op, hs[i], sigs[i])
		if err != nil {
			t.Fatalf("anchor %d: %v", i, err)
		}
		want = append(want, res.TxID)
		if i == total/3 || i == 2*total/3 {
			px.cut(time.Second) // while events are flowing
		}
	}
	var seen []string
	timeout := time.After(45 * time.Second)
	for len(seen) < total {
		select {
		case ev, ok := <-got:
			if !ok {
				t.Fatalf("stream closed after %d events", len(seen))
			}
			seen = append(seen, ev.TxID)
		case <-timeout:
			t.Fatalf("got %d of %d events after the cuts", len(seen), total)
		}
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("events across the cuts:\n got %v\nwant %v", seen, want)
	}
	if px.cuts() < 2 {
		t.Fatalf("the proxy cut %d times", px.cuts())
	}
	select {
	case ev := <-got:
		t.Fatalf("extra event %s %s", ev.Name, ev.TxID)
	case <-time.After(500 * time.Millisecond):
	}
}
