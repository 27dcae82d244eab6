package fabricnet

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// NetworkStatus is a network's state as seen from its directory.
type NetworkStatus struct {
	Dir               string
	Channel           string
	Chaincode         string
	PackageID         string
	EndorsementPolicy string
	Orgs              []string
	Collections       []Collection
	Ports             Ports
	Nodes             []NodeStatus
}

// NodeStatus is one process of a network.
type NodeStatus struct {
	Name    string // orderer0, peer0.meridian, chaincode
	Kind    string // "orderer", "peer" or "chaincode"
	Org     string // MSP ID
	Running bool
	// PID is the process ID from its pid file; 0 when it does not run or
	// runs without one (a chaincode served in-process or by someone else).
	PID int
	// Address is the gRPC address; Admin and Operations the orderer's
	// admin and the node's operations addresses.
	Address, Admin, Operations string
	// Height is the node's channel height in blocks (0 if unknown).
	Height uint64
	// Leader reports an orderer that is the channel's Raft leader.
	Leader bool
	// GossipPeers is how many other peers a peer sees on the channel.
	GossipPeers int
	// RSS is the resident memory in bytes (0 if unknown).
	RSS uint64
}

// Status reports the network in dir: which processes run, with their pids
// and ports, each node's channel height, and the chaincode package ID.
func Status(dir string) (NetworkStatus, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return NetworkStatus{}, err
	}
	t, ok, err := loadTopology(abs)
	if err != nil {
		return NetworkStatus{Dir: abs}, err
	}
	if !ok {
		return NetworkStatus{Dir: abs}, fmt.Errorf("no Fabric network in %s (no network.json)", abs)
	}
	n := &Network{l: layout{abs}, topo: t, procs: map[string]*proc{}}
	return n.Status(context.Background()), nil
}

// Status reports the network's processes, ports and channel heights.
func (n *Network) Status(ctx context.Context) NetworkStatus {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t := n.topo
	s := NetworkStatus{Dir: n.l.dir, Channel: t.Channel, Chaincode: t.Chaincode, PackageID: t.PackageID,
		EndorsementPolicy: t.EndorsementPolicy, Orgs: t.Orgs, Collections: t.Collections, Ports: t.Ports}
	pidOf := func(name string) int {
		n.mu.Lock()
		p := n.procs[name]
		n.mu.Unlock()
		if p != nil && !p.exited() {
			return p.pid
		}
		pid, _ := readPidFile(n.l.path("pids", name+".pid"))
		return pid
	}
	for i := 0; i < t.Orderers; i++ {
		ns := NodeStatus{Name: ordererName(i), Kind: "orderer", Org: OrdererMSP, PID: pidOf(ordererName(i)),
			Address: addr(t.Ports.Orderer(i)), Admin: addr(t.Ports.OrdererAdmin(i)), Operations: addr(t.Ports.OrdererOperations(i))}
		ns.Running = ns.PID != 0
		if ns.Running {
			m, _ := scrapeMetrics(ctx, ns.Operations, t.Channel, metricHeight, metricIsLeader)
			ns.Height, ns.Leader, ns.RSS = uint64(m[metricHeight]), m[metricIsLeader] == 1, procRSS(ns.PID)
		}
		s.Nodes = append(s.Nodes, ns)
	}
	for k, org := range t.PeerOrgs {
		ns := NodeStatus{Name: peerName(org), Kind: "peer", Org: org, PID: pidOf(peerName(org)),
			Address: addr(t.Ports.Peer(k)), Operations: addr(t.Ports.PeerOperations(k))}
		ns.Running = ns.PID != 0
		if ns.Running {
			m, _ := scrapeMetrics(ctx, ns.Operations, t.Channel, metricHeight, metricGossipPeers)
			ns.Height, ns.GossipPeers, ns.RSS = uint64(m[metricHeight]), int(m[metricGossipPeers]), procRSS(ns.PID)
		}
		s.Nodes = append(s.Nodes, ns)
	}
	cc := NodeStatus{Name: chaincodeName, Kind: "chaincode", PID: pidOf(chaincodeName), Address: addr(t.Ports.Chaincode())}
	cc.Running = cc.PID != 0
	if cc.Running {
		cc.RSS = procRSS(cc.PID)
	} else if c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", cc.Address); err == nil {
		c.Close()
		cc.Running = true // served in-process or by someone else
	}
	s.Nodes = append(s.Nodes, cc)
	return s
}

// String formats the status as a table.
func (s NetworkStatus) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "network   %s\nchannel   %s\nchaincode %s (package %s)\nendorsement %s\n", s.Dir, s.Channel, s.Chaincode, s.PackageID, s.EndorsementPolicy)
	for _, c := range s.Collections {
		fmt.Fprintf(&b, "collection %s: members %s, endorsement %s\n", c.Name, strings.Join(c.Members, ","), c.EndorsementPolicy)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tORG\tSTATE\tPID\tADDRESS\tOPERATIONS\tHEIGHT\tRSS\tNOTE")
	for _, n := range s.Nodes {
		state, pid, height, rss, note := "down", "-", "-", "-", ""
		if n.Running {
			state = "up"
		}
		if n.PID != 0 {
			pid = fmt.Sprint(n.PID)
		}
		if n.Height > 0 {
			height = fmt.Sprint(n.Height)
		}
		if n.RSS > 0 {
			rss = fmt.Sprintf("%d MB", n.RSS>>20)
		}
		switch {
		case n.Kind == "orderer" && n.Leader:
			note = "raft leader"
		case n.Kind == "orderer" && n.Admin != "":
			note = "admin " + n.Admin
		case n.Kind == "peer" && n.Running:
			note = fmt.Sprintf("sees %d peer(s)", n.GossipPeers)
		case n.Kind == "chaincode" && n.Running && n.PID == 0:
			note = "no pid file: in-process or external"
		}
		ops := n.Operations
		if ops == "" {
			ops = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Org, state, pid, n.Address, ops, height, rss, note)
	}
	tw.Flush()
	return b.String()
}
