package ledger

// Contract function names of insurance and data-sharing grants.
const (
	FnIssuePolicy  = "IssuePolicy"
	FnGetPolicy    = "GetPolicy"
	FnListPolicies = "ListPolicies"
	FnOpenClaim    = "OpenClaim"
	FnSettleClaim  = "SettleClaim"
	FnRejectClaim  = "RejectClaim"
	FnGetClaim     = "GetClaim"
	FnListClaims   = "ListClaims"
	FnGrantAccess  = "GrantAccess"
	FnRevokeGrant  = "RevokeGrant"
	FnCheckGrant   = "CheckGrant"
	FnGetGrant     = "GetGrant"
	FnListGrants   = "ListGrants"
)

// Contract event names of insurance and data-sharing grants. The payload
// is the stored record (Policy, Claim, Grant).
const (
	EvPolicyIssued  = "PolicyIssued"
	EvClaimOpened   = "ClaimOpened"
	EvClaimSettled  = "ClaimSettled"
	EvClaimRejected = "ClaimRejected"
	EvAccessGranted = "AccessGranted"
	EvAccessRevoked = "AccessRevoked"
)

// List filters of ListPolicies, ListClaims and ListGrants: the records
// where the given org is the insurer, the insured, the owner or the
// grantee, or (ByPolicy) the claims of one policy.
const (
	ByInsurer = "insurer"
	ByInsured = "insured"
	ByPolicy  = "policy"
	ByOwner   = "owner"
	ByGrantee = "grantee"
)
