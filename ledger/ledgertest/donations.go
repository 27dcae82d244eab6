package ledgertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/tracegate/tracegate/ledger"
)

// donRefused checks that a call returning a record was refused with code.
func donRefused[T any](s *suite, what string, code ledger.Code) func(T, ledger.Result, error) {
	return func(_ T, _ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// donMust fails the test on err and returns the record and its result.
func donMust[T any](s *suite, what string) func(T, ledger.Result, error) (T, ledger.Result) {
	return func(v T, res ledger.Result, err error) (T, ledger.Result) {
		s.t.Helper()
		if err != nil {
			s.t.Fatalf("%s: %v", what, err)
		}
		if res.TxID == "" {
			s.t.Fatalf("%s: result has no transaction ID", what)
		}
		return v, res
	}
}

// receiptCode returns a donor's receipt code and its hash.
func receiptCode() (code, hash string) {
	code = "RC-" + randomHex(8)
	sum := sha256.Sum256([]byte(code))
	return code, hex.EncodeToString(sum[:])
}

// setupCharity registers the fixture's charity and its users:
// Users[0] charity-officer, Users[1] operator, Users[2] quality.
func (s *suite) setupCharity() {
	s.t.Helper()
	ch := s.fx.Charity
	s.must(s.c.RegisterOrg(s.ctx(), admin(ch), ledger.Org{ID: ch, Name: "Conformance Charity", Kind: ledger.OrgCharity, Country: "GB"}))
	for i, role := range []string{ledger.RoleCharityOfficer, ledger.RoleOperator, ledger.RoleQuality} {
		s.must(s.c.RegisterUser(s.ctx(), admin(ch), ledger.User{Org: ch, ID: s.fx.Users[i], Role: role}))
	}
}

// testDonations plays the 2020 story in miniature: a fever hospital asks
// for 16,000 N95 masks and a clinic for 3,000; donors pledge through a
// charity, which receives less than pledged, cannot allocate more than
// it holds, allocates with stated reasons, ships traced pallets and lots;
// the fever hospital confirms all of its allocation, the clinic a
// shortfall; donors follow their pledge by receipt code. Every refusal is
// checked on the way. (The fixture has one hospital org: the fever
// hospital and the clinic are its two requests with different hospital
// roles.)
func testDonations(s *suite) {
	fx, t := s.fx, s.t
	if fx.Charity == "" {
		t.Skip("the fixture names no charity")
	}
	s.setupCharity()
	hosp, ch := fx.Hospital, fx.Charity
	officer := ledger.Identity{Org: ch, User: fx.Users[0]}
	charityOp := ledger.Identity{Org: ch, User: fx.Users[1]}
	receiver := s.other(hosp) // hospital-receiver
	hospOp := s.operator(hosp)
	kind := "n95-" + s.run // a fresh item per run: stock figures start at zero
	mask := ledger.DonationItem{Kind: kind, Name: "N95 respirator"}
	maskGTIN := newGTIN()

	// --- Requests.
	feverReq := ledger.DonationRequest{Item: mask, Quantity: 16000, Urgency: "critical", HospitalRole: "designated-fever-hospital",
		Note: "fever clinic open 24h; 3 days of masks left"}
	r1, first := donMust[ledger.DonationRequest](s, "fever hospital requests")(s.c.RequestDonation(s.ctx(), receiver, feverReq))
	ev := s.eventsAfter(first) // the events after the first request
	if r1.ID == "" || r1.Hospital != hosp || r1.Status != ledger.RequestOpen || r1.CreatedBy != receiver.User || r1.TxID != first.TxID || r1.CreatedAt.IsZero() || r1.Allocated != 0 {
		t.Fatalf("request = %+v", r1)
	}
	clinicReq := ledger.DonationRequest{Hospital: hosp, Item: mask, Quantity: 3000, Urgency: "normal", HospitalRole: "general-clinic"}
	r2, res := donMust[ledger.DonationRequest](s, "clinic requests")(s.c.RequestDonation(s.ctx(), admin(hosp), clinicReq))
	ev.add(ledger.EvDonationRequested, res)
	if r2.ID == r1.ID {
		t.Fatalf("two requests share ID %s", r1.ID)
	}
	reqRefused := donRefused[ledger.DonationRequest]
	reqRefused(s, "hospital operator requests", ledger.Forbidden)(s.c.RequestDonation(s.ctx(), hospOp, feverReq))
	reqRefused(s, "warehouse's hospital-receiver requests", ledger.Forbidden)(s.c.RequestDonation(s.ctx(), s.other(fx.Warehouse), feverReq))
	reqRefused(s, "regulator admin requests", ledger.Forbidden)(s.c.RequestDonation(s.ctx(), admin(fx.Regulator), feverReq))
	reqRefused(s, "charity officer requests", ledger.Forbidden)(s.c.RequestDonation(s.ctx(), officer, feverReq))
	other := feverReq
	other.Hospital = fx.Warehouse
	reqRefused(s, "request for another org", ledger.Forbidden)(s.c.RequestDonation(s.ctx(), receiver, other))
	if fx.Outsider != "" {
		reqRefused(s, "unregistered org requests", ledger.Forbidden)(s.c.RequestDonation(s.ctx(), admin(fx.Outsider), feverReq))
	}
	for _, bad := range []func(r *ledger.DonationRequest){
		func(r *ledger.DonationRequest) { r.Urgency = "yesterday" },
		func(r *ledger.DonationRequest) { r.Quantity = 0 },
		func(r *ledger.DonationRequest) { r.Quantity = -5 },
		func(r *ledger.DonationRequest) { r.ID = "req-mine" },
		func(r *ledger.DonationRequest) { r.Allocated = 16000 },
		func(r *ledger.DonationRequest) { r.Status = ledger.RequestAllocated },
		func(r *ledger.DonationRequest) { r.Item.Kind = "N95 Mask" },
		func(r *ledger.DonationRequest) { r.Item.Name = " " },
		func(r *ledger.DonationRequest) { r.Item.GTIN = withBadCheckDigit(maskGTIN) },
		func(r *ledger.DonationRequest) { r.HospitalRole = "" },
		func(r *ledger.DonationRequest) { r.Note = "bell\x07" },
		func(r *ledger.DonationRequest) { r.Hospital = "a/b" },
	} {
		r := feverReq
		bad(&r)
		reqRefused(s, "bad request", ledger.Invalid)(s.c.RequestDonation(s.ctx(), receiver, r))
	}
	for _, raw := range []string{`{"item":{"kind":"n95","name":"x"},"quantity":1,"urgency":"low","hospitalRole":"x","priority":1}`, `[1]`, `{"quantity":"many"}`} {
		s.refused("hostile request JSON "+raw, ledger.Invalid)(s.submitRaw(receiver, ledger.FnRequestDonation, raw))
	}

	// --- Pledges.
	code1, hash1 := receiptCode()
	_, hash2 := receiptCode()
	_, hashM := receiptCode()
	pl1 := ledger.Pledge{DonorPseudonym: "donor-ada", Kind: ledger.PledgeGoods, Item: &mask, Quantity: 3000, ReceiptCodeHash: hash1}
	p1, res := donMust[ledger.Pledge](s, "officer records a pledge")(s.c.RecordPledge(s.ctx(), officer, pl1))
	ev.add(ledger.EvPledgeRecorded, res)
	if p1.ID == "" || p1.Charity != ch || p1.Status != ledger.PledgePledged || p1.RecordedBy != officer.User || p1.ReceiptCodeHash != hash1 || p1.TxID != res.TxID {
		t.Fatalf("pledge = %+v", p1)
	}
	if strings.Contains(string(res.Payload), code1) {
		t.Fatal("the pledge carries the receipt code itself")
	}
	pl2 := ledger.Pledge{Charity: ch, DonorPseudonym: "donor-bo", Kind: ledger.PledgeGoods, Item: &mask, Quantity: 16000, ReceiptCodeHash: hash2}
	p2, res := donMust[ledger.Pledge](s, "charity admin records a pledge")(s.c.RecordPledge(s.ctx(), admin(ch), pl2))
	ev.add(ledger.EvPledgeRecorded, res)
	plM := ledger.Pledge{DonorPseudonym: "donor-cy", Kind: ledger.PledgeMoney, Amount: 50000, Currency: "EUR", ReceiptCodeHash: hashM}
	pm, res := donMust[ledger.Pledge](s, "money pledge")(s.c.RecordPledge(s.ctx(), officer, plM))
	ev.add(ledger.EvPledgeRecorded, res)
	plRefused := donRefused[ledger.Pledge]
	_, fresh := receiptCode()
	ok := pl1
	ok.ReceiptCodeHash = fresh
	plRefused(s, "charity operator pledges", ledger.Forbidden)(s.c.RecordPledge(s.ctx(), charityOp, ok))
	plRefused(s, "manufacturer admin pledges", ledger.Forbidden)(s.c.RecordPledge(s.ctx(), admin(fx.Manufacturer), ok))
	plRefused(s, "hospital receiver pledges", ledger.Forbidden)(s.c.RecordPledge(s.ctx(), receiver, ok))
	forOther := ok
	forOther.Charity = hosp
	plRefused(s, "pledge for another org", ledger.Forbidden)(s.c.RecordPledge(s.ctx(), officer, forOther))
	plRefused(s, "receipt code used twice", ledger.Conflict)(s.c.RecordPledge(s.ctx(), officer, pl1))
	for _, bad := range []func(p *ledger.Pledge){
		func(p *ledger.Pledge) { p.ReceiptCodeHash = strings.ToUpper(fresh) },
		func(p *ledger.Pledge) { p.ReceiptCodeHash = "RC-1234" },
		func(p *ledger.Pledge) { p.DonorPseudonym = "" },
		func(p *ledger.Pledge) { p.Kind = "crypto" },
		func(p *ledger.Pledge) { p.Amount = 100 },
		func(p *ledger.Pledge) { p.Item = nil },
		func(p *ledger.Pledge) { p.Quantity = 0 },
		func(p *ledger.Pledge) { p.Status = ledger.PledgeReceived },
		func(p *ledger.Pledge) { p.ID = "plg-mine" },
		func(p *ledger.Pledge) {
			p.Kind, p.Item, p.Quantity, p.Amount, p.Currency = ledger.PledgeMoney, nil, 0, 100, "euro"
		},
		func(p *ledger.Pledge) { p.Kind, p.Amount, p.Currency = ledger.PledgeMoney, 100, "EUR" },
	} {
		p := ok
		bad(&p)
		plRefused(s, "bad pledge", ledger.Invalid)(s.c.RecordPledge(s.ctx(), officer, p))
	}

	// --- The donor's identity: private, the charity's only.
	identity := json.RawMessage(`{"name": "Ada Donor", "email": "ada-` + s.run + `@example.org"}`)
	res = s.must(s.c.PutDonorIdentity(s.ctx(), officer, p1.ID, identity))
	ev.add(ledger.EvDonorIdentityPut, res)
	res = ev.add(ledger.EvDonorIdentityPut, s.must(s.c.PutDonorIdentity(s.ctx(), officer, p1.ID, identity))) // replaced, by the same
	d := got[ledger.DonorIdentity](s, "charity reads the donor")(s.c.DonorIdentity(s.ctx(), admin(ch), p1.ID))
	var compact bytes.Buffer
	_ = json.Compact(&compact, identity)
	if d.PledgeID != p1.ID || d.Charity != ch || !bytes.Equal(d.Identity, compact.Bytes()) || d.TxID != res.TxID {
		t.Fatalf("donor identity = %+v", d)
	}
	denied[ledger.DonorIdentity](s, "hospital reads the donor", ledger.Forbidden)(s.c.DonorIdentity(s.ctx(), admin(hosp), p1.ID))
	denied[ledger.DonorIdentity](s, "manufacturer reads the donor", ledger.Forbidden)(s.c.DonorIdentity(s.ctx(), s.operator(fx.Manufacturer), p1.ID))
	denied[ledger.DonorIdentity](s, "charity operator reads the donor", ledger.Forbidden)(s.c.DonorIdentity(s.ctx(), charityOp, p1.ID))
	denied[ledger.DonorIdentity](s, "no identity kept", ledger.NotFound)(s.c.DonorIdentity(s.ctx(), officer, p2.ID))
	denied[ledger.DonorIdentity](s, "unknown pledge", ledger.NotFound)(s.c.DonorIdentity(s.ctx(), officer, "plg-unknown"+s.run))
	s.refused("hospital writes a donor", ledger.Forbidden)(s.c.PutDonorIdentity(s.ctx(), receiver, p1.ID, identity))
	s.refused("manufacturer writes a donor", ledger.Forbidden)(s.c.PutDonorIdentity(s.ctx(), admin(fx.Manufacturer), p1.ID, identity))
	s.refused("donor not JSON", ledger.Invalid)(s.c.PutDonorIdentity(s.ctx(), officer, p1.ID, json.RawMessage(`{name`)))
	s.refused("donor not an object", ledger.Invalid)(s.c.PutDonorIdentity(s.ctx(), officer, p1.ID, json.RawMessage(`["Ada"]`)))
	s.refused("donor of unknown pledge", ledger.NotFound)(s.c.PutDonorIdentity(s.ctx(), officer, "plg-unknown"+s.run, identity))
	s.refused("donor of bad pledge id", ledger.Invalid)(s.c.PutDonorIdentity(s.ctx(), officer, "a/b", identity))

	// --- Receipt at the charity.
	recRefused := donRefused[ledger.Pledge]
	recRefused(s, "hospital confirms a pledge", ledger.Forbidden)(s.c.ConfirmPledgeReceipt(s.ctx(), receiver, p1.ID, 3000))
	recRefused(s, "charity operator confirms", ledger.Forbidden)(s.c.ConfirmPledgeReceipt(s.ctx(), charityOp, p1.ID, 3000))
	recRefused(s, "nothing received", ledger.Invalid)(s.c.ConfirmPledgeReceipt(s.ctx(), officer, p1.ID, 0))
	recRefused(s, "negative received", ledger.Invalid)(s.c.ConfirmPledgeReceipt(s.ctx(), officer, p1.ID, -3))
	s.refused("received not a number", ledger.Invalid)(s.l.Submit(s.ctx(), officer, ledger.FnConfirmPledgeReceipt, p1.ID, "3000 masks"))
	recRefused(s, "unknown pledge", ledger.NotFound)(s.c.ConfirmPledgeReceipt(s.ctx(), officer, "plg-unknown"+s.run, 3))
	got1, res := donMust[ledger.Pledge](s, "charity receives pledge 1")(s.c.ConfirmPledgeReceipt(s.ctx(), officer, p1.ID, 3000))
	ev.add(ledger.EvPledgeReceived, res)
	if got1.Status != ledger.PledgeReceived || got1.ReceivedQuantity != 3000 || got1.StockFrom != 0 || got1.ReceivedAt.IsZero() {
		t.Fatalf("received pledge = %+v", got1)
	}
	recRefused(s, "confirming twice", ledger.Conflict)(s.c.ConfirmPledgeReceipt(s.ctx(), officer, p1.ID, 3000))
	gm, res := donMust[ledger.Pledge](s, "money received")(s.c.ConfirmPledgeReceipt(s.ctx(), officer, pm.ID, 50000))
	ev.add(ledger.EvPledgeReceived, res)
	if gm.ReceivedAmount != 50000 || gm.Status != ledger.PledgeReceived {
		t.Fatalf("money pledge = %+v", gm)
	}

	// --- Allocation: never more than the charity holds.
	allocRefused := donRefused[ledger.Allocation]
	toFever := ledger.Allocation{Hospital: hosp, Item: mask, Quantity: 16000, Reason: "designated fever hospital: 400 fever patients a day, 3 days of masks left", RequestIDs: []string{r1.ID}}
	_, _, err := s.c.Allocate(s.ctx(), officer, toFever)
	wantCode(t, "allocating more than the stock", err, ledger.Invalid)
	if msg := err.Error(); !strings.Contains(msg, "allocating 16000 "+kind) || !strings.Contains(msg, ch+" holds 3000 unallocated") {
		t.Errorf("over-allocation message %q does not give the figures", msg)
	}
	p2r, res := donMust[ledger.Pledge](s, "charity receives pledge 2, short")(s.c.ConfirmPledgeReceipt(s.ctx(), admin(ch), p2.ID, 15000))
	ev.add(ledger.EvPledgeReceived, res)
	if p2r.StockFrom != 3000 || p2r.ReceivedQuantity != 15000 {
		t.Fatalf("pledge 2 = %+v", p2r)
	}
	toFever.Quantity = 15000
	r3, res := donMust[ledger.DonationRequest](s, "third request")(s.c.RequestDonation(s.ctx(), receiver, clinicReq))
	ev.add(ledger.EvDonationRequested, res)
	r3c, res := donMust[ledger.DonationRequest](s, "hospital closes a request")(s.c.CloseRequest(s.ctx(), receiver, r3.ID, "covered by purchase"))
	ev.add(ledger.EvRequestClosed, res)
	if r3c.Status != ledger.RequestClosed || r3c.CloseNote != "covered by purchase" || r3c.ClosedAt.IsZero() {
		t.Fatalf("closed request = %+v", r3c)
	}
	donRefused[ledger.DonationRequest](s, "closing twice", ledger.Conflict)(s.c.CloseRequest(s.ctx(), receiver, r3.ID, ""))
	donRefused[ledger.DonationRequest](s, "charity closes a request", ledger.Forbidden)(s.c.CloseRequest(s.ctx(), officer, r1.ID, ""))
	donRefused[ledger.DonationRequest](s, "hospital operator closes", ledger.Forbidden)(s.c.CloseRequest(s.ctx(), hospOp, r1.ID, ""))
	donRefused[ledger.DonationRequest](s, "close unknown request", ledger.NotFound)(s.c.CloseRequest(s.ctx(), receiver, "req-unknown"+s.run, ""))
	allocRefused(s, "hospital allocates", ledger.Forbidden)(s.c.Allocate(s.ctx(), admin(hosp), toFever))
	allocRefused(s, "charity operator allocates", ledger.Forbidden)(s.c.Allocate(s.ctx(), charityOp, toFever))
	allocRefused(s, "manufacturer allocates", ledger.Forbidden)(s.c.Allocate(s.ctx(), admin(fx.Manufacturer), toFever))
	foreign := toFever
	foreign.Charity = fx.Warehouse
	allocRefused(s, "allocating another org's stock", ledger.Forbidden)(s.c.Allocate(s.ctx(), officer, foreign))
	for what, bad := range map[string]func(a *ledger.Allocation){
		"no reason":             func(a *ledger.Allocation) { a.Reason = "  " },
		"no requests":           func(a *ledger.Allocation) { a.RequestIDs = nil },
		"request twice":         func(a *ledger.Allocation) { a.RequestIDs = []string{r1.ID, r1.ID} },
		"closed request":        func(a *ledger.Allocation) { a.RequestIDs = []string{r3.ID} },
		"more than requested":   func(a *ledger.Allocation) { a.Quantity = 16001 },
		"other item":            func(a *ledger.Allocation) { a.Item = ledger.DonationItem{Kind: "gown-" + s.run, Name: "Gown"} },
		"to a warehouse":        func(a *ledger.Allocation) { a.Hospital = fx.Warehouse },
		"zero":                  func(a *ledger.Allocation) { a.Quantity = 0 },
		"contract-set status":   func(a *ledger.Allocation) { a.Status = ledger.AllocationReceived },
		"contract-set received": func(a *ledger.Allocation) { a.Received = 15000 },
		"bad request id":        func(a *ledger.Allocation) { a.RequestIDs = []string{"a b"} },
	} {
		a := toFever
		bad(&a)
		allocRefused(s, what, ledger.Invalid)(s.c.Allocate(s.ctx(), officer, a))
	}
	unknownReq := toFever
	unknownReq.RequestIDs = []string{"req-unknown" + s.run}
	allocRefused(s, "unknown request", ledger.NotFound)(s.c.Allocate(s.ctx(), officer, unknownReq))
	unknownHosp := toFever
	unknownHosp.Hospital = "NoSuchHospital" + s.run
	allocRefused(s, "unknown hospital", ledger.NotFound)(s.c.Allocate(s.ctx(), officer, unknownHosp))
	s.refused("hostile allocation JSON", ledger.Invalid)(s.submitRaw(officer, ledger.FnAllocate, `{"hospital":"`+hosp+`","quantity":1e99}`))

	a1, res := donMust[ledger.Allocation](s, "allocate to the fever hospital")(s.c.Allocate(s.ctx(), officer, toFever))
	ev.add(ledger.EvDonationAllocated, res)
	if a1.ID == "" || a1.Charity != ch || a1.Status != ledger.AllocationAllocated || a1.StockFrom != 0 || a1.Reason != toFever.Reason ||
		len(a1.RequestQuantities) != 1 || a1.RequestQuantities[0] != 15000 || a1.CreatedBy != officer.User {
		t.Fatalf("allocation = %+v", a1)
	}
	toClinic := ledger.Allocation{Charity: ch, Hospital: hosp, Item: mask, Quantity: 3000, Reason: "general clinic: staff masks for one month", RequestIDs: []string{r2.ID}}
	a2, res := donMust[ledger.Allocation](s, "allocate to the clinic")(s.c.Allocate(s.ctx(), admin(ch), toClinic))
	ev.add(ledger.EvDonationAllocated, res)
	if a2.StockFrom != 15000 {
		t.Fatalf("clinic allocation = %+v", a2)
	}
	toFever.Quantity = 1
	_, _, err = s.c.Allocate(s.ctx(), officer, toFever)
	wantCode(t, "allocating from an empty stock", err, ledger.Invalid)
	if !strings.Contains(err.Error(), "holds 0 unallocated") {
		t.Errorf("empty-stock message %q", err)
	}
	r1g := got[ledger.DonationRequest](s, "fever request")(s.c.Request(s.ctx(), admin(fx.Regulator), r1.ID))
	r2g := got[ledger.DonationRequest](s, "clinic request")(s.c.Request(s.ctx(), officer, r2.ID))
	if r1g.Allocated != 15000 || r1g.Status != ledger.RequestPartlyAllocated || r2g.Allocated != 3000 || r2g.Status != ledger.RequestAllocated {
		t.Fatalf("requests after allocation: %+v %+v", r1g, r2g)
	}
	stock := got[[]ledger.DonationStock](s, "stock")(s.c.DonationStock(s.ctx(), receiver, ch))
	var st *ledger.DonationStock
	for i := range stock {
		if stock[i].Item.Kind == kind {
			st = &stock[i]
		}
	}
	if st == nil || st.Received != 18000 || st.Allocated != 18000 || st.Unallocated != 0 || st.Charity != ch {
		t.Fatalf("stock = %+v", stock)
	}

	// --- Shipment.
	shipRefused := donRefused[ledger.Allocation]
	pallets := []string{"urn:epc:id:sscc:4012345.0000000001", "urn:epc:id:sscc:4012345.0000000002"}
	ship := ledger.Shipment{Pallets: pallets, Lots: []ledger.ShippedLot{{GTIN: maskGTIN, Lot: "N95-2020-03"}}, Quantity: 15000}
	donRefused[ledger.Allocation](s, "receipt before shipping", ledger.Conflict)(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, a1.ID, 15000, ""))
	shipRefused(s, "hospital ships", ledger.Forbidden)(s.c.ShipAllocation(s.ctx(), receiver, a1.ID, ship))
	shipRefused(s, "charity quality ships", ledger.Forbidden)(s.c.ShipAllocation(s.ctx(), ledger.Identity{Org: ch, User: fx.Users[2]}, a1.ID, ship))
	shipRefused(s, "unknown allocation", ledger.NotFound)(s.c.ShipAllocation(s.ctx(), officer, "alc-unknown"+s.run, ship))
	for what, bad := range map[string]func(sh *ledger.Shipment){
		"no pallets":       func(sh *ledger.Shipment) { sh.Pallets = nil },
		"pallet not sscc":  func(sh *ledger.Shipment) { sh.Pallets = []string{"urn:epc:id:sgtin:4012345.012345.1"} },
		"pallet not a URI": func(sh *ledger.Shipment) { sh.Pallets = []string{"pallet 7"} },
		"pallet twice":     func(sh *ledger.Shipment) { sh.Pallets = []string{pallets[0], pallets[0]} },
		"lot bad gtin": func(sh *ledger.Shipment) {
			sh.Lots = []ledger.ShippedLot{{GTIN: withBadCheckDigit(maskGTIN), Lot: "L1"}}
		},
		"lot bad number":      func(sh *ledger.Shipment) { sh.Lots = []ledger.ShippedLot{{GTIN: maskGTIN, Lot: "lot with spaces"}} },
		"more than allocated": func(sh *ledger.Shipment) { sh.Quantity = 15001 },
		"nothing shipped":     func(sh *ledger.Shipment) { sh.Quantity = 0 },
		"shippedBy set":       func(sh *ledger.Shipment) { sh.ShippedBy = "someone" },
	} {
		sh := ship
		bad(&sh)
		shipRefused(s, what, ledger.Invalid)(s.c.ShipAllocation(s.ctx(), officer, a1.ID, sh))
	}
	s1, res := donMust[ledger.Allocation](s, "ship to the fever hospital")(s.c.ShipAllocation(s.ctx(), officer, a1.ID, ship))
	ev.add(ledger.EvDonationShipped, res)
	if s1.Status != ledger.AllocationShipped || s1.Shipped != 15000 || s1.Shipment == nil || s1.Shipment.ShippedBy != officer.User || s1.Shipment.ShippedAt.IsZero() || s1.ShipmentTxID != res.TxID {
		t.Fatalf("shipped allocation = %+v", s1)
	}
	shipRefused(s, "shipping twice", ledger.Conflict)(s.c.ShipAllocation(s.ctx(), officer, a1.ID, ship))
	_, res = donMust[ledger.Allocation](s, "ship to the clinic")(s.c.ShipAllocation(s.ctx(), charityOp, a2.ID, ledger.Shipment{Pallets: []string{"urn:epc:id:sscc:4012345.0000000003"}, Quantity: 3000}))
	ev.add(ledger.EvDonationShipped, res)

	// --- Receipt at the hospital: all at the fever hospital, a shortfall at the clinic.
	rcRefused := donRefused[ledger.Allocation]
	rcRefused(s, "charity confirms hospital receipt", ledger.Forbidden)(s.c.ConfirmAllocationReceipt(s.ctx(), officer, a1.ID, 15000, ""))
	rcRefused(s, "hospital operator confirms", ledger.Forbidden)(s.c.ConfirmAllocationReceipt(s.ctx(), hospOp, a1.ID, 15000, ""))
	rcRefused(s, "warehouse receiver confirms", ledger.Forbidden)(s.c.ConfirmAllocationReceipt(s.ctx(), s.other(fx.Warehouse), a1.ID, 15000, ""))
	rcRefused(s, "more than shipped", ledger.Invalid)(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, a1.ID, 15001, ""))
	rcRefused(s, "negative", ledger.Invalid)(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, a1.ID, -1, ""))
	rcRefused(s, "control character in note", ledger.Invalid)(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, a1.ID, 15000, "ok\x00"))
	rcRefused(s, "unknown allocation", ledger.NotFound)(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, "alc-unknown"+s.run, 1, ""))
	g1, res := donMust[ledger.Allocation](s, "fever hospital receives")(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, a1.ID, 15000, "all pallets intact"))
	ev.add(ledger.EvDonationReceived, res)
	if g1.Status != ledger.AllocationReceived || g1.Received != 15000 || g1.Shortfall != 0 || g1.ReceivedBy != receiver.User || g1.ReceiptTxID != res.TxID {
		t.Fatalf("received allocation = %+v", g1)
	}
	rcRefused(s, "confirming twice", ledger.Conflict)(s.c.ConfirmAllocationReceipt(s.ctx(), receiver, a1.ID, 15000, ""))
	g2, res := donMust[ledger.Allocation](s, "clinic receives short")(s.c.ConfirmAllocationReceipt(s.ctx(), admin(hosp), a2.ID, 2400, "pallet 3 arrived opened: 600 masks missing"))
	ev.add(ledger.EvDonationReceived, res)
	if g2.Received != 2400 || g2.Shortfall != 600 || g2.ReceiptNote == "" {
		t.Fatalf("clinic allocation = %+v", g2)
	}
	r1g = got[ledger.DonationRequest](s, "fever request")(s.c.Request(s.ctx(), receiver, r1.ID))
	r2g = got[ledger.DonationRequest](s, "clinic request")(s.c.Request(s.ctx(), receiver, r2.ID))
	if r1g.Received != 15000 || r2g.Received != 2400 {
		t.Fatalf("requests after receipt: %+v %+v", r1g, r2g)
	}
	r1c, res := donMust[ledger.DonationRequest](s, "fever hospital closes its request")(s.c.CloseRequest(s.ctx(), receiver, r1.ID, ""))
	ev.add(ledger.EvRequestClosed, res)
	if r1c.Allocated != 15000 || r1c.Received != 15000 {
		t.Fatalf("closed request = %+v", r1c)
	}

	// --- Where my donation went: first in, first out.
	tr1 := got[ledger.PledgeTrace](s, "donor 1 looks up")(s.c.PledgeByReceiptCode(s.ctx(), admin(fx.Regulator), hash1))
	if tr1.Pledge.ID != p1.ID || len(tr1.Allocations) != 1 || tr1.Allocations[0].Allocation.ID != a1.ID || tr1.Allocations[0].FromPledge != 3000 || tr1.Unallocated != 0 {
		t.Fatalf("trace of pledge 1 = %+v", tr1)
	}
	if tr1.Allocations[0].Allocation.Received != 15000 || tr1.Allocations[0].Allocation.Reason != toFever.Reason {
		t.Fatalf("trace shows allocation %+v", tr1.Allocations[0].Allocation)
	}
	tr2 := got[ledger.PledgeTrace](s, "donor 2 looks up")(s.c.PledgeByReceiptCode(s.ctx(), receiver, hash2))
	if len(tr2.Allocations) != 2 || tr2.Allocations[0].Allocation.ID != a1.ID || tr2.Allocations[0].FromPledge != 12000 ||
		tr2.Allocations[1].Allocation.ID != a2.ID || tr2.Allocations[1].FromPledge != 3000 || tr2.Unallocated != 0 {
		t.Fatalf("trace of pledge 2 = %+v", tr2)
	}
	trM := got[ledger.PledgeTrace](s, "money donor looks up")(s.c.PledgeByReceiptCode(s.ctx(), officer, hashM))
	if trM.Pledge.ID != pm.ID || len(trM.Allocations) != 0 {
		t.Fatalf("trace of money pledge = %+v", trM)
	}
	_, unused := receiptCode()
	denied[ledger.PledgeTrace](s, "unknown code", ledger.NotFound)(s.c.PledgeByReceiptCode(s.ctx(), officer, unused))
	denied[ledger.PledgeTrace](s, "the code itself, not its hash", ledger.Invalid)(s.c.PledgeByReceiptCode(s.ctx(), officer, code1))

	// --- Purge the donor's identity; the public pledge stays.
	s.refused("hospital purges a donor", ledger.Forbidden)(s.c.PurgeDonorIdentity(s.ctx(), admin(hosp), p1.ID))
	s.refused("charity operator purges", ledger.Forbidden)(s.c.PurgeDonorIdentity(s.ctx(), charityOp, p1.ID))
	s.refused("purge for unknown pledge", ledger.NotFound)(s.c.PurgeDonorIdentity(s.ctx(), officer, "plg-unknown"+s.run))
	res = s.must(s.c.PurgeDonorIdentity(s.ctx(), officer, p1.ID))
	ev.add(ledger.EvDonorIdentityPurged, res)
	denied[ledger.DonorIdentity](s, "purged donor", ledger.NotFound)(s.c.DonorIdentity(s.ctx(), officer, p1.ID))
	if p := got[ledger.Pledge](s, "pledge after purge")(s.c.Pledge(s.ctx(), receiver, p1.ID)); p.ID != p1.ID || p.Status != ledger.PledgeReceived || p.DonorPseudonym != "donor-ada" {
		t.Fatalf("pledge after purge = %+v", p)
	}

	// --- Public reads.
	reqs := got[[]ledger.DonationRequest](s, "hospital's requests")(s.c.Requests(s.ctx(), officer, hosp))
	if ids := requestIDs(reqs); !containsInOrder(ids, r1.ID, r2.ID, r3.ID) {
		t.Fatalf("requests of %s: %v", hosp, ids)
	}
	if all := got[[]ledger.DonationRequest](s, "all requests")(s.c.Requests(s.ctx(), admin(fx.Manufacturer), "")); !containsInOrder(requestIDs(all), r1.ID, r2.ID, r3.ID) {
		t.Fatal("all requests miss this run's")
	}
	if none := got[[]ledger.DonationRequest](s, "warehouse's requests")(s.c.Requests(s.ctx(), officer, fx.Warehouse)); len(none) != 0 {
		t.Fatalf("warehouse has requests %+v", none)
	}
	pls := got[[]ledger.Pledge](s, "charity's pledges")(s.c.Pledges(s.ctx(), receiver, ch))
	var pids []string
	for _, p := range pls {
		pids = append(pids, p.ID)
	}
	if !containsInOrder(pids, p1.ID, p2.ID, pm.ID) {
		t.Fatalf("pledges: %v", pids)
	}
	if all := got[[]ledger.Pledge](s, "all pledges")(s.c.Pledges(s.ctx(), receiver, "")); len(all) < 3 {
		t.Fatalf("all pledges: %d", len(all))
	}
	for _, org := range []string{ch, hosp} {
		as := got[[]ledger.Allocation](s, "allocations of "+org)(s.c.Allocations(s.ctx(), admin(fx.Regulator), org))
		var aids []string
		for _, a := range as {
			aids = append(aids, a.ID)
		}
		if !containsInOrder(aids, a1.ID, a2.ID) {
			t.Fatalf("allocations of %s: %v", org, aids)
		}
	}
	if as := got[[]ledger.Allocation](s, "manufacturer's allocations")(s.c.Allocations(s.ctx(), officer, fx.Manufacturer)); len(as) != 0 {
		t.Fatalf("manufacturer has allocations %+v", as)
	}
	if a := got[ledger.Allocation](s, "get allocation")(s.c.Allocation(s.ctx(), admin(fx.Warehouse), a2.ID)); a.Shortfall != 600 || a.Shipment == nil {
		t.Fatalf("allocation = %+v", a)
	}
	if p := got[ledger.Pledge](s, "get pledge")(s.c.Pledge(s.ctx(), admin(hosp), p2.ID)); p.ReceivedQuantity != 15000 {
		t.Fatalf("pledge = %+v", p)
	}
	denied[ledger.DonationRequest](s, "unknown request", ledger.NotFound)(s.c.Request(s.ctx(), officer, "req-unknown"+s.run))
	denied[ledger.Pledge](s, "unknown pledge", ledger.NotFound)(s.c.Pledge(s.ctx(), officer, "plg-unknown"+s.run))
	denied[ledger.Allocation](s, "unknown allocation", ledger.NotFound)(s.c.Allocation(s.ctx(), officer, "alc-unknown"+s.run))
	denied[ledger.Allocation](s, "bad allocation id", ledger.Invalid)(s.c.Allocation(s.ctx(), officer, "a/b"))
	denied[[]ledger.DonationStock](s, "bad charity id", ledger.Invalid)(s.c.DonationStock(s.ctx(), officer, ""))
	if empty := got[[]ledger.DonationStock](s, "a hospital's stock")(s.c.DonationStock(s.ctx(), officer, hosp)); len(empty) != 0 {
		t.Fatalf("hospital has stock %+v", empty)
	}
	if fx.Outsider != "" {
		denied[[]ledger.DonationRequest](s, "unregistered org reads", ledger.Forbidden)(s.c.Requests(s.ctx(), admin(fx.Outsider), ""))
		denied[ledger.PledgeTrace](s, "unregistered org traces", ledger.Forbidden)(s.c.PledgeByReceiptCode(s.ctx(), admin(fx.Outsider), hash1))
	}

	// --- One event per transaction, in order, with the records.
	events := ev.check()
	for _, e := range events {
		switch e.Name {
		case ledger.EvDonorIdentityPut, ledger.EvDonorIdentityPurged:
			if bytes.Contains(e.Payload, []byte("Ada Donor")) || bytes.Contains(e.Payload, []byte("example.org")) {
				t.Errorf("public event %s reveals the donor: %s", e.Name, e.Payload)
			}
			if ref := payload[ledger.DonorIdentityRef](s, e); ref.PledgeID != p1.ID || ref.Charity != ch {
				t.Errorf("%s payload %s", e.Name, e.Payload)
			}
		case ledger.EvDonationAllocated:
			if a := payload[ledger.Allocation](s, e); a.Reason == "" || a.Charity != ch {
				t.Errorf("%s payload %s", e.Name, e.Payload)
			}
		case ledger.EvDonationReceived:
			if a := payload[ledger.Allocation](s, e); a.Status != ledger.AllocationReceived {
				t.Errorf("%s payload %s", e.Name, e.Payload)
			}
		}
	}
}

func requestIDs(rs []ledger.DonationRequest) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// containsInOrder reports whether ids holds want in that relative order.
func containsInOrder(ids []string, want ...string) bool {
	i := 0
	for _, id := range ids {
		if i < len(want) && id == want[i] {
			i++
		}
	}
	return i == len(want)
}
