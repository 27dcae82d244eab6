package broker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

const testPassword = "correct horse battery staple"

// testHash is computed once: argon2id is deliberately slow, more so under -race.
var testHash = sync.OnceValue(func() string {
	h, err := HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

func device(id, site, kind string) Account {
	return Account{Username: id, PasswordHash: testHash(), Role: RoleDevice, Site: site, Kind: kind}
}

func service(id string) Account {
	return Account{Username: id, PasswordHash: testHash(), Role: RoleService}
}

// syncBuffer collects log output for assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testBroker struct {
	*Broker
	reg  *prometheus.Registry
	logs *syncBuffer
	stop func()
}

// startBroker runs a broker on 127.0.0.1:0 until the test ends (or stop).
func startBroker(t *testing.T, cfg Config, opts ...Option) *testBroker {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(cfg, append([]Option{WithMetrics(reg), WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	select {
	case <-b.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("broker not ready")
	}
	if b.Addr() == "" {
		t.Fatalf("broker did not start: %v", <-done)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("broker log:\n%s", logs.String())
		}
	})
	return &testBroker{Broker: b, reg: reg, logs: logs, stop: stop}
}

// metric returns the value of a counter or gauge with the given result label
// ("" for none).
func (tb *testBroker) metric(t *testing.T, name, result string) float64 {
	t.Helper()
	mfs, err := tb.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := result == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "result" && lp.GetValue() == result {
					match = true
				}
			}
			if !match {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s{result=%q} not found", name, result)
	return 0
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pahoOpts returns paho options for a device-like client: QoS 1 with clean
// session off, fast reconnects.
func pahoOpts(addr, clientID, user, pass string) *paho.ClientOptions {
	return paho.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetClientID(clientID).
		SetUsername(user).
		SetPassword(pass).
		SetCleanSession(false).
		SetAutoReconnect(true).
		SetConnectRetry(false).
		SetMaxReconnectInterval(100 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetProtocolVersion(4). // no fallback to 3.1: one attempt per connect
		SetStore(paho.NewOrderedMemoryStore())
}

func connect(t *testing.T, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("connect timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

// recorder is an ingest callback that records what it is given and can be
// told to fail or block.
type recorder struct {
	mu    sync.Mutex
	calls []Message
	ok    []Message
	fail  func(n int, m Message) error // n counts calls from 1
}

func (r *recorder) ingest(ctx context.Context, m Message) error {
	r.mu.Lock()
	r.calls = append(r.calls, m)
	n := len(r.calls)
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(n, m); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.ok = append(r.ok, m)
	r.mu.Unlock()
	return nil
}

func (r *recorder) counts() (calls, ok int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls), len(r.ok)
}

func (r *recorder) stored() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.ok...)
}

func (r *recorder) all() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.calls...)
}

// rawClient speaks MQTT over TCP packet by packet (encoded with mochi's
// packets), to observe exactly what the broker sends and what it does not.
type rawClient struct {
	t       *testing.T
	conn    net.Conn
	r       *bufio.Reader
	version byte
}

func dialRaw(t *testing.T, addr string, version byte) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, r: bufio.NewReader(conn), version: version}
}

func (c *rawClient) send(pk packets.Packet) {
	c.t.Helper()
	pk.ProtocolVersion = c.version
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		c.t.Fatalf("rawClient cannot send type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(buf.Bytes()); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next packet, or an error: os.ErrDeadlineExceeded when
// nothing arrived in time, io.EOF (or a reset) when the broker closed.
func (c *rawClient) read(timeout time.Duration) (packets.Packet, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	var pk packets.Packet
	b, err := c.r.ReadByte()
	if err != nil {
		return pk, err
	}
	if err := pk.FixedHeader.Decode(b); err != nil {
		return pk, err
	}
	n, _, err := packets.DecodeLength(c.r)
	if err != nil {
		return pk, err
	}
	pk.FixedHeader.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return pk, err
	}
	pk.ProtocolVersion = c.version
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	}
	return pk, err
}

func (c *rawClient) connect(clientID, user, pass string, clean bool) packets.Packet {
	c.t.Helper()
	c.send(packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Connect},
		Connect: packets.ConnectParams{
			ProtocolName:     []byte("MQTT"),
			Clean:            clean,
			Keepalive:        30,
			ClientIdentifier: clientID,
			UsernameFlag:     true,
			Username:         []byte(user),
			PasswordFlag:     true,
			Password:         []byte(pass),
		},
		Properties: packets.Properties{SessionExpiryInterval: 3600, SessionExpiryIntervalFlag: true},
	})
	pk, err := c.read(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read CONNACK: %v", err)
	}
	if pk.FixedHeader.Type != packets.Connack {
		c.t.Fatalf("got packet type %d, want CONNACK", pk.FixedHeader.Type)
	}
	return pk
}

func (c *rawClient) publish(topic string, payload []byte, qos byte, id uint16, dup bool) {
	c.t.Helper()
	c.send(packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Dup: dup},
		TopicName:   topic,
		PacketID:    id,
		Payload:     payload,
	})
}

// expectClosed asserts the broker closes the connection without sending
// anything (in particular no PUBACK) first.
func (c *rawClient) expectClosed(timeout time.Duration) {
	c.t.Helper()
	for {
		pk, err := c.read(timeout)
		if err == nil {
			if pk.FixedHeader.Type == packets.Disconnect {
				continue // mochi sends DISCONNECT (even to 3.1.1 clients) before closing
			}
			c.t.Fatalf("got packet type %d (reason %#x), want the connection closed without it", pk.FixedHeader.Type, pk.ReasonCode)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %s", timeout)
		}
		return // EOF or reset
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("log lacks %q", sub)
		}
	}
}

func payloadOf(i int) []byte { return []byte(fmt.Sprintf(`{"seq":%d}`, i)) }
