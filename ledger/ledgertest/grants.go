package ledgertest

import (
	"slices"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

func (s *suite) grantRefused(what string, code ledger.Code) func(ledger.Grant, ledger.Result, error) {
	return func(_ ledger.Grant, _ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// checkDenied checks that CheckGrant refuses with Forbidden and a message
// containing why.
func (s *suite) checkDenied(what, why string, id ledger.Identity, owner, grantee string, sc ledger.GrantScope, at time.Time) {
	s.t.Helper()
	_, err := s.c.CheckGrant(s.ctx(), id, owner, grantee, sc, at)
	wantCode(s.t, what, err, ledger.Forbidden)
	if !strings.Contains(err.Error(), why) {
		s.t.Errorf("%s: %v does not say %q", what, err, why)
	}
}

func testGrants(s *suite) {
	fx, t := s.fx, s.t
	mfr, wh, hosp, reg := fx.Manufacturer, fx.Warehouse, fx.Hospital, fx.Regulator
	p := s.product()
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	lots, start := s.lotsOf(p, "G"+s.run)
	lot := lots[0]
	ev := s.eventsAfter(start)
	now := time.Now().UTC().Truncate(time.Second)
	month := now.Add(30 * 24 * time.Hour)
	sensors := ledger.GrantScope{Kind: ledger.GrantLotSensors, GTIN: p.GTIN, Lot: lot.Lot}
	g := ledger.Grant{Grantee: hosp, Scope: sensors, Purpose: "verify the cold chain of delivered vaccine lots", ValidUntil: month}

	// Who may grant.
	s.grantRefused("an operator grants", ledger.Forbidden)(s.c.GrantAccess(s.ctx(), s.operator(mfr), g))
	s.grantRefused("quality grants", ledger.Forbidden)(s.c.GrantAccess(s.ctx(), s.quality(mfr), g))
	inMfrName := g
	inMfrName.Owner = mfr
	s.grantRefused("another org's admin grants in its name", ledger.Forbidden)(s.c.GrantAccess(s.ctx(), admin(wh), inMfrName))
	if fx.Outsider != "" {
		s.grantRefused("unregistered org grants", ledger.Forbidden)(s.c.GrantAccess(s.ctx(), admin(fx.Outsider), g))
	}
	// What.
	for _, tc := range []struct {
		what string
		edit func(*ledger.Grant)
	}{
		{"no purpose", func(g *ledger.Grant) { g.Purpose = " " }},
		{"purpose with a control character", func(g *ledger.Grant) { g.Purpose = "x\x07" }},
		{"purpose too long", func(g *ledger.Grant) { g.Purpose = strings.Repeat("p", 1001) }},
		{"unknown kind", func(g *ledger.Grant) { g.Scope.Kind = "everything" }},
		{"lot without GTIN", func(g *ledger.Grant) { g.Scope.GTIN = "" }},
		{"GTIN check digit", func(g *ledger.Grant) { g.Scope.GTIN = withBadCheckDigit(p.GTIN) }},
		{"expired when issued", func(g *ledger.Grant) { g.ValidFrom, g.ValidUntil = now.Add(-48*time.Hour), now.Add(-time.Hour) }},
		{"until before from", func(g *ledger.Grant) { g.ValidFrom, g.ValidUntil = now.Add(48*time.Hour), now.Add(24*time.Hour) }},
		{"no validUntil", func(g *ledger.Grant) { g.ValidUntil = time.Time{} }},
		{"no grantee", func(g *ledger.Grant) { g.Grantee = "" }},
		{"grantee with a slash", func(g *ledger.Grant) { g.Grantee = "a/b" }},
		{"grant to itself", func(g *ledger.Grant) { g.Grantee = mfr }},
	} {
		bad := g
		tc.edit(&bad)
		s.grantRefused(tc.what, ledger.Invalid)(s.c.GrantAccess(s.ctx(), admin(mfr), bad))
	}
	s.refused("unknown field", ledger.Invalid)(s.submitRaw(admin(mfr), ledger.FnGrantAccess, `{"grantee":"`+hosp+`","scope":{"kind":"alerts"},"purpose":"x","validUntil":"`+month.Format(time.RFC3339)+`","write":true}`))
	unknown := g
	unknown.Grantee = s.id("NoSuchMSP")
	s.grantRefused("unregistered grantee", ledger.NotFound)(s.c.GrantAccess(s.ctx(), admin(mfr), unknown))

	grant := func(g ledger.Grant) ledger.Grant {
		t.Helper()
		stored, res, err := s.c.GrantAccess(s.ctx(), admin(mfr), g)
		ev.add(ledger.EvAccessGranted, s.must(res, err))
		if stored.ID != hashID("grant", res.TxID) || stored.Owner != mfr || stored.GrantedBy != ledger.AdminUser || stored.TxID != res.TxID || stored.Revoked != nil {
			t.Fatalf("GrantAccess returned %+v (tx %s)", stored, res.TxID)
		}
		return stored
	}
	hostile := g
	hostile.ID, hostile.GrantedBy, hostile.Revoked = strings.Repeat("b", 32), "mallory", &ledger.Revocation{By: "x"}
	g1 := grant(hostile)
	if g1.Status != ledger.GrantActive || g1.Scope != sensors || !g1.ValidFrom.Equal(g1.GrantedAt) || !g1.ValidUntil.Equal(month) || g1.Purpose != g.Purpose {
		t.Errorf("grant %+v", g1)
	}
	g2 := grant(ledger.Grant{Grantee: hosp, Scope: ledger.GrantScope{Kind: ledger.GrantReceipts}, Purpose: "reconcile deliveries", ValidFrom: now.Add(-time.Hour), ValidUntil: month})
	g3 := grant(ledger.Grant{Grantee: wh, Scope: ledger.GrantScope{Kind: ledger.GrantAlerts}, Purpose: "act on cold-chain alerts", ValidUntil: month})
	custody := ledger.GrantScope{Kind: ledger.GrantLotCustody, GTIN: p.GTIN}
	g4 := grant(ledger.Grant{Grantee: hosp, Scope: custody, Purpose: "audit next month", ValidFrom: now.Add(10 * 24 * time.Hour), ValidUntil: now.Add(20 * 24 * time.Hour)})
	if g4.Status != ledger.GrantPending {
		t.Errorf("grant valid from next week has status %q", g4.Status)
	}
	alerts := ledger.GrantScope{Kind: ledger.GrantAlerts}
	g5 := grant(ledger.Grant{Grantee: hosp, Scope: alerts, Purpose: "one-hour incident review", ValidUntil: now.Add(time.Hour)})

	// Revocation: only the owner's admin, once.
	s.grantRefused("the grantee revokes", ledger.Forbidden)(s.c.RevokeGrant(s.ctx(), admin(wh), g3.ID, "no"))
	s.grantRefused("an operator revokes", ledger.Forbidden)(s.c.RevokeGrant(s.ctx(), s.operator(mfr), g3.ID, "no"))
	s.grantRefused("revoke without a reason", ledger.Invalid)(s.c.RevokeGrant(s.ctx(), admin(mfr), g3.ID, ""))
	s.grantRefused("revoke an unknown grant", ledger.NotFound)(s.c.RevokeGrant(s.ctx(), admin(mfr), strings.Repeat("0", 32), "gone"))
	s.grantRefused("revoke a malformed ID", ledger.Invalid)(s.c.RevokeGrant(s.ctx(), admin(mfr), "g3", "gone"))
	const why = "contract with the warehouse ended"
	rv, res, err := s.c.RevokeGrant(s.ctx(), admin(mfr), g3.ID, why)
	ev.add(ledger.EvAccessRevoked, s.must(res, err))
	if rv.Status != ledger.GrantRevoked || rv.Revoked == nil || rv.Revoked.Reason != why || rv.Revoked.By != ledger.AdminUser || rv.Revoked.TxID != res.TxID || rv.Revoked.At.IsZero() {
		t.Errorf("revoked grant %+v", rv)
	}
	s.grantRefused("revoke twice", ledger.Conflict)(s.c.RevokeGrant(s.ctx(), admin(mfr), g3.ID, why))

	// CheckGrant: the live grant that covers it, or why not.
	check := func(what string, id ledger.Identity, grantee string, sc ledger.GrantScope, at time.Time, want ledger.Grant) {
		t.Helper()
		back := got[ledger.Grant](s, what)(s.c.CheckGrant(s.ctx(), id, mfr, grantee, sc, at))
		if back.ID != want.ID || back.Status != ledger.GrantActive {
			t.Errorf("%s: CheckGrant = %s (%s), want %s", what, back.ID, back.Status, want.ID)
		}
	}
	check("the grantee checks its lot grant", s.other(hosp), hosp, sensors, time.Time{}, g1)
	check("the owner checks", s.operator(mfr), hosp, sensors, now.Add(time.Hour), g1)
	check("an all-products grant", admin(hosp), hosp, ledger.GrantScope{Kind: ledger.GrantReceipts, GTIN: p.GTIN, Lot: lot.Lot}, time.Time{}, g2)
	check("a product grant covers its lots", admin(hosp), hosp, ledger.GrantScope{Kind: ledger.GrantLotCustody, GTIN: p.GTIN, Lot: lot.Lot}, now.Add(15*24*time.Hour), g4)
	check("an alerts grant within its hour", admin(hosp), hosp, alerts, time.Time{}, g5)
	s.checkDenied("another lot", "outside the scope", admin(hosp), mfr, hosp, ledger.GrantScope{Kind: ledger.GrantLotSensors, GTIN: p.GTIN, Lot: "OTHER"}, time.Time{})
	s.checkDenied("another product", "outside the scope", admin(hosp), mfr, hosp, ledger.GrantScope{Kind: ledger.GrantLotSensors, GTIN: newGTIN()}, time.Time{})
	s.checkDenied("not yet valid", "valid only from", admin(hosp), mfr, hosp, custody, time.Time{})
	s.checkDenied("expired", "expired", admin(hosp), mfr, hosp, alerts, now.Add(2*time.Hour))
	s.checkDenied("after the lot grant", "expired", admin(hosp), mfr, hosp, sensors, month.Add(time.Second))
	s.checkDenied("revoked", "revoked", admin(wh), mfr, wh, alerts, time.Time{})
	s.checkDenied("no grant at all", "no access", admin(reg), mfr, reg, alerts, time.Time{})
	s.checkDenied("a third org asks", "may check", admin(reg), mfr, hosp, sensors, time.Time{})
	s.checkDenied("the other way round", "no access", admin(hosp), hosp, mfr, sensors, time.Time{})
	denied[ledger.Grant](s, "bad scope kind", ledger.Invalid)(s.c.CheckGrant(s.ctx(), admin(hosp), mfr, hosp, ledger.GrantScope{Kind: "all"}, time.Time{}))
	_, err = s.l.Evaluate(s.ctx(), admin(hosp), ledger.FnCheckGrant, mfr, hosp, `{"kind":"alerts"}`, "yesterday")
	wantCode(t, "bad time", err, ledger.Invalid)
	_, err = s.l.Evaluate(s.ctx(), admin(hosp), ledger.FnCheckGrant, mfr, hosp, `{"kind":"alerts","extra":1}`)
	wantCode(t, "unknown scope field", err, ledger.Invalid)

	// Reads.
	if back := got[ledger.Grant](s, "GetGrant")(s.c.Grant(s.ctx(), s.other(hosp), g1.ID)); back.ID != g1.ID || back.Status != ledger.GrantActive || back.Purpose != g1.Purpose {
		t.Errorf("GetGrant = %+v", back)
	}
	if back := got[ledger.Grant](s, "GetGrant(revoked)")(s.c.Grant(s.ctx(), admin(wh), g3.ID)); back.Status != ledger.GrantRevoked || back.Revoked == nil {
		t.Errorf("GetGrant(revoked) = %+v", back)
	}
	denied[ledger.Grant](s, "a third org reads a grant", ledger.Forbidden)(s.c.Grant(s.ctx(), admin(reg), g1.ID))
	denied[ledger.Grant](s, "unknown grant", ledger.NotFound)(s.c.Grant(s.ctx(), admin(mfr), strings.Repeat("0", 32)))
	mine := []string{g1.ID, g2.ID, g3.ID, g4.ID, g5.ID}
	ids := func(gs []ledger.Grant) []string {
		var out []string
		for _, g := range gs {
			if slices.Contains(mine, g.ID) {
				out = append(out, g.ID)
			}
		}
		return out
	}
	if l := ids(got[[]ledger.Grant](s, "ListGrants(owner)")(s.c.Grants(s.ctx(), s.operator(mfr), ledger.ByOwner, mfr))); !slices.Equal(l, mine) {
		t.Errorf("ListGrants(owner) = %v, want %v", l, mine)
	}
	if l := ids(got[[]ledger.Grant](s, "ListGrants(grantee)")(s.c.Grants(s.ctx(), admin(hosp), ledger.ByGrantee, hosp))); !slices.Equal(l, []string{g1.ID, g2.ID, g4.ID, g5.ID}) {
		t.Errorf("ListGrants(grantee) = %v", l)
	}
	if l := ids(got[[]ledger.Grant](s, "ListGrants")(s.c.Grants(s.ctx(), admin(wh), "", ""))); !slices.Equal(l, []string{g3.ID}) {
		t.Errorf("the warehouse lists %v", l)
	}
	if l := ids(got[[]ledger.Grant](s, "ListGrants(other grantee)")(s.c.Grants(s.ctx(), admin(reg), ledger.ByGrantee, hosp))); len(l) != 0 {
		t.Errorf("the regulator lists the hospital's grants %v", l)
	}
	denied[[]ledger.Grant](s, "unknown list filter", ledger.Invalid)(s.c.Grants(s.ctx(), admin(mfr), "purpose", "x"))
	if fx.Outsider != "" {
		denied[[]ledger.Grant](s, "outsider lists grants", ledger.Forbidden)(s.c.Grants(s.ctx(), admin(fx.Outsider), "", ""))
		denied[ledger.Grant](s, "outsider checks a grant", ledger.Forbidden)(s.c.CheckGrant(s.ctx(), admin(fx.Outsider), mfr, fx.Outsider, alerts, time.Time{}))
	}

	events := ev.check()
	for _, e := range events {
		if x := payload[ledger.Grant](s, e); x.Owner != mfr || (e.Name == ledger.EvAccessGranted) != (x.TxID == e.TxID) {
			t.Errorf("%s payload %+v", e.Name, x)
		}
	}
}
