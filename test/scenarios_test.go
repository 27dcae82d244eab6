package test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tracegate/tracegate/edge/broker"
	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/test/harness"
)

// TestScenarios runs every named simulator scenario through the real
// pipeline (the embedded broker, an edge agent, the gateway, the embedded
// ledger) and checks the outcome the scenario wrote down: excursions
// (start and end within one sampling interval, MKT within 0.1 °C of an
// independent calculation from the readings the devices published), lot
// statuses, suspects, the recall reaching every holder, stuck sensors,
// dead letters and custody.
func TestScenarios(t *testing.T) {
	for _, name := range sim.ScenarioNames() {
		t.Run(name, func(t *testing.T) { runScenario(t, name, 1) })
	}
}

// alertLog records alerts received over MQTT with their arrival time.
type alertLog struct {
	mu     sync.Mutex
	alerts []receivedAlert
}

type receivedAlert struct {
	Topic string
	At    time.Time
	A     gateway.Alert
}

func (l *alertLog) all() []receivedAlert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.alerts)
}

func runScenario(t *testing.T, name string, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	probe, err := sim.BuildScenario(name, seed, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The story ends an hour ago.
	start := time.Now().UTC().Add(-probe.Duration - time.Hour).Truncate(time.Minute)
	sc, err := sim.BuildScenario(name, seed, start)
	if err != nil {
		t.Fatal(err)
	}
	var accounts []broker.Account
	creds := map[string]string{}
	for _, d := range sc.Devices {
		a, pw, err := harness.DeviceAccount(d.Site, d.Kind, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a)
		creds[d.ID] = pw
	}
	watchHash, _ := broker.HashPassword("watch-secret")
	accounts = append(accounts, broker.Account{Username: "alert-watcher", PasswordHash: watchHash, Role: broker.RoleService})
	dir := t.TempDir()
	e, err := harness.StartEmbedded(ctx, dir, accounts, nil, harness.WithScenario(sc))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	// Watch the alert topics like a site's screens would.
	var alog alertLog
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + e.MQTT).SetClientID("alert-watcher").SetUsername("alert-watcher").SetPassword("watch-secret")
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("alert watcher cannot connect: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	if tok := cl.Subscribe("tracegate/+/alerts", 1, func(_ mqtt.Client, m mqtt.Message) {
		var a gateway.Alert
		if err := json.Unmarshal(m.Payload(), &a); err != nil {
			t.Errorf("alert on %s is not JSON: %v", m.Topic(), err)
			return
		}
		alog.mu.Lock()
		alog.alerts = append(alog.alerts, receivedAlert{Topic: m.Topic(), At: time.Now(), A: a})
		alog.mu.Unlock()
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe alerts: %v", tok.Error())
	}

	// The insurer covers the lots the story will take out of range.
	pols := insureLots(t, ctx, e, sc)
	actor := demo.NewActor(e.Svc)

	// Play it as fast as the broker acknowledges.
	var ackMu sync.Mutex
	acked := map[int]time.Time{}
	// TRACEGATE_SCENARIO_SPEED plays at N× story time instead of as fast
	// as the broker acknowledges (the gateway then sees the story unfold).
	speed := 0.0
	if v := os.Getenv("TRACEGATE_SCENARIO_SPEED"); v != "" {
		if _, err := fmt.Sscan(v, &speed); err != nil {
			t.Fatalf("TRACEGATE_SCENARIO_SPEED=%q: %v", v, err)
		}
	}
	st, err := sim.Play(ctx, sc, e.MQTT, creds, speed,
		sim.OnMessageAck(func(i int, _ sim.Message, at time.Time) {
			ackMu.Lock()
			acked[i] = at
			ackMu.Unlock()
		}),
		sim.BeforeAction(func(ctx context.Context, a sim.Action) error { return actor.Do(ctx, a) }))
	if err != nil {
		t.Fatalf("play: %v (%+v)", err, st)
	}
	if st.Acked != len(sc.Messages) {
		t.Fatalf("acknowledged %d of %d messages", st.Acked, len(sc.Messages))
	}
	t.Logf("%s: %d messages from %d devices played in %s", name, len(sc.Messages), len(sc.Devices), st.Elapsed.Round(time.Millisecond))
	waitDrained(t, ctx, e)

	svc := e.Svc
	reader := ledger.Identity{Org: harness.GatewayOrg, User: ledger.AdminUser}
	ex := sc.Expected

	// Excursions, as recorded on the ledger.
	for _, want := range ex.Excursions {
		var got ledger.Excursion
		waitFor(t, ctx, fmt.Sprintf("excursion %s of %s/%s on %s recorded", want.Kind, want.GTIN, want.Lot, want.Sensor), func() (bool, string) {
			xs, err := svc.Ledger().Excursions(ctx, reader, want.GTIN, want.Lot)
			if err != nil {
				return false, err.Error()
			}
			var seen []string
			for _, x := range xs {
				seen = append(seen, fmt.Sprintf("%s %s %s–%s", x.Sensor, x.Kind, x.Start.Format(time.TimeOnly), x.End.Format(time.TimeOnly)))
				if x.Sensor == want.Sensor && x.Kind == want.Kind && absDur(x.Start.Sub(want.Start)) <= want.Interval {
					got = x
					return true, ""
				}
			}
			rep, _ := svc.ColdChain(ctx, want.GTIN, want.Lot, false)
			return false, fmt.Sprintf("recorded %v; engine sees %d excursions, pending %v, stays %+v", seen, len(rep.Summary.Excursions), rep.Pending, rep.Stays)
		})
		if d := absDur(got.Start.Sub(want.Start)); d > want.Interval {
			t.Errorf("%s excursion starts %s, expected %s (off by %s, more than the %s interval)", want.Sensor, got.Start, want.Start, d, want.Interval)
		}
		if d := absDur(got.End.Sub(want.End)); d > want.Interval {
			t.Errorf("%s excursion ends %s, expected %s (off by %s, more than the %s interval)", want.Sensor, got.End, want.End, d, want.Interval)
		}
		if want.Kind != ledger.ExcursionHumidityHigh {
			mkt := independentMKT(want.Readings)
			if got.MKTC == nil || math.Abs(*got.MKTC-mkt) > 0.1 {
				t.Errorf("%s excursion MKT %v °C, independent calculation from the published readings %.3f °C", want.Sensor, got.MKTC, mkt)
			}
			t.Logf("excursion %s %s: %s → %s, %.1f min, peak %.2f, MKT %.3f (independent %.3f), breach %v (%s)",
				got.Sensor, got.Kind, got.Start.Format(time.TimeOnly), got.End.Format(time.TimeOnly), got.DurationMin, got.PeakValue, deref(got.MKTC), mkt, got.Breach, got.BreachReason)
		}
		if len(got.Evidence) == 0 {
			t.Errorf("excursion %s records no evidence", got.ID)
		}
	}
	if len(ex.Excursions) == 0 {
		// Nothing out of range: nothing may be recorded either.
		for _, l := range sc.Lots {
			if xs, err := svc.Ledger().Excursions(ctx, reader, l.GTIN, l.Lot); err != nil || len(xs) != 0 {
				t.Errorf("lot %s/%s: unexpected excursions %+v (%v)", l.GTIN, l.Lot, xs, err)
			}
		}
	}

	// Lot statuses.
	for key, want := range ex.LotStatus {
		gtin, lot, _ := strings.Cut(key, "/")
		waitFor(t, ctx, "lot "+key+" "+want, func() (bool, string) {
			l, err := svc.Ledger().Lot(ctx, reader, gtin, lot)
			if err != nil {
				return false, err.Error()
			}
			return l.Status == want, "status " + l.Status + " " + l.StatusReason
		})
	}

	// Suspects.
	for _, want := range ex.Suspects {
		waitFor(t, ctx, "suspect "+want.EPC+" "+want.Reason, func() (bool, string) {
			fs, err := svc.Suspects(want.EPC)
			if err != nil {
				return false, err.Error()
			}
			for _, f := range fs {
				if f.Reason == want.Reason {
					return true, ""
				}
			}
			return false, fmt.Sprintf("flags %+v", fs)
		})
	}
	for _, epc := range ex.Anomalies {
		waitFor(t, ctx, "anomaly "+epc, func() (bool, string) {
			fs, _ := svc.Suspects(epc)
			for _, f := range fs {
				if f.Reason == gateway.AnomalyUnpackedUnknown {
					return true, ""
				}
			}
			return false, fmt.Sprintf("flags %+v", fs)
		})
	}

	// The recall reaches every holder: on its pages (the gateway's alerts
	// for the org) and on its sites' MQTT alert topics.
	for key, orgs := range ex.RecallHolders {
		gtin, lot, _ := strings.Cut(key, "/")
		for _, org := range orgs {
			waitFor(t, ctx, "recall of "+key+" reaches "+org, func() (bool, string) {
				as, _ := svc.Alerts(org, 200)
				for _, a := range as {
					if a.Kind == gateway.AlertRecall && a.GTIN == gtin && a.Lot == lot {
						return true, ""
					}
				}
				return false, fmt.Sprintf("%d alerts for %s", len(as), org)
			})
		}
		waitFor(t, ctx, "recall of "+key+" on MQTT", func() (bool, string) {
			for _, r := range alog.all() {
				if r.A.Kind == gateway.AlertRecall && r.A.GTIN == gtin && r.A.Lot == lot && r.Topic != "tracegate/all/alerts" {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d alerts on MQTT", len(alog.all()))
		})
	}

	// Stuck sensors.
	for _, sensor := range ex.SensorFaults {
		waitFor(t, ctx, "sensor fault "+sensor, func() (bool, string) {
			as, _ := svc.Alerts("", 500)
			for _, a := range as {
				if a.Kind == gateway.AlertSensorFault && a.Sensor == sensor {
					return true, ""
				}
			}
			return false, "no sensor-fault alert"
		})
	}

	// Dead letters by reason.
	if len(ex.DeadLetters) > 0 {
		dls, err := e.Agent.Journal().DeadLetters(0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, d := range dls {
			reason, _, _ := strings.Cut(d.Reason, ":")
			got[reason]++
		}
		for reason, n := range ex.DeadLetters {
			if got[reason] < n {
				t.Errorf("dead letters %q: %d, expected %d (all: %v)", reason, got[reason], n, got)
			}
		}
	}

	// Custody: the sites a lot or a pack went through, in order.
	topicOf := demo.SiteTopics(sc)
	for key, want := range ex.Custody {
		var steps []gateway.CustodyStep
		if gtin, lot, ok := strings.Cut(key, "/"); ok && !strings.Contains(key, ":") {
			steps, _, err = svc.LotCustody(ctx, gtin, lot)
		} else {
			steps, _, err = svc.Custody(ctx, key)
		}
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range steps {
			// Transit legs, unknown places and sightings flagged as
			// suspect (a clone elsewhere) are not part of the expected
			// path; the custody steps show them, marked.
			if s.InTransit || s.Site == "" || (s.Suspect > 0 && s.Suspect == s.Events) {
				continue
			}
			id := topicOf[s.Site]
			if id == "" {
				id = s.Site
			}
			if len(got) == 0 || got[len(got)-1] != id {
				got = append(got, id)
			}
		}
		var wantSites []string
		for _, w := range want {
			site, _, _ := strings.Cut(w, "/")
			if len(wantSites) == 0 || wantSites[len(wantSites)-1] != site {
				wantSites = append(wantSites, site)
			}
		}
		if !slices.Equal(got, wantSites) {
			t.Errorf("custody of %s: %v, expected %v", key, got, wantSites)
		}
	}

	// Claims opened by the excursions, settled by the insurer.
	if len(pols) > 0 {
		checkClaims(t, ctx, e, pols)
	}
	// Donations: requested, allocated, received, and the donors' paths.
	if ex.Donations != nil {
		checkDonations(t, ctx, e, sc, actor)
	}

	// How fast a breach reaches the alert topic: from the acknowledgement
	// of the first out-of-range reading to the excursion-start alert.
	for _, want := range ex.Excursions {
		idx := -1
		for i, m := range sc.Messages {
			if strings.HasSuffix(m.Topic, "/"+strings.SplitN(want.Sensor, "/", 2)[1]) && payloadTime(m.Payload).Equal(want.Start) {
				idx = i
				break
			}
		}
		if idx < 0 {
			continue
		}
		ackMu.Lock()
		ackAt := acked[idx]
		ackMu.Unlock()
		for _, r := range alog.all() {
			if r.A.Kind == gateway.AlertExcursionStart && r.A.Sensor == want.Sensor && r.A.Lot == want.Lot {
				d := r.At.Sub(ackAt)
				t.Logf("breach → alert: %s %s/%s first out-of-range reading acknowledged at %s, alert on %s after %s",
					want.Sensor, want.GTIN, want.Lot, ackAt.Format("15:04:05.000"), r.Topic, d.Round(time.Millisecond))
				recordFigure(t, "breach-to-alert", d)
				break
			}
		}
	}
}

// waitDrained waits until the edge has nothing left and the gateway has
// anchored everything.
func waitDrained(t *testing.T, ctx context.Context, e *harness.Embedded) {
	t.Helper()
	waitFor(t, ctx, "pipeline drained", func() (bool, string) {
		st, err := e.Agent.Status()
		if err != nil {
			return false, err.Error()
		}
		j := st.Journal
		an := e.Svc.AnchorStatus()
		return j.Inbox == 0 && j.Pending == 0 && j.Windows == 0 && j.Unacked == 0 && an.Queued == 0,
			fmt.Sprintf("inbox %d pending %d windows %d unacked %d anchor queue %d", j.Inbox, j.Pending, j.Windows, j.Unacked, an.Queued)
	})
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%s: not reached: %s", what, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// independentMKT computes the mean kinetic temperature of the published
// readings from the first to the last out-of-range one, each weighted by
// the time to the next reading (the last by the median interval).
func independentMKT(rs []sim.ExpReading) float64 {
	out := slices.Clone(rs)
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	var gaps []float64
	for i := 1; i < len(out); i++ {
		gaps = append(gaps, out[i].At.Sub(out[i-1].At).Seconds())
	}
	med := 60.0
	if len(gaps) > 0 {
		g := slices.Clone(gaps)
		sort.Float64s(g)
		med = g[len(g)/2]
		if len(g)%2 == 0 {
			med = (g[len(g)/2-1] + g[len(g)/2]) / 2
		}
	}
	const dH, R = 83.144e3, 8.3144
	var num, den float64
	for i, r := range out {
		w := med
		if i < len(gaps) {
			w = gaps[i]
		}
		num += w * math.Exp(-dH/(R*(r.C+273.15)))
		den += w
	}
	return dH/R/(-math.Log(num/den)) - 273.15
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// payloadTime reads "ts" (default sensor payloads) from a payload.
func payloadTime(p []byte) time.Time {
	var m struct {
		TS string `json:"ts"`
	}
	if json.Unmarshal(p, &m) != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, m.TS)
	return t
}

// recordFigure appends a measured figure to $TRACEGATE_FIGURES (for the
// docs and closing notes) when set.
func recordFigure(t *testing.T, name string, d time.Duration) {
	p := os.Getenv("TRACEGATE_FIGURES")
	if p == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Log(err)
		return
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s %s %d\n", time.Now().UTC().Format(time.RFC3339), t.Name(), name, d.Milliseconds())
}
