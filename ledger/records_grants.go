package ledger

import "time"

// Grant is an org's (Owner's) time-limited permission for another org
// (Grantee) to read some of its data through the gateway. The client sets
// Grantee, Scope, Purpose, ValidUntil and optionally ValidFrom (default:
// the transaction time); the contract sets the rest. Status is computed
// when the grant is read, from the time of the reading transaction.
type Grant struct {
	ID         string      `json:"id"` // 32 hex, see contract.GrantID
	Owner      string      `json:"owner"`
	Grantee    string      `json:"grantee"`
	Scope      GrantScope  `json:"scope"`
	Purpose    string      `json:"purpose"`
	ValidFrom  time.Time   `json:"validFrom"`
	ValidUntil time.Time   `json:"validUntil"` // exclusive
	Status     string      `json:"status"`     // GrantStatuses
	GrantedBy  string      `json:"grantedBy"`
	GrantedAt  time.Time   `json:"grantedAt"`
	TxID       string      `json:"txID"`
	Revoked    *Revocation `json:"revoked,omitempty"`
}

// GrantScope is what a grant covers: one kind of data, of one product
// (GTIN) or one lot (GTIN and Lot) or, both empty, all of the owner's.
type GrantScope struct {
	Kind string `json:"kind"` // GrantKinds
	GTIN string `json:"gtin,omitempty"`
	Lot  string `json:"lot,omitempty"`
}

// Revocation records a grant's revocation.
type Revocation struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	TxID   string    `json:"txID"`
}

// Grant scope kinds.
const (
	GrantReceipts   = "receipts"
	GrantLotSensors = "lot-sensors"
	GrantLotCustody = "lot-custody"
	GrantAlerts     = "alerts"
)

// GrantKinds lists the grant scope kinds.
var GrantKinds = []string{GrantReceipts, GrantLotSensors, GrantLotCustody, GrantAlerts}

// Grant statuses, relative to the time of the reading transaction.
const (
	GrantPending = "pending" // before ValidFrom
	GrantActive  = "active"
	GrantExpired = "expired" // at or after ValidUntil
	GrantRevoked = "revoked"
)

// GrantStatuses lists the grant statuses.
var GrantStatuses = []string{GrantPending, GrantActive, GrantExpired, GrantRevoked}
