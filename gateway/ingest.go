package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

// IngestResult is the gateway's answer to an uploaded batch.
type IngestResult struct {
	Status    string `json:"status"` // "accepted" or "duplicate"
	Edge      string `json:"edge"`
	Seq       uint64 `json:"seq"`
	Events    int    `json:"events"`
	NewEvents int    `json:"newEvents"`
}

// Sources of batches.
const (
	SourceEdge    = "edge"
	SourceCapture = "capture"
)

// IngestBatch verifies a sealed batch and stores it with its events, their
// indexes and its anchoring job, all or nothing. It is idempotent by (edge,
// seq): the same batch again is a "duplicate" success; a different batch
// with the same sequence is a conflict.
func (s *Service) IngestBatch(ctx context.Context, b batch.Sealed, source string) (IngestResult, error) {
	res, err := s.ingest(ctx, b, source)
	outcome := "accepted"
	switch {
	case err != nil:
		outcome = string(KindOf(err))
		if outcome == "" {
			outcome = "error"
		}
		s.log.Warn("batch refused", "edge", b.Header.Edge, "seq", b.Header.Seq, "reason", outcome, "err", err)
	case res.Status == "duplicate":
		outcome = "duplicate"
	}
	s.m.batches.WithLabelValues(outcome).Inc()
	return res, err
}

func (s *Service) ingest(ctx context.Context, b batch.Sealed, source string) (IngestResult, error) {
	h := b.Header
	res := IngestResult{Edge: h.Edge, Seq: h.Seq, Events: len(b.Events)}
	if err := h.Validate(); err != nil {
		return res, errf(KindInvalid, "malformed batch header", "%w", err)
	}
	if uint64(len(b.Events)) != h.Count {
		return res, errf(KindInvalid, "event count mismatch", "header says %d events, the batch holds %d", h.Count, len(b.Events))
	}
	dev, err := s.keys.Get(ctx, h.Edge)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return res, errf(KindUnknownEdge, "unknown edge", "edge %q is not registered on the ledger; register its public key first (tracegate up does this for its own edge)", h.Edge)
		}
		return res, fromLedger("cannot read the edge's key from the ledger", err)
	}
	key, err := base64.StdEncoding.DecodeString(dev.PublicKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return res, errf(KindUnverified, "bad key on the ledger", "edge %s has no usable Ed25519 key registered", h.Edge)
	}
	if err := h.Verify(key, b.Signature); err != nil {
		// The key may have been registered again since we cached it.
		s.keys.Forget(h.Edge)
		return res, errf(KindUnverified, "signature does not verify", "%w: against the key registered for edge %s", err, h.Edge)
	}
	hh, err := h.Hash()
	if err != nil {
		return res, errf(KindInvalid, "malformed batch header", "%w", err)
	}
	now := s.now().UTC()
	events := make([]store.IndexedEvent, len(b.Events))
	hashes := make([][32]byte, len(b.Events))
	var from, to time.Time
	for i, raw := range b.Events {
		ie, err := indexEvent(raw, now)
		if err != nil {
			return res, errf(KindUnverified, "event does not verify", "event %d of batch %s #%d: %w", i, h.Edge, h.Seq, err)
		}
		ie.Record.Edge, ie.Record.Seq, ie.Record.Leaf = h.Edge, h.Seq, uint64(i)
		events[i], hashes[i] = ie, ie.Hash
		t := ie.Record.EventTime
		if i == 0 || t.Before(from) {
			from = t
		}
		if i == 0 || t.After(to) {
			to = t
		}
	}
	root, err := batch.Root(hashes)
	if err != nil {
		return res, errf(KindInvalid, "empty batch", "%w", err)
	}
	if hex.EncodeToString(root[:]) != h.Root {
		return res, errf(KindUnverified, "root does not match the events", "%w: computed %x, header says %s", batch.ErrRoot, root, h.Root)
	}
	if batch.FormatTime(from) != h.From || batch.FormatTime(to) != h.To {
		return res, errf(KindUnverified, "time range does not match the events", "events span %s..%s, header says %s..%s", batch.FormatTime(from), batch.FormatTime(to), h.From, h.To)
	}
	leaves := make([]byte, 0, 32*len(hashes))
	for _, x := range hashes {
		leaves = append(leaves, x[:]...)
	}
	rec := store.BatchRecord{Header: h, HeaderHash: hh, Signature: b.Signature, Leaves: leaves, ReceivedAt: now, Source: source}

	s.ingMu.Lock()
	dup, n, err := s.st.PutBatch(rec, events)
	s.ingMu.Unlock()
	var oe *store.OrderError
	var ce *store.ChainError
	switch {
	case errors.As(err, &oe):
		return res, &Error{Kind: KindOutOfOrder, Title: "batch out of order", Detail: oe.Error(), Extra: map[string]any{"expectedSeq": oe.Expected}, Err: err}
	case errors.As(err, &ce):
		return res, &Error{Kind: KindUnverified, Title: "header chain broken", Detail: ce.Error(), Err: err}
	case errors.Is(err, store.ErrConflict):
		return res, &Error{Kind: KindConflict, Title: "a different batch has this sequence", Detail: err.Error(), Err: err}
	case errors.Is(err, store.ErrTooBig):
		return res, &Error{Kind: KindTooLarge, Title: "batch too large", Detail: err.Error(), Err: err}
	case err != nil:
		return res, &Error{Kind: KindUnavailable, Title: "store failed", Detail: err.Error(), Err: err}
	}
	if dup {
		res.Status = "duplicate"
		return res, nil
	}
	res.Status, res.NewEvents = "accepted", n
	s.m.events.Add(float64(n))
	s.afterIngest(ctx, events)
	select {
	case s.wakeAn <- struct{}{}:
	default:
	}
	s.bus.Publish(Update{Type: "batch", Data: map[string]any{"edge": h.Edge, "seq": h.Seq, "count": h.Count, "newEvents": n, "source": source}})
	s.log.Debug("batch accepted", "edge", h.Edge, "seq", h.Seq, "events", n)
	return res, nil
}

// indexEvent parses one uploaded event, checks its eventID against its
// CBV 2.0 hash and extracts what it is indexed by.
func indexEvent(raw json.RawMessage, recordTime time.Time) (store.IndexedEvent, error) {
	var ie store.IndexedEvent
	ev, err := parseEvent(raw)
	if err != nil {
		return ie, err
	}
	h, err := epcis.Hash(ev, nil)
	if err != nil {
		return ie, fmt.Errorf("hash: %w", err)
	}
	if id, ok := ev["eventID"].(string); ok {
		want, err := epcis.ParseEventID(id)
		if err != nil || want != h {
			return ie, fmt.Errorf("eventID %q is not the event's CBV 2.0 hash %s", id, epcis.EventID(h))
		}
	}
	t, err := ev.Time()
	if err != nil {
		return ie, fmt.Errorf("eventTime: %w", err)
	}
	ie.Hash = h
	ie.Record = store.EventRecord{
		EventID: epcis.EventID(h), Event: raw, EventTime: t.UTC(), RecordTime: recordTime,
		Type: ev.Type(), BizStep: ev.BizStep(),
	}
	for _, e := range append(ev.EPCs(), ev.Classes()...) {
		ie.EPCs = append(ie.EPCs, CanonicalID(e))
	}
	for _, l := range ev.Lots() {
		ie.Lots = append(ie.Lots, store.LotRef{GTIN: l.GTIN, Lot: l.Lot})
	}
	if lot, ok := ilmdLot(ev); ok && ev.Action() == "ADD" {
		ie.Serials = map[string]store.LotRef{}
		for _, e := range ev.EPCs() {
			if g, err := gtinOf(e); err == nil && g == lot.GTIN {
				ie.Serials[CanonicalID(e)] = lot
			}
		}
	}
	ie.BizLocation = ev.BizLocation()
	ie.ReadPoint = ev.ReadPoint()
	ie.Action = ev.Action()
	ie.Disposition = ev.Disposition()
	if ev.Type() == "AggregationEvent" {
		if p, ok := ev["parentID"].(string); ok && p != "" {
			a := &store.Aggregation{Action: ev.Action(), Parent: CanonicalID(p)}
			if kids, ok := ev["childEPCs"].([]any); ok {
				for _, k := range kids {
					if ks, ok := k.(string); ok && ks != "" {
						a.Children = append(a.Children, CanonicalID(ks))
					}
				}
			}
			ie.Aggregation = a
		}
	}
	ie.Sensor = sensorValues(ev)
	return ie, nil
}

// sensorValues extracts the temperature and humidity of a sensor event and
// what the sensor watches: its business location (else its read point) and
// the objects it is attached to (its epcList, e.g. a pallet or a truck).
func sensorValues(ev epcis.Event) *store.SensorValues {
	list, ok := ev["sensorElementList"].([]any)
	if !ok || len(list) == 0 {
		return nil
	}
	sv := &store.SensorValues{}
	if s, ok := ev["tg:sensor"].(string); ok {
		sv.Sensor = s
	}
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		if md, ok := m["sensorMetadata"].(map[string]any); ok && sv.Sensor == "" {
			if d, ok := md["deviceID"].(string); ok {
				sv.Sensor = d
			}
		}
		reports, _ := m["sensorReport"].([]any)
		for _, r := range reports {
			rm, ok := r.(map[string]any)
			if !ok {
				continue
			}
			v, ok := jsonNumber(rm["value"])
			if !ok {
				continue
			}
			typ, _ := rm["type"].(string)
			uom, _ := rm["uom"].(string)
			switch strings.TrimPrefix(strings.TrimPrefix(typ, "gs1:"), "https://gs1.org/voc/") {
			case "Temperature":
				switch uom {
				case "", "CEL":
				case "FAH":
					v = (v - 32) * 5 / 9
				case "KEL":
					v -= 273.15
				default:
					continue
				}
				if sv.TempC == nil {
					sv.TempC = &v
				}
			case "RelativeHumidity":
				if uom != "" && uom != "A93" && uom != "P1" {
					continue
				}
				if sv.Humidity == nil {
					sv.Humidity = &v
				}
			}
		}
	}
	if sv.TempC == nil && sv.Humidity == nil {
		return nil
	}
	if sv.Sensor == "" {
		sv.Sensor = ev.ReadPoint()
	}
	sv.Where = ev.BizLocation()
	if sv.Where == "" {
		sv.Where = ev.ReadPoint()
	}
	if loc := ev.BizLocation(); loc != "" {
		sv.Subjects = append(sv.Subjects, loc)
	} else if rp := ev.ReadPoint(); rp != "" {
		sv.Subjects = append(sv.Subjects, rp)
	}
	for _, e := range ev.EPCs() {
		sv.Subjects = append(sv.Subjects, CanonicalID(e))
	}
	return sv
}

func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// ilmdLot returns the lot an event's ILMD (instance/lot master data)
// assigns, with the GTIN of the event's first serialised EPC: what a
// commissioning event says about the packs it creates.
func ilmdLot(ev epcis.Event) (store.LotRef, bool) {
	ilmd, ok := ev["ilmd"].(map[string]any)
	if !ok {
		return store.LotRef{}, false
	}
	var lot string
	for k, v := range ilmd {
		if s, ok := v.(string); ok && (k == "cbvmda:lotNumber" || k == "urn:epcglobal:cbv:mda:lotNumber" || k == "urn:epcglobal:cbv:mda#lotNumber") {
			lot = s
		}
	}
	if lot == "" {
		return store.LotRef{}, false
	}
	for _, e := range ev.EPCs() {
		if g, err := gtinOf(e); err == nil {
			return store.LotRef{GTIN: g, Lot: lot}, true
		}
	}
	return store.LotRef{}, false
}

// gtinOf returns the GTIN-14 of a serialised or lot-level EPC in URN or
// Digital Link form.
func gtinOf(id string) (string, error) {
	if e, err := epc.ParseURI(id); err == nil {
		return e.GTIN()
	}
	dl, err := epc.ParseDigitalLink(id)
	if err != nil {
		return "", err
	}
	if dl.GTIN == "" {
		return "", fmt.Errorf("%s names no GTIN", id)
	}
	return dl.GTIN, nil
}

func parseEvent(raw json.RawMessage) (epcis.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ev epcis.Event
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if ev == nil {
		return nil, errors.New("event is null")
	}
	return ev, nil
}

// CanonicalID is the form identifiers are indexed and queried by: the GS1
// Digital Link URI for EPCs (so URN and Digital Link forms of one pack
// meet), the input itself otherwise.
func CanonicalID(id string) string {
	if dl, err := epc.ToDigitalLink(id); err == nil && dl != "" {
		return dl
	}
	return id
}

// deviceCache keeps registered edge keys read from the ledger.
type deviceCache struct {
	led ledger.Client
	id  ledger.Identity
	mu  sync.Mutex
	m   map[string]deviceEntry
}

type deviceEntry struct {
	d  ledger.Device
	at time.Time
}

func newDeviceCache(l ledger.Client, id ledger.Identity) *deviceCache {
	return &deviceCache{led: l, id: id, m: map[string]deviceEntry{}}
}

// Get returns a device, from cache when fresh (5 minutes).
func (c *deviceCache) Get(ctx context.Context, id string) (ledger.Device, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && time.Since(e.at) < 5*time.Minute {
		return e.d, nil
	}
	d, err := c.led.Device(ctx, c.id, id)
	if err != nil {
		return d, err
	}
	c.mu.Lock()
	c.m[id] = deviceEntry{d: d, at: time.Now()}
	c.mu.Unlock()
	return d, nil
}

// Forget drops a cached device.
func (c *deviceCache) Forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// localUploader hands the capture sealer's batches straight to the
// gateway, the same verification as over HTTP.
type localUploader struct{ s *Service }

func (u localUploader) Upload(ctx context.Context, b batch.Sealed) error {
	_, err := u.s.IngestBatch(ctx, b, SourceCapture)
	return err
}
