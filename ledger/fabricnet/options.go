package fabricnet

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The demo consortium's members (MSP IDs). They mirror gateway/demo's
// organisations (ledger packages cannot import the gateway); the tracegate
// command passes demo.OrgIDs() explicitly.
const (
	Manufacturer = "MeridianMSP"
	Warehouse    = "NorthWarehouseMSP"
	Charity      = "HelpingHandsMSP"
	Hospital     = "CityHospitalMSP"
	Insurer      = "SafeCoverMSP"
	Regulator    = "RegulatorMSP"
)

// OrdererMSP is the MSP ID of the ordering service's organisation.
const OrdererMSP = "OrdererMSP"

// Defaults for Options.
const (
	DefaultChannel          = "tracegate"
	DefaultChaincode        = "tracegate"
	DefaultChaincodeVersion = "1.0"
	DefaultBasePort         = 7050
	DefaultBatchTimeout     = 50 * time.Millisecond
	DefaultLogSpec          = "warning"
	DefaultReadyTimeout     = 90 * time.Second
)

// DefaultOrgs are the consortium's members: every one is its own MSP in
// the channel, with an admin and users User1..User3.
var DefaultOrgs = []string{Manufacturer, Warehouse, Charity, Hospital, Insurer, Regulator}

// DefaultPeerOrgs are the members that run a peer (one each).
var DefaultPeerOrgs = []string{Manufacturer, Warehouse, Charity}

// DefaultCollections are the private data collections: what the
// manufacturer and the warehouse share (the conformance suite's collection:
// neither the regulator nor the hospital is a member), and the charity's own
// (donor identities).
var DefaultCollections = []Collection{
	{Name: "ManufacturerWarehouse", Members: []string{Manufacturer, Warehouse}},
	{Name: "CharityPrivate", Members: []string{Charity}},
}

// Collection is a private data collection of the chaincode.
type Collection struct {
	Name string `json:"name"`
	// Members are the orgs (MSP IDs) that may read and write it
	// (memberOnlyRead and memberOnlyWrite). A member without a peer can
	// still use it through a member's peer, but at least one member must
	// run a peer: only member peers store the data.
	Members []string `json:"members"`
	// EndorsementPolicy is the collection's own endorsement policy, which
	// replaces the chaincode's for writes to the collection; default: a
	// majority of the members that run a peer, e.g. both peers of a
	// two-member collection.
	EndorsementPolicy string `json:"endorsementPolicy,omitempty"`
	// BlockToLive purges the data after that many blocks; 0 keeps it.
	BlockToLive uint64 `json:"blockToLive,omitempty"`
}

// Options configure Up. The zero value of each field takes its default.
// When Dir already holds a network, Up restarts that network and the
// topology fields (everything above LogSpec) are taken from it.
type Options struct {
	// Dir holds the network's state; required.
	Dir string
	// BinDir holds the Fabric binaries (built there when missing);
	// default DefaultBinDir().
	BinDir string

	// Channel and Chaincode name the channel and the chaincode; default
	// "tracegate" both. ChaincodeVersion defaults to "1.0".
	Channel, Chaincode, ChaincodeVersion string
	// Orgs are the consortium's members, each its own MSP in the channel;
	// default DefaultOrgs.
	Orgs []string
	// PeerOrgs are the members running a peer, one each (at most six);
	// default DefaultPeerOrgs.
	PeerOrgs []string
	// Orderers is the number of etcdraft orderers: 1 (default) or 3.
	Orderers int
	// Collections are the chaincode's private data collections; default
	// DefaultCollections.
	Collections []Collection
	// BasePort is the first port of the network's block of PortBlockSize
	// ports on 127.0.0.1 (see Ports); default 7050.
	BasePort int
	// BatchTimeout is the orderer's batch timeout, which dominates the
	// latency of a submit; default 50ms.
	BatchTimeout time.Duration

	// LogSpec is FABRIC_LOGGING_SPEC for the orderers and peers; default
	// "warning" ("info" logs every gRPC call).
	LogSpec string
	// ChaincodeCommand runs the chaincode server: the command line, to
	// which "--id <package ID> --address <host:port>" is appended; the
	// environment carries CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS too.
	// Default: this executable's "chaincode" command, i.e.
	// `tracegate chaincode --id … --address …`.
	ChaincodeCommand []string
	// ServeChaincode, if set, serves the chaincode in this process instead
	// of a child process: it must listen on addr with CCID ccid and return
	// once ctx ends (Down ends it).
	ServeChaincode func(ctx context.Context, ccid, addr string) error
	// ExternalChaincode starts no chaincode server: someone else serves it
	// on Ports().Chaincode with the package ID (Network.PackageID).
	ExternalChaincode bool
	// StopWithParent makes the processes receive SIGTERM when the process
	// that started them dies (tests set it so that a crashed test leaves
	// nothing running); the tracegate command leaves it off so the network
	// outlives `tracegate fabric up`.
	StopWithParent bool
	// ReadyTimeout bounds each readiness wait; default 90s.
	ReadyTimeout time.Duration
	// Progress, if set, receives a line for each step.
	Progress func(msg string)
}

var (
	channelRE   = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,248}$`)
	chaincodeRE = regexp.MustCompile(`^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$`)
	versionRE   = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
	mspRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.-]*$`)
	collRE      = regexp.MustCompile(`^[A-Za-z0-9-]+([A-Za-z0-9_-]+)*$`)
)

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.Chaincode == "" {
		o.Chaincode = DefaultChaincode
	}
	if o.ChaincodeVersion == "" {
		o.ChaincodeVersion = DefaultChaincodeVersion
	}
	if len(o.Orgs) == 0 {
		o.Orgs = slices.Clone(DefaultOrgs)
	}
	if len(o.PeerOrgs) == 0 {
		o.PeerOrgs = slices.Clone(DefaultPeerOrgs)
	}
	if o.Orderers == 0 {
		o.Orderers = 1
	}
	if o.Collections == nil {
		o.Collections = slices.Clone(DefaultCollections)
	}
	if o.BasePort == 0 {
		o.BasePort = DefaultBasePort
	}
	if o.BatchTimeout == 0 {
		o.BatchTimeout = DefaultBatchTimeout
	}
	if o.LogSpec == "" {
		o.LogSpec = DefaultLogSpec
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	return o
}

// validate checks options that already have their defaults.
func (o Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Dir == "" {
		bad("Dir is empty: name the network's directory")
	}
	if !channelRE.MatchString(o.Channel) {
		bad("channel %q: want lower case letters, digits, '.' and '-', starting with a letter", o.Channel)
	}
	if !chaincodeRE.MatchString(o.Chaincode) {
		bad("chaincode name %q: want letters and digits, separated by single '-' or '_'", o.Chaincode)
	}
	if !versionRE.MatchString(o.ChaincodeVersion) {
		bad("chaincode version %q: want letters, digits and . _ + -", o.ChaincodeVersion)
	}
	seen := map[string]bool{}
	domains := map[string]string{}
	for _, org := range o.Orgs {
		switch {
		case !mspRE.MatchString(org):
			bad("org %q: an MSP ID is letters, digits, '.' and '-', starting with a letter", org)
		case org == OrdererMSP:
			bad("org %q is the ordering service's MSP ID", org)
		case seen[org]:
			bad("org %s is listed twice", org)
		}
		seen[org] = true
		d := orgLabel(org)
		if other, dup := domains[d]; dup && other != org {
			bad("orgs %s and %s would share the domain %s", other, org, orgDomain(org))
		}
		domains[d] = org
	}
	if len(o.PeerOrgs) == 0 {
		bad("no peer orgs")
	}
	if len(o.PeerOrgs) > maxPeers {
		bad("%d peer orgs: at most %d fit the port block", len(o.PeerOrgs), maxPeers)
	}
	peerSeen := map[string]bool{}
	for _, org := range o.PeerOrgs {
		if !seen[org] {
			bad("peer org %s is not one of the orgs %v", org, o.Orgs)
		}
		if peerSeen[org] {
			bad("peer org %s is listed twice", org)
		}
		peerSeen[org] = true
	}
	if o.Orderers != 1 && o.Orderers != 3 {
		bad("%d orderers: want 1 or 3", o.Orderers)
	}
	colls := map[string]bool{}
	for _, c := range o.Collections {
		if !collRE.MatchString(c.Name) || strings.HasPrefix(c.Name, "_") {
			bad("collection name %q: want letters, digits, '-' and '_', not starting with '_'", c.Name)
		}
		if colls[c.Name] {
			bad("collection %s is listed twice", c.Name)
		}
		colls[c.Name] = true
		withPeer := 0
		for _, m := range c.Members {
			if !seen[m] {
				bad("collection %s: member %s is not one of the orgs", c.Name, m)
			}
			if peerSeen[m] {
				withPeer++
			}
		}
		if len(c.Members) > 0 && withPeer == 0 {
			bad("collection %s: none of its members %v runs a peer (peers: %v), so no peer could store its data", c.Name, c.Members, o.PeerOrgs)
		}
		if len(c.Members) == 0 {
			bad("collection %s has no members", c.Name)
		}
	}
	if o.BasePort < 1024 || o.BasePort+PortBlockSize > 65535 {
		bad("base port %d: want 1024..%d", o.BasePort, 65535-PortBlockSize)
	}
	if o.BatchTimeout < time.Millisecond || o.BatchTimeout > time.Minute {
		bad("batch timeout %v: want 1ms..1m", o.BatchTimeout)
	}
	n := 0
	for _, set := range []bool{o.ServeChaincode != nil, len(o.ChaincodeCommand) > 0, o.ExternalChaincode} {
		if set {
			n++
		}
	}
	if n > 1 {
		bad("set at most one of ChaincodeCommand, ServeChaincode and ExternalChaincode")
	}
	return errors.Join(errs...)
}

// majority returns the smallest number of n that is more than half.
func majority(n int) int { return n/2 + 1 }

// peerPolicy is a signature policy satisfied by the peers of k of orgs.
func peerPolicy(k int, orgs []string) string {
	ps := make([]string, len(orgs))
	for i, o := range orgs {
		ps[i] = fmt.Sprintf("'%s.peer'", o)
	}
	return fmt.Sprintf("OutOf(%d,%s)", k, strings.Join(ps, ","))
}
