package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// generator makes a device's payloads: the messages of one reading cycle
// taken at now. Implementations keep their state (thermal model, pallet
// cursor) and draw every random number from their own seeded source.
type generator interface {
	next(now time.Time) ([][]byte, error)
}

// DeviceStats counts one device's messages and connections.
type DeviceStats struct {
	Generated int // messages made (queued or dropped)
	Published int // handed to the MQTT client (first attempt)
	Acked     int // PUBACK received
	Queued    int // in the outbox, not yet handed to the client
	Inflight  int // handed to the client, PUBACK not yet received
	Dropped   int // lost to a full outbox
	Connects  int // successful connections, the first included
	Lost      int // connections lost
	// Reconnects counts reconnection attempts after a loss; Failures counts
	// failed connection attempts, LastError says why the last one failed.
	Reconnects int
	Failures   int
	LastError  string
	Finished   bool // published Messages and all were acknowledged
}

type outMsg struct {
	payload []byte
}

// device is one simulated device with its own paho client and outbox.
//
// Acknowledgements are observed through the client's Store, not through
// publish tokens: paho v1.5.1 deletes an outbound publish from its store
// exactly when the PUBACK arrives, whereas after a reconnect it completes
// the original token as soon as it re-sends the message (messageIds.claimID),
// before any PUBACK. So "acked" here always means a PUBACK was received.
//
// Order: the sender hands the oldest outbox message to paho while fewer
// than MaxInflight await a PUBACK. After a reconnect paho re-sends those
// (DUP) from its ordered store; the sender waits until paho has taken its
// snapshot of them (Store.All) and until they are acknowledged before
// sending newer ones, so messages reach the broker in generation order.
type device struct {
	cfg      Device
	fleet    *Fleet
	topic    string
	gen      generator
	log      *slog.Logger
	interval time.Duration
	client   paho.Client

	wake chan struct{}

	mu           sync.Mutex
	queue        []outMsg
	inflight     map[uint16]outMsg
	pending      *outMsg // being handed to paho; Store.Put claims it
	claimed      bool
	connected    bool // initial connect (with its resume) completed
	reconnecting bool // between a connection loss and paho's resume snapshot
	draining     bool // waiting for re-sent messages before sending new ones
	genDone      bool
	full         bool // outbox overflowing (logged once per episode)
	stats        DeviceStats
}

func newDevice(f *Fleet, d Device) (*device, error) {
	h := fnv.New64a()
	h.Write([]byte(d.ID))
	rng := rand.New(rand.NewPCG(uint64(f.cfg.Seed), h.Sum64()))
	dev := &device{
		cfg:      d,
		fleet:    f,
		topic:    d.Topic(),
		log:      f.log.With("device", d.ID),
		interval: time.Duration(float64(d.Interval) / f.cfg.Rate),
		wake:     make(chan struct{}, 1),
		inflight: map[uint16]outMsg{},
	}
	if dev.interval <= 0 {
		dev.interval = time.Nanosecond
	}
	switch d.Kind {
	case KindRFID:
		dev.gen = newRFIDGen(d, f.cat, rng)
	case KindSensor:
		dev.gen = newSensorGen(d, rng)
	case KindScanner:
		dev.gen = newScannerGen(d, f.cat, rng)
	default:
		return nil, fmt.Errorf("device %s: kind %q", d.ID, d.Kind)
	}
	return dev, nil
}

func (d *device) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *device) snapshot() DeviceStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Queued = len(d.queue)
	s.Inflight = len(d.inflight)
	return s
}

// run connects, generates and publishes until ctx ends or, with
// cfg.Messages set, until every message was acknowledged; then it
// disconnects.
func (d *device) run(ctx context.Context) {
	opts := paho.NewClientOptions().
		AddBroker(brokerURL(d.fleet.cfg.Broker)).
		SetClientID(d.cfg.ID).
		SetUsername(d.cfg.Username).
		SetPassword(d.cfg.Password).
		SetProtocolVersion(4).
		SetCleanSession(false).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(min(d.fleet.cfg.ReconnectMax, 2*time.Second)).
		SetMaxReconnectInterval(d.fleet.cfg.ReconnectMax).
		SetConnectTimeout(d.fleet.cfg.ConnectTimeout).
		SetKeepAlive(d.fleet.cfg.KeepAlive).
		SetWriteTimeout(d.fleet.cfg.ConnectTimeout).
		SetOrderMatters(false).
		SetStore(&ackStore{Store: paho.NewOrderedMemoryStore(), d: d}).
		SetOnConnectHandler(func(paho.Client) {
			d.mu.Lock()
			d.stats.Connects++
			d.mu.Unlock()
			d.log.Debug("connected")
			d.notify()
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			d.mu.Lock()
			d.stats.Lost++
			d.mu.Unlock()
			d.log.Info("connection lost; buffering", "err", err)
		}).
		SetReconnectingHandler(func(paho.Client, *paho.ClientOptions) {
			d.mu.Lock()
			d.reconnecting = true
			d.stats.Reconnects++
			d.mu.Unlock()
		}).
		SetConnectionNotificationHandler(func(_ paho.Client, n paho.ConnectionNotification) {
			var err error
			switch n := n.(type) {
			case paho.ConnectionNotificationFailed:
				err = n.Reason
			case paho.ConnectionNotificationBrokerFailed:
				err = n.Reason
			default:
				return
			}
			d.mu.Lock()
			d.stats.Failures++
			if err != nil {
				d.stats.LastError = err.Error()
			}
			d.mu.Unlock()
			d.log.Debug("connect attempt failed", "err", err)
		})
	d.client = paho.NewClient(opts)

	connTok := d.client.Connect()
	go func() {
		// With ConnectRetry the token completes once connected (after paho
		// has re-sent anything stored), or with an error on Disconnect.
		<-connTok.Done()
		if connTok.Error() == nil {
			d.mu.Lock()
			d.connected = true
			d.mu.Unlock()
			d.notify()
		}
	}()

	genCtx, stopGen := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.generate(genCtx)
	}()
	d.send(ctx)
	stopGen()
	wg.Wait()
	d.client.Disconnect(250)
	s := d.snapshot()
	d.log.Info("device stopped", "published", s.Published, "acked", s.Acked, "queued", s.Queued, "inflight", s.Inflight, "dropped", s.Dropped)
}

// generate produces a reading cycle every interval (the first at once).
func (d *device) generate(ctx context.Context) {
	defer func() {
		d.mu.Lock()
		d.genDone = true
		d.mu.Unlock()
		d.notify()
	}()
	// A fixed pause between cycles rather than a ticker: after a stall a
	// ticker fires twice in a row, and a logger does not take two readings
	// in the same millisecond.
	t := time.NewTimer(d.interval)
	defer t.Stop()
	for {
		msgs, err := d.gen.next(d.fleet.clock.Now())
		if err != nil {
			// Configuration was validated, so this is a bug; say so and stop
			// this device rather than publish nonsense.
			d.log.Error("cannot make payload; device stops generating", "err", err)
			d.mu.Lock()
			d.stats.LastError = err.Error()
			d.mu.Unlock()
			return
		}
		for _, m := range msgs {
			if !d.enqueue(m) {
				return // Messages reached
			}
		}
		t.Reset(d.interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// enqueue adds a message to the outbox; false once Messages were made.
func (d *device) enqueue(p []byte) bool {
	d.mu.Lock()
	defer d.notify()
	defer d.mu.Unlock()
	if d.cfg.Messages > 0 && d.stats.Generated >= d.cfg.Messages {
		return false
	}
	d.stats.Generated++
	if len(d.queue) >= d.fleet.cfg.Outbox {
		d.stats.Dropped++
		if !d.full {
			d.full = true
			d.log.Warn("outbox full; dropping readings until it drains", "outbox", len(d.queue), "policy", d.fleet.cfg.OutboxFull)
		}
		if d.fleet.cfg.OutboxFull == OutboxDropNewest {
			return d.cfg.Messages == 0 || d.stats.Generated < d.cfg.Messages
		}
		d.queue = d.queue[1:]
	} else if d.full && len(d.queue) < d.fleet.cfg.Outbox/2 {
		d.full = false
		d.log.Info("outbox draining", "outbox", len(d.queue), "dropped", d.stats.Dropped)
	}
	d.queue = append(d.queue, outMsg{payload: p})
	return d.cfg.Messages == 0 || d.stats.Generated < d.cfg.Messages
}

// canSend reports whether the next outbox message may go now, given
// whether the client's connection is open; d.mu held.
func (d *device) canSend(open bool) bool {
	return open && len(d.queue) > 0 && d.connected && !d.reconnecting && !d.draining &&
		len(d.inflight) < d.fleet.cfg.MaxInflight
}

// finished reports whether a device with a message limit is done; d.mu held.
func (d *device) finished() bool {
	return d.genDone && d.cfg.Messages > 0 && len(d.queue) == 0 && len(d.inflight) == 0 && d.stats.Generated >= d.cfg.Messages
}

// send hands outbox messages to paho in order until ctx ends or the device
// is finished.
func (d *device) send(ctx context.Context) {
	for {
		// Asked outside d.mu: paho's callbacks into the store take d.mu.
		open := d.client.IsConnectionOpen()
		d.mu.Lock()
		if d.finished() {
			d.stats.Finished = true
			d.mu.Unlock()
			return
		}
		if !d.canSend(open) {
			d.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case <-time.After(100 * time.Millisecond):
				// The connection can open without a callback reaching us first.
			}
			continue
		}
		m := d.queue[0]
		d.pending, d.claimed = &m, false
		d.mu.Unlock()

		tok := d.client.Publish(d.topic, 1, false, m.payload)

		d.mu.Lock()
		handed := d.claimed
		d.pending, d.claimed = nil, false
		if handed {
			d.queue = d.queue[1:]
			d.stats.Published++
		}
		d.mu.Unlock()
		if !handed {
			// Not stored by paho (not connected): keep it first in line.
			if tok.WaitTimeout(time.Second) && tok.Error() != nil {
				d.log.Debug("publish not taken; retrying", "err", tok.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// stored is called by the store when paho persists an outbound publish
// (inside Publish, on the sender's goroutine).
func (d *device) stored(id uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending != nil && !d.claimed {
		d.inflight[id] = *d.pending
		d.claimed = true
	}
}

// acked is called by the store when paho deletes an outbound publish,
// which it does on receiving its PUBACK.
func (d *device) acked(id uint16) {
	d.mu.Lock()
	m, ok := d.inflight[id]
	if ok {
		delete(d.inflight, id)
		d.stats.Acked++
		if len(d.inflight) == 0 {
			d.draining = false
		}
	}
	d.mu.Unlock()
	if !ok {
		return
	}
	d.notify()
	if fn := d.fleet.onAck; fn != nil {
		fn(d.cfg.ID, d.topic, m.payload)
	}
}

// resumeSnapshot is called when paho lists its store to re-send after a
// (re)connection: from here on new publishes are not part of that re-send.
func (d *device) resumeSnapshot() {
	d.mu.Lock()
	d.reconnecting = false
	d.draining = len(d.inflight) > 0
	d.mu.Unlock()
	d.notify()
}

// ackStore is paho's ordered memory store, watched for the moments paho
// stores an outbound publish (sent, awaiting PUBACK), deletes it (PUBACK
// received) and lists everything (about to re-send after connecting).
type ackStore struct {
	paho.Store
	d *device
}

func (s *ackStore) Put(key string, m packets.ControlPacket) {
	s.Store.Put(key, m)
	if p, ok := m.(*packets.PublishPacket); ok && strings.HasPrefix(key, "o.") && p.Qos > 0 {
		s.d.stored(p.MessageID)
	}
}

func (s *ackStore) Del(key string) {
	s.Store.Del(key)
	if id, ok := strings.CutPrefix(key, "o."); ok {
		if n, err := strconv.ParseUint(id, 10, 16); err == nil {
			s.d.acked(uint16(n))
		}
	}
}

func (s *ackStore) All() []string {
	keys := s.Store.All()
	s.d.resumeSnapshot()
	return keys
}

func brokerURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "tcp://" + addr
}
