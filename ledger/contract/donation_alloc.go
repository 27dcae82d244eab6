package contract

import (
	"time"

	"sort"
	"strings"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/ledger"
)

func (c *call) allocation(id string) (ledger.Allocation, error) {
	var a ledger.Allocation
	if err := checkID("allocation id", id); err != nil {
		return a, err
	}
	found, err := c.get(allocationKey(id), &a)
	if err != nil {
		return a, err
	}
	if !found {
		return a, notFound("allocation %s does not exist", id)
	}
	return a, nil
}

// allocate allocates units of a charity's unallocated stock of an item to
// a hospital, for some of its open requests of that kind, with a stated
// reason. Only the charity's charity-officer or admin may. The requests
// are answered in the order given, each with what it still needs; an
// allocation larger than their needs, or than the unallocated stock, is
// refused with the figures.
func allocate(c *call, args []string) ([]byte, error) {
	var in ledger.Allocation
	if err := decodeArg(args[0], "allocation", &in); err != nil {
		return nil, err
	}
	if in.ID != "" || in.CreatedBy != "" || !in.CreatedAt.IsZero() || in.TxID != "" || in.StockFrom != 0 || in.Status != "" ||
		in.Shipment != nil || in.Shipped != 0 || in.Received != 0 || in.Shortfall != 0 || in.ReceivedBy != "" ||
		!in.ReceivedAt.IsZero() || in.ReceiptNote != "" || in.ReceiptTxID != "" || in.ShipmentTxID != "" || in.RequestQuantities != nil {
		return nil, invalid("an allocation's id, createdBy, createdAt, txID, stockFrom, requestQuantities, status, shipment and receipt fields are set by the contract; leave them empty")
	}
	if err := checkID("allocation hospital", in.Hospital); err != nil {
		return nil, err
	}
	if err := checkDonationItem("allocation item", in.Item); err != nil {
		return nil, err
	}
	if err := checkQuantity("allocation quantity", in.Quantity); err != nil {
		return nil, err
	}
	if err := checkText("allocation reason", in.Reason, 2000, true); err != nil {
		return nil, err
	}
	if len(in.RequestIDs) == 0 || len(in.RequestIDs) > maxRequestsPerAlloc {
		return nil, invalid("an allocation answers 1 to %d of the hospital's requests; it names %d", maxRequestsPerAlloc, len(in.RequestIDs))
	}
	seen := map[string]bool{}
	for _, id := range in.RequestIDs {
		if err := checkID("request id", id); err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalid("request %s is listed twice", id)
		}
		seen[id] = true
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Charity == "" {
		in.Charity = cl.Org
	} else if err := checkID("allocation charity", in.Charity); err != nil {
		return nil, err
	}
	if _, err := c.requireOrgKind(in.Charity, ledger.OrgCharity, "allocate donations of "+in.Charity, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	h, err := c.requireOrg(in.Hospital)
	if err != nil {
		return nil, err
	}
	if h.Kind != ledger.OrgHospital {
		return nil, invalid("donations are allocated to hospitals; org %s is a %s", h.ID, h.Kind)
	}
	reqs := make([]ledger.DonationRequest, len(in.RequestIDs))
	need := 0
	for i, id := range in.RequestIDs {
		r, err := c.request(id)
		if err != nil {
			return nil, err
		}
		switch {
		case r.Hospital != in.Hospital:
			return nil, invalid("request %s is org %s's, not %s's", r.ID, r.Hospital, in.Hospital)
		case r.Status == ledger.RequestClosed:
			return nil, invalid("request %s of %s is closed", r.ID, r.Hospital)
		case r.Item.Kind != in.Item.Kind || r.Item.GTIN != "" && r.Item.GTIN != in.Item.GTIN:
			return nil, invalid("request %s asks for %s, not %s", r.ID, itemLabel(r.Item), itemLabel(in.Item))
		}
		need += max(r.Quantity-r.Allocated, 0)
		reqs[i] = r
	}
	if in.Quantity > need {
		return nil, invalid("allocating %d %s but the requests named still need %d", in.Quantity, itemLabel(in.Item), need)
	}
	sk := stockKey(in.Charity, in.Item)
	var st ledger.DonationStock
	if _, err := c.get(sk, &st); err != nil {
		return nil, err
	}
	if in.Quantity > st.Unallocated {
		return nil, invalid("allocating %d %s but %s holds %d unallocated", in.Quantity, itemLabel(in.Item), in.Charity, st.Unallocated)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	in.ID, in.CreatedBy, in.CreatedAt, in.TxID = donationID("alc", c.s.TxID()), cl.User, now, c.s.TxID()
	in.StockFrom, in.Status = st.Allocated, ledger.AllocationAllocated
	in.RequestQuantities = make([]int, len(reqs))
	left := in.Quantity
	for i, r := range reqs {
		q := min(left, max(r.Quantity-r.Allocated, 0))
		in.RequestQuantities[i], left = q, left-q
		r.Allocated += q
		r.Status = requestStatus(r)
		if _, err := c.put(donationReqKey(r.ID), r); err != nil {
			return nil, err
		}
	}
	st.Allocated += in.Quantity
	st.Unallocated, st.UpdatedAt = st.Received-st.Allocated, now
	if _, err := c.put(sk, st); err != nil {
		return nil, err
	}
	return c.putAndEmit(allocationKey(in.ID), ledger.EvDonationAllocated, in)
}

// checkPallet checks an SSCC pure identity EPC URI in canonical form.
func checkPallet(uri string) error {
	e, err := epc.ParseURI(uri)
	if err != nil {
		return invalid("pallet %q is not an EPC URI: %v", truncate(uri, 80), err)
	}
	if e.Scheme != epc.SSCC || e.Filter >= 0 || !strings.HasPrefix(uri, "urn:epc:id:") {
		return invalid("pallet %q is not an SSCC pure identity URI (urn:epc:id:sscc:CompanyPrefix.SerialReference)", truncate(uri, 80))
	}
	if canon := e.URI(); canon != uri {
		return invalid("pallet %q is not in canonical form; write it as %s", truncate(uri, 80), canon)
	}
	return nil
}

// shipAllocation records the shipment of an allocation: its traced
// pallets and lots and the quantity shipped (at most the allocation's).
// Only the charity may, once.
func shipAllocation(c *call, args []string) ([]byte, error) {
	var sh ledger.Shipment
	if err := decodeArg(args[1], "shipment", &sh); err != nil {
		return nil, err
	}
	if sh.ShippedBy != "" {
		return nil, invalid("a shipment's shippedBy is set by the contract; leave it empty")
	}
	if len(sh.Pallets) == 0 || len(sh.Pallets) > maxShipmentPallets {
		return nil, invalid("a shipment names 1 to %d pallets (SSCC EPC URIs); it names %d", maxShipmentPallets, len(sh.Pallets))
	}
	seen := map[string]bool{}
	for _, p := range sh.Pallets {
		if err := checkPallet(p); err != nil {
			return nil, err
		}
		if seen[p] {
			return nil, invalid("pallet %s is listed twice", p)
		}
		seen[p] = true
	}
	if len(sh.Lots) > maxShipmentLots {
		return nil, invalid("a shipment names at most %d lots", maxShipmentLots)
	}
	for _, l := range sh.Lots {
		if err := checkGTIN(l.GTIN); err != nil {
			return nil, err
		}
		if err := checkLotNumber(l.Lot); err != nil {
			return nil, err
		}
		k := "lot " + l.GTIN + "/" + l.Lot
		if seen[k] {
			return nil, invalid("lot %s of %s is listed twice", l.Lot, l.GTIN)
		}
		seen[k] = true
	}
	a, err := c.allocation(args[0])
	if err != nil {
		return nil, err
	}
	cl, err := c.requireRole(a.Charity, "ship allocation "+a.ID, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin, ledger.RoleOperator)
	if err != nil {
		return nil, err
	}
	if a.Status != ledger.AllocationAllocated {
		return nil, conflict("allocation %s was already shipped (transaction %s)", a.ID, a.ShipmentTxID)
	}
	if sh.Quantity < 1 || sh.Quantity > a.Quantity {
		return nil, invalid("shipment quantity %d is not between 1 and the %d allocated", sh.Quantity, a.Quantity)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	if sh.ShippedAt.IsZero() {
		sh.ShippedAt = now
	}
	sh.ShippedAt = sh.ShippedAt.UTC()
	if sh.ShippedAt.Sub(now).Minutes() > clockSkewMinutes {
		return nil, invalid("shippedAt %s is after the transaction time %s", sh.ShippedAt.Format(timeLayout), now.Format(timeLayout))
	}
	if sh.ShippedAt.Before(a.CreatedAt) {
		return nil, invalid("shippedAt %s is before the allocation was made (%s)", sh.ShippedAt.Format(timeLayout), a.CreatedAt.Format(timeLayout))
	}
	sh.ShippedBy = cl.User
	a.Shipment, a.Shipped, a.Status, a.ShipmentTxID = &sh, sh.Quantity, ledger.AllocationShipped, c.s.TxID()
	return c.putAndEmit(allocationKey(a.ID), ledger.EvDonationShipped, a)
}

// confirmAllocationReceipt records what the hospital received of a
// shipped allocation (0 to the quantity shipped), once; the shortfall is
// the allocated quantity less the received. The received units count
// towards the requests in the allocation's order.
func confirmAllocationReceipt(c *call, args []string) ([]byte, error) {
	note := ""
	if len(args) > 2 {
		note = args[2]
	}
	if err := checkText("receipt note", note, 2000, false); err != nil {
		return nil, err
	}
	a, err := c.allocation(args[0])
	if err != nil {
		return nil, err
	}
	cl, err := c.requireRole(a.Hospital, "confirm receipt of allocation "+a.ID, ledger.RoleHospitalReceiver, ledger.RoleOrgAdmin)
	if err != nil {
		return nil, err
	}
	switch a.Status {
	case ledger.AllocationReceived:
		return nil, conflict("allocation %s was already received (%d of %d) at %s", a.ID, a.Received, a.Quantity, a.ReceivedAt.Format(timeLayout))
	case ledger.AllocationAllocated:
		return nil, conflict("allocation %s has not been shipped yet", a.ID)
	}
	n, err := parseCount("received quantity", args[1], 0, int64(a.Shipped))
	if err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	a.Received, a.Shortfall, a.Status = int(n), a.Quantity-int(n), ledger.AllocationReceived
	a.ReceivedBy, a.ReceivedAt, a.ReceiptNote, a.ReceiptTxID = cl.User, now, note, c.s.TxID()
	left := a.Received
	for i, id := range a.RequestIDs {
		q := left
		if i < len(a.RequestQuantities) && i < len(a.RequestIDs)-1 {
			q = min(left, a.RequestQuantities[i])
		}
		if q == 0 {
			continue
		}
		left -= q
		r, err := c.request(id)
		if err != nil {
			return nil, err
		}
		r.Received += q
		if _, err := c.put(donationReqKey(r.ID), r); err != nil {
			return nil, err
		}
	}
	return c.putAndEmit(allocationKey(a.ID), ledger.EvDonationReceived, a)
}

func getAllocation(c *call, args []string) ([]byte, error) {
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	a, err := c.allocation(args[0])
	if err != nil {
		return nil, err
	}
	return marshal(a)
}

// listAllocations lists allocations, those made by or to one org unless
// "", oldest first.
func listAllocations(c *call, args []string) ([]byte, error) {
	org, err := optionalOrg(args)
	if err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	as, err := list(c, allocationPrefix, func(a ledger.Allocation) bool { return org == "" || a.Charity == org || a.Hospital == org })
	if err != nil {
		return nil, err
	}
	byCreated(as, func(a ledger.Allocation) time.Time { return a.CreatedAt })
	return marshal(as)
}

// pledgeByReceiptCode answers a donor's "where did my donation go" from
// the hash of the receipt code. The rule is first in, first out, per
// charity and item: the charity's received units are numbered in the
// order of its receipts (a pledge's are [StockFrom,
// StockFrom+ReceivedQuantity)), its allocations draw them in the order
// they are made (an allocation's are [StockFrom, StockFrom+Quantity)),
// and the pledge went to the allocations whose units overlap its own, by
// the size of the overlap. Both numberings are fixed by the transactions
// that made them, so every peer and every later read computes the same
// answer. A money pledge, or goods not yet received, drew no allocation.
func pledgeByReceiptCode(c *call, args []string) ([]byte, error) {
	if err := checkCodeHash(args[0]); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	id, err := c.getRaw(pledgeCodeKey(args[0]))
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, notFound("no pledge has receipt code hash %s", args[0])
	}
	p, err := c.pledge(string(id))
	if err != nil {
		return nil, err
	}
	out := ledger.PledgeTrace{Pledge: p, Allocations: []ledger.AllocationDraw{}}
	if p.Kind != ledger.PledgeGoods || p.Status != ledger.PledgeReceived {
		return marshal(out)
	}
	from, to := p.StockFrom, p.StockFrom+p.ReceivedQuantity
	as, err := list(c, allocationPrefix, func(a ledger.Allocation) bool {
		return a.Charity == p.Charity && sameItem(a.Item, *p.Item) && a.StockFrom < to && a.StockFrom+a.Quantity > from
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(as, func(i, j int) bool { return as[i].StockFrom < as[j].StockFrom })
	drawn := 0
	for _, a := range as {
		n := min(to, a.StockFrom+a.Quantity) - max(from, a.StockFrom)
		drawn += n
		out.Allocations = append(out.Allocations, ledger.AllocationDraw{Allocation: a, FromPledge: n})
	}
	out.Unallocated = p.ReceivedQuantity - drawn
	return marshal(out)
}
