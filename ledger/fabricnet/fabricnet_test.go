package fabricnet_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/fabric"
	"github.com/tracegate/tracegate/ledger/fabricnet"
	"github.com/tracegate/tracegate/ledger/fabricnet/fabricnettest"
)

// tracegateBinary builds the tracegate command, whose "chaincode" command
// serves the contract as chaincode (the network's default chaincode server).
func tracegateBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build tracegate for the chaincode server: %v", err)
	}
	out := filepath.Join(t.TempDir(), "tracegate")
	start := time.Now()
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/tracegate/tracegate/cmd/tracegate")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tracegate: %v\n%s", err, b)
	}
	t.Logf("built tracegate for the chaincode server (%.1fs)", time.Since(start).Seconds())
	return out
}

// binDir finds or builds the Fabric binaries once per machine.
func binDir(t *testing.T) string {
	t.Helper()
	dir, err := fabricnet.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := fabricnet.EnsureBinaries(context.Background(), dir, func(s string) { t.Logf("[%6.1fs] %s", time.Since(start).Seconds(), s) }); err != nil {
		t.Fatalf("Fabric binaries: %v", err)
	}
	t.Logf("Fabric binaries in %s (%.1fs)", dir, time.Since(start).Seconds())
	return dir
}

func progress(t *testing.T) func(string) {
	start := time.Now()
	return func(s string) { t.Logf("[%5.1fs] %s", time.Since(start).Seconds(), s) }
}

// orgJSON is a RegisterOrg argument.
func orgJSON(t *testing.T, id, kind string) string {
	b, err := json.Marshal(ledger.Org{ID: id, Name: "Test " + id, Kind: kind, Country: "DE"})
	must(t, err)
	return string(b)
}

// TestNetwork brings a network up with the real chaincode, transacts with
// Fabric's own CLI and with the fabric-gateway client through
// GatewayConfig, restarts it from its data, stops and starts a peer, and
// purges it.
func TestNetwork(t *testing.T) {
	bin := binDir(t)
	tracegate := tracegateBinary(t)
	base, err := fabricnet.FreeBasePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "net")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	opts := fabricnet.Options{
		Dir: dir, BinDir: bin, BasePort: base, StopWithParent: true,
		ChaincodeCommand: []string{tracegate, "chaincode"},
		Progress:         progress(t),
	}
	start := time.Now()
	n, err := fabricnet.Up(ctx, opts)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	upTime := time.Since(start)
	t.Cleanup(func() { n.Down(context.Background(), fabricnet.Purge()) })
	t.Logf("TIMING up (fresh, cached binaries): %v", upTime.Round(time.Millisecond))

	if !strings.HasPrefix(n.PackageID(), "tracegate_1.0:") {
		t.Fatalf("package ID %q", n.PackageID())
	}
	if want := fmt.Sprintf("OutOf(2,'%s.peer','%s.peer','%s.peer')", fabricnet.Manufacturer, fabricnet.Warehouse, fabricnet.Charity); n.EndorsementPolicy() != want {
		t.Errorf("endorsement policy %s, want %s", n.EndorsementPolicy(), want)
	}

	// Fabric's own CLI, as org admins: writes endorsed by all three
	// peers, read back on every peer; members without a peer (regulator,
	// hospital) transact through the first peer.
	for _, o := range []struct{ org, kind string }{
		{fabricnet.Manufacturer, ledger.OrgManufacturer}, {fabricnet.Warehouse, ledger.OrgWarehouse}, {fabricnet.Charity, ledger.OrgCharity},
		{fabricnet.Regulator, ledger.OrgRegulator}, {fabricnet.Hospital, ledger.OrgHospital},
	} {
		must(t, n.Invoke(ctx, o.org, ledger.FnRegisterOrg, orgJSON(t, o.org, o.kind)))
	}
	for _, org := range n.PeerOrgs() {
		if got := query(t, ctx, n, org, ledger.FnGetOrg, fabricnet.Regulator); !strings.Contains(got, `"id":"RegulatorMSP"`) {
			t.Errorf("GetOrg on %s = %s", org, got)
		}
	}
	if _, err := n.Query(ctx, fabricnet.Insurer, ledger.FnGetOrg, fabricnet.Manufacturer); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("an unregistered member read the registry: %v", err)
	}
	// The discovery service plans endorsements by a majority.
	endorsers, err := n.Endorsers(ctx, fabricnet.Charity)
	if err != nil || len(endorsers) != 2 {
		t.Errorf("Endorsers = %v, %v; want two orgs", endorsers, err)
	}

	privateData(t, ctx, n)

	// The gateway configuration: every member's admin and users, every peer;
	// a few dozen submits with the fabric-gateway client.
	cfg := n.GatewayConfig()
	checkGatewayConfig(t, n, cfg)
	const txs = 40
	lat := registerUsers(t, cfg, fabricnet.Manufacturer, "a", txs)
	t.Logf("fabric-gateway: %d sequential submits as the admin of %s, p50 %v, max %v", txs, fabricnet.Manufacturer, lat[len(lat)/2], lat[len(lat)-1])
	registerUsers(t, cfg, fabricnet.Hospital, "b", 1) // a member without a peer

	st := n.Status(ctx)
	t.Logf("status after %d transactions:\n%s", txs+6, st)
	var total uint64
	for _, node := range st.Nodes {
		if !node.Running {
			t.Errorf("%s not running", node.Name)
		}
		total += node.RSS
		t.Logf("MEMORY %s RSS %d MB", node.Name, node.RSS>>20)
	}
	t.Logf("MEMORY total RSS %d MB", total>>20)
	heights := peerHeights(t, st)

	// Down keeps the state; nothing runs afterwards.
	start = time.Now()
	must(t, n.Down(ctx))
	t.Logf("TIMING down: %v", time.Since(start).Round(time.Millisecond))
	st, err = fabricnet.Status(dir)
	must(t, err)
	for _, node := range st.Nodes {
		if node.Running {
			t.Errorf("%s still runs after Down (pid %d)", node.Name, node.PID)
		}
	}
	for p := base; p < base+fabricnet.PortBlockSize; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d still in use after Down: %v", p, err)
			continue
		}
		ln.Close()
	}

	// Up on the same directory restarts from the data: same heights, same
	// state, this time with the chaincode served in this process.
	opts.ChaincodeCommand, opts.ServeChaincode, opts.Progress = nil, fabricnettest.ServeChaincode, progress(t)
	start = time.Now()
	n, err = fabricnet.Up(ctx, opts)
	if err != nil {
		t.Fatalf("Up (restart): %v", err)
	}
	t.Logf("TIMING restart (up from data, ready): %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { n.Down(context.Background(), fabricnet.Purge()) })
	after := peerHeights(t, n.Status(ctx))
	for org, h := range heights {
		if after[org] != h {
			t.Errorf("%s height %d after restart, %d before", org, after[org], h)
		}
	}
	if got := query(t, ctx, n, fabricnet.Warehouse, ledger.FnGetOrg, fabricnet.Hospital); !strings.Contains(got, `"id":"CityHospitalMSP"`) {
		t.Errorf("GetOrg after restart = %s", got)
	}
	start = time.Now()
	registerUsers(t, n.GatewayConfig(), fabricnet.Warehouse, "c", 1)
	t.Logf("TIMING first gateway submit after restart: %v", time.Since(start).Round(time.Millisecond))

	// A peer down: the other two still make a majority; the peer catches
	// up when it is back.
	must(t, n.StopPeer(ctx, fabricnet.Charity))
	must(t, n.Invoke(ctx, fabricnet.Manufacturer, ledger.FnRegisterProduct, productJSON(t)))
	must(t, n.StartPeer(ctx, fabricnet.Charity))
	must(t, n.WaitReady(ctx))
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := n.Query(ctx, fabricnet.Charity, ledger.FnGetProduct, testGTIN)
		if err == nil && strings.Contains(string(v), testGTIN) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetProduct on the restarted peer: %s, %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	must(t, n.Down(ctx, fabricnet.Purge()))
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory left after purge: %v", err)
	}
}

const testGTIN = "04012345000016"

func productJSON(t *testing.T) string {
	b, err := json.Marshal(ledger.Product{GTIN: testGTIN, Name: "Test mask", Org: fabricnet.Manufacturer, Kind: "ppe"})
	must(t, err)
	return string(b)
}

// privateData writes to ManufacturerWarehouse as the manufacturer (key
// and document travel as transient data), reads it on the warehouse's peer
// (dissemination), and is refused to the hospital, a member of the channel
// but not of the collection.
func privateData(t *testing.T, ctx context.Context, n *fabricnet.Network) {
	t.Helper()
	cfg := n.GatewayConfig()
	var endorsers []string
	for _, p := range cfg.Peers {
		if p.Org == fabricnet.Manufacturer || p.Org == fabricnet.Warehouse {
			endorsers = append(endorsers, "--peerAddresses", p.Endpoint, "--tlsRootCertFiles", p.TLSCACert)
		}
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const coll = "ManufacturerWarehouse"
	transient := `{"arg1":"` + b64("policy-1") + `","arg2":"` + b64(`{"premium": 1200}`) + `"}`
	args := append([]string{"chaincode", "invoke"}, n.OrdererArgs()...)
	args = append(args, "-C", n.Channel(), "-n", n.Chaincode(), "--waitForEvent",
		"-c", `{"Args":["PutPrivate","`+coll+`","",""]}`, "--transient", transient)
	if out, err := peerCLI(ctx, n, fabricnet.Manufacturer, append(args, endorsers...)...); err != nil {
		t.Fatalf("PutPrivate: %v\n%s", err, out)
	}
	get := func(org string) (string, error) {
		return peerCLI(ctx, n, org, "chaincode", "query", "-C", n.Channel(), "-n", n.Chaincode(),
			"-c", `{"Args":["GetPrivate","`+coll+`",""]}`, "--transient", `{"arg1":"`+b64("policy-1")+`"}`)
	}
	if got, err := get(fabricnet.Warehouse); err != nil || !strings.Contains(got, "premium") {
		t.Errorf("GetPrivate on the warehouse's peer = %s, %v", got, err)
	}
	if out, err := get(fabricnet.Hospital); err == nil {
		t.Errorf("the hospital read the manufacturer-warehouse collection: %s", out)
	} else {
		t.Logf("hospital refused: %s", firstLine(out))
	}
}

// peerCLI runs Fabric's peer CLI as org's admin.
func peerCLI(ctx context.Context, n *fabricnet.Network, org string, args ...string) (string, error) {
	cmd, err := n.PeerCLI(ctx, org, "admin", args...)
	if err != nil {
		return "", err
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func firstLine(s string) string {
	if i := strings.LastIndex(strings.TrimSpace(s), "\n"); i >= 0 {
		return strings.TrimSpace(s)[i+1:]
	}
	return s
}

func query(t *testing.T, ctx context.Context, n *fabricnet.Network, org string, args ...string) string {
	t.Helper()
	out, err := n.Query(ctx, org, args...)
	if err != nil {
		t.Fatalf("query %v as %s: %v", args, org, err)
	}
	return string(out)
}

func peerHeights(t *testing.T, st fabricnet.NetworkStatus) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, node := range st.Nodes {
		if node.Kind == "peer" {
			if node.Height == 0 {
				t.Errorf("%s: no height", node.Name)
			}
			out[node.Org] = node.Height
		}
	}
	return out
}

func checkGatewayConfig(t *testing.T, n *fabricnet.Network, cfg fabric.Config) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("gateway config: %v", err)
	}
	if len(cfg.Peers) != 3 || len(cfg.Identities) != 6*4 {
		t.Errorf("gateway config: %d peers, %d identities; want 3 and 24", len(cfg.Peers), len(cfg.Identities))
	}
	for _, id := range cfg.Identities {
		for _, f := range []string{id.Cert, id.Key} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("identity %s/%s: %v", id.Org, id.User, err)
			}
		}
	}
	if m := cfg.Collections["ManufacturerWarehouse"]; len(m) != 2 {
		t.Errorf("collections %v", cfg.Collections)
	}
	b, err := os.ReadFile(n.GatewayConfigPath())
	must(t, err)
	var file struct {
		Ledger struct {
			Kind   string        `yaml:"kind"`
			Fabric fabric.Config `yaml:"fabric"`
		} `yaml:"ledger"`
	}
	must(t, yaml.Unmarshal(b, &file))
	if file.Ledger.Kind != "fabric" || file.Ledger.Fabric.Channel != n.Channel() || len(file.Ledger.Fabric.Identities) != len(cfg.Identities) {
		t.Errorf("%s: %+v", n.GatewayConfigPath(), file.Ledger)
	}
}

// registerUsers registers count users of org with the fabric-gateway
// client as org's admin, using only what the gateway configuration says
// (the org's peer, or the first one), and returns the latencies, sorted.
func registerUsers(t *testing.T, cfg fabric.Config, org, prefix string, count int) []time.Duration {
	t.Helper()
	var id *fabric.Identity
	for i := range cfg.Identities {
		if cfg.Identities[i].Org == org && cfg.Identities[i].User == ledger.AdminUser {
			id = &cfg.Identities[i]
		}
	}
	if id == nil {
		t.Fatalf("no admin of %s in the gateway config", org)
	}
	p := cfg.Peers[0]
	for _, q := range cfg.Peers {
		if q.Org == org {
			p = q
		}
	}
	ca, err := os.ReadFile(p.TLSCACert)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	conn, err := grpc.NewClient(p.Endpoint, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")))
	must(t, err)
	defer conn.Close()
	certPEM, err := os.ReadFile(id.Cert)
	must(t, err)
	cert, err := identity.CertificateFromPEM(certPEM)
	must(t, err)
	xid, err := identity.NewX509Identity(org, cert)
	must(t, err)
	keyPEM, err := os.ReadFile(id.Key)
	must(t, err)
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	must(t, err)
	sign, err := identity.NewPrivateKeySign(key)
	must(t, err)
	gw, err := client.Connect(xid, client.WithSign(sign), client.WithHash(hash.SHA256), client.WithClientConnection(conn))
	must(t, err)
	defer gw.Close()
	contract := gw.GetNetwork(cfg.Channel).GetContract(cfg.Chaincode)
	var lat []time.Duration
	for i := 0; i < count; i++ {
		u, err := json.Marshal(ledger.User{Org: org, ID: fmt.Sprintf("%s%d-%d", prefix, i, time.Now().UnixNano()%1e6), Role: ledger.RoleOperator})
		must(t, err)
		start := time.Now()
		if _, err := contract.Submit(ledger.FnRegisterUser, client.WithArguments(string(u))); err != nil {
			t.Fatalf("submit %d as the admin of %s via %s: %v", i, org, p.Endpoint, err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat
}

// TestThreeOrderers: a Raft cluster of three survives the loss of its
// leader, and the restarted orderer rejoins.
func TestThreeOrderers(t *testing.T) {
	binDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	n := fabricnettest.Up(t, fabricnet.Options{Orderers: 3})
	t.Logf("TIMING up with 3 orderers: %v", time.Since(start).Round(time.Millisecond))

	leader := -1
	for i, node := range n.Status(ctx).Nodes {
		if node.Kind == "orderer" && node.Leader {
			leader = i // orderers come first in Nodes
		}
	}
	if leader < 0 {
		t.Fatalf("no Raft leader in\n%s", n.Status(ctx))
	}
	must(t, n.StopOrderer(ctx, leader))
	start = time.Now()
	must(t, n.WaitReady(ctx))
	t.Logf("TIMING new Raft leader after stopping orderer%d: %v", leader, time.Since(start).Round(time.Millisecond))
	must(t, n.Invoke(ctx, fabricnet.Manufacturer, ledger.FnRegisterOrg, orgJSON(t, fabricnet.Manufacturer, ledger.OrgManufacturer)))
	must(t, n.StartOrderer(ctx, leader))
	must(t, n.WaitReady(ctx))
	must(t, n.Invoke(ctx, fabricnet.Warehouse, ledger.FnRegisterOrg, orgJSON(t, fabricnet.Warehouse, ledger.OrgWarehouse)))
	deadline := time.Now().Add(20 * time.Second)
	for { // the restarted orderer catches up with the blocks it missed
		st := n.Status(ctx)
		if st.Nodes[leader].Height > 0 && st.Nodes[leader].Height == st.Nodes[(leader+1)%3].Height {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orderer%d did not catch up:\n%s", leader, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestUpReportsDeadProcess: a chaincode server that dies on start fails Up
// with its log, and Up leaves nothing running.
func TestUpReportsDeadProcess(t *testing.T) {
	bin := binDir(t)
	base, err := fabricnet.FreeBasePort()
	must(t, err)
	dir := t.TempDir()
	falseBin, err := exec.LookPath("false")
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = fabricnet.Up(ctx, fabricnet.Options{Dir: dir, BinDir: bin, BasePort: base, StopWithParent: true,
		PeerOrgs: []string{fabricnet.Manufacturer}, Collections: []fabricnet.Collection{},
		ChaincodeCommand: []string{falseBin}, Progress: progress(t)})
	if err == nil {
		t.Fatal("Up succeeded with a chaincode server that exits")
	}
	t.Logf("Up: %v", err)
	if !strings.Contains(err.Error(), "chaincode exited") || !strings.Contains(err.Error(), "starting "+falseBin) {
		t.Errorf("error does not name the dead chaincode server and show its log: %v", err)
	}
	st, err := fabricnet.Status(dir)
	if err == nil {
		t.Errorf("a failed Up left network.json: %+v", st)
	}
	for _, p := range []int{base, base + 10} {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d in use after a failed Up: %v", p, err)
			continue
		}
		ln.Close()
	}
	must(t, fabricnet.DownDir(ctx, dir, fabricnet.Purge()))
}

// TestOptionsRefused: options that cannot make a working network.
func TestOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	for name, o := range map[string]fabricnet.Options{
		"two orderers":          {Orderers: 2},
		"peer of a non-member":  {PeerOrgs: []string{"StrangerMSP"}},
		"collection sans peers": {Collections: []fabricnet.Collection{{Name: "HospitalOnly", Members: []string{fabricnet.Hospital}}}},
		"bad channel":           {Channel: "Trace Gate"},
		"two chaincode servers": {ChaincodeCommand: []string{"x"}, ExternalChaincode: true},
		"seven peers":           {Orgs: []string{"AMSP", "BMSP", "CMSP", "DMSP", "EMSP", "FMSP", "GMSP"}, PeerOrgs: []string{"AMSP", "BMSP", "CMSP", "DMSP", "EMSP", "FMSP", "GMSP"}, Collections: []fabricnet.Collection{}},
	} {
		o.Dir = filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if _, err := fabricnet.Up(context.Background(), o); err == nil || !strings.Contains(err.Error(), "options") {
			t.Errorf("%s: Up = %v, want an options error", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
