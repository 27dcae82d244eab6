package fabricnet

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").ParseFS(templateFS, "templates/*.tmpl"))

// render executes template name into path.
func render(path, name string, data any, perm os.FileMode) error {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Chmod(path, perm) // WriteFile keeps an existing file's mode
}

// cryptoUsers is the number of users (User1..UserN) cryptogen makes per org.
const cryptoUsers = 3

type orgData struct {
	MSP, Label, Domain, MSPDir string
	HasPeer                    bool
	PeerPort                   int
}

type ordererData struct {
	Port            int
	Endpoint        string
	TLSCert         string
	Name, Host, MSP string
	TLSDir, MSPDir  string
	DataDir         string
	AdminAddress    string
	// OperationsAddress serves /healthz and /metrics.
	OperationsAddress string
}

type peerData struct {
	Name, Host, MSP   string
	Address           string
	ChaincodeAddress  string
	OperationsAddress string
	TLSDir, MSPDir    string
	DataDir           string
	BuilderDir        string
}

func (t topology) orgData(l layout) []orgData {
	var out []orgData
	for _, o := range t.Orgs {
		d := orgData{MSP: o, Label: orgLabel(o), Domain: orgDomain(o), MSPDir: filepath.Join(l.orgDir(o), "msp")}
		if k := t.peerIndex(o); k >= 0 {
			d.HasPeer, d.PeerPort = true, t.Ports.Peer(k)
		}
		out = append(out, d)
	}
	return out
}

func (t topology) ordererData(l layout, i int) ordererData {
	dir := l.ordererDir(i)
	return ordererData{
		Port: t.Ports.Orderer(i), Endpoint: addr(t.Ports.Orderer(i)), TLSCert: filepath.Join(dir, "tls", "server.crt"),
		Name: ordererName(i), Host: ordererHost(i), MSP: OrdererMSP,
		TLSDir: filepath.Join(dir, "tls"), MSPDir: filepath.Join(dir, "msp"),
		DataDir:           l.path("data", ordererName(i)),
		AdminAddress:      addr(t.Ports.OrdererAdmin(i)),
		OperationsAddress: addr(t.Ports.OrdererOperations(i)),
	}
}

func (t topology) peerData(l layout, org string) peerData {
	k := t.peerIndex(org)
	dir := l.peerDir(org)
	return peerData{
		Name: peerName(org), Host: peerHost(org), MSP: org,
		Address: addr(t.Ports.Peer(k)), ChaincodeAddress: addr(t.Ports.PeerChaincode(k)),
		OperationsAddress: addr(t.Ports.PeerOperations(k)),
		TLSDir:            filepath.Join(dir, "tls"), MSPDir: filepath.Join(dir, "msp"),
		DataDir: l.path("data", peerName(org)), BuilderDir: l.path("builder"),
	}
}

// renderCryptoConfig writes config/crypto-config.yaml.
func renderCryptoConfig(l layout, t topology) (string, error) {
	var hosts []string
	for i := 0; i < t.Orderers; i++ {
		hosts = append(hosts, strings.TrimSuffix(ordererHost(i), "."+ordererDomain))
	}
	path := l.path("config", "crypto-config.yaml")
	return path, render(path, "crypto-config.yaml.tmpl", map[string]any{
		"OrdererDomain": ordererDomain, "OrdererHosts": hosts, "Orgs": t.orgData(l), "Users": cryptoUsers,
	}, 0o644)
}

// renderConfigtx writes config/configtx.yaml.
func renderConfigtx(l layout, t topology) (string, error) {
	var orderers []ordererData
	for i := 0; i < t.Orderers; i++ {
		orderers = append(orderers, t.ordererData(l, i))
	}
	path := l.path("config", "configtx.yaml")
	return path, render(path, "configtx.yaml.tmpl", map[string]any{
		"Channel": t.Channel, "OrdererMSP": OrdererMSP, "OrdererMSPDir": filepath.Join(l.ordererOrgDir(), "msp"),
		"Orderers": orderers, "Orgs": t.orgData(l), "PeerOrgs": t.PeerOrgs,
		"ImplicitMajority": majority(len(t.Orgs)), "PeerMajority": t.EndorsementPolicy,
		"BatchTimeout": t.BatchTimeout,
	}, 0o644)
}

// renderOrderer writes config/orderer<i>/orderer.yaml and returns its directory.
func renderOrderer(l layout, t topology, i int) (string, error) {
	dir := l.path("config", ordererName(i))
	return dir, render(filepath.Join(dir, "orderer.yaml"), "orderer.yaml.tmpl", t.ordererData(l, i), 0o644)
}

// renderPeer writes config/<peer>/core.yaml and returns its directory.
func renderPeer(l layout, t topology, org string) (string, error) {
	dir := l.path("config", peerName(org))
	return dir, render(filepath.Join(dir, "core.yaml"), "core.yaml.tmpl", t.peerData(l, org), 0o644)
}

// writeBuilder writes the external builder's scripts to builder/bin.
func writeBuilder(l layout) error {
	for _, s := range []string{"detect", "build", "release"} {
		if err := render(l.path("builder", "bin", s), s+".tmpl", nil, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// collectionConfig is one entry of the collections config file the peer
// CLI reads (--collections-config).
type collectionConfig struct {
	Name              string `json:"name"`
	Policy            string `json:"policy"`
	RequiredPeerCount int    `json:"requiredPeerCount"`
	MaxPeerCount      int    `json:"maxPeerCount"`
	BlockToLive       uint64 `json:"blockToLive"`
	MemberOnlyRead    bool   `json:"memberOnlyRead"`
	MemberOnlyWrite   bool   `json:"memberOnlyWrite"`
	EndorsementPolicy struct {
		SignaturePolicy string `json:"signaturePolicy"`
	} `json:"endorsementPolicy"`
}

// writeCollections writes config/collections.json.
func writeCollections(l layout, t topology) (string, error) {
	var out []collectionConfig
	for _, c := range t.Collections {
		members := make([]string, len(c.Members))
		peers := 0
		for i, m := range c.Members {
			members[i] = fmt.Sprintf("'%s.member'", m)
			if t.hasPeer(m) {
				peers++
			}
		}
		cc := collectionConfig{
			Name: c.Name, Policy: "OR(" + strings.Join(members, ",") + ")",
			// The endorsing peers push the private data to the other
			// member peers (all of them), but a member peer being down
			// must not fail the transaction: it pulls the data later.
			RequiredPeerCount: 0, MaxPeerCount: peers,
			BlockToLive: c.BlockToLive, MemberOnlyRead: true, MemberOnlyWrite: true,
		}
		cc.EndorsementPolicy.SignaturePolicy = c.EndorsementPolicy
		out = append(out, cc)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return "", err
	}
	path := l.path("config", "collections.json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// chaincodePackage builds the chaincode-as-a-service package: metadata.json
// (type ccaas, the label) and code.tar.gz holding connection.json with the
// chaincode server's address. It returns the package and its ID, the
// label and the SHA-256 of the package, as `peer lifecycle chaincode
// calculatepackageid` computes it.
func chaincodePackage(label, address string) (pkg []byte, id string, err error) {
	conn, _ := json.Marshal(map[string]any{"address": address, "dial_timeout": "10s", "tls_required": false})
	meta, _ := json.Marshal(map[string]string{"type": "ccaas", "label": label})
	code, err := tarGz(map[string][]byte{"connection.json": conn})
	if err != nil {
		return nil, "", err
	}
	pkg, err = tarGz(map[string][]byte{"metadata.json": meta, "code.tar.gz": code})
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(pkg)
	return pkg, label + ":" + hex.EncodeToString(sum[:]), nil
}

// tarGz makes a deterministic .tar.gz of files (sorted, fixed times), so
// the same address always gives the same package ID.
func tarGz(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	// metadata.json first, as Fabric's own packager writes it.
	sortFirst(names, "metadata.json")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sortFirst sorts names with first (if present) in front.
func sortFirst(names []string, first string) {
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == first) != (names[j] == first) {
			return names[i] == first
		}
		return names[i] < names[j]
	})
}
