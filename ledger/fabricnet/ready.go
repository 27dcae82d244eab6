package fabricnet

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/discovery"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
)

// scrapeMetric reads one gauge or counter for channel from a Prometheus
// /metrics page; ok is false if the page or the series is missing.
func scrapeMetric(ctx context.Context, opsAddr, name, channel string) (v float64, ok bool) {
	all, err := scrapeMetrics(ctx, opsAddr, channel, name)
	if err != nil {
		return 0, false
	}
	v, ok = all[name]
	return v, ok
}

// scrapeMetrics reads the named series of channel from opsAddr's /metrics.
func scrapeMetrics(ctx context.Context, opsAddr, channel string, names ...string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+opsAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: %s", opsAddr, resp.Status)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	label := `channel="` + channel + `"`
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, found := strings.Cut(line, "{")
		if !found || !want[name] {
			continue
		}
		labels, value, found := strings.Cut(rest, "} ")
		if !found || !strings.Contains(labels, label) {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = f
		}
	}
	return out, sc.Err()
}

// Metric names read from the operations endpoints.
const (
	metricIsLeader      = "consensus_etcdraft_is_leader"
	metricLeaderChanges = "consensus_etcdraft_leader_changes"
	metricGossipPeers   = "gossip_membership_total_peers_known"
	metricHeight        = "ledger_blockchain_height"
)

// WaitReady waits until the running network can take transactions: a Raft
// leader that the running orderers know, every running peer seeing every
// other running peer on the channel through gossip, the chaincode server
// listening (unless Options.ExternalChaincode), and every running peer's
// discovery service (which the gateway
// uses) finding endorsers that satisfy the chaincode's endorsement policy.
// Each condition gets Options.ReadyTimeout.
func (n *Network) WaitReady(ctx context.Context) error {
	done := n.step()
	if err := n.waitRaft(ctx); err != nil {
		return err
	}
	if err := n.waitGossip(ctx); err != nil {
		return err
	}
	if !n.opts.ExternalChaincode { // nobody may serve it yet: the caller learns the package ID from Up
		if err := n.waitChaincode(ctx); err != nil {
			return err
		}
	}
	if err := n.waitEndorsers(ctx); err != nil {
		return err
	}
	done("ready: Raft leader, gossip membership, chaincode server, endorsers for policy %s", n.topo.EndorsementPolicy)
	return nil
}

// poll calls check every 200ms until it returns nil, ctx ends or the
// ready timeout passes; the error then says what check last reported.
func (n *Network) poll(ctx context.Context, what string, check func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.ReadyTimeout)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		var fatal fatalError
		if errors.As(err, &fatal) {
			return fmt.Errorf("%s: %w", what, fatal.error)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not ready after %v: %w", what, n.opts.ReadyTimeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fatalError ends a poll at once.
type fatalError struct{ error }

// runningOrderers and runningPeers list the nodes whose process runs.
func (n *Network) runningOrderers() []int {
	var out []int
	for i := 0; i < n.topo.Orderers; i++ {
		if n.running(ordererName(i)) {
			out = append(out, i)
		}
	}
	return out
}

func (n *Network) runningPeers() []string {
	var out []string
	for _, org := range n.topo.PeerOrgs {
		if n.running(peerName(org)) {
			out = append(out, org)
		}
	}
	return out
}

// waitRaft waits for a Raft leader among the running orderers, known to
// all of them.
func (n *Network) waitRaft(ctx context.Context) error {
	return n.poll(ctx, "Raft leader", func(ctx context.Context) error {
		running := n.runningOrderers()
		if len(running) < majority(n.topo.Orderers) {
			return fatalError{fmt.Errorf("only %d of %d orderers run: Raft needs %d", len(running), n.topo.Orderers, majority(n.topo.Orderers))}
		}
		leader := -1
		for _, i := range running {
			m, err := scrapeMetrics(ctx, addr(n.topo.Ports.OrdererOperations(i)), n.topo.Channel, metricIsLeader, metricLeaderChanges)
			if err != nil {
				return fmt.Errorf("%s: %w", ordererName(i), err)
			}
			if m[metricIsLeader] == 1 {
				leader = i
			}
			if m[metricLeaderChanges] < 1 {
				return fmt.Errorf("%s has seen no leader yet", ordererName(i))
			}
		}
		if leader < 0 {
			return errors.New("no orderer is leader yet")
		}
		return nil
	})
}

// waitGossip waits until every running peer sees every other one.
func (n *Network) waitGossip(ctx context.Context) error {
	return n.poll(ctx, "gossip membership", func(ctx context.Context) error {
		running := n.runningPeers()
		for _, org := range running {
			k := n.topo.peerIndex(org)
			v, _ := scrapeMetric(ctx, addr(n.topo.Ports.PeerOperations(k)), metricGossipPeers, n.topo.Channel)
			if int(v) < len(running)-1 {
				return fmt.Errorf("%s sees %d of the %d other running peers", peerName(org), int(v), len(running)-1)
			}
		}
		return nil
	})
}

// waitChaincode waits until the chaincode server accepts connections.
func (n *Network) waitChaincode(ctx context.Context) error {
	a := addr(n.topo.Ports.Chaincode())
	return n.poll(ctx, "chaincode server", func(ctx context.Context) error {
		if err := n.chaincodeDied(); err != nil {
			return fatalError{err}
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", a)
		if err != nil {
			return fmt.Errorf("no chaincode server on %s: %w", a, err)
		}
		c.Close()
		return nil
	})
}

// waitEndorsers waits until every running peer's discovery service finds
// endorsers satisfying the chaincode's endorsement policy.
func (n *Network) waitEndorsers(ctx context.Context) error {
	return n.poll(ctx, "endorsers", func(ctx context.Context) error {
		running := n.runningPeers()
		if len(running) < majority(len(n.topo.PeerOrgs)) {
			return fatalError{fmt.Errorf("only %d of %d peers run: the endorsement policy %s needs %d", len(running), len(n.topo.PeerOrgs), n.topo.EndorsementPolicy, majority(len(n.topo.PeerOrgs)))}
		}
		for _, org := range running {
			if _, err := n.Endorsers(ctx, org); err != nil {
				return err
			}
		}
		return nil
	})
}

// Endorsers asks the discovery service of org's peer, as org's User1, which
// orgs' peers can endorse a transaction of the chaincode, as the gateway on
// that peer would plan it. It returns the endorsing orgs of the first
// layout, or an error if no combination of peers satisfies the policy.
func (n *Network) Endorsers(ctx context.Context, org string) ([]string, error) {
	k := n.topo.peerIndex(org)
	if k < 0 {
		return nil, fmt.Errorf("%s runs no peer", org)
	}
	const user = "User1"
	certPEM, err := os.ReadFile(n.l.userCert(org, user))
	if err != nil {
		return nil, err
	}
	key, err := readECKey(n.l.userKey(org, user))
	if err != nil {
		return nil, err
	}
	tlsCert, err := tls.LoadX509KeyPair(n.l.userTLS(org, user)+"/client.crt", n.l.userTLS(org, user)+"/client.key")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(n.l.orgTLSCA(org))
	if err != nil {
		return nil, err
	}
	pool.AppendCertsFromPEM(ca)
	conn, err := grpc.NewClient(addr(n.topo.Ports.Peer(k)), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12,
	})))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: org, IdBytes: certPEM})
	if err != nil {
		return nil, err
	}
	tlsHash := sha256.Sum256(tlsCert.Certificate[0])
	payload, err := proto.Marshal(&discovery.Request{
		Authentication: &discovery.AuthInfo{ClientIdentity: creator, ClientTlsCertHash: tlsHash[:]},
		Queries: []*discovery.Query{{
			Channel: n.topo.Channel,
			Query: &discovery.Query_CcQuery{CcQuery: &discovery.ChaincodeQuery{
				Interests: []*peer.ChaincodeInterest{{Chaincodes: []*peer.ChaincodeCall{{Name: n.topo.Chaincode}}}},
			}},
		}},
	})
	if err != nil {
		return nil, err
	}
	sig, err := signLowS(key, payload)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := discovery.NewDiscoveryClient(conn).Discover(ctx, &discovery.SignedRequest{Payload: payload, Signature: sig})
	if err != nil {
		return nil, fmt.Errorf("discovery on %s: %w", peerName(org), err)
	}
	if len(resp.GetResults()) == 0 {
		return nil, fmt.Errorf("discovery on %s: empty response", peerName(org))
	}
	res := resp.GetResults()[0]
	if e := res.GetError(); e != nil {
		return nil, fmt.Errorf("discovery on %s: %s", peerName(org), e.GetContent())
	}
	for _, d := range res.GetCcQueryRes().GetContent() {
		for _, lay := range d.GetLayouts() {
			var orgs []string
			for group := range lay.GetQuantitiesByGroup() {
				for _, p := range d.GetEndorsersByGroups()[group].GetPeers() {
					var id msp.SerializedIdentity
					if proto.Unmarshal(p.GetIdentity(), &id) == nil {
						orgs = append(orgs, id.GetMspid())
						break
					}
				}
			}
			return orgs, nil
		}
	}
	return nil, fmt.Errorf("discovery on %s: no endorsement layout for chaincode %s", peerName(org), n.topo.Chaincode)
}

// readECKey reads a PKCS#8 (cryptogen) or SEC 1 ECDSA private key.
func readECKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		if ec, ok := k.(*ecdsa.PrivateKey); ok {
			return ec, nil
		}
		return nil, fmt.Errorf("%s: not an ECDSA key", path)
	}
	return x509.ParseECPrivateKey(blk.Bytes)
}

// signLowS signs SHA-256(msg) with the low-S ECDSA signature Fabric's MSP
// requires.
func signLowS(key *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	digest := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return nil, err
	}
	halfN := new(big.Int).Rsh(key.Curve.Params().N, 1)
	if s.Cmp(halfN) > 0 {
		s.Sub(key.Curve.Params().N, s)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}
