// Package load is tracegate's load tool ("hammer"), run by `tracegate
// bench`: it measures the edge path through a real Mosquitto against a bare
// paho subscriber on the same broker in the same run, publish-to-anchored
// latency through the embedded topology, bytes on disk per reading, and
// proof verification time against a bare Ed25519 verification. Every
// figure is reported next to its baseline; nothing here asserts a speed.
package load

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/broker"
	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/ledger/batch"
	"github.com/tracegate/tracegate/test/harness"
)

// Options sizes a run.
type Options struct {
	Readings    int           // readings per throughput run
	Inflight    int           // publisher's QoS 1 window
	LatencyRate int           // readings per second in the latency run
	LatencyFor  time.Duration // duration of the latency run
	Proofs      int           // proofs to time
	Dir         string        // working directory (a temporary one when empty)
	OnlyEdge    bool          // stop after the edge-path measurements
}

// DefaultOptions are the sizes `tracegate bench` uses.
var DefaultOptions = Options{Readings: 50000, Inflight: 512, LatencyRate: 200, LatencyFor: 15 * time.Second, Proofs: 2000}

// Report is the outcome of a run.
type Report struct {
	Machine    string  `json:"machine"`
	Readings   int     `json:"readings"`
	BaselineRS float64 `json:"baselineReadingsPerSec"` // bare paho subscriber, auto-ack
	EdgeRS     float64 `json:"edgeReadingsPerSec"`     // publish → decode → durable → sealed
	EdgeRatio  float64 `json:"edgeRatio"`
	FullRS     float64 `json:"fullReadingsPerSec"` // … → uploaded, verified and indexed by the gateway
	FullRatio  float64 `json:"fullRatio"`

	LatencyN      int     `json:"latencyReadings"`
	LatencyP50ms  float64 `json:"latencyP50ms"` // publish → anchored on the ledger
	LatencyP99ms  float64 `json:"latencyP99ms"`
	LatencyMaxms  float64 `json:"latencyMaxms"`
	Within3s      float64 `json:"provableWithin3s"` // share of readings anchored within 3 s
	AckP99ms      float64 `json:"pubackP99ms"`      // publish → PUBACK (durable) on the embedded broker
	EdgeBytes     float64 `json:"edgeJournalBytesPerReading"`
	GatewayBytes  float64 `json:"gatewayStoreBytesPerReading"`
	LedgerBytes   float64 `json:"ledgerBytesPerReading"`
	VerifyOffUS   float64 `json:"verifyOfflineMicros"` // event hash + audit path + signature
	VerifyFullUS  float64 `json:"verifyFullMicros"`    // + ledger checks (in-process embedded ledger)
	Ed25519US     float64 `json:"ed25519VerifyMicros"` // baseline: one bare Ed25519 verification
	VerifyOffX    float64 `json:"verifyOfflineVsEd25519"`
	ProofsVerfied int     `json:"proofsVerified"`
}

// Run runs every measurement, printing progress to out.
func Run(ctx context.Context, o Options, out io.Writer) (Report, error) {
	var r Report
	r.Machine = machine()
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "tracegate-bench-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	r.Readings = o.Readings
	step := func(format string, a ...any) { fmt.Fprintf(out, "bench: "+format+"\n", a...) }

	step("starting Mosquitto …")
	mq, err := harness.StartMosquitto(ctx, filepath.Join(dir, "mosquitto"), []harness.MosquittoAccount{
		{User: "pub", Password: "pub", Write: []string{"tracegate/#"}},
		{User: "baseline", Password: "baseline", Read: []string{"tracegate/#"}},
		{User: "edge", Password: "edge", Read: []string{"tracegate/#"}},
	})
	if err != nil {
		return r, err
	}
	defer mq.Stop()

	step("1/4 baseline: bare paho subscriber (QoS 1, auto-ack), %d readings …", o.Readings)
	if r.BaselineRS, err = baseline(ctx, mq, o, 0); err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	step("    %.0f readings/s", r.BaselineRS)

	step("2/4 edge agent through the same Mosquitto: publish → decode → durable → sealed …")
	edgeRS, fullRS, edgeBytes, err := edgeRun(ctx, mq, o, filepath.Join(dir, "edge"), step)
	if err != nil {
		return r, fmt.Errorf("edge run: %w", err)
	}
	r.EdgeRS, r.FullRS, r.EdgeBytes = edgeRS, fullRS, edgeBytes
	r.EdgeRatio, r.FullRatio = r.EdgeRS/r.BaselineRS, r.FullRS/r.BaselineRS
	step("    edge %.0f readings/s (%.2f × baseline); with the gateway indexing everything %.0f/s (%.2f ×)", r.EdgeRS, r.EdgeRatio, r.FullRS, r.FullRatio)
	if o.OnlyEdge {
		return r, nil
	}

	step("3/4 latency through the embedded topology: %d readings/s for %s …", o.LatencyRate, o.LatencyFor)
	emb, err := latencyRun(ctx, o, filepath.Join(dir, "embedded"), &r)
	if err != nil {
		return r, fmt.Errorf("latency run: %w", err)
	}
	defer emb.Close()
	step("    publish → anchored p50 %.0f ms, p99 %.0f ms, max %.0f ms; %.1f%% provable within 3 s; PUBACK p99 %.1f ms",
		r.LatencyP50ms, r.LatencyP99ms, r.LatencyMaxms, 100*r.Within3s, r.AckP99ms)
	step("    disk per reading: gateway store %.0f B, ledger %.0f B, edge journal (peak backlog) %.0f B", r.GatewayBytes, r.LedgerBytes, r.EdgeBytes)

	step("4/4 proof verification, %d proofs …", o.Proofs)
	if err := verifyRun(ctx, emb, o, &r); err != nil {
		return r, fmt.Errorf("verify run: %w", err)
	}
	step("    %.0f µs/proof offline (%.1f × one Ed25519 verification of %.0f µs), %.0f µs/proof with the ledger checks",
		r.VerifyOffUS, r.VerifyOffX, r.Ed25519US, r.VerifyFullUS)
	return r, nil
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs", host, runtime.NumCPU())
}

// publishAll publishes n distinct sensor readings with a window of
// inflight unacknowledged messages and returns when all were acked.
func publishAll(ctx context.Context, addr string, n, inflight int, topic string, base time.Time) error {
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("bench-pub").SetUsername("pub").SetPassword("pub").
		SetCleanSession(true).SetMaxResumePubInFlight(inflight).SetWriteTimeout(30 * time.Second)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("connect publisher: %v", tok.Error())
	}
	defer c.Disconnect(100)
	sem := make(chan struct{}, inflight)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		payload := fmt.Sprintf(`{"ts":%q,"temperature":%.2f}`, base.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), 2+float64(i%600)/100)
		tok := c.Publish(topic, 1, false, payload)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
				failed.Add(1)
			}
			<-sem
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d publishes were not acknowledged", f)
	}
	return nil
}

// baseline measures a bare paho subscriber receiving n readings.
func baseline(ctx context.Context, mq *harness.Mosquitto, o Options, _ int) (float64, error) {
	var got atomic.Int64
	done := make(chan struct{})
	var last atomic.Int64
	opts := mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("bench-baseline").SetUsername("baseline").SetPassword("baseline").
		SetCleanSession(true).SetOrderMatters(true)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return 0, fmt.Errorf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	tok := c.Subscribe("tracegate/+/+/+", 1, func(mqtt.Client, mqtt.Message) {
		if got.Add(1) == int64(o.Readings) {
			last.Store(time.Now().UnixNano())
			close(done)
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return 0, fmt.Errorf("subscribe: %v", tok.Error())
	}
	start := time.Now()
	if err := publishAll(ctx, mq.Addr, o.Readings, o.Inflight, "tracegate/wh1/sensor/coldroom-1", time.Now().UTC().Add(-2*time.Hour)); err != nil {
		return 0, err
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		return 0, fmt.Errorf("baseline subscriber got %d of %d", got.Load(), o.Readings)
	}
	return float64(o.Readings) / time.Duration(last.Load()-start.UnixNano()).Seconds(), nil
}

// nullUploader acknowledges every batch at once: the edge path alone.
type nullUploader struct{}

func (nullUploader) Upload(context.Context, batch.Sealed) error { return nil }

// edgeRun measures the edge agent through Mosquitto twice: alone (batches
// acknowledged by a null uploader) and with a real gateway indexing
// everything in the same process.
func edgeRun(ctx context.Context, mq *harness.Mosquitto, o Options, dir string, step func(string, ...any)) (edgeRS, fullRS, edgeBytes float64, err error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(name string, up edge.Uploader, gwURL string, reg func(*edge.Agent) error, until func(*edge.Agent) bool) (float64, *edge.Agent, error) {
		cfg := harness.EdgeConfig("edge-bench-"+name, filepath.Join(dir, name), gwURL)
		cfg.Batch.MaxEvents = 2000
		cfg.MQTT = edge.MQTTConfig{Broker: mq.URL(), ClientID: "edge-bench-" + name, Username: "edge", Password: "edge", Topics: []string{"tracegate/+/+/+"}, MaxPending: 8192}
		opts := []edge.Option{edge.WithLogger(quiet)}
		if up != nil {
			opts = append(opts, edge.WithUploader(up))
		}
		a, err := edge.New(cfg, opts...)
		if err != nil {
			return 0, nil, err
		}
		if reg != nil {
			if err := reg(a); err != nil {
				a.Close()
				return 0, nil, err
			}
		}
		actx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(actx) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(20 * time.Second)
		for !a.Connected() {
			if time.Now().After(deadline) {
				a.Close()
				return 0, nil, fmt.Errorf("edge did not subscribe")
			}
			time.Sleep(20 * time.Millisecond)
		}
		start := time.Now()
		perr := make(chan error, 1)
		go func() {
			perr <- publishAll(ctx, mq.Addr, o.Readings, o.Inflight, "tracegate/wh1/sensor/coldroom-1", time.Now().UTC().Add(-3*time.Hour))
		}()
		var peak int64
		deadline = time.Now().Add(5 * time.Minute)
		lastReport := time.Now()
		for !until(a) {
			if time.Since(lastReport) > 2*time.Second {
				c := a.Counters()
				step("      %s: %d durable, %d events, %d sealed, %d acknowledged by the gateway", name, c.Durable, c.Events, c.Sealed, c.Acked)
				lastReport = time.Now()
			}
			if du, err := dirBytes(cfg.DataDir); err == nil && du > peak {
				peak = du
			}
			if time.Now().After(deadline) {
				a.Close()
				return 0, nil, fmt.Errorf("%s: stuck at %+v", name, a.Counters())
			}
			time.Sleep(10 * time.Millisecond)
		}
		el := time.Since(start)
		if err := <-perr; err != nil {
			a.Close()
			return 0, nil, err
		}
		if name == "edge" {
			edgeBytes = float64(peak) / float64(o.Readings)
		}
		return float64(o.Readings) / el.Seconds(), a, nil
	}
	rs, a, err := run("edge", nullUploader{}, "http://unused", nil, func(a *edge.Agent) bool { return a.Counters().Sealed >= uint64(o.Readings) })
	if err != nil {
		return 0, 0, 0, err
	}
	a.Close()
	edgeRS = rs
	step("    edge alone: %.0f readings/s; now with a gateway …", rs)
	gw, err := harness.StartGateway(ctx, filepath.Join(dir, "gw"), quiet)
	if err != nil {
		return 0, 0, 0, err
	}
	defer gw.Close()
	rs, a, err = run("full", nil, gw.URL, func(a *edge.Agent) error { return gw.RegisterEdge(ctx, a.ID(), a.PublicKey()) },
		func(a *edge.Agent) bool { return a.Counters().Acked >= uint64(o.Readings) })
	if err != nil {
		return 0, 0, 0, err
	}
	a.Close()
	return edgeRS, rs, edgeBytes, nil
}

// latencyRun publishes at a steady rate through the embedded topology and
// measures publish → PUBACK and publish → anchored per reading.
func latencyRun(ctx context.Context, o Options, dir string, r *Report) (*harness.Embedded, error) {
	acct, pw, err := harness.DeviceAccount("wh1", broker.KindSensor, "coldroom-1")
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	emb, err := harness.StartEmbedded(ctx, dir, []broker.Account{acct}, quiet)
	if err != nil {
		return nil, err
	}
	updates, cancelSub := emb.Svc.Bus().Subscribe()
	defer cancelSub()
	sent := map[string]time.Time{} // eventTime -> publish time
	var mu sync.Mutex
	var lat []float64
	anchoredN := 0
	collectDone := make(chan struct{})
	total := int(o.LatencyFor.Seconds()) * o.LatencyRate
	go func() {
		defer close(collectDone)
		for u := range updates {
			if u.Type != "anchor" {
				continue
			}
			now := time.Now()
			m := u.Data.(map[string]any)
			b, err := emb.Svc.Store().Batch(m["edge"].(string), m["seq"].(uint64))
			if err != nil {
				continue
			}
			for _, h := range b.EventHashes() {
				rec, err := emb.Svc.Store().Event(h)
				if err != nil {
					continue
				}
				mu.Lock()
				if t0, ok := sent[rec.EventTime.Format("2006-01-02T15:04:05.000Z")]; ok {
					lat = append(lat, float64(now.Sub(t0).Microseconds())/1000)
					anchoredN++
				}
				done := anchoredN >= total
				mu.Unlock()
				if done {
					return
				}
			}
		}
	}()
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + emb.MQTT).SetClientID("coldroom-1").SetUsername("coldroom-1").SetPassword(pw).SetCleanSession(true)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		emb.Close()
		return nil, fmt.Errorf("connect: %v", tok.Error())
	}
	var acks []float64
	var ackMu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(o.LatencyRate))
	base := time.Now().UTC().Add(-time.Hour)
	for i := range total {
		<-tick.C
		tsS := base.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		t0 := time.Now()
		mu.Lock()
		sent[tsS] = t0
		mu.Unlock()
		tok := c.Publish("tracegate/wh1/sensor/coldroom-1", 1, false, fmt.Sprintf(`{"ts":%q,"temperature":4.%d}`, tsS, i%10))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok.WaitTimeout(30*time.Second) && tok.Error() == nil {
				ackMu.Lock()
				acks = append(acks, float64(time.Since(t0).Microseconds())/1000)
				ackMu.Unlock()
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	c.Disconnect(100)
	select {
	case <-collectDone:
	case <-time.After(60 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) < total {
		emb.Close()
		return nil, fmt.Errorf("only %d of %d readings were anchored within a minute", len(lat), total)
	}
	sort.Float64s(lat)
	sort.Float64s(acks)
	r.LatencyN = len(lat)
	r.LatencyP50ms, r.LatencyP99ms, r.LatencyMaxms = pct(lat, 0.50), pct(lat, 0.99), lat[len(lat)-1]
	r.AckP99ms = pct(acks, 0.99)
	in3 := sort.SearchFloat64s(lat, 3000)
	r.Within3s = float64(in3) / float64(len(lat))
	// Disk per reading once everything is anchored (the store also holds
	// the demo seed's commissioning events; count every indexed event).
	cnt, _ := emb.Svc.Store().Counts()
	if g, err := dirBytes(filepath.Join(dir, "gateway", "store")); err == nil && cnt.Events > 0 {
		r.GatewayBytes = float64(g) / float64(cnt.Events)
	}
	if l, err := dirBytes(filepath.Join(dir, "ledger")); err == nil && cnt.Events > 0 {
		r.LedgerBytes = float64(l) / float64(cnt.Events)
	}
	return emb, nil
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// verifyRun times proof verification against a bare Ed25519 verification.
func verifyRun(ctx context.Context, emb *harness.Embedded, o Options, r *Report) error {
	recs, err := emb.Svc.RecentEvents(o.Proofs)
	if err != nil {
		return err
	}
	var docs []*proof.Document
	for _, rec := range recs {
		d, err := emb.Svc.Proof(ctx, rec.EventID)
		if err != nil {
			return err
		}
		if d.Anchor != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return fmt.Errorf("no anchored proofs to verify")
	}
	r.ProofsVerfied = len(docs)
	start := time.Now()
	for _, d := range docs {
		if res := proof.Verify(ctx, d, nil); res.Err() != nil && !offlineOK(res) {
			return fmt.Errorf("offline verification of %s: %v", d.EventID, res.Err())
		}
	}
	r.VerifyOffUS = float64(time.Since(start).Microseconds()) / float64(len(docs))
	lv := emb.Svc.LedgerView()
	start = time.Now()
	for _, d := range docs {
		if res := proof.Verify(ctx, d, lv); !res.Verified {
			return fmt.Errorf("verification of %s: %v", d.EventID, res.Err())
		}
	}
	r.VerifyFullUS = float64(time.Since(start).Microseconds()) / float64(len(docs))
	// Baseline: one bare Ed25519 verification of a header-sized message.
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := []byte(strings.Repeat("h", 220))
	sig := ed25519.Sign(priv, msg)
	n := len(docs) * 4
	start = time.Now()
	for range n {
		if !ed25519.Verify(pub, msg, sig) {
			return fmt.Errorf("ed25519 baseline failed")
		}
	}
	r.Ed25519US = float64(time.Since(start).Microseconds()) / float64(n)
	r.VerifyOffX = r.VerifyOffUS / r.Ed25519US
	return nil
}

// offlineOK reports whether the offline steps passed (the ledger step is
// skipped without a ledger).
func offlineOK(r proof.Result) bool {
	for _, s := range r.Steps {
		if !s.OK && !s.Skip {
			return false
		}
	}
	return true
}

// dirBytes returns the disk blocks used under dir.
func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	return total, err
}

// JSON renders the report.
func (r Report) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}
