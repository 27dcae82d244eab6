package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

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
