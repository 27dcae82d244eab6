package contract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// Donations: hospital requests, charities' pledges and stock, allocations
// with a stated reason, shipments and hospital receipts.
//
//	donationreq/{id}                      ledger.DonationRequest
//	pledge/{id}                           ledger.Pledge
//	pledgecode/{receiptCodeHash}          the pledge's ID (a receipt code names one pledge)
//	donationstock/{charity}/{kind}[/{gtin}] ledger.DonationStock
//	allocation/{id}                       ledger.Allocation
//
// and in the private collection ledger.CollectionCharityPrivate:
//
//	donor/{pledgeID}                      ledger.DonorIdentity
const (
	donationReqPrefix   = "donationreq/"
	pledgePrefix        = "pledge/"
	pledgeCodePrefix    = "pledgecode/"
	donationStockPrefix = "donationstock/"
	allocationPrefix    = "allocation/"
	donorPrefix         = "donor/"
)

func donationReqKey(id string) string    { return donationReqPrefix + id }
func pledgeKey(id string) string         { return pledgePrefix + id }
func pledgeCodeKey(hash string) string   { return pledgeCodePrefix + hash }
func allocationKey(id string) string     { return allocationPrefix + id }
func donorKey(pledgeID string) string    { return donorPrefix + pledgeID }
func stocksPrefix(charity string) string { return donationStockPrefix + charity + "/" }
func stockKey(charity string, it ledger.DonationItem) string {
	k := stocksPrefix(charity) + it.Kind
	if it.GTIN != "" {
		k += "/" + it.GTIN
	}
	return k
}

var donationFunctions = []function{
	{name: ledger.FnRequestDonation, minArgs: 1, maxArgs: 1, run: requestDonation},
	{name: ledger.FnCloseRequest, minArgs: 1, maxArgs: 2, run: closeRequest},
	{name: ledger.FnRecordPledge, minArgs: 1, maxArgs: 1, run: recordPledge},
	{name: ledger.FnPutDonorIdentity, minArgs: 2, maxArgs: 2, privateArgs: []int{1}, run: putDonorIdentity},
	{name: ledger.FnPurgeDonorIdentity, minArgs: 1, maxArgs: 1, run: purgeDonorIdentity},
	{name: ledger.FnConfirmPledgeReceipt, minArgs: 2, maxArgs: 2, run: confirmPledgeReceipt},
	{name: ledger.FnAllocate, minArgs: 1, maxArgs: 1, run: allocate},
	{name: ledger.FnShipAllocation, minArgs: 2, maxArgs: 2, run: shipAllocation},
	{name: ledger.FnConfirmAllocationReceipt, minArgs: 2, maxArgs: 3, run: confirmAllocationReceipt},

	{name: ledger.FnGetRequest, readOnly: true, minArgs: 1, maxArgs: 1, run: getRequest},
	{name: ledger.FnListRequests, readOnly: true, minArgs: 0, maxArgs: 1, run: listRequests},
	{name: ledger.FnGetPledge, readOnly: true, minArgs: 1, maxArgs: 1, run: getPledge},
	{name: ledger.FnListPledges, readOnly: true, minArgs: 0, maxArgs: 1, run: listPledges},
	{name: ledger.FnPledgeByReceiptCode, readOnly: true, minArgs: 1, maxArgs: 1, run: pledgeByReceiptCode},
	{name: ledger.FnGetDonorIdentity, readOnly: true, minArgs: 1, maxArgs: 1, run: getDonorIdentity},
	{name: ledger.FnGetAllocation, readOnly: true, minArgs: 1, maxArgs: 1, run: getAllocation},
	{name: ledger.FnListAllocations, readOnly: true, minArgs: 0, maxArgs: 1, run: listAllocations},
	{name: ledger.FnDonationStock, readOnly: true, minArgs: 1, maxArgs: 1, run: donationStock},
}

// Bounds of donation records.
const (
	maxDonationQuantity = 100_000_000
	maxPledgeAmount     = 1_000_000_000_000_000 // minor units
	maxRequestsPerAlloc = 100
	maxShipmentPallets  = 1000
	maxShipmentLots     = 1000
	maxDonorIdentity    = 16 << 10
)

// donationID derives a record's ID from the transaction that creates it:
// kind-<24 hex of SHA-256(kind 0x00 txID)>. A transaction creates at most
// one record of a kind, and every endorsing peer computes the same ID.
func donationID(kind, txID string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + txID))
	return kind + "-" + hex.EncodeToString(sum[:])[:24]
}

func checkDonationItem(what string, it ledger.DonationItem) error {
	if err := checkToken(what+" kind", it.Kind); err != nil {
		return err
	}
	if err := checkText(what+" name", it.Name, 200, true); err != nil {
		return err
	}
	if it.GTIN != "" {
		if err := checkGTIN(it.GTIN); err != nil {
			return err
		}
	}
	return nil
}

func sameItem(a, b ledger.DonationItem) bool { return a.Kind == b.Kind && a.GTIN == b.GTIN }

func itemLabel(it ledger.DonationItem) string {
	if it.GTIN != "" {
		return it.Kind + " (GTIN " + it.GTIN + ")"
	}
	return it.Kind
}

func checkQuantity(what string, q int) error {
	if q < 1 || q > maxDonationQuantity {
		return invalid("%s %d is not between 1 and %d", what, q, maxDonationQuantity)
	}
	return nil
}

// parseCount parses a decimal count argument between lo and hi.
func parseCount(what, s string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, invalid("%s %q is not a whole number between %d and %d", what, truncate(s, 32), lo, hi)
	}
	return n, nil
}

// requireOrgKind checks that the caller acts for org with one of roles
// and that org is registered as kind; who does it is said in action.
func (c *call) requireOrgKind(org, kind, action string, roles ...string) (ledger.Caller, error) {
	cl, err := c.requireRole(org, action, roles...)
	if err != nil {
		return cl, err
	}
	o, err := c.requireOrg(org)
	if errors.Is(err, ledger.ErrNotFound) {
		return cl, forbidden("%s: org %s is not registered", action, org)
	}
	if err != nil {
		return cl, err
	}
	if o.Kind != kind {
		return cl, forbidden("%s: only a %s may; org %s is a %s", action, kind, org, o.Kind)
	}
	return cl, nil
}

// requestStatus is a request's status from its totals.
func requestStatus(r ledger.DonationRequest) string {
	switch {
	case r.Status == ledger.RequestClosed:
		return ledger.RequestClosed
	case r.Allocated >= r.Quantity:
		return ledger.RequestAllocated
	case r.Allocated > 0:
		return ledger.RequestPartlyAllocated
	}
	return ledger.RequestOpen
}

// requestDonation publishes a hospital's request. Only a hospital's
// hospital-receiver or admin may; the contract assigns the ID.
func requestDonation(c *call, args []string) ([]byte, error) {
	var in ledger.DonationRequest
	if err := decodeArg(args[0], "donation request", &in); err != nil {
		return nil, err
	}
	if in.ID != "" || in.Allocated != 0 || in.Received != 0 || in.Status != "" || in.TxID != "" || in.CreatedBy != "" ||
		!in.CreatedAt.IsZero() || !in.ClosedAt.IsZero() || in.CloseNote != "" {
		return nil, invalid("a donation request's id, createdBy, createdAt, txID, allocated, received, status and close fields are set by the contract; leave them empty")
	}
	if err := checkDonationItem("request item", in.Item); err != nil {
		return nil, err
	}
	if err := checkQuantity("request quantity", in.Quantity); err != nil {
		return nil, err
	}
	if err := oneOf("request urgency", in.Urgency, ledger.DonationUrgencies); err != nil {
		return nil, err
	}
	if err := checkToken("request hospitalRole", in.HospitalRole); err != nil {
		return nil, err
	}
	if err := checkText("request note", in.Note, 2000, false); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Hospital == "" {
		in.Hospital = cl.Org
	} else if err := checkID("request hospital", in.Hospital); err != nil {
		return nil, err
	}
	if _, err := c.requireOrgKind(in.Hospital, ledger.OrgHospital, "request a donation for "+in.Hospital, ledger.RoleHospitalReceiver, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	in.ID, in.CreatedBy, in.CreatedAt, in.TxID, in.Status = donationID("req", c.s.TxID()), cl.User, now, c.s.TxID(), ledger.RequestOpen
	return c.putAndEmit(donationReqKey(in.ID), ledger.EvDonationRequested, in)
}

func (c *call) request(id string) (ledger.DonationRequest, error) {
	var r ledger.DonationRequest
	if err := checkID("request id", id); err != nil {
		return r, err
	}
	found, err := c.get(donationReqKey(id), &r)
	if err != nil {
		return r, err
	}
	if !found {
		return r, notFound("donation request %s does not exist", id)
	}
	return r, nil
}

// closeRequest closes a request: only its hospital may, once.
func closeRequest(c *call, args []string) ([]byte, error) {
	note := ""
	if len(args) > 1 {
		note = args[1]
	}
	if err := checkText("close note", note, 1000, false); err != nil {
		return nil, err
	}
	r, err := c.request(args[0])
	if err != nil {
		return nil, err
	}
	if _, err := c.requireRole(r.Hospital, "close donation request "+r.ID, ledger.RoleHospitalReceiver, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	if r.Status == ledger.RequestClosed {
		return nil, conflict("donation request %s was already closed at %s", r.ID, r.ClosedAt.Format(timeLayout))
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	r.Status, r.ClosedAt, r.CloseNote = ledger.RequestClosed, now, note
	return c.putAndEmit(donationReqKey(r.ID), ledger.EvRequestClosed, r)
}

func checkCodeHash(h string) error {
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return invalid("receipt code hash %q is not 64 lowercase hex digits (the SHA-256 of the code given to the donor)", truncate(h, 80))
	}
	return nil
}

func checkCurrency(s string) error {
	if len(s) != 3 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return invalid("currency %q is not an ISO 4217 code (three capital letters)", truncate(s, 16))
	}
	return nil
}

// recordPledge records a donor's pledge with a charity. Only the charity's
// charity-officer or admin may; a receipt code hash names one pledge.
func recordPledge(c *call, args []string) ([]byte, error) {
	var in ledger.Pledge
	if err := decodeArg(args[0], "pledge", &in); err != nil {
		return nil, err
	}
	if in.ID != "" || in.Status != "" || in.TxID != "" || in.RecordedBy != "" || !in.CreatedAt.IsZero() ||
		in.ReceivedQuantity != 0 || in.ReceivedAmount != 0 || !in.ReceivedAt.IsZero() || in.StockFrom != 0 {
		return nil, invalid("a pledge's id, status, recordedBy, createdAt, txID, stockFrom and receipt fields are set by the contract; leave them empty")
	}
	if err := checkText("donor pseudonym", in.DonorPseudonym, 100, true); err != nil {
		return nil, err
	}
	switch in.Kind {
	case ledger.PledgeGoods:
		if in.Item == nil {
			return nil, invalid("a goods pledge needs its item")
		}
		if err := checkDonationItem("pledge item", *in.Item); err != nil {
			return nil, err
		}
		if err := checkQuantity("pledge quantity", in.Quantity); err != nil {
			return nil, err
		}
		if in.Amount != 0 || in.Currency != "" {
			return nil, invalid("a goods pledge has a quantity, not an amount or currency")
		}
	case ledger.PledgeMoney:
		if in.Item != nil || in.Quantity != 0 {
			return nil, invalid("a money pledge has an amount and currency, not an item or quantity")
		}
		if in.Amount < 1 || in.Amount > maxPledgeAmount {
			return nil, invalid("pledge amount %d is not between 1 and %d (minor units)", in.Amount, int64(maxPledgeAmount))
		}
		if err := checkCurrency(in.Currency); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("pledge kind %q is not %q or %q", truncate(in.Kind, 40), ledger.PledgeGoods, ledger.PledgeMoney)
	}
	if err := checkCodeHash(in.ReceiptCodeHash); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Charity == "" {
		in.Charity = cl.Org
	} else if err := checkID("pledge charity", in.Charity); err != nil {
		return nil, err
	}
	if _, err := c.requireOrgKind(in.Charity, ledger.OrgCharity, "record a pledge for "+in.Charity, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	ck := pledgeCodeKey(in.ReceiptCodeHash)
	if prev, err := c.getRaw(ck); err != nil {
		return nil, err
	} else if prev != nil {
		return nil, conflict("receipt code hash %s already names pledge %s; give each donor a new code", in.ReceiptCodeHash, prev)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	in.ID, in.RecordedBy, in.CreatedAt, in.TxID, in.Status = donationID("plg", c.s.TxID()), cl.User, now, c.s.TxID(), ledger.PledgePledged
	if err := c.s.PutState(ck, []byte(in.ID)); err != nil {
		return nil, stateErr("write receipt code index", err)
	}
	return c.putAndEmit(pledgeKey(in.ID), ledger.EvPledgeRecorded, in)
}

func (c *call) pledge(id string) (ledger.Pledge, error) {
	var p ledger.Pledge
	if err := checkID("pledge id", id); err != nil {
		return p, err
	}
	found, err := c.get(pledgeKey(id), &p)
	if err != nil {
		return p, err
	}
	if !found {
		return p, notFound("pledge %s does not exist", id)
	}
	return p, nil
}

// confirmPledgeReceipt records what the charity received of a pledge:
// units of goods (which enter its stock of the item) or the amount of
// money, in minor units. Once only.
func confirmPledgeReceipt(c *call, args []string) ([]byte, error) {
	p, err := c.pledge(args[0])
	if err != nil {
		return nil, err
	}
	if _, err := c.requireRole(p.Charity, "confirm receipt of pledge "+p.ID, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	if p.Status == ledger.PledgeReceived {
		return nil, conflict("pledge %s was already received at %s", p.ID, p.ReceivedAt.Format(timeLayout))
	}
	hi := int64(maxDonationQuantity)
	if p.Kind == ledger.PledgeMoney {
		hi = maxPledgeAmount
	}
	n, err := parseCount("received quantity", args[1], 1, hi)
	if err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	p.Status, p.ReceivedAt = ledger.PledgeReceived, now
	if p.Kind == ledger.PledgeMoney {
		p.ReceivedAmount = n
		return c.putAndEmit(pledgeKey(p.ID), ledger.EvPledgeReceived, p)
	}
	sk := stockKey(p.Charity, *p.Item)
	var st ledger.DonationStock
	found, err := c.get(sk, &st)
	if err != nil {
		return nil, err
	}
	if !found {
		st = ledger.DonationStock{Charity: p.Charity, Item: *p.Item}
	}
	p.ReceivedQuantity, p.StockFrom = int(n), st.Received
	st.Received += int(n)
	st.Unallocated = st.Received - st.Allocated
	st.UpdatedAt = now
	if _, err := c.put(sk, st); err != nil {
		return nil, err
	}
	return c.putAndEmit(pledgeKey(p.ID), ledger.EvPledgeReceived, p)
}

// putDonorIdentity keeps a donor's identity (a JSON document, a private
// argument) in the charity's private collection, in its own transaction:
// only the pledge's charity may; a second call replaces it. The public
// event names only the pledge and the document's hash.
func putDonorIdentity(c *call, args []string) ([]byte, error) {
	value := args[1]
	if len(value) > maxDonorIdentity {
		return nil, invalid("donor identity is longer than %d bytes", maxDonorIdentity)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(value)); err != nil || !strings.HasPrefix(buf.String(), "{") {
		return nil, invalid("donor identity is not a JSON object")
	}
	p, err := c.pledge(args[0])
	if err != nil {
		return nil, err
	}
	if _, err := c.requireRole(p.Charity, "keep the donor identity of pledge "+p.ID, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	// Every call writes, even the same identity again: the transaction
	// is endorsed by the collection's members only, and on Fabric one
	// that writes nothing would be judged by the chaincode's endorsement
	// policy instead of the collection's, and fail.
	col := ledger.CollectionCharityPrivate
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(ledger.DonorIdentity{PledgeID: p.ID, Charity: p.Charity, Identity: buf.Bytes(), TxID: c.s.TxID(), UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	if err := c.s.PutPrivateData(col, donorKey(p.ID), raw); err != nil {
		return nil, stateErr("write private data in "+col, err)
	}
	ref := ledger.DonorIdentityRef{PledgeID: p.ID, Charity: p.Charity, ValueHash: hashHex(raw), TxID: c.s.TxID(), At: now}
	if err := c.emitJSON(ledger.EvDonorIdentityPut, ref); err != nil {
		return nil, err
	}
	return raw, nil
}

// getDonorIdentity reads a donor's identity: the pledge's charity only
// (the collection's membership is enforced by the backend too).
func getDonorIdentity(c *call, args []string) ([]byte, error) {
	p, err := c.pledge(args[0])
	if err != nil {
		return nil, err
	}
	if _, err := c.requireRole(p.Charity, "read the donor identity of pledge "+p.ID, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	raw, err := c.s.GetPrivateData(ledger.CollectionCharityPrivate, donorKey(p.ID))
	if err != nil {
		return nil, stateErr("read private data in "+ledger.CollectionCharityPrivate, err)
	}
	if raw == nil {
		return nil, notFound("no donor identity is kept for pledge %s", p.ID)
	}
	return raw, nil
}

// purgeDonorIdentity removes a donor's identity and its history for good
// (Fabric's private data purge); the public pledge stays as it is.
func purgeDonorIdentity(c *call, args []string) ([]byte, error) {
	p, err := c.pledge(args[0])
	if err != nil {
		return nil, err
	}
	if _, err := c.requireRole(p.Charity, "purge the donor identity of pledge "+p.ID, ledger.RoleCharityOfficer, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	if err := c.s.PurgePrivateData(ledger.CollectionCharityPrivate, donorKey(p.ID)); err != nil {
		return nil, stateErr("purge private data in "+ledger.CollectionCharityPrivate, err)
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	ref := ledger.DonorIdentityRef{PledgeID: p.ID, Charity: p.Charity, TxID: c.s.TxID(), At: now}
	raw, err := marshal(ref)
	if err != nil {
		return nil, err
	}
	if err := c.emit(ledger.EvDonorIdentityPurged, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func getRequest(c *call, args []string) ([]byte, error) {
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	r, err := c.request(args[0])
	if err != nil {
		return nil, err
	}
	return marshal(r)
}

// optionalOrg returns the org filter argument, "" for all.
func optionalOrg(args []string) (string, error) {
	if len(args) == 0 || args[0] == "" {
		return "", nil
	}
	return args[0], checkID("org id", args[0])
}

// byCreated sorts records by creation time, ties in key (ID) order.
func byCreated[T any](v []T, at func(T) time.Time) {
	sort.SliceStable(v, func(i, j int) bool { return at(v[i]).Before(at(v[j])) })
}

// listRequests lists requests, those of one hospital unless "", oldest
// first.
func listRequests(c *call, args []string) ([]byte, error) {
	org, err := optionalOrg(args)
	if err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	rs, err := list(c, donationReqPrefix, func(r ledger.DonationRequest) bool { return org == "" || r.Hospital == org })
	if err != nil {
		return nil, err
	}
	byCreated(rs, func(r ledger.DonationRequest) time.Time { return r.CreatedAt })
	return marshal(rs)
}

func getPledge(c *call, args []string) ([]byte, error) {
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	p, err := c.pledge(args[0])
	if err != nil {
		return nil, err
	}
	return marshal(p)
}

// listPledges lists pledges, those of one charity unless "", oldest first.
func listPledges(c *call, args []string) ([]byte, error) {
	org, err := optionalOrg(args)
	if err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	ps, err := list(c, pledgePrefix, func(p ledger.Pledge) bool { return org == "" || p.Charity == org })
	if err != nil {
		return nil, err
	}
	byCreated(ps, func(p ledger.Pledge) time.Time { return p.CreatedAt })
	return marshal(ps)
}

// donationStock lists a charity's stock, per item.
func donationStock(c *call, args []string) ([]byte, error) {
	if err := checkID("charity", args[0]); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	st, err := list[ledger.DonationStock](c, stocksPrefix(args[0]), nil)
	if err != nil {
		return nil, err
	}
	return marshal(st)
}
