package fabricnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Network is a local Fabric network started (or adopted) by Up.
type Network struct {
	l    layout
	bin  string
	topo topology
	opts Options

	mu    sync.Mutex
	procs map[string]*proc // started by this value, by node name
	cc    *inprocChaincode // the chaincode served in this process, if any
}

// inprocChaincode is a running Options.ServeChaincode.
type inprocChaincode struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Up starts the network in opts.Dir. If the directory already holds a
// network (network.json), Up restarts it from its data — orderers, peers and
// the chaincode server, with no channel join or chaincode install — taking
// the topology from the directory; processes that still run are adopted.
// Otherwise it creates a network: crypto material, channel genesis block,
// orderers joined through the channel participation API, peers joined to
// the channel, the chaincode packaged, installed on every peer, approved by
// every peer org and committed. Either way it returns once the network is
// ready (see WaitReady) and <dir>/gateway-fabric.yaml is written. If a step
// fails, the processes Up started are stopped and the error carries the log
// tail of any that died.
func Up(ctx context.Context, opts Options) (*Network, error) {
	o := opts.withDefaults()
	if o.Dir == "" {
		return nil, errors.New("fabric network: Options.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	if o.BinDir == "" {
		if o.BinDir, err = DefaultBinDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fabric network: %w", err)
	}
	// One Up or Down at a time per directory, across processes.
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"), func() {
		o.Progress("waiting for another tracegate process working on " + dir)
	})
	if err != nil {
		return nil, fmt.Errorf("fabric network: lock %s: %w", dir, err)
	}
	defer unlock()
	n := &Network{l: layout{dir}, bin: o.BinDir, opts: o, procs: map[string]*proc{}}
	t, exists, err := loadTopology(dir)
	if err != nil {
		return nil, fmt.Errorf("fabric network: %w", err)
	}
	if exists {
		n.topo = t
		err = n.restart(ctx)
	} else {
		if err := o.validate(); err != nil {
			return nil, fmt.Errorf("fabric network options: %w", err)
		}
		n.topo = newTopology(o)
		err = n.create(ctx)
	}
	if err != nil {
		stopErr := n.stopOwn(context.WithoutCancel(ctx))
		return nil, errors.Join(fmt.Errorf("fabric network in %s: %w", dir, err), stopErr)
	}
	return n, nil
}

// step starts timing a step; calling the result reports it with its
// duration through Options.Progress.
func (n *Network) step() func(format string, args ...any) {
	start := time.Now()
	return func(format string, args ...any) {
		n.opts.Progress(fmt.Sprintf(format, args...) + fmt.Sprintf(" (%.1fs)", time.Since(start).Seconds()))
	}
}

// nodes lists every node name of the network.
func (n *Network) nodes() []string {
	var out []string
	for i := 0; i < n.topo.Orderers; i++ {
		out = append(out, ordererName(i))
	}
	for _, org := range n.topo.PeerOrgs {
		out = append(out, peerName(org))
	}
	return append(out, chaincodeName)
}

// stateEntries are the files and directories a network keeps in its
// directory (Purge removes exactly these).
var stateEntries = []string{".lock", "network.json", "network.json.tmp", "gateway-fabric.yaml", "crypto", "config", "builder", "channel-artifacts", "cc", "data", "logs", "pids"}

// create makes a new network.
func (n *Network) create(ctx context.Context) error {
	t, l := n.topo, n.l
	// Leftovers of a failed or purged-by-hand attempt: stop what runs, clear the rest.
	if err := stopProcs(ctx, l, pidNames(l), nil); err != nil {
		return err
	}
	for _, e := range stateEntries {
		if e == ".lock" { // held by this Up
			continue
		}
		if err := os.RemoveAll(l.path(e)); err != nil {
			return err
		}
	}
	n.opts.Progress(fmt.Sprintf("creating network in %s: channel %s, %d orderer(s), peers %s, members %s, ports %d-%d",
		l.dir, t.Channel, t.Orderers, strings.Join(t.PeerOrgs, ","), strings.Join(t.Orgs, ","), t.Ports.Base, t.Ports.Base+PortBlockSize-1))
	if err := n.ensureBinaries(ctx); err != nil {
		return err
	}
	if err := n.checkPorts(n.nodes()); err != nil {
		return err
	}

	done := n.step()
	cryptoCfg, err := renderCryptoConfig(l, t)
	if err != nil {
		return err
	}
	if _, err := runTool(ctx, l.dir, childEnv(), n.tool("cryptogen"), "generate", "--config="+cryptoCfg, "--output="+l.crypto()); err != nil {
		return err
	}
	configtx, err := renderConfigtx(l, t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.path("channel-artifacts"), 0o755); err != nil {
		return err
	}
	if _, err := runTool(ctx, l.dir, childEnv(), n.tool("configtxgen"), "-configPath", filepath.Dir(configtx),
		"-profile", "TracegateChannel", "-channelID", t.Channel, "-outputBlock", l.genesisBlock(t.Channel)); err != nil {
		return err
	}
	if err := writeBuilder(l); err != nil {
		return err
	}
	if _, err := writeCollections(l, t); err != nil {
		return err
	}
	done("crypto material for %d orgs and the orderer org, channel genesis block", len(t.Orgs))

	done = n.step()
	if err := n.startOrderers(ctx); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := 0; i < t.Orderers; i++ {
		g.Go(func() error { return n.joinOrderer(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return n.withDeaths(err)
	}
	done("%d orderer(s) started, channel %s joined through the channel participation API", t.Orderers, t.Channel)

	done = n.step()
	if err := n.startPeers(ctx); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, org := range t.PeerOrgs {
		g.Go(func() error {
			_, err := n.peerCLI(gctx, org, "admin", "channel", "join", "-b", l.genesisBlock(t.Channel))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return n.withDeaths(err)
	}
	done("%d peer(s) started and joined channel %s", len(t.PeerOrgs), t.Channel)

	done = n.step()
	if err := n.deployChaincode(ctx); err != nil {
		return n.withDeaths(err)
	}
	done("chaincode %s committed: package %s, endorsement %s", t.Chaincode, n.topo.PackageID, t.EndorsementPolicy)

	n.topo.Created = time.Now().UTC()
	if err := n.topo.save(l.dir); err != nil {
		return err
	}
	if err := n.WriteGatewayConfig(n.GatewayConfigPath()); err != nil {
		return err
	}
	return n.withDeaths(n.WaitReady(ctx))
}

// restart starts a network that the directory already holds.
func (n *Network) restart(ctx context.Context) error {
	t, l := n.topo, n.l
	if t.FabricVersion != FabricVersion {
		n.opts.Progress(fmt.Sprintf("note: the network was created with Fabric %s, the binaries are %s", t.FabricVersion, FabricVersion))
	}
	n.opts.Progress(fmt.Sprintf("restarting network in %s from its data: channel %s, %d orderer(s), peers %s, ports %d-%d",
		l.dir, t.Channel, t.Orderers, strings.Join(t.PeerOrgs, ","), t.Ports.Base, t.Ports.Base+PortBlockSize-1))
	if err := n.ensureBinaries(ctx); err != nil {
		return err
	}
	var toStart []string
	for _, name := range n.nodes() {
		if !n.running(name) {
			toStart = append(toStart, name)
		}
	}
	if err := n.checkPorts(toStart); err != nil {
		return err
	}
	if err := writeBuilder(l); err != nil {
		return err
	}
	done := n.step()
	if err := n.startOrderers(ctx); err != nil {
		return err
	}
	if err := n.startPeers(ctx); err != nil {
		return err
	}
	if err := n.StartChaincode(ctx); err != nil {
		return err
	}
	done("processes started (%d already running)", len(n.nodes())-len(toStart))
	if err := n.WriteGatewayConfig(n.GatewayConfigPath()); err != nil {
		return err
	}
	return n.withDeaths(n.WaitReady(ctx))
}

// ensureBinaries finds or builds the Fabric binaries.
func (n *Network) ensureBinaries(ctx context.Context) error {
	if haveBinaries(n.bin) {
		return nil
	}
	done := n.step()
	if err := EnsureBinaries(ctx, n.bin, n.opts.Progress); err != nil {
		return err
	}
	done("Fabric binaries in %s", n.bin)
	return nil
}

// tool returns the path of a Fabric binary.
func (n *Network) tool(name string) string { return filepath.Join(n.bin, name) }

// running reports whether node name's process runs.
func (n *Network) running(name string) bool {
	if name == chaincodeName {
		n.mu.Lock()
		cc := n.cc
		n.mu.Unlock()
		if cc != nil {
			select {
			case <-cc.done:
			default:
				return true
			}
		}
	}
	n.mu.Lock()
	p := n.procs[name]
	n.mu.Unlock()
	if p != nil && !p.exited() {
		return true
	}
	pid, _ := readPidFile(n.l.path("pids", name+".pid"))
	return pid != 0
}

// nodePorts lists the ports node name listens on.
func (n *Network) nodePorts(name string) []int {
	p := n.topo.Ports
	for i := 0; i < n.topo.Orderers; i++ {
		if name == ordererName(i) {
			return []int{p.Orderer(i), p.OrdererAdmin(i), p.OrdererOperations(i)}
		}
	}
	for k, org := range n.topo.PeerOrgs {
		if name == peerName(org) {
			return []int{p.Peer(k), p.PeerChaincode(k), p.PeerOperations(k)}
		}
	}
	if name == chaincodeName && !n.opts.ExternalChaincode {
		return []int{p.Chaincode()}
	}
	return nil
}

// checkPorts fails if a port of the named nodes is taken.
func (n *Network) checkPorts(names []string) error {
	var busy []string
	for _, name := range names {
		for _, port := range n.nodePorts(name) {
			ln, err := net.Listen("tcp", addr(port))
			if err != nil {
				busy = append(busy, fmt.Sprintf("%d (%s)", port, name))
				continue
			}
			ln.Close()
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("ports in use on 127.0.0.1: %s; choose another base port (the network uses %d-%d) or stop what holds them",
			strings.Join(busy, ", "), n.topo.Ports.Base, n.topo.Ports.Base+PortBlockSize-1)
	}
	return nil
}

// withDeaths adds the log tails of processes that died to err.
func (n *Network) withDeaths(err error) error {
	if err == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	errs := []error{err}
	for _, p := range n.procs {
		if p.exited() && !strings.Contains(err.Error(), p.log) { // not already told
			errs = append(errs, p.diedError())
		}
	}
	return errors.Join(errs...)
}

// logSpec is FABRIC_LOGGING_SPEC for the orderers and peers.
func (n *Network) logSpec() string { return "FABRIC_LOGGING_SPEC=" + n.opts.LogSpec }

// startOrderers starts the orderers that do not run, in parallel.
func (n *Network) startOrderers(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for i := 0; i < n.topo.Orderers; i++ {
		if n.running(ordererName(i)) {
			continue
		}
		g.Go(func() error { return n.StartOrderer(gctx, i) })
	}
	return g.Wait()
}

// startPeers starts the peers that do not run, in parallel.
func (n *Network) startPeers(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, org := range n.topo.PeerOrgs {
		if n.running(peerName(org)) {
			continue
		}
		g.Go(func() error { return n.StartPeer(gctx, org) })
	}
	return g.Wait()
}

// StartOrderer starts orderer i (0-based) and waits until it is healthy;
// it does nothing if the orderer runs. Call WaitReady for a Raft leader.
func (n *Network) StartOrderer(ctx context.Context, i int) error {
	if i < 0 || i >= n.topo.Orderers {
		return fmt.Errorf("no orderer %d (the network has %d)", i, n.topo.Orderers)
	}
	name := ordererName(i)
	if n.running(name) {
		return nil
	}
	cfg, err := renderOrderer(n.l, n.topo, i)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.l.path("data", name), 0o755); err != nil {
		return err
	}
	return n.startNode(ctx, name, []string{n.tool("orderer")}, childEnv("FABRIC_CFG_PATH="+cfg, n.logSpec()),
		addr(n.topo.Ports.OrdererOperations(i)), addr(n.topo.Ports.Orderer(i)), addr(n.topo.Ports.OrdererAdmin(i)))
}

// StartPeer starts org's peer and waits until it is healthy; it does
// nothing if the peer runs. Call WaitReady for gossip and endorsers.
func (n *Network) StartPeer(ctx context.Context, org string) error {
	k := n.topo.peerIndex(org)
	if k < 0 {
		return fmt.Errorf("%s runs no peer (peers: %v)", org, n.topo.PeerOrgs)
	}
	name := peerName(org)
	if n.running(name) {
		return nil
	}
	cfg, err := renderPeer(n.l, n.topo, org)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.l.path("data", name), 0o755); err != nil {
		return err
	}
	return n.startNode(ctx, name, []string{n.tool("peer"), "node", "start"}, childEnv("FABRIC_CFG_PATH="+cfg, n.logSpec()),
		addr(n.topo.Ports.PeerOperations(k)), addr(n.topo.Ports.Peer(k)))
}

// startNode starts a node's process and waits for its /healthz and for its
// other addresses to listen.
func (n *Network) startNode(ctx context.Context, name string, argv, env []string, opsAddr string, listen ...string) error {
	p, err := startProc(n.l, name, argv, env, n.opts.StopWithParent)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.procs[name] = p
	n.mu.Unlock()
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitHealthy(hctx, p, "http://"+opsAddr+"/healthz", listen...)
}

// StopOrderer stops orderer i (0-based).
func (n *Network) StopOrderer(ctx context.Context, i int) error {
	if i < 0 || i >= n.topo.Orderers {
		return fmt.Errorf("no orderer %d (the network has %d)", i, n.topo.Orderers)
	}
	return n.stop(ctx, ordererName(i))
}

// StopPeer stops org's peer.
func (n *Network) StopPeer(ctx context.Context, org string) error {
	if !n.topo.hasPeer(org) {
		return fmt.Errorf("%s runs no peer (peers: %v)", org, n.topo.PeerOrgs)
	}
	return n.stop(ctx, peerName(org))
}

// StopChaincode stops the chaincode server.
func (n *Network) StopChaincode(ctx context.Context) error {
	n.mu.Lock()
	cc := n.cc
	n.cc = nil
	n.mu.Unlock()
	if cc != nil {
		cc.cancel()
		select {
		case <-cc.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return n.stop(ctx, chaincodeName)
}

// StartChaincode starts the chaincode server as Options say (a child
// process by default, or ServeChaincode in this process; nothing with
// ExternalChaincode) and waits until it listens; it does nothing if the
// server runs.
func (n *Network) StartChaincode(ctx context.Context) error {
	if n.opts.ExternalChaincode || n.running(chaincodeName) {
		return nil
	}
	ccid, address := n.topo.PackageID, addr(n.topo.Ports.Chaincode())
	if n.opts.ServeChaincode != nil {
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cc := &inprocChaincode{cancel: cancel, done: make(chan struct{})}
		go func() {
			cc.err = n.opts.ServeChaincode(cctx, ccid, address)
			close(cc.done)
		}()
		n.mu.Lock()
		n.cc = cc
		n.mu.Unlock()
	} else {
		argv := n.opts.ChaincodeCommand
		if len(argv) == 0 {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("chaincode server: %w", err)
			}
			argv = []string{exe, "chaincode"}
		}
		argv = append(append([]string(nil), argv...), "--id", ccid, "--address", address)
		p, err := startProc(n.l, chaincodeName, argv, childEnv("CHAINCODE_ID="+ccid, "CHAINCODE_SERVER_ADDRESS="+address), n.opts.StopWithParent)
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.procs[chaincodeName] = p
		n.mu.Unlock()
	}
	done := n.step()
	if err := n.waitChaincode(ctx); err != nil {
		return err
	}
	done("chaincode server listening on %s", address)
	return nil
}

// chaincodeDied returns an error if the chaincode server this value
// started has exited.
func (n *Network) chaincodeDied() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cc != nil {
		select {
		case <-n.cc.done:
			return fmt.Errorf("the in-process chaincode server returned: %v", n.cc.err)
		default:
			return nil
		}
	}
	if p := n.procs[chaincodeName]; p != nil && p.exited() {
		return p.diedError()
	}
	return nil
}

// stop stops one node by its pid file.
func (n *Network) stop(ctx context.Context, name string) error {
	n.mu.Lock()
	own := map[string]*proc{name: n.procs[name]}
	n.mu.Unlock()
	return stopProcs(ctx, n.l, []string{name}, own)
}

// stopOwn stops the processes this value started.
func (n *Network) stopOwn(ctx context.Context) error {
	n.mu.Lock()
	var names []string
	for name := range n.procs {
		names = append(names, name)
	}
	own := n.procs
	cc := n.cc
	n.cc = nil
	n.mu.Unlock()
	if cc != nil {
		cc.cancel()
		<-cc.done
	}
	return stopProcs(ctx, n.l, names, own)
}

// DownOption changes what Down does.
type DownOption func(*downOptions)

type downOptions struct{ purge bool }

// Purge makes Down remove the network's state (crypto material, ledgers,
// logs, configuration) after stopping it; the directory itself is removed
// if nothing else is left in it.
func Purge() DownOption { return func(o *downOptions) { o.purge = true } }

// Down stops every process of the network: the in-process chaincode
// server, and every process with a pid file in the network's directory
// (SIGTERM to its process group, SIGKILL after 10 s). The state stays, for
// a later Up, unless Purge is given.
func (n *Network) Down(ctx context.Context, opts ...DownOption) error {
	n.mu.Lock()
	cc := n.cc
	n.cc = nil
	own := n.procs
	n.procs = map[string]*proc{}
	n.mu.Unlock()
	if cc != nil {
		cc.cancel()
		<-cc.done
	}
	return down(ctx, n.l, own, opts)
}

// DownDir stops the network in dir, which another process may have
// started (`tracegate fabric down`); see Network.Down.
func DownDir(ctx context.Context, dir string, opts ...DownOption) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	return down(ctx, layout{abs}, nil, opts)
}

func down(ctx context.Context, l layout, own map[string]*proc, opts []DownOption) error {
	var o downOptions
	for _, f := range opts {
		f(&o)
	}
	if _, err := os.Stat(l.dir); errors.Is(err, os.ErrNotExist) {
		return nil // nothing to stop
	}
	unlock, err := lockFile(ctx, l.path(".lock"), func() {})
	if err != nil {
		return fmt.Errorf("stop fabric network: lock %s: %w", l.dir, err)
	}
	defer unlock()
	names := pidNames(l)
	for name := range own {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if err := stopProcs(ctx, l, names, own); err != nil {
		return fmt.Errorf("stop fabric network in %s: %w", l.dir, err)
	}
	if !o.purge {
		return nil
	}
	for _, e := range stateEntries {
		if err := os.RemoveAll(l.path(e)); err != nil {
			return fmt.Errorf("purge fabric network: %w", err)
		}
	}
	os.Remove(l.dir) // only if empty
	return nil
}

// Dir returns the network's directory.
func (n *Network) Dir() string { return n.l.dir }

// Channel returns the channel name.
func (n *Network) Channel() string { return n.topo.Channel }

// Chaincode returns the chaincode name.
func (n *Network) Chaincode() string { return n.topo.Chaincode }

// PackageID returns the installed chaincode package's ID, the CCID the
// chaincode server must use.
func (n *Network) PackageID() string { return n.topo.PackageID }

// ChaincodeAddress returns where the peers dial the chaincode server.
func (n *Network) ChaincodeAddress() string { return addr(n.topo.Ports.Chaincode()) }

// EndorsementPolicy returns the chaincode's endorsement policy.
func (n *Network) EndorsementPolicy() string { return n.topo.EndorsementPolicy }

// Orgs returns the consortium's members; PeerOrgs those running a peer.
func (n *Network) Orgs() []string { return append([]string(nil), n.topo.Orgs...) }

// PeerOrgs returns the members running a peer.
func (n *Network) PeerOrgs() []string { return append([]string(nil), n.topo.PeerOrgs...) }

// Collections returns the private data collections with their resolved
// endorsement policies.
func (n *Network) Collections() []Collection { return append([]Collection(nil), n.topo.Collections...) }

// Ports returns the network's port layout.
func (n *Network) Ports() Ports { return n.topo.Ports }

// Orderers returns the number of orderers.
func (n *Network) Orderers() int { return n.topo.Orderers }

// LogFile returns the log file of a node: "orderer0", "peer0.<org label>"
// (see PeerName) or "chaincode".
func (n *Network) LogFile(node string) string { return n.l.path("logs", node+".log") }

// PeerName returns the node name of org's peer ("peer0.meridian").
func PeerName(org string) string { return peerName(org) }
