package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// PlayStats is what Play did.
type PlayStats struct {
	Messages  int // in the scenario
	Published int // handed to the broker (first attempt)
	Acked     int // PUBACK received
	Actions   int // actions performed (BeforeAction returned nil)
	Elapsed   time.Duration
	Devices   map[string]DeviceStats
}

// OnMessageAck calls fn for every scenario message the broker
// acknowledged (PUBACK received): its index in Scenario.Messages, the
// message and the wall-clock time of the acknowledgement. It is called
// from the device's MQTT goroutine; fn must be quick and safe for
// concurrent use. Play only.
func OnMessageAck(fn func(i int, m Message, ackedAt time.Time)) Option {
	return func(f *Fleet) error {
		if fn == nil {
			return errors.New("OnMessageAck: nil function")
		}
		f.onMsgAck = fn
		return nil
	}
}

// BeforeAction calls fn for each scenario Action once every message up to
// its At was published and acknowledged, before any later message is
// published: the runner performs the action there (a recall on the
// ledger). An error stops Play. Play only.
func BeforeAction(fn func(ctx context.Context, a Action) error) Option {
	return func(f *Fleet) error {
		if fn == nil {
			return errors.New("BeforeAction: nil function")
		}
		f.beforeAction = fn
		return nil
	}
}

// OnProgress calls fn with the running totals every interval while Play
// runs, and once at the end. Play only.
func OnProgress(every time.Duration, fn func(PlayStats)) Option {
	return func(f *Fleet) error {
		if fn == nil || every <= 0 {
			return errors.New("OnProgress: nil function or interval not positive")
		}
		f.progress, f.progressEvery = fn, every
		return nil
	}
}

// feedGen is the generator of a device that publishes what Play feeds it.
type feedGen struct {
	ch   chan []byte
	done <-chan struct{}
}

func (g *feedGen) next(time.Time) ([][]byte, error) {
	select {
	case p := <-g.ch:
		return [][]byte{p}, nil
	case <-g.done:
		return nil, nil
	}
}

// Play publishes a scenario's messages: one MQTT client per device (QoS 1,
// username and client ID the device ID, password from creds), one message
// in flight per device so each device's messages reach the broker in
// order, across reconnects too. With speed 0 messages go as fast as the
// broker acknowledges them; with speed N the message at virtual time At
// goes at wall time start + (At - Scenario.Start)/N. Before each Action,
// Play waits until everything before it was acknowledged and calls the
// BeforeAction hook. Play returns when every message was acknowledged,
// ctx ended, or a device cannot log in.
func Play(ctx context.Context, sc *Scenario, broker string, creds map[string]string, speed float64, opts ...Option) (PlayStats, error) {
	begin := time.Now()
	if sc == nil {
		return PlayStats{}, errors.New("play: nil scenario")
	}
	if speed < 0 {
		return PlayStats{}, fmt.Errorf("play: speed %v is negative (0 plays as fast as the broker acknowledges)", speed)
	}
	count := map[string]int{}
	for _, m := range sc.Messages {
		count[m.Device]++
	}
	cfg := Config{Broker: broker, Seed: int64(sc.Seed), Outbox: max(DefaultOutbox, len(sc.Messages))}
	for _, d := range sc.Devices {
		if count[d.ID] == 0 {
			continue
		}
		pw, ok := creds[d.ID]
		if !ok {
			return PlayStats{}, fmt.Errorf("play: no password for device %q in the credentials (username = device ID)", d.ID)
		}
		d.Username, d.Password, d.Messages, d.Interval = d.ID, pw, count[d.ID], time.Nanosecond
		cfg.Devices = append(cfg.Devices, d)
	}
	for dev := range count {
		if _, ok := creds[dev]; !ok {
			return PlayStats{}, fmt.Errorf("play: message from device %q that the scenario does not list", dev)
		}
	}
	cfg = cfg.withDefaults()
	f := &Fleet{cfg: cfg, clock: wallClock{}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(f); err != nil {
			return PlayStats{}, fmt.Errorf("play: %w", err)
		}
	}
	f.log = f.log.With("component", "firmware-sim", "scenario", sc.Name)

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Acks arrive in order per device: map them back to message indexes.
	var mu sync.Mutex
	sentIdx := map[string][]int{}
	var dispatched, acked atomic.Int64
	userAck := f.onAck
	f.onAck = func(device, topic string, payload []byte) {
		now := time.Now()
		mu.Lock()
		q := sentIdx[device]
		i := -1
		if len(q) > 0 {
			i, sentIdx[device] = q[0], q[1:]
		}
		mu.Unlock()
		acked.Add(1)
		if userAck != nil {
			userAck(device, topic, payload)
		}
		if f.onMsgAck != nil && i >= 0 {
			f.onMsgAck(i, sc.Messages[i], now)
		}
	}
	feeds := map[string]*feedGen{}
	for _, d := range cfg.Devices {
		fg := &feedGen{ch: make(chan []byte, d.Messages), done: runCtx.Done()}
		feeds[d.ID] = fg
		dev := &device{cfg: d, fleet: f, topic: d.Topic(), gen: fg, log: f.log.With("device", d.ID), interval: time.Nanosecond,
			wake: make(chan struct{}, 1), inflight: map[uint16]outMsg{}}
		f.devices = append(f.devices, dev)
	}
	f.started.Store(true)

	stats := func() PlayStats {
		st := PlayStats{Messages: len(sc.Messages), Devices: map[string]DeviceStats{}, Elapsed: time.Since(begin)}
		for _, d := range f.devices {
			s := d.snapshot()
			st.Devices[d.cfg.ID] = s
			st.Published += s.Published
			st.Acked += s.Acked
		}
		return st
	}
	var actionsDone atomic.Int64

	var wg sync.WaitGroup
	runDone := make(chan struct{})
	for _, d := range f.devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.run(runCtx)
		}()
	}
	go func() { wg.Wait(); close(runDone) }()

	// Watchdog: a device the broker keeps refusing stops the play.
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-runDone:
				return
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			for _, d := range f.devices {
				s := d.snapshot()
				if s.Connects == 0 && s.Failures >= 3 {
					cancel(fmt.Errorf("play: device %s cannot connect to %s (%d attempts: %s); check the broker address and the device's credentials", d.cfg.ID, broker, s.Failures, s.LastError))
					return
				}
			}
		}
	}()
	progDone := make(chan struct{})
	if f.progress == nil {
		close(progDone)
	} else {
		go func() {
			defer close(progDone)
			t := time.NewTicker(f.progressEvery)
			defer t.Stop()
			for {
				select {
				case <-runDone:
					return
				case <-t.C:
					st := stats()
					st.Actions = int(actionsDone.Load())
					f.progress(st)
				}
			}
		}()
	}

	actions := append([]Action(nil), sc.Actions...)
	sort.SliceStable(actions, func(i, j int) bool { return actions[i].At.Before(actions[j].At) })
	waitAcked := func() error {
		for acked.Load() < dispatched.Load() {
			select {
			case <-runCtx.Done():
				return context.Cause(runCtx)
			case <-time.After(5 * time.Millisecond):
			}
		}
		return nil
	}
	doAction := func(a Action) error {
		if err := waitAcked(); err != nil {
			return err
		}
		if f.beforeAction != nil {
			if err := f.beforeAction(runCtx, a); err != nil {
				return fmt.Errorf("play: action %s %s/%s: %w", a.Kind, a.GTIN, a.Lot, err)
			}
		}
		actionsDone.Add(1)
		f.log.Info("action performed", "kind", a.Kind, "gtin", a.GTIN, "lot", a.Lot)
		return nil
	}
	var playErr error
	ai := 0
dispatch:
	for i, m := range sc.Messages {
		for ai < len(actions) && m.At.After(actions[ai].At) {
			if playErr = doAction(actions[ai]); playErr != nil {
				break dispatch
			}
			ai++
		}
		if speed > 0 {
			due := begin.Add(time.Duration(float64(m.At.Sub(sc.Start)) / speed))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-runCtx.Done():
					playErr = context.Cause(runCtx)
					break dispatch
				case <-time.After(wait):
				}
			}
		}
		mu.Lock()
		sentIdx[m.Device] = append(sentIdx[m.Device], i)
		mu.Unlock()
		dispatched.Add(1)
		select {
		case feeds[m.Device].ch <- m.Payload:
		case <-runCtx.Done():
			playErr = context.Cause(runCtx)
			break dispatch
		}
	}
	for playErr == nil && ai < len(actions) {
		playErr = doAction(actions[ai])
		ai++
	}
	if playErr != nil {
		cancel(playErr)
	}
	<-runDone
	<-progDone
	if playErr == nil && runCtx.Err() != nil {
		playErr = context.Cause(runCtx)
	}
	st := stats()
	st.Actions = int(actionsDone.Load())
	if f.progress != nil {
		f.progress(st)
	}
	if playErr == nil && st.Acked < len(sc.Messages) {
		playErr = fmt.Errorf("play: %d of %d messages acknowledged", st.Acked, len(sc.Messages))
	}
	return st, playErr
}
