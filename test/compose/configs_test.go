package compose

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger/backend"
	"github.com/tracegate/tracegate/ledger/fabric"
)

// --- cryptogen ------------------------------------------------------------

// cryptoConfig is cryptogen's input (the fields the topology uses).
type cryptoConfig struct {
	OrdererOrgs []cryptoOrg `yaml:"OrdererOrgs"`
	PeerOrgs    []cryptoOrg `yaml:"PeerOrgs"`
}

type cryptoOrg struct {
	Name          string `yaml:"Name"`
	Domain        string `yaml:"Domain"`
	EnableNodeOUs bool   `yaml:"EnableNodeOUs"`
	Specs         []struct {
		Hostname   string `yaml:"Hostname"`
		CommonName string `yaml:"CommonName"`
	} `yaml:"Specs"`
	Template struct {
		Count    int    `yaml:"Count"`
		Start    int    `yaml:"Start"`
		Hostname string `yaml:"Hostname"`
	} `yaml:"Template"`
	Users struct {
		Count int `yaml:"Count"`
	} `yaml:"Users"`
}

// cryptoLayout is the set of paths (files and directories, relative to the
// output directory, with slashes) cryptogen writes for a configuration:
//
//	{orderer,peer}Organizations/<domain>/
//	  ca/{ca.<domain>-cert.pem,priv_sk}  tlsca/{tlsca.<domain>-cert.pem,priv_sk}
//	  msp/{admincerts/,cacerts/ca.<domain>-cert.pem,tlscacerts/tlsca.<domain>-cert.pem,config.yaml}
//	  {orderers,peers}/<host>.<domain>/{msp/...,tls/{ca.crt,server.crt,server.key}}
//	  users/{Admin,User<n>}@<domain>/{msp/...,tls/{ca.crt,client.crt,client.key}}
//
// where a node's or user's msp/ adds keystore/priv_sk and
// signcerts/<name>-cert.pem. TestFabricToolsAcceptConfig compares this
// model with what cryptogen really writes when the Fabric binaries are at
// hand.
type cryptoLayout map[string]bool

func (l cryptoLayout) add(p string) {
	for p != "." && p != "" && !l[p] {
		l[p] = true
		p = path.Dir(p)
	}
}

func parseCryptoConfig(b []byte) (cryptoConfig, error) {
	var c cryptoConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("crypto-config: %w", err)
	}
	return c, nil
}

func (c cryptoConfig) layout() cryptoLayout {
	l := cryptoLayout{}
	msp := func(dir, domain string, nodeOUs bool) {
		l.add(dir + "/msp/admincerts")
		l.add(dir + "/msp/cacerts/ca." + domain + "-cert.pem")
		l.add(dir + "/msp/tlscacerts/tlsca." + domain + "-cert.pem")
		if nodeOUs {
			l.add(dir + "/msp/config.yaml")
		}
	}
	identity := func(dir, cn, domain string, nodeOUs bool, tls ...string) {
		msp(dir, domain, nodeOUs)
		l.add(dir + "/msp/keystore/priv_sk")
		l.add(dir + "/msp/signcerts/" + cn + "-cert.pem")
		for _, f := range tls {
			l.add(dir + "/tls/" + f)
		}
	}
	org := func(kind, nodes string, o cryptoOrg, prefix string) {
		base := kind + "/" + o.Domain
		l.add(base + "/ca/ca." + o.Domain + "-cert.pem")
		l.add(base + "/ca/priv_sk")
		l.add(base + "/tlsca/tlsca." + o.Domain + "-cert.pem")
		l.add(base + "/tlsca/priv_sk")
		msp(base, o.Domain, o.EnableNodeOUs)
		var hosts []string
		for _, s := range o.Specs {
			cn := s.CommonName
			if cn == "" {
				cn = s.Hostname + "." + o.Domain
			}
			hosts = append(hosts, cn)
		}
		p := prefix
		if o.Template.Hostname != "" {
			p = "" // a custom template is not modelled; its hosts stay unknown
		}
		for i := 0; p != "" && i < o.Template.Count; i++ {
			hosts = append(hosts, fmt.Sprintf("%s%d.%s", p, o.Template.Start+i, o.Domain))
		}
		for _, cn := range hosts {
			identity(base+"/"+nodes+"/"+cn, cn, o.Domain, o.EnableNodeOUs, "ca.crt", "server.crt", "server.key")
		}
		users := []string{"Admin"}
		for i := 1; i <= o.Users.Count; i++ {
			users = append(users, fmt.Sprintf("User%d", i))
		}
		for _, u := range users {
			cn := u + "@" + o.Domain
			identity(base+"/users/"+cn, cn, o.Domain, o.EnableNodeOUs, "ca.crt", "client.crt", "client.key")
		}
	}
	for _, o := range c.OrdererOrgs {
		org("ordererOrganizations", "orderers", o, "orderer")
	}
	for _, o := range c.PeerOrgs {
		org("peerOrganizations", "peers", o, "peer")
	}
	return l
}

// --- configtx ---------------------------------------------------------------

// configtx is the part of configtx.yaml the checks need.
type configtx struct {
	Organizations []configtxOrg `yaml:"Organizations"`
	Orderer       struct {
		OrdererType string   `yaml:"OrdererType"`
		Addresses   []string `yaml:"Addresses"`
		EtcdRaft    struct {
			Consenters []struct {
				Host          string `yaml:"Host"`
				Port          int    `yaml:"Port"`
				ClientTLSCert string `yaml:"ClientTLSCert"`
				ServerTLSCert string `yaml:"ServerTLSCert"`
			} `yaml:"Consenters"`
		} `yaml:"EtcdRaft"`
	} `yaml:"Orderer"`
	Profiles map[string]struct {
		Orderer struct {
			Organizations []configtxOrg `yaml:"Organizations"`
		} `yaml:"Orderer"`
		Application struct {
			Organizations []configtxOrg `yaml:"Organizations"`
		} `yaml:"Application"`
	} `yaml:"Profiles"`
}

type configtxOrg struct {
	Name             string   `yaml:"Name"`
	ID               string   `yaml:"ID"`
	MSPDir           string   `yaml:"MSPDir"`
	OrdererEndpoints []string `yaml:"OrdererEndpoints"`
	AnchorPeers      []struct {
		Host string `yaml:"Host"`
		Port int    `yaml:"Port"`
	} `yaml:"AnchorPeers"`
}

func parseConfigtx(b []byte) (configtx, error) {
	var c configtx
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("configtx: %w", err)
	}
	return c, nil
}

// domain returns the cryptogen domain an organisation's MSPDir points into
// (…/{orderer,peer}Organizations/<domain>/msp).
func (o configtxOrg) domain() string {
	parts := strings.Split(path.Clean(o.MSPDir), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "peerOrganizations" || parts[i] == "ordererOrganizations" {
			return parts[i+1]
		}
	}
	return ""
}

// --- Mosquitto --------------------------------------------------------------

// mosquittoConf maps each option of a mosquitto.conf to its values, in
// order (listener and a few others repeat).
type mosquittoConf map[string][]string

func parseMosquittoConf(b []byte) mosquittoConf {
	c := mosquittoConf{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		c[k] = append(c[k], strings.TrimSpace(v))
	}
	return c
}

// last returns an option's effective value (the last one given).
func (c mosquittoConf) last(k string) (string, bool) {
	v := c[k]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// listenerPorts returns the ports of the listener lines.
func (c mosquittoConf) listenerPorts() []int {
	var out []int
	for _, v := range c["listener"] {
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		var n int
		if _, err := fmt.Sscan(f[0], &n); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// acl maps each user of a Mosquitto ACL file to its topic rules
// ("read tracegate/#", "write tracegate/wh1/rfid/dock-in-1", …).
type acl map[string][]string

func parseACL(b []byte) acl {
	a := acl{}
	user := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "user":
			if len(f) > 1 {
				user = f[1]
				if _, ok := a[user]; !ok {
					a[user] = nil
				}
			}
		case "topic":
			access, topic := "readwrite", ""
			switch len(f) {
			case 2:
				topic = f[1]
			case 3:
				access, topic = f[1], f[2]
			}
			a[user] = append(a[user], access+" "+topic)
		}
	}
	return a
}

// allows reports whether the ACL lets user read (or write) every topic the
// filter matches.
func (a acl) allows(user, access, filter string) bool {
	for _, r := range a[user] {
		acc, topic, _ := strings.Cut(r, " ")
		if acc != access && acc != "readwrite" {
			continue
		}
		if filterCovers(topic, filter) {
			return true
		}
	}
	return false
}

// filterCovers reports whether MQTT topic filter outer matches every topic
// filter inner matches.
func filterCovers(outer, inner string) bool {
	o, in := strings.Split(outer, "/"), strings.Split(inner, "/")
	for i, seg := range o {
		if seg == "#" {
			return true
		}
		if i >= len(in) || in[i] == "#" {
			return false
		}
		if seg != "+" && (seg != in[i] || in[i] == "+") {
			return false
		}
	}
	return len(o) == len(in)
}

// --- gateway configuration --------------------------------------------------

// gatewayFile has the shape of cmd/tracegate's gatewayFile (package main
// cannot be imported), with the ledger section typed for Fabric: the
// configuration is decoded strictly into it, then checked with the
// project's own Validate methods.
type gatewayFile struct {
	Listen    string         `yaml:"listen"`
	PublicURL string         `yaml:"publicURL"`
	DataDir   string         `yaml:"dataDir"`
	Gateway   gateway.Config `yaml:"gateway"`
	Ledger    struct {
		Kind   string        `yaml:"kind"`
		Fabric fabric.Config `yaml:"fabric"`
	} `yaml:"ledger"`
	Admin struct {
		User     string `yaml:"user"`
		Password string `yaml:"password"`
	} `yaml:"admin"`
	CookieSecure  bool                     `yaml:"cookieSecure"`
	CaptureTokens []string                 `yaml:"captureTokens"`
	Alerts        gateway.AlertsMQTTConfig `yaml:"alerts"`
	SiteTopics    map[string]string        `yaml:"siteTopics"`
}

// loadGatewayFile applies the rules of cmd/tracegate's loadGatewayFile:
// environment overrides, defaults, the gateway's and the ledger's
// validation. env is the service's environment.
func loadGatewayFile(b []byte, env map[string]string) (gatewayFile, error) {
	var f gatewayFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("parse gateway config: %w", err)
	}
	if v, ok := env["TRACEGATE_GATEWAY_LISTEN"]; ok {
		f.Listen = v
	}
	if v, ok := env["TRACEGATE_GATEWAY_DATA_DIR"]; ok {
		f.DataDir = v
	}
	if f.Listen == "" {
		f.Listen = "127.0.0.1:8080"
	}
	if f.DataDir == "" {
		f.DataDir = "data"
	}
	if f.PublicURL == "" {
		f.PublicURL = "http://" + f.Listen
	}
	if f.Gateway.DataDir == "" {
		f.Gateway.DataDir = f.DataDir + "/gateway"
	}
	f.Gateway.PublicURL = f.PublicURL
	var errs []error
	if f.Ledger.Kind != "fabric" {
		errs = append(errs, fmt.Errorf("ledger.kind %q: the compose topology runs Fabric", f.Ledger.Kind))
	}
	if err := f.Ledger.Fabric.Validate(); err != nil {
		errs = append(errs, err)
	}
	// Once backend.Config takes the Fabric section (a colleague is wiring
	// kind "fabric" in), the gateway's own ledger validation must accept
	// the file too.
	if backendTakesFabric() {
		var raw struct {
			Ledger backend.Config `yaml:"ledger"`
		}
		if err := yaml.Unmarshal(b, &raw); err != nil {
			errs = append(errs, err)
		} else if err := raw.Ledger.Validate(f.DataDir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := f.Gateway.Validate(); err != nil {
		errs = append(errs, err)
	}
	return f, errors.Join(errs...)
}

// backendTakesFabric reports whether backend.Config has a `fabric` section.
func backendTakesFabric() bool {
	t := reflect.TypeOf(backend.Config{})
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == "fabric" {
			return true
		}
	}
	return false
}

// topLevelKeys returns the top-level keys of a YAML mapping document.
func topLevelKeys(b []byte) ([]string, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// --- edge configuration -----------------------------------------------------

// edgeEnvMu serialises the process-wide environment changes of
// loadEdgeConfig.
var edgeEnvMu sync.Mutex

// loadEdgeConfig runs edge.LoadConfig on a file with exactly the given
// TRACEGATE_EDGE_* environment (the service's), restoring the process
// environment afterwards.
func loadEdgeConfig(file string, env map[string]string) (edge.Config, error) {
	edgeEnvMu.Lock()
	defer edgeEnvMu.Unlock()
	saved := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TRACEGATE_EDGE_") {
			saved[k] = v
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		if strings.HasPrefix(k, "TRACEGATE_EDGE_") {
			os.Setenv(k, v)
		}
	}
	defer func() {
		for k := range env {
			if strings.HasPrefix(k, "TRACEGATE_EDGE_") {
				os.Unsetenv(k)
			}
		}
		for k, v := range saved {
			os.Setenv(k, v)
		}
	}()
	return edge.LoadConfig(file)
}

// --- chaincode --------------------------------------------------------------

// connection is a ccaas connection.json.
type connection struct {
	Address     string `json:"address"`
	DialTimeout string `json:"dial_timeout"`
	TLSRequired bool   `json:"tls_required"`
}

// ccMetadata is a chaincode package's metadata.json.
type ccMetadata struct {
	Type  string `json:"type"`
	Label string `json:"label"`
}

// ccPackage is a chaincode package as the peer reads it.
type ccPackage struct {
	id       string // label:sha256 of the file, as peer lifecycle computes it
	metadata ccMetadata
	conn     []byte // connection.json inside code.tar.gz
}

func readCCPackage(file string) (ccPackage, error) {
	var p ccPackage
	b, err := os.ReadFile(file)
	if err != nil {
		return p, err
	}
	files, err := untgz(b)
	if err != nil {
		return p, fmt.Errorf("%s: %w", file, err)
	}
	if err := json.Unmarshal(files["metadata.json"], &p.metadata); err != nil {
		return p, fmt.Errorf("%s: metadata.json: %w", file, err)
	}
	code, ok := files["code.tar.gz"]
	if !ok {
		return p, fmt.Errorf("%s: no code.tar.gz", file)
	}
	inner, err := untgz(code)
	if err != nil {
		return p, fmt.Errorf("%s: code.tar.gz: %w", file, err)
	}
	if p.conn, ok = inner["connection.json"]; !ok {
		return p, fmt.Errorf("%s: code.tar.gz has no connection.json", file)
	}
	sum := sha256.Sum256(b)
	p.id = p.metadata.Label + ":" + hex.EncodeToString(sum[:])
	return p, nil
}

// untgz returns the regular files of a .tar.gz by name; anything else in
// it is an error (the peer refuses it too).
func untgz(b []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s is not a regular file", h.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		out[path.Clean(h.Name)] = data
	}
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// collection is an entry of collections.json.
type collection struct {
	Name              string `json:"name"`
	Policy            string `json:"policy"`
	RequiredPeerCount int    `json:"requiredPeerCount"`
	MaxPeerCount      int    `json:"maxPeerCount"`
	MemberOnlyRead    bool   `json:"memberOnlyRead"`
	MemberOnlyWrite   bool   `json:"memberOnlyWrite"`
	EndorsementPolicy *struct {
		SignaturePolicy string `json:"signaturePolicy"`
	} `json:"endorsementPolicy"`
}

var principalRE = regexp.MustCompile(`'([A-Za-z0-9.-]+)\.(member|peer|admin|client)'`)

// policyOrgs returns the MSP IDs a signature policy names, sorted.
func policyOrgs(policy string) []string {
	set := map[string]bool{}
	for _, m := range principalRE.FindAllStringSubmatch(policy, -1) {
		set[m[1]] = true
	}
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// --- scripts ----------------------------------------------------------------

var shDefaultRE = regexp.MustCompile(`(?m)^([A-Z_]+)=\$\{[A-Z_]+:-([^}]*)\}`)

// scriptDefaults returns the VAR=${VAR:-default} assignments of a shell
// script.
func scriptDefaults(b []byte) map[string]string {
	out := map[string]string{}
	for _, m := range shDefaultRE.FindAllSubmatch(b, -1) {
		out[string(m[1])] = strings.Trim(string(m[2]), `"'`)
	}
	return out
}
