package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge/broker"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/fabric"
	"github.com/tracegate/tracegate/ledger/fabricnet"
	"github.com/tracegate/tracegate/ledger/fabricnet/fabricnettest"
	"github.com/tracegate/tracegate/test/harness"
)

// The package's Fabric network: started on first use, stopped by
// TestMain (stopFabric).
var (
	fabOnce sync.Once
	fabNet  *fabricnet.Network
	fabErr  error
)

// fabricNetwork returns the package's local Fabric network: every demo
// member its own MSP, peers for three of them, the chaincode served in
// this process.
func fabricNetwork(t *testing.T) *fabricnet.Network {
	t.Helper()
	fabOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tracegate-e2e-fabric-")
		if err != nil {
			fabErr = err
			return
		}
		base, err := fabricnet.FreeBasePort()
		if err != nil {
			fabErr = err
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a cold binary build included
		defer cancel()
		fabNet, fabErr = fabricnet.Up(ctx, fabricnet.Options{
			Dir: dir, BasePort: base, StopWithParent: true, ServeChaincode: fabricnettest.ServeChaincode,
			Progress: func(msg string) { t.Logf("fabric [%5.1fs] %s", time.Since(start).Seconds(), msg) },
		})
	})
	if fabErr != nil {
		t.Fatalf("local Fabric network: %v", fabErr)
	}
	return fabNet
}

func stopFabric() {
	if fabNet != nil {
		_ = fabNet.Down(context.Background(), fabricnet.Purge())
		os.RemoveAll(fabNet.Dir())
	}
}

// openFabric connects a ledger to the network with every member's
// identities (the demo gateway's view), closed when the test ends.
func openFabric(t *testing.T, n *fabricnet.Network) ledger.Ledger {
	t.Helper()
	l, err := fabric.New(n.GatewayConfig(), fabric.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestEndToEndFabric is the foundation's end-to-end test on Fabric:
// mosquitto_pub through the embedded broker, every reading proven with
// `tracegate verify` against the Fabric ledger (through the gateway),
// duplicates stored once, bad payloads dead-lettered, tampering detected;
// and an anchor the gateway wrote read back with Fabric's own peer CLI.
func TestEndToEndFabric(t *testing.T) {
	requireMosquittoClients(t)
	n := fabricNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
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
	st, err := harness.StartEmbedded(ctx, t.TempDir(), accounts, nil, harness.WithLedger(openFabric(t, n)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Svc.LedgerInfo().Kind != ledger.KindFabric {
		t.Fatalf("gateway runs on %q", st.Svc.LedgerInfo().Kind)
	}
	pub := func(dev, topic string, payload []byte) error {
		return harness.MosquittoPub(ctx, st.MQTT, dev, dev, pw[dev], topic, payload)
	}
	sc := publishScenario(t, pub)
	ids := checkScenario(t, ctx, st.URL, st.Svc.Store(), st.Agent.Journal(), sc)
	tamperChecks(t, ctx, st.URL, pickBatched(t, ctx, st.URL, ids))

	// The anchor of one of those batches, read with Fabric's peer CLI as
	// the regulator's admin on the charity's peer (neither wrote it).
	h, _ := epcis.ParseEventID(ids[0])
	rec, err := st.Svc.Store().Event(h)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := st.Svc.Store().Batch(rec.Edge, rec.Seq)
	out, err := n.Query(ctx, fabricnet.Charity, ledger.FnGetAnchor, rec.Edge, fmt.Sprint(rec.Seq))
	if err != nil {
		t.Fatalf("peer chaincode query GetAnchor %s %d: %v\n%s", rec.Edge, rec.Seq, err, out)
	}
	var a ledger.Anchor
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("peer chaincode query printed %q: %v", out, err)
	}
	if a.HeaderHash != b.HeaderHash || a.Root != b.Header.Root || a.Org != demo.Warehouse {
		t.Fatalf("peer CLI anchor %+v, the gateway stored header %s root %s", a, b.HeaderHash, b.Header.Root)
	}
	t.Logf("peer chaincode query GetAnchor %s %d → header %s, tx %s", rec.Edge, rec.Seq, a.HeaderHash[:16], a.TxID)
}

// TestFaultFabricOutage stops the orderer, then the gateway's own peer,
// while a device publishes: the gateway keeps running and accepting
// readings, reports the ledger as down on /readyz and /metrics, keeps the
// batches queued and anchors them once the network is back — every
// acknowledged reading provable exactly once.
func TestFaultFabricOutage(t *testing.T) {
	n := fabricNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	acct, pw, err := harness.DeviceAccount("wh1", broker.KindSensor, "coldroom-1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := harness.StartEmbedded(ctx, t.TempDir(), []broker.Account{acct}, nil, harness.WithLedger(openFabric(t, n)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := newPublisher(t, st.MQTT, "coldroom-1", "coldroom-1", pw, "tracegate/wh1/sensor/coldroom-1")
	defer p.client.Disconnect(100)
	const perPhase = 150
	i := 0
	publishFor := func(d time.Duration) {
		end := time.Now().Add(d)
		for time.Now().Before(end) && i < 4*perPhase {
			p.publish(i)
			i++
			time.Sleep(d / perPhase)
		}
	}
	waitReady := func(want bool, what string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			code, body := get(t, ctx, st.URL+"/readyz")
			if (code == http.StatusOK) == want {
				if !want {
					t.Logf("/readyz during %s: %d %s", what, code, strings.TrimSpace(body))
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz still %d: %s", what, code, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	publishFor(3 * time.Second) // network up

	// Orderer down: endorsements work, nothing commits.
	if err := n.StopOrderer(ctx, 0); err != nil {
		t.Fatal(err)
	}
	publishFor(3 * time.Second)
	waitReady(false, "the orderer outage")
	_, metrics := get(t, ctx, st.URL+"/metrics")
	if !strings.Contains(metrics, "tracegate_gateway_ledger_up 0") {
		t.Errorf("/metrics does not report the ledger down:\n%s", grep(metrics, "tracegate_gateway_"))
	}
	if q := st.Svc.AnchorStatus().Queued; q == 0 {
		t.Errorf("no batch queued during the outage")
	}
	if err := n.StartOrderer(ctx, 0); err != nil {
		t.Fatal(err)
	}
	publishFor(3 * time.Second)
	waitReady(true, "recovery from the orderer outage")

	// The gateway's own peer down (its identities connect there).
	if err := n.StopPeer(ctx, fabricnet.Warehouse); err != nil {
		t.Fatal(err)
	}
	publishFor(3 * time.Second)
	waitReady(false, "the peer outage")
	if err := n.StartPeer(ctx, fabricnet.Warehouse); err != nil {
		t.Fatal(err)
	}
	p.wg.Wait()
	waitReady(true, "recovery from the peer outage")
	checkExactlyOnce(t, ctx, st.URL, p, demo.WarehouseColdRoom, i)
	if q := st.Svc.AnchorStatus(); q.Queued != 0 || q.Stuck != 0 {
		t.Fatalf("anchor queue after recovery: %+v", q)
	}
}

func get(t *testing.T, ctx context.Context, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
