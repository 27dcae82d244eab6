package ledger

import (
	"encoding/json"
	"time"
)

// Donations: hospitals publish requests, charities record donors' pledges,
// confirm what arrives, allocate their stock to hospitals with a stated
// reason, ship it as traced pallets and lots, and the hospital confirms
// what it received. Every step is public; only the donor's identity is
// private (CollectionCharityPrivate).

// CollectionCharityPrivate is the private data collection that holds donor
// identities; its members are the charities.
const CollectionCharityPrivate = "CharityPrivate"

// DonationItem names what is requested, pledged or allocated. Kind is a
// lowercase token ("n95-mask"); GTIN (optional) narrows it to one trade
// item. Stock is kept per charity, Kind and GTIN.
type DonationItem struct {
	GTIN string `json:"gtin,omitempty"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// DonationRequest is a hospital's public request for donated goods. The
// contract sets ID, Hospital (the caller's org), CreatedAt, TxID, the
// running totals Allocated and Received, and Status.
type DonationRequest struct {
	ID           string       `json:"id"`
	Hospital     string       `json:"hospital"`
	Item         DonationItem `json:"item"`
	Quantity     int          `json:"quantity"`
	Urgency      string       `json:"urgency"`      // DonationUrgencies
	HospitalRole string       `json:"hospitalRole"` // a token, e.g. "designated-fever-hospital"
	Note         string       `json:"note,omitempty"`
	CreatedBy    string       `json:"createdBy"`
	CreatedAt    time.Time    `json:"createdAt"`
	TxID         string       `json:"txID"`
	Allocated    int          `json:"allocated"`
	Received     int          `json:"received"`
	Status       string       `json:"status"` // RequestStatuses
	ClosedAt     time.Time    `json:"closedAt,omitzero"`
	CloseNote    string       `json:"closeNote,omitempty"`
}

// Request urgencies.
var DonationUrgencies = []string{"low", "normal", "high", "critical"}

// Request statuses: open until something is allocated, partly-allocated,
// allocated once allocations reach the quantity, closed by the hospital.
const (
	RequestOpen            = "open"
	RequestPartlyAllocated = "partly-allocated"
	RequestAllocated       = "allocated"
	RequestClosed          = "closed"
)

// RequestStatuses lists the request statuses.
var RequestStatuses = []string{RequestOpen, RequestPartlyAllocated, RequestAllocated, RequestClosed}

// Pledge is a donor's pledge recorded by a charity. The donor is public
// only by pseudonym; the identity lives in CollectionCharityPrivate
// (PutDonorIdentity). ReceiptCodeHash is the lowercase hex SHA-256 of a
// code the charity gives the donor, who finds the pledge and where it went
// with PledgeByReceiptCode; the contract never sees the code. Goods pledges
// carry Item and Quantity, money pledges Amount (in the currency's minor
// units) and Currency (ISO 4217). The contract sets ID, Charity,
// RecordedBy, CreatedAt, TxID, Status and the receipt fields.
type Pledge struct {
	ID               string        `json:"id"`
	Charity          string        `json:"charity"`
	DonorPseudonym   string        `json:"donorPseudonym"`
	Kind             string        `json:"kind"` // PledgeGoods or PledgeMoney
	Item             *DonationItem `json:"item,omitempty"`
	Quantity         int           `json:"quantity,omitempty"`
	Amount           int64         `json:"amount,omitempty"`
	Currency         string        `json:"currency,omitempty"`
	ReceiptCodeHash  string        `json:"receiptCodeHash"`
	RecordedBy       string        `json:"recordedBy"`
	CreatedAt        time.Time     `json:"createdAt"`
	TxID             string        `json:"txID"`
	Status           string        `json:"status"` // PledgePledged or PledgeReceived
	ReceivedQuantity int           `json:"receivedQuantity,omitempty"`
	ReceivedAmount   int64         `json:"receivedAmount,omitempty"`
	ReceivedAt       time.Time     `json:"receivedAt,omitzero"`
	// StockFrom is, for received goods, how many units of the item the
	// charity had received before this pledge: the pledge's units are
	// [StockFrom, StockFrom+ReceivedQuantity) of the charity's stock.
	StockFrom int `json:"stockFrom,omitempty"`
}

// Pledge kinds and statuses.
const (
	PledgeGoods    = "goods"
	PledgeMoney    = "money"
	PledgePledged  = "pledged"
	PledgeReceived = "received"
)

// DonationStock is a charity's stock of one item: what it received from
// pledges, what it allocated to hospitals, and the difference.
type DonationStock struct {
	Charity     string       `json:"charity"`
	Item        DonationItem `json:"item"`
	Received    int          `json:"received"`
	Allocated   int          `json:"allocated"`
	Unallocated int          `json:"unallocated"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

// Allocation is a charity's allocation of its stock to a hospital, for
// some of the hospital's requests, with its stated reason. The contract
// sets ID, Charity, CreatedBy, CreatedAt, TxID, StockFrom and the
// shipment and receipt fields.
type Allocation struct {
	ID         string       `json:"id"`
	Charity    string       `json:"charity"`
	Hospital   string       `json:"hospital"`
	Item       DonationItem `json:"item"`
	Quantity   int          `json:"quantity"`
	Reason     string       `json:"reason"`
	RequestIDs []string     `json:"requestIDs"`
	// RequestQuantities are the units of Quantity that answer each of
	// RequestIDs, set by the contract: in order, each request gets what
	// it still needs.
	RequestQuantities []int     `json:"requestQuantities"`
	CreatedBy         string    `json:"createdBy"`
	CreatedAt         time.Time `json:"createdAt"`
	TxID              string    `json:"txID"`
	// StockFrom is how many units of the item the charity had allocated
	// before: this allocation draws units [StockFrom, StockFrom+Quantity)
	// of the charity's received stock (first in, first out).
	StockFrom    int       `json:"stockFrom"`
	Status       string    `json:"status"` // AllocationStatuses
	Shipment     *Shipment `json:"shipment,omitempty"`
	Shipped      int       `json:"shipped"`
	Received     int       `json:"received"`
	Shortfall    int       `json:"shortfall"` // Quantity − Received, once received
	ReceivedBy   string    `json:"receivedBy,omitempty"`
	ReceivedAt   time.Time `json:"receivedAt,omitzero"`
	ReceiptNote  string    `json:"receiptNote,omitempty"`
	ReceiptTxID  string    `json:"receiptTxID,omitempty"`
	ShipmentTxID string    `json:"shipmentTxID,omitempty"`
}

// Allocation statuses.
const (
	AllocationAllocated = "allocated"
	AllocationShipped   = "shipped"
	AllocationReceived  = "received"
)

// AllocationStatuses lists the allocation statuses.
var AllocationStatuses = []string{AllocationAllocated, AllocationShipped, AllocationReceived}

// Shipment is what a charity shipped for an allocation: traced pallets
// (SSCC EPC URIs) and lots. ShippedAt defaults to the transaction time.
type Shipment struct {
	Pallets   []string     `json:"pallets"`
	Lots      []ShippedLot `json:"lots,omitempty"`
	Quantity  int          `json:"quantity"`
	ShippedAt time.Time    `json:"shippedAt,omitzero"`
	ShippedBy string       `json:"shippedBy,omitempty"`
}

// ShippedLot is one lot in a shipment.
type ShippedLot struct {
	GTIN string `json:"gtin"`
	Lot  string `json:"lot"`
}

// PledgeTrace answers a donor's "where did my donation go": the pledge and
// the allocations that drew on its units, first in, first out (see
// contract.PledgeByReceiptCode).
type PledgeTrace struct {
	Pledge      Pledge           `json:"pledge"`
	Allocations []AllocationDraw `json:"allocations"`
	// Unallocated is how many of the pledge's units the charity still holds.
	Unallocated int `json:"unallocated"`
}

// AllocationDraw is an allocation and how many of its units came from the
// pledge.
type AllocationDraw struct {
	Allocation Allocation `json:"allocation"`
	FromPledge int        `json:"fromPledge"`
}

// DonorIdentity is a donor's identity, kept in CollectionCharityPrivate
// under the pledge's ID: readable by the charity only.
type DonorIdentity struct {
	PledgeID  string          `json:"pledgeID"`
	Charity   string          `json:"charity"`
	Identity  json.RawMessage `json:"identity"` // a JSON document, compacted
	TxID      string          `json:"txID"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// DonorIdentityRef is the public event of a donor identity write or
// purge: the pledge and the SHA-256 (hex) of the stored document, never
// the document.
type DonorIdentityRef struct {
	PledgeID  string    `json:"pledgeID"`
	Charity   string    `json:"charity"`
	ValueHash string    `json:"valueHash,omitempty"`
	TxID      string    `json:"txID"`
	At        time.Time `json:"at"`
}
