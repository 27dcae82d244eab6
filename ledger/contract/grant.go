package contract

import (
	"sort"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// Data-sharing grants: an owner org lets a grantee org read some of its
// data, for a purpose and a time.
//
//	grant/{id}                          ledger.Grant (Status is computed on read)
//	grantpair/{owner}/{grantee}/{id}    the ID, an index by owner and grantee
const (
	grantPrefix     = "grant/"
	grantPairPrefix = "grantpair/"
)

func grantKey(id string) string { return grantPrefix + id }
func grantPairKey(owner, grantee, id string) string {
	return grantPairPrefix + owner + "/" + grantee + "/" + id
}

var grantFunctions = []function{
	{name: ledger.FnGrantAccess, minArgs: 1, maxArgs: 1, run: grantAccess},
	{name: ledger.FnRevokeGrant, minArgs: 2, maxArgs: 2, run: revokeGrant},
	{name: ledger.FnCheckGrant, readOnly: true, minArgs: 3, maxArgs: 4, run: checkGrant},
	{name: ledger.FnGetGrant, readOnly: true, minArgs: 1, maxArgs: 1, run: getGrant},
	{name: ledger.FnListGrants, readOnly: true, minArgs: 0, maxArgs: 2, run: listGrants},
}

// GrantID is the ID of the grant issued in transaction txID:
// hashID("grant", txID).
func GrantID(txID string) string { return hashID("grant", txID) }

func checkGrantScope(sc ledger.GrantScope) error {
	if err := oneOf("grant scope kind", sc.Kind, ledger.GrantKinds); err != nil {
		return err
	}
	if sc.GTIN != "" {
		if err := checkGTIN(sc.GTIN); err != nil {
			return err
		}
	}
	if sc.Lot != "" {
		if sc.GTIN == "" {
			return invalid("grant scope lot %q needs its GTIN", truncate(sc.Lot, 32))
		}
		if err := checkLotNumber(sc.Lot); err != nil {
			return err
		}
	}
	return nil
}

// scopeCovers reports whether a grant's scope covers a requested one: the
// same kind, and the grant's product and lot are empty (all) or equal.
func scopeCovers(g, want ledger.GrantScope) bool {
	return g.Kind == want.Kind && (g.GTIN == "" || g.GTIN == want.GTIN) && (g.Lot == "" || g.Lot == want.Lot)
}

func scopeString(sc ledger.GrantScope) string {
	s := sc.Kind
	switch {
	case sc.Lot != "":
		s += " of lot " + sc.Lot + " of " + sc.GTIN
	case sc.GTIN != "":
		s += " of product " + sc.GTIN
	default:
		s += " (all)"
	}
	return s
}

func grantStatus(g ledger.Grant, now time.Time) string {
	if g.Revoked != nil {
		return ledger.GrantRevoked
	}
	return windowStatus(g.ValidFrom, g.ValidUntil, now, ledger.GrantPending, ledger.GrantActive, ledger.GrantExpired)
}

// grantAccess records a grant by the caller's org (the owner) to another
// registered org; only the owner's admin may. ValidFrom defaults to the
// transaction time; a grant already expired when issued is Invalid. Every
// call issues a new grant (its ID comes from the transaction ID).
func grantAccess(c *call, args []string) ([]byte, error) {
	var in ledger.Grant
	if err := decodeArg(args[0], "grant", &in); err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	in.ValidFrom, in.ValidUntil = in.ValidFrom.UTC(), in.ValidUntil.UTC()
	if in.ValidFrom.IsZero() {
		in.ValidFrom = now
	}
	if in.Owner != "" {
		if err := checkID("grant owner", in.Owner); err != nil {
			return nil, err
		}
	}
	if err := checkID("grant grantee", in.Grantee); err != nil {
		return nil, err
	}
	if err := checkGrantScope(in.Scope); err != nil {
		return nil, err
	}
	if err := checkText("grant purpose", in.Purpose, 1000, true); err != nil {
		return nil, err
	}
	if err := checkValidity("grant", in.ValidFrom, in.ValidUntil, now); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Owner == "" {
		in.Owner = cl.Org
	}
	action := "grant org " + in.Grantee + " access to " + scopeString(in.Scope)
	if _, err := c.requireRole(in.Owner, action, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	if in.Grantee == in.Owner {
		return nil, invalid("%s: an org does not grant access to itself", action)
	}
	if _, err := c.requireOrg(in.Grantee); err != nil {
		return nil, err
	}
	in.ID = GrantID(c.s.TxID())
	in.GrantedBy, in.GrantedAt, in.TxID, in.Revoked = cl.User, now, c.s.TxID(), nil
	in.Status = grantStatus(in, now)
	if err := c.s.PutState(grantPairKey(in.Owner, in.Grantee, in.ID), []byte(in.ID)); err != nil {
		return nil, stateErr("write grant index", err)
	}
	return c.putAndEmit(grantKey(in.ID), ledger.EvAccessGranted, in)
}

// revokeGrant revokes a grant, by the owner's admin, with a reason.
// Revoking a revoked grant is a Conflict.
func revokeGrant(c *call, args []string) ([]byte, error) {
	id, reason := args[0], args[1]
	if err := checkHexID("grant", id); err != nil {
		return nil, err
	}
	if err := checkText("revocation reason", reason, 1000, true); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	g, err := c.grant(id)
	if err != nil {
		return nil, err
	}
	cl, err := c.requireRole(g.Owner, "revoke grant "+id, ledger.RoleOrgAdmin)
	if err != nil {
		return nil, err
	}
	if r := g.Revoked; r != nil {
		return nil, conflict("grant %s was already revoked by %s at %s in transaction %s: %s", id, r.By, r.At.Format(timeLayout), r.TxID, r.Reason)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	g.Revoked = &ledger.Revocation{By: cl.User, At: now, Reason: reason, TxID: c.s.TxID()}
	g.Status = ledger.GrantRevoked
	return c.putAndEmit(grantKey(id), ledger.EvAccessRevoked, g)
}

// checkGrant answers whether owner lets grantee read scope (a GrantScope
// JSON object) at a time (RFC 3339; empty or absent: the transaction
// time): it returns the live grant that covers it (of several, the one
// valid longest, then the lowest ID), or a Forbidden error saying why not
// (no grant, revoked, expired, not yet valid, outside scope). Only the
// owner and the grantee may ask.
func checkGrant(c *call, args []string) ([]byte, error) {
	owner, grantee, scopeArg := args[0], args[1], args[2]
	if err := checkID("owner", owner); err != nil {
		return nil, err
	}
	if err := checkID("grantee", grantee); err != nil {
		return nil, err
	}
	var want ledger.GrantScope
	if err := decodeArg(scopeArg, "grant scope", &want); err != nil {
		return nil, err
	}
	if err := checkGrantScope(want); err != nil {
		return nil, err
	}
	at, err := c.now()
	if err != nil {
		return nil, err
	}
	if len(args) > 3 && args[3] != "" {
		t, err := time.Parse(time.RFC3339Nano, args[3])
		if err != nil {
			return nil, invalid("time %q is not an RFC 3339 time", truncate(args[3], 40))
		}
		at = t.UTC()
	}
	cl, err := c.requireMember()
	if err != nil {
		return nil, err
	}
	if cl.Org != owner && cl.Org != grantee {
		return nil, forbidden("only org %s or org %s may check the grants between them, not org %s", owner, grantee, cl.Org)
	}
	prefix := grantPairPrefix + owner + "/" + grantee + "/"
	var ids []string
	if err := c.scan(prefix, prefixEnd(prefix), func(kv ledger.KV) (bool, error) {
		ids = append(ids, string(kv.Value))
		return true, nil
	}); err != nil {
		return nil, err
	}
	what := "org " + grantee + " may not read " + scopeString(want) + " of org " + owner + " at " + at.Format(timeLayout)
	if len(ids) == 0 {
		return nil, forbidden("%s: org %s has granted it no access", what, owner)
	}
	var best *ledger.Grant
	var why []string
	inScope := 0
	for _, id := range ids {
		var g ledger.Grant
		found, err := c.get(grantKey(id), &g)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, ledger.Errorf(ledger.Unavailable, "grant index names %s, which is not stored", id)
		}
		if !scopeCovers(g.Scope, want) {
			continue
		}
		inScope++
		switch st := grantStatus(g, at); st {
		case ledger.GrantActive:
			if best == nil || g.ValidUntil.After(best.ValidUntil) || g.ValidUntil.Equal(best.ValidUntil) && g.ID < best.ID {
				gg := g
				best = &gg
			}
		case ledger.GrantRevoked:
			why = append(why, "grant "+g.ID+" was revoked at "+g.Revoked.At.Format(timeLayout)+": "+g.Revoked.Reason)
		case ledger.GrantExpired:
			why = append(why, "grant "+g.ID+" expired at "+g.ValidUntil.Format(timeLayout))
		case ledger.GrantPending:
			why = append(why, "grant "+g.ID+" is valid only from "+g.ValidFrom.Format(timeLayout))
		}
	}
	if best != nil {
		best.Status = ledger.GrantActive
		return marshal(best)
	}
	if inScope == 0 {
		return nil, forbidden("%s: outside the scope of its %d grant(s) from org %s", what, len(ids), owner)
	}
	sort.Strings(why)
	return nil, forbidden("%s: %s", what, truncate(strings.Join(why, "; "), 2000))
}

// getGrant returns a grant; only its owner and grantee may read it.
func getGrant(c *call, args []string) ([]byte, error) {
	id := args[0]
	if err := checkHexID("grant", id); err != nil {
		return nil, err
	}
	cl, err := c.requireMember()
	if err != nil {
		return nil, err
	}
	g, err := c.grant(id)
	if err != nil {
		return nil, err
	}
	if cl.Org != g.Owner && cl.Org != g.Grantee {
		return nil, forbidden("grant %s is between orgs %s and %s; org %s may not read it", id, g.Owner, g.Grantee, cl.Org)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	g.Status = grantStatus(g, now)
	return marshal(g)
}

// listGrants lists the grants the caller's org is a party to (as owner or
// grantee), all of them or those of one owner or grantee org, sorted by
// grant time, then ID.
func listGrants(c *call, args []string) ([]byte, error) {
	return listByParty(c, args, partyListing[ledger.Grant]{
		prefix: grantPrefix, byA: ledger.ByOwner, byB: ledger.ByGrantee,
		a:      func(g ledger.Grant) string { return g.Owner },
		b:      func(g ledger.Grant) string { return g.Grantee },
		at:     func(g ledger.Grant) (time.Time, string) { return g.GrantedAt, g.ID },
		status: func(g *ledger.Grant, now time.Time) { g.Status = grantStatus(*g, now) },
	})
}

// grant reads an issued grant (NotFound when there is none).
func (c *call) grant(id string) (ledger.Grant, error) {
	var g ledger.Grant
	found, err := c.get(grantKey(id), &g)
	if err != nil {
		return g, err
	}
	if !found {
		return g, notFound("grant %s is not issued", id)
	}
	return g, nil
}
