package ledgertest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// excursionID is the documented excursion ID, computed here independently
// of the contract.
func excursionID(x ledger.Excursion) string {
	s := x.GTIN + "\x00" + x.Lot + "\x00" + x.Kind + "\x00" + x.Sensor + "\x00" + x.Start.UTC().Format(time.RFC3339Nano)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:32]
}

func newEventID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "ni:///sha-256;" + hex.EncodeToString(b) + "?ver=CBV2.0"
}

// excursion is a temperature-high excursion of lot l starting at start
// and lasting minutes, measured by sensor at a location.
func excursion(l ledger.Lot, sensor string, start time.Time, minutes float64) ledger.Excursion {
	return ledger.Excursion{GTIN: l.GTIN, Lot: l.Lot, Kind: ledger.ExcursionTempHigh, Sensor: sensor,
		Location: "urn:epc:id:sgln:4012345.00000.cold1", Start: start, End: start.Add(time.Duration(minutes * float64(time.Minute))),
		DurationMin: minutes, PeakValue: 9.5, LimitValue: 8, Unit: ledger.UnitCelsius, Readings: int(minutes/5) + 1,
		Evidence: []ledger.EvidenceRef{{EventID: newEventID(), Edge: "edge-wh1", Seq: 7}, {EventID: newEventID(), Edge: "edge-wh1", Seq: 8}}}
}

// excursionRefused checks a RecordExcursion refusal.
func (s *suite) excursionRefused(what string, code ledger.Code) func(ledger.Excursion, ledger.Result, error) {
	return func(_ ledger.Excursion, _ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// record records x as id and checks the contract-set fields.
func (s *suite) record(ev *eventLog, id ledger.Identity, x ledger.Excursion) ledger.Excursion {
	s.t.Helper()
	stored, res, err := s.c.RecordExcursion(s.ctx(), id, x)
	ev.add(ledger.EvExcursionRecorded, s.must(res, err))
	if stored.ID != excursionID(x) || stored.Org != id.Org || stored.RecordedBy != id.User || stored.TxID != res.TxID ||
		stored.RecordedAt.IsZero() || !stored.Start.Equal(x.Start) || stored.DurationMin != x.DurationMin || len(stored.Evidence) != len(x.Evidence) {
		s.t.Fatalf("RecordExcursion returned %+v (tx %s, want ID %s)", stored, res.TxID, excursionID(x))
	}
	return stored
}

func (s *suite) lotStatus(l ledger.Lot) ledger.Lot {
	s.t.Helper()
	return got[ledger.Lot](s, "GetLot")(s.c.Lot(s.ctx(), admin(s.fx.Regulator), l.GTIN, l.Lot))
}

func testExcursions(s *suite) {
	fx, t := s.fx, s.t
	mfr, wh := fx.Manufacturer, fx.Warehouse
	// Profile: 2–8 °C, single ≤ 30 min, cumulative ≤ 120 min, MKT ≤ 6 °C.
	p := s.product()
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	bare := ledger.Product{GTIN: newGTIN(), Name: "Gown " + s.run, Org: mfr, Kind: "ppe"}
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), bare))
	bareLots, _ := s.lotsOf(bare, "G"+s.run)
	// Lot A's number is a prefix of lot A/2's, and so is its key.
	lots, start := s.lotsOf(p, "A"+s.run, "A"+s.run+"/2", "B"+s.run, "C"+s.run, "D"+s.run)
	lotA, lotA2, lotB, lotC, lotD := lots[0], lots[1], lots[2], lots[3], lots[4]
	ev := s.eventsAfter(start)
	base := time.Now().UTC().Add(-20 * time.Hour).Truncate(time.Second)
	x1 := excursion(lotA, "wh1/coldroom-1", base, 20)

	// Who may record.
	s.excursionRefused("hospital-receiver role records", ledger.Forbidden)(s.c.RecordExcursion(s.ctx(), s.other(wh), x1))
	inMfrName := x1
	inMfrName.Org = mfr
	s.excursionRefused("warehouse records in the manufacturer's name", ledger.Forbidden)(s.c.RecordExcursion(s.ctx(), s.operator(wh), inMfrName))
	if fx.Outsider != "" {
		s.excursionRefused("unregistered org records", ledger.Forbidden)(s.c.RecordExcursion(s.ctx(), admin(fx.Outsider), x1))
	}
	if fx.ArbitraryUsers {
		s.excursionRefused("unregistered user records", ledger.Forbidden)(s.c.RecordExcursion(s.ctx(), ledger.Identity{Org: wh, User: s.id("nobody")}, x1))
	}

	// Validation.
	for _, tc := range []struct {
		what string
		edit func(*ledger.Excursion)
	}{
		{"unknown kind", func(x *ledger.Excursion) { x.Kind = "too-warm" }},
		{"Fahrenheit", func(x *ledger.Excursion) { x.Unit = "FAH" }},
		{"humidity in °C", func(x *ledger.Excursion) { x.Kind, x.PeakValue, x.LimitValue = ledger.ExcursionHumidityHigh, 80, 70 }},
		{"end before start", func(x *ledger.Excursion) { x.End = x.Start.Add(-time.Minute) }},
		{"no start", func(x *ledger.Excursion) { x.Start = time.Time{} }},
		{"end in the future", func(x *ledger.Excursion) { x.End = time.Now().Add(time.Hour) }},
		{"longer than since its start", func(x *ledger.Excursion) { x.DurationMin = 48 * 60 }},
		{"negative duration", func(x *ledger.Excursion) { x.DurationMin = -1 }},
		{"high peak below its limit", func(x *ledger.Excursion) { x.PeakValue = 7 }},
		{"low peak above its limit", func(x *ledger.Excursion) { x.Kind, x.PeakValue, x.LimitValue = ledger.ExcursionTempLow, 3, 2 }},
		{"implausible temperature", func(x *ledger.Excursion) { x.PeakValue = 900 }},
		{"implausible MKT", func(x *ledger.Excursion) { x.MKTC = f(-300) }},
		{"implausible lot MKT", func(x *ledger.Excursion) { x.LotMKTC = f(250) }},
		{"no readings", func(x *ledger.Excursion) { x.Readings = 0 }},
		{"no sensor", func(x *ledger.Excursion) { x.Sensor = "" }},
		{"no location", func(x *ledger.Excursion) { x.Location = "" }},
		{"location not an EPC", func(x *ledger.Excursion) { x.Location = "cold room 1" }},
		{"location a trade item", func(x *ledger.Excursion) { x.Location = "urn:epc:id:sgtin:4012345.011111.1" }},
		{"bad evidence event ID", func(x *ledger.Excursion) { x.Evidence[0].EventID = "ni:///sha-256;abc?ver=CBV2.0" }},
		{"evidence twice", func(x *ledger.Excursion) { x.Evidence[1].EventID = x.Evidence[0].EventID }},
		{"evidence without edge", func(x *ledger.Excursion) { x.Evidence[0].Edge = "" }},
		{"201 evidence references", func(x *ledger.Excursion) {
			x.Evidence = nil
			for i := 0; i < 201; i++ {
				x.Evidence = append(x.Evidence, ledger.EvidenceRef{EventID: newEventID(), Edge: "edge-wh1", Seq: uint64(i)})
			}
		}},
		{"wrong ID", func(x *ledger.Excursion) { x.ID = strings.Repeat("0", 32) }},
		{"GTIN check digit", func(x *ledger.Excursion) { x.GTIN = withBadCheckDigit(x.GTIN) }},
	} {
		bad := x1
		bad.Evidence = slices.Clone(x1.Evidence)
		tc.edit(&bad)
		s.excursionRefused(tc.what, ledger.Invalid)(s.c.RecordExcursion(s.ctx(), s.operator(wh), bad))
	}
	s.excursionRefused("unregistered lot", ledger.NotFound)(s.c.RecordExcursion(s.ctx(), s.operator(wh), excursion(ledger.Lot{GTIN: p.GTIN, Lot: "NOPE" + s.run}, "wh1/coldroom-1", base, 10)))
	s.excursionRefused("unregistered product", ledger.NotFound)(s.c.RecordExcursion(s.ctx(), s.operator(wh), excursion(ledger.Lot{GTIN: newGTIN(), Lot: "X1"}, "wh1/coldroom-1", base, 10)))
	s.excursionRefused("product without a storage profile", ledger.Invalid)(s.c.RecordExcursion(s.ctx(), s.operator(wh), excursion(bareLots[0], "wh1/coldroom-1", base, 10)))

	// Lot A: a first excursion within the profile.
	a1 := s.record(ev, s.operator(wh), x1)
	if a1.Breach || a1.BreachReason != "" || a1.CumulativeMin != 20 {
		t.Errorf("first excursion judged %+v", a1)
	}
	if l := s.lotStatus(lotA); l.Status != ledger.LotExcursion || !strings.Contains(l.StatusReason, a1.ID) || !l.StatusAt.Equal(a1.RecordedAt) {
		t.Errorf("lot after an excursion: %+v", l)
	}
	// The same excursion again, with or without its ID, in another time
	// zone, by another org: the stored record, no event.
	for _, id := range []ledger.Identity{s.quality(wh), admin(mfr)} {
		again := x1
		again.ID = a1.ID
		again.Start, again.End = x1.Start.In(time.FixedZone("CET", 3600)), x1.End.In(time.FixedZone("CET", 3600))
		stored, res, err := s.c.RecordExcursion(s.ctx(), id, again)
		ev.add("", s.must(res, err))
		if stored.TxID != a1.TxID || stored.Org != wh || stored.CumulativeMin != 20 {
			t.Errorf("repeated excursion returned %+v, want the stored one %+v", stored, a1)
		}
	}
	changed := x1
	changed.DurationMin, changed.PeakValue = 25, 11
	s.excursionRefused("same excursion, other figures", ledger.Conflict)(s.c.RecordExcursion(s.ctx(), s.operator(wh), changed))

	// Two more on lot A, both starting at the same time (ties sort by ID);
	// a humidity excursion counts towards the humidity total, not the
	// temperature one.
	x2 := excursion(lotA, "wh1/coldroom-2", base.Add(2*time.Hour), 25)
	x3 := excursion(lotA, "wh1/coldroom-3", base.Add(2*time.Hour), 28)
	x3.Kind, x3.Unit, x3.PeakValue, x3.LimitValue = ledger.ExcursionHumidityHigh, ledger.UnitPercentRH, 78, 70
	a2 := s.record(ev, s.quality(wh), x2)
	a3 := s.record(ev, admin(mfr), x3)
	if a2.CumulativeMin != 45 || a3.CumulativeMin != 28 || a2.Breach || a3.Breach {
		t.Errorf("cumulative 45 (temperature), 28 (humidity) without breach: got %+v, %+v", a2, a3)
	}
	// Quality releases lot A; the next excursion marks it again.
	l, res, err := s.c.SetLotStatus(s.ctx(), s.quality(mfr), p.GTIN, lotA.Lot, ledger.LotOK, "stability data cover 45 min at up to 12 °C")
	ev.add(ledger.EvLotStatusChanged, s.must(res, err))
	if l.Status != ledger.LotOK {
		t.Fatalf("released lot %+v", l)
	}
	a4 := s.record(ev, s.operator(wh), excursion(lotA, "wh1/coldroom-1", base.Add(4*time.Hour), 28))
	if a4.CumulativeMin != 73 || a4.Breach || s.lotStatus(lotA).Status != ledger.LotExcursion {
		t.Errorf("fourth excursion %+v", a4)
	}
	// Another sensor saw part of x2's excursion: only the 5 minutes it
	// adds to the union count.
	ao := s.record(ev, s.operator(wh), excursion(lotA, "wh1/coldroom-4", base.Add(2*time.Hour+10*time.Minute), 20))
	if ao.CumulativeMin != 78 || ao.Breach {
		t.Errorf("overlapping excursion %+v, want cumulative 78", ao)
	}
	a5 := s.record(ev, s.operator(wh), excursion(lotA, "wh1/coldroom-1", base.Add(6*time.Hour), 25))
	if a5.CumulativeMin != 103 || a5.Breach {
		t.Errorf("fifth excursion %+v", a5)
	}
	// The next passes the cumulative limit of 120 minutes: quarantine.
	a6 := s.record(ev, s.operator(wh), excursion(lotA, "wh1/coldroom-1", base.Add(8*time.Hour), 20))
	if a6.CumulativeMin != 123 || !a6.Breach || !strings.Contains(a6.BreachReason, "maxCumulativeExcursionMin") || !strings.Contains(a6.BreachReason, "123") || strings.Contains(a6.BreachReason, "maxSingle") {
		t.Errorf("cumulative breach %+v", a6)
	}
	if l := s.lotStatus(lotA); l.Status != ledger.LotQuarantined || !strings.Contains(l.StatusReason, "maxCumulativeExcursionMin") {
		t.Errorf("lot after a cumulative breach: %+v", l)
	}

	// Lot A/2 (its key shares lot A's prefix) has its own total.
	a2x := s.record(ev, s.operator(wh), excursion(lotA2, "wh1/coldroom-1", base, 10))
	if a2x.CumulativeMin != 10 || a2x.Breach {
		t.Errorf("lot A/2's first excursion %+v", a2x)
	}

	// Lot B: one excursion longer than 30 minutes.
	b1 := s.record(ev, s.operator(wh), excursion(lotB, "truck-7/logger", base.Add(time.Hour), 35))
	if !b1.Breach || b1.CumulativeMin != 35 || !strings.Contains(b1.BreachReason, "maxSingleExcursionMin") || strings.Contains(b1.BreachReason, "cumulative") {
		t.Errorf("single breach %+v", b1)
	}
	if l := s.lotStatus(lotB); l.Status != ledger.LotQuarantined {
		t.Errorf("lot after a single breach: %+v", l)
	}

	// Lot C: short, but the lot's mean kinetic temperature is above 6 °C.
	// The excursion's own MKT (always beyond the range) does not count.
	xc2 := excursion(lotC, "truck-7/logger-2", base.Add(time.Hour), 10)
	xc2.MKTC, xc2.LotMKTC = f(9.5), f(5.5)
	c2 := s.record(ev, s.operator(wh), xc2)
	if c2.Breach || c2.LotMKTC == nil || *c2.LotMKTC != 5.5 {
		t.Errorf("lot MKT within the profile judged a breach: %+v", c2)
	}
	xc := excursion(lotC, "truck-7/logger", base.Add(2*time.Hour), 10)
	xc.MKTC, xc.LotMKTC = f(9.5), f(9.25)
	c1 := s.record(ev, s.operator(wh), xc)
	if !c1.Breach || !strings.Contains(c1.BreachReason, "mktMaxC") || !strings.Contains(c1.BreachReason, "9.25") || c1.MKTC == nil || *c1.MKTC != 9.5 {
		t.Errorf("MKT breach %+v", c1)
	}

	// Lot D: recalled, then a breach: it stays recalled.
	stored, res, err := s.c.RecallLot(s.ctx(), admin(fx.Regulator), ledger.Recall{GTIN: p.GTIN, Lot: lotD.Lot, Reason: "counterfeit packaging found", Class: "II"})
	ev.add(ledger.EvLotRecalled, s.must(res, err))
	d1 := s.record(ev, s.operator(wh), excursion(lotD, "wh1/coldroom-1", base, 45))
	if l := s.lotStatus(lotD); !d1.Breach || l.Status != ledger.LotRecalled || !l.StatusAt.Equal(stored.IssuedAt) {
		t.Errorf("recalled lot after a breach: %+v, excursion %+v", l, d1)
	}

	// Events: one per transaction, the stored excursion as payload.
	events := ev.check()
	if p := payload[ledger.Excursion](s, events[0]); p.ID != a1.ID || p.TxID != a1.TxID || p.CumulativeMin != 20 || p.Breach {
		t.Errorf("ExcursionRecorded payload %+v", p)
	}
	for _, e := range events {
		if e.Name != ledger.EvExcursionRecorded {
			continue
		}
		if x := payload[ledger.Excursion](s, e); x.TxID != e.TxID || x.ID == "" {
			t.Errorf("ExcursionRecorded payload of %s: %+v", e.TxID, x)
		}
	}
	if x := payload[ledger.Excursion](s, events[len(events)-1]); x.ID != d1.ID || !x.Breach {
		t.Errorf("last payload %+v, want %+v", x, d1)
	}

	// Reads.
	if back := got[ledger.Excursion](s, "GetExcursion")(s.c.Excursion(s.ctx(), s.other(fx.Hospital), a6.ID)); back.ID != a6.ID || back.BreachReason != a6.BreachReason || back.CumulativeMin != 123 || len(back.Evidence) != 2 {
		t.Errorf("GetExcursion = %+v", back)
	}
	denied[ledger.Excursion](s, "unknown excursion", ledger.NotFound)(s.c.Excursion(s.ctx(), admin(mfr), excursionID(excursion(lotA, "nosuch", base, 1))))
	denied[ledger.Excursion](s, "malformed excursion ID", ledger.Invalid)(s.c.Excursion(s.ctx(), admin(mfr), "XYZ"))

	ids := func(xs []ledger.Excursion) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = x.ID
		}
		return out
	}
	tie := []string{a2.ID, a3.ID}
	slices.Sort(tie)
	wantA := append(append([]string{a1.ID}, tie...), ao.ID, a4.ID, a5.ID, a6.ID)
	if got := ids(got[[]ledger.Excursion](s, "ListExcursions(lot)")(s.c.Excursions(s.ctx(), admin(fx.Regulator), p.GTIN, lotA.Lot))); !slices.Equal(got, wantA) {
		t.Errorf("ListExcursions(lot A) = %v, want %v", got, wantA)
	}
	if got := ids(got[[]ledger.Excursion](s, "ListExcursions(lot A/2)")(s.c.Excursions(s.ctx(), admin(fx.Regulator), p.GTIN, lotA2.Lot))); !slices.Equal(got, []string{a2x.ID}) {
		t.Errorf("ListExcursions(lot A/2) = %v, want %v", got, []string{a2x.ID})
	}
	byProduct := got[[]ledger.Excursion](s, "ListExcursions(gtin)")(s.c.Excursions(s.ctx(), admin(fx.Regulator), p.GTIN, ""))
	wantP := []string{a1.ID, a2.ID, a3.ID, ao.ID, a4.ID, a5.ID, a6.ID, a2x.ID, b1.ID, c1.ID, c2.ID, d1.ID}
	gotP := ids(byProduct)
	slices.Sort(wantP)
	slices.Sort(gotP)
	if !slices.Equal(gotP, wantP) {
		t.Errorf("ListExcursions(gtin) = %v, want %v", gotP, wantP)
	}
	sorted := func(what string, xs []ledger.Excursion) {
		t.Helper()
		for i := 1; i < len(xs); i++ {
			a, b := xs[i-1], xs[i]
			if b.Start.Before(a.Start) || b.Start.Equal(a.Start) && b.ID <= a.ID {
				t.Errorf("%s: %s (%v) after %s (%v)", what, b.ID, b.Start, a.ID, a.Start)
			}
		}
	}
	sorted("ListExcursions(gtin)", byProduct)
	all := got[[]ledger.Excursion](s, "ListExcursions")(s.c.Excursions(s.ctx(), admin(fx.Hospital), "", ""))
	sorted("ListExcursions", all)
	for _, x := range byProduct {
		if !slices.ContainsFunc(all, func(y ledger.Excursion) bool { return y.ID == x.ID }) {
			t.Errorf("ListExcursions lacks %s", x.ID)
		}
		if x.GTIN != p.GTIN {
			t.Errorf("ListExcursions(gtin) returned %s of %s", x.ID, x.GTIN)
		}
	}
	denied[[]ledger.Excursion](s, "lot without GTIN", ledger.Invalid)(s.c.Excursions(s.ctx(), admin(mfr), "", lotA.Lot))
	if fx.Outsider != "" {
		denied[[]ledger.Excursion](s, "outsider lists excursions", ledger.Forbidden)(s.c.Excursions(s.ctx(), admin(fx.Outsider), p.GTIN, ""))
		denied[ledger.Excursion](s, "outsider reads an excursion", ledger.Forbidden)(s.c.Excursion(s.ctx(), admin(fx.Outsider), a1.ID))
	}
}

func testLotStatus(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	p := s.product()
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	lots, start := s.lotsOf(p, "Q"+s.run)
	lot := lots[0]
	ev := s.eventsAfter(start)
	set := func(id ledger.Identity, status, reason string) (ledger.Lot, ledger.Result, error) {
		return s.c.SetLotStatus(s.ctx(), id, p.GTIN, lot.Lot, status, reason)
	}
	refused := func(what string, code ledger.Code) func(ledger.Lot, ledger.Result, error) {
		return func(_ ledger.Lot, _ ledger.Result, err error) {
			t.Helper()
			wantCode(t, what, err, code)
		}
	}

	// Who may.
	refused("warehouse admin quarantines", ledger.Forbidden)(set(admin(fx.Warehouse), ledger.LotQuarantined, "suspect"))
	refused("regulator admin quarantines", ledger.Forbidden)(set(admin(fx.Regulator), ledger.LotQuarantined, "suspect"))
	refused("manufacturer operator quarantines", ledger.Forbidden)(set(s.operator(mfr), ledger.LotQuarantined, "suspect"))
	if fx.Outsider != "" {
		refused("outsider quarantines", ledger.Forbidden)(set(admin(fx.Outsider), ledger.LotQuarantined, "suspect"))
	}
	// What.
	refused("status recalled", ledger.Invalid)(set(s.quality(mfr), ledger.LotRecalled, "bad"))
	refused("status excursion", ledger.Invalid)(set(s.quality(mfr), ledger.LotExcursion, "warm"))
	refused("unknown status", ledger.Invalid)(set(s.quality(mfr), "destroyed", "burnt"))
	refused("reason with a control character", ledger.Invalid)(set(s.quality(mfr), ledger.LotQuarantined, "a\x01b"))
	refused("unregistered lot", ledger.NotFound)(s.c.SetLotStatus(s.ctx(), s.quality(mfr), p.GTIN, "NOPE"+s.run, ledger.LotQuarantined, ""))
	refused("bad GTIN", ledger.Invalid)(s.c.SetLotStatus(s.ctx(), s.quality(mfr), "123", lot.Lot, ledger.LotQuarantined, ""))
	refused("release of an ok lot", ledger.Conflict)(set(s.quality(mfr), ledger.LotOK, "fine"))

	// ok → quarantined (no reason needed) → ok (reason needed).
	q, res, err := set(s.quality(mfr), ledger.LotQuarantined, "")
	ev.add(ledger.EvLotStatusChanged, s.must(res, err))
	if q.Status != ledger.LotQuarantined || q.StatusAt.IsZero() || q.Quantity != lot.Quantity || q.Org != mfr {
		t.Fatalf("quarantined lot %+v", q)
	}
	if back := s.lotStatus(lot); back.Status != ledger.LotQuarantined || !back.StatusAt.Equal(q.StatusAt) {
		t.Errorf("GetLot after quarantine: %+v", back)
	}
	refused("quarantine twice", ledger.Conflict)(set(admin(mfr), ledger.LotQuarantined, "again"))
	refused("release without a reason", ledger.Invalid)(set(admin(mfr), ledger.LotOK, " "))
	const why = "retained samples pass EN 149"
	r, res, err := set(admin(mfr), ledger.LotOK, why)
	ev.add(ledger.EvLotStatusChanged, s.must(res, err))
	if r.Status != ledger.LotOK || r.StatusReason != why || r.StatusAt.Before(q.StatusAt) {
		t.Errorf("released lot %+v", r)
	}

	// excursion → quarantined → ok.
	s.record(ev, s.operator(fx.Warehouse), excursion(lot, "wh1/coldroom-1", time.Now().UTC().Add(-3*time.Hour).Truncate(time.Second), 5))
	if l := s.lotStatus(lot); l.Status != ledger.LotExcursion {
		t.Fatalf("after an excursion: %+v", l)
	}
	q2, res, err := set(s.quality(mfr), ledger.LotQuarantined, "pending stability review")
	ev.add(ledger.EvLotStatusChanged, s.must(res, err))
	if q2.Status != ledger.LotQuarantined || q2.StatusReason != "pending stability review" {
		t.Errorf("quarantine from excursion: %+v", q2)
	}
	_, res, err = set(s.quality(mfr), ledger.LotOK, "stability data cover 5 min at 9.5 °C")
	ev.add(ledger.EvLotStatusChanged, s.must(res, err))

	events := ev.check()
	if l := payload[ledger.Lot](s, events[0]); l.Status != ledger.LotQuarantined || l.Lot != lot.Lot || l.GTIN != p.GTIN {
		t.Errorf("LotStatusChanged payload %+v", l)
	}
	if l := payload[ledger.Lot](s, events[len(events)-1]); l.Status != ledger.LotOK || !strings.HasPrefix(l.StatusReason, "stability") {
		t.Errorf("last LotStatusChanged payload %+v", l)
	}
}
