package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// submitArgs submits fn with string arguments and decodes the stored
// record the contract returns.
func submitArgs[T any](ctx context.Context, c Client, id Identity, fn string, args ...string) (T, Result, error) {
	var out T
	res, err := c.L.Submit(ctx, id, fn, args...)
	if err != nil {
		return out, res, err
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		return out, res, fmt.Errorf("%s: decode result: %w", fn, err)
	}
	return out, res, nil
}

// IssuePolicy issues a policy of the caller's insurer org (Insurer may be
// left empty) and returns it as stored, with its ID. The caller must be an
// insurer-assessor or the admin of a registered insurer.
func (c Client) IssuePolicy(ctx context.Context, id Identity, p Policy) (Policy, Result, error) {
	return submitInto[Policy](ctx, c, id, FnIssuePolicy, p)
}

// Policy returns a policy, with its status as of now; only its insurer
// and insured may read it.
func (c Client) Policy(ctx context.Context, id Identity, policyID string) (Policy, error) {
	return evaluateInto[Policy](ctx, c, id, FnGetPolicy, policyID)
}

// Policies lists the policies the caller's org is a party to: all (by
// ""), or those where org is the insurer (by ByInsurer) or the insured
// (ByInsured).
func (c Client) Policies(ctx context.Context, id Identity, by, org string) ([]Policy, error) {
	return evaluateInto[[]Policy](ctx, c, id, FnListPolicies, by, org)
}

// OpenClaim opens a claim: a cold-chain claim (Kind ClaimColdChain,
// Policy, Excursion) or a manual one (Kind ClaimManual, Policy,
// Description, Amount, LossAt, Evidence). The caller must be an org-admin,
// operator or quality user of the insured org. It returns the claim as
// stored.
func (c Client) OpenClaim(ctx context.Context, id Identity, claim Claim) (Claim, Result, error) {
	return submitInto[Claim](ctx, c, id, FnOpenClaim, claim)
}

// SettleClaim settles an open claim for amount (minor units), with a note.
// The caller must be an insurer-assessor or the admin of the insurer.
func (c Client) SettleClaim(ctx context.Context, id Identity, claimID string, amount int64, note string) (Claim, Result, error) {
	return submitArgs[Claim](ctx, c, id, FnSettleClaim, claimID, strconv.FormatInt(amount, 10), note)
}

// RejectClaim rejects an open claim with a reason. The caller must be an
// insurer-assessor or the admin of the insurer.
func (c Client) RejectClaim(ctx context.Context, id Identity, claimID, reason string) (Claim, Result, error) {
	return submitArgs[Claim](ctx, c, id, FnRejectClaim, claimID, reason)
}

// Claim returns a claim with its history; only the insurer and the
// insured may read it.
func (c Client) Claim(ctx context.Context, id Identity, claimID string) (Claim, error) {
	return evaluateInto[Claim](ctx, c, id, FnGetClaim, claimID)
}

// Claims lists the claims the caller's org is a party to: all (by ""),
// those of a policy (ByPolicy, policy ID), or those where org is the
// insurer (ByInsurer) or the insured (ByInsured).
func (c Client) Claims(ctx context.Context, id Identity, by, value string) ([]Claim, error) {
	return evaluateInto[[]Claim](ctx, c, id, FnListClaims, by, value)
}

// GrantAccess records a data-sharing grant of the caller's org (Owner may
// be left empty) and returns it as stored, with its ID. The caller must be
// the owner org's admin.
func (c Client) GrantAccess(ctx context.Context, id Identity, g Grant) (Grant, Result, error) {
	return submitInto[Grant](ctx, c, id, FnGrantAccess, g)
}

// RevokeGrant revokes a grant with a reason. The caller must be the owner
// org's admin.
func (c Client) RevokeGrant(ctx context.Context, id Identity, grantID, reason string) (Grant, Result, error) {
	return submitArgs[Grant](ctx, c, id, FnRevokeGrant, grantID, reason)
}

// CheckGrant returns the live grant by which owner lets grantee read scope
// at time at (the zero time: now), or a Forbidden error saying why not.
// Only the owner and the grantee may ask.
func (c Client) CheckGrant(ctx context.Context, id Identity, owner, grantee string, scope GrantScope, at time.Time) (Grant, error) {
	raw, err := json.Marshal(scope)
	if err != nil {
		return Grant{}, fmt.Errorf("%s: marshal scope: %w", FnCheckGrant, err)
	}
	when := ""
	if !at.IsZero() {
		when = at.UTC().Format(time.RFC3339Nano)
	}
	return evaluateInto[Grant](ctx, c, id, FnCheckGrant, owner, grantee, string(raw), when)
}

// Grant returns a grant, with its status as of now; only its owner and
// grantee may read it.
func (c Client) Grant(ctx context.Context, id Identity, grantID string) (Grant, error) {
	return evaluateInto[Grant](ctx, c, id, FnGetGrant, grantID)
}

// Grants lists the grants the caller's org is a party to: all (by ""), or
// those where org is the owner (ByOwner) or the grantee (ByGrantee).
func (c Client) Grants(ctx context.Context, id Identity, by, org string) ([]Grant, error) {
	return evaluateInto[[]Grant](ctx, c, id, FnListGrants, by, org)
}
