package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tracegate/tracegate/edge"
	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// A simulator scenario (firmware-sim) brings its own master data: sites
// with their locations and coordinates, products with storage profiles,
// lots, and how the edge maps each reader and logger. SeedScenario puts
// it on the ledger (on top of the demo consortium, whose orgs the
// scenario's sites belong to), EdgeSites gives the edge its mappings and
// SiteTopics the gateway its alert topics.

// siteKind maps a scenario's site kind onto the ledger's site kinds.
func siteKind(k string) string {
	switch k {
	case "manufacturing-plant", "plant":
		return ledger.SiteFactory
	case "vehicle", "truck":
		return ledger.SiteDepot
	}
	if slices.Contains(ledger.SiteKinds, k) {
		return k
	}
	return ledger.SiteWarehouse
}

// subKind maps a scenario's sub-location kind onto the ledger's.
func subKind(k string) string {
	switch k {
	case "dock":
		return "dock-door"
	case "packing":
		return "packing-station"
	}
	if slices.Contains(ledger.SubLocationKinds, k) {
		return k
	}
	return "other"
}

// ScenarioSites converts a scenario's sites to ledger sites.
func ScenarioSites(sc *sim.Scenario) []ledger.Site {
	out := make([]ledger.Site, 0, len(sc.Sites))
	for _, s := range sc.Sites {
		ls := ledger.Site{GLN: s.GLN, Org: s.Org, Name: s.Name, Kind: siteKind(s.Kind), Address: s.Address, Country: s.Country, Lat: s.Lat, Lon: s.Lon}
		for _, l := range s.Locations {
			ls.Locations = append(ls.Locations, ledger.SubLocation{ID: l.ID, Name: l.Name, Kind: subKind(l.Kind)})
		}
		out = append(out, ls)
	}
	return out
}

// SeedScenario registers a scenario's sites, products and lots (each as
// its org's admin). Products already registered (the demo's own) are kept
// as they are. It is idempotent.
func SeedScenario(ctx context.Context, svc *gateway.Service, sc *sim.Scenario) error {
	c := svc.Ledger()
	admin := func(org string) ledger.Identity { return ledger.Identity{Org: org, User: ledger.AdminUser} }
	for _, o := range sc.Orgs {
		if _, err := c.RegisterOrg(ctx, admin(o.ID), ledger.Org{ID: o.ID, Name: o.Name, Kind: o.Kind, Country: o.Country}); err != nil {
			return fmt.Errorf("register org %s (the scenario's; on Fabric its MSP must be a member of the channel): %w", o.ID, err)
		}
	}
	for _, s := range ScenarioSites(sc) {
		sort.Slice(s.Locations, func(i, j int) bool { return s.Locations[i].ID < s.Locations[j].ID })
		if err := registerSite(ctx, svc, s); err != nil {
			return err
		}
	}
	orgOf := map[string]string{}
	for _, p := range sc.Products {
		orgOf[p.GTIN] = p.Org
		if _, err := c.Product(ctx, admin(p.Org), p.GTIN); err == nil {
			continue
		} else if !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("read product %s: %w", p.GTIN, err)
		}
		prof := &ledger.StorageProfile{MinC: p.MinC, MaxC: p.MaxC, MaxHumidity: p.MaxHumidity, MaxSingleExcursionMin: p.MaxSingleExcursionMin,
			MaxCumulativeExcursionMin: p.MaxCumulativeExcursionMin, MKTMaxC: p.MKTMaxC}
		if *prof == (ledger.StorageProfile{}) {
			prof = nil
		}
		if _, err := c.RegisterProduct(ctx, admin(p.Org), ledger.Product{GTIN: p.GTIN, Name: p.Name, Org: p.Org, Kind: p.Kind, Profile: prof}); err != nil {
			return fmt.Errorf("register product %s: %w", p.GTIN, err)
		}
	}
	for _, l := range sc.Lots {
		org := orgOf[l.GTIN]
		if org == "" {
			org = Manufacturer
		}
		lot := ledger.Lot{GTIN: l.GTIN, Lot: l.Lot, Org: org, Quantity: max(1, len(l.Serials)), ProducedAt: l.Produced, Expiry: l.Expiry}
		if _, err := c.RegisterLot(ctx, admin(org), lot); err != nil {
			return fmt.Errorf("register lot %s/%s: %w", l.GTIN, l.Lot, err)
		}
	}
	return nil
}

// EdgeSites returns the edge's site mappings for a scenario.
func EdgeSites(sc *sim.Scenario) map[string]edge.Site {
	out := map[string]edge.Site{}
	for _, s := range sc.Sites {
		es := edge.Site{Location: s.Location, Readers: map[string]edge.Reader{}, Sensors: map[string]edge.Sensor{}}
		for id, r := range s.Readers {
			es.Readers[id] = edge.Reader{ReadPoint: r.ReadPoint, BizLocation: r.BizLocation, BizStep: r.BizStep, Disposition: r.Disposition}
		}
		for id, m := range s.Sensors {
			es.Sensors[id] = edge.Sensor{ReadPoint: m.ReadPoint, BizLocation: m.BizLocation, DeviceID: m.DeviceID, EPCs: m.EPCs}
		}
		out[s.ID] = es
	}
	return out
}

// SiteTopics maps each scenario site's GLN to its topic site key.
func SiteTopics(sc *sim.Scenario) map[string]string {
	out := map[string]string{}
	for _, s := range sc.Sites {
		out[s.GLN] = s.ID
	}
	return out
}

// Recall performs a scenario's recall action as the regulator org's admin.
func Recall(ctx context.Context, svc *gateway.Service, a sim.Action) error {
	if a.Kind != sim.ActionRecall {
		return fmt.Errorf("unknown scenario action %q", a.Kind)
	}
	_, _, err := svc.Ledger().RecallLot(ctx, ledger.Identity{Org: a.Org, User: ledger.AdminUser},
		ledger.Recall{GTIN: a.GTIN, Lot: a.Lot, Reason: a.Reason, Class: a.Class, Org: a.Org})
	if err != nil && !errors.Is(err, ledger.ErrConflict) {
		return fmt.Errorf("recall %s/%s: %w", a.GTIN, a.Lot, err)
	}
	return nil
}

// Actor performs a scenario's ledger actions (recalls and the donation
// steps), each as its org's admin, keeping the ledger IDs of the records
// the scenario names by reference.
type Actor struct {
	svc *gateway.Service
	// IDs maps a scenario reference (Action.Ref) to the ledger record's ID.
	IDs map[string]string
	// ReceiptCodes maps each pledge's donor pseudonym to the receipt code
	// given to the donor.
	ReceiptCodes map[string]string
}

// NewActor returns an Actor over the gateway's ledger.
func NewActor(svc *gateway.Service) *Actor {
	return &Actor{svc: svc, IDs: map[string]string{}, ReceiptCodes: map[string]string{}}
}

func (x *Actor) ref(a sim.Action, i int) (string, error) {
	if i >= len(a.Refs) {
		return "", fmt.Errorf("%s action at %s: no reference", a.Kind, a.At)
	}
	id, ok := x.IDs[a.Refs[i]]
	if !ok {
		return "", fmt.Errorf("%s action at %s: %s was not made", a.Kind, a.At, a.Refs[i])
	}
	return id, nil
}

// Do performs one action.
func (x *Actor) Do(ctx context.Context, a sim.Action) error {
	c := x.svc.Ledger()
	id := ledger.Identity{Org: a.Org, User: ledger.AdminUser}
	item := ledger.DonationItem{Kind: a.ItemKind, Name: a.ItemName, GTIN: a.GTIN}
	switch a.Kind {
	case sim.ActionRecall:
		return Recall(ctx, x.svc, a)
	case sim.ActionRequest:
		r, _, err := c.RequestDonation(ctx, id, ledger.DonationRequest{Hospital: a.Org, Item: item, Quantity: a.Quantity, Urgency: a.Urgency, HospitalRole: a.HospitalRole, Note: a.Reason})
		if err != nil {
			return fmt.Errorf("donation request %s: %w", a.Ref, err)
		}
		x.IDs[a.Ref] = r.ID
	case sim.ActionPledge:
		sum := sha256.Sum256([]byte(a.ReceiptCode))
		p, _, err := c.RecordPledge(ctx, id, ledger.Pledge{Charity: a.Org, DonorPseudonym: a.Pseudonym, Kind: ledger.PledgeGoods, Item: &item, Quantity: a.Quantity, ReceiptCodeHash: hex.EncodeToString(sum[:])})
		if err != nil {
			return fmt.Errorf("pledge %s: %w", a.Ref, err)
		}
		x.IDs[a.Ref] = p.ID
		x.ReceiptCodes[a.Pseudonym] = a.ReceiptCode
		if len(a.Donor) > 0 {
			doc, err := json.Marshal(a.Donor)
			if err != nil {
				return err
			}
			if _, err := c.PutDonorIdentity(ctx, id, p.ID, doc); err != nil {
				if strings.Contains(err.Error(), "no private data collection") {
					return fmt.Errorf("donor identity of %s: %w (this ledger was created before tracegate kept donor identities in the %s collection: start with a fresh --data directory)", a.Ref, err, ledger.CollectionCharityPrivate)
				}
				return fmt.Errorf("donor identity of %s: %w", a.Ref, err)
			}
		}
	case sim.ActionPledgeReceipt:
		pid, err := x.ref(a, 0)
		if err != nil {
			return err
		}
		if _, _, err := c.ConfirmPledgeReceipt(ctx, id, pid, int64(a.Quantity)); err != nil {
			return fmt.Errorf("pledge receipt %s: %w", a.Refs[0], err)
		}
	case sim.ActionAllocate:
		var reqs []string
		for i := range a.Refs {
			r, err := x.ref(a, i)
			if err != nil {
				return err
			}
			reqs = append(reqs, r)
		}
		al, _, err := c.Allocate(ctx, id, ledger.Allocation{Charity: a.Org, Hospital: a.Hospital, Item: item, Quantity: a.Quantity, Reason: a.Reason, RequestIDs: reqs})
		if err != nil {
			return fmt.Errorf("allocation %s: %w", a.Ref, err)
		}
		x.IDs[a.Ref] = al.ID
	case sim.ActionShip:
		aid, err := x.ref(a, 0)
		if err != nil {
			return err
		}
		sh := ledger.Shipment{Pallets: a.Pallets, Quantity: a.Quantity}
		if a.Lot != "" {
			sh.Lots = []ledger.ShippedLot{{GTIN: a.GTIN, Lot: a.Lot}}
		}
		if _, _, err := c.ShipAllocation(ctx, id, aid, sh); err != nil {
			return fmt.Errorf("shipment of %s: %w", a.Refs[0], err)
		}
	default:
		return fmt.Errorf("unknown scenario action %q", a.Kind)
	}
	return nil
}
