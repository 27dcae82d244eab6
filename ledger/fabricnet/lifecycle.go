package fabricnet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// joinOrderer joins orderer i to the channel from the genesis block through
// its admin endpoint (osnadmin, mutual TLS as the orderer org's admin).
func (n *Network) joinOrderer(ctx context.Context, i int) error {
	tlsDir := n.l.ordererAdminTLS()
	_, err := runTool(ctx, n.l.dir, childEnv(), n.tool("osnadmin"), "channel", "join",
		"--channelID", n.topo.Channel, "--config-block", n.l.genesisBlock(n.topo.Channel),
		"-o", addr(n.topo.Ports.OrdererAdmin(i)), "--ca-file", n.l.ordererTLSCA(),
		"--client-cert", filepath.Join(tlsDir, "client.crt"), "--client-key", filepath.Join(tlsDir, "client.key"))
	if err != nil {
		return fmt.Errorf("join %s to channel %s: %w", ordererName(i), n.topo.Channel, err)
	}
	return nil
}

// gatewayPeer returns the peer org whose peer serves org's clients: its
// own, or the first peer for an org without one.
func (n *Network) gatewayPeer(org string) string {
	if n.topo.hasPeer(org) {
		return org
	}
	return n.topo.PeerOrgs[0]
}

// cliEnv is the environment of the peer CLI acting as user of org on the
// gateway peer of org.
func (n *Network) cliEnv(org, user string) ([]string, error) {
	if !slices.Contains(n.topo.Orgs, org) {
		return nil, fmt.Errorf("%s is not a member (members: %v)", org, n.topo.Orgs)
	}
	mspDir := n.l.userMSP(org, user)
	if _, err := os.Stat(mspDir); err != nil {
		return nil, fmt.Errorf("no identity %s of %s: %w", user, org, err)
	}
	p := n.gatewayPeer(org)
	cfg := n.l.path("config", peerName(p))
	if _, err := os.Stat(filepath.Join(cfg, "core.yaml")); err != nil {
		if cfg, err = renderPeer(n.l, n.topo, p); err != nil {
			return nil, err
		}
	}
	return childEnv(
		"FABRIC_CFG_PATH="+cfg,
		"FABRIC_LOGGING_SPEC=warning",
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_LOCALMSPID="+org,
		"CORE_PEER_MSPCONFIGPATH="+mspDir,
		"CORE_PEER_TLS_ROOTCERT_FILE="+n.l.orgTLSCA(p),
		"CORE_PEER_ADDRESS="+addr(n.topo.Ports.Peer(n.topo.peerIndex(p))),
	), nil
}

// PeerCLI returns Fabric's peer command line tool with args, acting as
// user ("admin", "User1", "User2", "User3") of org against org's own peer
// (the first peer for an org without one), e.g.
//
//	n.PeerCLI(ctx, "MeridianMSP", "admin", "channel", "getinfo", "-c", n.Channel())
func (n *Network) PeerCLI(ctx context.Context, org, user string, args ...string) (*exec.Cmd, error) {
	env, err := n.cliEnv(org, user)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, n.tool("peer"), args...)
	cmd.Env, cmd.Dir = env, n.l.dir
	return cmd, nil
}

// peerCLI runs the peer CLI and returns its output.
func (n *Network) peerCLI(ctx context.Context, org, user string, args ...string) ([]byte, error) {
	env, err := n.cliEnv(org, user)
	if err != nil {
		return nil, err
	}
	out, err := runTool(ctx, n.l.dir, env, append([]string{n.tool("peer")}, args...)...)
	if err != nil {
		return out, fmt.Errorf("as %s of %s: %w", user, org, err)
	}
	return out, nil
}

// OrdererArgs returns the peer CLI flags that name a running orderer over
// TLS: -o 127.0.0.1:PORT --tls --cafile <orderer TLS CA>.
func (n *Network) OrdererArgs() []string {
	i := 0
	if r := n.runningOrderers(); len(r) > 0 {
		i = r[0]
	}
	return []string{"-o", addr(n.topo.Ports.Orderer(i)), "--tls", "--cafile", n.l.ordererTLSCA()}
}

// EndorserArgs returns the peer CLI flags naming every running peer as an
// endorser: --peerAddresses ADDR --tlsRootCertFiles CA, for each.
func (n *Network) EndorserArgs() []string {
	var out []string
	for _, org := range n.runningPeers() {
		out = append(out, "--peerAddresses", addr(n.topo.Ports.Peer(n.topo.peerIndex(org))), "--tlsRootCertFiles", n.l.orgTLSCA(org))
	}
	return out
}

// Invoke submits a transaction of the chaincode with Fabric's peer CLI as
// org's admin, endorsed by every running peer, and waits for its commit.
// args are the function name and its arguments.
func (n *Network) Invoke(ctx context.Context, org string, args ...string) error {
	ctorJSON, err := json.Marshal(map[string][]string{"Args": args})
	if err != nil {
		return err
	}
	cli := append([]string{"chaincode", "invoke"}, n.OrdererArgs()...)
	cli = append(cli, "-C", n.topo.Channel, "-n", n.topo.Chaincode, "-c", string(ctorJSON), "--waitForEvent")
	cli = append(cli, n.EndorserArgs()...)
	_, err = n.peerCLI(ctx, org, "admin", cli...)
	return err
}

// Query evaluates a transaction of the chaincode on org's peer with
// Fabric's peer CLI as org's admin and returns the result.
func (n *Network) Query(ctx context.Context, org string, args ...string) ([]byte, error) {
	ctorJSON, err := json.Marshal(map[string][]string{"Args": args})
	if err != nil {
		return nil, err
	}
	out, err := n.peerCLI(ctx, org, "admin", "chaincode", "query", "-C", n.topo.Channel, "-n", n.topo.Chaincode, "-c", string(ctorJSON))
	return []byte(strings.TrimSuffix(string(out), "\n")), err
}

// deployChaincode packages the chaincode as a service, installs it on every
// peer, starts the chaincode server, approves the definition for every
// peer org and commits it.
func (n *Network) deployChaincode(ctx context.Context) error {
	t, l := n.topo, n.l
	pkg, id, err := chaincodePackage(t.label(), addr(t.Ports.Chaincode()))
	if err != nil {
		return fmt.Errorf("package chaincode: %w", err)
	}
	if err := os.MkdirAll(l.path("cc"), 0o755); err != nil {
		return err
	}
	pkgPath := l.path("cc", t.Chaincode+".tar.gz")
	if err := os.WriteFile(pkgPath, pkg, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(l.path("cc", "package_id"), []byte(id+"\n"), 0o644); err != nil {
		return err
	}
	n.topo.PackageID = id

	// The package ID is the chaincode server's CCID: check that Fabric
	// computes the same one from the package.
	out, err := n.peerCLI(ctx, t.PeerOrgs[0], "admin", "lifecycle", "chaincode", "calculatepackageid", pkgPath)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(string(out)); got != id {
		return fmt.Errorf("package ID: Fabric computes %q, tracegate %q", got, id)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, org := range t.PeerOrgs {
		g.Go(func() error {
			if _, err := n.peerCLI(gctx, org, "admin", "lifecycle", "chaincode", "install", pkgPath); err != nil {
				return fmt.Errorf("install chaincode on %s: %w", peerName(org), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := n.StartChaincode(ctx); err != nil {
		return err
	}
	collections := l.path("config", "collections.json")
	def := []string{"--channelID", t.Channel, "--name", t.Chaincode, "--version", t.ChaincodeVersion,
		"--sequence", strconv.Itoa(t.Sequence), "--signature-policy", t.EndorsementPolicy}
	if len(t.Collections) > 0 {
		def = append(def, "--collections-config", collections)
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, org := range t.PeerOrgs {
		g.Go(func() error {
			args := append(append([]string{"lifecycle", "chaincode", "approveformyorg"}, n.OrdererArgs()...), def...)
			if _, err := n.peerCLI(gctx, org, "admin", append(args, "--package-id", id)...); err != nil {
				return fmt.Errorf("approve chaincode for %s: %w", org, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	args := append(append([]string{"lifecycle", "chaincode", "commit"}, n.OrdererArgs()...), def...)
	if _, err := n.peerCLI(ctx, t.PeerOrgs[0], "admin", append(args, n.EndorserArgs()...)...); err != nil {
		return fmt.Errorf("commit chaincode definition: %w", err)
	}
	return nil
}
