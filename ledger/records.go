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

// Device kinds: an edge agent sealing batches, a capture client, or a
// gateway's access log.
const (
	DeviceEdge    = "edge"
	DeviceCapture = "capture"
	// DeviceAccessLog seals a gateway's access log (reads of shared data).
	DeviceAccessLog = "access-log"
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
	StatusReason string    `json:"statusReason,omitempty"` // why the status last changed
	StatusAt     time.Time `json:"statusAt,omitzero"`      // when it last changed (transaction time)
	RegisteredAt time.Time `json:"registeredAt"`
}

// Lot statuses. A lot starts LotOK; a recorded cold-chain excursion makes
// it LotExcursion, or LotQuarantined when the excursion breaches the
// product's storage profile; the manufacturer's quality staff quarantine
// and release (back to LotOK); a regulator's recall makes it LotRecalled,
// for good.
const (
	LotOK          = "ok"
	LotExcursion   = "excursion"
	LotQuarantined = "quarantined"
	LotRecalled    = "recalled"
)

// LotStatuses lists the valid lot statuses.
var LotStatuses = []string{LotOK, LotExcursion, LotQuarantined, LotRecalled}

// Site is a physical location of an org (a plant, warehouse, hospital …),
// identified by its GLN; Locations are its sub-locations (dock doors, cold
// rooms, wards), each an SGLN of the same GLN.
type Site struct {
	GLN          string        `json:"gln"`
	Org          string        `json:"org"`
	Name         string        `json:"name"`
	Kind         string        `json:"kind"` // a SiteKinds token
	Address      string        `json:"address,omitempty"`
	Country      string        `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Lat          float64       `json:"lat"`               // WGS84 degrees
	Lon          float64       `json:"lon"`
	Locations    []SubLocation `json:"locations,omitempty"`
	RegisteredAt time.Time     `json:"registeredAt"`
	UpdatedAt    time.Time     `json:"updatedAt,omitzero"`
}

// SubLocation is a location inside a site.
type SubLocation struct {
	ID   string `json:"id"` // urn:epc:id:sgln:CP.LOCREF.EXT of the site's GLN
	Name string `json:"name"`
	Kind string `json:"kind"` // a SubLocationKinds token
}

// Site kinds.
const (
	SiteFactory            = "factory"
	SiteWarehouse          = "warehouse"
	SiteDistributionCentre = "distribution-centre"
	SiteHospital           = "hospital"
	SitePharmacy           = "pharmacy"
	SiteDepot              = "depot"
	SiteClinic             = "clinic"
)

// SiteKinds lists the valid site kinds.
var SiteKinds = []string{SiteFactory, SiteWarehouse, SiteDistributionCentre, SiteHospital, SitePharmacy, SiteDepot, SiteClinic}

// SubLocationKinds lists common sub-location kinds, for forms and docs; the
// contract accepts any lowercase token (a-z, 0-9, -) as a kind.
var SubLocationKinds = []string{"dock-door", "cold-room", "freezer", "packing-station", "storage", "vehicle", "ward", "pharmacy", "receiving", "shipping", "dispensary", "quarantine", "office", "other"}

// Recall is a regulator's recall of a lot.
type Recall struct {
	GTIN     string    `json:"gtin"`
	Lot      string    `json:"lot"`
	Reason   string    `json:"reason"`
	Class    string    `json:"class"` // RecallClasses: "I" (most serious), "II", "III"
	Org      string    `json:"org"`   // the regulator org
	By       string    `json:"by"`    // the user who issued it (set by the contract)
	IssuedAt time.Time `json:"issuedAt"`
	TxID     string    `json:"txID"`
}

// RecallClasses lists the recall classes, most serious first.
var RecallClasses = []string{"I", "II", "III"}

// Excursion is a cold-chain excursion of a lot: a run of a sensor's
// readings outside the product's storage profile. The contract computes
// ID, CumulativeMin, Breach and BreachReason, and sets Org, RecordedBy,
// RecordedAt and TxID.
type Excursion struct {
	ID          string    `json:"id"` // 32 hex, see contract.ExcursionID
	GTIN        string    `json:"gtin"`
	Lot         string    `json:"lot"`
	Kind        string    `json:"kind"`     // ExcursionKinds
	Sensor      string    `json:"sensor"`   // the measuring device, e.g. "wh1/coldroom-1"
	Location    string    `json:"location"` // SGLN or container EPC URI where measured
	Start       time.Time `json:"start"`    // first out-of-range reading
	End         time.Time `json:"end"`      // last out-of-range reading
	DurationMin float64   `json:"durationMin"`
	PeakValue   float64   `json:"peakValue"`
	LimitValue  float64   `json:"limitValue"`
	Unit        string    `json:"unit"`           // "CEL" (°C) or "A93" (%RH), UN/CEFACT codes
	MKTC        *float64  `json:"mktC,omitempty"` // mean kinetic temperature over the excursion, °C
	// LotMKTC is the lot's mean kinetic temperature over everything it was
	// exposed to up to End (°C): what the profile's mktMaxC limits.
	LotMKTC       *float64      `json:"lotMktC,omitempty"`
	Readings      int           `json:"readings"`
	Evidence      []EvidenceRef `json:"evidence,omitempty"`
	Org           string        `json:"org"`
	RecordedBy    string        `json:"recordedBy"`
	RecordedAt    time.Time     `json:"recordedAt"`
	TxID          string        `json:"txID"`
	CumulativeMin float64       `json:"cumulativeMin"`
	Breach        bool          `json:"breach"`
	BreachReason  string        `json:"breachReason,omitempty"`
}

// EvidenceRef points at an anchored EPCIS event that supports an
// excursion: its event ID and the edge batch that carries it.
type EvidenceRef struct {
	EventID string `json:"eventID"` // ni:///sha-256;<64 hex>?ver=CBV2.0
	Edge    string `json:"edge"`
	Seq     uint64 `json:"seq"`
}

// Excursion kinds.
const (
	ExcursionTempHigh     = "temperature-high"
	ExcursionTempLow      = "temperature-low"
	ExcursionHumidityHigh = "humidity-high"
)

// ExcursionKinds lists the valid excursion kinds.
var ExcursionKinds = []string{ExcursionTempHigh, ExcursionTempLow, ExcursionHumidityHigh}

// Units of excursion values (UN/CEFACT common codes, as in EPCIS sensor data).
const (
	UnitCelsius   = "CEL"
	UnitPercentRH = "A93"
)

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
