package ledgertest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/tracegate/tracegate/ledger"
)

// newGLN returns a random GLN with a valid check digit and a non-zero
// first digit.
func newGLN() string {
	g := newGTIN() // 14 random digits, the last a check digit we recompute
	body := "4" + g[1:12]
	return body + string(rune('0'+checkDigit(body)))
}

// sgln is the SGLN of gln with extension ext, for a 7-digit company prefix.
func sgln(gln, ext string) string {
	return "urn:epc:id:sgln:" + gln[:7] + "." + gln[7:12] + "." + ext
}

// eventLog records the events a test expects, from a checkpoint on, and
// then checks the ledger streamed exactly those.
type eventLog struct {
	s    *suite
	cp   ledger.Checkpoint
	want []wantEvent
}

// eventsAfter starts an event log after the transaction of res.
func (s *suite) eventsAfter(res ledger.Result) *eventLog {
	return &eventLog{s: s, cp: ledger.Checkpoint{Block: res.Block, TxID: res.TxID}}
}

// add expects event name for the transaction of res; name "" expects none
// (an idempotent repeat).
func (e *eventLog) add(name string, res ledger.Result) ledger.Result {
	if name != "" {
		e.want = append(e.want, wantEvent{res.TxID, name})
	}
	return res
}

// check streams the events from the checkpoint up to the last expected
// one and fails unless they are exactly the expected ones, in order. It
// returns them.
func (e *eventLog) check() []ledger.Event {
	s := e.s
	s.t.Helper()
	if len(e.want) == 0 {
		s.t.Fatal("no events expected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ch, err := s.l.Events(ctx, e.cp)
	if err != nil {
		s.t.Fatalf("Events: %v", err)
	}
	events := s.collect(ch, untilTx(e.want[len(e.want)-1].txID))
	if len(events) != len(e.want) {
		s.t.Fatalf("%d events %v, want %d %v", len(events), names(events), len(e.want), e.want)
	}
	for i, w := range e.want {
		if events[i].TxID != w.txID || events[i].Name != w.name {
			s.t.Fatalf("event %d is %s %s, want %s %s", i, events[i].Name, events[i].TxID, w.name, w.txID)
		}
	}
	return events
}

// payload decodes an event's payload.
func payload[T any](s *suite, e ledger.Event) T {
	s.t.Helper()
	var v T
	if err := json.Unmarshal(e.Payload, &v); err != nil {
		s.t.Fatalf("%s payload %s: %v", e.Name, e.Payload, err)
	}
	return v
}

func (s *suite) site(org, kind string) ledger.Site {
	gln := newGLN()
	return ledger.Site{GLN: gln, Org: org, Name: "Site " + s.run, Kind: kind, Address: "Hafenstraße 1, Hamburg",
		Country: "DE", Lat: 53.5461, Lon: 9.9661, Locations: []ledger.SubLocation{
			{ID: sgln(gln, "0"), Name: "Whole site", Kind: "storage"},
			{ID: sgln(gln, "dock1"), Name: "Dock door 1", Kind: "dock-door"},
			{ID: sgln(gln, "cold1"), Name: "Cold room 1", Kind: "cold-room"},
		}}
}

// submitRaw submits fn with a literal JSON argument.
func (s *suite) submitRaw(id ledger.Identity, fn, arg string) (ledger.Result, error) {
	return s.l.Submit(s.ctx(), id, fn, arg)
}

func testSites(s *suite) {
	fx, t := s.fx, s.t
	mfr, wh := fx.Manufacturer, fx.Warehouse
	site := s.site(mfr, ledger.SiteFactory)

	// Refusals: who may register.
	s.refused("warehouse registers the manufacturer's site", ledger.Forbidden)(s.c.RegisterSite(s.ctx(), admin(wh), site))
	s.refused("hospital-receiver role registers a site", ledger.Forbidden)(s.c.RegisterSite(s.ctx(), s.other(mfr), site))
	if fx.ArbitraryUsers {
		s.refused("unregistered user registers a site", ledger.Forbidden)(s.c.RegisterSite(s.ctx(), ledger.Identity{Org: mfr, User: s.id("nobody")}, site))
	}
	if fx.Outsider != "" {
		out := s.site(fx.Outsider, ledger.SiteDepot)
		s.refused("unregistered org registers a site", ledger.Forbidden)(s.c.RegisterSite(s.ctx(), admin(fx.Outsider), out))
	}

	// Validation.
	for _, tc := range []struct {
		what string
		edit func(*ledger.Site)
	}{
		{"GLN check digit", func(x *ledger.Site) { x.GLN = x.GLN[:12] + string(rune('0'+(x.GLN[12]-'0'+1)%10)) }},
		{"12-digit GLN", func(x *ledger.Site) { x.GLN = x.GLN[:12] }},
		{"unknown kind", func(x *ledger.Site) { x.Kind = "castle" }},
		{"empty name", func(x *ledger.Site) { x.Name = " " }},
		{"country name", func(x *ledger.Site) { x.Country = "Germany" }},
		{"latitude 91", func(x *ledger.Site) { x.Lat = 91 }},
		{"longitude -181", func(x *ledger.Site) { x.Lon = -181 }},
		{"location of another GLN", func(x *ledger.Site) { x.Locations[1].ID = sgln(newGLN(), "dock1") }},
		{"location not canonical", func(x *ledger.Site) {
			x.Locations[1].ID = strings.ToUpper(x.Locations[1].ID[:16]) + x.Locations[1].ID[16:]
		}},
		{"location not an SGLN", func(x *ledger.Site) { x.Locations[1].ID = "urn:epc:id:sscc:4012345.0000000001" }},
		{"location not an EPC", func(x *ledger.Site) { x.Locations[1].ID = "dock 1" }},
		{"location twice", func(x *ledger.Site) { x.Locations[2].ID = x.Locations[1].ID }},
		{"location kind", func(x *ledger.Site) { x.Locations[0].Kind = "Cold Room" }},
		{"location name", func(x *ledger.Site) { x.Locations[0].Name = "" }},
	} {
		bad := site
		bad.Locations = slices.Clone(site.Locations)
		tc.edit(&bad)
		s.refused(tc.what, ledger.Invalid)(s.c.RegisterSite(s.ctx(), s.operator(mfr), bad))
	}
	raw, err := json.Marshal(site)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "lat")
	noLat, _ := json.Marshal(fields)
	s.refused("no latitude", ledger.Invalid)(s.submitRaw(s.operator(mfr), ledger.FnRegisterSite, string(noLat)))
	typo := strings.Replace(string(raw), `"address"`, `"adress"`, 1)
	s.refused("unknown field", ledger.Invalid)(s.submitRaw(s.operator(mfr), ledger.FnRegisterSite, typo))

	// Register, repeat (no-op), update.
	res := s.must(s.c.RegisterSite(s.ctx(), s.operator(mfr), site))
	ev := s.eventsAfter(res)
	back := got[ledger.Site](s, "GetSite")(s.c.Site(s.ctx(), s.other(fx.Hospital), site.GLN))
	if back.Org != mfr || back.Name != site.Name || back.Lat != site.Lat || back.Lon != site.Lon || len(back.Locations) != 3 ||
		back.Locations[2] != site.Locations[2] || back.RegisteredAt.IsZero() || !back.UpdatedAt.IsZero() {
		t.Fatalf("GetSite = %+v", back)
	}
	var fromRes ledger.Site
	if err := json.Unmarshal(res.Payload, &fromRes); err != nil || fromRes.GLN != site.GLN || !fromRes.RegisteredAt.Equal(back.RegisteredAt) {
		t.Errorf("RegisterSite payload %s (%v)", res.Payload, err)
	}
	ev.add("", s.must(s.c.RegisterSite(s.ctx(), admin(mfr), site)))
	if again := got[ledger.Site](s, "GetSite")(s.c.Site(s.ctx(), admin(mfr), site.GLN)); !again.RegisteredAt.Equal(back.RegisteredAt) || !again.UpdatedAt.IsZero() {
		t.Errorf("idempotent re-registration changed the site: %+v", again)
	}
	upd := site
	upd.Name = "Renamed " + s.run
	upd.Locations = append(slices.Clone(site.Locations), ledger.SubLocation{ID: sgln(site.GLN, "pack2"), Name: "Packing 2", Kind: "packing-station"})
	ev.add(ledger.EvSiteUpdated, s.must(s.c.RegisterSite(s.ctx(), s.quality(mfr), upd)))
	after := got[ledger.Site](s, "GetSite")(s.c.Site(s.ctx(), admin(fx.Regulator), site.GLN))
	if after.Name != upd.Name || len(after.Locations) != 4 || after.UpdatedAt.IsZero() || !after.RegisteredAt.Equal(back.RegisteredAt) {
		t.Fatalf("after update: %+v", after)
	}

	// A GLN belongs to one org.
	theirs := upd
	theirs.Org = wh
	s.refused("warehouse claims the manufacturer's GLN", ledger.Conflict)(s.c.RegisterSite(s.ctx(), admin(wh), theirs))

	whSite := s.site(wh, ledger.SiteWarehouse)
	ev.add(ledger.EvSiteRegistered, s.must(s.c.RegisterSite(s.ctx(), s.operator(wh), whSite)))

	events := ev.check()
	if p := payload[ledger.Site](s, events[0]); p.GLN != site.GLN || p.Name != upd.Name || p.UpdatedAt.IsZero() || len(p.Locations) != 4 {
		t.Errorf("SiteUpdated payload %+v", p)
	}
	if p := payload[ledger.Site](s, events[1]); p.GLN != whSite.GLN || p.Org != wh || p.RegisteredAt.IsZero() {
		t.Errorf("SiteRegistered payload %+v", p)
	}

	// Reads.
	mine := got[[]ledger.Site](s, "ListSites(org)")(s.c.Sites(s.ctx(), admin(fx.Hospital), mfr))
	if !slices.ContainsFunc(mine, func(x ledger.Site) bool { return x.GLN == site.GLN }) || slices.ContainsFunc(mine, func(x ledger.Site) bool { return x.Org != mfr }) {
		t.Errorf("ListSites(%s) = %+v", mfr, mine)
	}
	all := got[[]ledger.Site](s, "ListSites")(s.c.Sites(s.ctx(), admin(fx.Hospital), ""))
	var glns []string
	for _, x := range all {
		glns = append(glns, x.GLN)
	}
	if !slices.Contains(glns, site.GLN) || !slices.Contains(glns, whSite.GLN) || !slices.IsSorted(glns) {
		t.Errorf("ListSites = %v", glns)
	}
	denied[ledger.Site](s, "unknown site", ledger.NotFound)(s.c.Site(s.ctx(), admin(mfr), newGLN()))
	denied[ledger.Site](s, "malformed GLN", ledger.Invalid)(s.c.Site(s.ctx(), admin(mfr), "123"))
	denied[[]ledger.Site](s, "malformed org", ledger.Invalid)(s.c.Sites(s.ctx(), admin(mfr), "a/b"))
	if fx.Outsider != "" {
		denied[ledger.Site](s, "outsider reads a site", ledger.Forbidden)(s.c.Site(s.ctx(), admin(fx.Outsider), site.GLN))
		denied[[]ledger.Site](s, "outsider lists sites", ledger.Forbidden)(s.c.Sites(s.ctx(), admin(fx.Outsider), ""))
	}
}

// lotsOf registers fresh lots of p and returns them and the last
// registration's result (a checkpoint for eventsAfter).
func (s *suite) lotsOf(p ledger.Product, names ...string) ([]ledger.Lot, ledger.Result) {
	s.t.Helper()
	var lots []ledger.Lot
	var res ledger.Result
	for _, name := range names {
		l := ledger.Lot{GTIN: p.GTIN, Lot: name, Quantity: 1000, ProducedAt: "2026-10-01", Expiry: "2028-09-30"}
		res = s.must(s.c.RegisterLot(s.ctx(), s.operator(p.Org), l))
		lots = append(lots, l)
	}
	return lots, res
}

// asInspector registers the regulator's Users[2] as regulator-inspector
// for the rest of the test, and restores its role afterwards.
func (s *suite) asInspector() ledger.Identity {
	reg := s.fx.Regulator
	s.must(s.c.RegisterUser(s.ctx(), admin(reg), ledger.User{Org: reg, ID: s.fx.Users[2], Role: ledger.RoleRegulatorInspector}))
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if _, err := s.c.RegisterUser(ctx, admin(reg), ledger.User{Org: reg, ID: s.fx.Users[2], Role: ledger.RoleHospitalReceiver}); err != nil {
			s.t.Errorf("restore role of %s: %v", s.fx.Users[2], err)
		}
	})
	return s.other(reg)
}

func testRecalls(s *suite) {
	fx, t := s.fx, s.t
	mfr, reg := fx.Manufacturer, fx.Regulator
	p := s.product()
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	inspector := s.asInspector()
	lots, start := s.lotsOf(p, "R"+s.run, "S"+s.run)
	lot, lot2 := lots[0], lots[1]
	ev := s.eventsAfter(start)
	r := ledger.Recall{GTIN: p.GTIN, Lot: lot.Lot, Reason: "filtration below EN 149 FFP2 in retained samples", Class: "I"}

	denied[ledger.Recall](s, "recall before any", ledger.NotFound)(s.c.Recall(s.ctx(), admin(mfr), p.GTIN, lot.Lot))

	// Who may recall.
	recallRefused := func(what string, code ledger.Code) func(ledger.Recall, ledger.Result, error) {
		return func(_ ledger.Recall, _ ledger.Result, err error) {
			t.Helper()
			wantCode(t, what, err, code)
		}
	}
	recallRefused("the manufacturer recalls its own lot", ledger.Forbidden)(s.c.RecallLot(s.ctx(), admin(mfr), r))
	recallRefused("a hospital admin recalls", ledger.Forbidden)(s.c.RecallLot(s.ctx(), admin(fx.Hospital), r))
	recallRefused("a regulator operator recalls", ledger.Forbidden)(s.c.RecallLot(s.ctx(), s.operator(reg), r))
	recallRefused("a regulator quality user recalls", ledger.Forbidden)(s.c.RecallLot(s.ctx(), s.quality(reg), r))
	forMfr := r
	forMfr.Org = mfr
	recallRefused("a regulator recalls in the manufacturer's name", ledger.Forbidden)(s.c.RecallLot(s.ctx(), inspector, forMfr))
	if fx.Outsider != "" {
		recallRefused("an unregistered org recalls", ledger.Forbidden)(s.c.RecallLot(s.ctx(), admin(fx.Outsider), r))
	}

	// Validation and existence.
	for _, tc := range []struct {
		what string
		edit func(*ledger.Recall)
	}{
		{"class IV", func(x *ledger.Recall) { x.Class = "IV" }},
		{"no class", func(x *ledger.Recall) { x.Class = "" }},
		{"no reason", func(x *ledger.Recall) { x.Reason = "  " }},
		{"reason over 1000 bytes", func(x *ledger.Recall) { x.Reason = strings.Repeat("x", 1001) }},
		{"GTIN check digit", func(x *ledger.Recall) { x.GTIN = withBadCheckDigit(x.GTIN) }},
		{"lot with a space", func(x *ledger.Recall) { x.Lot = "A B" }},
	} {
		bad := r
		tc.edit(&bad)
		recallRefused(tc.what, ledger.Invalid)(s.c.RecallLot(s.ctx(), inspector, bad))
	}
	unknown := r
	unknown.Lot = "NOPE" + s.run
	recallRefused("unregistered lot", ledger.NotFound)(s.c.RecallLot(s.ctx(), inspector, unknown))
	unknown = r
	unknown.GTIN = newGTIN()
	recallRefused("unregistered product", ledger.NotFound)(s.c.RecallLot(s.ctx(), inspector, unknown))

	// The inspector recalls.
	stored, res, err := s.c.RecallLot(s.ctx(), inspector, r)
	ev.add(ledger.EvLotRecalled, s.must(res, err))
	if stored.GTIN != p.GTIN || stored.Lot != lot.Lot || stored.Org != reg || stored.By != fx.Users[2] || stored.Class != "I" ||
		stored.Reason != r.Reason || stored.TxID != res.TxID || stored.IssuedAt.IsZero() {
		t.Fatalf("RecallLot returned %+v (tx %s)", stored, res.TxID)
	}
	if back := got[ledger.Recall](s, "GetRecall")(s.c.Recall(s.ctx(), s.other(fx.Hospital), p.GTIN, lot.Lot)); back != stored {
		t.Errorf("GetRecall = %+v, want %+v", back, stored)
	}
	l := got[ledger.Lot](s, "GetLot")(s.c.Lot(s.ctx(), admin(fx.Warehouse), p.GTIN, lot.Lot))
	if l.Status != ledger.LotRecalled || !strings.Contains(l.StatusReason, r.Reason) || !l.StatusAt.Equal(stored.IssuedAt) || l.Org != mfr {
		t.Errorf("recalled lot = %+v", l)
	}

	// Recalled is final.
	again := r
	again.Class = "II"
	recallRefused("second recall of a lot", ledger.Conflict)(s.c.RecallLot(s.ctx(), admin(reg), again))
	_, _, err = s.c.SetLotStatus(s.ctx(), s.quality(mfr), p.GTIN, lot.Lot, ledger.LotOK, "retested, fine")
	wantCode(t, "release of a recalled lot", err, ledger.Conflict)
	if !strings.Contains(err.Error(), "recall") {
		t.Errorf("release of a recalled lot: %v does not say the recall governs it", err)
	}
	_, _, err = s.c.SetLotStatus(s.ctx(), admin(mfr), p.GTIN, lot.Lot, ledger.LotQuarantined, "")
	wantCode(t, "quarantine of a recalled lot", err, ledger.Conflict)

	// The regulator's admin recalls another lot, class III.
	r2 := ledger.Recall{GTIN: p.GTIN, Lot: lot2.Lot, Reason: "labelling error: wrong expiry printed", Class: "III", Org: reg}
	stored2, res2, err := s.c.RecallLot(s.ctx(), admin(reg), r2)
	ev.add(ledger.EvLotRecalled, s.must(res2, err))
	if stored2.By != ledger.AdminUser || stored2.Org != reg || stored2.Class != "III" || stored2.IssuedAt.Before(stored.IssuedAt) {
		t.Errorf("second recall %+v", stored2)
	}

	events := ev.check()
	if p := payload[ledger.Recall](s, events[0]); p != stored {
		t.Errorf("LotRecalled payload %+v, want %+v", p, stored)
	}
	if p := payload[ledger.Recall](s, events[1]); p != stored2 {
		t.Errorf("LotRecalled payload %+v, want %+v", p, stored2)
	}

	all := got[[]ledger.Recall](s, "ListRecalls")(s.c.Recalls(s.ctx(), s.operator(fx.Warehouse)))
	i1 := slices.IndexFunc(all, func(x ledger.Recall) bool { return x == stored })
	i2 := slices.IndexFunc(all, func(x ledger.Recall) bool { return x == stored2 })
	if i1 < 0 || i2 < 0 || i1 > i2 {
		t.Errorf("ListRecalls: first at %d, second at %d of %d", i1, i2, len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].IssuedAt.Before(all[i-1].IssuedAt) {
			t.Errorf("ListRecalls not in IssuedAt order at %d: %v after %v", i, all[i].IssuedAt, all[i-1].IssuedAt)
		}
	}
	denied[ledger.Recall](s, "recall query with a bad GTIN", ledger.Invalid)(s.c.Recall(s.ctx(), admin(mfr), "123", lot.Lot))
	if fx.Outsider != "" {
		denied[[]ledger.Recall](s, "outsider lists recalls", ledger.Forbidden)(s.c.Recalls(s.ctx(), admin(fx.Outsider)))
		denied[ledger.Recall](s, "outsider reads a recall", ledger.Forbidden)(s.c.Recall(s.ctx(), admin(fx.Outsider), p.GTIN, lot.Lot))
	}
}
