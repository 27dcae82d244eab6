package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tracegate/tracegate/edge/decode"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/edge/journal"
)

// processChunk is how many inbox messages one journal step takes.
const processChunk = 512

// runProcessor turns inbox messages into events, one atomic journal step
// per chunk, and closes RFID smoothing windows when they are due.
func (a *Agent) runProcessor(ctx context.Context) error {
	tick := time.NewTicker(a.windowTick())
	defer tick.Stop()
	for {
		for {
			n, err := a.processOnce(processChunk)
			if err != nil {
				a.log.Error("process inbox", "err", err)
				break
			}
			if n < processChunk {
				break
			}
		}
		if err := a.closeDueWindows(false); err != nil {
			a.log.Error("close smoothing windows", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.wakeProcess:
		case <-tick.C:
		}
	}
}

func (a *Agent) windowTick() time.Duration {
	w := a.cfg.Smoothing.Window / 4
	if w <= 0 || w > 250*time.Millisecond {
		w = 250 * time.Millisecond
	}
	if w < 10*time.Millisecond {
		w = 10 * time.Millisecond
	}
	return w
}

// stepStats counts what one step did, applied to metrics after it committed.
type stepStats struct {
	events     map[string]int
	dupRaw     int
	dupEvent   int
	dead       map[string]int
	reads      int
	unmapped   int
	status     []decode.Status
	newPending bool
}

func newStepStats() *stepStats {
	return &stepStats{events: map[string]int{}, dead: map[string]int{}}
}

func (a *Agent) applyStats(s *stepStats) {
	for k, n := range s.events {
		a.m.events.WithLabelValues(k).Add(float64(n))
		a.nEvents.Add(uint64(n))
	}
	for k, n := range s.dead {
		a.m.deadLetters.WithLabelValues(k).Add(float64(n))
	}
	a.m.duplicates.WithLabelValues("raw").Add(float64(s.dupRaw))
	a.m.duplicates.WithLabelValues("event").Add(float64(s.dupEvent))
	a.m.reads.Add(float64(s.reads))
	a.m.unmapped.Add(float64(s.unmapped))
	a.countStatus(s.status)
	if s.newPending {
		a.mu.Lock()
		if a.pendingAt.IsZero() {
			a.pendingAt = a.now()
		}
		a.mu.Unlock()
		wake(a.wakeSeal)
	}
}

// processOnce processes up to max inbox messages in one journal step.
func (a *Agent) processOnce(max int) (int, error) {
	a.procMu.Lock()
	defer a.procMu.Unlock()
	entries, err := a.j.ReadInbox(max)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	// Decoding and hashing need no journal: do them on every core first,
	// then apply the results in one short transaction.
	prepared := a.prepareAll(entries)
	for len(prepared) > 0 {
		st := newStepStats()
		// Windows are changed in a copy and swapped in only after commit,
		// so a failed step leaves memory as it was.
		win := a.cloneWindows()
		err := a.j.Update(func(tx *journal.Tx) error {
			for i := range prepared {
				if err := a.applyEntry(tx, win, st, &prepared[i]); err != nil {
					return err
				}
				if err := tx.ConsumeInbox(prepared[i].entry.Seq); err != nil {
					return err
				}
			}
			return nil
		})
		if errors.Is(err, journal.ErrTooBig) && len(prepared) > 1 {
			prepared = prepared[:len(prepared)/2]
			continue
		}
		if err != nil {
			return 0, err
		}
		a.setWindows(win)
		a.applyStats(st)
		return len(prepared), nil
	}
	return 0, nil
}

// prepareAll decodes and hashes entries in parallel.
func (a *Agent) prepareAll(entries []journal.InboxEntry) []preparedEntry {
	out := make([]preparedEntry, len(entries))
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(entries) {
					return
				}
				out[i] = a.prepareEntry(entries[i])
			}
		}()
	}
	wg.Wait()
	return out
}

func (a *Agent) cloneWindows() map[string]*journal.Window {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]*journal.Window, len(a.windows))
	for k, w := range a.windows {
		c := *w
		c.Antennas = slices.Clone(w.Antennas)
		out[k] = &c
	}
	return out
}

func (a *Agent) setWindows(w map[string]*journal.Window) {
	a.mu.Lock()
	a.windows = w
	a.mu.Unlock()
	a.m.windows.Set(float64(len(w)))
}

func (a *Agent) deadLetter(tx *journal.Tx, st *stepStats, raw journal.Raw, index int, reason, msg string) error {
	st.dead[reason]++
	a.log.Warn("dead letter", "topic", raw.Topic, "client", raw.ClientID, "index", index, "reason", reason, "detail", msg)
	return tx.DeadLetter(journal.DeadLetter{
		Topic: raw.Topic, ClientID: raw.ClientID, Payload: raw.Payload, Index: index,
		Reason: reason + ": " + msg, Stage: "decode", Received: raw.Received,
	})
}

// preparedEntry is an inbox entry decoded, with its sensor and scanner
// events already built and hashed.
type preparedEntry struct {
	entry    journal.InboxEntry
	topic    decode.Topic
	terr     error // topic error
	derr     error // payload error
	res      decode.Result
	key      [32]byte
	ttl      time.Duration
	events   []preparedEvent
	unmapped int
}

type preparedEvent struct {
	kind string
	p    Prepared
	err  error // the event could not be built or hashed
	idx  int   // element index, for dead letters
}

// prepareEntry does the pure part of processing: topic, payload, events
// and their hashes.
func (a *Agent) prepareEntry(e journal.InboxEntry) preparedEntry {
	pe := preparedEntry{entry: e}
	raw := e.Raw
	pe.topic, pe.terr = decode.ParseTopic(raw.Topic)
	pe.derr = pe.terr
	if pe.terr == nil {
		pe.res, pe.derr = decode.Decode(pe.topic, raw.Payload, raw.Received, a.limits)
	}
	// A QoS 1 re-send carries the same bytes: drop it before it can become
	// a second event (an RFID read would otherwise be counted twice). When
	// every reading carries its device time, equal bytes are the same
	// readings. Without device times two real readings can be byte-equal
	// ("temperature": 4.2 twice), so only a re-send of the same packet
	// (same client and packet ID) counts as a duplicate, for a short while.
	pe.key, pe.ttl = rawKey(raw, pe.derr == nil && !pe.res.Timed())
	if pe.derr != nil {
		return pe
	}
	for i, smp := range pe.res.Samples {
		ev, ctx, unmapped, err := a.sensorEvent(pe.topic, smp)
		if unmapped {
			pe.unmapped++
		}
		pv := preparedEvent{kind: "sensor", idx: i, err: err}
		if err == nil {
			pv.p, pv.err = prepareOne(ev, ctx)
		}
		pe.events = append(pe.events, pv)
	}
	for i, se := range pe.res.Events {
		pv := preparedEvent{kind: "scanner", idx: i}
		pv.p, pv.err = prepareOne(se.Event, se.Context)
		pe.events = append(pe.events, pv)
	}
	return pe
}

func prepareOne(ev epcis.Event, ctx epcis.Context) (Prepared, error) {
	h, id, js, t, err := Finalise(ev, ctx)
	return Prepared{Hash: h, ID: id, Time: t, JSON: js}, err
}

// applyEntry writes what a prepared entry became, in the processor's
// transaction.
func (a *Agent) applyEntry(tx *journal.Tx, win map[string]*journal.Window, st *stepStats, pe *preparedEntry) error {
	raw := pe.entry.Raw
	seen, err := tx.SeenRaw(pe.key, pe.ttl)
	if err != nil {
		return err
	}
	if seen {
		st.dupRaw++
		return nil
	}
	if pe.terr != nil {
		return a.deadLetter(tx, st, raw, -1, decode.ReasonTopic, pe.terr.Error())
	}
	if pe.derr != nil {
		reason := decode.ReasonJSON
		var de *decode.Error
		if errors.As(pe.derr, &de) {
			reason = de.Reason
		}
		return a.deadLetter(tx, st, raw, -1, reason, pe.derr.Error())
	}
	st.unmapped += pe.unmapped
	st.status = append(st.status, pe.res.Status...)
	for _, r := range pe.res.Rejects {
		if err := a.deadLetter(tx, st, raw, r.Index, r.Reason, r.Msg); err != nil {
			return err
		}
	}
	for _, r := range pe.res.Reads {
		st.reads++
		if err := a.addRead(tx, win, st, pe.topic, raw, r); err != nil {
			return err
		}
	}
	for _, pv := range pe.events {
		if pv.err != nil {
			reason := decode.ReasonValue
			if pv.kind == "scanner" {
				reason = decode.ReasonEPCIS
			}
			var de *decode.Error
			if errors.As(pv.err, &de) {
				reason = de.Reason // e.g. unmapped-device from sensorEvent
			}
			idx := pv.idx
			if len(pe.events) == 1 {
				idx = -1
			}
			if err := a.deadLetter(tx, st, raw, idx, reason, pv.err.Error()); err != nil {
				return err
			}
			continue
		}
		if err := a.appendPrepared(tx, st, pv.kind, pv.p); err != nil {
			return err
		}
	}
	return nil
}

// untimedDedupeTTL is how long a re-send of a message without device
// times is recognised.
const untimedDedupeTTL = 10 * time.Minute

// rawKey is the duplicate-detection key of a message.
func rawKey(raw journal.Raw, untimed bool) ([32]byte, time.Duration) {
	h := sha256.New()
	h.Write([]byte(raw.Topic))
	h.Write([]byte{0})
	h.Write(raw.Payload)
	if !untimed {
		var k [32]byte
		copy(k[:], h.Sum(nil))
		return k, 0
	}
	fmt.Fprintf(h, "\x00%s\x00%d", raw.ClientID, raw.PacketID)
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k, untimedDedupeTTL
}

// invalidEvent is an event that cannot be hashed or stored.
type invalidEvent struct{ err error }

func (e *invalidEvent) Error() string { return e.err.Error() }

// storeEvent hashes ev, sets its eventID to the hash, gives it its own
// @context and appends it unless it is a duplicate.
func (a *Agent) storeEvent(tx *journal.Tx, st *stepStats, kind string, ev epcis.Event, ctx epcis.Context) error {
	p, err := prepareOne(ev, ctx)
	if err != nil {
		return &invalidEvent{err}
	}
	return a.appendPrepared(tx, st, kind, p)
}

// appendPrepared appends a prepared event unless it is a duplicate.
func (a *Agent) appendPrepared(tx *journal.Tx, st *stepStats, kind string, p Prepared) error {
	isNew, err := tx.AppendEvent(p.Hash, p.Time, p.JSON)
	if err != nil {
		return err
	}
	if !isNew {
		st.dupEvent++
		a.log.Debug("duplicate event dropped", "eventID", p.ID)
		return nil
	}
	st.events[kind]++
	st.newPending = true
	return nil
}

// Finalise computes an event's CBV 2.0 hash and returns the standalone form
// that is stored, sealed and proven: eventID set to the hash, its own
// @context so anyone can re-hash it alone.
func Finalise(ev epcis.Event, ctx epcis.Context) (hash [32]byte, eventID string, js []byte, t time.Time, err error) {
	// Hash exactly what is stored. An event already in decoded-JSON form
	// (what NewObjectEvent and ParseDocument give) hashes the same after a
	// JSON round trip; anything else (Go ints, float64s, slices) is
	// round-tripped first so the hash sees what any reader will see.
	var sa epcis.Event
	if _, own := ev["@context"]; own && ctx == nil {
		// Already standalone (the edge's own events carry their context).
		sa = make(epcis.Event, len(ev))
		for k, v := range ev {
			sa[k] = v
		}
	} else {
		sa = ev.Standalone(ctx)
	}
	delete(sa, "eventID") // a client's own eventID is replaced by the hash
	raw, err := json.Marshal(sa)
	if err != nil {
		return hash, "", nil, t, fmt.Errorf("encode event: %w", err)
	}
	st := epcis.Event(sa)
	if !decodedForm(map[string]any(sa), 0) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		st = nil
		if err := dec.Decode(&st); err != nil {
			return hash, "", nil, t, fmt.Errorf("decode event: %w", err)
		}
	}
	t, err = st.Time()
	if err != nil {
		return hash, "", nil, t, fmt.Errorf("eventTime: %w", err)
	}
	hash, err = epcis.Hash(st, nil)
	if err != nil {
		return hash, "", nil, t, fmt.Errorf("event hash: %w", err)
	}
	eventID = epcis.EventID(hash)
	// Store the bytes that were hashed with the eventID spliced in front,
	// rather than encoding the whole event again.
	js = make([]byte, 0, len(raw)+len(eventID)+14)
	js = append(js, `{"eventID":`...)
	js = strconv.AppendQuote(js, eventID)
	if len(raw) > 2 {
		js = append(js, ',')
	}
	js = append(js, raw[1:]...)
	return hash, eventID, js, t, nil
}

// decodedForm reports whether v is what encoding/json (with UseNumber)
// decodes: maps, slices of any, valid UTF-8 strings, json.Numbers, bools
// and nil.
func decodedForm(v any, depth int) bool {
	if depth > 64 {
		return false
	}
	switch x := v.(type) {
	case nil, bool, json.Number:
		return true
	case string:
		return utf8.ValidString(x)
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !decodedForm(e, depth+1) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !decodedForm(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// Prepared is an event ready to be stored: hashed, with its eventID set and
// its own @context (see Finalise).
type Prepared struct {
	Hash [32]byte
	ID   string
	Time time.Time
	JSON []byte
}

// Prepare finalises events of one document.
func Prepare(evs []epcis.Event, ctx epcis.Context) ([]Prepared, error) {
	out := make([]Prepared, len(evs))
	for i, ev := range evs {
		h, id, js, t, err := Finalise(ev, ctx)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out[i] = Prepared{Hash: h, ID: id, Time: t, JSON: js}
	}
	return out, nil
}

// Append stores prepared events durably in one journal step (events that
// were stored before are dropped as duplicates) and returns how many were
// new. The gateway's capture path uses it.
func (a *Agent) Append(ctx context.Context, evs []Prepared) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := a.j.CheckDisk(); err != nil {
		return 0, err
	}
	st := newStepStats()
	err := a.j.Update(func(tx *journal.Tx) error {
		for _, e := range evs {
			isNew, err := tx.AppendEvent(e.Hash, e.Time, e.JSON)
			if err != nil {
				return err
			}
			if isNew {
				st.events["capture"]++
				st.newPending = true
			} else {
				st.dupEvent++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store captured events: %w", err)
	}
	a.applyStats(st)
	return st.events["capture"], nil
}
