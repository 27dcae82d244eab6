package contract

import (
	"encoding/json"
	"errors"
	"math"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/ledger"
)

// Sites are location master data: one record per GLN, owned by the org that
// registered it.
//
//	site/{gln}                     ledger.Site
const sitePrefix = "site/"

func siteKey(gln string) string { return sitePrefix + gln }

var siteFunctions = []function{
	{name: ledger.FnRegisterSite, minArgs: 1, maxArgs: 1, run: registerSite},
	{name: ledger.FnGetSite, readOnly: true, minArgs: 1, maxArgs: 1, run: getSite},
	{name: ledger.FnListSites, readOnly: true, minArgs: 0, maxArgs: 1, run: listSites},
}

// maxSubLocations bounds a site's sub-locations.
const maxSubLocations = 500

// checkSGLN checks that id is an SGLN EPC pure identity URI in canonical
// form and returns its GLN.
func checkSGLN(field, id string) (string, error) {
	e, err := epc.ParseURI(id)
	if err != nil {
		return "", invalid("%s %q is not an EPC URI: %v", field, truncate(id, 80), err)
	}
	if e.Scheme != epc.SGLN {
		return "", invalid("%s %q is a %s EPC, not an SGLN (urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension)", field, truncate(id, 80), e.Scheme)
	}
	if canon := e.URI(); canon != id {
		return "", invalid("%s %q is not in canonical form; write it as %s", field, truncate(id, 80), canon)
	}
	gln, err := e.GLN()
	if err != nil {
		return "", invalid("%s %q: %v", field, truncate(id, 80), err)
	}
	return gln, nil
}

func checkSite(s ledger.Site) error {
	if err := checkGLN(s.GLN); err != nil {
		return err
	}
	if err := checkID("site org", s.Org); err != nil {
		return err
	}
	if err := checkText("site name", s.Name, 200, true); err != nil {
		return err
	}
	if err := oneOf("site kind", s.Kind, ledger.SiteKinds); err != nil {
		return err
	}
	if err := checkText("site address", s.Address, 500, false); err != nil {
		return err
	}
	if s.Country != "" {
		if err := checkCountry(s.Country); err != nil {
			return err
		}
	}
	if math.IsNaN(s.Lat) || s.Lat < -90 || s.Lat > 90 {
		return invalid("site lat %g is not a WGS84 latitude in [-90, 90]", s.Lat)
	}
	if math.IsNaN(s.Lon) || s.Lon < -180 || s.Lon > 180 {
		return invalid("site lon %g is not a WGS84 longitude in [-180, 180]", s.Lon)
	}
	if len(s.Locations) > maxSubLocations {
		return invalid("site %s has %d locations, more than %d", s.GLN, len(s.Locations), maxSubLocations)
	}
	seen := make(map[string]bool, len(s.Locations))
	for i, l := range s.Locations {
		gln, err := checkSGLN("location id", l.ID)
		if err != nil {
			return err
		}
		if gln != s.GLN {
			return invalid("location %s is at GLN %s, not the site's GLN %s; register it with its own site", l.ID, gln, s.GLN)
		}
		if seen[l.ID] {
			return invalid("location %s is listed twice", l.ID)
		}
		seen[l.ID] = true
		if err := checkText("location name", l.Name, 200, true); err != nil {
			return invalid("location %d (%s): %v", i, l.ID, err)
		}
		if err := checkToken("location kind", l.Kind); err != nil {
			return err
		}
	}
	return nil
}

// requireCoordinates refuses a site JSON without both "lat" and "lon":
// 0 is a valid coordinate, so a missing one cannot be told from the value.
func requireCoordinates(arg string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(arg), &fields); err != nil {
		return invalid("site is not a JSON object: %v", err)
	}
	for _, k := range []string{"lat", "lon"} {
		if v, ok := fields[k]; !ok || string(v) == "null" {
			return invalid("site %s is required (WGS84 degrees)", k)
		}
	}
	return nil
}

// registerSite registers a site of the caller's org, or updates it. The
// same content again is a no-op; a GLN registered by another org is a
// Conflict.
func registerSite(c *call, args []string) ([]byte, error) {
	var in ledger.Site
	if err := decodeArg(args[0], "site", &in); err != nil {
		return nil, err
	}
	if err := requireCoordinates(args[0]); err != nil {
		return nil, err
	}
	if err := checkSite(in); err != nil {
		return nil, err
	}
	action := "register site " + in.GLN
	if _, err := c.requireRole(in.Org, action, ledger.RoleOrgAdmin, ledger.RoleOperator, ledger.RoleQuality); err != nil {
		return nil, err
	}
	if _, err := c.requireOrg(in.Org); errors.Is(err, ledger.ErrNotFound) {
		return nil, forbidden("%s: org %s is not registered; its admin registers it first", action, in.Org)
	} else if err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	key := siteKey(in.GLN)
	var cur ledger.Site
	found, err := c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if !found {
		in.RegisteredAt, in.UpdatedAt = now, ledger.Site{}.UpdatedAt
		return c.putAndEmit(key, ledger.EvSiteRegistered, in)
	}
	if cur.Org != in.Org {
		return nil, conflict("GLN %s is registered as a site of org %s; a GLN belongs to one org", in.GLN, cur.Org)
	}
	unset := func(s *ledger.Site) {
		s.RegisteredAt, s.UpdatedAt = ledger.Site{}.RegisteredAt, ledger.Site{}.UpdatedAt
	}
	if sameContent(cur, in, unset) {
		return marshal(cur)
	}
	in.RegisteredAt, in.UpdatedAt = cur.RegisteredAt, now
	return c.putAndEmit(key, ledger.EvSiteUpdated, in)
}

func getSite(c *call, args []string) ([]byte, error) {
	gln := args[0]
	if err := checkGLN(gln); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(siteKey(gln))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("site %s is not registered", gln)
	}
	return raw, nil
}

// listSites lists all sites, or those of the org named by the optional
// argument ("" means all), sorted by GLN.
func listSites(c *call, args []string) ([]byte, error) {
	var keep func(ledger.Site) bool
	if len(args) == 1 && args[0] != "" {
		org := args[0]
		if err := checkID("org id", org); err != nil {
			return nil, err
		}
		keep = func(s ledger.Site) bool { return s.Org == org }
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	sites, err := list(c, sitePrefix, keep)
	if err != nil {
		return nil, err
	}
	return marshal(sites)
}
