package contract

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/tracegate/tracegate/ledger"
)

var productFunctions = []function{
	{name: ledger.FnRegisterProduct, minArgs: 1, maxArgs: 1, run: registerProduct},
	{name: ledger.FnGetProduct, readOnly: true, minArgs: 1, maxArgs: 1, run: getProduct},
	{name: ledger.FnListProducts, readOnly: true, run: listProducts},
}

// Plausible bounds for storage figures; outside them a profile is a typo.
const (
	absoluteZeroC = -273.15
	maxPlausibleC = 200.0
)

func checkProfile(p *ledger.StorageProfile) error {
	if p == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"minC", p.MinC}, {"maxC", p.MaxC}, {"maxHumidity", p.MaxHumidity}, {"maxSingleExcursionMin", p.MaxSingleExcursionMin}, {"maxCumulativeExcursionMin", p.MaxCumulativeExcursionMin}, {"mktMaxC", p.MKTMaxC}} {
		if err := finite("profile "+f.name, f.v); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"minC", p.MinC}, {"maxC", p.MaxC}, {"mktMaxC", p.MKTMaxC}} {
		if f.v != nil && (*f.v < absoluteZeroC || *f.v > maxPlausibleC) {
			return invalid("profile %s %g °C is outside %g to %g", f.name, *f.v, absoluteZeroC, maxPlausibleC)
		}
	}
	if p.MinC != nil && p.MaxC != nil && !(*p.MinC < *p.MaxC) {
		return invalid("profile minC %g must be below maxC %g", *p.MinC, *p.MaxC)
	}
	if p.MKTMaxC != nil && p.MinC != nil && !(*p.MKTMaxC > *p.MinC) {
		return invalid("profile mktMaxC %g must be above minC %g", *p.MKTMaxC, *p.MinC)
	}
	if p.MaxHumidity != nil && (*p.MaxHumidity <= 0 || *p.MaxHumidity > 100) {
		return invalid("profile maxHumidity %g is not in (0, 100] %%RH", *p.MaxHumidity)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"maxSingleExcursionMin", p.MaxSingleExcursionMin}, {"maxCumulativeExcursionMin", p.MaxCumulativeExcursionMin}} {
		if f.v != nil && *f.v < 0 {
			return invalid("profile %s %g is negative", f.name, *f.v)
		}
	}
	if p.MaxSingleExcursionMin != nil && p.MaxCumulativeExcursionMin != nil && *p.MaxSingleExcursionMin > *p.MaxCumulativeExcursionMin {
		return invalid("profile maxSingleExcursionMin %g exceeds maxCumulativeExcursionMin %g", *p.MaxSingleExcursionMin, *p.MaxCumulativeExcursionMin)
	}
	return nil
}

func checkProduct(p ledger.Product) error {
	if err := checkGTIN(p.GTIN); err != nil {
		return err
	}
	if err := checkText("product name", p.Name, 200, true); err != nil {
		return err
	}
	if err := checkID("product org", p.Org); err != nil {
		return err
	}
	if err := checkToken("product kind", p.Kind); err != nil {
		return err
	}
	return checkProfile(p.Profile)
}

// sameContent compares two records as JSON, after clear has zeroed the
// fields the contract sets itself (registration times).
func sameContent[T any](a, b T, clear func(*T)) bool {
	clear(&a)
	clear(&b)
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// registerProduct registers a product of the caller's org, which must be a
// registered manufacturer. Registering the same product again is a no-op;
// changing a registered product is not supported yet (storage profiles
// decide past excursions, so a change needs its own, audited transaction).
func registerProduct(c *call, args []string) ([]byte, error) {
	var in ledger.Product
	if err := decodeArg(args[0], "product", &in); err != nil {
		return nil, err
	}
	if in.Profile != nil && *in.Profile == (ledger.StorageProfile{}) {
		in.Profile = nil
	}
	if err := checkProduct(in); err != nil {
		return nil, err
	}
	if _, err := c.requireRole(in.Org, "register product "+in.GTIN, ledger.RoleOrgAdmin, ledger.RoleQuality, ledger.RoleOperator); err != nil {
		return nil, err
	}
	org, err := c.requireOrg(in.Org)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, forbidden("register product %s: org %s is not registered", in.GTIN, in.Org)
	}
	if err != nil {
		return nil, err
	}
	if org.Kind != ledger.OrgManufacturer {
		return nil, forbidden("register product %s: only manufacturers register products; org %s is a %s", in.GTIN, org.ID, org.Kind)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	key := productKey(in.GTIN)
	var cur ledger.Product
	found, err := c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if found {
		if cur.Org != in.Org {
			return nil, conflict("GTIN %s is registered by org %s", in.GTIN, cur.Org)
		}
		if sameContent(cur, in, func(p *ledger.Product) { p.RegisteredAt = ledger.Product{}.RegisteredAt }) {
			return marshal(cur)
		}
		return nil, conflict("product %s is registered with different content; changing a product is not supported", in.GTIN)
	}
	in.RegisteredAt = now
	return c.putAndEmit(key, ledger.EvProductRegistered, in)
}

func getProduct(c *call, args []string) ([]byte, error) {
	gtin := args[0]
	if err := checkGTIN(gtin); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(productKey(gtin))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("product %s is not registered", gtin)
	}
	return raw, nil
}

func listProducts(c *call, _ []string) ([]byte, error) {
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	products, err := list[ledger.Product](c, productPrefix, nil)
	if err != nil {
		return nil, err
	}
	return marshal(products)
}
