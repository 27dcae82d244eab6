// Package fabric is the Hyperledger Fabric backend of the ledger: a
// fabric-gateway client that implements ledger.Ledger against the
// tracegate chaincode (package ledger/chaincode) on a Fabric channel.
package fabric

import (
	"errors"
	"fmt"
	"time"
)

// Config is the connection to a Fabric network, as the gateway's
// configuration file gives it (`ledger: {kind: fabric, fabric: …}`) and as
// `tracegate fabric up` prints it.
type Config struct {
	// Channel and Chaincode name the channel and the chaincode on it.
	Channel   string `yaml:"channel" json:"channel"`
	Chaincode string `yaml:"chaincode" json:"chaincode"`
	// Peers are the gateway peers the client may connect to. Each
	// identity uses the peer of its own organisation when there is one,
	// else the first peer.
	Peers []Peer `yaml:"peers" json:"peers"`
	// Identities are the enrolled identities this process may sign as: a
	// demo gateway holds the admin and users of every member, a member's
	// own gateway only its own.
	Identities []Identity `yaml:"identities" json:"identities"`
	// Collections maps each private data collection to its member orgs
	// (MSP IDs); private writes are endorsed by those orgs only, since the
	// Fabric gateway sends transient data only to collection members.
	Collections map[string][]string `yaml:"collections" json:"collections"`
	// Timeouts; zero takes the defaults.
	EvaluateTimeout     time.Duration `yaml:"evaluateTimeout" json:"evaluateTimeout"`
	EndorseTimeout      time.Duration `yaml:"endorseTimeout" json:"endorseTimeout"`
	SubmitTimeout       time.Duration `yaml:"submitTimeout" json:"submitTimeout"`
	CommitStatusTimeout time.Duration `yaml:"commitStatusTimeout" json:"commitStatusTimeout"`
	// Retries of transient failures (unavailable peer or orderer, MVCC
	// conflicts) before an Unavailable error is returned.
	Retries int `yaml:"retries" json:"retries"`
}

// Peer is a peer with the gateway service on.
type Peer struct {
	Org      string `yaml:"org" json:"org"`           // MSP ID of the peer's organisation
	Endpoint string `yaml:"endpoint" json:"endpoint"` // host:port
	// TLSCACert is the PEM file of the CA that signed the peer's TLS
	// certificate; ServerName overrides the name checked against it.
	TLSCACert  string `yaml:"tlsCACert" json:"tlsCACert"`
	ServerName string `yaml:"serverName,omitempty" json:"serverName,omitempty"`
}

// Identity is an enrolled X.509 identity: the MSP ID and user name it acts
// as (user "admin" is the org's admin), its certificate and private key
// (PEM files).
type Identity struct {
	Org  string `yaml:"org" json:"org"`
	User string `yaml:"user" json:"user"`
	Cert string `yaml:"cert" json:"cert"`
	Key  string `yaml:"key" json:"key"`
}

// Defaults for Config.
const (
	DefaultEvaluateTimeout     = 10 * time.Second
	DefaultEndorseTimeout      = 15 * time.Second
	DefaultSubmitTimeout       = 10 * time.Second
	DefaultCommitStatusTimeout = 60 * time.Second
	DefaultRetries             = 3
)

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Channel == "" {
		errs = append(errs, errors.New("fabric.channel is empty"))
	}
	if c.Chaincode == "" {
		errs = append(errs, errors.New("fabric.chaincode is empty"))
	}
	if len(c.Peers) == 0 {
		errs = append(errs, errors.New("fabric.peers is empty"))
	}
	for i, p := range c.Peers {
		if p.Endpoint == "" || p.TLSCACert == "" || p.Org == "" {
			errs = append(errs, fmt.Errorf("fabric.peers[%d]: org, endpoint and tlsCACert are required", i))
		}
	}
	if len(c.Identities) == 0 {
		errs = append(errs, errors.New("fabric.identities is empty: name at least one enrolled identity (cert and key)"))
	}
	for i, id := range c.Identities {
		if id.Org == "" || id.User == "" || id.Cert == "" || id.Key == "" {
			errs = append(errs, fmt.Errorf("fabric.identities[%d]: org, user, cert and key are required", i))
		}
	}
	if c.EvaluateTimeout <= 0 {
		c.EvaluateTimeout = DefaultEvaluateTimeout
	}
	if c.EndorseTimeout <= 0 {
		c.EndorseTimeout = DefaultEndorseTimeout
	}
	if c.SubmitTimeout <= 0 {
		c.SubmitTimeout = DefaultSubmitTimeout
	}
	if c.CommitStatusTimeout <= 0 {
		c.CommitStatusTimeout = DefaultCommitStatusTimeout
	}
	if c.Retries <= 0 {
		c.Retries = DefaultRetries
	}
	return errors.Join(errs...)
}
