package test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/test/harness"
)

// proc is a tracegate subprocess.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	log    string
}

func startProc(t *testing.T, logPath string, args ...string) *proc {
	t.Helper()
	bin, err := harness.Binary()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("clean shutdown (SIGINT) exited with %v\n%s", p.err, p.tail())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("no clean shutdown within 30 s of SIGINT\n%s", p.tail())
		p.kill()
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// publisher publishes numbered sensor readings and records which the
// broker acknowledged (PUBACK received).
type publisher struct {
	client mqtt.Client
	topic  string
	base   time.Time
	mu     sync.Mutex
	acked  map[int]bool
	sent   int
	wg     sync.WaitGroup
}

func newPublisher(t *testing.T, addr, clientID, user, pw, topic string) *publisher {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID).SetUsername(user).SetPassword(pw).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher %s: %v", clientID, tok.Error())
	}
	return &publisher{client: c, topic: topic, base: time.Now().UTC().Truncate(time.Second).Add(-time.Hour), acked: map[int]bool{}}
}

func (p *publisher) tsOf(i int) time.Time { return p.base.Add(time.Duration(i) * time.Millisecond) }

// publish sends reading i without waiting; the PUBACK is recorded.
func (p *publisher) publish(i int) {
	payload := fmt.Sprintf(`{"ts":%q,"temperature":%.2f,"humidity":45}`, ts(p.tsOf(i)), 2+float64(i%600)/100)
	tok := p.client.Publish(p.topic, 1, false, payload)
	p.mu.Lock()
	p.sent++
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if tok.WaitTimeout(60*time.Second) && tok.Error() == nil {
			p.mu.Lock()
			p.acked[i] = true
			p.mu.Unlock()
		}
	}()
}

func (p *publisher) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// checkExactlyOnce waits until every acknowledged reading is indexed,
// anchored and provable, and checks that none is stored twice.
func checkExactlyOnce(t *testing.T, ctx context.Context, base string, p *publisher, readPoint string, n int) {
	t.Helper()
	p.mu.Lock()
	acked := make(map[int]bool, len(p.acked))
	for k := range p.acked {
		acked[k] = true
	}
	p.mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no reading was acknowledged before the kill: nothing to check")
	}
	params := url.Values{"EQ_readPoint": {readPoint}, "GE_eventTime": {p.tsOf(0).Format(time.RFC3339Nano)}, "LT_eventTime": {p.tsOf(n).Format(time.RFC3339Nano)}}
	var byTime map[string][]string
	deadline := time.Now().Add(120 * time.Second)
	for {
		evs, err := harness.QueryEvents(ctx, base, params)
		if err != nil {
			t.Fatal(err)
		}
		byTime = map[string][]string{}
		for _, e := range evs {
			tm := e["eventTime"].(string)
			byTime[tm] = append(byTime[tm], e["eventID"].(string))
		}
		missing := 0
		for i := range acked {
			if len(byTime[ts(p.tsOf(i))]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged readings never became events", missing, len(acked))
		}
		time.Sleep(250 * time.Millisecond)
	}
	for tm, ids := range byTime {
		if len(ids) != 1 {
			t.Errorf("reading at %s stored %d times", tm, len(ids))
		}
	}
	// Every acknowledged reading is provable: proof fetched over HTTP and
	// verified against the ledger (the library behind tracegate verify),
	// and a sample with the CLI itself.
	hl, err := proof.NewHTTPLedger(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for k := range acked {
		id := byTime[ts(p.tsOf(k))][0]
		var res proof.Result
		for {
			raw, err := fetch(ctx, harness.ProofURL(base, id))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := proof.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			res = proof.Verify(ctx, doc, hl)
			if !res.Pending || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !res.Verified {
			t.Fatalf("reading %d (%s) not provable: %v", k, id, res.Err())
		}
		if i < 3 {
			if code, out, err := harness.Verify(ctx, harness.ProofURL(base, id)); err != nil || code != 0 {
				t.Fatalf("tracegate verify %s: exit %d %v\n%s", id, code, err, out)
			}
		}
		i++
	}
	t.Logf("%d readings acknowledged, each stored and provable exactly once (%d events in range)", len(acked), len(byTime))
}

// TestCrashUp kills `tracegate up` with SIGKILL while a device publishes,
// restarts it on the same data directory and checks that every reading
// whose PUBACK the device received is provable exactly once.
func TestCrashUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	httpAddr, _ := harness.FreeAddr()
	mqttAddr, _ := harness.FreeAddr()
	args := []string{"up", "--data", data, "--http", httpAddr, "--mqtt", mqttAddr, "--devices=false", "--log-level", "warn"}
	logPath := filepath.Join(dir, "up.log")
	up := startProc(t, logPath, args...)
	base := "http://" + httpAddr
	if err := harness.WaitHTTP(ctx, base+"/healthz"); err != nil {
		t.Fatalf("%v\n%s", err, up.tail())
	}
	var devs []struct{ ClientID, Username, Password, Topic string }
	b, err := os.ReadFile(filepath.Join(data, "devices.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &devs); err != nil {
		t.Fatal(err)
	}
	var creds0 []byte
	if creds0, err = os.ReadFile(filepath.Join(data, "demo-credentials.json")); err != nil {
		t.Fatal(err)
	}
	var cold struct{ ClientID, Username, Password, Topic string }
	for _, d := range devs {
		if d.Username == "coldroom-1" {
			cold = d
		}
	}
	if cold.Username == "" {
		t.Fatalf("devices.json has no coldroom-1: %s", b)
	}
	pub := newPublisher(t, mqttAddr, cold.ClientID, cold.Username, cold.Password, cold.Topic)
	const n = 3000
	killAt := 0
	for i := range n {
		pub.publish(i)
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond)
		}
		if killAt == 0 && pub.ackedCount() > 300 {
			killAt = i
			up.kill() // SIGKILL to the whole process group
			break
		}
	}
	if killAt == 0 {
		up.kill()
	}
	pub.wg.Wait()
	pub.client.Disconnect(0)
	t.Logf("killed after publishing %d readings, %d acknowledged", pub.sent, pub.ackedCount())
	if pub.ackedCount() >= pub.sent {
		t.Logf("every published reading was acknowledged before the kill")
	}

	up2 := startProc(t, logPath, args...)
	if err := harness.WaitHTTP(ctx, base+"/healthz"); err != nil {
		t.Fatalf("restart: %v\n%s", err, up2.tail())
	}
	checkExactlyOnce(t, ctx, base, pub, demo.WarehouseColdRoom, n)
	creds1, _ := os.ReadFile(filepath.Join(data, "demo-credentials.json"))
	if string(creds0) != string(creds1) {
		t.Errorf("restart changed the credentials:\n%s\n%s", creds0, creds1)
	}
	up2.stop(t)
	if strings.Contains(up2.tail(), "panic") {
		t.Errorf("panic in the log:\n%s", up2.tail())
	}
}

// TestCrashEdgeMosquitto kills the edge agent alone (SIGKILL) while devices
// publish to Mosquitto, restarts it, and checks that every reading
// Mosquitto acknowledged to the device is provable exactly once.
func TestCrashEdgeMosquitto(t *testing.T) {
	requireMosquittoClients(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	gw, err := harness.StartGateway(ctx, filepath.Join(dir, "gw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	mq, err := harness.StartMosquitto(ctx, filepath.Join(dir, "mosquitto"), []harness.MosquittoAccount{
		{User: "edge-wh1", Password: "edge-secret", Read: []string{"tracegate/#"}},
		{User: "coldroom-1", Password: "cold-pw", Write: []string{"tracegate/wh1/sensor/coldroom-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mq.Stop()
	cfgPath := filepath.Join(dir, "edge.yaml")
	cfg := fmt.Sprintf(`id: edge-wh1
dataDir: %s
listen: %s
mqtt: {broker: %q, clientID: edge-wh1, username: edge-wh1, password: edge-secret}
gateway: {url: %q, maxBackoff: 2s}
batch: {maxEvents: 500, maxAge: 200ms}
limits: {minFreeBytes: 0}
sites:
  wh1:
    location: %q
    sensors:
      coldroom-1: {readPoint: %q, bizLocation: %q}
`, filepath.Join(dir, "edge"), mustFree(t), mq.URL(), gw.URL, demo.WarehouseSite, demo.WarehouseColdRoom, demo.WarehouseColdRoom)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, _ := harness.Binary()
	out, err := exec.CommandContext(ctx, bin, "edge", "key", "--config", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("tracegate edge key: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 || fields[0] != "edge-wh1" {
		t.Fatalf("tracegate edge key printed %q", out)
	}
	key, err := decodeB64(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.RegisterEdge(ctx, "edge-wh1", key); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "edge.log")
	edgeArgs := []string{"edge", "--config", cfgPath, "--log-level", "warn"}
	e1 := startProc(t, logPath, edgeArgs...)
	waitEdgeSession(t, ctx, mq)

	pub := newPublisher(t, mq.Addr, "coldroom-1", "coldroom-1", "cold-pw", "tracegate/wh1/sensor/coldroom-1")
	const n = 4000
	for i := range n {
		pub.publish(i)
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond)
		}
		if i == n/3 {
			e1.kill() // the edge dies; Mosquitto keeps the session's queue
		}
		if i == 2*n/3 {
			e2 := startProc(t, logPath, edgeArgs...)
			defer e2.stop(t)
		}
	}
	pub.wg.Wait()
	pub.client.Disconnect(250)
	t.Logf("published %d readings, Mosquitto acknowledged %d", pub.sent, pub.ackedCount())
	checkExactlyOnce(t, ctx, gw.URL, pub, demo.WarehouseColdRoom, n)
}

// waitEdgeSession waits until Mosquitto logs the edge's connection, so its
// persistent session exists before devices publish.
func waitEdgeSession(t *testing.T, ctx context.Context, mq *harness.Mosquitto) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(mq.Log(), "edge-wh1") {
			time.Sleep(300 * time.Millisecond) // the subscription follows the connection
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("the edge never connected to Mosquitto:\n%s", mq.Log())
}

func mustFree(t *testing.T) string {
	t.Helper()
	a, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
