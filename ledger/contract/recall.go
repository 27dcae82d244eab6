package contract

import (
	"errors"
	"sort"
	"strings"

	"github.com/tracegate/tracegate/ledger"
)

// Recalls are issued by regulators, one per lot:
//
//	recall/{gtin}/{lot}            ledger.Recall
const recallPrefix = "recall/"

func recallKey(gtin, lot string) string { return recallPrefix + gtin + "/" + lot }

var recallFunctions = []function{
	{name: ledger.FnRecallLot, minArgs: 1, maxArgs: 1, run: recallLot},
	{name: ledger.FnGetRecall, readOnly: true, minArgs: 2, maxArgs: 2, run: getRecall},
	{name: ledger.FnListRecalls, readOnly: true, run: listRecalls},
	{name: ledger.FnSetLotStatus, minArgs: 4, maxArgs: 4, run: setLotStatus},
}

func checkRecall(r ledger.Recall) error {
	if err := checkGTIN(r.GTIN); err != nil {
		return err
	}
	if err := checkLotNumber(r.Lot); err != nil {
		return err
	}
	if err := checkText("recall reason", r.Reason, 1000, true); err != nil {
		return err
	}
	if err := oneOf("recall class", r.Class, ledger.RecallClasses); err != nil {
		return err
	}
	if r.Org != "" {
		if err := checkID("recall org", r.Org); err != nil {
			return err
		}
	}
	return nil
}

// recallLot recalls a registered lot. Only a regulator-inspector or the
// admin of a registered regulator org may; the contract sets By, IssuedAt
// and TxID. The lot's status becomes recalled for good: a second recall of
// the same lot is a Conflict. The one event is LotRecalled (the Recall);
// the lot's new status is read with GetLot.
func recallLot(c *call, args []string) ([]byte, error) {
	var in ledger.Recall
	if err := decodeArg(args[0], "recall", &in); err != nil {
		return nil, err
	}
	if err := checkRecall(in); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Org == "" {
		in.Org = cl.Org
	}
	action := "recall lot " + in.Lot + " of " + in.GTIN
	if _, err := c.requireRole(in.Org, action, ledger.RoleRegulatorInspector, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	org, err := c.requireOrg(in.Org)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, forbidden("%s: org %s is not registered", action, in.Org)
	}
	if err != nil {
		return nil, err
	}
	if org.Kind != ledger.OrgRegulator {
		return nil, forbidden("%s: only regulators recall lots; org %s is a %s", action, org.ID, org.Kind)
	}
	lk := lotKey(in.GTIN, in.Lot)
	var lot ledger.Lot
	found, err := c.get(lk, &lot)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("lot %s of %s is not registered", in.Lot, in.GTIN)
	}
	rk := recallKey(in.GTIN, in.Lot)
	var prev ledger.Recall
	if found, err := c.get(rk, &prev); err != nil {
		return nil, err
	} else if found {
		return nil, conflict("lot %s of %s was already recalled (class %s) by org %s at %s, transaction %s", in.Lot, in.GTIN, prev.Class, prev.Org, prev.IssuedAt.Format(timeLayout), prev.TxID)
	}
	if lot.Status == ledger.LotRecalled {
		return nil, conflict("lot %s of %s is already recalled", in.Lot, in.GTIN)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	in.By, in.IssuedAt, in.TxID = cl.User, now, c.s.TxID()
	lot.Status, lot.StatusReason, lot.StatusAt = ledger.LotRecalled, "class "+in.Class+" recall by "+in.Org+": "+in.Reason, now
	if _, err := c.put(lk, lot); err != nil {
		return nil, err
	}
	return c.putAndEmit(rk, ledger.EvLotRecalled, in)
}

// timeLayout renders times in messages.
const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

func getRecall(c *call, args []string) ([]byte, error) {
	return getOfLot(c, args, recallKey, "has not been recalled")
}

// listRecalls lists every recall, oldest first (ties in key order).
func listRecalls(c *call, _ []string) ([]byte, error) {
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	recalls, err := list[ledger.Recall](c, recallPrefix, nil)
	if err != nil {
		return nil, err
	}
	// list returns key order; a stable sort by time keeps it for ties.
	sort.SliceStable(recalls, func(i, j int) bool { return recalls[i].IssuedAt.Before(recalls[j].IssuedAt) })
	return marshal(recalls)
}

// setLotStatus is the manufacturer's quality decision on a lot: quarantine
// it (from ok or excursion) or release it to ok (from excursion or
// quarantined, with a reason). Only quality staff or the admin of the
// lot's org may; a recalled lot is governed by the regulator's recall
// alone.
func setLotStatus(c *call, args []string) ([]byte, error) {
	gtin, lotNo, status, reason := args[0], args[1], args[2], args[3]
	if err := checkGTIN(gtin); err != nil {
		return nil, err
	}
	if err := checkLotNumber(lotNo); err != nil {
		return nil, err
	}
	switch status {
	case ledger.LotQuarantined, ledger.LotOK:
	case ledger.LotRecalled:
		return nil, invalid("status %q is set only by a regulator's RecallLot", status)
	case ledger.LotExcursion:
		return nil, invalid("status %q is set only by RecordExcursion; quality sets %q or %q", status, ledger.LotQuarantined, ledger.LotOK)
	default:
		return nil, invalid("status %q is not one a lot can be set to; quality sets %q or %q", truncate(status, 40), ledger.LotQuarantined, ledger.LotOK)
	}
	if status == ledger.LotOK && strings.TrimSpace(reason) == "" {
		return nil, invalid("releasing lot %s of %s needs a reason: why it is fit for use", lotNo, gtin)
	}
	if err := checkText("status reason", reason, 1000, false); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	key := lotKey(gtin, lotNo)
	var lot ledger.Lot
	found, err := c.get(key, &lot)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("lot %s of %s is not registered", lotNo, gtin)
	}
	if _, err := c.requireRole(lot.Org, "set status of lot "+lotNo+" of "+gtin, ledger.RoleQuality, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	switch {
	case lot.Status == ledger.LotRecalled:
		return nil, conflict("lot %s of %s is recalled; only the regulator's recall governs it, its status cannot change", lotNo, gtin)
	case status == ledger.LotQuarantined && lot.Status == ledger.LotQuarantined:
		return nil, conflict("lot %s of %s is already quarantined (since %s: %s)", lotNo, gtin, lot.StatusAt.Format(timeLayout), lot.StatusReason)
	case status == ledger.LotOK && lot.Status == ledger.LotOK:
		return nil, conflict("lot %s of %s is already ok; there is nothing to release", lotNo, gtin)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	lot.Status, lot.StatusReason, lot.StatusAt = status, reason, now
	return c.putAndEmit(key, ledger.EvLotStatusChanged, lot)
}
