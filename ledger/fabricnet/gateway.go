package fabricnet

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/fabric"
)

// GatewayConfig returns the connection configuration the gateway's Fabric
// backend uses: the channel and chaincode, every peer with its TLS CA,
// every member's admin (user "admin") and users User1..User3, and the
// collections with their members.
func (n *Network) GatewayConfig() fabric.Config {
	t := n.topo
	c := fabric.Config{Channel: t.Channel, Chaincode: t.Chaincode, Collections: map[string][]string{}}
	for k, org := range t.PeerOrgs {
		c.Peers = append(c.Peers, fabric.Peer{Org: org, Endpoint: addr(t.Ports.Peer(k)), TLSCACert: n.l.orgTLSCA(org)})
	}
	for _, org := range t.Orgs {
		c.Identities = append(c.Identities, fabric.Identity{Org: org, User: ledger.AdminUser,
			Cert: n.l.userCert(org, "Admin"), Key: n.l.userKey(org, "Admin")})
		for i := 1; i <= cryptoUsers; i++ {
			u := fmt.Sprintf("User%d", i)
			c.Identities = append(c.Identities, fabric.Identity{Org: org, User: u, Cert: n.l.userCert(org, u), Key: n.l.userKey(org, u)})
		}
	}
	for _, col := range t.Collections {
		c.Collections[col.Name] = append([]string(nil), col.Members...)
	}
	return c
}

// GatewayConfigPath is where Up writes the gateway configuration:
// <dir>/gateway-fabric.yaml.
func (n *Network) GatewayConfigPath() string { return n.l.path("gateway-fabric.yaml") }

// gatewayFile is the shape of the file WriteGatewayConfig writes: the
// ledger section of a gateway configuration.
type gatewayFile struct {
	Ledger struct {
		Kind   string        `yaml:"kind"`
		Fabric fabric.Config `yaml:"fabric"`
	} `yaml:"ledger"`
}

// WriteGatewayConfig writes GatewayConfig as YAML to path, as the ledger
// section of a gateway configuration:
//
//	ledger:
//	  kind: fabric
//	  fabric: {channel: …, chaincode: …, peers: […], identities: […], collections: {…}}
func (n *Network) WriteGatewayConfig(path string) error {
	var f gatewayFile
	f.Ledger.Kind = ledger.KindFabric
	f.Ledger.Fabric = n.GatewayConfig()
	if err := f.Ledger.Fabric.Validate(); err != nil { // fills the default timeouts, so the file shows them
		return fmt.Errorf("gateway config: %w", err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Written by tracegate for the local Fabric network in %s.\n# Use it with: tracegate up --ledger fabric --fabric-config %s\n", n.l.dir, path)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return fmt.Errorf("gateway config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
