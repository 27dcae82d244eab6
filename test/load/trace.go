package load

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/backend"
	"github.com/tracegate/tracegate/ledger/batch"
)

// TraceOptions sizes a trace-forward run.
type TraceOptions struct {
	Events  int    // events to index (about)
	LotSize int    // packs per lot
	Samples int    // lots traced
	Dir     string // working directory (a temporary one when empty)
}

// DefaultTraceOptions are the sizes `tracegate bench trace` uses.
var DefaultTraceOptions = TraceOptions{Events: 1_000_000, LotSize: 1000, Samples: 20}

// TraceReport is the outcome of a trace-forward run.
type TraceReport struct {
	Events        int     `json:"events"`
	Lots          int     `json:"lots"`
	Packs         int     `json:"packs"`
	LoadSeconds   float64 `json:"loadSeconds"`
	IndexPerSec   float64 `json:"indexedEventsPerSec"`
	StoreBytes    int64   `json:"storeBytes"`
	TraceP50ms    float64 `json:"traceP50ms"` // TraceForward of one lot
	TraceP99ms    float64 `json:"traceP99ms"`
	WalkP50ms     float64 `json:"lotEventWalkP50ms"` // baseline: read every event of the lot once
	Ratio         float64 `json:"ratio"`             // trace / walk (p50)
	LotEvents     int     `json:"eventsPerLot"`
	Holdings      int     `json:"holdingsPerLot"`
	LotCustodyP50 float64 `json:"lotCustodyP50ms"`
}

// The sites of the synthetic supply chain.
var traceSites = []ledger.Site{
	{GLN: "0614141000098", Org: "MeridianMSP", Name: "Plant", Kind: ledger.SiteFactory, Lat: 53.55, Lon: 9.99},
	{GLN: "4012345000016", Org: "NorthWarehouseMSP", Name: "Warehouse", Kind: ledger.SiteWarehouse, Lat: 52.37, Lon: 9.73},
	{GLN: "4000002000011", Org: "CityHospitalMSP", Name: "Hospital", Kind: ledger.SiteHospital, Lat: 52.52, Lon: 13.40},
}

const (
	tracePlant    = "urn:epc:id:sgln:0614141.00009.0"
	traceWH       = "urn:epc:id:sgln:4012345.00001.0"
	traceDockIn   = "urn:epc:id:sgln:4012345.00001.1"
	traceDockOut  = "urn:epc:id:sgln:4012345.00001.2"
	traceCold     = "urn:epc:id:sgln:4012345.00001.3"
	traceHospital = "urn:epc:id:sgln:4000002.00001.0"
)

// Trace indexes a synthetic supply chain of about o.Events events through
// the gateway's real ingest path (signed batches, CBV hashes checked,
// Badger indexes) and times trace forward of sampled lots against a
// baseline in the same run: one walk over every indexed event of the lot.
func Trace(ctx context.Context, o TraceOptions, out io.Writer) (TraceReport, error) {
	var r TraceReport
	if o.LotSize <= 0 || o.Events <= 0 {
		return r, fmt.Errorf("trace: events and lot size must be positive")
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "tracegate-bench-trace-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	orgs := []string{"MeridianMSP", "NorthWarehouseMSP", "CityHospitalMSP"}
	lcfg := backend.Config{Kind: ledger.KindEmbedded, Orgs: orgs}
	if err := lcfg.Validate(dir); err != nil {
		return r, err
	}
	led, err := backend.Open(lcfg, log)
	if err != nil {
		return r, err
	}
	defer led.Close()
	svc, err := gateway.New(gateway.Config{DataDir: filepath.Join(dir, "gateway"), Reader: ledger.Identity{Org: orgs[1], User: ledger.AdminUser}}, led,
		gateway.WithLogger(log), gateway.WithoutAnalysis())
	if err != nil {
		return r, err
	}
	defer svc.Close()
	c := svc.Ledger()
	admin := func(o string) ledger.Identity { return ledger.Identity{Org: o, User: ledger.AdminUser} }
	kinds := []string{ledger.OrgManufacturer, ledger.OrgWarehouse, ledger.OrgHospital}
	for i, org := range orgs {
		if _, err := c.RegisterOrg(ctx, admin(org), ledger.Org{ID: org, Name: org, Kind: kinds[i]}); err != nil {
			return r, err
		}
	}
	for _, s := range traceSites {
		if _, err := c.RegisterSite(ctx, admin(s.Org), s); err != nil {
			return r, err
		}
	}
	pub, key, _ := ed25519.GenerateKey(nil)
	if _, err := c.RegisterDevice(ctx, admin(orgs[1]), ledger.Device{ID: "edge-bench", Org: orgs[1], Kind: ledger.DeviceEdge, PublicKey: base64.StdEncoding.EncodeToString(pub)}); err != nil {
		return r, err
	}

	// Per lot: commissioning in 10 events, packing into pallets of 100,
	// pallets shipped and received, every pack read at the warehouse's
	// dock in and dock out and at the hospital (some still in transit,
	// some kept at the warehouse), and cold-room readings.
	perLot := 10 + o.LotSize/100*3 + o.LotSize*3 + 1000
	lots := max(1, (o.Events+perLot-1)/perLot) // at least o.Events
	r.Lots, r.Packs, r.LotEvents = lots, lots*o.LotSize, perLot
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &batcher{svc: svc, key: key, edge: "edge-bench", size: 1000}
	start := time.Now()
	lastReport := start
	rng := rand.New(rand.NewPCG(1, 2))
	for l := range lots {
		lot := fmt.Sprintf("L%05d", l)
		t0 := base.Add(time.Duration(l) * 6 * time.Hour)
		packs := make([]string, o.LotSize)
		for i := range packs {
			packs[i] = fmt.Sprintf("urn:epc:id:sgtin:0614141.012345.%d", l*o.LotSize+i+1)
		}
		for i := 0; i < o.LotSize; i += 100 {
			ev := epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "ADD", EPCs: packs[i:min(i+100, o.LotSize)], Time: t0.Add(time.Duration(i) * time.Millisecond),
				BizStep: "commissioning", Disposition: "active", ReadPoint: tracePlant, BizLocation: tracePlant})
			ev["ilmd"] = map[string]any{"cbvmda:lotNumber": lot}
			ev["@context"] = []any{epcis.StandardContextIRI, map[string]any{"cbvmda": "urn:epcglobal:cbv:mda:"}}
			if err := b.add(ctx, ev); err != nil {
				return r, err
			}
		}
		for p := 0; p < o.LotSize/100; p++ {
			sscc := fmt.Sprintf("urn:epc:id:sscc:0614141.%010d", l*100+p)
			kids := make([]any, 0, 100)
			for _, x := range packs[p*100 : (p+1)*100] {
				kids = append(kids, x)
			}
			at := t0.Add(time.Hour + time.Duration(p)*time.Second)
			agg := epcis.Event{"type": "AggregationEvent", "eventTime": at.Format(time.RFC3339Nano), "eventTimeZoneOffset": "+00:00",
				"parentID": sscc, "childEPCs": kids, "action": "ADD", "bizStep": "packing", "readPoint": map[string]any{"id": tracePlant}, "bizLocation": map[string]any{"id": tracePlant}}
			ship := epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{sscc}, Time: at.Add(time.Minute), BizStep: "shipping", Disposition: "in_transit", ReadPoint: tracePlant})
			recv := epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{sscc}, Time: at.Add(2 * time.Hour), BizStep: "receiving", Disposition: "in_progress", ReadPoint: traceDockIn, BizLocation: traceWH})
			for _, ev := range []epcis.Event{agg, ship, recv} {
				if err := b.add(ctx, ev); err != nil {
					return r, err
				}
			}
		}
		for i, x := range packs {
			at := t0.Add(3*time.Hour + time.Duration(i)*time.Second)
			evs := []epcis.Event{epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at, BizStep: "storing", Disposition: "in_progress", ReadPoint: traceCold, BizLocation: traceCold})}
			switch {
			case i%10 < 6: // shipped and received at the hospital
				evs = append(evs,
					epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at.Add(2 * time.Hour), BizStep: "shipping", Disposition: "in_transit", ReadPoint: traceDockOut, BizLocation: traceWH}),
					epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at.Add(5 * time.Hour), BizStep: "receiving", Disposition: "in_progress", ReadPoint: traceHospital, BizLocation: traceHospital}))
			case i%10 < 8: // on the road
				evs = append(evs,
					epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at.Add(2 * time.Hour), BizStep: "shipping", Disposition: "in_transit", ReadPoint: traceDockOut, BizLocation: traceWH}),
					epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at.Add(2*time.Hour + time.Minute), BizStep: "loading", Disposition: "in_transit", ReadPoint: traceDockOut, BizLocation: traceWH}))
			default: // still at the warehouse, counted twice
				evs = append(evs,
					epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at.Add(time.Hour), BizStep: "inspecting", Disposition: "in_progress", ReadPoint: traceCold, BizLocation: traceCold}),
					epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", EPCs: []string{x}, Time: at.Add(2 * time.Hour), BizStep: "storing", Disposition: "in_progress", ReadPoint: traceCold, BizLocation: traceCold}))
			}
			for _, ev := range evs {
				if err := b.add(ctx, ev); err != nil {
					return r, err
				}
			}
		}
		for i := range 1000 {
			at := t0.Add(time.Duration(i) * 20 * time.Second)
			c := 4 + rng.Float64()
			ev := epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", Time: at, BizStep: "sensor_reporting", ReadPoint: traceCold, BizLocation: traceCold,
				Sensor:     &epcis.SensorElement{Time: at, DeviceID: "urn:tracegate:device:wh1:sensor:cold-1", Reports: []epcis.SensorReport{{Type: "gs1:Temperature", Value: float64(int(c*100)) / 100, UOM: "CEL"}}},
				Extensions: map[string]any{"tg:sensor": "wh1/cold-1"}})
			if err := b.add(ctx, ev); err != nil {
				return r, err
			}
		}
		if time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			el := time.Since(start).Seconds()
			fmt.Fprintf(out, "bench trace: indexed %d of ~%d events (%d of %d lots), %.0f events/s\n", b.total, lots*perLot, l+1, lots, float64(b.total)/el)
		}
	}
	if err := b.flush(ctx); err != nil {
		return r, err
	}
	r.Events = b.total
	r.LoadSeconds = time.Since(start).Seconds()
	r.IndexPerSec = float64(r.Events) / r.LoadSeconds
	r.StoreBytes, _ = dirBytes(filepath.Join(dir, "gateway", "store"))
	fmt.Fprintf(out, "bench trace: %d events indexed in %.0f s; tracing %d lots …\n", r.Events, r.LoadSeconds, o.Samples)

	var traces, walks, custody []float64
	for i := range o.Samples {
		lot := fmt.Sprintf("L%05d", rng.IntN(lots))
		if i == 0 {
			lot = fmt.Sprintf("L%05d", lots/2)
		}
		t := time.Now()
		tr, err := svc.TraceForward(ctx, gtinOfTrace(), lot, false)
		if err != nil {
			return r, err
		}
		traces = append(traces, ms(time.Since(t)))
		if tr.Packs != o.LotSize {
			return r, fmt.Errorf("trace of lot %s found %d packs, want %d", lot, tr.Packs, o.LotSize)
		}
		r.Holdings = len(tr.Holdings)
		t = time.Now()
		n := 0
		var after []byte
		for {
			recs, next, err := svc.Store().Walk(store.Scan{Index: store.IdxLot, Value: store.LotIndexValue(store.LotRef{GTIN: gtinOfTrace(), Lot: lot}), After: after, Limit: 5000}, nil)
			if err != nil {
				return r, err
			}
			n += len(recs)
			if next == nil {
				break
			}
			after = next
		}
		walks = append(walks, ms(time.Since(t)))
		if i < 3 {
			t = time.Now()
			if _, _, err := svc.LotCustody(ctx, gtinOfTrace(), lot); err != nil {
				return r, err
			}
			custody = append(custody, ms(time.Since(t)))
		}
	}
	sort.Float64s(traces)
	sort.Float64s(walks)
	sort.Float64s(custody)
	r.TraceP50ms, r.TraceP99ms = pct(traces, 0.50), pct(traces, 0.99)
	r.WalkP50ms = pct(walks, 0.50)
	r.LotCustodyP50 = pct(custody, 0.50)
	if r.WalkP50ms > 0 {
		r.Ratio = r.TraceP50ms / r.WalkP50ms
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// gtinOfTrace is the GTIN of urn:epc:id:sgtin:0614141.012345.*.
func gtinOfTrace() string {
	e, _ := epc.ParseURI("urn:epc:id:sgtin:0614141.012345.1")
	g, _ := e.GTIN()
	return g
}

// batcher seals events into signed batches of one edge and ingests them.
type batcher struct {
	svc   *gateway.Service
	key   ed25519.PrivateKey
	edge  string
	size  int
	seq   uint64
	prev  string
	evs   []epcis.Event
	total int
}

func (b *batcher) add(ctx context.Context, ev epcis.Event) error {
	b.evs = append(b.evs, ev)
	if len(b.evs) >= b.size {
		return b.flush(ctx)
	}
	return nil
}

func (b *batcher) flush(ctx context.Context) error {
	if len(b.evs) == 0 {
		return nil
	}
	prep, err := edge.Prepare(b.evs, nil)
	if err != nil {
		return err
	}
	leaves := make([]batch.Leaf, len(prep))
	for i, p := range prep {
		leaves[i] = batch.Leaf{Hash: p.Hash, JSON: p.JSON, Time: p.Time}
	}
	s, err := batch.Seal(b.key, b.edge, b.seq, b.prev, leaves)
	if err != nil {
		return err
	}
	res, err := b.svc.IngestBatch(ctx, s, gateway.SourceEdge)
	if err != nil {
		return err
	}
	if res.Status != "accepted" {
		return fmt.Errorf("batch %d: %s", b.seq, res.Status)
	}
	if b.prev, err = s.Header.Hash(); err != nil {
		return err
	}
	b.seq++
	b.total += len(prep)
	b.evs = b.evs[:0]
	return nil
}
