package fabricnet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// PortBlockSize is the number of consecutive ports a network uses from its
// base port (see Ports).
const PortBlockSize = 30

// maxPeers is the number of peers the port block has room for.
const maxPeers = 6

// domainSuffix is the DNS suffix of the cryptogen organisations.
const domainSuffix = "tracegate.example"

// Ports is a network's port layout, all on 127.0.0.1, from base port B:
//
//	B+0..B+2   orderer0..2 gRPC (clients, peers and Raft cluster traffic)
//	B+3..B+5   orderer0..2 admin (channel participation API, mutual TLS)
//	B+6..B+8   orderer0..2 operations (/healthz, /metrics)
//	B+9        chaincode server (chaincode as a service)
//	B+10+3k    peer k gRPC (gateway, endorser, deliver, gossip)
//	B+11+3k    peer k chaincode listener
//	B+12+3k    peer k operations (/healthz, /metrics)
//
// so the default base 7050 puts orderer0 on 7050, its admin API on 7053,
// the chaincode on 7059 and the first peer on 7060.
type Ports struct {
	Base int `json:"base"`
}

// Orderer returns orderer i's gRPC port.
func (p Ports) Orderer(i int) int { return p.Base + i }

// OrdererAdmin returns orderer i's admin (osnadmin) port.
func (p Ports) OrdererAdmin(i int) int { return p.Base + 3 + i }

// OrdererOperations returns orderer i's operations port.
func (p Ports) OrdererOperations(i int) int { return p.Base + 6 + i }

// Chaincode returns the chaincode server's port.
func (p Ports) Chaincode() int { return p.Base + 9 }

// Peer returns peer k's gRPC port.
func (p Ports) Peer(k int) int { return p.Base + 10 + 3*k }

// PeerChaincode returns peer k's chaincode listener port.
func (p Ports) PeerChaincode(k int) int { return p.Base + 11 + 3*k }

// PeerOperations returns peer k's operations port.
func (p Ports) PeerOperations(k int) int { return p.Base + 12 + 3*k }

// addr formats a loopback address.
func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// topology is what a network is made of; it is recorded in network.json
// once the chaincode is committed and read back by a restart.
type topology struct {
	Format           int          `json:"format"`
	FabricVersion    string       `json:"fabricVersion"`
	Channel          string       `json:"channel"`
	Chaincode        string       `json:"chaincode"`
	ChaincodeVersion string       `json:"chaincodeVersion"`
	Sequence         int          `json:"sequence"`
	Orgs             []string     `json:"orgs"`
	PeerOrgs         []string     `json:"peerOrgs"`
	Orderers         int          `json:"orderers"`
	Collections      []Collection `json:"collections"`
	Ports            Ports        `json:"ports"`
	BatchTimeout     string       `json:"batchTimeout"`
	// EndorsementPolicy is the chaincode's endorsement policy.
	EndorsementPolicy string `json:"endorsementPolicy"`
	// PackageID is the installed chaincode package's ID (label:sha256).
	PackageID string    `json:"packageID"`
	Created   time.Time `json:"created"`
}

const topologyFormat = 1

// newTopology derives the topology from options with their defaults.
func newTopology(o Options) topology {
	t := topology{
		Format: topologyFormat, FabricVersion: FabricVersion,
		Channel: o.Channel, Chaincode: o.Chaincode, ChaincodeVersion: o.ChaincodeVersion, Sequence: 1,
		Orgs: o.Orgs, PeerOrgs: o.PeerOrgs, Orderers: o.Orderers,
		Ports: Ports{Base: o.BasePort}, BatchTimeout: o.BatchTimeout.String(),
		EndorsementPolicy: peerPolicy(majority(len(o.PeerOrgs)), o.PeerOrgs),
	}
	for _, c := range o.Collections {
		c.Members = append([]string(nil), c.Members...)
		if c.EndorsementPolicy == "" {
			var withPeer []string
			for _, m := range c.Members {
				if t.hasPeer(m) {
					withPeer = append(withPeer, m)
				}
			}
			c.EndorsementPolicy = peerPolicy(majority(len(withPeer)), withPeer)
		}
		t.Collections = append(t.Collections, c)
	}
	return t
}

// label returns the chaincode package label.
func (t topology) label() string { return t.Chaincode + "_" + t.ChaincodeVersion }

// hasPeer reports whether org runs a peer.
func (t topology) hasPeer(org string) bool { return t.peerIndex(org) >= 0 }

// peerIndex returns org's index in PeerOrgs, or -1.
func (t topology) peerIndex(org string) int {
	for i, p := range t.PeerOrgs {
		if p == org {
			return i
		}
	}
	return -1
}

// loadTopology reads dir/network.json; ok is false when there is none.
func loadTopology(dir string) (t topology, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "network.json"))
	if os.IsNotExist(err) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, false, fmt.Errorf("%s: %w", filepath.Join(dir, "network.json"), err)
	}
	if t.Format != topologyFormat {
		return t, false, fmt.Errorf("%s: format %d, want %d (purge the directory to start over)", filepath.Join(dir, "network.json"), t.Format, topologyFormat)
	}
	return t, true, nil
}

// Exists reports whether dir holds a network (a later Up restarts it).
func Exists(dir string) bool {
	_, ok, err := loadTopology(dir)
	return ok && err == nil
}

// save writes dir/network.json.
func (t topology) save(dir string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "network.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write network.json: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "network.json"))
}

// orgLabel is the DNS label of an org: its MSP ID without the "MSP"
// suffix, in lower case letters and digits ("NorthWarehouseMSP" →
// "northwarehouse").
func orgLabel(msp string) string {
	s := strings.TrimSuffix(msp, "MSP")
	if s == "" {
		s = msp
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// orgDomain is the cryptogen domain of a member org.
func orgDomain(msp string) string { return orgLabel(msp) + "." + domainSuffix }

// ordererDomain is the cryptogen domain of the orderer org.
const ordererDomain = domainSuffix

// layout resolves the paths of a network directory.
type layout struct{ dir string }

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.dir}, elem...)...)
}

func (l layout) crypto() string { return l.path("crypto") }

// orgDir is a member org's cryptogen directory.
func (l layout) orgDir(msp string) string {
	return l.path("crypto", "peerOrganizations", orgDomain(msp))
}

// ordererOrgDir is the orderer org's cryptogen directory.
func (l layout) ordererOrgDir() string {
	return l.path("crypto", "ordererOrganizations", ordererDomain)
}

// peerHost is the host name of org's peer.
func peerHost(msp string) string { return "peer0." + orgDomain(msp) }

// ordererHost is the host name of orderer i.
func ordererHost(i int) string { return fmt.Sprintf("orderer%d.%s", i, ordererDomain) }

// peerDir is org's peer's cryptogen directory (msp/, tls/).
func (l layout) peerDir(msp string) string {
	return filepath.Join(l.orgDir(msp), "peers", peerHost(msp))
}

// ordererDir is orderer i's cryptogen directory.
func (l layout) ordererDir(i int) string {
	return filepath.Join(l.ordererOrgDir(), "orderers", ordererHost(i))
}

// userName is cryptogen's name of a user: "Admin" or "User1".
func cryptoUser(user string) string {
	if user == "admin" || user == "Admin" {
		return "Admin"
	}
	return user
}

// userMSP is the MSP directory of an org's user ("admin", "User1", …).
func (l layout) userMSP(msp, user string) string {
	u := cryptoUser(user) + "@" + orgDomain(msp)
	return filepath.Join(l.orgDir(msp), "users", u, "msp")
}

// userTLS is the TLS directory (client.crt, client.key) of an org's user.
func (l layout) userTLS(msp, user string) string {
	u := cryptoUser(user) + "@" + orgDomain(msp)
	return filepath.Join(l.orgDir(msp), "users", u, "tls")
}

// userCert and userKey are the signing certificate and key of an org's user.
func (l layout) userCert(msp, user string) string {
	u := cryptoUser(user) + "@" + orgDomain(msp)
	return filepath.Join(l.userMSP(msp, user), "signcerts", u+"-cert.pem")
}

func (l layout) userKey(msp, user string) string {
	return filepath.Join(l.userMSP(msp, user), "keystore", "priv_sk")
}

// orgTLSCA is the CA certificate that signed org's TLS certificates.
func (l layout) orgTLSCA(msp string) string {
	return filepath.Join(l.orgDir(msp), "tlsca", "tlsca."+orgDomain(msp)+"-cert.pem")
}

// ordererTLSCA is the CA certificate of the orderers' TLS certificates.
func (l layout) ordererTLSCA() string {
	return filepath.Join(l.ordererOrgDir(), "tlsca", "tlsca."+ordererDomain+"-cert.pem")
}

// ordererAdminTLS is the orderer org admin's TLS directory (osnadmin).
func (l layout) ordererAdminTLS() string {
	return filepath.Join(l.ordererOrgDir(), "users", "Admin@"+ordererDomain, "tls")
}

func (l layout) genesisBlock(channel string) string {
	return l.path("channel-artifacts", channel+".block")
}

// Node names: orderer0..2, peer0.<org label>, chaincode.
func ordererName(i int) string   { return fmt.Sprintf("orderer%d", i) }
func peerName(msp string) string { return "peer0." + orgLabel(msp) }

const chaincodeName = "chaincode"
