package ledgertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// The roles matrix: every action that changes who holds, owes or may see
// something, tried by every identity the fixture offers. Who may is stated
// here, per action, from the product's rules ("only a charity allocates
// its stock, only the receiving hospital confirms receipt, only the
// insurer settles its claims, only the owner grants or revokes, only the
// regulator recalls", and docs/ledger-records.md for the rest), never from
// what the contract happens to do. Every allowed caller succeeds on fresh
// prerequisites of its own; every other one is refused with Forbidden (but
// see notRegistered) and leaves the records it aimed at as they were.

// roleCaller is one identity of the matrix.
type roleCaller struct {
	name string
	id   ledger.Identity
	// kind is the kind the suite registered the org with; "" when the
	// org is not registered.
	kind string
	// role is the role the suite registered the user with (org-admin for
	// an org's admin); "" when the user is not registered.
	role string
}

func (c roleCaller) org() string { return c.id.Org }

// is reports whether the caller holds one of roles.
func (c roleCaller) is(roles ...string) bool { return c.role != "" && slices.Contains(roles, c.role) }

// member reports whether the caller's org is registered.
func (c roleCaller) member() bool { return c.kind != "" }

// roleAction is one row of the matrix.
type roleAction struct {
	name string
	// charity: the row needs the fixture's charity.
	charity bool
	// allowed is the rule: who may.
	allowed func(c roleCaller) bool
	// refusedWith is the code a refused caller gets; nil: Forbidden.
	refusedWith func(c roleCaller) ledger.Code
	// prepare makes the prerequisites of n allowed calls (each gets its
	// own) and of the refused ones (which share one target), in the
	// row's own subtest.
	prepare func(s *suite, n int) roleTry
}

// roleTry is how a row is tried.
type roleTry struct {
	// do makes the call as c: the k-th allowed caller (k ≥ 0) on its own
	// prerequisites, checking what the call returned; a refused one
	// (k = -1) on the shared target.
	do func(c roleCaller, k int) error
	// state renders what a refused call by c must leave unchanged; nil
	// for reads.
	state func(c roleCaller) string
}

// rendered renders a read for comparing the ledger before and after a
// refused call.
func rendered[T any](v T, err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "not JSON: " + err.Error()
	}
	return string(raw)
}

// expect checks an allowed call's record: ok false is an error showing
// it.
func expect[T any](ok func(T) bool) func(T, error) error {
	return func(v T, err error) error {
		if err != nil {
			return err
		}
		if !ok(v) {
			return fmt.Errorf("returned %+v", v)
		}
		return nil
	}
}

// expect3 is expect for a submit returning a record.
func expect3[T any](ok func(T) bool) func(T, ledger.Result, error) error {
	e := expect(ok)
	return func(v T, _ ledger.Result, err error) error { return e(v, err) }
}

// roleCallers are the fixture's identities with the roles the suite
// registers: every org's admin and Users[0..2], the outsider's admin, and
// an unregistered user of every org when the ledger can sign as one.
func (s *suite) roleCallers() []roleCaller {
	fx := s.fx
	type org struct {
		id, kind string
		roles    [3]string // of Users[0..2]
	}
	usual := [3]string{ledger.RoleOperator, ledger.RoleQuality, ledger.RoleHospitalReceiver}
	orgs := []org{
		{fx.Manufacturer, ledger.OrgManufacturer, usual},
		{fx.Warehouse, ledger.OrgWarehouse, usual},
		{fx.Regulator, ledger.OrgRegulator, [3]string{ledger.RoleOperator, ledger.RoleQuality, ledger.RoleRegulatorInspector}}, // asInspector
		{fx.Hospital, ledger.OrgHospital, usual},
		{fx.Insurer, ledger.OrgInsurer, [3]string{ledger.RoleOperator, ledger.RoleQuality, ledger.RoleInsurerAssessor}},
	}
	if fx.Charity != "" {
		orgs = append(orgs, org{fx.Charity, ledger.OrgCharity, [3]string{ledger.RoleCharityOfficer, ledger.RoleOperator, ledger.RoleQuality}})
	}
	var cs []roleCaller
	for _, o := range orgs {
		cs = append(cs, roleCaller{name: o.kind + " admin", id: admin(o.id), kind: o.kind, role: ledger.RoleOrgAdmin})
		for i, role := range o.roles {
			cs = append(cs, roleCaller{name: o.kind + " " + role, id: ledger.Identity{Org: o.id, User: fx.Users[i]}, kind: o.kind, role: role})
		}
		if fx.ArbitraryUsers {
			cs = append(cs, roleCaller{name: o.kind + " unregistered user", id: ledger.Identity{Org: o.id, User: s.id("nobody")}, kind: o.kind})
		}
	}
	if fx.Outsider != "" {
		cs = append(cs, roleCaller{name: "unregistered org's admin", id: admin(fx.Outsider), role: ledger.RoleOrgAdmin})
	}
	return cs
}

// testRoles runs the matrix. Each row is a subtest; the summary says how
// many callers each row allows and refuses.
func testRoles(s *suite) {
	fx, t := s.fx, s.t
	began := time.Now()
	s.asInspector()
	if fx.Charity != "" {
		s.setupCharity()
	}
	callers := s.roleCallers()
	// The table of callers is the suite's registrations: check it against
	// what the contract says of each.
	for _, c := range callers {
		who := got[ledger.Whoami](s, "Whoami "+c.name)(s.c.Whoami(s.ctx(), c.id))
		if who.Role != c.role || who.OrgRegistered != c.member() {
			t.Fatalf("%s (%s): the contract says role %q, org registered %v", c.name, c.id, who.Role, who.OrgRegistered)
		}
	}

	rows := s.roleActions()
	type tally struct {
		name             string
		allowed, refused int
		allowedBy        string
		skipped          bool
	}
	var tallies []tally
	for _, a := range rows {
		tl := tally{name: a.name}
		if a.charity && fx.Charity == "" {
			tl.skipped = true
			tallies = append(tallies, tl)
			continue
		}
		var allowed, refused []roleCaller
		for _, c := range callers {
			if a.allowed(c) {
				allowed = append(allowed, c)
			} else {
				refused = append(refused, c)
			}
		}
		tl.allowed, tl.refused, tl.allowedBy = len(allowed), len(refused), byOrgKind(allowed)
		tallies = append(tallies, tl)
		t.Run(a.name, func(t *testing.T) {
			if len(allowed) == 0 || len(refused) == 0 {
				t.Fatalf("the rule allows %d and refuses %d callers: a row tries both", len(allowed), len(refused))
			}
			ss := *s
			ss.t = t
			try := a.prepare(&ss, len(allowed))
			for _, c := range refused {
				what := fmt.Sprintf("%s as %s (%s)", a.name, c.name, c.id)
				var before string
				if try.state != nil {
					before = try.state(c)
				}
				code := ledger.Forbidden
				if a.refusedWith != nil {
					code = a.refusedWith(c)
				}
				wantCode(t, what, try.do(c, -1), code)
				if try.state != nil {
					if after := try.state(c); after != before {
						t.Errorf("%s was refused but changed the ledger:\nbefore %s\nafter  %s", what, before, after)
					}
				}
			}
			for k, c := range allowed {
				if err := try.do(c, k); err != nil {
					t.Errorf("%s as %s (%s): %v; the rule allows it", a.name, c.name, c.id, err)
				}
			}
		})
	}

	var b strings.Builder
	actions, pairs, nAllowed, nRefused := 0, 0, 0, 0
	for _, tl := range tallies {
		if tl.skipped {
			fmt.Fprintf(&b, "\n  %-36s skipped: the fixture names no charity", tl.name)
			continue
		}
		actions++
		pairs += tl.allowed + tl.refused
		nAllowed += tl.allowed
		nRefused += tl.refused
		fmt.Fprintf(&b, "\n  %-36s %2d allowed, %2d refused  (%s)", tl.name+":", tl.allowed, tl.refused, tl.allowedBy)
	}
	t.Logf("roles matrix: %d actions × %d callers = %d pairs, %d allowed, %d refused, in %s%s",
		actions, len(callers), pairs, nAllowed, nRefused, time.Since(began).Round(100*time.Millisecond), b.String())
}

// byOrgKind names callers compactly: their roles by org kind, kinds with
// the same roles together ("manufacturer, warehouse: org-admin, operator").
func byOrgKind(cs []roleCaller) string {
	var kinds []string
	roles := map[string][]string{}
	for _, c := range cs {
		kind, role := c.kind, c.role
		if kind == "" {
			kind = "unregistered org"
		}
		if role == "" {
			role = "unregistered user"
		}
		if _, ok := roles[kind]; !ok {
			kinds = append(kinds, kind)
		}
		roles[kind] = append(roles[kind], role)
	}
	var groups []string
	byRoles := map[string][]string{}
	for _, k := range kinds {
		r := strings.Join(roles[k], ", ")
		if _, ok := byRoles[r]; !ok {
			groups = append(groups, r)
		}
		byRoles[r] = append(byRoles[r], k)
	}
	parts := make([]string, len(groups))
	for i, r := range groups {
		parts[i] = strings.Join(byRoles[r], ", ") + ": " + r
	}
	return strings.Join(parts, "; ")
}

// roleActions is the matrix's rows.
func (s *suite) roleActions() []roleAction {
	fx := s.fx
	mfr, wh, reg, hosp, ins, ch := fx.Manufacturer, fx.Warehouse, fx.Regulator, fx.Hospital, fx.Insurer, fx.Charity
	const (
		orgAdmin  = ledger.RoleOrgAdmin
		operator  = ledger.RoleOperator
		quality   = ledger.RoleQuality
		officer   = ledger.RoleCharityOfficer
		receiver  = ledger.RoleHospitalReceiver
		assessor  = ledger.RoleInsurerAssessor
		inspector = ledger.RoleRegulatorInspector
	)
	pub := admin(reg) // reads open to every member
	now := time.Now().UTC().Truncate(time.Second)

	// Shared prerequisites, made once: a product with a storage profile,
	// a lot no allowed call touches (the refused calls' target) and a lot
	// for excursions.
	p := s.product()
	p.Name = "Roles vaccine " + s.run
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	lots, _ := s.lotsOf(p, "RT"+s.run, "RX"+s.run)
	lotT, lotX := lots[0], lots[1]
	lotState := func(s *suite, l ledger.Lot) string { return rendered(s.c.Lot(s.ctx(), pub, l.GTIN, l.Lot)) }
	freshLots := func(s *suite, tag string, n int) []ledger.Lot {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("%s%s-%d", tag, s.run, i)
		}
		ls, _ := s.lotsOf(p, names...)
		return ls
	}

	// Donations: an item of this run, a received pledge as the charity's
	// stock (its donor identity kept), and an open request to allocate to.
	item := ledger.DonationItem{Kind: "roles-" + s.run, Name: "Nitrile gloves"}
	var stockPledge ledger.Pledge
	var bigRequest ledger.DonationRequest
	officerID := ledger.Identity{Org: ch, User: fx.Users[0]}
	donor := json.RawMessage(`{"name":"Roles Donor","run":"` + s.run + `"}`)
	if ch != "" {
		_, hash := receiptCode()
		stockPledge, _ = donMust[ledger.Pledge](s, "stock pledge")(s.c.RecordPledge(s.ctx(), officerID,
			ledger.Pledge{DonorPseudonym: "donor-roles", Kind: ledger.PledgeGoods, Item: &item, Quantity: 100, ReceiptCodeHash: hash}))
		donMust[ledger.Pledge](s, "stock received")(s.c.ConfirmPledgeReceipt(s.ctx(), officerID, stockPledge.ID, 100))
		s.must(s.c.PutDonorIdentity(s.ctx(), officerID, stockPledge.ID, donor))
		bigRequest, _ = donMust[ledger.DonationRequest](s, "request")(s.c.RequestDonation(s.ctx(), admin(hosp),
			ledger.DonationRequest{Item: item, Quantity: 1000, Urgency: "normal", HospitalRole: "general-clinic"}))
	}
	moneyPledges := func(s *suite, n int) []ledger.Pledge {
		ps := make([]ledger.Pledge, n)
		for i := range ps {
			_, hash := receiptCode()
			ps[i], _ = donMust[ledger.Pledge](s, "pledge")(s.c.RecordPledge(s.ctx(), officerID,
				ledger.Pledge{DonorPseudonym: "donor-roles-money", Kind: ledger.PledgeMoney, Amount: 5000, Currency: "EUR", ReceiptCodeHash: hash}))
		}
		return ps
	}
	allocation := func(charity string) ledger.Allocation {
		return ledger.Allocation{Charity: charity, Hospital: hosp, Item: item, Quantity: 1, Reason: "roles matrix: one box for the clinic", RequestIDs: []string{bigRequest.ID}}
	}
	allocations := func(s *suite, n int, shipped bool) []ledger.Allocation {
		as := make([]ledger.Allocation, n)
		for i := range as {
			as[i], _ = donMust[ledger.Allocation](s, "allocation")(s.c.Allocate(s.ctx(), officerID, allocation("")))
			if shipped {
				as[i], _ = donMust[ledger.Allocation](s, "shipment")(s.c.ShipAllocation(s.ctx(), officerID, as[i].ID, ledger.Shipment{Pallets: []string{newSSCC()}, Quantity: 1}))
			}
		}
		return as
	}
	donationState := func(s *suite) string {
		stock := got[[]ledger.DonationStock](s, "stock")(s.c.DonationStock(s.ctx(), pub, ch))
		var mine []ledger.DonationStock
		for _, st := range stock {
			if st.Item.Kind == item.Kind {
				mine = append(mine, st)
			}
		}
		as := got[[]ledger.Allocation](s, "allocations")(s.c.Allocations(s.ctx(), pub, hosp))
		var ids []string
		for _, a := range as {
			if a.Item.Kind == item.Kind {
				ids = append(ids, a.ID+" "+a.Status)
			}
		}
		return rendered(mine, nil) + rendered(ids, nil) + rendered(s.c.Request(s.ctx(), pub, bigRequest.ID))
	}

	// Insurance: a policy of the insurer for the warehouse, with manual
	// cover.
	policy := ledger.Policy{Insured: wh, Scope: ledger.PolicyScope{Lots: []ledger.LotRef{{GTIN: p.GTIN, Lot: lotT.Lot}}},
		Terms: ledger.PolicyTerms{Currency: "EUR", ManualCover: 1_000_000}, ValidFrom: now.Add(-48 * time.Hour), ValidUntil: now.Add(365 * 24 * time.Hour)}
	pol, _, err := s.c.IssuePolicy(s.ctx(), admin(ins), policy)
	if err != nil {
		s.t.Fatalf("IssuePolicy: %v", err)
	}
	manual := ledger.Claim{Policy: pol.ID, Kind: ledger.ClaimManual, Description: "roles matrix: pallet dropped at dock 2", Amount: 1000, LossAt: now.Add(-time.Hour)}
	claims := func(s *suite, n int) []ledger.Claim {
		xs := make([]ledger.Claim, n)
		for i := range xs {
			xs[i], _ = donMust[ledger.Claim](s, "claim")(s.c.OpenClaim(s.ctx(), s.operator(wh), manual))
		}
		return xs
	}
	policiesOfT := func(s *suite) string {
		ps := got[[]ledger.Policy](s, "policies")(s.c.Policies(s.ctx(), admin(wh), ledger.ByInsured, wh))
		var ids []string
		for _, x := range ps {
			if slices.Contains(x.Scope.Lots, ledger.LotRef{GTIN: p.GTIN, Lot: lotT.Lot}) {
				ids = append(ids, x.ID+" "+x.Insurer)
			}
		}
		return rendered(ids, nil)
	}

	// Grants.
	purpose := "roles matrix " + s.run
	alerts := ledger.GrantScope{Kind: ledger.GrantAlerts}
	grantsTo := func(s *suite, grantee string) string {
		gs := got[[]ledger.Grant](s, "grants")(s.c.Grants(s.ctx(), admin(grantee), ledger.ByGrantee, grantee))
		var ids []string
		for _, g := range gs {
			if g.Purpose == purpose {
				ids = append(ids, g.ID+" "+g.Owner+" "+g.Status)
			}
		}
		return rendered(ids, nil)
	}
	grants := func(s *suite, n int, scope ledger.GrantScope) []ledger.Grant {
		gs := make([]ledger.Grant, n)
		for i := range gs {
			gs[i], _ = donMust[ledger.Grant](s, "grant")(s.c.GrantAccess(s.ctx(), admin(mfr),
				ledger.Grant{Grantee: hosp, Scope: scope, Purpose: purpose, ValidUntil: now.Add(30 * 24 * time.Hour)}))
		}
		return gs
	}

	// The rows' shapes.
	requestDonation := func(hospital string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			r := ledger.DonationRequest{Hospital: hospital, Item: item, Quantity: 500, Urgency: "high", HospitalRole: "designated-fever-hospital"}
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(x ledger.DonationRequest) bool {
						return x.Hospital == c.org() && x.CreatedBy == c.id.User && x.Status == ledger.RequestOpen
					})(s.c.RequestDonation(s.ctx(), c.id, r))
				},
				state: func(c roleCaller) string {
					org := hospital
					if org == "" {
						org = c.org()
					}
					rs := got[[]ledger.DonationRequest](s, "requests")(s.c.Requests(s.ctx(), pub, org))
					var ids []string
					for _, x := range rs {
						if x.Item.Kind == item.Kind && x.Quantity == 500 {
							ids = append(ids, x.ID)
						}
					}
					return rendered(ids, nil)
				},
			}
		}
	}
	recordPledge := func(charity string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			_, shared := receiptCode()
			pl := ledger.Pledge{Charity: charity, DonorPseudonym: "donor-roles-" + s.run, Kind: ledger.PledgeGoods, Item: &item, Quantity: 5, ReceiptCodeHash: shared}
			return roleTry{
				do: func(c roleCaller, k int) error {
					x := pl
					if k >= 0 {
						_, x.ReceiptCodeHash = receiptCode()
					}
					return expect3(func(y ledger.Pledge) bool {
						return y.Charity == ch && y.RecordedBy == c.id.User && y.Status == ledger.PledgePledged
					})(s.c.RecordPledge(s.ctx(), c.id, x))
				},
				state: func(c roleCaller) string {
					org := charity
					if org == "" {
						org = c.org()
					}
					ps := got[[]ledger.Pledge](s, "pledges")(s.c.Pledges(s.ctx(), pub, org))
					var ids []string
					for _, x := range ps {
						if x.DonorPseudonym == pl.DonorPseudonym {
							ids = append(ids, x.ID)
						}
					}
					return rendered(ids, nil) + rendered(s.c.PledgeByReceiptCode(s.ctx(), pub, shared))
				},
			}
		}
	}
	allocate := func(charity string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(a ledger.Allocation) bool {
						return a.Charity == ch && a.CreatedBy == c.id.User && a.Status == ledger.AllocationAllocated
					})(s.c.Allocate(s.ctx(), c.id, allocation(charity)))
				},
				state: func(roleCaller) string { return donationState(s) },
			}
		}
	}
	issuePolicy := func(insurer string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			x := policy
			x.Insurer = insurer
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(y ledger.Policy) bool {
						return y.Insurer == ins && y.Insured == wh && y.IssuedBy == c.id.User
					})(s.c.IssuePolicy(s.ctx(), c.id, x))
				},
				state: func(roleCaller) string { return policiesOfT(s) },
			}
		}
	}
	grantAccess := func(owner string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			g := ledger.Grant{Owner: owner, Grantee: reg, Scope: alerts, Purpose: purpose, ValidUntil: now.Add(30 * 24 * time.Hour)}
			return roleTry{
				do: func(c roleCaller, k int) error {
					x := g
					if k >= 0 && c.org() == reg {
						x.Grantee = hosp // an org does not grant to itself
					}
					return expect3(func(y ledger.Grant) bool {
						return y.Owner == c.org() && y.Grantee == x.Grantee && y.GrantedBy == c.id.User && y.Status == ledger.GrantActive
					})(s.c.GrantAccess(s.ctx(), c.id, x))
				},
				state: func(roleCaller) string { return grantsTo(s, reg) },
			}
		}
	}
	recallLot := func(org string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			tag := "RO" // own org
			if org != "" {
				tag = "RN" // named
			}
			ls := freshLots(s, tag, n)
			r := ledger.Recall{GTIN: p.GTIN, Org: org, Reason: "roles matrix: sterility failure in retained samples", Class: "II"}
			return roleTry{
				do: func(c roleCaller, k int) error {
					x := r
					x.Lot = lotT.Lot
					if k >= 0 {
						x.Lot = ls[k].Lot
					}
					return expect3(func(y ledger.Recall) bool {
						return y.Org == reg && y.By == c.id.User && y.Lot == x.Lot
					})(s.c.RecallLot(s.ctx(), c.id, x))
				},
				state: func(roleCaller) string {
					return rendered(s.c.Recall(s.ctx(), pub, p.GTIN, lotT.Lot)) + lotState(s, lotT)
				},
			}
		}
	}
	recordExcursion := func(org string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			base := now.Add(-2 * time.Hour)
			tag := "own"
			if org != "" {
				tag = "named"
			}
			x0 := excursion(lotX, "roles/"+tag+"/refused", base, 1)
			x0.Org = org
			return roleTry{
				do: func(c roleCaller, k int) error {
					x := x0
					if k >= 0 {
						x = excursion(lotX, fmt.Sprintf("roles/%s/%d", tag, k), base, 1)
						x.Org = org
					}
					want := org
					if want == "" {
						want = c.org()
					}
					return expect3(func(y ledger.Excursion) bool {
						return y.ID == excursionID(x) && y.Org == want && y.RecordedBy == c.id.User
					})(s.c.RecordExcursion(s.ctx(), c.id, x))
				},
				state: func(roleCaller) string {
					return rendered(s.c.Excursion(s.ctx(), pub, excursionID(x0))) + lotState(s, lotX)
				},
			}
		}
	}
	registerProduct := func(org string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			gtin0 := newGTIN()
			return roleTry{
				do: func(c roleCaller, k int) error {
					x := ledger.Product{GTIN: gtin0, Name: "Roles gown " + s.run, Org: org, Kind: "ppe"}
					if org == "" {
						x.Org = c.org()
					}
					if k >= 0 {
						x.GTIN = newGTIN()
					}
					if _, err := s.c.RegisterProduct(s.ctx(), c.id, x); err != nil {
						return err
					}
					return expect(func(y ledger.Product) bool { return y.Org == mfr })(s.c.Product(s.ctx(), pub, x.GTIN))
				},
				state: func(roleCaller) string { return rendered(s.c.Product(s.ctx(), pub, gtin0)) },
			}
		}
	}
	registerSite := func(org string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			site0 := s.site(mfr, ledger.SiteDepot)
			return roleTry{
				do: func(c roleCaller, k int) error {
					x := site0
					if k >= 0 {
						x = s.site(mfr, ledger.SiteDepot)
					}
					x.Org = org
					if org == "" {
						x.Org = c.org()
					}
					if _, err := s.c.RegisterSite(s.ctx(), c.id, x); err != nil {
						return err
					}
					return expect(func(y ledger.Site) bool { return y.Org == x.Org })(s.c.Site(s.ctx(), pub, x.GLN))
				},
				state: func(roleCaller) string { return rendered(s.c.Site(s.ctx(), pub, site0.GLN)) },
			}
		}
	}
	registerUser := func(org string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			id0 := s.id("roles-new")
			in := func(c roleCaller) string {
				if org == "" {
					return c.org()
				}
				return org
			}
			return roleTry{
				do: func(c roleCaller, k int) error {
					u := ledger.User{Org: in(c), ID: id0, Role: ledger.RoleOperator}
					if k >= 0 {
						u.ID = fmt.Sprintf("%s-%d", id0, k)
					}
					if _, err := s.c.RegisterUser(s.ctx(), c.id, u); err != nil {
						return err
					}
					return expect(func(y ledger.User) bool {
						return y.Org == c.org() && y.Role == ledger.RoleOperator && y.RegisteredBy == c.id.User
					})(s.c.User(s.ctx(), pub, u.Org, u.ID))
				},
				state: func(c roleCaller) string { return rendered(s.c.User(s.ctx(), pub, in(c), id0)) },
			}
		}
	}

	registerDevice := func(org string) func(s *suite, n int) roleTry {
		return func(s *suite, n int) roleTry {
			key, _ := newKey()
			id0 := s.id("roles-edge-" + org)
			return roleTry{
				do: func(c roleCaller, k int) error {
					d := ledger.Device{ID: id0, Org: org, PublicKey: b64(key), Kind: ledger.DeviceEdge}
					if org == "" {
						d.Org = c.org()
					}
					if k >= 0 {
						d.ID = fmt.Sprintf("%s-%d", id0, k)
					}
					if _, err := s.c.RegisterDevice(s.ctx(), c.id, d); err != nil {
						return err
					}
					return expect(func(x ledger.Device) bool { return x.Org == c.org() })(s.c.Device(s.ctx(), pub, d.ID))
				},
				state: func(roleCaller) string { return rendered(s.c.Device(s.ctx(), pub, id0)) },
			}
		}
	}

	// anyOf is a rule: the caller's org is org and it holds one of roles.
	anyOf := func(org string, roles ...string) func(roleCaller) bool {
		return func(c roleCaller) bool { return c.org() == org && c.is(roles...) }
	}
	// kindOf is a rule: the caller's org is registered as kind and it
	// holds one of roles.
	kindOf := func(kind string, roles ...string) func(roleCaller) bool {
		return func(c roleCaller) bool { return c.kind == kind && c.is(roles...) }
	}
	// memberWith is a rule: the caller's org is registered, whatever its
	// kind, and it holds one of roles.
	memberWith := func(roles ...string) func(roleCaller) bool {
		return func(c roleCaller) bool { return c.member() && c.is(roles...) }
	}

	// notRegistered is the one refusal that is not Forbidden: the admin
	// of an org that is not registered, registering a user or a device
	// of its own, is told NotFound by RegisterUser and RegisterDevice
	// ("org … is not registered", as testDevices expects), where every
	// other write in an unregistered org's own name is Forbidden. It is
	// still refused and still changes nothing.
	notRegistered := func(c roleCaller) ledger.Code {
		if !c.member() {
			return ledger.NotFound
		}
		return ledger.Forbidden
	}

	return []roleAction{
		// Donations. Only a hospital asks, for itself, and closes its
		// requests; only a charity records pledges, keeps donors and
		// allocates its own stock; its operators may also ship; only the
		// receiving hospital confirms receipt.
		{name: "RequestDonation (own org)", allowed: kindOf(ledger.OrgHospital, receiver, orgAdmin), prepare: requestDonation("")},
		{name: "RequestDonation (for hospital)", allowed: anyOf(hosp, receiver, orgAdmin), prepare: requestDonation(hosp)},
		{name: "CloseRequest", allowed: anyOf(hosp, receiver, orgAdmin), prepare: func(s *suite, n int) roleTry {
			rs := make([]ledger.DonationRequest, n+1)
			for i := range rs {
				rs[i], _ = donMust[ledger.DonationRequest](s, "request")(s.c.RequestDonation(s.ctx(), admin(hosp),
					ledger.DonationRequest{Item: item, Quantity: 20, Urgency: "low", HospitalRole: "general-clinic"}))
			}
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(r ledger.DonationRequest) bool {
						return r.Status == ledger.RequestClosed
					})(s.c.CloseRequest(s.ctx(), c.id, rs[k+1].ID, "roles matrix: covered"))
				},
				state: func(roleCaller) string { return rendered(s.c.Request(s.ctx(), pub, rs[0].ID)) },
			}
		}},
		{name: "RecordPledge (own org)", charity: true, allowed: kindOf(ledger.OrgCharity, officer, orgAdmin), prepare: recordPledge("")},
		{name: "RecordPledge (for charity)", charity: true, allowed: anyOf(ch, officer, orgAdmin), prepare: recordPledge(ch)},
		{name: "ConfirmPledgeReceipt", charity: true, allowed: anyOf(ch, officer, orgAdmin), prepare: func(s *suite, n int) roleTry {
			ps := moneyPledges(s, n+1)
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(x ledger.Pledge) bool {
						return x.Status == ledger.PledgeReceived && x.ReceivedAmount == 4500
					})(s.c.ConfirmPledgeReceipt(s.ctx(), c.id, ps[k+1].ID, 4500))
				},
				state: func(roleCaller) string { return rendered(s.c.Pledge(s.ctx(), pub, ps[0].ID)) },
			}
		}},
		{name: "PutDonorIdentity", charity: true, allowed: anyOf(ch, officer, orgAdmin), prepare: func(s *suite, n int) roleTry {
			ps := moneyPledges(s, n)
			return roleTry{
				do: func(c roleCaller, k int) error {
					if k < 0 {
						_, err := s.c.PutDonorIdentity(s.ctx(), c.id, stockPledge.ID, json.RawMessage(`{"name":"Mallory"}`))
						return err
					}
					if _, err := s.c.PutDonorIdentity(s.ctx(), c.id, ps[k].ID, donor); err != nil {
						return err
					}
					return expect(func(d ledger.DonorIdentity) bool {
						return d.PledgeID == ps[k].ID && bytes.Contains(d.Identity, []byte("Roles Donor"))
					})(s.c.DonorIdentity(s.ctx(), officerID, ps[k].ID))
				},
				state: func(roleCaller) string { return rendered(s.c.DonorIdentity(s.ctx(), officerID, stockPledge.ID)) },
			}
		}},
		{name: "DonorIdentity (read)", charity: true, allowed: anyOf(ch, officer, orgAdmin), prepare: func(s *suite, n int) roleTry {
			return roleTry{do: func(c roleCaller, k int) error {
				return expect(func(d ledger.DonorIdentity) bool {
					return d.PledgeID == stockPledge.ID && bytes.Contains(d.Identity, []byte("Roles Donor"))
				})(s.c.DonorIdentity(s.ctx(), c.id, stockPledge.ID))
			}}
		}},
		{name: "PurgeDonorIdentity", charity: true, allowed: anyOf(ch, officer, orgAdmin), prepare: func(s *suite, n int) roleTry {
			ps := moneyPledges(s, n)
			for _, x := range ps {
				s.must(s.c.PutDonorIdentity(s.ctx(), officerID, x.ID, donor))
			}
			return roleTry{
				do: func(c roleCaller, k int) error {
					if k < 0 {
						_, err := s.c.PurgeDonorIdentity(s.ctx(), c.id, stockPledge.ID)
						return err
					}
					if _, err := s.c.PurgeDonorIdentity(s.ctx(), c.id, ps[k].ID); err != nil {
						return err
					}
					if _, err := s.c.DonorIdentity(s.ctx(), officerID, ps[k].ID); ledger.CodeOf(err) != ledger.NotFound {
						return fmt.Errorf("the purged identity reads %v, want NotFound", err)
					}
					return nil
				},
				state: func(roleCaller) string { return rendered(s.c.DonorIdentity(s.ctx(), officerID, stockPledge.ID)) },
			}
		}},
		{name: "Allocate (own org)", charity: true, allowed: kindOf(ledger.OrgCharity, officer, orgAdmin), prepare: allocate("")},
		{name: "Allocate (for charity)", charity: true, allowed: anyOf(ch, officer, orgAdmin), prepare: allocate(ch)},
		{name: "ShipAllocation", charity: true, allowed: anyOf(ch, officer, orgAdmin, operator), prepare: func(s *suite, n int) roleTry {
			as := allocations(s, n+1, false)
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(a ledger.Allocation) bool {
						return a.Status == ledger.AllocationShipped && a.Shipment != nil && a.Shipment.ShippedBy == c.id.User
					})(s.c.ShipAllocation(s.ctx(), c.id, as[k+1].ID, ledger.Shipment{Pallets: []string{newSSCC()}, Quantity: 1}))
				},
				state: func(roleCaller) string { return rendered(s.c.Allocation(s.ctx(), pub, as[0].ID)) },
			}
		}},
		{name: "ConfirmAllocationReceipt", charity: true, allowed: anyOf(hosp, receiver, orgAdmin), prepare: func(s *suite, n int) roleTry {
			as := allocations(s, n+1, true)
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(a ledger.Allocation) bool {
						return a.Status == ledger.AllocationReceived && a.ReceivedBy == c.id.User
					})(s.c.ConfirmAllocationReceipt(s.ctx(), c.id, as[k+1].ID, 1, ""))
				},
				state: func(roleCaller) string {
					return rendered(s.c.Allocation(s.ctx(), pub, as[0].ID)) + rendered(s.c.Request(s.ctx(), pub, bigRequest.ID))
				},
			}
		}},

		// Insurance. Only an insurer issues policies; only the insured
		// claims; only the policy's insurer settles or rejects.
		{name: "IssuePolicy (own org)", allowed: kindOf(ledger.OrgInsurer, assessor, orgAdmin), prepare: issuePolicy("")},
		{name: "IssuePolicy (for insurer)", allowed: anyOf(ins, assessor, orgAdmin), prepare: issuePolicy(ins)},
		{name: "OpenClaim (manual)", allowed: anyOf(wh, orgAdmin, operator, quality), prepare: func(s *suite, n int) roleTry {
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(x ledger.Claim) bool {
						return x.Status == ledger.ClaimOpen && x.OpenedBy == c.id.User && x.Insured == wh && x.Insurer == ins
					})(s.c.OpenClaim(s.ctx(), c.id, manual))
				},
				state: func(roleCaller) string {
					xs := got[[]ledger.Claim](s, "claims")(s.c.Claims(s.ctx(), admin(ins), ledger.ByPolicy, pol.ID))
					var ids []string
					for _, x := range xs {
						ids = append(ids, x.ID+" "+x.Status)
					}
					return rendered(ids, nil)
				},
			}
		}},
		{name: "SettleClaim", allowed: anyOf(ins, assessor, orgAdmin), prepare: func(s *suite, n int) roleTry {
			xs := claims(s, n+1)
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(x ledger.Claim) bool {
						return x.Status == ledger.ClaimSettled && x.Settled == 1000 && x.History[len(x.History)-1].By == c.id.User
					})(s.c.SettleClaim(s.ctx(), c.id, xs[k+1].ID, 1000, ""))
				},
				state: func(roleCaller) string { return rendered(s.c.Claim(s.ctx(), admin(ins), xs[0].ID)) },
			}
		}},
		{name: "RejectClaim", allowed: anyOf(ins, assessor, orgAdmin), prepare: func(s *suite, n int) roleTry {
			xs := claims(s, n+1)
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(x ledger.Claim) bool {
						return x.Status == ledger.ClaimRejected && x.History[len(x.History)-1].By == c.id.User
					})(s.c.RejectClaim(s.ctx(), c.id, xs[k+1].ID, "roles matrix: not a covered loss"))
				},
				state: func(roleCaller) string { return rendered(s.c.Claim(s.ctx(), admin(ins), xs[0].ID)) },
			}
		}},

		// Grants. Every member's admin grants access to its own data,
		// and only to it; only the owner's admin revokes; only the owner
		// and the grantee ask whether a grant covers a read.
		{name: "GrantAccess (own org)", allowed: memberWith(orgAdmin), prepare: grantAccess("")},
		{name: "GrantAccess (for manufacturer)", allowed: anyOf(mfr, orgAdmin), prepare: grantAccess(mfr)},
		{name: "RevokeGrant", allowed: anyOf(mfr, orgAdmin), prepare: func(s *suite, n int) roleTry {
			gs := grants(s, n+1, alerts)
			return roleTry{
				do: func(c roleCaller, k int) error {
					return expect3(func(g ledger.Grant) bool {
						return g.Status == ledger.GrantRevoked && g.Revoked != nil && g.Revoked.By == c.id.User
					})(s.c.RevokeGrant(s.ctx(), c.id, gs[k+1].ID, "roles matrix: contract ended"))
				},
				state: func(roleCaller) string { return rendered(s.c.Grant(s.ctx(), admin(mfr), gs[0].ID)) },
			}
		}},
		{name: "CheckGrant (read)", allowed: func(c roleCaller) bool { return c.org() == mfr || c.org() == hosp }, prepare: func(s *suite, n int) roleTry {
			receipts := ledger.GrantScope{Kind: ledger.GrantReceipts, GTIN: p.GTIN}
			grants(s, 1, receipts)
			return roleTry{do: func(c roleCaller, k int) error {
				return expect(func(g ledger.Grant) bool {
					return g.Owner == mfr && g.Grantee == hosp && g.Status == ledger.GrantActive
				})(s.c.CheckGrant(s.ctx(), c.id, mfr, hosp, receipts, time.Time{}))
			}}
		}},

		// Custody. Only a regulator recalls; any member's staff records
		// the excursions it measured; only the lot's manufacturer decides
		// its status; only a manufacturer registers products and lots;
		// every member registers its own sites; only an org's admin
		// registers it, its users and (with its operators) its devices.
		{name: "RecallLot (own org)", allowed: kindOf(ledger.OrgRegulator, inspector, orgAdmin), prepare: recallLot("")},
		{name: "RecallLot (for regulator)", allowed: anyOf(reg, inspector, orgAdmin), prepare: recallLot(reg)},
		{name: "RecordExcursion (own org)", allowed: memberWith(orgAdmin, operator, quality), prepare: recordExcursion("")},
		{name: "RecordExcursion (for warehouse)", allowed: anyOf(wh, orgAdmin, operator, quality), prepare: recordExcursion(wh)},
		{name: "SetLotStatus", allowed: anyOf(mfr, quality, orgAdmin), prepare: func(s *suite, n int) roleTry {
			ls := freshLots(s, "RS", n)
			return roleTry{
				do: func(c roleCaller, k int) error {
					l := lotT
					if k >= 0 {
						l = ls[k]
					}
					return expect3(func(x ledger.Lot) bool {
						return x.Status == ledger.LotQuarantined
					})(s.c.SetLotStatus(s.ctx(), c.id, p.GTIN, l.Lot, ledger.LotQuarantined, "roles matrix: suspect seal"))
				},
				state: func(roleCaller) string { return lotState(s, lotT) },
			}
		}},
		{name: "RegisterProduct (own org)", allowed: kindOf(ledger.OrgManufacturer, orgAdmin, quality, operator), prepare: registerProduct("")},
		{name: "RegisterProduct (for manufacturer)", allowed: anyOf(mfr, orgAdmin, quality, operator), prepare: registerProduct(mfr)},
		{name: "RegisterLot", allowed: anyOf(mfr, orgAdmin, quality, operator), prepare: func(s *suite, n int) roleTry {
			name0 := "RL" + s.run
			return roleTry{
				do: func(c roleCaller, k int) error {
					l := ledger.Lot{GTIN: p.GTIN, Lot: name0, Quantity: 50, ProducedAt: "2026-10-01", Expiry: "2028-09-30"}
					if k >= 0 {
						l.Lot = fmt.Sprintf("%s-%d", name0, k)
					}
					if _, err := s.c.RegisterLot(s.ctx(), c.id, l); err != nil {
						return err
					}
					return expect(func(x ledger.Lot) bool { return x.Org == mfr && x.Status == ledger.LotOK })(s.c.Lot(s.ctx(), pub, p.GTIN, l.Lot))
				},
				state: func(roleCaller) string { return rendered(s.c.Lot(s.ctx(), pub, p.GTIN, name0)) },
			}
		}},
		{name: "RegisterSite (own org)", allowed: memberWith(orgAdmin, operator, quality), prepare: registerSite("")},
		{name: "RegisterSite (for manufacturer)", allowed: anyOf(mfr, orgAdmin, operator, quality), prepare: registerSite(mfr)},
		{name: "RegisterUser (own org)", allowed: memberWith(orgAdmin), refusedWith: notRegistered, prepare: registerUser("")},
		{name: "RegisterUser (for manufacturer)", allowed: anyOf(mfr, orgAdmin), prepare: registerUser(mfr)},
		{name: "RegisterOrg (for manufacturer)", allowed: anyOf(mfr, orgAdmin), prepare: func(s *suite, n int) roleTry {
			rec := s.orgRecords()[0]
			renamed := rec
			renamed.Name = "Roles " + s.run
			return roleTry{
				do: func(c roleCaller, k int) error {
					if _, err := s.c.RegisterOrg(s.ctx(), c.id, renamed); err != nil {
						return err
					}
					if err := expect(func(o ledger.Org) bool { return o.Name == renamed.Name })(s.c.Org(s.ctx(), pub, mfr)); err != nil {
						return err
					}
					_, err := s.c.RegisterOrg(s.ctx(), c.id, rec) // restore
					return err
				},
				state: func(roleCaller) string { return rendered(s.c.Org(s.ctx(), pub, mfr)) },
			}
		}},
		{name: "RegisterDevice (own org)", allowed: memberWith(orgAdmin, operator), refusedWith: notRegistered, prepare: registerDevice("")},
		{name: "RegisterDevice (for manufacturer)", allowed: anyOf(mfr, orgAdmin, operator), prepare: registerDevice(mfr)},
	}
}
