package compose

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// Paths of the topology, relative to the directory the compose file's
// relative paths resolve from (the repository root).
const (
	// cryptoDir is where deploy/scripts/fabric.sh has cryptogen write
	// (--output): mounts below it are checked against the layout cryptogen
	// produces from cryptoConfigFile, since the tree itself is made on the
	// operator's host and never committed.
	cryptoDir        = "deploy/crypto"
	cryptoConfigFile = "deploy/fabric/crypto-config.yaml"
	configtxFile     = "deploy/fabric/configtx.yaml"
	collectionsFile  = "deploy/fabric/collections.json"
	fabricScript     = "deploy/scripts/fabric.sh"
	secretsScript    = "deploy/scripts/make-secrets.sh"
	chaincodeDir     = "deploy/chaincode"
	secretsDir       = "deploy/secrets"
	deployIgnore     = "deploy/.gitignore"
	// tracegateUID is the Dockerfile's USER: files the tracegate containers
	// read must be made readable to it (fabric.sh, make-secrets.sh).
	tracegateUID = "10001"
)

// stack is a loaded compose project and the directory its relative paths
// resolve from.
type stack struct {
	root string
	p    *types.Project
}

// testEnv is the environment the compose file is interpolated with: none of
// the operator's variables, so every ${VAR:-default} takes its default.
var testEnv = []string{}

// loadStack loads a compose file with every profile enabled. With strict,
// compose-go's own consistency checks run too (undefined volumes, networks,
// dangling depends_on); the checks of this package do not rely on them, so
// a broken fixture is loaded without them to see what ours report.
func loadStack(root, file string, strict bool) (*stack, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(abs, file)
	}
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(abs),
		cli.WithEnv(testEnv),
		cli.WithProfiles([]string{"*"}),
		cli.WithResolvedPaths(true),
		cli.WithLoadOptions(func(o *loader.Options) { o.SkipConsistencyCheck = !strict }),
	)
	if err != nil {
		return nil, err
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return nil, err
	}
	return &stack{root: abs, p: p}, nil
}

// rel returns a host path relative to the root, with slashes, or "" when it
// lies outside the root.
func (s *stack) rel(host string) string {
	r, err := filepath.Rel(s.root, host)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(r)
}

// abs returns the host path of a root-relative path.
func (s *stack) abs(rel string) string { return filepath.Join(s.root, filepath.FromSlash(rel)) }

// names returns the service names in order.
func (s *stack) names() []string {
	out := make([]string, 0, len(s.p.Services))
	for n := range s.p.Services {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Roles of the services, told apart by image and command rather than by
// name, so that a renamed service is still recognised (and a missing one
// is missing).
const (
	roleBroker    = "broker"
	roleOrderer   = "orderer"
	rolePeer      = "peer"
	roleTools     = "tools"
	roleGateway   = "gateway"
	roleEdge      = "edge"
	roleChaincode = "chaincode"
	roleSim       = "sim"
)

func (s *stack) role(svc types.ServiceConfig) string {
	img := svc.Image
	switch {
	case strings.Contains(img, "eclipse-mosquitto"):
		return roleBroker
	case strings.Contains(img, "hyperledger/fabric-orderer"):
		return roleOrderer
	case strings.Contains(img, "hyperledger/fabric-peer"):
		return rolePeer
	case strings.Contains(img, "hyperledger/fabric-tools"):
		return roleTools
	}
	if s.isTracegate(svc) && len(svc.Command) > 0 {
		return svc.Command[0]
	}
	return ""
}

// isTracegate reports whether the service runs the project's image: it is
// built from the repository's Dockerfile.
func (s *stack) isTracegate(svc types.ServiceConfig) bool {
	if svc.Build == nil {
		return false
	}
	ctx := svc.Build.Context
	if !filepath.IsAbs(ctx) {
		ctx = filepath.Join(s.root, ctx)
	}
	return filepath.Clean(ctx) == s.root && (svc.Build.Dockerfile == "" || filepath.Base(svc.Build.Dockerfile) == "Dockerfile")
}

// byRole returns the services of a role, sorted by name.
func (s *stack) byRole(role string) []types.ServiceConfig {
	var out []types.ServiceConfig
	for _, n := range s.names() {
		if svc := s.p.Services[n]; s.role(svc) == role {
			out = append(out, svc)
		}
	}
	return out
}

// one returns the single service of a role.
func (s *stack) one(role string) (types.ServiceConfig, bool) {
	l := s.byRole(role)
	if len(l) != 1 {
		return types.ServiceConfig{}, false
	}
	return l[0], true
}

// hostnames are the names a service is reachable by on its networks.
func hostnames(svc types.ServiceConfig) []string {
	out := []string{svc.Name}
	if svc.Hostname != "" {
		out = append(out, svc.Hostname)
	}
	if svc.ContainerName != "" {
		out = append(out, svc.ContainerName)
	}
	for _, n := range svc.Networks {
		if n != nil {
			out = append(out, n.Aliases...)
		}
	}
	return out
}

// serviceByHost returns the service reachable by a host name.
func (s *stack) serviceByHost(host string) (types.ServiceConfig, bool) {
	for _, n := range s.names() {
		svc := s.p.Services[n]
		if slices.Contains(hostnames(svc), host) {
			return svc, true
		}
	}
	return types.ServiceConfig{}, false
}

// networks returns the networks a service is on ("default" when none is
// named).
func networks(svc types.ServiceConfig) []string {
	if len(svc.Networks) == 0 {
		return []string{"default"}
	}
	out := make([]string, 0, len(svc.Networks))
	for n := range svc.Networks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// shareNetwork reports whether two services have a network in common.
func shareNetwork(a, b types.ServiceConfig) bool {
	for _, n := range networks(a) {
		if slices.Contains(networks(b), n) {
			return true
		}
	}
	return false
}

// env returns a service's environment variable.
func env(svc types.ServiceConfig, key string) (string, bool) {
	v, ok := svc.Environment[key]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// Where a path inside a container lives.
const (
	inNothing = ""
	inBind    = "bind"
	inVolume  = "volume"
	inTmpfs   = "tmpfs"
	inSecret  = "secret"
)

// location is what backs a path inside a container.
type location struct {
	kind   string
	host   string // bind: host path; secret: host file
	volume string // volume: the named volume
	target string // the mount point
	ro     bool
}

// locate resolves a path inside a service's containers to what backs it:
// the longest mount point that contains it wins.
func (s *stack) locate(svc types.ServiceConfig, p string) location {
	p = filepath.ToSlash(filepath.Clean(p))
	best := location{}
	consider := func(target string, l location) {
		target = strings.TrimSuffix(filepath.ToSlash(filepath.Clean(target)), "/")
		if p != target && !strings.HasPrefix(p, target+"/") {
			return
		}
		if len(target) <= len(best.target) && best.kind != inNothing {
			return
		}
		rest := strings.TrimPrefix(p, target)
		l.target = target
		if l.kind == inBind || l.kind == inSecret {
			l.host = filepath.Join(l.host, filepath.FromSlash(rest))
		}
		best = l
	}
	for _, v := range svc.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			consider(v.Target, location{kind: inBind, host: v.Source, ro: v.ReadOnly})
		case types.VolumeTypeVolume:
			consider(v.Target, location{kind: inVolume, volume: v.Source, ro: v.ReadOnly})
		case types.VolumeTypeTmpfs:
			consider(v.Target, location{kind: inTmpfs})
		}
	}
	for _, t := range svc.Tmpfs {
		target, _, _ := strings.Cut(t, ":")
		consider(target, location{kind: inTmpfs})
	}
	for _, sec := range svc.Secrets {
		if def, ok := s.p.Secrets[sec.Source]; ok {
			consider(secretTarget(sec), location{kind: inSecret, host: def.File, ro: true})
		}
	}
	return best
}

// secretTarget is where compose mounts a service secret.
func secretTarget(sec types.ServiceSecretConfig) string {
	switch {
	case sec.Target == "":
		return "/run/secrets/" + sec.Source
	case strings.HasPrefix(sec.Target, "/"):
		return sec.Target
	default:
		return "/run/secrets/" + sec.Target
	}
}

// mountsBelow reports whether something is mounted inside directory p of
// a service's containers (so the directory exists there).
func (s *stack) mountsBelow(svc types.ServiceConfig, p string) bool {
	p = strings.TrimSuffix(filepath.ToSlash(filepath.Clean(p)), "/") + "/"
	for _, v := range svc.Volumes {
		if strings.HasPrefix(filepath.ToSlash(v.Target), p) {
			return true
		}
	}
	return false
}

// hostFile returns the host file behind a path in a service's containers,
// when it is a bind mount or a secret.
func (s *stack) hostFile(svc types.ServiceConfig, p string) (string, bool) {
	l := s.locate(svc, p)
	if l.kind == inBind || l.kind == inSecret {
		return l.host, true
	}
	return "", false
}

// flagValue returns the value of --name in a command.
func flagValue(cmd []string, name string) (string, bool) {
	for i, a := range cmd {
		if a == name && i+1 < len(cmd) {
			return cmd[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// splitHostPort splits host:port (a URL's host part, or a listen address).
func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return h, n, nil
}

// wildcard reports whether a listen host accepts connections from other
// containers.
func wildcard(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::" || host == "[::]"
}

var localPortRE = regexp.MustCompile(`(?:127\.0\.0\.1|localhost)(?::|/|\s+)(\d+)`)

// healthPorts returns the local ports a healthcheck probes.
func healthPorts(svc types.ServiceConfig) []int {
	if svc.HealthCheck == nil || svc.HealthCheck.Disable {
		return nil
	}
	var out []int
	for _, m := range localPortRE.FindAllStringSubmatch(strings.Join(svc.HealthCheck.Test, " "), -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// hasHealthcheck reports whether a service declares a working healthcheck.
func hasHealthcheck(svc types.ServiceConfig) bool {
	h := svc.HealthCheck
	return h != nil && !h.Disable && len(h.Test) > 1 && h.Test[0] != "NONE"
}

// exists reports whether a host path exists.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readRel reads a root-relative file.
func (s *stack) readRel(rel string) ([]byte, error) { return os.ReadFile(s.abs(rel)) }

// entrypointScript returns the shell script of a `/bin/sh -c SCRIPT`
// entrypoint, or "".
func entrypointScript(svc types.ServiceConfig) string {
	ep := svc.Entrypoint
	for i := 0; i+1 < len(ep); i++ {
		if strings.HasPrefix(ep[i], "-") && strings.Contains(ep[i], "c") {
			return ep[i+1]
		}
	}
	return ""
}
