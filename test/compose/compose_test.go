// Package compose checks the production topology, docker-compose.yml, and
// the configuration under deploy/ it mounts, without a Docker engine: the
// file is loaded with compose-go (the Compose specification's reference
// loader, used by `docker compose` itself), then checked for what a
// container runtime would only find out at three in the morning: missing
// mounts, undeclared volumes, colliding ports, dependencies that can never
// be met, environment variables pointing at files that are not there,
// configurations that do not load with tracegate's own rules or that name
// hosts, ports, certificates and keys other than those of the topology, a
// broker that would drop the edge's backlog, and a chaincode service the
// peers cannot find.
//
// Each rule is a check (checks_test.go). TestComposeFile runs them all on the
// real topology; TestBrokenFixture and TestEachCheckCanFail show that each
// of them catches what it is for.
package compose

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/test/harness"
)

// repoRoot is the repository, where docker-compose.yml's relative paths
// resolve from.
const repoRoot = "../.."

func TestComposeFile(t *testing.T) {
	// compose-go's own validation first: schema, interpolation, and its
	// consistency checks (the way `docker compose config` loads it).
	s, err := loadStack(repoRoot, "docker-compose.yml", true)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	if len(s.p.DisabledServices) != 0 {
		t.Errorf("services disabled with every profile on: %v", s.p.DisabledServiceNames())
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.run(s) {
				t.Error(p)
			}
		})
	}
}

// TestDefaultProfile loads the file the way `docker compose up` does
// without a profile: the demo devices and the admin tools stay off, and
// everything else starts.
func TestDefaultProfile(t *testing.T) {
	s, err := loadStack(repoRoot, "docker-compose.yml", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.names() {
		svc := s.p.Services[n]
		r := s.role(svc)
		if off := len(svc.Profiles) > 0; off != (r == roleSim || r == roleTools) {
			t.Errorf("service %s (%s): profiles %v", n, r, svc.Profiles)
		}
	}
}

var wantRE = regexp.MustCompile(`#\s*want\s+([a-z-]+):\s*(.+?)\s*$`)

// TestBrokenFixture loads testdata/broken/docker-compose.yml, a topology
// with deliberate mistakes, each marked `# want CHECK: TEXT`: the check
// must report a problem containing TEXT. compose-go's strict load must
// refuse it too (it has a dangling depends_on).
func TestBrokenFixture(t *testing.T) {
	const fixture = "test/compose/testdata/broken/docker-compose.yml"
	if _, err := loadStack(repoRoot, fixture, true); err == nil {
		t.Error("compose-go loads the broken fixture with its consistency checks on")
	}
	s, err := loadStack(repoRoot, fixture, false)
	if err != nil {
		t.Fatalf("load %s: %v", fixture, err)
	}
	got := runChecks(s)
	b, err := os.ReadFile(filepath.Join(repoRoot, fixture))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		m := wantRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n++
		name, text := m[1], m[2]
		if _, ok := got[name]; !ok {
			t.Errorf("line %d: no check named %q", line, name)
			continue
		}
		if !anyContains(got[name], text) {
			t.Errorf("line %d: check %s did not report %q; it reported:\n  %s", line, name, text, strings.Join(got[name], "\n  "))
		}
	}
	if n == 0 {
		t.Fatal("the fixture marks no expected problem")
	}
	for _, c := range checks {
		if !strings.Contains(string(b), "want "+c.name+":") {
			t.Errorf("the fixture breaks nothing check %s is for", c.name)
		}
	}
}

func anyContains(l []string, sub string) bool {
	for _, s := range l {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// mutation breaks one thing in a copy of the topology: in file, old (which
// must occur) becomes new; check must then report a problem containing
// want.
type mutation struct {
	check, file, old, new, want string
}

var mutations = []mutation{
	// services
	{"services", "docker-compose.yml", "    profiles: [demo]\n", "", `must be in profile "demo"`},
	{"services", "docker-compose.yml", "CORE_PEER_LOCALMSPID: HelpingHandsMSP", "CORE_PEER_LOCALMSPID: MeridianMSP", "want one peer of HelpingHandsMSP"},
	// bind mounts
	{"bind-mounts", "docker-compose.yml", "./deploy/mosquitto/acl:/mosquitto/config/acl:ro", "./deploy/mosquitto/acl.missing:/mosquitto/config/acl:ro", "does not exist in the repository"},
	{"bind-mounts", "docker-compose.yml", "orderers/orderer2.tracegate.example/tls, target: /var", "orderers/orderer4.tracegate.example/tls, target: /var", "cryptogen does not make it"},
	{"bind-mounts", "docker-compose.yml", "orderer3.tracegate.example/msp, target: /var/hyperledger/orderer/msp, read_only: true, bind: {create_host_path: false}}", "orderer3.tracegate.example/msp, target: /var/hyperledger/orderer/msp, read_only: true}", "without create_host_path: false"},
	{"bind-mounts", "docker-compose.yml", "./deploy/tracegate/edge.yaml:/etc/tracegate/edge.yaml:ro", "./deploy/tracegate/edge.yaml:/etc/tracegate/edge.yaml", "read-write"},
	// secrets
	{"secrets", "docker-compose.yml", "file: ./deploy/secrets/devices.json", "file: ./deploy/tracegate/devices.json", "is not under deploy/secrets"},
	{"secrets", "deploy/scripts/make-secrets.sh", "for f in mosquitto-passwd edge-mqtt-password devices.json", "for f in mosquitto-passwd devices.json", "does not make edge-mqtt-password"},
	// volumes
	{"volumes", "docker-compose.yml", "      - edge-data:/var/lib/tracegate/edge\n", "", "keeps state in /var/lib/tracegate/edge"},
	{"volumes", "docker-compose.yml", "      - orderer3-data:/var/hyperledger/production/orderer", "      - orderer2-data:/var/hyperledger/production/orderer", "shared by"},
	{"volumes", "docker-compose.yml", "  gateway-data:\n", "", "not declared"},
	// ports
	{"ports", "docker-compose.yml", `      - "1883:1883"`, `      - "8080:1883"`, "published by both"},
	{"ports", "docker-compose.yml", `      - "8080:8080"`, `      - "8080:8081"`, "listens on [8080]"},
	// depends_on
	{"depends-on", "docker-compose.yml", "      chaincode:\n        condition: service_healthy", "      chaincod:\n        condition: service_healthy", "which does not exist"},
	{"depends-on", "docker-compose.yml", "    networks: [ledger]\n\n  # --- Gateway", "    networks: [ledger]\n    depends_on:\n      gateway:\n        condition: service_started\n\n  # --- Gateway", "cycle"},
	{"depends-on", "docker-compose.yml", "      mosquitto:\n        condition: service_healthy\n      gateway:", "      gateway:", "must depend on mosquitto"},
	// healthchecks
	{"healthchecks", "docker-compose.yml", `"http://127.0.0.1:9090/healthz"`, `"http://127.0.0.1:9091/healthz"`, "listens on 9090"},
	{"healthchecks", "docker-compose.yml", `test: ["CMD-SHELL", "nc -z 127.0.0.1 1883"]`, `test: ["CMD", "curl", "-f", "http://127.0.0.1:1883"]`, "which its image lacks"},
	// environment paths
	{"env-paths", "docker-compose.yml", "CORE_PEER_TLS_ROOTCERT_FILE: /etc/hyperledger/fabric/tls/ca.crt", "CORE_PEER_TLS_ROOTCERT_FILE: /etc/hyperledger/tls/ca.crt", "points outside every mount"},
	{"env-paths", "docker-compose.yml", "ORDERER_GENERAL_TLS_ROOTCAS: \"[/var/hyperledger/orderer/tls/ca.crt]\"", "ORDERER_GENERAL_TLS_ROOTCAS: \"[/var/hyperledger/orderer/tls/root.crt]\"", "cryptogen does not make it"},
	// inline secrets
	{"inline-secrets", "docker-compose.yml", "      CHAINCODE_TLS_DISABLED: \"true\"", "      CHAINCODE_TLS_DISABLED: \"true\"\n      TRACEGATE_EDGE_MQTT_PASSWORD: hunter2hunter2", "set inline"},
	{"inline-secrets", "deploy/tracegate/edge.yaml", "  username: edge-wh1 ", "  password: hunter2\n  username: edge-wh1 ", "sets mqtt.password inline"},
	// Mosquitto
	{"mosquitto", "deploy/mosquitto/mosquitto.conf", "max_queued_messages 1000000", "max_queued_messages 1000", "max_queued_messages"},
	{"mosquitto", "deploy/mosquitto/mosquitto.conf", "persistence true", "persistence false", "persistence must be true"},
	{"mosquitto", "deploy/mosquitto/mosquitto.conf", "autosave_interval 1\n", "", "autosave_interval"},
	{"mosquitto", "deploy/mosquitto/mosquitto.conf", "password_file /run/secrets/mosquitto_passwd", "", "password_file is not set"},
	{"mosquitto", "deploy/mosquitto/mosquitto.conf", "acl_file /mosquitto/config/acl", "acl_file /mosquitto/acl", "is not mounted"},
	// edge
	{"edge-config", "deploy/tracegate/edge.yaml", "tcp://mosquitto:1883", "tcp://mqtt:1883", "no service of the compose file"},
	{"edge-config", "deploy/tracegate/edge.yaml", "url: http://gateway:8080", "url: http://gateway:9090", "listens on [8080]"},
	{"edge-config", "deploy/mosquitto/acl", "user edge-wh1\ntopic read tracegate/#", "user edge-wh1\ntopic read tracegate/wh1/#", "does not let"},
	{"edge-config", "docker-compose.yml", "export TRACEGATE_EDGE_MQTT_PASSWORD\n", "", "does not export"},
	{"edge-config", "deploy/tracegate/edge.yaml", "maxAge: 500ms", "maxAge: 0s", "batch.maxAge"},
	// gateway
	{"gateway-config", "deploy/tracegate/gateway.yaml", "endpoint: peer0.helpinghands.tracegate.example:7051", "endpoint: peer0.helpinghands.tracegate.example:7061", "listens on [7051]"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "endpoint: peer0.meridian.tracegate.example:7051", "endpoint: peer0.northwarehouse.tracegate.example:7051", "is a peer of NorthWarehouseMSP"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "MeridianMSP/tlscacerts/tlsca.meridian", "MeridianMSP/tlscacerts/tlsca.meridien", "cryptogen does not make"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "SafeCoverMSP/admin/keystore/priv_sk", "SafeCoverMSP/admin/priv_sk", "which cryptogen does not make"},
	{"gateway-config", "docker-compose.yml", "      - {type: bind, source: ./deploy/crypto/peerOrganizations/regulator.tracegate.example/users/Admin@regulator.tracegate.example/msp, target: /etc/tracegate/fabric/RegulatorMSP/admin, read_only: true, bind: {create_host_path: false}}\n", "", "is not mounted into service gateway"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "ManufacturerWarehouse: [MeridianMSP, NorthWarehouseMSP]", "ManufacturerWarehouse: [MeridianMSP]", "has members"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "    channel: tracegate", "    channel: mychannel", "creates channel"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "listen: 0.0.0.0:8080", "listen: 127.0.0.1:8080", "all interfaces"},
	{"gateway-config", "deploy/tracegate/gateway-secrets.example.yaml", "  broker: tcp://mosquitto:1883", "  broker: tcp://broker:1883", "does not name the broker service"},
	{"gateway-config", "deploy/mosquitto/acl", "user gateway\ntopic write tracegate/+/alerts", "user gateway\ntopic write tracegate/wh1/alerts", "does not let alerts.username"},
	{"gateway-config", "deploy/tracegate/gateway.yaml", "  anchorMaxBackoff: 30s", "  anchorMaxBackof: 30s", "field anchorMaxBackof not found"},
	{"gateway-config", "deploy/tracegate/gateway-secrets.example.yaml", `  - "fedcba9876543210fedcba9876543210"`, `  - "short"`, "shorter than 16"},
	// chaincode
	{"chaincode", "docker-compose.yml", "CHAINCODE_SERVER_ADDRESS: 0.0.0.0:9999", "CHAINCODE_SERVER_ADDRESS: 0.0.0.0:7777", "sends the peers to port 9999"},
	{"chaincode", "deploy/chaincode/connection.json", `"address": "chaincode:9999"`, `"address": "cc:9999"`, "is not service chaincode"},
	{"chaincode", "docker-compose.yml", "tracegate_1.0:42afc24da", "tracegate_1.0:52afc24da", "but the package ID"},
	{"chaincode", "deploy/chaincode/connection.json", `"dial_timeout": "10s"`, `"dial_timeout": "20s"`, "repackage"},
	{"chaincode", "docker-compose.yml", `CHAINCODE_TLS_DISABLED: "true"`, `CHAINCODE_TLS_DISABLED: "false"`, "tls_required=false"},
	// Fabric
	{"fabric", "deploy/fabric/configtx.yaml", "      - {Host: peer0.northwarehouse.tracegate.example, Port: 7051}", "      - {Host: peer0.northwarehouse.tracegate.example, Port: 9051}", "is not an anchor peer"},
	{"fabric", "deploy/fabric/configtx.yaml", "orderers/orderer2.tracegate.example/tls/server.crt\n        ServerTLSCert: ../crypto/ordererOrganizations/tracegate.example/orderers/orderer2", "orderers/orderer3.tracegate.example/tls/server.crt\n        ServerTLSCert: ../crypto/ordererOrganizations/tracegate.example/orderers/orderer2", "but the service's ORDERER_GENERAL_TLS_CERTIFICATE"},
	{"fabric", "deploy/fabric/core.yaml", `    endpoint: ""`, `    endpoint: unix:///var/run/docker.sock`, "vm.endpoint"},
	{"fabric", "docker-compose.yml", "ORDERER_GENERAL_BOOTSTRAPMETHOD: none", "ORDERER_GENERAL_BOOTSTRAPMETHOD: file", "ORDERER_GENERAL_BOOTSTRAPMETHOD"},
	{"fabric", "docker-compose.yml", "CORE_PEER_GOSSIP_EXTERNALENDPOINT: peer0.meridian.tracegate.example:7051", "CORE_PEER_GOSSIP_EXTERNALENDPOINT: peer0:7051", "CORE_PEER_GOSSIP_EXTERNALENDPOINT"},
	{"fabric", "deploy/scripts/fabric.sh", "ORDERER_ADMIN_PORT=${ORDERER_ADMIN_PORT:-7053}", "ORDERER_ADMIN_PORT=${ORDERER_ADMIN_PORT:-9053}", "calls osnadmin on 9053"},
	{"fabric", "deploy/fabric/crypto-config.yaml", "    Domain: helpinghands.tracegate.example", "    Domain: hands.tracegate.example", "is not cryptogen output"},
}

// copyTopology copies what the checks read into a fresh directory.
func copyTopology(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{"docker-compose.yml", "Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(repoRoot, "deploy")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		if top == "crypto" || top == "secrets" || top == "channel-artifacts" {
			return filepath.SkipDir // operator-made, never read by the checks
		}
		out := filepath.Join(dst, "deploy", rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestEachCheckCanFail breaks the topology one way at a time and expects
// the check the breakage is for to say so; the unbroken copy passes.
func TestEachCheckCanFail(t *testing.T) {
	t.Run("unbroken", func(t *testing.T) {
		s, err := loadStack(copyTopology(t), "docker-compose.yml", true)
		if err != nil {
			t.Fatal(err)
		}
		for name, problems := range runChecks(s) {
			for _, p := range problems {
				t.Errorf("%s: %s", name, p)
			}
		}
	})
	covered := map[string]bool{}
	for i, m := range mutations {
		covered[m.check] = true
		t.Run(fmt.Sprintf("%s/%d", m.check, i), func(t *testing.T) {
			dir := copyTopology(t)
			file := filepath.Join(dir, m.file)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(m.old)) {
				t.Fatalf("%s no longer contains %q: update the mutation", m.file, m.old)
			}
			if err := os.WriteFile(file, bytes.Replace(b, []byte(m.old), []byte(m.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := loadStack(dir, "docker-compose.yml", false)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			var got []string
			for _, c := range checks {
				if c.name == m.check {
					got = c.run(s)
				}
			}
			if !anyContains(got, m.want) {
				t.Errorf("after %s: %q -> %q, check %s did not report %q; it reported:\n  %s",
					m.file, m.old, m.new, m.check, m.want, strings.Join(got, "\n  "))
			}
		})
	}
	for _, c := range checks {
		if !covered[c.name] {
			t.Errorf("no mutation shows that check %s can fail", c.name)
		}
	}
}

// TestMosquittoAcceptsConfig starts the real broker on deploy/'s
// mosquitto.conf and ACL (paths moved into a temporary directory, listener
// on a free loopback port) and logs in as the edge: the configuration
// parses, the password file and the ACL load.
func TestMosquittoAcceptsConfig(t *testing.T) {
	bin, err := harness.MosquittoBinary()
	if err != nil {
		t.Fatal(err)
	}
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Fatal("mosquitto_passwd is not installed: run `make deps`")
	}
	sub, err := exec.LookPath("mosquitto_sub")
	if err != nil {
		t.Fatal("mosquitto_sub is not installed: run `make deps`")
	}
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join(repoRoot, "deploy/mosquitto/mosquitto.conf"))
	if err != nil {
		t.Fatal(err)
	}
	acl, err := os.ReadFile(filepath.Join(repoRoot, "deploy/mosquitto/acl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acl"), acl, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(passwd, "-b", "-c", filepath.Join(dir, "passwd"), "edge-wh1", "edge-secret-1").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(addr, ":")
	c := parseMosquittoConf(conf)
	if len(c["listener"]) != 1 {
		t.Fatalf("want one listener line, have %v", c["listener"])
	}
	text := string(conf)
	for old, repl := range map[string]string{
		"listener " + c["listener"][0]:          "listener " + port + " 127.0.0.1",
		"/run/secrets/mosquitto_passwd":         filepath.Join(dir, "passwd"),
		"/mosquitto/config/acl":                 filepath.Join(dir, "acl"),
		"persistence_location /mosquitto/data/": "persistence_location " + filepath.Join(dir, "data") + "/",
		"log_dest stdout":                       "log_dest file " + filepath.Join(dir, "mosquitto.log"),
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("mosquitto.conf no longer contains %q", old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	if os.Geteuid() == 0 {
		text += "user root\n" // else Mosquitto drops to a user that cannot read the temp dir
	}
	confFile := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, bin, "-c", confFile)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	logf := func() string {
		a, _ := os.ReadFile(filepath.Join(dir, "stderr"))
		b, _ := os.ReadFile(filepath.Join(dir, "mosquitto.log"))
		return string(a) + string(b)
	}
	var out []byte
	for i := 0; ; i++ {
		// Subscribing to what the edge subscribes to, as the edge: the login,
		// the password file and the ACL all work.
		out, err = exec.CommandContext(ctx, sub, "-h", "127.0.0.1", "-p", port, "-u", "edge-wh1", "-P", "edge-secret-1",
			"-i", "compose-test", "-q", "1", "-t", "tracegate/+/+/+", "-E").CombinedOutput()
		if err == nil {
			break
		}
		if i == 50 {
			t.Fatalf("cannot subscribe as the edge: %v: %s\nmosquitto:\n%s", err, out, logf())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A wrong password is refused (allow_anonymous false, password_file).
	if out, err := exec.CommandContext(ctx, sub, "-h", "127.0.0.1", "-p", port, "-u", "edge-wh1", "-P", "wrong",
		"-t", "tracegate/#", "-E").CombinedOutput(); err == nil {
		t.Errorf("a wrong password was accepted: %s", out)
	}
	if l := logf(); strings.Contains(l, "Error") {
		t.Errorf("mosquitto logged errors:\n%s", l)
	}
}

// fabricBin finds the Fabric tools the way the project's native network
// tooling does: $TRACEGATE_FABRIC_BIN, the user cache where it builds
// them, or the PATH.
func fabricBin(name string) (string, bool) {
	var dirs []string
	if d := os.Getenv("TRACEGATE_FABRIC_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	if c, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(c, "tracegate", "fabric", "v1.4.0-rc1.0.20230405174026-695dd57e01c2", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	p, err := exec.LookPath(name)
	return p, err == nil
}

// TestFabricToolsAcceptConfig runs the real cryptogen and configtxgen on
// deploy/fabric (as deploy/scripts/fabric.sh does in the tools container)
// when the Fabric binaries are at hand: the crypto layout the checks model
// is the one cryptogen writes, and the channel's genesis block builds.
func TestFabricToolsAcceptConfig(t *testing.T) {
	cryptogen, ok1 := fabricBin("cryptogen")
	configtxgen, ok2 := fabricBin("configtxgen")
	if !ok1 || !ok2 {
		t.Skip("cryptogen/configtxgen not found: set TRACEGATE_FABRIC_BIN (or run `tracegate fabric up` once, which builds them)")
	}
	dir := copyTopology(t)
	deploy := filepath.Join(dir, "deploy")
	if out, err := exec.Command(cryptogen, "generate", "--config="+filepath.Join(deploy, "fabric/crypto-config.yaml"),
		"--output="+filepath.Join(deploy, "crypto")).CombinedOutput(); err != nil {
		t.Fatalf("cryptogen: %v\n%s", err, out)
	}
	s, err := loadStack(dir, "docker-compose.yml", true)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := s.layout()
	if err != nil {
		t.Fatal(err)
	}
	real := cryptoLayout{}
	root := filepath.Join(deploy, "crypto")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if rel, _ := filepath.Rel(root, p); err == nil && rel != "." {
			real[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	for p := range layout {
		if !real[p] {
			t.Errorf("the model expects %s, cryptogen did not write it", p)
		}
	}
	for p := range real {
		if !layout[p] {
			t.Errorf("cryptogen wrote %s, the model does not know it", p)
		}
	}
	// Every bind mount and file the topology names now exists.
	for _, n := range s.names() {
		for _, v := range s.p.Services[n].Volumes {
			if v.Type == "bind" && !exists(v.Source) {
				t.Errorf("service %s: %s does not exist after cryptogen", n, v.Source)
			}
		}
	}
	block := filepath.Join(deploy, "channel-artifacts", "tracegate.block")
	script, _ := os.ReadFile(filepath.Join(deploy, "scripts/fabric.sh"))
	profile := profileRE.FindSubmatch(script)
	if profile == nil {
		t.Fatal("fabric.sh names no configtxgen profile")
	}
	cmd := exec.Command(configtxgen, "-configPath", filepath.Join(deploy, "fabric"), "-profile", string(profile[1]),
		"-channelID", scriptDefaults(script)["CHANNEL"], "-outputBlock", block)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("configtxgen: %v\n%s", err, out)
	}
	if fi, err := os.Stat(block); err != nil || fi.Size() == 0 {
		t.Fatalf("no channel block: %v", err)
	}
}
