package broker

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	rfidTopic = "tracegate/wh1/rfid/dock-in-1"
	alerts    = "tracegate/wh1/alerts"
)

func baseAccounts() []Account {
	return []Account{
		device("dock-in-1", "wh1", KindRFID),
		device("dock-out-1", "wh1", KindRFID),
		device("coldroom-1", "wh1", KindSensor),
		device("remote-1", "wh2", KindRFID),
		service("edge"),
	}
}

// TestConnectAuthentication checks who may connect, with real paho
// (MQTT 3.1.1) clients: the CONNACK return code and the counter.
func TestConnectAuthentication(t *testing.T) {
	tb := startBroker(t, Config{Accounts: baseAccounts()})
	cases := []struct {
		name, clientID, user, pass string
		wantRC                     byte
		result                     string
	}{
		{"device ok", "dock-in-1", "dock-in-1", testPassword, 0, ConnAccepted},
		{"service ok, any client ID", "edge-agent-7", "edge", testPassword, 0, ConnAccepted},
		{"wrong password", "dock-out-1", "dock-out-1", "nope", 4, ConnBadPassword},
		{"empty password", "dock-out-1", "dock-out-1", "", 4, ConnBadPassword},
		{"unknown user", "ghost", "ghost", testPassword, 4, ConnUnknownUser},
		{"no username", "anon", "", "", 4, ConnUnknownUser},
		{"device client ID differs from username", "dock-out-1", "coldroom-1", testPassword, 2, ConnClientIDMismatch},
		{"service using a device's client ID", "dock-out-1", "edge", testPassword, 2, ConnClientIDReserved},
	}
	want := map[string]float64{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := paho.NewClient(pahoOpts(tb.Addr(), tc.clientID, tc.user, tc.pass).SetAutoReconnect(false))
			tok := c.Connect()
			if !tok.WaitTimeout(10 * time.Second) {
				t.Fatal("connect timed out")
			}
			ct := tok.(*paho.ConnectToken)
			if ct.ReturnCode() != tc.wantRC {
				t.Errorf("CONNACK return code %d (%v), want %d", ct.ReturnCode(), tok.Error(), tc.wantRC)
			}
			if (tc.wantRC == 0) != (tok.Error() == nil) {
				t.Errorf("connect error %v", tok.Error())
			}
			c.Disconnect(10)
		})
		want[tc.result]++
	}
	for result, n := range want {
		if got := tb.metric(t, "tracegate_broker_connections_total", result); got != n {
			t.Errorf("connections_total{result=%q} = %v, want %v", result, got, n)
		}
	}
	mustContain(t, tb.logs.String(), "connection refused", "username=ghost", "result=client_id_mismatch", "result=bad_password")
}

// TestConnectAuthenticationMQTT5 checks the MQTT 5 reason codes.
func TestConnectAuthenticationMQTT5(t *testing.T) {
	tb := startBroker(t, Config{Accounts: baseAccounts()})
	for _, tc := range []struct {
		clientID, user, pass string
		want                 byte
	}{
		{"dock-in-1", "dock-in-1", testPassword, 0x00},
		{"dock-in-1", "dock-in-1", "bad", 0x86},
		{"x", "dock-in-1", testPassword, 0x85},
		{"x", "nobody", testPassword, 0x86},
	} {
		c := dialRaw(t, tb.Addr(), 5)
		if got := c.connect(tc.clientID, tc.user, tc.pass, true).ReasonCode; got != tc.want {
			t.Errorf("%s/%s/%s: CONNACK reason %#x, want %#x", tc.clientID, tc.user, tc.pass, got, tc.want)
		}
		if tc.want != 0 {
			c.expectClosed(5 * time.Second)
		}
	}
}

// TestACL checks that a device publishes only on its own topic and reads
// only its site's alerts, and that refused publishes are neither ingested
// nor delivered, but counted and logged with username and topic.
func TestACL(t *testing.T) {
	rec := &recorder{}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))

	// The edge service sees everything under tracegate/.
	var mu sync.Mutex
	seen := map[string][]string{}
	svc := connect(t, pahoOpts(tb.Addr(), "edge-1", "edge", testPassword).SetCleanSession(true))
	if tok := svc.Subscribe("tracegate/#", 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		seen[m.Topic()] = append(seen[m.Topic()], string(m.Payload()))
		mu.Unlock()
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("service subscribe: %v", tok.Error())
	}

	denied := []string{
		"tracegate/wh1/rfid/dock-out-1",  // another device's topic
		"tracegate/wh2/rfid/dock-in-1",   // another site
		"tracegate/wh1/sensor/dock-in-1", // another kind
		alerts,                           // devices do not publish alerts
		"tracegate/wh1/rfid/dock-in-1/x", // below its topic
		"other/wh1/rfid/dock-in-1",
	}
	for i, topic := range denied {
		before := tb.metric(t, "tracegate_broker_publish_total", PubACLDenied)
		lost := make(chan struct{}, 1)
		c := connect(t, pahoOpts(tb.Addr(), "dock-in-1", "dock-in-1", testPassword).
			SetAutoReconnect(false).SetCleanSession(true).
			SetConnectionLostHandler(func(paho.Client, error) { lost <- struct{}{} }))
		c.Publish(topic, 1, false, payloadOf(i))
		select {
		case <-lost: // MQTT 3.1.1 has no negative PUBACK: the broker disconnects
		case <-time.After(5 * time.Second):
			t.Errorf("%s: device not disconnected after a denied QoS 1 publish", topic)
		}
		waitFor(t, 5*time.Second, "acl_denied counted", func() bool {
			return tb.metric(t, "tracegate_broker_publish_total", PubACLDenied) == before+1
		})
		mustContain(t, tb.logs.String(), "publish denied by ACL", "username=dock-in-1", "topic="+topic)
	}
	// QoS 0: dropped without disconnecting.
	c := connect(t, pahoOpts(tb.Addr(), "dock-in-1", "dock-in-1", testPassword).SetCleanSession(true))
	before := tb.metric(t, "tracegate_broker_publish_total", PubACLDenied)
	c.Publish("tracegate/wh1/rfid/dock-out-1", 0, false, "qos0")
	waitFor(t, 5*time.Second, "QoS 0 denial counted", func() bool {
		return tb.metric(t, "tracegate_broker_publish_total", PubACLDenied) == before+1
	})
	// A service may not publish readings either.
	if tok := svc.Publish("tracegate/wh1/rfid/dock-in-1", 0, false, "forged"); !tok.WaitTimeout(5 * time.Second) {
		t.Fatal("service publish timed out")
	}
	waitFor(t, 5*time.Second, "service denial counted", func() bool {
		return tb.metric(t, "tracegate_broker_publish_total", PubACLDenied) == before+2
	})

	// Subscriptions: own site's alerts only.
	tok := c.SubscribeMultiple(map[string]byte{alerts: 1, "tracegate/wh2/alerts": 1, "tracegate/#": 1, "tracegate/wh1/rfid/dock-out-1": 1}, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	res := tok.(*paho.SubscribeToken).Result()
	if res[alerts] != 1 {
		t.Errorf("own alerts: granted %#x, want 1", res[alerts])
	}
	for _, f := range []string{"tracegate/wh2/alerts", "tracegate/#", "tracegate/wh1/rfid/dock-out-1"} {
		if res[f] != 0x80 {
			t.Errorf("subscribe %s: granted %#x, want failure 0x80", f, res[f])
		}
	}

	// The device's own topic works, and a service alert reaches it.
	got := make(chan string, 1)
	c.Subscribe(alerts, 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }).Wait()
	if tok := svc.Publish(alerts, 1, false, "door open"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("service alert publish: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "door open" {
			t.Errorf("alert payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Error("device did not receive its site's alert")
	}
	if tok := c.Publish(rfidTopic, 1, false, "marker"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("own topic publish: %v", tok.Error())
	}
	waitFor(t, 5*time.Second, "marker delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen[rfidTopic]) == 1
	})

	mu.Lock()
	defer mu.Unlock()
	for _, topic := range append(denied, "tracegate/wh1/rfid/dock-out-1") {
		if topic == alerts {
			continue // checked below: only the service's alert
		}
		if len(seen[topic]) > 0 {
			t.Errorf("denied publish on %s delivered: %q", topic, seen[topic])
		}
	}
	for _, m := range rec.all() {
		if m.Topic != rfidTopic {
			t.Errorf("ingested a denied publish on %s", m.Topic)
		}
	}
	if calls, _ := rec.counts(); calls != 1 {
		t.Errorf("ingest called %d times, want 1 (the marker)", calls)
	}
	if len(seen[alerts]) != 1 || seen[alerts][0] != "door open" {
		t.Errorf("service saw alerts %q, want the one service alert", seen[alerts])
	}
}

// TestMaxPayload checks that larger publishes are refused and counted.
func TestMaxPayload(t *testing.T) {
	rec := &recorder{}
	tb := startBroker(t, Config{Accounts: baseAccounts(), MaxPayload: 1024}, WithIngest(rec.ingest))
	big := bytes.Repeat([]byte("x"), 1025)

	// MQTT 3.1.1, QoS 1: disconnected without PUBACK.
	c := dialRaw(t, tb.Addr(), 4)
	if rc := c.connect("dock-in-1", "dock-in-1", testPassword, true).ReasonCode; rc != 0 {
		t.Fatalf("connect: %#x", rc)
	}
	c.publish(rfidTopic, big, 1, 1, false)
	c.expectClosed(5 * time.Second)

	// MQTT 5, QoS 1: PUBACK with a failure reason code; the connection stays.
	c5 := dialRaw(t, tb.Addr(), 5)
	ack := c5.connect("dock-in-1", "dock-in-1", testPassword, true)
	if ack.Properties.MaximumPacketSize != tb.cfg.maxPacketSize() {
		t.Errorf("CONNACK maximum packet size %d, want %d", ack.Properties.MaximumPacketSize, tb.cfg.maxPacketSize())
	}
	c5.publish(rfidTopic, big, 1, 2, false)
	pk, err := c5.read(5 * time.Second)
	if err != nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 2 || pk.ReasonCode < 0x80 {
		t.Fatalf("got %+v, %v; want PUBACK id 2 with failure reason", pk.FixedHeader, err)
	}
	// QoS 0: dropped; then an exactly-at-limit payload is accepted.
	c5.publish(rfidTopic, big, 0, 0, false)
	c5.publish(rfidTopic, big[:1024], 1, 3, false)
	if pk, err := c5.read(5 * time.Second); err != nil || pk.PacketID != 3 || pk.ReasonCode != 0 {
		t.Fatalf("at-limit publish: %+v reason %#x, %v", pk.FixedHeader, pk.ReasonCode, err)
	}

	// Beyond the wire limit the packet is not read at all.
	c3 := dialRaw(t, tb.Addr(), 4)
	c3.connect("dock-out-1", "dock-out-1", testPassword, true)
	c3.publish("tracegate/wh1/rfid/dock-out-1", bytes.Repeat([]byte("y"), 200<<10), 1, 1, false)
	c3.expectClosed(5 * time.Second)

	waitFor(t, 5*time.Second, "too_large counted", func() bool {
		return tb.metric(t, "tracegate_broker_publish_total", PubTooLarge) == 4
	})
	if _, ok := rec.counts(); ok != 1 {
		t.Errorf("ingested %d messages, want only the at-limit one", ok)
	}
	mustContain(t, tb.logs.String(), "payload too large", "username=dock-in-1", "topic="+rfidTopic)
}

// TestIngestFailureNoPubackMQTT3 shows on the wire that a failed ingest
// gets no PUBACK and a closed connection, and that the re-sent message is
// acknowledged once stored.
func TestIngestFailureNoPubackMQTT3(t *testing.T) {
	rec := &recorder{fail: func(n int, _ Message) error {
		if n == 1 {
			return errors.New("disk full")
		}
		return nil
	}}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))

	c := dialRaw(t, tb.Addr(), 4)
	c.connect("dock-in-1", "dock-in-1", testPassword, false)
	c.publish(rfidTopic, payloadOf(1), 1, 7, false)
	c.expectClosed(5 * time.Second)

	c = dialRaw(t, tb.Addr(), 4)
	if ack := c.connect("dock-in-1", "dock-in-1", testPassword, false); ack.ReasonCode != 0 || !ack.SessionPresent {
		t.Fatalf("reconnect: reason %#x, session present %v", ack.ReasonCode, ack.SessionPresent)
	}
	c.publish(rfidTopic, payloadOf(1), 1, 7, true)
	pk, err := c.read(5 * time.Second)
	if err != nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 7 {
		t.Fatalf("got %+v, %v; want PUBACK 7", pk.FixedHeader, err)
	}
	calls := rec.all()
	if len(calls) != 2 || !calls[1].Duplicate || calls[0].Duplicate {
		t.Fatalf("ingest calls %+v; want a first try and a DUP re-send", calls)
	}
	if got := tb.metric(t, "tracegate_broker_publish_total", PubIngestFailed); got != 1 {
		t.Errorf("ingest_failed = %v", got)
	}
	mustContain(t, tb.logs.String(), "ingest failed", "disk full")
}

// TestIngestFailureMQTT5: an MQTT 5 client is disconnected (DISCONNECT
// 0x80, no PUBACK) and its re-send from the session is stored; QoS 2 too.
func TestIngestFailureMQTT5(t *testing.T) {
	rec := &recorder{fail: func(n int, _ Message) error {
		if n == 1 || n == 3 {
			return errors.New("disk full")
		}
		return nil
	}}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))
	c := dialRaw(t, tb.Addr(), 5)
	c.connect("dock-in-1", "dock-in-1", testPassword, false)
	c.publish(rfidTopic, payloadOf(1), 1, 1, false)
	pk, err := c.read(5 * time.Second)
	if err != nil || pk.FixedHeader.Type != packets.Disconnect || pk.ReasonCode != 0x80 || !strings.Contains(pk.Properties.ReasonString, "not stored") {
		t.Fatalf("got %+v reason %#x %q, %v; want DISCONNECT 0x80", pk.FixedHeader, pk.ReasonCode, pk.Properties.ReasonString, err)
	}
	c.expectClosed(5 * time.Second)

	c = dialRaw(t, tb.Addr(), 5)
	if ack := c.connect("dock-in-1", "dock-in-1", testPassword, false); !ack.SessionPresent {
		t.Fatal("session lost")
	}
	c.publish(rfidTopic, payloadOf(1), 1, 1, true)
	if pk, err := c.read(5 * time.Second); err != nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 1 || pk.ReasonCode != 0 {
		t.Fatalf("re-send: %+v reason %#x, %v", pk.FixedHeader, pk.ReasonCode, err)
	}
	// QoS 2: no PUBREC for a failed ingest either.
	c.publish(rfidTopic, payloadOf(2), 2, 2, false)
	c.expectClosed(5 * time.Second)
	if calls, ok := rec.counts(); calls != 3 || ok != 1 {
		t.Errorf("ingest calls %d, stored %d; want 3, 1", calls, ok)
	}
}

// TestNegativePubackV5: with Config.NegativePubackV5 an MQTT 5 QoS 1
// publish whose ingest failed gets PUBACK 0x80 and the connection stays.
func TestNegativePubackV5(t *testing.T) {
	rec := &recorder{fail: func(n int, _ Message) error {
		if n == 1 {
			return errors.New("disk full")
		}
		return nil
	}}
	tb := startBroker(t, Config{Accounts: baseAccounts(), NegativePubackV5: true}, WithIngest(rec.ingest))
	c := dialRaw(t, tb.Addr(), 5)
	c.connect("dock-in-1", "dock-in-1", testPassword, false)
	c.publish(rfidTopic, payloadOf(1), 1, 1, false)
	pk, err := c.read(5 * time.Second)
	if err != nil || pk.FixedHeader.Type != packets.Puback || pk.ReasonCode != 0x80 {
		t.Fatalf("got %+v reason %#x, %v; want PUBACK 0x80", pk.FixedHeader, pk.ReasonCode, err)
	}
	c.publish(rfidTopic, payloadOf(1), 1, 2, false)
	if pk, err := c.read(5 * time.Second); err != nil || pk.PacketID != 2 || pk.ReasonCode != 0 {
		t.Fatalf("retry: %+v reason %#x, %v", pk.FixedHeader, pk.ReasonCode, err)
	}
	// MQTT 3.1.1 clients are still disconnected: they have no negative ack.
	rec.mu.Lock()
	rec.fail = func(int, Message) error { return errors.New("disk full") }
	rec.mu.Unlock()
	c3 := dialRaw(t, tb.Addr(), 4)
	c3.connect("dock-out-1", "dock-out-1", testPassword, true)
	c3.publish("tracegate/wh1/rfid/dock-out-1", payloadOf(3), 1, 1, false)
	c3.expectClosed(5 * time.Second)
}

// TestIngestFailureRedeliveredPaho is the device's view with a real paho
// client (QoS 1, clean session off): ingest fails once, the message comes
// again, and it is stored exactly once.
func TestIngestFailureRedeliveredPaho(t *testing.T) {
	rec := &recorder{fail: func(n int, _ Message) error {
		if n == 1 {
			return errors.New("inbox write failed")
		}
		return nil
	}}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))
	var lost atomic.Int32
	c := connect(t, pahoOpts(tb.Addr(), "dock-in-1", "dock-in-1", testPassword).
		SetConnectionLostHandler(func(paho.Client, error) { lost.Add(1) }))
	tok := c.Publish(rfidTopic, 1, false, payloadOf(42))
	waitFor(t, 10*time.Second, "re-sent message stored", func() bool { _, ok := rec.counts(); return ok == 1 })
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("publish token never completed")
	}
	// Later publishes on the new connection are acknowledged normally.
	if tok := c.Publish(rfidTopic, 1, false, payloadOf(43)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("next publish: %v", tok.Error())
	}
	time.Sleep(200 * time.Millisecond) // would catch a third delivery of 42
	calls := rec.all()
	if len(calls) != 3 {
		t.Fatalf("ingest calls %d, want 3 (fail, re-send, next)", len(calls))
	}
	if string(calls[0].Payload) != string(payloadOf(42)) || string(calls[1].Payload) != string(payloadOf(42)) || !calls[1].Duplicate {
		t.Errorf("calls %+v: want 42, 42 (DUP), 43", calls)
	}
	stored := rec.stored()
	if string(stored[0].Payload) != string(payloadOf(42)) || string(stored[1].Payload) != string(payloadOf(43)) {
		t.Errorf("stored %q, %q", stored[0].Payload, stored[1].Payload)
	}
	if stored[0].ClientID != "dock-in-1" || stored[0].Username != "dock-in-1" || stored[0].QoS != 1 || stored[0].Topic != rfidTopic || stored[0].PacketID == 0 || stored[0].Received.IsZero() {
		t.Errorf("message fields %+v", stored[0])
	}
	if lost.Load() != 1 {
		t.Errorf("connection lost %d times, want 1", lost.Load())
	}
}

// TestSlowIngestHoldsPuback: the device's publish does not complete before
// the ingest callback has returned.
func TestSlowIngestHoldsPuback(t *testing.T) {
	release := make(chan struct{})
	var returned atomic.Bool
	rec := &recorder{fail: func(int, Message) error {
		<-release
		returned.Store(true)
		return nil
	}}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))
	c := connect(t, pahoOpts(tb.Addr(), "dock-in-1", "dock-in-1", testPassword))
	tok := c.Publish(rfidTopic, 1, false, payloadOf(1))
	waitFor(t, 5*time.Second, "ingest called", func() bool { n, _ := rec.counts(); return n == 1 })
	if tok.WaitTimeout(500 * time.Millisecond) {
		t.Fatal("publish completed (PUBACK) while ingest was still running")
	}
	close(release)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish after ingest returned: %v", tok.Error())
	}
	if !returned.Load() {
		t.Fatal("PUBACK before ingest returned")
	}

	// The same on the wire: nothing at all arrives while ingest runs.
	release2 := make(chan struct{})
	rec.mu.Lock()
	rec.fail = func(int, Message) error { <-release2; return nil }
	rec.mu.Unlock()
	raw := dialRaw(t, tb.Addr(), 4)
	raw.connect("dock-out-1", "dock-out-1", testPassword, false)
	raw.publish("tracegate/wh1/rfid/dock-out-1", payloadOf(2), 1, 9, false)
	if pk, err := raw.read(300 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("got %+v, %v while ingest blocked; want nothing", pk.FixedHeader, err)
	}
	close(release2)
	if pk, err := raw.read(5 * time.Second); err != nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 9 {
		t.Fatalf("got %+v, %v; want PUBACK 9", pk.FixedHeader, err)
	}
}

// TestIngestConcurrent: ingest calls of different clients overlap (the
// broker does not serialise them), so the edge can group-commit.
func TestIngestConcurrent(t *testing.T) {
	const n = 4
	var inside atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	rec := &recorder{fail: func(int, Message) error {
		if inside.Add(1) == n {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("ingest calls were serialised")
		}
	}}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))
	ids := []string{"dock-in-1", "dock-out-1", "coldroom-1", "remote-1"}
	topics := []string{rfidTopic, "tracegate/wh1/rfid/dock-out-1", "tracegate/wh1/sensor/coldroom-1", "tracegate/wh2/rfid/remote-1"}
	var toks []paho.Token
	for i, id := range ids {
		c := connect(t, pahoOpts(tb.Addr(), id, id, testPassword).SetAutoReconnect(false))
		toks = append(toks, c.Publish(topics[i], 1, false, payloadOf(i)))
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	if _, ok := rec.counts(); ok != n {
		t.Fatalf("stored %d, want %d: ingest calls did not overlap", ok, n)
	}
}

// TestIngestPanicIsFailure: a panicking callback is a failed ingest, not a
// crashed broker.
func TestIngestPanicIsFailure(t *testing.T) {
	var calls atomic.Int32
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(func(context.Context, Message) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}))
	c := dialRaw(t, tb.Addr(), 4)
	c.connect("dock-in-1", "dock-in-1", testPassword, true)
	c.publish(rfidTopic, payloadOf(1), 1, 1, false)
	c.expectClosed(5 * time.Second)
	if got := tb.metric(t, "tracegate_broker_publish_total", PubIngestFailed); got != 1 {
		t.Errorf("ingest_failed = %v", got)
	}
	c = dialRaw(t, tb.Addr(), 4)
	c.connect("dock-in-1", "dock-in-1", testPassword, true)
	c.publish(rfidTopic, payloadOf(1), 1, 1, false)
	if pk, err := c.read(5 * time.Second); err != nil || pk.FixedHeader.Type != packets.Puback {
		t.Fatalf("after panic: %+v, %v", pk.FixedHeader, err)
	}
}

// TestServerPublish sends alerts from the broker itself.
func TestServerPublish(t *testing.T) {
	rec := &recorder{}
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(rec.ingest))
	got := make(chan string, 2)
	c := connect(t, pahoOpts(tb.Addr(), "coldroom-1", "coldroom-1", testPassword))
	if tok := c.Subscribe(alerts, 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if err := tb.Publish(alerts, []byte(`{"excursion":true}`), false, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != `{"excursion":true}` {
			t.Errorf("payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("alert not received")
	}
	if n, _ := rec.counts(); n != 0 {
		t.Error("a server-side alert was ingested")
	}
	for _, bad := range []string{"", "tracegate/+/alerts", "tracegate/#"} {
		if err := tb.Publish(bad, nil, false, 0); err == nil {
			t.Errorf("Publish(%q) succeeded", bad)
		}
	}
	if err := tb.Publish(alerts, nil, false, 3); err == nil {
		t.Error("Publish with qos 3 succeeded")
	}
	tb.stop()
	if err := tb.Publish(alerts, nil, false, 0); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Publish after stop: %v, want ErrNotRunning", err)
	}
}

// TestSetAccounts registers and removes a device while the broker runs.
func TestSetAccounts(t *testing.T) {
	tb := startBroker(t, Config{Accounts: []Account{service("edge")}})
	opts := func() *paho.ClientOptions {
		return pahoOpts(tb.Addr(), "reefer-1", "reefer-1", testPassword).SetAutoReconnect(false)
	}
	c := paho.NewClient(opts())
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() == nil {
		t.Fatal("unregistered device connected")
	}
	reefer := device("reefer-1", "wh1", KindSensor)
	if err := tb.SetAccounts([]Account{service("edge"), reefer}); err != nil {
		t.Fatal(err)
	}
	lost := make(chan struct{}, 1)
	c = connect(t, opts().SetConnectionLostHandler(func(paho.Client, error) { lost <- struct{}{} }))
	if tok := c.Publish("tracegate/wh1/sensor/reefer-1", 1, false, "{}"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	// Invalid accounts are refused and change nothing.
	bad := reefer
	bad.Kind = "toaster"
	if err := tb.SetAccounts([]Account{bad}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetAccounts(invalid) = %v", err)
	}
	if tok := c.Publish("tracegate/wh1/sensor/reefer-1", 1, false, "{}"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish after refused SetAccounts: %v", tok.Error())
	}
	// Removing the device disconnects it.
	if err := tb.SetAccounts([]Account{service("edge")}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("removed device still connected")
	}
	c2 := paho.NewClient(opts())
	if tok := c2.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() == nil {
		t.Fatal("removed device reconnected")
	}
}

// TestGarbageInput throws malformed bytes at the broker; it must keep
// serving (a panic would end the test binary).
func TestGarbageInput(t *testing.T) {
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest((&recorder{}).ingest))
	r := rand.New(rand.NewPCG(1, 2))
	var connect []byte
	{
		var buf bytes.Buffer
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Keepalive: 30, ClientIdentifier: "dock-in-1",
				UsernameFlag: true, Username: []byte("dock-in-1"), PasswordFlag: true, Password: []byte(testPassword)}}
		if err := pk.ConnectEncode(&buf); err != nil {
			t.Fatal(err)
		}
		connect = buf.Bytes()
	}
	inputs := [][]byte{
		{},
		{0x10},                         // CONNECT, no length
		{0x10, 0xff, 0xff, 0xff, 0xff}, // malformed length
		{0x10, 0xff, 0xff, 0xff, 0x7f}, // 256 MB remaining length
		{0x30, 0x02, 0x00, 0x05},       // PUBLISH before CONNECT
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		connect[:len(connect)/2],
		append(append([]byte{}, connect...), 0x30, 0x05, 0x00, 0x09, 'a'),  // truncated PUBLISH topic
		append(append([]byte{}, connect...), 0x32, 0x03, 0x00, 0x00, 0x01), // QoS 1 PUBLISH, empty topic
		append(append([]byte{}, connect...), 0x3e, 0x00),                   // QoS 3 PUBLISH
		append(append([]byte{}, connect...), 0xf0, 0x00),                   // reserved type 15
	}
	for i := 0; i < 20; i++ {
		junk := make([]byte, r.IntN(200))
		for j := range junk {
			junk[j] = byte(r.Uint32())
		}
		inputs = append(inputs, junk, append(append([]byte{}, connect...), junk...))
	}
	for _, in := range inputs {
		conn, err := net.Dial("tcp", tb.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(in)
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = conn.Read(make([]byte, 64))
		conn.Close()
	}
	c := dialRaw(t, tb.Addr(), 4)
	if rc := c.connect("dock-in-1", "dock-in-1", testPassword, true).ReasonCode; rc != 0 {
		t.Fatalf("after garbage: CONNACK %#x", rc)
	}
	c.publish(rfidTopic, payloadOf(1), 1, 1, false)
	if pk, err := c.read(5 * time.Second); err != nil || pk.FixedHeader.Type != packets.Puback {
		t.Fatalf("after garbage: %+v, %v", pk.FixedHeader, err)
	}
}

// TestShutdownCancelsIngest: Run returns only after in-flight ingest calls,
// whose context it cancels.
func TestShutdownCancelsIngest(t *testing.T) {
	entered := make(chan struct{})
	var ctxErr atomic.Value
	var finished atomic.Bool
	tb := startBroker(t, Config{Accounts: baseAccounts()}, WithIngest(func(ctx context.Context, _ Message) error {
		close(entered)
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond)
		ctxErr.Store(ctx.Err())
		finished.Store(true)
		return ctx.Err()
	}))
	c := dialRaw(t, tb.Addr(), 4)
	c.connect("dock-in-1", "dock-in-1", testPassword, true)
	c.publish(rfidTopic, payloadOf(1), 1, 1, false)
	<-entered
	tb.stop()
	if !finished.Load() {
		t.Fatal("Run returned while an ingest call was in flight")
	}
	if err, _ := ctxErr.Load().(error); !errors.Is(err, context.Canceled) {
		t.Errorf("ingest ctx error %v, want Canceled", err)
	}
	c.expectClosed(5 * time.Second)
}

func TestRunErrors(t *testing.T) {
	tb := startBroker(t, Config{Accounts: baseAccounts()})
	if err := tb.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run = %v", err)
	}
	b, err := New(Config{Addr: tb.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); err == nil {
		t.Error("Run on a busy address succeeded")
	}
	select {
	case <-b.Ready():
	default:
		t.Error("Ready not closed after a failed Run")
	}
	if b.Addr() != "" {
		t.Errorf("Addr after failed Run = %q", b.Addr())
	}
}

func TestConfigValidate(t *testing.T) {
	good := device("dock-in-1", "wh1", KindRFID)
	with := func(f func(*Account)) []Account { a := good; f(&a); return []Account{a} }
	for name, cfg := range map[string]Config{
		"negative payload":  {MaxPayload: -1},
		"huge payload":      {MaxPayload: 1 << 30},
		"inflight too big":  {InflightQuota: 70000},
		"negative timeout":  {IngestTimeout: -time.Second},
		"short expiry":      {MessageExpiry: time.Millisecond},
		"duplicate account": {Accounts: []Account{good, good}},
		"bad role":          {Accounts: with(func(a *Account) { a.Role = "admin" })},
		"bad kind":          {Accounts: with(func(a *Account) { a.Kind = "camera" })},
		"no site":           {Accounts: with(func(a *Account) { a.Site = "" })},
		"wildcard site":     {Accounts: with(func(a *Account) { a.Site = "wh+" })},
		"slash in username": {Accounts: with(func(a *Account) { a.Username = "a/b" })},
		"empty username":    {Accounts: with(func(a *Account) { a.Username = "" })},
		"plain password":    {Accounts: with(func(a *Account) { a.PasswordHash = "secret" })},
		"service with site": {Accounts: []Account{{Username: "edge", PasswordHash: testHash(), Role: RoleService, Site: "wh1"}}},
	} {
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig", name, err)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if err := (Config{Accounts: baseAccounts()}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// TestMetricsPerRegistry: each broker registers with its own registry;
// sharing one is an error, and nothing touches the global registry.
func TestMetricsPerRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{}, WithMetrics(reg)); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}, WithMetrics(reg)); err == nil {
		t.Error("second broker on one registry succeeded")
	}
	if _, err := New(Config{}, WithMetrics(prometheus.NewRegistry())); err != nil {
		t.Error(err)
	}
	mfs, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "tracegate_broker_") {
			t.Errorf("%s registered globally", mf.GetName())
		}
	}
	for _, o := range []Option{WithIngest(nil), WithLogger(nil), WithMetrics(nil)} {
		if _, err := New(Config{}, o); err == nil {
			t.Error("nil option accepted")
		}
	}
}
