// Package demo is the demo consortium that `tracegate up` seeds: six
// member organisations, an N95 mask and a vaccine with their storage
// profiles, lots of serialised packs commissioned at the manufacturer, the
// warehouse's edge and the gateway's capture device. Seeding is idempotent:
// a restart on the same data directory registers nothing twice and
// commissions the same events (same CBV hashes), which are deduplicated.
package demo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// Organisation MSP IDs of the demo consortium.
const (
	Manufacturer = "MeridianMSP"
	Warehouse    = "NorthWarehouseMSP"
	Charity      = "HelpingHandsMSP"
	Hospital     = "CityHospitalMSP"
	Insurer      = "SafeCoverMSP"
	Regulator    = "RegulatorMSP"
)

// Orgs are the demo consortium's members.
var Orgs = []ledger.Org{
	{ID: Manufacturer, Name: "Meridian Health Products", Kind: ledger.OrgManufacturer, GLN: "0614141000005", Country: "DE"},
	{ID: Warehouse, Name: "North Logistics Warehouse", Kind: ledger.OrgWarehouse, GLN: "4012345000009", Country: "DE"},
	{ID: Charity, Name: "Helping Hands Relief", Kind: ledger.OrgCharity, GLN: "4000001000005", Country: "DE"},
	{ID: Hospital, Name: "City General Hospital", Kind: ledger.OrgHospital, GLN: "4000002000004", Country: "DE"},
	{ID: Insurer, Name: "SafeCover Insurance", Kind: ledger.OrgInsurer, GLN: "4000003000003", Country: "DE"},
	{ID: Regulator, Name: "National Medical Products Agency", Kind: ledger.OrgRegulator, GLN: "4000004000002", Country: "DE"},
}

// OrgIDs lists the members' IDs.
func OrgIDs() []string {
	out := make([]string, len(Orgs))
	for i, o := range Orgs {
		out[i] = o.ID
	}
	return out
}

// Manufacturer's GS1 company prefix and the warehouse's.
const (
	ManufacturerPrefix = "0614141"
	WarehousePrefix    = "4012345"
)

// Locations (SGLN URIs).
var (
	PlantLocation     = "urn:epc:id:sgln:0614141.00001.0"
	WarehouseSite     = "urn:epc:id:sgln:4012345.00001.0"
	WarehouseDockIn   = "urn:epc:id:sgln:4012345.00001.1"
	WarehouseDockOut  = "urn:epc:id:sgln:4012345.00001.2"
	WarehouseColdRoom = "urn:epc:id:sgln:4012345.00001.3"
)

func f(v float64) *float64 { return &v }

// Item references (with the indicator digit) of the demo products.
const (
	MaskItemRef    = "012345"
	VaccineItemRef = "054321"
)

// Product is a demo product with its lots.
type Product struct {
	ledger.Product
	ItemRef string
	Lots    []Lot
}

// Lot is a demo lot: Count serialised packs from FirstSerial.
type Lot struct {
	ID          string
	FirstSerial uint64
	Count       int
	Produced    time.Time
	Expiry      string
	// Pallet is the SSCC URI of the pallet the lot ships on.
	Pallet string
}

// Products are the demo products and lots. GTINs are derived from the
// company prefix and item reference, with computed check digits.
var Products = []Product{
	{
		Product: ledger.Product{Name: "N95 respirator mask, box of 20", Org: Manufacturer, Kind: "ppe",
			Profile: &ledger.StorageProfile{MinC: f(-20), MaxC: f(40), MaxHumidity: f(80)}},
		ItemRef: MaskItemRef,
		Lots: []Lot{
			{ID: "N95-2611A", FirstSerial: 100001, Count: 40, Produced: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), Expiry: "2031-11-01", Pallet: "urn:epc:id:sscc:0614141.1000000001"},
			{ID: "N95-2611B", FirstSerial: 200001, Count: 40, Produced: time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC), Expiry: "2031-11-08", Pallet: "urn:epc:id:sscc:0614141.1000000002"},
		},
	},
	{
		Product: ledger.Product{Name: "Influenza vaccine, 10 × 0.5 ml vials", Org: Manufacturer, Kind: "vaccine",
			Profile: &ledger.StorageProfile{MinC: f(2), MaxC: f(8), MaxSingleExcursionMin: f(30), MaxCumulativeExcursionMin: f(120), MKTMaxC: f(8)}},
		ItemRef: VaccineItemRef,
		Lots: []Lot{
			{ID: "VX-2611-07", FirstSerial: 500001, Count: 24, Produced: time.Date(2026, 11, 4, 6, 0, 0, 0, time.UTC), Expiry: "2027-05-31", Pallet: "urn:epc:id:sscc:0614141.1000000003"},
		},
	},
}

func init() {
	for i := range Products {
		g, err := (epc.EPC{Scheme: epc.SGTIN, CompanyPrefix: ManufacturerPrefix, Reference: Products[i].ItemRef}).GTIN()
		if err != nil {
			panic(fmt.Sprintf("demo product %s: %v", Products[i].Name, err))
		}
		Products[i].GTIN = g
	}
}

// SerialURI returns the SGTIN URI of a pack.
func SerialURI(itemRef string, serial uint64) string {
	return fmt.Sprintf("urn:epc:id:sgtin:%s.%s.%d", ManufacturerPrefix, itemRef, serial)
}

// Serials lists a lot's pack URIs.
func (p Product) Serials(l Lot) []string {
	out := make([]string, l.Count)
	for i := range out {
		out[i] = SerialURI(p.ItemRef, l.FirstSerial+uint64(i))
	}
	return out
}

// Device is a device to register on the ledger.
type Device struct {
	ID, Org, Kind, Site, Description string
	PublicKey                        []byte
}

// Seed registers the consortium, its devices, products and lots on the
// ledger and commissions every pack through the gateway's capture path.
// It is idempotent.
func Seed(ctx context.Context, svc *gateway.Service, devices []Device, log *slog.Logger) error {
	c := svc.Ledger()
	admin := func(org string) ledger.Identity { return ledger.Identity{Org: org, User: ledger.AdminUser} }
	for _, o := range Orgs {
		if _, err := c.RegisterOrg(ctx, admin(o.ID), o); err != nil {
			return fmt.Errorf("register org %s: %w", o.ID, err)
		}
	}
	for _, d := range devices {
		if err := RegisterDevice(ctx, svc, d); err != nil {
			return err
		}
	}
	var events []epcis.Event
	for _, p := range Products {
		if _, err := c.RegisterProduct(ctx, admin(p.Org), p.Product); err != nil {
			return fmt.Errorf("register product %s: %w", p.GTIN, err)
		}
		for _, l := range p.Lots {
			lot := ledger.Lot{GTIN: p.GTIN, Lot: l.ID, Org: p.Org, Quantity: l.Count,
				ProducedAt: l.Produced.Format("2006-01-02"), Expiry: l.Expiry}
			if _, err := c.RegisterLot(ctx, admin(p.Org), lot); err != nil {
				return fmt.Errorf("register lot %s/%s: %w", p.GTIN, l.ID, err)
			}
			events = append(events, commissioning(p, l))
		}
	}
	doc, err := epcis.MarshalDocument(events, commissionContext)
	if err != nil {
		return fmt.Errorf("commissioning document: %w", err)
	}
	st, err := svc.Capture(ctx, doc, false)
	if err != nil {
		return fmt.Errorf("commission demo packs: %w", err)
	}
	log.Info("demo consortium seeded", "orgs", len(Orgs), "products", len(Products), "commissioningEvents", len(st.EventIDs), "capture", st.CaptureID)
	return nil
}

// RegisterDevice registers (idempotently) a device's key on the ledger as
// its org's admin.
func RegisterDevice(ctx context.Context, svc *gateway.Service, d Device) error {
	dev := ledger.Device{ID: d.ID, Org: d.Org, Kind: d.Kind, Site: d.Site, Description: d.Description,
		PublicKey: base64.StdEncoding.EncodeToString(d.PublicKey)}
	if _, err := svc.Ledger().RegisterDevice(ctx, ledger.Identity{Org: d.Org, User: ledger.AdminUser}, dev); err != nil {
		if errors.Is(err, ledger.ErrConflict) {
			return fmt.Errorf("register device %s: %w (its key changed: was the data directory's key file replaced? start with a fresh --data or restore the key)", d.ID, err)
		}
		return fmt.Errorf("register device %s: %w", d.ID, err)
	}
	return nil
}

var commissionContext = epcis.Context{"cbvmda": "urn:epcglobal:cbv:mda:"}

// commissioning is the ObjectEvent that brings a lot's packs into being.
func commissioning(p Product, l Lot) epcis.Event {
	ev := epcis.NewObjectEvent(epcis.ObjectEventFields{
		Action:      "ADD",
		EPCs:        p.Serials(l),
		Time:        l.Produced,
		BizStep:     "commissioning",
		Disposition: "active",
		ReadPoint:   PlantLocation,
		BizLocation: PlantLocation,
	})
	ev["ilmd"] = map[string]any{"cbvmda:lotNumber": l.ID, "cbvmda:itemExpirationDate": l.Expiry}
	return ev
}
