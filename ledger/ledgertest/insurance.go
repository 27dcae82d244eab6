package ledgertest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// hashID is the documented ID scheme of policies, claims and grants,
// computed here independently of the contract: the first 32 hex digits
// of SHA-256 over the parts joined by 0x00.
func hashID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:32]
}

// newSSCC returns a random SSCC EPC URI of a 7-digit company prefix.
func newSSCC() string {
	return fmt.Sprintf("urn:epc:id:sscc:4012345.%010d", rand.Int64N(1e10))
}

func (s *suite) assessor() ledger.Identity { return s.other(s.fx.Insurer) }

func (s *suite) policyRefused(what string, code ledger.Code) func(ledger.Policy, ledger.Result, error) {
	return func(_ ledger.Policy, _ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

func (s *suite) claimRefused(what string, code ledger.Code) func(ledger.Claim, ledger.Result, error) {
	return func(_ ledger.Claim, _ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// issue issues p as id and checks the contract-set fields.
func (s *suite) issue(ev *eventLog, id ledger.Identity, p ledger.Policy) ledger.Policy {
	s.t.Helper()
	stored, res, err := s.c.IssuePolicy(s.ctx(), id, p)
	ev.add(ledger.EvPolicyIssued, s.must(res, err))
	if stored.ID != hashID("policy", res.TxID) || stored.Insurer != id.Org || stored.IssuedBy != id.User || stored.TxID != res.TxID || stored.IssuedAt.IsZero() {
		s.t.Fatalf("IssuePolicy returned %+v (tx %s)", stored, res.TxID)
	}
	return stored
}

// open opens claim x as id and checks the contract-set fields.
func (s *suite) open(ev *eventLog, id ledger.Identity, x ledger.Claim) ledger.Claim {
	s.t.Helper()
	stored, res, err := s.c.OpenClaim(s.ctx(), id, x)
	ev.add(ledger.EvClaimOpened, s.must(res, err))
	want := hashID("claim", x.Policy, x.Excursion)
	if x.Kind == ledger.ClaimManual {
		want = hashID("claim", x.Policy, "manual", res.TxID)
	}
	if stored.ID != want || stored.Status != ledger.ClaimOpen || stored.OpenedBy != id.User || stored.TxID != res.TxID || len(stored.History) != 1 ||
		stored.History[0] != (ledger.ClaimStep{Step: ledger.StepOpened, Org: id.Org, By: id.User, At: stored.OpenedAt, TxID: res.TxID, Amount: stored.Amount}) {
		s.t.Fatalf("OpenClaim returned %+v (tx %s, want ID %s)", stored, res.TxID, want)
	}
	return stored
}

func testInsurance(s *suite) {
	fx, t := s.fx, s.t
	ins, mfr, wh, hosp := fx.Insurer, fx.Manufacturer, fx.Warehouse, fx.Hospital
	p := s.product()
	p.Name, p.Kind = "Measles vaccine "+s.run, "vaccine"
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	lots, start := s.lotsOf(p, "V"+s.run, "W"+s.run, "U"+s.run)
	covered, byShipment, uncovered := lots[0], lots[1], lots[2]
	ev := s.eventsAfter(start)
	now := time.Now().UTC().Truncate(time.Second)
	ship := newSSCC()
	terms := ledger.PolicyTerms{Currency: "EUR", ColdChain: &ledger.ColdChainTerms{MaxOutOfRangeMin: 30, Payout: 500_000}, ManualCover: 200_000}
	pol := ledger.Policy{Insured: wh, Scope: ledger.PolicyScope{Lots: []ledger.LotRef{{GTIN: p.GTIN, Lot: covered.Lot}}, Shipments: []string{ship}},
		Terms: terms, ValidFrom: now.Add(-48 * time.Hour), ValidUntil: now.Add(365 * 24 * time.Hour)}

	// Who may issue.
	s.policyRefused("a manufacturer issues a policy", ledger.Forbidden)(s.c.IssuePolicy(s.ctx(), admin(mfr), pol))
	s.policyRefused("an insurer's operator issues a policy", ledger.Forbidden)(s.c.IssuePolicy(s.ctx(), s.operator(ins), pol))
	inInsurerName := pol
	inInsurerName.Insurer = ins
	s.policyRefused("a hospital issues in the insurer's name", ledger.Forbidden)(s.c.IssuePolicy(s.ctx(), admin(hosp), inInsurerName))
	if fx.Outsider != "" {
		s.policyRefused("unregistered org issues a policy", ledger.Forbidden)(s.c.IssuePolicy(s.ctx(), admin(fx.Outsider), pol))
	}
	if fx.ArbitraryUsers {
		s.policyRefused("unregistered user issues a policy", ledger.Forbidden)(s.c.IssuePolicy(s.ctx(), ledger.Identity{Org: ins, User: s.id("nobody")}, pol))
	}
	// What.
	for _, tc := range []struct {
		what string
		edit func(*ledger.Policy)
	}{
		{"empty scope", func(p *ledger.Policy) { p.Scope = ledger.PolicyScope{} }},
		{"lot twice", func(p *ledger.Policy) { p.Scope.Lots = append(p.Scope.Lots, p.Scope.Lots[0]) }},
		{"lot GTIN check digit", func(p *ledger.Policy) {
			p.Scope.Lots = []ledger.LotRef{{GTIN: withBadCheckDigit(covered.GTIN), Lot: covered.Lot}}
		}},
		{"lot number", func(p *ledger.Policy) { p.Scope.Lots = []ledger.LotRef{{GTIN: covered.GTIN, Lot: "lot with spaces"}} }},
		{"shipment not an SSCC", func(p *ledger.Policy) { p.Scope.Shipments = []string{"urn:epc:id:sgln:4012345.00000.0"} }},
		{"shipment not a URI", func(p *ledger.Policy) { p.Scope.Shipments = []string{"pallet 7"} }},
		{"shipment twice", func(p *ledger.Policy) { p.Scope.Shipments = []string{ship, ship} }},
		{"lowercase currency", func(p *ledger.Policy) { p.Terms.Currency = "eur" }},
		{"no currency", func(p *ledger.Policy) { p.Terms.Currency = "" }},
		{"no cover", func(p *ledger.Policy) { p.Terms.ColdChain, p.Terms.ManualCover = nil, 0 }},
		{"zero payout", func(p *ledger.Policy) { p.Terms.ColdChain = &ledger.ColdChainTerms{MaxOutOfRangeMin: 30} }},
		{"negative payout", func(p *ledger.Policy) { p.Terms.ColdChain = &ledger.ColdChainTerms{MaxOutOfRangeMin: 30, Payout: -5} }},
		{"negative threshold", func(p *ledger.Policy) { p.Terms.ColdChain = &ledger.ColdChainTerms{MaxOutOfRangeMin: -1, Payout: 5} }},
		{"negative manual cover", func(p *ledger.Policy) { p.Terms.ManualCover = -1 }},
		{"huge manual cover", func(p *ledger.Policy) { p.Terms.ManualCover = 1 << 62 }},
		{"until before from", func(p *ledger.Policy) { p.ValidUntil = p.ValidFrom.Add(-time.Hour) }},
		{"expired when issued", func(p *ledger.Policy) { p.ValidUntil = now.Add(-time.Hour) }},
		{"no validFrom", func(p *ledger.Policy) { p.ValidFrom = time.Time{} }},
		{"no insured", func(p *ledger.Policy) { p.Insured = "" }},
		{"insured with a slash", func(p *ledger.Policy) { p.Insured = "a/b" }},
		{"insures itself", func(p *ledger.Policy) { p.Insured = ins }},
	} {
		bad := pol
		bad.Scope.Lots = slices.Clone(pol.Scope.Lots)
		tc.edit(&bad)
		s.policyRefused(tc.what, ledger.Invalid)(s.c.IssuePolicy(s.ctx(), admin(ins), bad))
	}
	s.refused("unknown field", ledger.Invalid)(s.submitRaw(admin(ins), ledger.FnIssuePolicy, `{"insured":"`+wh+`","premium":5}`))
	s.refused("not JSON", ledger.Invalid)(s.submitRaw(admin(ins), ledger.FnIssuePolicy, `{"insured":`))
	unregistered := pol
	unregistered.Insured = s.id("NoSuchMSP")
	s.policyRefused("unregistered insured", ledger.NotFound)(s.c.IssuePolicy(s.ctx(), admin(ins), unregistered))
	unregistered = pol
	unregistered.Scope.Lots = []ledger.LotRef{{GTIN: p.GTIN, Lot: "NOPE" + s.run}}
	s.policyRefused("unregistered lot", ledger.NotFound)(s.c.IssuePolicy(s.ctx(), admin(ins), unregistered))

	// The policies: the warehouse's (cold chain and manual cover), the
	// hospital's (cold chain only), one of the warehouse's that started an
	// hour ago, and one that starts tomorrow.
	hostile := pol
	hostile.ID, hostile.Status, hostile.IssuedBy, hostile.TxID = strings.Repeat("a", 32), ledger.PolicyExpired, "mallory", "forged"
	p1 := s.issue(ev, s.assessor(), hostile)
	if p1.Status != ledger.PolicyActive || p1.Insured != wh || !p1.ValidFrom.Equal(pol.ValidFrom) || p1.Terms.ColdChain == nil || *p1.Terms.ColdChain != *terms.ColdChain {
		t.Errorf("issued policy %+v", p1)
	}
	p2 := s.issue(ev, admin(ins), ledger.Policy{Insured: hosp, Scope: ledger.PolicyScope{Lots: []ledger.LotRef{{GTIN: p.GTIN, Lot: uncovered.Lot}}},
		Terms: ledger.PolicyTerms{Currency: "CHF", ColdChain: &ledger.ColdChainTerms{MaxOutOfRangeMin: 10, Payout: 1000}}, ValidFrom: pol.ValidFrom, ValidUntil: pol.ValidUntil})
	late := pol
	late.ValidFrom = now.Add(-time.Hour)
	p3 := s.issue(ev, s.assessor(), late)
	soon := pol
	soon.ValidFrom = now.Add(24 * time.Hour)
	soon.Terms = ledger.PolicyTerms{Currency: "EUR", ManualCover: 50_000}
	p4 := s.issue(ev, s.assessor(), soon)
	if p4.Status != ledger.PolicyPending {
		t.Errorf("policy valid from tomorrow has status %q", p4.Status)
	}

	// The reefer story: excursions of the vaccine lots, recorded by the
	// warehouse.
	base := now.Add(-20 * time.Hour)
	xBelow := s.record(ev, s.operator(wh), excursion(covered, "reefer-1/logger", base, 20))
	xAbove := s.record(ev, s.operator(wh), excursion(covered, "reefer-1/logger", base.Add(2*time.Hour), 25))
	if xBelow.CumulativeMin != 20 || xAbove.CumulativeMin != 45 {
		t.Fatalf("cumulative minutes %g, %g; want 20, 45", xBelow.CumulativeMin, xAbove.CumulativeMin)
	}
	xOther := s.record(ev, s.operator(wh), excursion(uncovered, "reefer-2/logger", base, 40))
	inShip := excursion(byShipment, "reefer-3/logger", base, 35)
	inShip.Location = ship
	xShip := s.record(ev, s.operator(wh), inShip)
	cold := func(policy, excursion string) ledger.Claim {
		return ledger.Claim{Policy: policy, Kind: ledger.ClaimColdChain, Excursion: excursion}
	}

	// Who may open a claim.
	s.claimRefused("another org's policy", ledger.Forbidden)(s.c.OpenClaim(s.ctx(), admin(hosp), cold(p1.ID, xAbove.ID)))
	s.claimRefused("the insurer opens a claim", ledger.Forbidden)(s.c.OpenClaim(s.ctx(), admin(ins), cold(p1.ID, xAbove.ID)))
	s.claimRefused("hospital-receiver role opens a claim", ledger.Forbidden)(s.c.OpenClaim(s.ctx(), s.other(wh), cold(p1.ID, xAbove.ID)))
	if fx.Outsider != "" {
		s.claimRefused("outsider opens a claim", ledger.Forbidden)(s.c.OpenClaim(s.ctx(), admin(fx.Outsider), cold(p1.ID, xAbove.ID)))
	}
	// What.
	s.claimRefused("below the threshold", ledger.Invalid)(s.c.OpenClaim(s.ctx(), s.operator(wh), cold(p1.ID, xBelow.ID)))
	s.claimRefused("lot not covered", ledger.Invalid)(s.c.OpenClaim(s.ctx(), s.operator(wh), cold(p1.ID, xOther.ID)))
	s.claimRefused("excursion before the policy's validity", ledger.Invalid)(s.c.OpenClaim(s.ctx(), s.operator(wh), cold(p3.ID, xAbove.ID)))
	s.claimRefused("policy without cold-chain cover", ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(wh), cold(p4.ID, xAbove.ID)))
	s.claimRefused("unknown excursion", ledger.NotFound)(s.c.OpenClaim(s.ctx(), admin(wh), cold(p1.ID, strings.Repeat("0", 32))))
	s.claimRefused("unknown policy", ledger.NotFound)(s.c.OpenClaim(s.ctx(), admin(wh), cold(strings.Repeat("0", 32), xAbove.ID)))
	s.claimRefused("malformed policy ID", ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(wh), cold("P1", xAbove.ID)))
	s.claimRefused("malformed excursion ID", ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(wh), cold(p1.ID, "X")))
	s.claimRefused("unknown kind", ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(wh), ledger.Claim{Policy: p1.ID, Kind: "parametric", Excursion: xAbove.ID}))
	withAmount := cold(p1.ID, xAbove.ID)
	withAmount.Amount = 9_000_000
	s.claimRefused("cold-chain claim names its amount", ledger.Invalid)(s.c.OpenClaim(s.ctx(), s.operator(wh), withAmount))
	s.refused("unknown claim field", ledger.Invalid)(s.submitRaw(admin(wh), ledger.FnOpenClaim, `{"policy":"`+p1.ID+`","kind":"cold-chain","excursion":"`+xAbove.ID+`","bonus":1}`))

	// The automatic claim: the payout from the terms, the excursion's
	// evidence; once per excursion.
	c1 := s.open(ev, s.operator(wh), cold(p1.ID, xAbove.ID))
	if c1.Amount != 500_000 || c1.Currency != "EUR" || c1.Kind != ledger.ClaimColdChain || c1.GTIN != p.GTIN || c1.Lot != covered.Lot ||
		c1.Insurer != ins || c1.Insured != wh || !c1.LossAt.Equal(xAbove.Start) || !slices.Equal(c1.Evidence, xAbove.Evidence) {
		t.Errorf("cold-chain claim %+v", c1)
	}
	s.claimRefused("the same excursion again", ledger.Conflict)(s.c.OpenClaim(s.ctx(), admin(wh), cold(p1.ID, xAbove.ID)))
	xLater := s.record(ev, s.operator(wh), excursion(covered, "reefer-1/logger", base.Add(4*time.Hour), 10))
	s.claimRefused("a second live claim for the lot", ledger.Conflict)(s.c.OpenClaim(s.ctx(), admin(wh), cold(p1.ID, xLater.ID)))
	// Covered through the shipment it was measured in.
	c2 := s.open(ev, s.quality(wh), cold(p1.ID, xShip.ID))
	if c2.Lot != byShipment.Lot || c2.Amount != 500_000 {
		t.Errorf("claim through a shipment %+v", c2)
	}

	// Manual claims.
	manual := ledger.Claim{Policy: p1.ID, Kind: ledger.ClaimManual, Description: "pallet dropped at dock 3, 40 vials broken", Amount: 120_000, LossAt: now.Add(-5 * time.Hour),
		Evidence: []ledger.EvidenceRef{{EventID: newEventID(), Edge: "edge-wh1", Seq: 9}}}
	for _, tc := range []struct {
		what string
		edit func(*ledger.Claim)
	}{
		{"more than the manual cover", func(c *ledger.Claim) { c.Amount = 200_001 }},
		{"zero amount", func(c *ledger.Claim) { c.Amount = 0 }},
		{"negative amount", func(c *ledger.Claim) { c.Amount = -100 }},
		{"no description", func(c *ledger.Claim) { c.Description = "  " }},
		{"control character", func(c *ledger.Claim) { c.Description = "broken\x00" }},
		{"no loss time", func(c *ledger.Claim) { c.LossAt = time.Time{} }},
		{"loss before the policy", func(c *ledger.Claim) { c.LossAt = pol.ValidFrom.Add(-time.Minute) }},
		{"loss in the future", func(c *ledger.Claim) { c.LossAt = now.Add(2 * time.Hour) }},
		{"manual claim names an excursion", func(c *ledger.Claim) { c.Excursion = xAbove.ID }},
		{"bad evidence", func(c *ledger.Claim) {
			c.Evidence = []ledger.EvidenceRef{{EventID: "ni:///sha-256;00?ver=CBV2.0", Edge: "e"}}
		}},
	} {
		bad := manual
		tc.edit(&bad)
		s.claimRefused(tc.what, ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(wh), bad))
	}
	onP2 := manual
	onP2.Policy, onP2.Amount = p2.ID, 10
	s.claimRefused("policy without manual cover", ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(hosp), onP2))
	onP4 := manual
	onP4.Policy, onP4.LossAt = p4.ID, now.Add(-time.Minute)
	s.claimRefused("loss before a pending policy starts", ledger.Invalid)(s.c.OpenClaim(s.ctx(), admin(wh), onP4))
	c3 := s.open(ev, admin(wh), manual)
	if c3.Amount != 120_000 || c3.Description != manual.Description || len(c3.Evidence) != 1 || c3.Excursion != "" {
		t.Errorf("manual claim %+v", c3)
	}

	// Decisions: only the policy's insurer, an assessor or its admin.
	s.claimRefused("the insured settles", ledger.Forbidden)(s.c.SettleClaim(s.ctx(), admin(wh), c1.ID, 500_000, ""))
	s.claimRefused("another org settles", ledger.Forbidden)(s.c.SettleClaim(s.ctx(), admin(hosp), c1.ID, 500_000, ""))
	s.claimRefused("an insurer's operator settles", ledger.Forbidden)(s.c.SettleClaim(s.ctx(), s.operator(ins), c1.ID, 500_000, ""))
	s.claimRefused("the insured rejects", ledger.Forbidden)(s.c.RejectClaim(s.ctx(), admin(wh), c1.ID, "no"))
	s.claimRefused("cold-chain settled for less without a note", ledger.Invalid)(s.c.SettleClaim(s.ctx(), s.assessor(), c1.ID, 400_000, ""))
	s.claimRefused("settled for more than claimed", ledger.Invalid)(s.c.SettleClaim(s.ctx(), s.assessor(), c1.ID, 500_001, "bonus"))
	s.refused("amount not a whole number", ledger.Invalid)(s.l.Submit(s.ctx(), s.assessor(), ledger.FnSettleClaim, c1.ID, "4999.50", ""))
	s.claimRefused("settled for nothing", ledger.Invalid)(s.c.SettleClaim(s.ctx(), s.assessor(), c3.ID, 0, "nothing owed"))
	s.refused("negative amount", ledger.Invalid)(s.l.Submit(s.ctx(), s.assessor(), ledger.FnSettleClaim, c1.ID, "-1", ""))
	s.claimRefused("reject without a reason", ledger.Invalid)(s.c.RejectClaim(s.ctx(), s.assessor(), c1.ID, " "))
	s.claimRefused("unknown claim", ledger.NotFound)(s.c.SettleClaim(s.ctx(), s.assessor(), strings.Repeat("0", 32), 1, ""))

	st, res, err := s.c.SettleClaim(s.ctx(), s.assessor(), c1.ID, 500_000, "")
	ev.add(ledger.EvClaimSettled, s.must(res, err))
	if st.Status != ledger.ClaimSettled || st.Settled != 500_000 || len(st.History) != 2 ||
		st.History[1] != (ledger.ClaimStep{Step: ledger.StepSettled, Org: ins, By: s.assessor().User, At: st.History[1].At, TxID: res.TxID, Amount: 500_000}) {
		t.Errorf("settled claim %+v", st)
	}
	s.claimRefused("settle twice", ledger.Conflict)(s.c.SettleClaim(s.ctx(), s.assessor(), c1.ID, 500_000, ""))
	s.claimRefused("reject a settled claim", ledger.Conflict)(s.c.RejectClaim(s.ctx(), admin(ins), c1.ID, "changed our mind"))
	// A settled claim still holds the lot's payout: no new claim for it.
	s.claimRefused("a claim for a lot already paid", ledger.Conflict)(s.c.OpenClaim(s.ctx(), admin(wh), cold(p1.ID, xLater.ID)))

	const reason = "logger reefer-3 was not calibrated"
	rj, res, err := s.c.RejectClaim(s.ctx(), s.assessor(), c2.ID, reason)
	ev.add(ledger.EvClaimRejected, s.must(res, err))
	if rj.Status != ledger.ClaimRejected || rj.Settled != 0 || len(rj.History) != 2 || rj.History[1].Step != ledger.StepRejected || rj.History[1].Note != reason || rj.History[1].TxID != res.TxID {
		t.Errorf("rejected claim %+v", rj)
	}
	s.claimRefused("reject twice", ledger.Conflict)(s.c.RejectClaim(s.ctx(), s.assessor(), c2.ID, reason))
	s.claimRefused("settle a rejected claim", ledger.Conflict)(s.c.SettleClaim(s.ctx(), s.assessor(), c2.ID, 500_000, "after all"))
	// A rejected claim frees the lot: a later excursion may be claimed.
	inShip2 := excursion(byShipment, "reefer-3/logger-b", base.Add(3*time.Hour), 15)
	inShip2.Location = ship
	xShip2 := s.record(ev, s.operator(wh), inShip2)
	c4 := s.open(ev, admin(wh), cold(p1.ID, xShip2.ID))

	const note = "settled at 75%: 25% of the vials were re-tested and released"
	part, res, err := s.c.SettleClaim(s.ctx(), admin(ins), c3.ID, 90_000, note)
	ev.add(ledger.EvClaimSettled, s.must(res, err))
	if part.Settled != 90_000 || part.History[1].Note != note || part.History[1].By != ledger.AdminUser {
		t.Errorf("manual claim settled %+v", part)
	}
	part4, res, err := s.c.SettleClaim(s.ctx(), s.assessor(), c4.ID, 250_000, "shared loss with the carrier")
	ev.add(ledger.EvClaimSettled, s.must(res, err))
	if part4.Settled != 250_000 {
		t.Errorf("cold-chain claim settled with a note %+v", part4)
	}

	// The insured reads every step.
	back := got[ledger.Claim](s, "GetClaim")(s.c.Claim(s.ctx(), s.other(wh), c1.ID))
	if len(back.History) != 2 || back.History[0].Step != ledger.StepOpened || back.History[0].By != s.operator(wh).User || back.History[0].TxID != c1.TxID ||
		back.History[1].Step != ledger.StepSettled || back.History[1].Org != ins || back.History[1].At.Before(back.History[0].At) || back.Settled != 500_000 {
		t.Errorf("the insured reads %+v", back)
	}
	if pb := got[ledger.Policy](s, "GetPolicy")(s.c.Policy(s.ctx(), s.operator(wh), p1.ID)); pb.ID != p1.ID || pb.Status != ledger.PolicyActive || pb.TxID != p1.TxID {
		t.Errorf("GetPolicy = %+v", pb)
	}
	denied[ledger.Claim](s, "another org reads a claim", ledger.Forbidden)(s.c.Claim(s.ctx(), admin(fx.Regulator), c1.ID))
	denied[ledger.Policy](s, "another org reads a policy", ledger.Forbidden)(s.c.Policy(s.ctx(), admin(hosp), p1.ID))
	denied[ledger.Policy](s, "unknown policy", ledger.NotFound)(s.c.Policy(s.ctx(), admin(wh), strings.Repeat("0", 32)))
	denied[ledger.Policy](s, "malformed policy ID", ledger.Invalid)(s.c.Policy(s.ctx(), admin(wh), "../x"))
	denied[ledger.Claim](s, "unknown claim", ledger.NotFound)(s.c.Claim(s.ctx(), admin(wh), strings.Repeat("0", 32)))

	// Lists: only what the caller's org is a party to.
	polIDs := func(ps []ledger.Policy, of ...ledger.Policy) []string {
		var out []string
		for _, p := range ps {
			if slices.ContainsFunc(of, func(q ledger.Policy) bool { return q.ID == p.ID }) {
				out = append(out, p.ID)
			}
		}
		return out
	}
	mine := []ledger.Policy{p1, p2, p3, p4}
	if g := polIDs(got[[]ledger.Policy](s, "ListPolicies")(s.c.Policies(s.ctx(), admin(wh), "", "")), mine...); !slices.Equal(g, []string{p1.ID, p3.ID, p4.ID}) {
		t.Errorf("the warehouse lists policies %v", g)
	}
	if g := polIDs(got[[]ledger.Policy](s, "ListPolicies(insurer)")(s.c.Policies(s.ctx(), s.assessor(), ledger.ByInsurer, ins)), mine...); !slices.Equal(g, []string{p1.ID, p2.ID, p3.ID, p4.ID}) {
		t.Errorf("the insurer lists its policies %v", g)
	}
	if g := polIDs(got[[]ledger.Policy](s, "ListPolicies(insured)")(s.c.Policies(s.ctx(), admin(ins), ledger.ByInsured, hosp)), mine...); !slices.Equal(g, []string{p2.ID}) {
		t.Errorf("the insurer lists the hospital's policies %v", g)
	}
	if g := polIDs(got[[]ledger.Policy](s, "ListPolicies(other insurer)")(s.c.Policies(s.ctx(), admin(hosp), ledger.ByInsured, wh)), mine...); len(g) != 0 {
		t.Errorf("the hospital lists the warehouse's policies %v", g)
	}
	claimIDs := func(xs []ledger.Claim) []string {
		var out []string
		for _, x := range xs {
			if x.Policy == p1.ID {
				out = append(out, x.ID)
			}
		}
		return out
	}
	wantClaims := []string{c1.ID, c2.ID, c3.ID, c4.ID}
	if g := claimIDs(got[[]ledger.Claim](s, "ListClaims(policy)")(s.c.Claims(s.ctx(), s.quality(wh), ledger.ByPolicy, p1.ID))); !slices.Equal(g, wantClaims) {
		t.Errorf("ListClaims(policy) = %v, want %v", g, wantClaims)
	}
	if g := claimIDs(got[[]ledger.Claim](s, "ListClaims(insured)")(s.c.Claims(s.ctx(), s.assessor(), ledger.ByInsured, wh))); !slices.Equal(g, wantClaims) {
		t.Errorf("ListClaims(insured) = %v, want %v", g, wantClaims)
	}
	if g := claimIDs(got[[]ledger.Claim](s, "ListClaims(insurer)")(s.c.Claims(s.ctx(), admin(wh), ledger.ByInsurer, ins))); !slices.Equal(g, wantClaims) {
		t.Errorf("ListClaims(insurer) = %v, want %v", g, wantClaims)
	}
	if g := claimIDs(got[[]ledger.Claim](s, "ListClaims")(s.c.Claims(s.ctx(), admin(hosp), "", ""))); len(g) != 0 {
		t.Errorf("the hospital lists the warehouse's claims %v", g)
	}
	denied[[]ledger.Claim](s, "unknown list filter", ledger.Invalid)(s.c.Claims(s.ctx(), admin(wh), "lot", covered.Lot))
	denied[[]ledger.Claim](s, "malformed policy filter", ledger.Invalid)(s.c.Claims(s.ctx(), admin(wh), ledger.ByPolicy, "x"))
	denied[[]ledger.Policy](s, "filter value without filter", ledger.Invalid)(s.c.Policies(s.ctx(), admin(wh), "", wh))
	if fx.Outsider != "" {
		denied[[]ledger.Policy](s, "outsider lists policies", ledger.Forbidden)(s.c.Policies(s.ctx(), admin(fx.Outsider), "", ""))
		denied[[]ledger.Claim](s, "outsider lists claims", ledger.Forbidden)(s.c.Claims(s.ctx(), admin(fx.Outsider), "", ""))
	}

	// Events: one per transaction, the stored record as payload.
	events := ev.check()
	for _, e := range events {
		switch e.Name {
		case ledger.EvPolicyIssued:
			if x := payload[ledger.Policy](s, e); x.TxID != e.TxID || x.ID != hashID("policy", e.TxID) {
				t.Errorf("PolicyIssued payload %+v", x)
			}
		case ledger.EvClaimOpened, ledger.EvClaimSettled, ledger.EvClaimRejected:
			x := payload[ledger.Claim](s, e)
			if last := x.History[len(x.History)-1]; last.TxID != e.TxID {
				t.Errorf("%s payload's last step %+v", e.Name, last)
			}
		}
	}
}
