package compose

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/web"
)

// check is one consistency rule of the topology. It returns one sentence
// per problem, naming the service and file concerned.
type check struct {
	name string
	run  func(*stack) []string
}

// checks are every rule, in the order they are reported.
var checks = []check{
	{"services", checkServices},
	{"bind-mounts", checkBindMounts},
	{"secrets", checkSecrets},
	{"volumes", checkVolumes},
	{"ports", checkPorts},
	{"depends-on", checkDependsOn},
	{"healthchecks", checkHealthchecks},
	{"env-paths", checkEnvPaths},
	{"inline-secrets", checkInlineSecrets},
	{"mosquitto", checkMosquitto},
	{"edge-config", checkEdgeConfig},
	{"gateway-config", checkGatewayConfig},
	{"chaincode", checkChaincode},
	{"fabric", checkFabric},
}

// runChecks runs every check and returns the problems by check name.
func runChecks(s *stack) map[string][]string {
	out := map[string][]string{}
	for _, c := range checks {
		out[c.name] = c.run(s)
	}
	return out
}

// The endorsing members: each runs exactly one peer.
var peerOrgs = []string{"MeridianMSP", "NorthWarehouseMSP", "HelpingHandsMSP"}

// Fabric 2.5 images: the ccaas builder built in, and no curl or wget.
const builtinCCaaSBuilder = "/opt/hyperledger/ccaas_builder"

// --- services ---------------------------------------------------------------

// checkServices: every part of the topology is there, long-running parts
// restart, demo-only parts sit behind a profile.
func checkServices(s *stack) []string {
	var out []string
	for _, r := range []string{roleBroker, roleGateway, roleEdge, roleChaincode, roleSim} {
		if n := len(s.byRole(r)); n != 1 {
			out = append(out, fmt.Sprintf("want exactly one %s service, have %d", r, n))
		}
	}
	if n := len(s.byRole(roleOrderer)); n < 3 || n%2 == 0 {
		out = append(out, fmt.Sprintf("want an odd number (3 or more) of etcdraft orderers, have %d", n))
	}
	for _, org := range peerOrgs {
		n := 0
		for _, p := range s.byRole(rolePeer) {
			if v, _ := env(p, "CORE_PEER_LOCALMSPID"); v == org {
				n++
			}
		}
		if n != 1 {
			out = append(out, fmt.Sprintf("want one peer of %s (CORE_PEER_LOCALMSPID), have %d", org, n))
		}
	}
	for _, n := range s.names() {
		svc := s.p.Services[n]
		switch s.role(svc) {
		case roleSim:
			if !slices.Contains(svc.Profiles, "demo") {
				out = append(out, fmt.Sprintf("service %s (simulated devices) must be in profile \"demo\", not started by default", n))
			}
		case roleTools:
			if len(svc.Profiles) == 0 {
				out = append(out, fmt.Sprintf("service %s (admin tools) must be behind a profile", n))
			}
			continue
		}
		switch svc.Restart {
		case "always", "unless-stopped", "on-failure":
		default:
			out = append(out, fmt.Sprintf("service %s: restart %q, want unless-stopped (or always/on-failure)", n, svc.Restart))
		}
	}
	return out
}

// --- mounts, secrets, volumes ----------------------------------------------

// layout returns what cryptogen writes under cryptoDir.
func (s *stack) layout() (cryptoLayout, error) {
	b, err := s.readRel(cryptoConfigFile)
	if err != nil {
		return nil, err
	}
	c, err := parseCryptoConfig(b)
	if err != nil {
		return nil, err
	}
	return c.layout(), nil
}

// checkHostPath says what is wrong with a host path a container uses: it
// must be in the repository, and either exist there or be something
// cryptogen makes.
func (s *stack) checkHostPath(host string, layout cryptoLayout) string {
	rel := s.rel(host)
	switch {
	case rel == "":
		return fmt.Sprintf("%s is outside the repository", host)
	case strings.HasPrefix(rel, cryptoDir+"/"):
		sub := strings.TrimPrefix(rel, cryptoDir+"/")
		if !layout[sub] {
			return fmt.Sprintf("%s: cryptogen does not make it from %s", rel, cryptoConfigFile)
		}
	case !exists(host):
		return fmt.Sprintf("%s does not exist in the repository", rel)
	}
	return ""
}

// checkBindMounts: every bind-mounted file or directory exists in the
// repository (or is made by cryptogen from the committed configuration),
// and only the admin tools mount anything writable.
func checkBindMounts(s *stack) []string {
	layout, err := s.layout()
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, n := range s.names() {
		svc := s.p.Services[n]
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if p := s.checkHostPath(v.Source, layout); p != "" {
				out = append(out, fmt.Sprintf("service %s mounts %s: %s", n, v.Target, p))
			}
			// Made on the host after the repository is checked out: a
			// container started before that must fail, not have Docker
			// create empty directories where cryptogen will write.
			if strings.HasPrefix(s.rel(v.Source), cryptoDir+"/") && (v.Bind == nil || v.Bind.CreateHostPath) {
				out = append(out, fmt.Sprintf("service %s mounts %s from %s without create_host_path: false", n, v.Target, s.rel(v.Source)))
			}
			if !v.ReadOnly && s.role(svc) != roleTools {
				out = append(out, fmt.Sprintf("service %s mounts %s read-write: configuration and keys are mounted :ro", n, v.Target))
			}
		}
	}
	return out
}

// checkSecrets: secrets are files under deploy/secrets/, git-ignored, made
// by deploy/scripts/make-secrets.sh, each declared and used.
func checkSecrets(s *stack) []string {
	var out []string
	ignore, _ := s.readRel(deployIgnore)
	script, _ := s.readRel(secretsScript)
	ignored := slices.ContainsFunc(strings.Fields(string(ignore)), func(l string) bool {
		return strings.Trim(l, "/") == strings.TrimPrefix(secretsDir, "deploy/")
	})
	// The files the script moves into deploy/secrets/ once they are made.
	var installed []string
	if m := regexp.MustCompile(`for f in ([^;]+); do\s+mv `).FindSubmatch(script); m != nil {
		installed = strings.Fields(string(m[1]))
	}
	used := map[string]bool{}
	for _, n := range s.names() {
		for _, sec := range s.p.Services[n].Secrets {
			used[sec.Source] = true
			if _, ok := s.p.Secrets[sec.Source]; !ok {
				out = append(out, fmt.Sprintf("service %s uses secret %s, which is not declared", n, sec.Source))
			}
		}
	}
	names := make([]string, 0, len(s.p.Secrets))
	for n := range s.p.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		def := s.p.Secrets[n]
		if !used[n] {
			out = append(out, fmt.Sprintf("secret %s is declared but no service uses it", n))
		}
		if def.File == "" {
			out = append(out, fmt.Sprintf("secret %s is not a file (environment or inline secrets end up in `docker inspect`)", n))
			continue
		}
		rel := s.rel(def.File)
		if !strings.HasPrefix(rel, secretsDir+"/") {
			out = append(out, fmt.Sprintf("secret %s: %s is not under %s/ (git-ignored)", n, def.File, secretsDir))
			continue
		}
		if !ignored {
			out = append(out, fmt.Sprintf("secret %s: %s does not ignore %s/", n, deployIgnore, secretsDir))
		}
		if !slices.Contains(installed, path.Base(rel)) {
			out = append(out, fmt.Sprintf("secret %s: %s does not make %s", n, secretsScript, path.Base(rel)))
		}
	}
	return out
}

// statePaths returns the paths inside a service's containers that hold
// state which must outlive the container.
func (s *stack) statePaths(svc types.ServiceConfig) []string {
	var out []string
	get := func(k, def string) {
		if v, ok := env(svc, k); ok {
			out = append(out, v)
		} else if def != "" {
			out = append(out, def)
		}
	}
	switch s.role(svc) {
	case roleBroker:
		if c, err := s.mosquittoConf(svc); err == nil {
			if v, ok := c.last("persistence_location"); ok {
				out = append(out, v)
			}
		}
	case roleOrderer:
		get("ORDERER_FILELEDGER_LOCATION", "/var/hyperledger/production/orderer")
		get("ORDERER_CONSENSUS_WALDIR", "/var/hyperledger/production/orderer/etcdraft/wal")
		get("ORDERER_CONSENSUS_SNAPDIR", "/var/hyperledger/production/orderer/etcdraft/snapshot")
	case rolePeer:
		get("CORE_PEER_FILESYSTEMPATH", "/var/hyperledger/production")
		get("CORE_LEDGER_SNAPSHOTS_ROOTDIR", "/var/hyperledger/production/snapshots")
	case roleGateway:
		if f, _, err := s.gatewayConfig(svc); err == nil {
			out = append(out, f.DataDir, f.Gateway.DataDir)
		}
	case roleEdge:
		if c, err := s.edgeConfig(svc); err == nil {
			out = append(out, c.DataDir, filepath.ToSlash(filepath.Dir(c.KeyFile)))
		}
	}
	return out
}

// checkVolumes: every named volume used is declared and every declared one
// used, no two services share one, and every piece of state lives on one.
func checkVolumes(s *stack) []string {
	var out []string
	users := map[string][]string{}
	for _, n := range s.names() {
		svc := s.p.Services[n]
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeVolume {
				continue
			}
			if v.Source == "" {
				out = append(out, fmt.Sprintf("service %s keeps %s in an anonymous volume: name it", n, v.Target))
				continue
			}
			users[v.Source] = append(users[v.Source], n)
			if _, ok := s.p.Volumes[v.Source]; !ok {
				out = append(out, fmt.Sprintf("service %s uses volume %s, which is not declared", n, v.Source))
			}
		}
		for _, p := range s.statePaths(svc) {
			if l := s.locate(svc, p); l.kind != inVolume {
				out = append(out, fmt.Sprintf("service %s keeps state in %s, which is not on a named volume", n, p))
			}
		}
	}
	declared := make([]string, 0, len(s.p.Volumes))
	for v := range s.p.Volumes {
		declared = append(declared, v)
	}
	sort.Strings(declared)
	for _, v := range declared {
		switch u := users[v]; {
		case len(u) == 0:
			out = append(out, fmt.Sprintf("volume %s is declared but no service uses it", v))
		case len(u) > 1:
			out = append(out, fmt.Sprintf("volume %s is shared by %s: each store belongs to one service", v, strings.Join(u, ", ")))
		}
	}
	return out
}

// --- ports ------------------------------------------------------------------

// listenPorts returns the ports a service listens on, when its
// configuration says.
func (s *stack) listenPorts(svc types.ServiceConfig) []int {
	switch s.role(svc) {
	case roleBroker:
		if c, err := s.mosquittoConf(svc); err == nil {
			return c.listenerPorts()
		}
	case roleGateway:
		if f, _, err := s.gatewayConfig(svc); err == nil {
			if _, p, err := splitHostPort(f.Listen); err == nil {
				return []int{p}
			}
		}
	}
	return nil
}

// checkPorts: no two services publish the same host port, each published
// port is one the service listens on, and only the broker (devices) and the
// gateway (portal) are reachable from outside.
func checkPorts(s *stack) []string {
	var out []string
	type pub struct{ svc, ip string }
	seen := map[string][]pub{}
	for _, n := range s.names() {
		svc := s.p.Services[n]
		role := s.role(svc)
		for _, p := range svc.Ports {
			if p.Published == "" {
				out = append(out, fmt.Sprintf("service %s publishes %d on a random host port: give it a fixed one", n, p.Target))
				continue
			}
			if role != roleBroker && role != roleGateway {
				out = append(out, fmt.Sprintf("service %s publishes %s: only the broker and the gateway face the outside", n, p.Published))
			}
			proto := p.Protocol
			if proto == "" {
				proto = "tcp"
			}
			key := proto + "/" + p.Published
			for _, o := range seen[key] {
				if o.ip == p.HostIP || wildcard(o.ip) || wildcard(p.HostIP) {
					out = append(out, fmt.Sprintf("host port %s is published by both %s and %s", key, o.svc, n))
				}
			}
			seen[key] = append(seen[key], pub{n, p.HostIP})
			if l := s.listenPorts(svc); l != nil && !slices.Contains(l, int(p.Target)) {
				out = append(out, fmt.Sprintf("service %s publishes container port %d but listens on %v", n, p.Target, l))
			}
		}
	}
	return out
}

// --- depends_on -------------------------------------------------------------

// checkDependsOn: every dependency exists, its condition can be met, an
// always-on service never waits for a profile-only one, there is no cycle,
// and the data path's order holds (edge after broker and gateway, gateway
// after its peers and the chaincode, simulator after the broker).
func checkDependsOn(s *stack) []string {
	var out []string
	for _, n := range s.names() {
		svc := s.p.Services[n]
		deps := make([]string, 0, len(svc.DependsOn))
		for d := range svc.DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			dep := svc.DependsOn[d]
			t, ok := s.p.Services[d]
			if !ok {
				out = append(out, fmt.Sprintf("service %s depends on %s, which does not exist", n, d))
				continue
			}
			switch dep.Condition {
			case types.ServiceConditionHealthy:
				if !hasHealthcheck(t) {
					out = append(out, fmt.Sprintf("service %s waits for %s to be healthy, but %s has no healthcheck", n, d, d))
				}
			case types.ServiceConditionCompletedSuccessfully:
				if t.Restart != "" && t.Restart != "no" {
					out = append(out, fmt.Sprintf("service %s waits for %s to complete, but %s restarts (%s)", n, d, d, t.Restart))
				}
			case types.ServiceConditionStarted, "":
			default:
				out = append(out, fmt.Sprintf("service %s depends on %s with unknown condition %q", n, d, dep.Condition))
			}
			if len(svc.Profiles) == 0 && len(t.Profiles) > 0 {
				out = append(out, fmt.Sprintf("service %s always starts but depends on %s, which only starts with profile %v", n, d, t.Profiles))
			}
		}
	}
	out = append(out, dependencyCycles(s)...)
	must := func(from, to string) {
		for _, a := range s.byRole(from) {
			for _, b := range s.byRole(to) {
				if _, ok := a.DependsOn[b.Name]; !ok {
					out = append(out, fmt.Sprintf("service %s (%s) must depend on %s (%s)", a.Name, from, b.Name, to))
				}
			}
		}
	}
	must(roleEdge, roleBroker)
	must(roleEdge, roleGateway)
	must(roleGateway, roleChaincode)
	must(roleSim, roleBroker)
	return out
}

// dependencyCycles reports each depends_on cycle once.
func dependencyCycles(s *stack) []string {
	var out []string
	state := map[string]int{} // 0 new, 1 on the stack, 2 done
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		state[n] = 1
		stack = append(stack, n)
		deps := make([]string, 0)
		for d := range s.p.Services[n].DependsOn {
			if _, ok := s.p.Services[d]; ok {
				deps = append(deps, d)
			}
		}
		sort.Strings(deps)
		for _, d := range deps {
			switch state[d] {
			case 0:
				visit(d)
			case 1:
				i := slices.Index(stack, d)
				out = append(out, "depends_on cycle: "+strings.Join(append(slices.Clone(stack[i:]), d), " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
	}
	for _, n := range s.names() {
		if state[n] == 0 {
			visit(n)
		}
	}
	return out
}

// --- healthchecks -----------------------------------------------------------

// probeTools are the programs each image has for a healthcheck.
func (s *stack) probeTools(svc types.ServiceConfig) []string {
	switch s.role(svc) {
	case roleBroker:
		return []string{"nc", "mosquitto_sub", "mosquitto_pub", "sh"} // Alpine busybox
	case roleOrderer, rolePeer, roleTools:
		return []string{"bash", "sh", "peer", "orderer", "osnadmin"} // Ubuntu base: no curl, no wget
	}
	if s.isTracegate(svc) {
		return []string{"curl", "bash", "sh", "tracegate"} // Dockerfile: debian-slim + curl
	}
	return nil
}

// checkHealthchecks: every long-running service has a healthcheck, probing
// the port it really serves on with a program its image has.
func checkHealthchecks(s *stack) []string {
	var out []string
	for _, n := range s.names() {
		svc := s.p.Services[n]
		role := s.role(svc)
		if role == roleSim || role == roleTools || role == "" {
			continue
		}
		if !hasHealthcheck(svc) {
			out = append(out, fmt.Sprintf("service %s has no healthcheck", n))
			continue
		}
		test := svc.HealthCheck.Test
		prog := ""
		switch test[0] {
		case "CMD":
			prog = test[1]
		case "CMD-SHELL":
			prog = "sh"
			if f := strings.Fields(test[1]); len(f) > 0 {
				prog = f[0]
			}
		}
		if tools := s.probeTools(svc); tools != nil && !slices.Contains(tools, path.Base(prog)) {
			out = append(out, fmt.Sprintf("service %s: healthcheck runs %s, which its image lacks (has %v)", n, prog, tools))
		}
		want := 0
		switch role {
		case roleOrderer:
			want = portOf(env(svc, "ORDERER_OPERATIONS_LISTENADDRESS"))
		case rolePeer:
			want = portOf(env(svc, "CORE_OPERATIONS_LISTENADDRESS"))
		case roleChaincode:
			want = portOf(env(svc, "CHAINCODE_SERVER_ADDRESS"))
		case roleGateway:
			if l := s.listenPorts(svc); len(l) == 1 {
				want = l[0]
			}
		case roleEdge:
			if c, err := s.edgeConfig(svc); err == nil {
				if c.Listen == "" {
					out = append(out, fmt.Sprintf("service %s: the edge's listen is empty, so it serves no /healthz", n))
				}
				want = portOf(c.Listen, true)
			}
		case roleBroker:
			if l := s.listenPorts(svc); len(l) > 0 {
				want = l[0]
			}
		}
		if got := healthPorts(svc); want != 0 && !slices.Contains(got, want) {
			out = append(out, fmt.Sprintf("service %s: healthcheck probes %v, but the service listens on %d", n, got, want))
		}
	}
	return out
}

func portOf(addr string, ok bool) int {
	if !ok {
		return 0
	}
	_, p, err := splitHostPort(addr)
	if err != nil {
		return 0
	}
	return p
}

// --- environment ------------------------------------------------------------

var pathVarRE = regexp.MustCompile(`(PATH|DIR|FILE|CERT|CERTIFICATE|KEY|PRIVATEKEY|ROOTCAS|LOCATION)$`)

// envPaths returns the file paths an environment variable names.
func envPaths(v string) []string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		var out []string
		for _, p := range strings.Split(strings.Trim(v, "[]"), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	return []string{v}
}

// checkEnvPaths: variables that name files (TLS certificates and keys, MSP
// directories, configuration, ledgers) point inside something mounted into
// the container, and what they point at exists or is made by cryptogen.
func checkEnvPaths(s *stack) []string {
	layout, err := s.layout()
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, n := range s.names() {
		svc := s.p.Services[n]
		keys := make([]string, 0, len(svc.Environment))
		for k := range svc.Environment {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := env(svc, k)
			if !ok || !pathVarRE.MatchString(k) {
				continue
			}
			for _, p := range envPaths(v) {
				if !strings.HasPrefix(p, "/") {
					out = append(out, fmt.Sprintf("service %s: %s=%s is relative; name the mounted file", n, k, p))
					continue
				}
				l := s.locate(svc, p)
				switch l.kind {
				case inNothing:
					if !s.mountsBelow(svc, p) {
						out = append(out, fmt.Sprintf("service %s: %s=%s points outside every mount of the service", n, k, p))
					}
				case inBind:
					if msg := s.checkHostPath(l.host, layout); msg != "" {
						out = append(out, fmt.Sprintf("service %s: %s=%s: %s", n, k, p, msg))
					}
				}
			}
		}
	}
	return out
}

// checkInlineSecrets: no password, token or secret is written into the
// compose file or into a configuration file it mounts.
func checkInlineSecrets(s *stack) []string {
	var out []string
	secretKey := regexp.MustCompile(`(?i)(password|passwd|secret|token|passphrase)`)
	for _, n := range s.names() {
		svc := s.p.Services[n]
		for k := range svc.Environment {
			v, _ := env(svc, k)
			if secretKey.MatchString(k) && v != "" && !strings.HasPrefix(v, "/run/secrets/") {
				out = append(out, fmt.Sprintf("service %s: %s is set inline; pass it as a secret file", n, k))
			}
		}
		if !s.isTracegate(svc) {
			continue
		}
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind || !strings.HasSuffix(v.Source, ".yaml") {
				continue
			}
			b, err := os.ReadFile(v.Source)
			if err != nil {
				continue
			}
			var doc any
			if yaml.Unmarshal(b, &doc) != nil {
				continue
			}
			walkYAML(doc, "", func(key string, val any) {
				last := key[strings.LastIndex(key, ".")+1:]
				if !secretKey.MatchString(last) {
					return
				}
				if str, ok := val.(string); ok && str != "" {
					out = append(out, fmt.Sprintf("service %s: %s sets %s inline", n, s.rel(v.Source), key))
				}
				if l, ok := val.([]any); ok && len(l) > 0 {
					out = append(out, fmt.Sprintf("service %s: %s sets %s inline", n, s.rel(v.Source), key))
				}
			})
		}
	}
	sort.Strings(out)
	return out
}

func walkYAML(v any, prefix string, fn func(key string, val any)) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, val := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		fn(key, val)
		walkYAML(val, key, fn)
	}
}

// --- Mosquitto --------------------------------------------------------------

// mosquittoConfPath is where eclipse-mosquitto reads its configuration.
const mosquittoConfPath = "/mosquitto/config/mosquitto.conf"

func (s *stack) mosquittoConf(svc types.ServiceConfig) (mosquittoConf, error) {
	host, ok := s.hostFile(svc, mosquittoConfPath)
	if !ok {
		return nil, fmt.Errorf("service %s does not mount %s", svc.Name, mosquittoConfPath)
	}
	b, err := os.ReadFile(host)
	if err != nil {
		return nil, err
	}
	return parseMosquittoConf(b), nil
}

// checkMosquitto: the broker keeps what it acknowledged (docs/operations.md:
// persistence on a volume, a short autosave interval, queues raised far
// above the default 1000 messages) and lets in only known accounts.
func checkMosquitto(s *stack) []string {
	svc, ok := s.one(roleBroker)
	if !ok {
		return []string{"no (single) broker service"}
	}
	c, err := s.mosquittoConf(svc)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	num := func(k string) (int, bool) {
		v, ok := c.last(k)
		if !ok {
			return 0, false
		}
		n, err := strconv.Atoi(strings.Fields(v)[0])
		return n, err == nil
	}
	if v, _ := c.last("persistence"); v != "true" {
		out = append(out, "mosquitto.conf: persistence must be true (docs/operations.md)")
	}
	if _, ok := c.last("persistence_location"); !ok {
		out = append(out, "mosquitto.conf: persistence_location is not set (it must be on a named volume)")
	}
	if n, ok := num("autosave_interval"); !ok || n < 1 || n > 10 {
		out = append(out, "mosquitto.conf: autosave_interval must be set to a few seconds (docs/operations.md: 1; default 1800)")
	}
	if v, _ := c.last("autosave_on_changes"); v == "true" {
		out = append(out, "mosquitto.conf: autosave_on_changes true rewrites the store on every message (docs/operations.md)")
	}
	if n, ok := num("max_queued_messages"); !ok || (n != 0 && n < 100000) {
		out = append(out, "mosquitto.conf: max_queued_messages must be large (docs/operations.md: 1000000; above it QoS 1 messages are dropped)")
	}
	if n, ok := num("max_queued_bytes"); ok && n != 0 && n < 1<<30 {
		out = append(out, "mosquitto.conf: max_queued_bytes limits the edge's backlog; 0 (no limit) or a large value")
	}
	if n, ok := num("max_inflight_messages"); !ok || (n != 0 && n < 100) {
		out = append(out, "mosquitto.conf: max_inflight_messages caps the edge's throughput (docs/operations.md: 1000; default 20)")
	}
	if v, _ := c.last("allow_anonymous"); v != "false" {
		out = append(out, "mosquitto.conf: allow_anonymous must be false")
	}
	for _, k := range []string{"password_file", "acl_file"} {
		p, ok := c.last(k)
		if !ok {
			out = append(out, "mosquitto.conf: "+k+" is not set")
			continue
		}
		l := s.locate(svc, p)
		switch {
		case l.kind == inNothing:
			out = append(out, fmt.Sprintf("mosquitto.conf: %s %s is not mounted into service %s", k, p, svc.Name))
		case k == "password_file" && l.kind != inSecret:
			out = append(out, fmt.Sprintf("mosquitto.conf: password_file %s must be a compose secret, not a file in the repository", p))
		case l.kind == inBind && !exists(l.host):
			out = append(out, fmt.Sprintf("mosquitto.conf: %s %s: %s does not exist", k, p, s.rel(l.host)))
		}
	}
	if len(c.listenerPorts()) == 0 {
		out = append(out, "mosquitto.conf: no listener")
	}
	return out
}

// brokerACL returns the broker's ACL.
func (s *stack) brokerACL(svc types.ServiceConfig) (acl, error) {
	c, err := s.mosquittoConf(svc)
	if err != nil {
		return nil, err
	}
	p, ok := c.last("acl_file")
	if !ok {
		return nil, fmt.Errorf("no acl_file")
	}
	host, ok := s.hostFile(svc, p)
	if !ok {
		return nil, fmt.Errorf("acl_file %s is not mounted", p)
	}
	b, err := os.ReadFile(host)
	if err != nil {
		return nil, err
	}
	return parseACL(b), nil
}

// --- edge -------------------------------------------------------------------

var secretEnvRE = regexp.MustCompile(`(\w+)="\$\(cat (/[^)\s"]+)\)"`)

// serviceEnv returns a service's environment as its process sees it: the
// compose environment plus what its entrypoint exports from secret files
// (given a placeholder value).
func (s *stack) serviceEnv(svc types.ServiceConfig) (map[string]string, []string) {
	out := map[string]string{}
	for k := range svc.Environment {
		out[k], _ = env(svc, k)
	}
	var problems []string
	script := entrypointScript(svc)
	for _, m := range secretEnvRE.FindAllStringSubmatch(script, -1) {
		if l := s.locate(svc, m[2]); l.kind != inSecret {
			problems = append(problems, fmt.Sprintf("service %s: entrypoint reads %s from %s, which is not one of its secrets", svc.Name, m[1], m[2]))
			continue
		}
		if !strings.Contains(script, "export "+m[1]) {
			problems = append(problems, fmt.Sprintf("service %s: entrypoint sets %s but does not export it", svc.Name, m[1]))
			continue
		}
		out[m[1]] = "from-secret"
	}
	return out, problems
}

// edgeConfigFile returns the host file of the edge's --config.
func (s *stack) edgeConfigFile(svc types.ServiceConfig) (string, error) {
	p, ok := flagValue(svc.Command, "--config")
	if !ok {
		return "", fmt.Errorf("service %s: command has no --config", svc.Name)
	}
	host, ok := s.hostFile(svc, p)
	if !ok {
		return "", fmt.Errorf("service %s: --config %s is not mounted", svc.Name, p)
	}
	return host, nil
}

// edgeConfig loads the edge's configuration with edge.LoadConfig and the
// service's environment.
func (s *stack) edgeConfig(svc types.ServiceConfig) (edge.Config, error) {
	host, err := s.edgeConfigFile(svc)
	if err != nil {
		return edge.Config{}, err
	}
	e, _ := s.serviceEnv(svc)
	return loadEdgeConfig(host, e)
}

// checkEdgeConfig: the edge's configuration loads with the edge's own
// loader, its broker and gateway URLs name compose services on its networks
// and their ports, its MQTT account may read what it subscribes to, its
// password comes from a secret, and its journal and key are on a volume.
func checkEdgeConfig(s *stack) []string {
	svc, ok := s.one(roleEdge)
	if !ok {
		return []string{"no (single) edge service"}
	}
	_, out := s.serviceEnv(svc)
	host, err := s.edgeConfigFile(svc)
	if err != nil {
		return append(out, err.Error())
	}
	if raw, err := loadEdgeConfig(host, nil); err == nil && raw.MQTT.Password != "" {
		out = append(out, fmt.Sprintf("%s: mqtt.password is written in the file; it comes from the secret", s.rel(host)))
	}
	cfg, err := s.edgeConfig(svc)
	if err != nil {
		return append(out, fmt.Sprintf("%s: %v", s.rel(host), err))
	}
	if cfg.MQTT.Password == "" {
		out = append(out, "the edge gets no MQTT password (TRACEGATE_EDGE_MQTT_PASSWORD from a secret)")
	}
	if cfg.MQTT.ClientID == "" {
		out = append(out, "mqtt.clientID must be fixed: Mosquitto keeps the persistent session under it")
	}
	// Broker.
	u, err := url.Parse(cfg.MQTT.Broker)
	switch {
	case err != nil || u.Host == "":
		out = append(out, fmt.Sprintf("mqtt.broker %q is not a URL", cfg.MQTT.Broker))
	case u.Scheme != "tcp" && u.Scheme != "ssl" && u.Scheme != "mqtt" && u.Scheme != "mqtts":
		out = append(out, fmt.Sprintf("mqtt.broker %q: scheme must be tcp or ssl", cfg.MQTT.Broker))
	default:
		out = append(out, s.checkTarget(svc, "mqtt.broker", u.Host, roleBroker)...)
		if b, ok := s.serviceByHost(u.Hostname()); ok && s.role(b) == roleBroker {
			if a, err := s.brokerACL(b); err != nil {
				out = append(out, err.Error())
			} else {
				for _, t := range cfg.MQTT.Topics {
					if !a.allows(cfg.MQTT.Username, "read", t) {
						out = append(out, fmt.Sprintf("the broker's ACL does not let %q read %s", cfg.MQTT.Username, t))
					}
				}
			}
		}
	}
	// Gateway.
	g, err := url.Parse(cfg.Gateway.URL)
	if err != nil || g.Host == "" {
		out = append(out, fmt.Sprintf("gateway.url %q is not a URL", cfg.Gateway.URL))
	} else {
		hp := g.Host
		if g.Port() == "" {
			hp = defaultPort(g)
		}
		out = append(out, s.checkTarget(svc, "gateway.url", hp, roleGateway)...)
	}
	return out
}

// defaultPort returns host:port for a URL without a port.
func defaultPort(u *url.URL) string {
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}

// checkTarget checks that host:port, named in a configuration of service
// from, is a service of the role, on a network of from, listening on that
// port.
func (s *stack) checkTarget(from types.ServiceConfig, what, hostport, role string) []string {
	h, p, err := splitHostPort(hostport)
	if err != nil {
		return []string{fmt.Sprintf("%s %q: %v", what, hostport, err)}
	}
	t, ok := s.serviceByHost(h)
	if !ok {
		return []string{fmt.Sprintf("%s names host %s: no service of the compose file has that name", what, h)}
	}
	var out []string
	if r := s.role(t); r != role {
		out = append(out, fmt.Sprintf("%s names %s, a %s service, not a %s", what, h, r, role))
	}
	if from.Name != "" && !shareNetwork(from, t) {
		out = append(out, fmt.Sprintf("%s: services %s and %s share no network", what, from.Name, t.Name))
	}
	var ports []int
	switch s.role(t) {
	case rolePeer:
		ports = []int{portOf(env(t, "CORE_PEER_LISTENADDRESS"))}
	case roleOrderer:
		if v, ok := env(t, "ORDERER_GENERAL_LISTENPORT"); ok {
			n, _ := strconv.Atoi(v)
			ports = []int{n}
		} else {
			ports = []int{7050}
		}
	default:
		ports = s.listenPorts(t)
	}
	if ports != nil && !slices.Contains(ports, p) {
		out = append(out, fmt.Sprintf("%s names port %d, but %s listens on %v", what, p, t.Name, ports))
	}
	return out
}

// --- gateway ----------------------------------------------------------------

var catRE = regexp.MustCompile(`\bcat\s+(/[^\s;}]+)`)

// gatewayConfig returns the gateway's configuration as its process reads
// it. When --config names a file the entrypoint assembles (the committed
// configuration plus a secret part), the secret part is taken from its
// committed example, <name>.example<ext> under deploy/.
func (s *stack) gatewayConfig(svc types.ServiceConfig) (gatewayFile, gatewayParts, error) {
	var parts gatewayParts
	p, ok := flagValue(svc.Command, "--config")
	if !ok {
		return gatewayFile{}, parts, fmt.Errorf("service %s: command has no --config", svc.Name)
	}
	var doc []byte
	if l := s.locate(svc, p); l.kind == inBind {
		parts.base = []string{l.host}
	} else {
		script := entrypointScript(svc)
		if !regexp.MustCompile(`>\s*` + regexp.QuoteMeta(p) + `\b`).MatchString(script) {
			return gatewayFile{}, parts, fmt.Errorf("service %s: --config %s is neither mounted nor written by the entrypoint", svc.Name, p)
		}
		for _, m := range catRE.FindAllStringSubmatch(script, -1) {
			switch l := s.locate(svc, m[1]); l.kind {
			case inBind:
				parts.base = append(parts.base, l.host)
			case inSecret:
				ex, err := s.exampleOf(l.host)
				if err != nil {
					return gatewayFile{}, parts, err
				}
				parts.secret = append(parts.secret, ex)
			default:
				return gatewayFile{}, parts, fmt.Errorf("service %s: entrypoint reads %s, which is not mounted", svc.Name, m[1])
			}
		}
		if len(parts.base) == 0 {
			return gatewayFile{}, parts, fmt.Errorf("service %s: the entrypoint builds %s from no mounted configuration", svc.Name, p)
		}
	}
	for _, f := range append(slices.Clone(parts.base), parts.secret...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return gatewayFile{}, parts, err
		}
		doc = append(append(doc, b...), '\n')
	}
	e, _ := s.serviceEnv(svc)
	f, err := loadGatewayFile(doc, e)
	return f, parts, err
}

// gatewayParts are the files the gateway's configuration is made of.
type gatewayParts struct {
	base   []string // committed, bind-mounted
	secret []string // committed examples of the secret parts
}

// exampleOf returns the committed example of a secret file:
// deploy/…/<name>.example<ext> for deploy/secrets/<name><ext>.
func (s *stack) exampleOf(secret string) (string, error) {
	base := filepath.Base(secret)
	ext := filepath.Ext(base)
	want := strings.TrimSuffix(base, ext) + ".example" + ext
	var found string
	_ = filepath.WalkDir(s.abs("deploy"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (p == s.abs(cryptoDir) || p == s.abs(secretsDir)) {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == want && found == "" {
			found = p
		}
		return nil
	})
	if found == "" {
		return "", fmt.Errorf("secret %s has no committed example %s under deploy/", s.rel(secret), want)
	}
	return found, nil
}

// checkGatewayConfig: the gateway's configuration loads with the project's
// rules and types; it listens where it is published, keeps its data on a
// volume, and every peer endpoint, TLS CA and identity it names matches a
// peer service, the cryptogen layout and the gateway's mounts; channel,
// chaincode and collections are those the Fabric scripts create.
func checkGatewayConfig(s *stack) []string {
	svc, ok := s.one(roleGateway)
	if !ok {
		return []string{"no (single) gateway service"}
	}
	f, parts, err := s.gatewayConfig(svc)
	var out []string
	for _, b := range parts.base {
		data, _ := os.ReadFile(b)
		keys, _ := topLevelKeys(data)
		for _, k := range []string{"admin", "captureTokens", "alerts"} {
			if slices.Contains(keys, k) && len(parts.secret) > 0 {
				out = append(out, fmt.Sprintf("%s sets %s, which the secret part sets: one of them would be a duplicate key", s.rel(b), k))
			}
		}
	}
	if err != nil {
		return append(out, err.Error())
	}
	if f.Admin.User == "" {
		out = append(out, "no portal admin (admin.user): nobody could sign in")
	} else if len(f.Admin.Password) < web.MinPasswordLength {
		out = append(out, fmt.Sprintf("admin.password is shorter than %d characters", web.MinPasswordLength))
	}
	if len(f.CaptureTokens) == 0 {
		out = append(out, "captureTokens is empty: POST /epcis/capture would be open to anyone")
	}
	for i, tok := range f.CaptureTokens {
		if len(tok) < 16 { // web.Config's rule
			out = append(out, fmt.Sprintf("captureTokens[%d] is shorter than 16 characters: the portal refuses to start", i))
		}
	}
	if h, _, err := splitHostPort(f.Listen); err != nil || !wildcard(h) {
		out = append(out, fmt.Sprintf("listen %q: inside a container the gateway must listen on all interfaces (0.0.0.0:PORT)", f.Listen))
	}
	// Alerts go out through the broker, on an account its ACL lets write
	// tracegate/{site}/alerts.
	if f.Alerts.Broker == "" {
		out = append(out, "alerts.broker is empty: alerts would reach no site over MQTT")
	} else if broker, ok := s.one(roleBroker); ok {
		if u, err := url.Parse(f.Alerts.Broker); err != nil || u.Hostname() != broker.Name {
			out = append(out, fmt.Sprintf("alerts.broker %q does not name the broker service %s", f.Alerts.Broker, broker.Name))
		}
		if a, err := s.brokerACL(broker); err != nil {
			out = append(out, err.Error())
		} else if !a.allows(f.Alerts.Username, "write", "tracegate/+/alerts") {
			out = append(out, fmt.Sprintf("the broker's ACL does not let alerts.username %q write tracegate/+/alerts", f.Alerts.Username))
		}
	}
	layout, err := s.layout()
	if err != nil {
		return append(out, err.Error())
	}
	ctx, err := s.configtx()
	if err != nil {
		return append(out, err.Error())
	}
	domains := ctx.orgDomains()
	script, _ := s.readRel(fabricScript)
	defaults := scriptDefaults(script)
	fc := f.Ledger.Fabric
	if want := defaults["CHANNEL"]; fc.Channel != want {
		out = append(out, fmt.Sprintf("fabric.channel %q, but %s creates channel %q", fc.Channel, fabricScript, want))
	}
	if want := defaults["CC_NAME"]; fc.Chaincode != want {
		out = append(out, fmt.Sprintf("fabric.chaincode %q, but %s deploys %q", fc.Chaincode, fabricScript, want))
	}
	// crypto resolves a path of the gateway's container into the cryptogen
	// layout.
	crypto := func(what, p string) (string, bool) {
		l := s.locate(svc, p)
		if l.kind != inBind {
			out = append(out, fmt.Sprintf("%s %s is not mounted into service %s", what, p, svc.Name))
			return "", false
		}
		rel := s.rel(l.host)
		if !strings.HasPrefix(rel, cryptoDir+"/") {
			out = append(out, fmt.Sprintf("%s %s is %s, not cryptogen output under %s", what, p, rel, cryptoDir))
			return "", false
		}
		sub := strings.TrimPrefix(rel, cryptoDir+"/")
		if !layout[sub] {
			out = append(out, fmt.Sprintf("%s %s is %s, which cryptogen does not make", what, p, rel))
			return "", false
		}
		return sub, true
	}
	for i, p := range fc.Peers {
		what := fmt.Sprintf("fabric.peers[%d] (%s)", i, p.Org)
		out = append(out, s.checkTarget(svc, what+" endpoint", p.Endpoint, rolePeer)...)
		h, _, _ := splitHostPort(p.Endpoint)
		if t, ok := s.serviceByHost(h); ok && s.role(t) == rolePeer {
			if org, _ := env(t, "CORE_PEER_LOCALMSPID"); org != p.Org {
				out = append(out, fmt.Sprintf("%s: %s is a peer of %s", what, h, org))
			}
			if _, ok := svc.DependsOn[t.Name]; !ok {
				out = append(out, fmt.Sprintf("service %s does not depend on %s, which its configuration uses", svc.Name, t.Name))
			}
			if name := p.ServerName; name != "" && !slices.Contains(hostnames(t), name) {
				out = append(out, fmt.Sprintf("%s: serverName %s is not a name of %s", what, name, t.Name))
			}
		}
		if sub, ok := crypto(what+" tlsCACert", p.TLSCACert); ok {
			d := domains[p.Org]
			if !strings.HasPrefix(sub, "peerOrganizations/"+d+"/") || !(strings.HasSuffix(sub, "/tlsca."+d+"-cert.pem") || strings.HasSuffix(sub, "/tls/ca.crt")) {
				out = append(out, fmt.Sprintf("%s: tlsCACert %s is not the TLS CA of %s (%s)", what, sub, p.Org, d))
			}
		}
	}
	ids := map[string]bool{}
	keyGlob := chownGlob(script)
	for i, id := range fc.Identities {
		what := fmt.Sprintf("fabric.identities[%d] (%s %s)", i, id.Org, id.User)
		ids[id.Org] = true
		d, ok := domains[id.Org]
		if !ok {
			out = append(out, fmt.Sprintf("%s: %s is not an organisation of the channel (%s)", what, id.Org, configtxFile))
			continue
		}
		user := id.User
		if user == "admin" {
			user = "Admin"
		}
		dir := "peerOrganizations/" + d + "/users/" + user + "@" + d + "/msp/"
		if sub, ok := crypto(what+" cert", id.Cert); ok && sub != dir+"signcerts/"+user+"@"+d+"-cert.pem" {
			out = append(out, fmt.Sprintf("%s: cert is %s, want %ssigncerts/…", what, sub, dir))
		}
		if sub, ok := crypto(what+" key", id.Key); ok {
			if sub != dir+"keystore/priv_sk" {
				out = append(out, fmt.Sprintf("%s: key is %s, want %skeystore/priv_sk", what, sub, dir))
			}
			if m, _ := path.Match(keyGlob, path.Dir(sub)); !m {
				out = append(out, fmt.Sprintf("%s: %s does not make %s readable to UID %s (it does %s)", what, fabricScript, path.Dir(sub), tracegateUID, keyGlob))
			}
		}
	}
	if !ids[f.Gateway.Reader.Org] {
		out = append(out, fmt.Sprintf("gateway.reader org %s has no identity in fabric.identities", f.Gateway.Reader.Org))
	}
	colls, err := s.collections()
	if err != nil {
		return append(out, err.Error())
	}
	want := map[string][]string{}
	for _, c := range colls {
		want[c.Name] = policyOrgs(c.Policy)
	}
	for name, members := range fc.Collections {
		m := slices.Clone(members)
		sort.Strings(m)
		if w, ok := want[name]; !ok {
			out = append(out, fmt.Sprintf("fabric.collections: %s is not in %s", name, collectionsFile))
		} else if !slices.Equal(m, w) {
			out = append(out, fmt.Sprintf("fabric.collections: %s has members %v, %s says %v", name, m, collectionsFile, w))
		}
	}
	for name := range want {
		if _, ok := fc.Collections[name]; !ok {
			out = append(out, fmt.Sprintf("fabric.collections lacks %s from %s", name, collectionsFile))
		}
	}
	return out
}

var chownRE = regexp.MustCompile(`for k in "\$C"/(\S+); do`)

// chownGlob returns the glob (below the crypto directory) of the key
// directories fabric.sh hands to the tracegate UID.
func chownGlob(script []byte) string {
	if m := chownRE.FindSubmatch(script); m != nil {
		return string(m[1])
	}
	return "(none)"
}

func (s *stack) collections() ([]collection, error) {
	b, err := s.readRel(collectionsFile)
	if err != nil {
		return nil, err
	}
	var c []collection
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", collectionsFile, err)
	}
	return c, nil
}

// --- chaincode --------------------------------------------------------------

// checkChaincode: the chaincode service listens where connection.json sends
// the peers, on a network every peer is on; TLS settings agree; and its
// CHAINCODE_ID is the package ID of the committed package, whose
// connection.json and metadata are the committed ones.
func checkChaincode(s *stack) []string {
	svc, ok := s.one(roleChaincode)
	if !ok {
		return []string{"no (single) chaincode service"}
	}
	var out []string
	connFile := chaincodeDir + "/connection.json"
	connRaw, err := s.readRel(connFile)
	if err != nil {
		return []string{err.Error()}
	}
	var conn connection
	if err := json.Unmarshal(connRaw, &conn); err != nil {
		return []string{fmt.Sprintf("%s: %v", connFile, err)}
	}
	addr, ok := env(svc, "CHAINCODE_SERVER_ADDRESS")
	if !ok {
		return []string{"service " + svc.Name + ": CHAINCODE_SERVER_ADDRESS is not set"}
	}
	lh, lp, err := splitHostPort(addr)
	if err != nil {
		return []string{fmt.Sprintf("CHAINCODE_SERVER_ADDRESS %q: %v", addr, err)}
	}
	ch, cp, err := splitHostPort(conn.Address)
	if err != nil {
		return []string{fmt.Sprintf("%s address %q: %v", connFile, conn.Address, err)}
	}
	if cp != lp {
		out = append(out, fmt.Sprintf("%s sends the peers to port %d, but CHAINCODE_SERVER_ADDRESS is %s", connFile, cp, addr))
	}
	if !wildcard(lh) && !slices.Contains(hostnames(svc), lh) {
		out = append(out, fmt.Sprintf("CHAINCODE_SERVER_ADDRESS %s listens on a host that is not service %s", addr, svc.Name))
	}
	if t, ok := s.serviceByHost(ch); !ok || t.Name != svc.Name {
		out = append(out, fmt.Sprintf("%s address %s is not service %s", connFile, conn.Address, svc.Name))
	}
	for _, p := range s.byRole(rolePeer) {
		if !shareNetwork(p, svc) {
			out = append(out, fmt.Sprintf("peer %s cannot reach %s: no common network", p.Name, svc.Name))
		}
	}
	disabled, _ := env(svc, "CHAINCODE_TLS_DISABLED")
	if conn.TLSRequired == (disabled == "true") {
		out = append(out, fmt.Sprintf("%s tls_required=%v but CHAINCODE_TLS_DISABLED=%q", connFile, conn.TLSRequired, disabled))
	}
	if conn.TLSRequired {
		for _, k := range []string{"CHAINCODE_TLS_KEY", "CHAINCODE_TLS_CERT", "CHAINCODE_CLIENT_CA_CERT"} {
			if _, ok := env(svc, k); !ok {
				out = append(out, "TLS is required but "+k+" is not set")
			}
		}
	}
	metaRaw, err := s.readRel(chaincodeDir + "/metadata.json")
	if err != nil {
		return append(out, err.Error())
	}
	var meta ccMetadata
	if err := json.Unmarshal(metaRaw, &meta); err != nil {
		return append(out, err.Error())
	}
	if meta.Type != "ccaas" {
		out = append(out, fmt.Sprintf("%s/metadata.json: type %q, want ccaas (the peers' external builder)", chaincodeDir, meta.Type))
	}
	script, _ := s.readRel(fabricScript)
	d := scriptDefaults(script)
	if want := d["CC_NAME"] + "_" + d["CC_VERSION"]; meta.Label != want {
		out = append(out, fmt.Sprintf("package label %q, but %s deploys %q", meta.Label, fabricScript, want))
	}
	pkgFile := chaincodeDir + "/" + meta.Label + ".tar.gz"
	pkg, err := readCCPackage(s.abs(pkgFile))
	if err != nil {
		return append(out, fmt.Sprintf("%v (deploy/scripts/package-chaincode.sh makes it)", err))
	}
	if pkg.metadata != meta {
		out = append(out, fmt.Sprintf("%s holds metadata %+v, %s/metadata.json says %+v: repackage", pkgFile, pkg.metadata, chaincodeDir, meta))
	}
	if !sameJSON(pkg.conn, connRaw) {
		out = append(out, fmt.Sprintf("%s holds a connection.json other than %s: repackage", pkgFile, connFile))
	}
	if id, _ := env(svc, "CHAINCODE_ID"); id != pkg.id {
		out = append(out, fmt.Sprintf("CHAINCODE_ID %q, but the package ID of %s is %q", id, pkgFile, pkg.id))
	}
	return out
}

// --- Fabric -----------------------------------------------------------------

func (s *stack) configtx() (configtx, error) {
	b, err := s.readRel(configtxFile)
	if err != nil {
		return configtx{}, err
	}
	return parseConfigtx(b)
}

// orgDomains maps each organisation's MSP ID to its cryptogen domain.
func (c configtx) orgDomains() map[string]string {
	out := map[string]string{}
	for _, o := range c.Organizations {
		out[o.ID] = o.domain()
	}
	return out
}

// channelProfile returns the profile fabric.sh builds the channel from.
func (c configtx) channelProfile(name string) (orderers, apps []configtxOrg, ok bool) {
	p, ok := c.Profiles[name]
	return p.Orderer.Organizations, p.Application.Organizations, ok
}

var profileRE = regexp.MustCompile(`-profile (\w+)`)

// checkFabric: configtx.yaml, the cryptogen layout, deploy/fabric/core.yaml
// and the Fabric services agree: consenters, orderer endpoints and anchor
// peers are compose services on their ports with their certificates; every
// node mounts its own organisation's MSP and TLS material; orderers use the
// channel participation API; peers have the gateway on, the ccaas builder
// and no Docker builder; the admin scripts address the same nodes.
func checkFabric(s *stack) []string {
	ctx, err := s.configtx()
	if err != nil {
		return []string{err.Error()}
	}
	layout, err := s.layout()
	if err != nil {
		return []string{err.Error()}
	}
	script, _ := s.readRel(fabricScript)
	defaults := scriptDefaults(script)
	var out []string
	profile := ""
	if m := profileRE.FindSubmatch(script); m != nil {
		profile = string(m[1])
	}
	ordOrgs, appOrgs, ok := ctx.channelProfile(profile)
	if !ok || len(ordOrgs) == 0 {
		return []string{fmt.Sprintf("%s has no profile %q (the one %s builds the channel from) with an orderer org", configtxFile, profile, fabricScript)}
	}
	domains := ctx.orgDomains()
	appIDs := map[string]configtxOrg{}
	for _, o := range appOrgs {
		appIDs[o.ID] = o
		if !layout["peerOrganizations/"+o.domain()+"/msp"] {
			out = append(out, fmt.Sprintf("%s: MSPDir of %s (%s) is not cryptogen output", configtxFile, o.ID, o.MSPDir))
		}
	}
	// hostRel returns the root-relative host path of a path in a service.
	hostSub := func(svc types.ServiceConfig, p string) string {
		l := s.locate(svc, p)
		if l.kind != inBind {
			return ""
		}
		return strings.TrimPrefix(s.rel(l.host), cryptoDir+"/")
	}
	// Orderers.
	ordMSP := ordOrgs[0].ID
	ordDomain := ordOrgs[0].domain()
	consenters := map[string]bool{}
	for _, c := range ctx.Orderer.EtcdRaft.Consenters {
		hp := fmt.Sprintf("%s:%d", c.Host, c.Port)
		consenters[c.Host] = true
		out = append(out, s.checkTarget(s.p.Services[firstOrderer(s)], "consenter", hp, roleOrderer)...)
		t, ok := s.serviceByHost(c.Host)
		if !ok {
			continue
		}
		certEnv, _ := env(t, "ORDERER_GENERAL_TLS_CERTIFICATE")
		mounted := hostSub(t, certEnv)
		for _, cert := range []string{c.ClientTLSCert, c.ServerTLSCert} {
			sub := strings.TrimPrefix(path.Clean(path.Join(path.Dir(configtxFile), cert)), cryptoDir+"/")
			if !layout[sub] {
				out = append(out, fmt.Sprintf("%s: consenter %s certificate %s is not cryptogen output", configtxFile, c.Host, cert))
			} else if sub != mounted {
				out = append(out, fmt.Sprintf("%s: consenter %s certificate is %s, but the service's ORDERER_GENERAL_TLS_CERTIFICATE is %s", configtxFile, c.Host, sub, mounted))
			}
		}
	}
	for _, hp := range append(slices.Clone(ctx.Orderer.Addresses), ordOrgs[0].OrdererEndpoints...) {
		out = append(out, s.checkTarget(s.p.Services[firstOrderer(s)], "orderer endpoint", hp, roleOrderer)...)
	}
	for _, o := range s.byRole(roleOrderer) {
		short := ""
		for _, h := range hostnames(o) {
			if consenters[h] {
				short = h
			}
		}
		if short == "" {
			out = append(out, fmt.Sprintf("orderer %s is not a consenter in %s", o.Name, configtxFile))
		}
		if v, _ := env(o, "ORDERER_GENERAL_LOCALMSPID"); v != ordMSP {
			out = append(out, fmt.Sprintf("orderer %s: ORDERER_GENERAL_LOCALMSPID %q, want %s", o.Name, v, ordMSP))
		}
		mspDir, _ := env(o, "ORDERER_GENERAL_LOCALMSPDIR")
		if sub := hostSub(o, mspDir); sub != "ordererOrganizations/"+ordDomain+"/orderers/"+short+"/msp" {
			out = append(out, fmt.Sprintf("orderer %s mounts MSP %s, not its own", o.Name, sub))
		}
		want := map[string]string{
			"ORDERER_GENERAL_TLS_ENABLED":          "true",
			"ORDERER_GENERAL_BOOTSTRAPMETHOD":      "none",
			"ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
			"ORDERER_ADMIN_TLS_ENABLED":            "true",
			"ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
		}
		for k, w := range want {
			if v, _ := env(o, k); v != w {
				out = append(out, fmt.Sprintf("orderer %s: %s=%q, want %s", o.Name, k, v, w))
			}
		}
		if p := portOf(env(o, "ORDERER_ADMIN_LISTENADDRESS")); strconv.Itoa(p) != defaults["ORDERER_ADMIN_PORT"] {
			out = append(out, fmt.Sprintf("orderer %s: admin API on port %d, but %s calls osnadmin on %s", o.Name, p, fabricScript, defaults["ORDERER_ADMIN_PORT"]))
		}
		if v, _ := env(o, "ORDERER_GENERAL_LISTENPORT"); v != defaults["ORDERER_PORT"] {
			out = append(out, fmt.Sprintf("orderer %s listens on %s, but %s submits to %s", o.Name, v, fabricScript, defaults["ORDERER_PORT"]))
		}
		for _, p := range s.byRole(rolePeer) {
			if !shareNetwork(o, p) {
				out = append(out, fmt.Sprintf("orderer %s and peer %s share no network", o.Name, p.Name))
			}
		}
	}
	// Peers.
	for _, p := range s.byRole(rolePeer) {
		org, _ := env(p, "CORE_PEER_LOCALMSPID")
		o, ok := appIDs[org]
		if !ok {
			out = append(out, fmt.Sprintf("peer %s: %s is not an application organisation of the channel", p.Name, org))
			continue
		}
		d := domains[org]
		listen := portOf(env(p, "CORE_PEER_LISTENADDRESS"))
		if strconv.Itoa(listen) != defaults["PEER_PORT"] {
			out = append(out, fmt.Sprintf("peer %s listens on %d, but %s addresses peers on %s", p.Name, listen, fabricScript, defaults["PEER_PORT"]))
		}
		mspDir, _ := env(p, "CORE_PEER_MSPCONFIGPATH")
		sub := hostSub(p, mspDir)
		if !strings.HasPrefix(sub, "peerOrganizations/"+d+"/peers/") || path.Base(sub) != "msp" {
			out = append(out, fmt.Sprintf("peer %s (%s) mounts MSP %s, not a peer of %s", p.Name, org, sub, d))
		}
		cn := path.Base(path.Dir(sub))
		addr, _ := env(p, "CORE_PEER_ADDRESS")
		if h, port, err := splitHostPort(addr); err != nil || port != listen || !slices.Contains(hostnames(p), h) || h != cn {
			out = append(out, fmt.Sprintf("peer %s: CORE_PEER_ADDRESS %q must be its TLS name %s and listen port %d", p.Name, addr, cn, listen))
		}
		for _, k := range []string{"CORE_PEER_GOSSIP_EXTERNALENDPOINT", "CORE_PEER_GOSSIP_BOOTSTRAP"} {
			if v, _ := env(p, k); v != addr {
				out = append(out, fmt.Sprintf("peer %s: %s %q, want its address %s", p.Name, k, v, addr))
			}
		}
		anchored := false
		for _, a := range o.AnchorPeers {
			if fmt.Sprintf("%s:%d", a.Host, a.Port) == addr {
				anchored = true
			}
		}
		if !anchored {
			out = append(out, fmt.Sprintf("peer %s (%s) is not an anchor peer in %s: other orgs' gateways would not discover it", p.Name, org, configtxFile))
		}
		if v, _ := env(p, "CORE_PEER_TLS_ENABLED"); v != "true" {
			out = append(out, fmt.Sprintf("peer %s: TLS is off", p.Name))
		}
		out = append(out, s.checkCoreYAML(p)...)
	}
	for _, o := range appOrgs {
		for _, a := range o.AnchorPeers {
			out = append(out, s.checkTarget(types.ServiceConfig{}, "anchor peer of "+o.ID, fmt.Sprintf("%s:%d", a.Host, a.Port), rolePeer)...)
		}
	}
	// The admin script addresses the same nodes.
	orgsRE := regexp.MustCompile(`PEER_ORGS="([^"]*)"`)
	var scripted []string
	if m := orgsRE.FindSubmatch(script); m != nil {
		for _, e := range strings.Fields(string(m[1])) {
			msp, label, _ := strings.Cut(e, ":")
			scripted = append(scripted, msp)
			if domains[msp] != label+"."+ordDomain {
				out = append(out, fmt.Sprintf("%s: %s has domain %s.%s, %s says %s", fabricScript, msp, label, ordDomain, configtxFile, domains[msp]))
			}
		}
	}
	for _, p := range s.byRole(rolePeer) {
		if org, _ := env(p, "CORE_PEER_LOCALMSPID"); !slices.Contains(scripted, org) {
			out = append(out, fmt.Sprintf("%s: PEER_ORGS lacks %s (peer %s)", fabricScript, org, p.Name))
		}
	}
	if tools, ok := s.one(roleTools); ok {
		for _, n := range append(s.byRole(roleOrderer), s.byRole(rolePeer)...) {
			if !shareNetwork(tools, n) {
				out = append(out, fmt.Sprintf("tools service %s cannot reach %s", tools.Name, n.Name))
			}
		}
	}
	return out
}

func firstOrderer(s *stack) string {
	if l := s.byRole(roleOrderer); len(l) > 0 {
		return l[0].Name
	}
	return ""
}

// checkCoreYAML checks the core.yaml a peer reads from FABRIC_CFG_PATH.
func (s *stack) checkCoreYAML(p types.ServiceConfig) []string {
	dir, ok := env(p, "FABRIC_CFG_PATH")
	if !ok {
		return []string{fmt.Sprintf("peer %s: FABRIC_CFG_PATH is not set: the image's core.yaml configures a Docker chaincode builder", p.Name)}
	}
	host, ok := s.hostFile(p, dir+"/core.yaml")
	if !ok {
		return []string{fmt.Sprintf("peer %s: no core.yaml mounted in FABRIC_CFG_PATH %s", p.Name, dir)}
	}
	b, err := os.ReadFile(host)
	if err != nil {
		return []string{err.Error()}
	}
	var core struct {
		Peer struct {
			Gateway struct {
				Enabled bool `yaml:"enabled"`
			} `yaml:"gateway"`
		} `yaml:"peer"`
		VM struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"vm"`
		Chaincode struct {
			ExternalBuilders []struct {
				Name string `yaml:"name"`
				Path string `yaml:"path"`
			} `yaml:"externalBuilders"`
		} `yaml:"chaincode"`
		Ledger struct {
			State struct {
				StateDatabase string `yaml:"stateDatabase"`
			} `yaml:"state"`
		} `yaml:"ledger"`
	}
	if err := yaml.Unmarshal(b, &core); err != nil {
		return []string{fmt.Sprintf("%s: %v", s.rel(host), err)}
	}
	var out []string
	rel := s.rel(host)
	if core.VM.Endpoint != "" {
		out = append(out, fmt.Sprintf("%s: vm.endpoint %q: with no Docker socket the peer's Docker health check fails /healthz (ccaas needs none)", rel, core.VM.Endpoint))
	}
	builder := false
	for _, eb := range core.Chaincode.ExternalBuilders {
		if eb.Path == builtinCCaaSBuilder || s.locate(p, eb.Path+"/bin/detect").kind == inBind {
			builder = true
		}
	}
	if !builder {
		out = append(out, fmt.Sprintf("%s: no external builder for chaincode as a service (%s)", rel, builtinCCaaSBuilder))
	}
	gw := core.Peer.Gateway.Enabled
	if v, ok := env(p, "CORE_PEER_GATEWAY_ENABLED"); ok {
		gw = v == "true"
	}
	if !gw {
		out = append(out, fmt.Sprintf("peer %s: the gateway service is off", p.Name))
	}
	db := core.Ledger.State.StateDatabase
	if v, ok := env(p, "CORE_LEDGER_STATE_STATEDATABASE"); ok {
		db = v
	}
	if db != "goleveldb" {
		out = append(out, fmt.Sprintf("peer %s: state database %q; the topology has no CouchDB (goleveldb)", p.Name, db))
	}
	return out
}
