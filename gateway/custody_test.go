package gateway

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
	"github.com/tracegate/tracegate/ledger/embedded"
)

// A small consortium on a real embedded ledger: a manufacturer, a
// warehouse (which runs the gateway and the edge), a hospital and a
// regulator, with their sites.
const (
	ccMaker = "MakerMSP"
	ccWH    = "WarehouseMSP"
	ccHosp  = "HospitalMSP"
	ccReg   = "RegulatorMSP"
	ccIns   = "InsurerMSP"

	ccGTIN = "00614141200016" // a vaccine, 2–8 °C
	ccLot  = "VX-T1"
)

var (
	ccPlant    = "urn:epc:id:sgln:0614141.00009.0"
	ccPlantOut = "urn:epc:id:sgln:0614141.00009.2"
	ccWH1      = "urn:epc:id:sgln:4012345.00001.0"
	ccDockIn   = "urn:epc:id:sgln:4012345.00001.1"
	ccCold     = "urn:epc:id:sgln:4012345.00001.3"
	ccDockOut  = "urn:epc:id:sgln:4012345.00001.2"
	ccWH2      = "urn:epc:id:sgln:4012345.00002.0"
	ccHospital = "urn:epc:id:sgln:4000002.00001.0"
	ccPharmacy = "urn:epc:id:sgln:4000002.00001.5"
	ccPallet   = "urn:epc:id:sscc:0614141.3000000001"
	ccSensor   = "wh1/coldroom-1"
)

func gln(t testing.TB, sgln string) string {
	t.Helper()
	e, err := epc.ParseURI(sgln)
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.GLN()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func pack(n int) string { return fmt.Sprintf("urn:epc:id:sgtin:0614141.020001.%d", n) }

type ccFixture struct {
	svc  *Service
	key  ed25519.PrivateKey
	seq  uint64
	prev string
	t0   time.Time
}

func f64(v float64) *float64 { return &v }

func newCCFixture(t testing.TB) *ccFixture {
	t.Helper()
	dir := t.TempDir()
	orgs := []string{ccMaker, ccWH, ccHosp, ccReg, ccIns}
	keys, err := embedded.LoadOrCreateKeys(filepath.Join(dir, "ids"), orgs)
	if err != nil {
		t.Fatal(err)
	}
	led, err := embedded.Open(filepath.Join(dir, "ledger"), embedded.Config{Members: embedded.MembersOf(keys), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	svc, err := New(Config{DataDir: filepath.Join(dir, "gw"), Reader: ledger.Identity{Org: ccWH}}, led)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := svc.Ledger()
	admin := func(o string) ledger.Identity { return ledger.Identity{Org: o, User: ledger.AdminUser} }
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []ledger.Org{{ID: ccMaker, Name: "Maker", Kind: ledger.OrgManufacturer}, {ID: ccWH, Name: "Warehouse", Kind: ledger.OrgWarehouse},
		{ID: ccHosp, Name: "Hospital", Kind: ledger.OrgHospital}, {ID: ccReg, Name: "Agency", Kind: ledger.OrgRegulator},
		{ID: ccIns, Name: "Insurer", Kind: ledger.OrgInsurer}} {
		must(c.RegisterOrg(ctx, admin(o.ID), o))
	}
	sites := []ledger.Site{
		{GLN: gln(t, ccPlant), Org: ccMaker, Name: "Plant Hamburg", Kind: ledger.SiteFactory, Lat: 53.55, Lon: 9.99},
		{GLN: gln(t, ccWH1), Org: ccWH, Name: "Warehouse Hanover", Kind: ledger.SiteWarehouse, Lat: 52.37, Lon: 9.73,
			Locations: []ledger.SubLocation{{ID: ccCold, Name: "Cold room", Kind: "cold-room"}}},
		{GLN: gln(t, ccWH2), Org: ccWH, Name: "DC Munich", Kind: ledger.SiteDistributionCentre, Lat: 48.14, Lon: 11.58},
		{GLN: gln(t, ccHospital), Org: ccHosp, Name: "City Hospital", Kind: ledger.SiteHospital, Lat: 52.52, Lon: 13.40},
	}
	for _, s := range sites {
		must(c.RegisterSite(ctx, admin(s.Org), s))
	}
	must(c.RegisterProduct(ctx, admin(ccMaker), ledger.Product{GTIN: ccGTIN, Name: "Vaccine", Org: ccMaker, Kind: "vaccine",
		Profile: &ledger.StorageProfile{MinC: f64(2), MaxC: f64(8), MaxSingleExcursionMin: f64(30), MaxCumulativeExcursionMin: f64(120), MKTMaxC: f64(8)}}))
	must(c.RegisterLot(ctx, admin(ccMaker), ledger.Lot{GTIN: ccGTIN, Lot: ccLot, Org: ccMaker, Quantity: 4, ProducedAt: "2026-11-01", Expiry: "2027-11-01"}))
	pub, priv, _ := ed25519.GenerateKey(nil)
	must(c.RegisterDevice(ctx, admin(ccWH), ledger.Device{ID: "edge-1", Org: ccWH, Kind: ledger.DeviceEdge, PublicKey: base64.StdEncoding.EncodeToString(pub)}))
	capID, capKey := svc.CaptureDevice()
	must(c.RegisterDevice(ctx, admin(ccWH), ledger.Device{ID: capID, Org: ccWH, Kind: ledger.DeviceCapture, PublicKey: base64.StdEncoding.EncodeToString(capKey)}))
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Close()
	})
	return &ccFixture{svc: svc, key: priv, t0: time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)}
}

// ingest seals events into the next batch of edge-1 and ingests it.
func (f *ccFixture) ingest(t *testing.T, evs ...epcis.Event) {
	t.Helper()
	prep, err := edge.Prepare(evs, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := batch.Seal(f.key, "edge-1", f.seq, f.prev, leavesOf(prep))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.IngestBatch(context.Background(), s, SourceEdge)
	if err != nil || r.Status != "accepted" {
		t.Fatalf("ingest batch %d: %+v %v", f.seq, r, err)
	}
	f.prev, _ = s.Header.Hash()
	f.seq++
}

func leavesOf(prep []edge.Prepared) []batch.Leaf {
	out := make([]batch.Leaf, len(prep))
	for i, p := range prep {
		out[i] = batch.Leaf{Hash: p.Hash, JSON: p.JSON, Time: p.Time}
	}
	return out
}

func obj(action string, epcs []string, tm time.Time, step, disp, rp, loc string) epcis.Event {
	return epcis.NewObjectEvent(epcis.ObjectEventFields{Action: action, EPCs: epcs, Time: tm, BizStep: step, Disposition: disp, ReadPoint: rp, BizLocation: loc})
}

func agg(action, parent string, kids []string, tm time.Time, step, rp, loc string) epcis.Event {
	ev := epcis.Event{"type": "AggregationEvent", "eventTime": tm.UTC().Format(time.RFC3339Nano), "eventTimeZoneOffset": "+00:00",
		"parentID": parent, "action": action, "bizStep": step, "readPoint": map[string]any{"id": rp}, "bizLocation": map[string]any{"id": loc}}
	if len(kids) > 0 {
		k := make([]any, len(kids))
		for i, x := range kids {
			k[i] = x
		}
		ev["childEPCs"] = k
	}
	return ev
}

func reading(tm time.Time, c float64, loc string) epcis.Event {
	return epcis.NewObjectEvent(epcis.ObjectEventFields{Action: "OBSERVE", Time: tm, BizStep: "sensor_reporting", ReadPoint: loc, BizLocation: loc,
		Sensor:     &epcis.SensorElement{Time: tm, DeviceID: "urn:tracegate:device:wh1:sensor:coldroom-1", Reports: []epcis.SensorReport{{Type: "gs1:Temperature", Value: c, UOM: "CEL"}}},
		Extensions: map[string]any{"tg:sensor": ccSensor}})
}

func commission(f *ccFixture, t *testing.T) {
	ev := obj("ADD", []string{pack(1), pack(2), pack(3), pack(4)}, f.t0, "commissioning", "active", ccPlant, ccPlant)
	ev["ilmd"] = map[string]any{"cbvmda:lotNumber": ccLot}
	ev["@context"] = []any{epcis.StandardContextIRI, map[string]any{"cbvmda": "urn:epcglobal:cbv:mda:"}}
	f.ingest(t, ev)
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCustodyColdChainAndGenuine(t *testing.T) {
	f := newCCFixture(t)
	ctx := context.Background()
	t0 := f.t0
	packs := []string{pack(1), pack(2), pack(3), pack(4)}
	// The manufacturer insured the lot: pays if it spends more than 30 min
	// out of range.
	insurer := ledger.Identity{Org: ccIns, User: ledger.AdminUser}
	pol, _, err := f.svc.Ledger().IssuePolicy(ctx, insurer, ledger.Policy{Insurer: ccIns, Insured: ccMaker,
		Scope:     ledger.PolicyScope{Lots: []ledger.LotRef{{GTIN: ccGTIN, Lot: ccLot}}},
		Terms:     ledger.PolicyTerms{Currency: "EUR", ColdChain: &ledger.ColdChainTerms{MaxOutOfRangeMin: 30, Payout: 500000}},
		ValidFrom: t0.Add(-24 * time.Hour), ValidUntil: time.Now().Add(365 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	commission(f, t)
	f.ingest(t,
		agg("ADD", ccPallet, packs, t0.Add(time.Minute), "packing", ccPlant, ccPlant),
		obj("OBSERVE", []string{ccPallet}, t0.Add(10*time.Minute), "shipping", "in_transit", ccPlantOut, ""),
		obj("OBSERVE", []string{ccPallet}, t0.Add(2*time.Hour), "receiving", "in_progress", ccDockIn, ccWH1),
		obj("OBSERVE", []string{ccPallet}, t0.Add(2*time.Hour+5*time.Minute), "storing", "in_progress", ccCold, ccCold),
	)
	// The cold room: 5 °C, then 9–11 °C from 3 h to 4 h (13 readings, 5 min
	// apart), then 5 °C again until the pallet leaves at 6 h.
	var readings []epcis.Event
	type rd struct {
		at time.Time
		c  float64
	}
	var published []rd
	for m := 0; m <= 240; m += 5 {
		at := t0.Add(2*time.Hour + time.Duration(m)*time.Minute)
		c := 5.0 + 0.1*float64(m%3)
		if at.Sub(t0) >= 3*time.Hour && at.Sub(t0) <= 4*time.Hour {
			c = 9 + 2*math.Sin(float64(m)/10)*math.Sin(float64(m)/10)
		}
		readings = append(readings, reading(at, c, ccCold))
		published = append(published, rd{at, c})
	}
	f.ingest(t, readings...)
	f.ingest(t,
		obj("OBSERVE", []string{ccPallet}, t0.Add(6*time.Hour), "shipping", "in_transit", ccDockOut, ccWH1),
		obj("OBSERVE", []string{ccPallet}, t0.Add(9*time.Hour), "receiving", "in_progress", ccHospital, ccHospital),
		agg("DELETE", ccPallet, nil, t0.Add(9*time.Hour+10*time.Minute), "unpacking", ccHospital, ccHospital),
		obj("OBSERVE", []string{pack(1), pack(2)}, t0.Add(9*time.Hour+20*time.Minute), "storing", "in_progress", ccPharmacy, ccPharmacy),
	)

	// Custody of a pack goes plant → transit → warehouse → transit → hospital, through its pallet.
	steps, spans, err := f.svc.Custody(ctx, pack(3))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		if s.InTransit {
			names = append(names, "transit")
		} else {
			names = append(names, s.SiteName)
		}
	}
	want := []string{"Plant Hamburg", "transit", "Warehouse Hanover", "transit", "City Hospital"}
	if !slices.Equal(names, want) {
		t.Fatalf("custody of pack 3: %v, want %v", names, want)
	}
	if len(spans) != 1 || spans[0].Parent != CanonicalID(ccPallet) || !spans[0].To.Equal(t0.Add(9*time.Hour+10*time.Minute)) {
		t.Fatalf("containment of pack 3: %+v", spans)
	}
	// The events happened days before they were recorded (ingested now):
	// every step says so, they are not silently mixed in.
	for _, st := range steps {
		if !st.InTransit && st.Late != st.Events {
			t.Errorf("step at %s: %d of %d events flagged late, want all", st.SiteName, st.Late, st.Events)
		}
	}
	if !slices.Contains(steps[2].Via, CanonicalID(ccPallet)) || steps[2].Org != ccWH {
		t.Fatalf("warehouse step: %+v", steps[2])
	}

	// Trace forward: all four packs at the hospital.
	tr, err := f.svc.TraceForward(ctx, ccGTIN, ccLot, true)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Packs != 4 || len(tr.Holdings) != 1 || tr.Holdings[0].Org != ccHosp || tr.Holdings[0].Packs != 4 {
		t.Fatalf("trace forward: %+v", tr)
	}

	// The excursion: found, alerted, recorded on the ledger once its
	// readings are anchored; the lot is quarantined (65 min > 30 min).
	var rep ColdChainReport
	eventually(t, "excursion recorded", func() (bool, string) {
		rep, err = f.svc.ColdChain(ctx, ccGTIN, ccLot, false)
		if err != nil {
			return false, err.Error()
		}
		return len(rep.Recorded) == 1, fmt.Sprintf("recorded %d, summary %d excursions, pending %v", len(rep.Recorded), len(rep.Summary.Excursions), rep.Pending)
	})
	x := rep.Recorded[0]
	if x.Kind != ledger.ExcursionTempHigh || !x.Start.Equal(t0.Add(3*time.Hour)) || !x.End.Equal(t0.Add(4*time.Hour)) || x.Sensor != ccSensor {
		t.Fatalf("excursion: %+v", x)
	}
	if math.Abs(x.DurationMin-65) > 0.01 || !x.Breach || x.Readings != 13 || len(x.Evidence) != 13 {
		t.Fatalf("excursion figures: %+v", x)
	}
	// MKT within 0.1 °C of an independent calculation.
	var num, den float64
	const dh, r = 83144.0, 8.3144
	for _, p := range published {
		if p.c > 8 {
			num += 300 * math.Exp(-dh/(r*(p.c+273.15)))
			den += 300
		}
	}
	mkt := dh/r/(-math.Log(num/den)) - 273.15
	if x.MKTC == nil || math.Abs(*x.MKTC-mkt) > 0.1 {
		t.Fatalf("MKT %v, independent %.3f", x.MKTC, mkt)
	}
	lot, err := f.svc.Ledger().Lot(ctx, ledger.Identity{Org: ccWH, User: ledger.AdminUser}, ccGTIN, ccLot)
	if err != nil || lot.Status != ledger.LotQuarantined {
		t.Fatalf("lot status: %+v %v", lot, err)
	}
	// The alert that the excursion is on the ledger follows the record.
	eventually(t, "excursion alerts for the manufacturer", func() (bool, string) {
		kinds := map[string]bool{}
		alerts, _ := f.svc.Alerts(ccMaker, 50)
		for _, a := range alerts {
			kinds[a.Kind] = true
		}
		for _, k := range []string{AlertExcursionStart, AlertExcursionBreach, AlertExcursionRecorded} {
			if !kinds[k] {
				return false, fmt.Sprintf("no %s alert among %d", k, len(alerts))
			}
		}
		return true, ""
	})

	// The recorded excursion opened a claim on the policy automatically,
	// with the excursion's readings as evidence.
	eventually(t, "cold-chain claim opened", func() (bool, string) {
		cs, err := f.svc.Ledger().Claims(ctx, insurer, ledger.ByPolicy, pol.ID)
		if err != nil {
			return false, err.Error()
		}
		if len(cs) != 1 {
			return false, fmt.Sprintf("%d claims", len(cs))
		}
		c := cs[0]
		return c.Kind == ledger.ClaimColdChain && c.Excursion == x.ID && c.Amount == 500000 && len(c.Evidence) == 13 && c.Insured == ccMaker,
			fmt.Sprintf("claim %+v", c)
	})

	// Genuine or not: a serial never commissioned, and a clone of pack 3
	// seen in Munich ten minutes after Berlin.
	f.ingest(t,
		obj("OBSERVE", []string{pack(99)}, t0.Add(9*time.Hour+30*time.Minute), "receiving", "in_progress", ccHospital, ccHospital),
		obj("OBSERVE", []string{pack(3)}, t0.Add(9*time.Hour+10*time.Minute), "receiving", "in_progress", ccWH2, ccWH2),
	)
	eventually(t, "suspects flagged", func() (bool, string) {
		a, _ := f.svc.Suspects(CanonicalID(pack(99)))
		b, _ := f.svc.Suspects(CanonicalID(pack(3)))
		ok := len(a) == 1 && a[0].Reason == SuspectNotCommissioned && len(b) == 1 && b[0].Reason == SuspectImpossibleTravel
		return ok, fmt.Sprintf("pack 99 %+v, pack 3 %+v", a, b)
	})
	regAlerts, _ := f.svc.Alerts(ccReg, 50)
	if len(regAlerts) < 2 {
		t.Fatalf("regulator alerts: %+v", regAlerts)
	}

	// Recall: the regulator recalls the lot; the hospital and the
	// warehouse (which holds the clone in Munich) are told.
	if _, _, err := f.svc.Ledger().RecallLot(ctx, ledger.Identity{Org: ccReg, User: ledger.AdminUser}, ledger.Recall{GTIN: ccGTIN, Lot: ccLot, Reason: "sterility", Class: "I"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "recall reaches holders", func() (bool, string) {
		h, _ := f.svc.Alerts(ccHosp, 50)
		w, _ := f.svc.Alerts(ccWH, 50)
		has := func(as []Alert) bool {
			for _, a := range as {
				if a.Kind == AlertRecall && strings.Contains(a.Title, ccLot) {
					return true
				}
			}
			return false
		}
		return has(h) && has(w), fmt.Sprintf("hospital %d alerts, warehouse %d", len(h), len(w))
	})
}
