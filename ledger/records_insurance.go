package ledger

import "time"

// Policy is an insurer's cover of another org's lots and shipments. The
// contract assigns ID and sets Insurer (the caller's org when empty),
// IssuedBy, IssuedAt and TxID; Status is computed when the policy is read,
// from the time of the reading transaction.
type Policy struct {
	ID         string      `json:"id"` // 32 hex, see contract.PolicyID
	Insurer    string      `json:"insurer"`
	Insured    string      `json:"insured"`
	Scope      PolicyScope `json:"scope"`
	Terms      PolicyTerms `json:"terms"`
	ValidFrom  time.Time   `json:"validFrom"`
	ValidUntil time.Time   `json:"validUntil"` // exclusive
	Status     string      `json:"status"`     // PolicyStatuses, as of the reading transaction
	IssuedBy   string      `json:"issuedBy"`
	IssuedAt   time.Time   `json:"issuedAt"`
	TxID       string      `json:"txID"`
}

// PolicyScope is what a policy covers: registered lots and/or shipments
// (SSCC EPC URIs, urn:epc:id:sscc:…). An excursion is covered when its lot
// is listed, or when it was measured in a listed shipment (its Location).
type PolicyScope struct {
	Lots      []LotRef `json:"lots,omitempty"`
	Shipments []string `json:"shipments,omitempty"`
}

// LotRef names a lot.
type LotRef struct {
	GTIN string `json:"gtin"`
	Lot  string `json:"lot"`
}

// PolicyTerms are a policy's covers. Amounts are integers in the minor
// unit of Currency (cents for EUR); one currency per policy.
type PolicyTerms struct {
	Currency string `json:"currency"` // ISO 4217, e.g. "EUR"
	// ColdChain, if set, is the parametric cold-chain cover.
	ColdChain *ColdChainTerms `json:"coldChain,omitempty"`
	// ManualCover is the most a manual claim (other losses) may claim;
	// 0: no manual cover.
	ManualCover int64 `json:"manualCover,omitempty"`
}

// ColdChainTerms pay Payout when a covered lot has spent more than
// MaxOutOfRangeMin minutes outside its storage range: the lot's
// cumulative excursion time (Excursion.CumulativeMin) as of a recorded
// excursion that started within the policy's validity.
type ColdChainTerms struct {
	MaxOutOfRangeMin float64 `json:"maxOutOfRangeMin"`
	Payout           int64   `json:"payout"`
}

// Policy statuses, relative to the time of the reading transaction.
const (
	PolicyPending = "pending" // before ValidFrom
	PolicyActive  = "active"
	PolicyExpired = "expired" // at or after ValidUntil
)

// PolicyStatuses lists the policy statuses.
var PolicyStatuses = []string{PolicyPending, PolicyActive, PolicyExpired}

// Claim is an insurance claim under a policy. The client sets Policy,
// Kind, and for a cold-chain claim Excursion, for a manual one
// Description, Amount, LossAt and optionally Evidence; the contract sets
// everything else.
type Claim struct {
	ID          string `json:"id"` // 32 hex, see contract.ClaimID
	Policy      string `json:"policy"`
	Kind        string `json:"kind"` // ClaimKinds
	Insurer     string `json:"insurer"`
	Insured     string `json:"insured"`
	Excursion   string `json:"excursion,omitempty"` // cold-chain: the recorded excursion's ID
	GTIN        string `json:"gtin,omitempty"`      // cold-chain: the excursion's lot
	Lot         string `json:"lot,omitempty"`
	Description string `json:"description,omitempty"`
	// LossAt is when a manual claim's loss happened (within the policy's
	// validity); a cold-chain claim's is the excursion's start.
	LossAt time.Time `json:"lossAt,omitzero"`
	// Amount is what is claimed: the manual claim's amount, or the
	// cold-chain payout computed from the policy's terms.
	Amount   int64         `json:"amount"`
	Currency string        `json:"currency"`
	Evidence []EvidenceRef `json:"evidence,omitempty"`
	Status   string        `json:"status"` // ClaimStatuses
	// Settled is the amount paid, once settled.
	Settled  int64       `json:"settled,omitempty"`
	History  []ClaimStep `json:"history"`
	OpenedBy string      `json:"openedBy"`
	OpenedAt time.Time   `json:"openedAt"`
	TxID     string      `json:"txID"`
}

// ClaimStep is one step of a claim's life, seen by both parties.
type ClaimStep struct {
	Step   string    `json:"step"` // ClaimOpened, ClaimSettledStep, ClaimRejectedStep
	Org    string    `json:"org"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	TxID   string    `json:"txID"`
	Amount int64     `json:"amount,omitempty"`
	Note   string    `json:"note,omitempty"` // settlement note or rejection reason
}

// Claim kinds.
const (
	ClaimColdChain = "cold-chain" // automatic, against a recorded excursion
	ClaimManual    = "manual"
)

// ClaimKinds lists the claim kinds.
var ClaimKinds = []string{ClaimColdChain, ClaimManual}

// Claim statuses, which are also the names of the steps that reach them.
const (
	ClaimOpen     = "open"
	ClaimSettled  = "settled"
	ClaimRejected = "rejected"
)

// ClaimStatuses lists the claim statuses.
var ClaimStatuses = []string{ClaimOpen, ClaimSettled, ClaimRejected}

// Claim steps.
const (
	StepOpened   = "opened"
	StepSettled  = "settled"
	StepRejected = "rejected"
)
