package ledger

import (
	"encoding/json"
	"time"
)

// Org is a registered consortium member. ID is its MSP ID.
type Org struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	GLN          string    `json:"gln,omitempty"`
	Country      string    `json:"country,omitempty"`
	RegisteredAt time.Time `json:"registeredAt"`
	UpdatedAt    time.Time `json:"updatedAt,omitzero"`
}

// Organisation kinds.
const (
	OrgManufacturer = "manufacturer"
	OrgWarehouse    = "warehouse"
	OrgLogistics    = "logistics"
	OrgCharity      = "charity"
	OrgHospital     = "hospital"
	OrgInsurer      = "insurer"
	OrgRegulator    = "regulator"
	OrgDistributor  = "distributor"
)

// OrgKinds lists the valid organisation kinds.
var OrgKinds = []string{OrgManufacturer, OrgWarehouse, OrgLogistics, OrgCharity, OrgHospital, OrgInsurer, OrgRegulator, OrgDistributor}

// User is a member identity in the contract's own registry; its Role decides
// what the user may do on both backends.
type User struct {
	Org          string    `json:"org"`
	ID           string    `json:"id"`
	Role         string    `json:"role"`
	Cert         string    `json:"cert,omitempty"` // PEM, for Fabric
	RegisteredBy string    `json:"registeredBy"`
	RegisteredAt time.Time `json:"registeredAt"`
	UpdatedAt    time.Time `json:"updatedAt,omitzero"`
}

// User roles. The org's admin (Caller.Admin, or user "admin") is always
// RoleOrgAdmin.
const (
	RoleOrgAdmin           = "org-admin"
	RoleOperator           = "operator"
	RoleQuality            = "quality"
	RoleCharityOfficer     = "charity-officer"
	RoleHospitalReceiver   = "hospital-receiver"
	RoleInsurerAssessor    = "insurer-assessor"
	RoleRegulatorInspector = "regulator-inspector"
)

// Roles lists the valid user roles.
var Roles = []string{RoleOrgAdmin, RoleOperator, RoleQuality, RoleCharityOfficer, RoleHospitalReceiver, RoleInsurerAssessor, RoleRegulatorInspector}

// Device is a registered edge or capture device and its Ed25519 public key.
type Device struct {
	ID           string    `json:"id"`
	Org          string    `json:"org"`
	PublicKey    string    `json:"publicKey"` // base64 (standard) of 32 bytes
	Kind         string    `json:"kind"`
	Site         string    `json:"site,omitempty"`
	Description  string    `json:"description,omitempty"`
	RegisteredAt time.Time `json:"registeredAt"`
	UpdatedAt    time.Time `json:"updatedAt,omitzero"`
}

// Device kinds: an edge agent sealing batches, or a capture client.
const (
	DeviceEdge    = "edge"
	DeviceCapture = "capture"
)

// Product is a trade item registered by its manufacturer.
type Product struct {
	GTIN         string          `json:"gtin"`
	Name         string          `json:"name"`
	Org          string          `json:"org"`
	Kind         string          `json:"kind"` // e.g. "ppe", "vaccine", "blood"
	Profile      *StorageProfile `json:"profile,omitempty"`
	RegisteredAt time.Time       `json:"registeredAt"`
}

// StorageProfile is a product's storage requirement; nil bounds are not
// constrained. Temperatures in °C, humidity in %RH, durations in minutes.
type StorageProfile struct {
	MinC                      *float64 `json:"minC,omitempty"`
	MaxC                      *float64 `json:"maxC,omitempty"`
	MaxHumidity               *float64 `json:"maxHumidity,omitempty"`
	MaxSingleExcursionMin     *float64 `json:"maxSingleExcursionMin,omitempty"`
	MaxCumulativeExcursionMin *float64 `json:"maxCumulativeExcursionMin,omitempty"`
	MKTMaxC                   *float64 `json:"mktMaxC,omitempty"`
}

// Lot is a production lot of a product. Dates are "YYYY-MM-DD".
type Lot struct {
	GTIN         string    `json:"gtin"`
	Lot          string    `json:"lot"`
	Org          string    `json:"org"`
	Quantity     int       `json:"quantity"`
	ProducedAt   string    `json:"producedAt"`
	Expiry       string    `json:"expiry"`
	Status       string    `json:"status"`
	RegisteredAt time.Time `json:"registeredAt"`
}

// LotOK is the status of a lot in good standing.
const LotOK = "ok"

// Anchor is a batch header anchored on the ledger.
type Anchor struct {
	Edge       string    `json:"edge"`
	Seq        uint64    `json:"seq"`
	HeaderHash string    `json:"headerHash"` // hex SHA-256 of the header's canonical bytes
	Prev       string    `json:"prev"`
	Root       string    `json:"root"`
	Count      uint64    `json:"count"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Signature  string    `json:"signature"` // base64 Ed25519 signature by the edge
	Org        string    `json:"org"`       // submitting org
	TxID       string    `json:"txID"`
	AnchoredAt time.Time `json:"anchoredAt"`
}

// PrivateRecord is a JSON document kept in a private data collection: only
// the collection's member orgs can read it; the chain holds only hashes.
type PrivateRecord struct {
	Collection string          `json:"collection"`
	Key        string          `json:"key"`
	Value      json.RawMessage `json:"value"` // a JSON document, compacted
	Org        string          `json:"org"`   // the org that wrote it, the only one that may change it
	TxID       string          `json:"txID"`
	UpdatedAt  time.Time       `json:"updatedAt"`
}

// PrivateRef is the public trace of a private write: the event payload of
// PutPrivate, DeletePrivate and PurgePrivate. It names no key or value,
// only their SHA-256 (hex).
type PrivateRef struct {
	Collection string    `json:"collection"`
	KeyHash    string    `json:"keyHash"`
	ValueHash  string    `json:"valueHash,omitempty"`
	Org        string    `json:"org"`
	TxID       string    `json:"txID"`
	At         time.Time `json:"at"`
}

// Whoami describes the caller as the contract sees it.
type Whoami struct {
	Caller
	Role          string `json:"role,omitempty"`
	OrgRegistered bool   `json:"orgRegistered"`
}
