package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/ledger"
)

// Insurance: policies issued by insurers, and claims under them.
//
//	policy/{id}                         ledger.Policy (Status is computed on read)
//	claim/{id}                          ledger.Claim
//	claimlot/{policy}/{gtin}/{lot}      the ID of the lot's live cold-chain claim under the policy
const (
	policyPrefix   = "policy/"
	claimPrefix    = "claim/"
	claimLotPrefix = "claimlot/"
)

func policyKey(id string) string { return policyPrefix + id }
func claimKey(id string) string  { return claimPrefix + id }
func claimLotKey(policy, gtin, lot string) string {
	return claimLotPrefix + policy + "/" + gtin + "/" + lot
}

var insuranceFunctions = []function{
	{name: ledger.FnIssuePolicy, minArgs: 1, maxArgs: 1, run: issuePolicy},
	{name: ledger.FnGetPolicy, readOnly: true, minArgs: 1, maxArgs: 1, run: getPolicy},
	{name: ledger.FnListPolicies, readOnly: true, minArgs: 0, maxArgs: 2, run: listPolicies},
	{name: ledger.FnOpenClaim, minArgs: 1, maxArgs: 1, run: openClaim},
	{name: ledger.FnSettleClaim, minArgs: 3, maxArgs: 3, run: settleClaim},
	{name: ledger.FnRejectClaim, minArgs: 2, maxArgs: 2, run: rejectClaim},
	{name: ledger.FnGetClaim, readOnly: true, minArgs: 1, maxArgs: 1, run: getClaim},
	{name: ledger.FnListClaims, readOnly: true, minArgs: 0, maxArgs: 2, run: listClaims},
}

// Bounds of insurance records.
const (
	maxScopeItems = 500
	// maxAmount bounds amounts (minor units) so that they stay exact in
	// any JSON reader (2^53).
	maxAmount = 1 << 53
)

// hashID is the first 32 lowercase hex digits of the SHA-256 of parts
// joined by 0x00.
func hashID(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// PolicyID is the ID of the policy issued in transaction txID:
// hashID("policy", txID).
func PolicyID(txID string) string { return hashID("policy", txID) }

// ClaimID is a claim's ID: for a cold-chain claim hashID("claim", policy,
// excursion), so an excursion is claimed once per policy; for a manual
// claim hashID("claim", policy, "manual", txID).
func ClaimID(policy, kind, excursion, txID string) string {
	if kind == ledger.ClaimColdChain {
		return hashID("claim", policy, excursion)
	}
	return hashID("claim", policy, "manual", txID)
}

func checkHexID(what, id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return invalid("%s id %q is not 32 lowercase hex digits", what, truncate(id, 40))
	}
	return nil
}

// checkPolicyCurrency checks an ISO 4217 alphabetic code (three capital letters).
func checkPolicyCurrency(s string) error {
	if len(s) != 3 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return invalid("currency %q is not an ISO 4217 code (three capital letters, e.g. EUR)", truncate(s, 16))
	}
	return nil
}

func checkAmount(field string, v int64, zeroOK bool) error {
	if v < 0 || v > maxAmount || v == 0 && !zeroOK {
		lo := "1"
		if zeroOK {
			lo = "0"
		}
		return invalid("%s %d is not between %s and %d (minor units of the currency)", field, v, lo, int64(maxAmount))
	}
	return nil
}

// checkSSCCURI checks an SSCC EPC pure identity URI in canonical form.
func checkSSCCURI(field, s string) error {
	e, err := epc.ParseURI(s)
	if err != nil {
		return invalid("%s %q is not an EPC URI: %v", field, truncate(s, 80), err)
	}
	if e.Scheme != epc.SSCC || e.Filter >= 0 || !strings.HasPrefix(s, "urn:epc:id:") {
		return invalid("%s %q is not an SSCC pure identity URI (urn:epc:id:sscc:CompanyPrefix.SerialRef)", field, truncate(s, 80))
	}
	if canon := e.URI(); canon != s {
		return invalid("%s %q is not in canonical form; write it as %s", field, truncate(s, 80), canon)
	}
	return nil
}

// checkValidity checks a [from, until) validity window against the
// transaction time now: until must be after from and after now.
func checkValidity(what string, from, until, now time.Time) error {
	if until.IsZero() {
		return invalid("%s validUntil is required", what)
	}
	if from.IsZero() {
		return invalid("%s validFrom is required", what)
	}
	if !until.After(from) {
		return invalid("%s validUntil %s is not after its validFrom %s", what, until.Format(timeLayout), from.Format(timeLayout))
	}
	if !until.After(now) {
		return invalid("%s validUntil %s is not after the transaction time %s: it would be expired when issued", what, until.Format(timeLayout), now.Format(timeLayout))
	}
	return nil
}

// windowStatus is pending before from, expired from until on, else active.
func windowStatus(from, until, now time.Time, pending, active, expired string) string {
	switch {
	case now.Before(from):
		return pending
	case !now.Before(until):
		return expired
	}
	return active
}

func checkPolicy(p ledger.Policy, now time.Time) error {
	if p.Insurer != "" {
		if err := checkID("policy insurer", p.Insurer); err != nil {
			return err
		}
	}
	if err := checkID("policy insured", p.Insured); err != nil {
		return err
	}
	sc := p.Scope
	if len(sc.Lots)+len(sc.Shipments) == 0 {
		return invalid("policy scope is empty: list the covered lots and/or shipments")
	}
	if len(sc.Lots)+len(sc.Shipments) > maxScopeItems {
		return invalid("policy scope has %d lots and shipments, more than %d", len(sc.Lots)+len(sc.Shipments), maxScopeItems)
	}
	seen := map[string]bool{}
	for _, l := range sc.Lots {
		if err := checkGTIN(l.GTIN); err != nil {
			return err
		}
		if err := checkLotNumber(l.Lot); err != nil {
			return err
		}
		k := l.GTIN + "\x00" + l.Lot
		if seen[k] {
			return invalid("policy scope lists lot %s of %s twice", l.Lot, l.GTIN)
		}
		seen[k] = true
	}
	for _, s := range sc.Shipments {
		if err := checkSSCCURI("policy scope shipment", s); err != nil {
			return err
		}
		if seen[s] {
			return invalid("policy scope lists shipment %s twice", s)
		}
		seen[s] = true
	}
	t := p.Terms
	if err := checkPolicyCurrency(t.Currency); err != nil {
		return err
	}
	if t.ColdChain == nil && t.ManualCover == 0 {
		return invalid("policy terms cover nothing: set coldChain and/or manualCover")
	}
	if cc := t.ColdChain; cc != nil {
		if math.IsNaN(cc.MaxOutOfRangeMin) || math.IsInf(cc.MaxOutOfRangeMin, 0) || cc.MaxOutOfRangeMin < 0 {
			return invalid("policy coldChain maxOutOfRangeMin %g is not a finite number of minutes ≥ 0", cc.MaxOutOfRangeMin)
		}
		if err := checkAmount("policy coldChain payout", cc.Payout, false); err != nil {
			return err
		}
	}
	if err := checkAmount("policy manualCover", t.ManualCover, true); err != nil {
		return err
	}
	return checkValidity("policy", p.ValidFrom, p.ValidUntil, now)
}

// issuePolicy issues a policy of the caller's org, which must be a
// registered insurer; the caller is an insurer-assessor or its admin. The
// insured is another registered org; the covered lots must be registered.
// Every call issues a new policy (its ID comes from the transaction ID).
func issuePolicy(c *call, args []string) ([]byte, error) {
	var in ledger.Policy
	if err := decodeArg(args[0], "policy", &in); err != nil {
		return nil, err
	}
	in.ValidFrom, in.ValidUntil = in.ValidFrom.UTC(), in.ValidUntil.UTC()
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	if err := checkPolicy(in, now); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Insurer == "" {
		in.Insurer = cl.Org
	}
	action := "issue a policy to org " + in.Insured
	if _, err := c.requireRole(in.Insurer, action, ledger.RoleInsurerAssessor, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	org, err := c.requireOrg(in.Insurer)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, forbidden("%s: org %s is not registered", action, in.Insurer)
	} else if err != nil {
		return nil, err
	}
	if org.Kind != ledger.OrgInsurer {
		return nil, forbidden("%s: only insurers issue policies; org %s is a %s", action, org.ID, org.Kind)
	}
	if in.Insured == in.Insurer {
		return nil, invalid("%s: an insurer cannot insure itself", action)
	}
	if _, err := c.requireOrg(in.Insured); err != nil {
		return nil, err
	}
	for _, l := range in.Scope.Lots {
		if raw, err := c.getRaw(lotKey(l.GTIN, l.Lot)); err != nil {
			return nil, err
		} else if raw == nil {
			return nil, notFound("%s: lot %s of %s is not registered", action, l.Lot, l.GTIN)
		}
	}
	in.ID = PolicyID(c.s.TxID())
	in.IssuedBy, in.IssuedAt, in.TxID = cl.User, now, c.s.TxID()
	in.Status = windowStatus(in.ValidFrom, in.ValidUntil, now, ledger.PolicyPending, ledger.PolicyActive, ledger.PolicyExpired)
	return c.putAndEmit(policyKey(in.ID), ledger.EvPolicyIssued, in)
}

// readPolicy reads a policy, with its status as of now; only its insurer
// and its insured may.
func (c *call) readPolicy(id string) (ledger.Policy, error) {
	var p ledger.Policy
	if err := checkHexID("policy", id); err != nil {
		return p, err
	}
	cl, err := c.requireMember()
	if err != nil {
		return p, err
	}
	found, err := c.get(policyKey(id), &p)
	if err != nil {
		return p, err
	}
	if !found {
		return p, notFound("policy %s is not issued", id)
	}
	if cl.Org != p.Insurer && cl.Org != p.Insured {
		return p, forbidden("policy %s is between orgs %s and %s; org %s may not read it", id, p.Insurer, p.Insured, cl.Org)
	}
	now, err := c.now()
	if err != nil {
		return p, err
	}
	p.Status = windowStatus(p.ValidFrom, p.ValidUntil, now, ledger.PolicyPending, ledger.PolicyActive, ledger.PolicyExpired)
	return p, nil
}

func getPolicy(c *call, args []string) ([]byte, error) {
	p, err := c.readPolicy(args[0])
	if err != nil {
		return nil, err
	}
	return marshal(p)
}

// listFilter parses the (by, org) arguments of a list function: by is one
// of allowed, or "" (with no org) for everything the caller may read.
func listFilter(args []string, allowed ...string) (by, id string, err error) {
	if len(args) > 0 {
		by = args[0]
	}
	if len(args) > 1 {
		id = args[1]
	}
	if by == "" {
		if id != "" {
			return "", "", invalid("a list filter value %q needs a filter (%s)", truncate(id, 40), strings.Join(allowed, ", "))
		}
		return "", "", nil
	}
	if err := oneOf("list filter", by, allowed); err != nil {
		return "", "", err
	}
	if by == ledger.ByPolicy {
		return by, id, checkHexID("policy", id)
	}
	return by, id, checkID(by+" org", id)
}

// listPolicies lists the policies the caller's org is a party to (as
// insurer or insured), all of them or those of one insurer or insured org,
// sorted by issue time, then ID.
func listPolicies(c *call, args []string) ([]byte, error) {
	return listByParty(c, args, partyListing[ledger.Policy]{
		prefix: policyPrefix, byA: ledger.ByInsurer, byB: ledger.ByInsured,
		a:  func(p ledger.Policy) string { return p.Insurer },
		b:  func(p ledger.Policy) string { return p.Insured },
		at: func(p ledger.Policy) (time.Time, string) { return p.IssuedAt, p.ID },
		status: func(p *ledger.Policy, now time.Time) {
			p.Status = windowStatus(p.ValidFrom, p.ValidUntil, now, ledger.PolicyPending, ledger.PolicyActive, ledger.PolicyExpired)
		},
	})
}

// partyListing describes records between two parties (insurer and
// insured, owner and grantee) for listByParty.
type partyListing[T any] struct {
	prefix   string
	byA, byB string                      // the listFilter names of the two parties
	a, b     func(T) string              // the two parties of a record
	at       func(T) (time.Time, string) // sort key: time, then ID
	status   func(*T, time.Time)         // sets the status as of the transaction
}

// listByParty lists the records the caller's org is a party to, all of
// them or those of one party (listFilter), with their status as of the
// transaction, sorted by time, then ID.
func listByParty[T any](c *call, args []string, l partyListing[T]) ([]byte, error) {
	by, id, err := listFilter(args, l.byA, l.byB)
	if err != nil {
		return nil, err
	}
	cl, err := c.requireMember()
	if err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	out, err := list(c, l.prefix, func(x T) bool {
		a, b := l.a(x), l.b(x)
		return (a == cl.Org || b == cl.Org) && (by == "" || by == l.byA && a == id || by == l.byB && b == id)
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		l.status(&out[i], now)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, ii := l.at(out[i])
		tj, ij := l.at(out[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return ii < ij
	})
	return marshal(out)
}

// covers reports whether policy p covers excursion x: x's lot is in the
// scope, or x was measured in a shipment of the scope.
func covers(p ledger.Policy, x ledger.Excursion) bool {
	return slices.Contains(p.Scope.Lots, ledger.LotRef{GTIN: x.GTIN, Lot: x.Lot}) || slices.Contains(p.Scope.Shipments, x.Location)
}

func checkClaimRequest(in ledger.Claim) error {
	if err := checkHexID("policy", in.Policy); err != nil {
		return err
	}
	if err := oneOf("claim kind", in.Kind, ledger.ClaimKinds); err != nil {
		return err
	}
	switch in.Kind {
	case ledger.ClaimColdChain:
		if err := checkExcursionID(in.Excursion); err != nil {
			return err
		}
		if in.Amount != 0 || in.Description != "" || len(in.Evidence) > 0 || !in.LossAt.IsZero() {
			return invalid("a cold-chain claim names only its policy and excursion: the contract computes its amount from the policy's terms and takes its evidence and time from the excursion")
		}
	case ledger.ClaimManual:
		if in.Excursion != "" {
			return invalid("a manual claim names no excursion; open a cold-chain claim for an excursion")
		}
		if err := checkText("claim description", in.Description, 2000, true); err != nil {
			return err
		}
		if err := checkAmount("claim amount", in.Amount, false); err != nil {
			return err
		}
		if in.LossAt.IsZero() {
			return invalid("a manual claim's lossAt is required: when the loss happened")
		}
		if len(in.Evidence) > maxEvidence {
			return invalid("claim has %d evidence references, more than %d", len(in.Evidence), maxEvidence)
		}
		seen := map[string]bool{}
		for _, ev := range in.Evidence {
			if err := checkEventID(ev.EventID); err != nil {
				return err
			}
			if seen[ev.EventID] {
				return invalid("evidence event %s is listed twice", ev.EventID)
			}
			seen[ev.EventID] = true
			if err := checkID("evidence edge", ev.Edge); err != nil {
				return err
			}
		}
	}
	return nil
}

// openClaim opens a claim under a policy, by an org-admin, operator or
// quality user of the insured org (or the gateway signing as one).
//
// A cold-chain claim names a recorded excursion; the policy must have
// cold-chain terms and cover it (see covers), the excursion must have
// started within the policy's validity, and the lot's cumulative time out
// of range as of that excursion (its CumulativeMin) must exceed the terms'
// maxOutOfRangeMin. The amount is the terms' payout, the evidence the
// excursion's. An excursion is claimed once per policy (Conflict), and a
// lot has at most one live (open or settled) cold-chain claim per policy.
//
// A manual claim has a description, an amount up to the policy's
// manualCover, the time of the loss within the policy's validity, and
// optional evidence.
func openClaim(c *call, args []string) ([]byte, error) {
	var in ledger.Claim
	if err := decodeArg(args[0], "claim", &in); err != nil {
		return nil, err
	}
	in.LossAt = in.LossAt.UTC()
	if err := checkClaimRequest(in); err != nil {
		return nil, err
	}
	cl, err := c.requireMember()
	if err != nil {
		return nil, err
	}
	var p ledger.Policy
	found, err := c.get(policyKey(in.Policy), &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("policy %s is not issued", in.Policy)
	}
	action := "open a claim under policy " + p.ID
	if _, err := c.requireRole(p.Insured, action, ledger.RoleOrgAdmin, ledger.RoleOperator, ledger.RoleQuality); err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	within := func(t time.Time) bool { return !t.Before(p.ValidFrom) && t.Before(p.ValidUntil) }
	validity := p.ValidFrom.Format(timeLayout) + " to " + p.ValidUntil.Format(timeLayout)
	lotKey := ""
	switch in.Kind {
	case ledger.ClaimColdChain:
		cc := p.Terms.ColdChain
		if cc == nil {
			return nil, invalid("%s: the policy has no cold-chain cover", action)
		}
		var x ledger.Excursion
		found, err := c.get(excursionKey(in.Excursion), &x)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, notFound("excursion %s is not recorded", in.Excursion)
		}
		if !covers(p, x) {
			return nil, invalid("%s: excursion %s of lot %s of %s at %s is not covered: neither its lot nor its location is in the policy's scope", action, x.ID, x.Lot, x.GTIN, x.Location)
		}
		if !within(x.Start) {
			return nil, invalid("%s: excursion %s started at %s, outside the policy's validity %s", action, x.ID, x.Start.Format(timeLayout), validity)
		}
		if !(x.CumulativeMin > cc.MaxOutOfRangeMin) {
			return nil, invalid("%s: lot %s of %s had spent %g min out of range as of excursion %s, not more than the policy's maxOutOfRangeMin %g min", action, x.Lot, x.GTIN, x.CumulativeMin, x.ID, cc.MaxOutOfRangeMin)
		}
		in.ID = ClaimID(p.ID, in.Kind, x.ID, c.s.TxID())
		var prev ledger.Claim
		if found, err := c.get(claimKey(in.ID), &prev); err != nil {
			return nil, err
		} else if found {
			return nil, conflict("excursion %s is already claimed under policy %s: claim %s (%s), opened by %s of org %s in transaction %s", x.ID, p.ID, prev.ID, prev.Status, prev.OpenedBy, prev.Insured, prev.TxID)
		}
		lotKey = claimLotKey(p.ID, x.GTIN, x.Lot)
		if raw, err := c.getRaw(lotKey); err != nil {
			return nil, err
		} else if raw != nil {
			var live ledger.Claim
			if found, err := c.get(claimKey(string(raw)), &live); err != nil {
				return nil, err
			} else if found && live.Status != ledger.ClaimRejected {
				return nil, conflict("lot %s of %s already has a %s cold-chain claim %s under policy %s (excursion %s): the payout is made once per lot", x.Lot, x.GTIN, live.Status, live.ID, p.ID, live.Excursion)
			}
		}
		in.GTIN, in.Lot, in.LossAt = x.GTIN, x.Lot, x.Start
		in.Amount = cc.Payout
		in.Evidence = slices.Clone(x.Evidence)
	case ledger.ClaimManual:
		if p.Terms.ManualCover == 0 {
			return nil, invalid("%s: the policy has no manual cover", action)
		}
		if in.Amount > p.Terms.ManualCover {
			return nil, invalid("%s: amount %d is more than the policy's manualCover %d %s", action, in.Amount, p.Terms.ManualCover, p.Terms.Currency)
		}
		if !within(in.LossAt) {
			return nil, invalid("%s: the loss at %s is outside the policy's validity %s", action, in.LossAt.Format(timeLayout), validity)
		}
		if in.LossAt.Sub(now).Minutes() > clockSkewMinutes {
			return nil, invalid("%s: the loss at %s is after the transaction time %s", action, in.LossAt.Format(timeLayout), now.Format(timeLayout))
		}
		in.ID = ClaimID(p.ID, in.Kind, "", c.s.TxID())
	}
	in.Insurer, in.Insured, in.Currency = p.Insurer, p.Insured, p.Terms.Currency
	in.Status, in.Settled = ledger.ClaimOpen, 0
	in.OpenedBy, in.OpenedAt, in.TxID = cl.User, now, c.s.TxID()
	in.History = []ledger.ClaimStep{{Step: ledger.StepOpened, Org: cl.Org, By: cl.User, At: now, TxID: c.s.TxID(), Amount: in.Amount}}
	if lotKey != "" {
		if err := c.s.PutState(lotKey, []byte(in.ID)); err != nil {
			return nil, stateErr("write claim index", err)
		}
	}
	return c.putAndEmit(claimKey(in.ID), ledger.EvClaimOpened, in)
}

// decideClaim loads an open claim for its insurer's decision.
func (c *call) decideClaim(id, action string) (ledger.Claim, ledger.Caller, time.Time, error) {
	var cl ledger.Caller
	var now time.Time
	var x ledger.Claim
	if err := checkHexID("claim", id); err != nil {
		return x, cl, now, err
	}
	if _, err := c.requireMember(); err != nil {
		return x, cl, now, err
	}
	found, err := c.get(claimKey(id), &x)
	if err != nil {
		return x, cl, now, err
	}
	if !found {
		return x, cl, now, notFound("there is no claim %s", id)
	}
	cl, err = c.requireRole(x.Insurer, action+" claim "+id, ledger.RoleInsurerAssessor, ledger.RoleOrgAdmin)
	if err != nil {
		return x, cl, now, err
	}
	if x.Status != ledger.ClaimOpen {
		last := x.History[len(x.History)-1]
		return x, cl, now, conflict("claim %s is already %s, by %s of org %s at %s in transaction %s", id, x.Status, last.By, last.Org, last.At.Format(timeLayout), last.TxID)
	}
	now, err = c.now()
	return x, cl, now, err
}

// settleClaim settles an open claim with the amount paid (minor units,
// decimal, at least 1), by an insurer-assessor or the admin of the policy's insurer.
// A manual claim settles for at most the amount claimed; a cold-chain
// claim for its computed payout, or for less only with a note saying why.
func settleClaim(c *call, args []string) ([]byte, error) {
	id, amountArg, note := args[0], args[1], args[2]
	amount, err := parseAmount(amountArg)
	if err != nil {
		return nil, err
	}
	if err := checkText("settlement note", note, 1000, false); err != nil {
		return nil, err
	}
	x, cl, now, err := c.decideClaim(id, "settle")
	if err != nil {
		return nil, err
	}
	if amount == 0 {
		return nil, invalid("settle claim %s: settling for nothing is a rejection; use RejectClaim with a reason", id)
	}
	if amount > x.Amount {
		return nil, invalid("settle claim %s: amount %d is more than the %d %s claimed", id, amount, x.Amount, x.Currency)
	}
	if x.Kind == ledger.ClaimColdChain && amount != x.Amount && strings.TrimSpace(note) == "" {
		return nil, invalid("settle claim %s: a cold-chain claim pays the policy's payout %d %s; settling for %d needs a note saying why", id, x.Amount, x.Currency, amount)
	}
	x.Status, x.Settled = ledger.ClaimSettled, amount
	x.History = append(x.History, ledger.ClaimStep{Step: ledger.StepSettled, Org: cl.Org, By: cl.User, At: now, TxID: c.s.TxID(), Amount: amount, Note: note})
	return c.putAndEmit(claimKey(id), ledger.EvClaimSettled, x)
}

// parseAmount parses a settlement amount: a decimal integer of minor units.
func parseAmount(s string) (int64, error) {
	if s == "" || len(s) > 16 || strings.Trim(s, "0123456789") != "" || len(s) > 1 && s[0] == '0' {
		return 0, invalid("amount %q is not a whole number of minor units (e.g. 150000 for 1,500.00)", truncate(s, 24))
	}
	var v int64
	for i := 0; i < len(s); i++ {
		v = v*10 + int64(s[i]-'0')
	}
	return v, checkAmount("amount", v, true)
}

// rejectClaim rejects an open claim with a reason, by an
// insurer-assessor or the admin of the policy's insurer.
func rejectClaim(c *call, args []string) ([]byte, error) {
	id, reason := args[0], args[1]
	if err := checkText("rejection reason", reason, 1000, true); err != nil {
		return nil, err
	}
	x, cl, now, err := c.decideClaim(id, "reject")
	if err != nil {
		return nil, err
	}
	x.Status = ledger.ClaimRejected
	x.History = append(x.History, ledger.ClaimStep{Step: ledger.StepRejected, Org: cl.Org, By: cl.User, At: now, TxID: c.s.TxID(), Note: reason})
	return c.putAndEmit(claimKey(id), ledger.EvClaimRejected, x)
}

// getClaim returns a claim with its history; only the policy's insurer
// and insured may read it.
func getClaim(c *call, args []string) ([]byte, error) {
	id := args[0]
	if err := checkHexID("claim", id); err != nil {
		return nil, err
	}
	cl, err := c.requireMember()
	if err != nil {
		return nil, err
	}
	var x ledger.Claim
	found, err := c.get(claimKey(id), &x)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("there is no claim %s", id)
	}
	if cl.Org != x.Insurer && cl.Org != x.Insured {
		return nil, forbidden("claim %s is between orgs %s and %s; org %s may not read it", id, x.Insurer, x.Insured, cl.Org)
	}
	return marshal(x)
}

// listClaims lists the claims the caller's org is a party to: all of them,
// those of one policy, or those of one insurer or insured org, sorted by
// opening time, then ID.
func listClaims(c *call, args []string) ([]byte, error) {
	by, id, err := listFilter(args, ledger.ByPolicy, ledger.ByInsurer, ledger.ByInsured)
	if err != nil {
		return nil, err
	}
	cl, err := c.requireMember()
	if err != nil {
		return nil, err
	}
	out, err := list(c, claimPrefix, func(x ledger.Claim) bool {
		return (x.Insurer == cl.Org || x.Insured == cl.Org) &&
			(by == "" || by == ledger.ByPolicy && x.Policy == id || by == ledger.ByInsurer && x.Insurer == id || by == ledger.ByInsured && x.Insured == id)
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].OpenedAt.Equal(out[j].OpenedAt) {
			return out[i].OpenedAt.Before(out[j].OpenedAt)
		}
		return out[i].ID < out[j].ID
	})
	return marshal(out)
}
