// Package test holds tracegate's cross-component tests: end to end through
// the embedded broker and a real Mosquitto, crash tests with SIGKILL, and
// the browser test. They use real parts only (see test/harness).
package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/broker"
	"github.com/tracegate/tracegate/test/harness"
)

func TestMain(m *testing.M) {
	if _, err := harness.Binary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	stopFabric()
	os.Exit(code)
}

func fetch(ctx context.Context, u string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return b, nil
}

// requireMosquittoClients fails the test loudly when the Debian packages
// are missing (make deps installs them).
func requireMosquittoClients(t *testing.T) {
	t.Helper()
	if _, err := harness.MosquittoBinary(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"mosquitto_pub", "mosquitto_passwd"} {
		if _, err := lookPath(c); err != nil {
			t.Fatalf("%s is not installed: run `make deps` (apt-get install -y mosquitto mosquitto-clients)", c)
		}
	}
}

type device struct{ site, kind, id string }

var demoDevices = []device{
	{"wh1", broker.KindSensor, "coldroom-1"},
	{"wh1", broker.KindRFID, "dock-in-1"},
	{"wh1", broker.KindScanner, "handheld-1"},
}

// pickBatched returns a sensor event whose batch holds more than one event
// (so its audit path is not empty).
func pickBatched(t *testing.T, ctx context.Context, base string, ids []string) string {
	t.Helper()
	for _, id := range ids {
		b, err := fetch(ctx, harness.ProofURL(base, id))
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			TreeSize int            `json:"treeSize"`
			Event    map[string]any `json:"event"`
		}
		_ = json.Unmarshal(b, &d)
		if d.TreeSize > 1 && d.Event["sensorElementList"] != nil {
			return id
		}
	}
	t.Fatal("no sensor event sealed in a batch of more than one event")
	return ""
}

// TestEndToEndEmbeddedBroker runs the tracegate up topology in-process and
// publishes with mosquitto_pub through the embedded broker.
func TestEndToEndEmbeddedBroker(t *testing.T) {
	requireMosquittoClients(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var accounts []broker.Account
	pw := map[string]string{}
	for _, d := range demoDevices {
		a, p, err := harness.DeviceAccount(d.site, d.kind, d.id)
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a)
		pw[d.id] = p
	}
	st, err := harness.StartEmbedded(ctx, t.TempDir(), accounts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := func(dev, topic string, payload []byte) error {
		return harness.MosquittoPub(ctx, st.MQTT, dev, dev, pw[dev], topic, payload)
	}
	sc := publishScenario(t, pub)
	// The embedded broker's ACL: a device cannot publish under another
	// device's topic; the message is refused and counted, never ingested.
	if err := pub("coldroom-1", "tracegate/wh1/sensor/dock-in-1", []byte(`{"temperature":1}`)); err != nil {
		t.Logf("publish outside the ACL: %v", err)
	}
	ids := checkScenario(t, ctx, st.URL, st.Svc.Store(), st.Agent.Journal(), sc)
	metrics, err := fetch(ctx, st.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(metrics), `tracegate_broker_publish_total{result="acl_denied"} 1`) {
		t.Errorf("broker did not count the ACL refusal:\n%s", grep(string(metrics), "tracegate_broker_publish_total"))
	}
	for _, m := range []string{`tracegate_edge_dead_letters_total{edge="` + st.Agent.ID() + `",reason="bad_json"} 1`, `tracegate_edge_duplicates_total{edge="` + st.Agent.ID() + `",kind="raw"} 1`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("metric %s missing:\n%s", m, grep(string(metrics), "tracegate_edge_"))
		}
	}
	tamperChecks(t, ctx, st.URL, pickBatched(t, ctx, st.URL, ids))
}

// TestEndToEndMosquitto runs the edge agent against a real Mosquitto with
// per-device passwords and ACLs, publishing with mosquitto_pub.
func TestEndToEndMosquitto(t *testing.T) {
	requireMosquittoClients(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	gw, err := harness.StartGateway(ctx, filepath.Join(dir, "gw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	accounts := []harness.MosquittoAccount{{User: "edge-wh1", Password: "edge-secret", Read: []string{"tracegate/#"}}}
	for _, d := range demoDevices {
		accounts = append(accounts, harness.MosquittoAccount{User: d.id, Password: d.id + "-pw", Write: []string{"tracegate/" + d.site + "/" + d.kind + "/" + d.id}})
	}
	// An integration account allowed anywhere under tracegate/: it can send
	// what the edge must refuse (unknown topics, oversized payloads).
	accounts = append(accounts, harness.MosquittoAccount{User: "integration", Password: "integration-pw", Write: []string{"tracegate/#"}})
	mq, err := harness.StartMosquitto(ctx, filepath.Join(dir, "mosquitto"), accounts)
	if err != nil {
		t.Fatal(err)
	}
	defer mq.Stop()
	cfg := harness.EdgeConfig("edge-wh1", filepath.Join(dir, "edge"), gw.URL)
	cfg.MQTT = edge.MQTTConfig{Broker: mq.URL(), ClientID: "edge-wh1", Username: "edge-wh1", Password: "edge-secret", Topics: []string{"tracegate/+/+/+"}, MaxPending: 4096}
	agent, err := edge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if err := gw.RegisterEdge(ctx, agent.ID(), agent.PublicKey()); err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- agent.Run(actx) }()
	defer func() { acancel(); <-done }()
	waitSubscribed(t, ctx, mq, agent)

	pub := func(dev, topic string, payload []byte) error {
		return harness.MosquittoPub(ctx, mq.Addr, dev+"-pub", dev, dev+"-pw", topic, payload)
	}
	sc := publishScenario(t, pub)
	if err := harness.MosquittoPub(ctx, mq.Addr, "integration", "integration", "integration-pw", "tracegate/wh1/camera/cam-1", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	big := `{"ts":"2026-11-25T10:00:00Z","temperature":4,"pad":"` + strings.Repeat("x", 70<<10) + `"}`
	if err := harness.MosquittoPub(ctx, mq.Addr, "integration", "integration", "integration-pw", "tracegate/wh1/sensor/coldroom-1", []byte(big)); err != nil {
		t.Fatal(err)
	}
	sc.deadReasons = append(sc.deadReasons, "unknown_topic", "too_large")
	ids := checkScenario(t, ctx, gw.URL, gw.Svc.Store(), agent.Journal(), sc)
	tamperChecks(t, ctx, gw.URL, pickBatched(t, ctx, gw.URL, ids))
}

// waitSubscribed publishes a probe until the edge has received one, so
// the edge's persistent session exists before the scenario starts.
func waitSubscribed(t *testing.T, ctx context.Context, mq *harness.Mosquitto, a *edge.Agent) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st, err := a.Status()
		if err == nil && a.Connected() {
			_ = st
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("edge did not subscribe to %s:\n%s", mq.Addr, mq.Log())
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func lookPath(c string) (string, error) { return exec.LookPath(c) }
