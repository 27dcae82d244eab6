package contract

import (
	"github.com/tracegate/tracegate/ledger"
)

var lotFunctions = []function{
	{name: ledger.FnRegisterLot, minArgs: 1, maxArgs: 1, run: registerLot},
	{name: ledger.FnGetLot, readOnly: true, minArgs: 2, maxArgs: 2, run: getLot},
	{name: ledger.FnListLots, readOnly: true, minArgs: 1, maxArgs: 1, run: listLots},
}

// maxLotQuantity bounds a lot's quantity (units), far above any real lot.
const maxLotQuantity = 1_000_000_000

func checkLot(l ledger.Lot) error {
	if err := checkGTIN(l.GTIN); err != nil {
		return err
	}
	if err := checkLotNumber(l.Lot); err != nil {
		return err
	}
	if l.Org != "" {
		if err := checkID("lot org", l.Org); err != nil {
			return err
		}
	}
	if l.Quantity <= 0 || l.Quantity > maxLotQuantity {
		return invalid("lot quantity %d is not between 1 and %d", l.Quantity, maxLotQuantity)
	}
	produced, err := checkDate("producedAt", l.ProducedAt)
	if err != nil {
		return err
	}
	expiry, err := checkDate("expiry", l.Expiry)
	if err != nil {
		return err
	}
	if expiry.Before(produced) {
		return invalid("expiry %s is before producedAt %s", l.Expiry, l.ProducedAt)
	}
	if l.Status != "" && l.Status != ledger.LotOK {
		return invalid("a new lot's status is %q, not %q", ledger.LotOK, l.Status)
	}
	return nil
}

// registerLot registers a lot of a product the caller's org owns. The same
// lot again is a no-op; different content for a registered lot is a
// Conflict.
func registerLot(c *call, args []string) ([]byte, error) {
	var in ledger.Lot
	if err := decodeArg(args[0], "lot", &in); err != nil {
		return nil, err
	}
	if err := checkLot(in); err != nil {
		return nil, err
	}
	var p ledger.Product
	found, err := c.get(productKey(in.GTIN), &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("product %s is not registered", in.GTIN)
	}
	if in.Org == "" {
		in.Org = p.Org
	}
	if in.Org != p.Org {
		return nil, forbidden("register lot %s/%s: product %s belongs to org %s, not %s", in.GTIN, in.Lot, in.GTIN, p.Org, in.Org)
	}
	if _, err := c.requireRole(p.Org, "register lot "+in.GTIN+"/"+in.Lot, ledger.RoleOrgAdmin, ledger.RoleQuality, ledger.RoleOperator); err != nil {
		return nil, err
	}
	in.Status = ledger.LotOK
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	key := lotKey(in.GTIN, in.Lot)
	var cur ledger.Lot
	found, err = c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if found {
		if sameContent(cur, in, func(l *ledger.Lot) {
			l.RegisteredAt, l.Status, l.StatusReason, l.StatusAt = ledger.Lot{}.RegisteredAt, "", "", ledger.Lot{}.StatusAt
		}) {
			return marshal(cur)
		}
		return nil, conflict("lot %s of %s is registered with different content", in.Lot, in.GTIN)
	}
	in.RegisteredAt = now
	return c.putAndEmit(key, ledger.EvLotRegistered, in)
}

func getLot(c *call, args []string) ([]byte, error) {
	return getOfLot(c, args, lotKey, "is not registered")
}

// getOfLot reads the record of lot (args: gtin, lot) under key, for any
// member; missing is NotFound: "lot L of G <missing>".
func getOfLot(c *call, args []string, key func(gtin, lot string) string, missing string) ([]byte, error) {
	gtin, lot := args[0], args[1]
	if err := checkGTIN(gtin); err != nil {
		return nil, err
	}
	if err := checkLotNumber(lot); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(key(gtin, lot))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("lot %s of %s %s", lot, gtin, missing)
	}
	return raw, nil
}

func listLots(c *call, args []string) ([]byte, error) {
	gtin := args[0]
	if err := checkGTIN(gtin); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	lots, err := list[ledger.Lot](c, lotsPrefix(gtin), nil)
	if err != nil {
		return nil, err
	}
	return marshal(lots)
}
