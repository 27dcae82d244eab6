package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Clock stamps readings. The default is the wall clock; a test can fix it
// to make payloads byte-for-byte repeatable. Publishing intervals always
// follow real time.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Option configures a Fleet in New.
type Option func(*Fleet) error

// WithClock sets the clock that stamps readings.
func WithClock(c Clock) Option {
	return func(f *Fleet) error {
		if c == nil {
			return errors.New("WithClock: nil clock")
		}
		f.clock = c
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(f *Fleet) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		f.log = l
		return nil
	}
}

// OnAck calls fn for every message the broker acknowledged (PUBACK
// received), with the device ID, topic and payload, from the device's MQTT
// client goroutine; fn must be quick and safe for concurrent use. A crash
// test uses it to record exactly what the broker acknowledged.
func OnAck(fn func(device, topic string, payload []byte)) Option {
	return func(f *Fleet) error {
		if fn == nil {
			return errors.New("OnAck: nil function")
		}
		f.onAck = fn
		return nil
	}
}

// Fleet runs simulated devices, each with its own MQTT client.
type Fleet struct {
	cfg     Config
	cat     *catalog
	clock   Clock
	log     *slog.Logger
	onAck   func(device, topic string, payload []byte)
	devices []*device
	started atomic.Bool

	// Play's hooks (see OnMessageAck, BeforeAction, OnProgress).
	onMsgAck      func(i int, m Message, ackedAt time.Time)
	beforeAction  func(ctx context.Context, a Action) error
	progress      func(PlayStats)
	progressEvery time.Duration
}

// New validates cfg and builds the fleet's devices.
func New(cfg Config, opts ...Option) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	f := &Fleet{cfg: cfg, cat: newCatalog(cfg), clock: wallClock{}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(f); err != nil {
			return nil, fmt.Errorf("new fleet: %w", err)
		}
	}
	f.log = f.log.With("component", "firmware-sim")
	for _, d := range cfg.Devices {
		dev, err := newDevice(f, d)
		if err != nil {
			return nil, err
		}
		f.devices = append(f.devices, dev)
	}
	return f, nil
}

// Run runs every device until ctx ends, or until every device has
// published its Messages and had them all acknowledged, and returns once
// all devices have disconnected. Messages still buffered when ctx ends are
// reported by Stats and dropped. A Fleet runs once.
func (f *Fleet) Run(ctx context.Context) error {
	if !f.started.CompareAndSwap(false, true) {
		return errors.New("fleet: Run called twice (a Fleet runs once)")
	}
	f.log.Info("fleet starting", "devices", len(f.devices), "broker", f.cfg.Broker, "seed", f.cfg.Seed, "rate", f.cfg.Rate)
	var wg sync.WaitGroup
	for _, d := range f.devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.run(ctx)
		}()
	}
	wg.Wait()
	f.log.Info("fleet stopped")
	return nil
}

// Stats returns each device's counters by device ID.
func (f *Fleet) Stats() map[string]DeviceStats {
	out := make(map[string]DeviceStats, len(f.devices))
	for _, d := range f.devices {
		out[d.cfg.ID] = d.snapshot()
	}
	return out
}

// Devices returns the devices' resolved configurations (defaults applied).
func (f *Fleet) Devices() []Device {
	out := make([]Device, len(f.devices))
	for i, d := range f.devices {
		out[i] = d.cfg
	}
	return out
}
