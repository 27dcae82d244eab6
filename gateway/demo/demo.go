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
	"sort"
	"time"

	"github.com/tracegate/tracegate/edge/epcis"
	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/embedded"
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

// Clinic is a second hospital: a member of the embedded demo ledger,
// registered in the contract by the donations-2020 scenario (not by Seed:
// a Fabric network needs its MSP first).
const Clinic = sim.OrgClinic

// Collections are the embedded demo ledger's private data collections
// (the same as the local Fabric network's): the manufacturer's and the
// warehouse's shared terms, and the charity's donor identities.
func Collections() []embedded.Collection {
	return []embedded.Collection{
		{Name: "ManufacturerWarehouse", Members: []string{Manufacturer, Warehouse}},
		{Name: ledger.CollectionCharityPrivate, Members: []string{Charity}},
	}
}

// OrgIDs lists the members' IDs (the embedded ledger's consortium).
func OrgIDs() []string {
	out := make([]string, 0, len(Orgs)+1)
	for _, o := range Orgs {
		out = append(out, o.ID)
	}
	return append(out, Clinic)
}

// Locations (SGLN URIs). The warehouse's are the simulated devices' own
// (firmware-sim's demo catalogue), so the edge maps readers to the places
// the handheld scanner names too.
var (
	PlantLocation     = "urn:epc:id:sgln:0614141.00009.0"
	WarehouseSite     = sim.DemoBizLocation
	WarehouseDockIn   = sim.DemoReadPoint(sim.DemoDockIn)
	WarehouseDockOut  = sim.DemoReadPoint(sim.DemoDockOut)
	WarehouseColdRoom = sim.DemoReadPoint(sim.DemoColdRoom)
	WarehouseReefer   = sim.DemoReadPoint(sim.DemoReefer)
	WarehouseProbe    = sim.DemoReadPoint("probe-1")
)

// Places names the demo's locations for people (the portal shows "North
// Warehouse cold room", not an SGLN).
var Places = map[string]string{
	PlantLocation:                       "Meridian plant, Hamburg",
	WarehouseSite:                       "North Warehouse",
	WarehouseDockIn:                     "North Warehouse dock door 1",
	WarehouseDockOut:                    "North Warehouse dock door 2",
	WarehouseColdRoom:                   "North Warehouse cold room",
	WarehouseReefer:                     "Reefer trailer at North Warehouse",
	sim.DemoReadPoint(sim.DemoHandheld): "North Warehouse receiving desk",
	WarehouseProbe:                      "North Warehouse cold room (probe)",
}

func f(v float64) *float64 { return &v }

// Product is a demo product with its lots and the company-prefix length
// its EPCs need.
type Product struct {
	ledger.Product
	PrefixLength int
	Lots         []Lot
}

// Lot is a demo lot: serialised packs FirstSerial..LastSerial.
type Lot struct {
	ID          string
	FirstSerial uint64
	LastSerial  uint64
	Produced    time.Time
	Expiry      string
}

// Products are the demo products and lots: the simulated devices' catalogue
// (firmware-sim) with what the ledger keeps besides (kind, storage profile,
// manufacturer).
var Products = buildProducts()

func buildProducts() []Product {
	profiles := map[string]struct {
		kind    string
		profile *ledger.StorageProfile
	}{
		sim.DemoN95GTIN:     {"ppe", &ledger.StorageProfile{MinC: f(-20), MaxC: f(40), MaxHumidity: f(80)}},
		sim.DemoVaccineGTIN: {"vaccine", &ledger.StorageProfile{MinC: f(2), MaxC: f(8), MaxSingleExcursionMin: f(30), MaxCumulativeExcursionMin: f(120), MKTMaxC: f(8)}},
	}
	var out []Product
	for i, sp := range sim.DemoProducts() {
		pr := profiles[sp.GTIN]
		p := Product{Product: ledger.Product{GTIN: sp.GTIN, Name: sp.Name, Org: Manufacturer, Kind: pr.kind, Profile: pr.profile}, PrefixLength: sp.CompanyPrefixLength}
		for j, sl := range sim.DemoLots() {
			if sl.GTIN != sp.GTIN {
				continue
			}
			produced := time.Date(2026, 11, 2+i*2+j, 8, 0, 0, 0, time.UTC)
			p.Lots = append(p.Lots, Lot{ID: sl.Lot, FirstSerial: sl.SerialFirst, LastSerial: sl.SerialLast, Produced: produced, Expiry: sl.Expiry})
		}
		out = append(out, p)
	}
	return out
}

// SerialURI returns the SGTIN URI of pack serial of a demo product.
func SerialURI(gtin string, serial uint64) string {
	for _, p := range Products {
		if p.GTIN == gtin {
			l := p.PrefixLength
			return fmt.Sprintf("urn:epc:id:sgtin:%s.%s.%d", gtin[1:1+l], gtin[:1]+gtin[1+l:13], serial)
		}
	}
	panic("demo: unknown GTIN " + gtin)
}

// Serials lists a lot's pack URIs.
func (p Product) Serials(l Lot) []string {
	var out []string
	for s := l.FirstSerial; s <= l.LastSerial; s++ {
		out = append(out, SerialURI(p.GTIN, s))
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
	for _, site := range Sites() {
		if err := registerSite(ctx, svc, site); err != nil {
			return err
		}
	}
	var events []epcis.Event
	for _, p := range Products {
		if _, err := c.RegisterProduct(ctx, admin(p.Org), p.Product); err != nil {
			return fmt.Errorf("register product %s: %w", p.GTIN, err)
		}
		for _, l := range p.Lots {
			lot := ledger.Lot{GTIN: p.GTIN, Lot: l.ID, Org: p.Org, Quantity: int(l.LastSerial - l.FirstSerial + 1),
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

// Sites are the demo's location master data: the plant and the
// warehouse with their places (the simulated devices' read points).
func Sites() []ledger.Site {
	var wh []ledger.SubLocation
	for _, loc := range []struct{ id, kind string }{
		{WarehouseDockIn, "dock-door"}, {WarehouseDockOut, "dock-door"}, {WarehouseColdRoom, "cold-room"},
		{WarehouseReefer, "vehicle"}, {sim.DemoReadPoint(sim.DemoHandheld), "receiving"}, {WarehouseProbe, "cold-room"},
	} {
		wh = append(wh, ledger.SubLocation{ID: loc.id, Name: Places[loc.id], Kind: loc.kind})
	}
	return []ledger.Site{
		{GLN: "0614141000098", Org: Manufacturer, Name: "Meridian plant Hamburg", Kind: ledger.SiteFactory, Address: "Billstraße 80, 20539 Hamburg", Country: "DE", Lat: 53.55, Lon: 9.99},
		{GLN: sim.DemoSiteGLN, Org: Warehouse, Name: "North Warehouse Hanover", Kind: ledger.SiteWarehouse, Address: "Expo Plaza 1, 30539 Hannover", Country: "DE", Lat: 52.37, Lon: 9.73, Locations: wh},
	}
}

// registerSite registers a site, keeping the places an earlier
// registration of the same site already named (a scenario and the demo
// both describe the warehouse).
func registerSite(ctx context.Context, svc *gateway.Service, site ledger.Site) error {
	c := svc.Ledger()
	id := ledger.Identity{Org: site.Org, User: ledger.AdminUser}
	if cur, err := c.Site(ctx, id, site.GLN); err == nil && cur.Org == site.Org {
		have := map[string]bool{}
		for _, l := range site.Locations {
			have[l.ID] = true
		}
		for _, l := range cur.Locations {
			if !have[l.ID] {
				site.Locations = append(site.Locations, l)
			}
		}
		sort.Slice(site.Locations, func(i, j int) bool { return site.Locations[i].ID < site.Locations[j].ID })
	} else if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return fmt.Errorf("read site %s: %w", site.GLN, err)
	}
	if _, err := c.RegisterSite(ctx, id, site); err != nil {
		return fmt.Errorf("register site %s (%s): %w", site.Name, site.GLN, err)
	}
	return nil
}
