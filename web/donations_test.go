package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// The donations tests run on their own ledger (startEnv on a fresh
// folder): the 2020 story in miniature. A designated fever hospital and a
// general hospital ask for N95 masks; a charity records two pledges (one
// donor anonymous to the public, with a private identity), confirms
// them, allocates with reasons, ships traced pallets; the hospitals'
// receiving scans count what arrived and the hospital confirms it, with
// the shortfall on the public record.

// The fever hospital's site: receiving dock and a fever ward.
const (
	feverSiteGLN12 = "406666600001"
	feverSiteLoc   = "urn:epc:id:sgln:4066666.00001.0"
	feverDockLoc   = "urn:epc:id:sgln:4066666.00001.1"
	feverWardLoc   = "urn:epc:id:sgln:4066666.00001.7"
	donationLot    = "DN-2020-01"
	donationPallet = "urn:epc:id:sscc:0614141.1000000077"
	cityPallet     = "urn:epc:id:sscc:0614141.1000000078"
)

// donationEnv starts a separate environment with the fever hospital's
// site and the donated lot registered.
func donationEnv(t *testing.T) *env {
	t.Helper()
	e := startEnv(t, t.TempDir())
	t.Cleanup(e.stop)
	ctx := context.Background()
	l := e.svc.Ledger()
	if _, err := l.RegisterSite(ctx, ledger.Identity{Org: orgFever, User: ledger.AdminUser}, ledger.Site{GLN: gln(t, feverSiteGLN12), Org: orgFever,
		Name: "St. Luke's Fever Hospital, Wuhan Road", Kind: ledger.SiteHospital, Country: "DE", Lat: 52.5, Lon: 13.3,
		Locations: []ledger.SubLocation{
			{ID: feverDockLoc, Name: "St. Luke's receiving dock", Kind: "receiving"},
			{ID: feverWardLoc, Name: "Fever ward 3", Kind: "ward"},
		}}); err != nil {
		t.Fatalf("register fever hospital site: %v", err)
	}
	if _, err := l.RegisterLot(ctx, ledger.Identity{Org: orgMaker, User: ledger.AdminUser}, ledger.Lot{GTIN: e.gtin, Lot: donationLot, Org: orgMaker,
		Quantity: 100, ProducedAt: "2026-11-01", Expiry: "2029-10-31"}); err != nil {
		t.Fatalf("register lot: %v", err)
	}
	return e
}

// donationSerial is the SGTIN of the n-th donated pack.
func donationSerial(n int) string { return serial(600000 + n) }

// packDonatedPallet commissions n packs of the donated lot and packs them
// on a pallet, an hour ago.
func (e *env) packDonatedPallet(t *testing.T, pallet string, from, n int) {
	t.Helper()
	var ids []string
	for i := from; i < from+n; i++ {
		ids = append(ids, donationSerial(i))
	}
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	comm := objectEvent(at.Format(time.RFC3339), "ADD", "commissioning", "active", plantLoc, plantLoc, ids...)
	comm["ilmd"] = map[string]any{"cbvmda:lotNumber": donationLot, "cbvmda:itemExpirationDate": "2029-10-31"}
	agg := map[string]any{"type": "AggregationEvent", "eventTime": at.Add(10 * time.Minute).Format(time.RFC3339), "eventTimeZoneOffset": "+00:00",
		"action": "ADD", "bizStep": "packing", "disposition": "in_progress", "parentID": pallet, "childEPCs": ids,
		"readPoint": map[string]any{"id": plantLoc}, "bizLocation": map[string]any{"id": plantLoc}}
	e.capture(document(comm, agg))
}

// receiveAtFever scans the pallet in at the fever hospital's dock and
// takes some of its packs to the fever ward, after the shipment.
func (e *env) receiveAtFever(t *testing.T, pallet string, toWard []string) {
	t.Helper()
	at := time.Now().UTC().Add(2 * time.Second).Truncate(time.Second)
	evs := []map[string]any{objectEvent(at.Format(time.RFC3339), "OBSERVE", "receiving", "in_progress", feverDockLoc, feverSiteLoc, pallet)}
	if len(toWard) > 0 {
		evs = append(evs, objectEvent(at.Add(time.Minute).Format(time.RFC3339), "OBSERVE", "storing", "in_progress", feverWardLoc, feverWardLoc, toWard...))
	}
	e.capture(document(evs...))
}

// actor is a signed-in portal user.
type actor struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) signIn(t *testing.T, user, pass string) actor {
	t.Helper()
	c, tok := e.login(t, e.url, user, pass)
	return actor{e: e, c: c, csrf: tok}
}

func (u actor) post(path string, body any) response {
	u.e.t.Helper()
	var s string
	switch x := body.(type) {
	case string:
		s = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			u.e.t.Fatalf("marshal: %v", err)
		}
		s = string(b)
	}
	return u.e.do(u.c, http.MethodPost, path, strings.NewReader(s), "Content-Type", "application/json", "X-CSRF-Token", u.csrf)
}

func (u actor) get(path string, hdr ...string) response {
	u.e.t.Helper()
	return u.e.do(u.c, http.MethodGet, path, nil, hdr...)
}

func (u actor) form(path string, v url.Values) response {
	u.e.t.Helper()
	v.Set("_csrf", u.csrf)
	return u.e.do(u.c, http.MethodPost, path, strings.NewReader(v.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
}

// overview is GET /api/v1/donations.
type overview struct {
	Hospitals []struct {
		Org       string                   `json:"org"`
		Name      string                   `json:"name"`
		Requested int                      `json:"requested"`
		Allocated int                      `json:"allocated"`
		Received  int                      `json:"received"`
		Shortfall int                      `json:"shortfall"`
		Requests  []ledger.DonationRequest `json:"requests"`
	} `json:"hospitals"`
	Charities []struct {
		Org           string                 `json:"org"`
		Stock         []ledger.DonationStock `json:"stock"`
		Unallocated   int                    `json:"unallocated"`
		Delivered     int                    `json:"delivered"`
		DeliveryHours struct {
			Median, Max float64
			Count       int
		} `json:"deliveryHours"`
	} `json:"charities"`
	Allocations []ledger.Allocation `json:"allocations"`
}

func (e *env) overview(t *testing.T) overview {
	t.Helper()
	r := e.get("/api/v1/donations")
	if r.StatusCode != 200 {
		t.Fatalf("GET /api/v1/donations: %d %s", r.StatusCode, r.body)
	}
	var o overview
	r.json(t, &o)
	return o
}

// stockOf is a charity's stock of an item kind, from the ledger.
func (e *env) stockOf(t *testing.T, charity, kind string) ledger.DonationStock {
	t.Helper()
	list, err := e.svc.Ledger().DonationStock(context.Background(), e.svc.Config().Reader, charity)
	if err != nil {
		t.Fatalf("stock: %v", err)
	}
	for _, s := range list {
		if s.Item.Kind == kind {
			return s
		}
	}
	return ledger.DonationStock{}
}

var receiptCodePattern = regexp.MustCompile(`^TG(-[A-Z2-7]{4}){4}$`)

func TestDonationsAPI(t *testing.T) {
	e := donationEnv(t)
	ctx := context.Background()
	l, rd := e.svc.Ledger(), e.svc.Config().Reader
	charity := e.signIn(t, charityUser, charityPass)
	city := e.signIn(t, receiverUser, receiverPass)
	fever := e.signIn(t, feverUser, feverPass)
	mask := map[string]any{"kind": "n95-mask", "name": "N95 respirators, box of 20"}

	// ---- Requests ----
	r := fever.post("/api/v1/donations/requests", map[string]any{"item": mask, "quantity": 60, "urgency": "critical",
		"hospitalRole": "designated-fever-hospital", "note": "Fever ward 3 has two days of masks left. <script>alert(1)</script>"})
	if r.StatusCode != 201 {
		t.Fatalf("fever request: %d %s", r.StatusCode, r.body)
	}
	var feverReq ledger.DonationRequest
	r.json(t, &feverReq)
	if feverReq.Hospital != orgFever || feverReq.Quantity != 60 || feverReq.Status != ledger.RequestOpen || feverReq.TxID == "" || feverReq.CreatedBy != feverUser {
		t.Errorf("fever request %+v", feverReq)
	}
	r = city.post("/api/v1/donations/requests", map[string]any{"item": mask, "quantity": 40, "urgency": "normal", "hospitalRole": "general-hospital"})
	if r.StatusCode != 201 {
		t.Fatalf("city request: %d %s", r.StatusCode, r.body)
	}
	var cityReq ledger.DonationRequest
	r.json(t, &cityReq)

	// Bad and hostile requests: a clear error, nothing written.
	for _, c := range []struct {
		name, body, want string
	}{
		{"missing quantity", `{"item": {"kind": "n95-mask", "name": "N95"}, "urgency": "high", "hospitalRole": "clinic"}`, "quantity must be at least 1"},
		{"negative quantity", `{"item": {"kind": "n95-mask", "name": "N95"}, "quantity": -5, "urgency": "high", "hospitalRole": "clinic"}`, "at least 1"},
		{"missing item name", `{"item": {"kind": "n95-mask"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic"}`, "fill in the item name"},
		{"control character", `{"item": {"kind": "n95-mask", "name": "N95\u0007"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic"}`, "invisible character U+0007"},
		{"bidi override", `{"item": {"kind": "n95-mask", "name": "N95 \u202eevil"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic"}`, "U+202E"},
		{"bad kind", `{"item": {"kind": "N95 Mask; DROP TABLE", "name": "N95"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic"}`, "lowercase letters"},
		{"bad urgency", `{"item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5, "urgency": "extreme", "hospitalRole": "clinic"}`, "not one of low, normal, high, critical"},
		{"too long note", `{"item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic", "note": "` + strings.Repeat("x", 2500) + `"}`, "under 2000 characters"},
		{"field set by the contract", `{"item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic", "allocated": 5}`, `unknown field "allocated"`},
		{"wrong type", `{"item": {"kind": "n95-mask", "name": "N95"}, "quantity": "5", "urgency": "high", "hospitalRole": "clinic"}`, "quantity"},
		{"bad GTIN", `{"item": {"kind": "n95-mask", "name": "N95", "gtin": "12345678901234"}, "quantity": 5, "urgency": "high", "hospitalRole": "clinic"}`, "check digit"},
		{"not JSON", `quantity=5`, "must be"},
	} {
		r := fever.post("/api/v1/donations/requests", c.body)
		p := wantProblem(t, r, 400, "/invalid")
		if d, _ := p["detail"].(string); !strings.Contains(d, c.want) {
			t.Errorf("%s: detail %q, want %q", c.name, d, c.want)
		}
	}
	if reqs, _ := l.Requests(ctx, rd, ""); len(reqs) != 2 {
		t.Errorf("%d requests on the ledger after the refused ones, want 2", len(reqs))
	}
	// Without the CSRF token, or signed out: refused.
	r = e.do(fever.c, "POST", "/api/v1/donations/requests", strings.NewReader(`{}`), "Content-Type", "application/json")
	wantProblem(t, r, 403, "/csrf")
	wantProblem(t, e.postJSON("/api/v1/donations/requests", `{}`), 401, "/unauthenticated")
	// A charity may not ask for donations: the contract refuses.
	r = charity.post("/api/v1/donations/requests", map[string]any{"item": mask, "quantity": 5, "urgency": "high", "hospitalRole": "clinic"})
	wantProblem(t, r, 403, "/forbidden")

	var listed struct{ Requests []ledger.DonationRequest }
	e.get("/api/v1/donations/requests?hospital="+orgFever).json(t, &listed)
	if len(listed.Requests) != 1 || listed.Requests[0].ID != feverReq.ID {
		t.Errorf("requests of the fever hospital: %+v", listed.Requests)
	}
	wantProblem(t, e.get("/api/v1/donations/requests?hospital=a/b"), 400, "/invalid")

	// ---- Pledges ----
	type pledgeRes struct {
		Pledge      ledger.Pledge `json:"pledge"`
		ReceiptCode string        `json:"receiptCode"`
		ReceiptURL  string        `json:"receiptURL"`
	}
	pledge := func(body map[string]any) pledgeRes {
		t.Helper()
		r := charity.post("/api/v1/donations/pledges", body)
		if r.StatusCode != 201 {
			t.Fatalf("pledge: %d %s", r.StatusCode, r.body)
		}
		var res pledgeRes
		r.json(t, &res)
		if !receiptCodePattern.MatchString(res.ReceiptCode) {
			t.Errorf("receipt code %q", res.ReceiptCode)
		}
		sum := sha256.Sum256([]byte(res.ReceiptCode))
		if res.Pledge.ReceiptCodeHash != hex.EncodeToString(sum[:]) {
			t.Errorf("the ledger keeps %s, not the code's SHA-256", res.Pledge.ReceiptCodeHash)
		}
		if !strings.HasSuffix(res.ReceiptURL, "/donations/receipt?code="+res.ReceiptCode) {
			t.Errorf("receipt URL %q", res.ReceiptURL)
		}
		return res
	}
	anon := pledge(map[string]any{"donorPseudonym": "Anonymous donor", "kind": "goods", "item": mask, "quantity": 50,
		"donor": map[string]any{"name": "Erika Mustermann", "email": "erika@example.org"}})
	rotary := pledge(map[string]any{"donorPseudonym": "Rotary Club Berlin", "kind": "goods", "item": mask, "quantity": 30})
	money := pledge(map[string]any{"donorPseudonym": "A nurse's family", "kind": "money", "amount": 125000, "currency": "EUR"})
	if anon.ReceiptCode == rotary.ReceiptCode {
		t.Error("two pledges got the same receipt code")
	}
	for _, c := range []struct{ name, body, want string }{
		{"no pseudonym", `{"kind": "goods", "item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5}`, "pseudonym"},
		{"goods without item", `{"donorPseudonym": "X", "kind": "goods", "quantity": 5}`, "names its item"},
		{"money with quantity", `{"donorPseudonym": "X", "kind": "money", "quantity": 5, "amount": 100, "currency": "EUR"}`, "not an item or a quantity"},
		{"bad currency", `{"donorPseudonym": "X", "kind": "money", "amount": 100, "currency": "euro"}`, "ISO 4217"},
		{"bad kind", `{"donorPseudonym": "X", "kind": "services"}`, "neither"},
		{"identity not an object", `{"donorPseudonym": "X", "kind": "goods", "item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5, "donor": "Erika"}`, "JSON object"},
		{"hidden character in identity", `{"donorPseudonym": "X", "kind": "goods", "item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5, "donor": {"name": "E\u0000"}}`, "invisible"},
		{"receipt hash from the client", `{"donorPseudonym": "X", "kind": "goods", "item": {"kind": "n95-mask", "name": "N95"}, "quantity": 5, "receiptCodeHash": "00"}`, "unknown field"},
	} {
		p := wantProblem(t, charity.post("/api/v1/donations/pledges", c.body), 400, "/invalid")
		if d, _ := p["detail"].(string); !strings.Contains(d, c.want) {
			t.Errorf("%s: detail %q, want %q", c.name, d, c.want)
		}
	}
	// A hospital may not record pledges.
	wantProblem(t, fever.post("/api/v1/donations/pledges", map[string]any{"donorPseudonym": "X", "kind": "goods", "item": mask, "quantity": 5}), 403, "/forbidden")
	if ps, _ := l.Pledges(ctx, rd, ""); len(ps) != 3 {
		t.Errorf("%d pledges on the ledger, want 3", len(ps))
	}

	// The public sees pseudonyms only; the charity reads the identity.
	r = e.get("/api/v1/donations/pledges?charity=" + orgCharity)
	if r.StatusCode != 200 || !strings.Contains(string(r.body), "Anonymous donor") || strings.Contains(string(r.body), "Mustermann") {
		t.Errorf("public pledges: %d %.400s", r.StatusCode, r.body)
	}
	donorPath := "/api/v1/donations/pledges/" + anon.Pledge.ID + "/donor"
	r = charity.get(donorPath)
	if r.StatusCode != 200 || !strings.Contains(string(r.body), "Erika Mustermann") {
		t.Errorf("charity reads the donor: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, fever.get(donorPath), 403, "/forbidden")
	wantProblem(t, e.get(donorPath), 401, "/unauthenticated")

	// ---- Receipt by the charity ----
	confirmPledge := func(id string, q int) response {
		return charity.post("/api/v1/donations/pledges/"+id+"/receipt", map[string]any{"quantity": q})
	}
	wantProblem(t, confirmPledge(anon.Pledge.ID, 0), 400, "/invalid")
	for _, p := range []struct {
		res pledgeRes
		q   int
	}{{anon, 50}, {rotary, 30}, {money, 125000}} {
		r := confirmPledge(p.res.Pledge.ID, p.q)
		if r.StatusCode != 200 {
			t.Fatalf("confirm pledge: %d %s", r.StatusCode, r.body)
		}
	}
	p := wantProblem(t, confirmPledge(anon.Pledge.ID, 50), 409, "/conflict")
	if d, _ := p["detail"].(string); !strings.Contains(d, "already received") {
		t.Errorf("second confirmation: %q", d)
	}
	if st := e.stockOf(t, orgCharity, "n95-mask"); st.Received != 80 || st.Unallocated != 80 {
		t.Fatalf("stock after receipts %+v, want 80 received", st)
	}

	// ---- Allocation ----
	alloc := func(u actor, body map[string]any) response {
		return u.post("/api/v1/donations/allocations", body)
	}
	feverAlloc := map[string]any{"hospital": orgFever, "item": mask, "quantity": 90, "requestIDs": []string{feverReq.ID},
		"reason": "Designated fever hospital; critical request; two days of masks left on fever ward 3."}
	// More than the charity holds: refused with the figures, nothing written.
	p = wantProblem(t, alloc(charity, feverAlloc), 409, "/conflict")
	if d, _ := p["detail"].(string); !strings.Contains(d, "holds 80 unallocated") || p["unallocated"] != float64(80) {
		t.Errorf("over-allocation: %v", p)
	}
	// More than the requests need: the contract refuses.
	feverAlloc["quantity"] = 70
	p = wantProblem(t, alloc(charity, feverAlloc), 400, "/invalid")
	if d, _ := p["detail"].(string); !strings.Contains(d, "still need 60") {
		t.Errorf("allocation beyond the need: %q", d)
	}
	// A hospital user may not allocate.
	feverAlloc["quantity"] = 60
	wantProblem(t, alloc(fever, feverAlloc), 403, "/forbidden")
	// No reason, no allocation.
	noReason := map[string]any{"hospital": orgFever, "item": mask, "quantity": 10, "requestIDs": []string{feverReq.ID}, "reason": "  "}
	p = wantProblem(t, alloc(charity, noReason), 400, "/invalid")
	if d, _ := p["detail"].(string); !strings.Contains(d, "reason") {
		t.Errorf("no reason: %q", d)
	}
	wantProblem(t, alloc(charity, map[string]any{"hospital": orgFever, "item": mask, "quantity": 10, "requestIDs": []string{"../" + feverReq.ID}, "reason": "x"}), 400, "/invalid")
	if st := e.stockOf(t, orgCharity, "n95-mask"); st.Allocated != 0 || st.Unallocated != 80 {
		t.Fatalf("refused allocations changed the stock: %+v", st)
	}
	if as, _ := l.Allocations(ctx, rd, ""); len(as) != 0 {
		t.Fatalf("refused allocations wrote %d", len(as))
	}
	r = alloc(charity, feverAlloc)
	if r.StatusCode != 201 {
		t.Fatalf("allocate to the fever hospital: %d %s", r.StatusCode, r.body)
	}
	var fa ledger.Allocation
	r.json(t, &fa)
	if fa.Charity != orgCharity || fa.Quantity != 60 || fa.StockFrom != 0 || len(fa.RequestQuantities) != 1 || fa.RequestQuantities[0] != 60 ||
		r.Header.Get("Location") != "/donations/allocations/"+fa.ID {
		t.Errorf("fever allocation %+v (Location %q)", fa, r.Header.Get("Location"))
	}
	r = alloc(charity, map[string]any{"hospital": orgHospital, "item": mask, "quantity": 20, "requestIDs": []string{cityReq.ID},
		"reason": "General hospital, normal urgency: the rest of the stock."})
	if r.StatusCode != 201 {
		t.Fatalf("allocate to the city hospital: %d %s", r.StatusCode, r.body)
	}
	var ca ledger.Allocation
	r.json(t, &ca)
	if st := e.stockOf(t, orgCharity, "n95-mask"); st.Allocated != 80 || st.Unallocated != 0 {
		t.Errorf("stock after allocating %+v", st)
	}

	// ---- Shipment ----
	e.packDonatedPallet(t, donationPallet, 1, 58) // two boxes fewer than allocated were packed
	ship := func(id string, body map[string]any) response {
		return charity.post("/api/v1/donations/allocations/"+id+"/shipment", body)
	}
	wantProblem(t, ship(fa.ID, map[string]any{"pallets": []string{"0614141.1000000077"}, "quantity": 60}), 400, "/invalid")
	wantProblem(t, ship(fa.ID, map[string]any{"pallets": []string{donationPallet}, "quantity": 61}), 400, "/invalid")
	wantProblem(t, ship(fa.ID, map[string]any{"pallets": []string{donationPallet}, "lots": []map[string]string{{"gtin": e.gtin, "lot": "bad lot\n"}}, "quantity": 60}), 400, "/invalid")
	wantProblem(t, fever.post("/api/v1/donations/allocations/"+fa.ID+"/shipment", map[string]any{"pallets": []string{donationPallet}, "quantity": 60}), 403, "/forbidden")
	r = ship(fa.ID, map[string]any{"pallets": []string{donationPallet}, "lots": []map[string]string{{"gtin": e.gtin, "lot": donationLot}}, "quantity": 60})
	if r.StatusCode != 200 {
		t.Fatalf("ship: %d %s", r.StatusCode, r.body)
	}
	r = ship(ca.ID, map[string]any{"pallets": []string{cityPallet}, "quantity": 20})
	if r.StatusCode != 200 {
		t.Fatalf("ship to the city: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, ship(ca.ID, map[string]any{"pallets": []string{cityPallet}, "quantity": 20}), 409, "/conflict")

	// Before any scan: the hospital must scan or count.
	p = wantProblem(t, fever.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", `{}`), 400, "/invalid")
	if d, _ := p["detail"].(string); !strings.Contains(d, "scan the pallets at the dock") {
		t.Errorf("confirm without a scan: %q", d)
	}

	// ---- Receipt at the hospital ----
	var toWard []string
	for i := 1; i <= 12; i++ {
		toWard = append(toWard, donationSerial(i))
	}
	e.receiveAtFever(t, donationPallet, toWard)
	var got struct {
		Allocation ledger.Allocation `json:"allocation"`
		Scan       struct {
			Shipped int `json:"shipped"`
			Packs   int `json:"packs"`
			Pallets []struct {
				ID       string `json:"id"`
				Received bool   `json:"received"`
				SiteName string `json:"siteName"`
			} `json:"pallets"`
		} `json:"scan"`
	}
	e.get("/api/v1/donations/allocations/"+fa.ID).json(t, &got)
	if got.Allocation.Status != ledger.AllocationShipped || got.Scan.Shipped != 60 || got.Scan.Packs != 58 || len(got.Scan.Pallets) != 1 || !got.Scan.Pallets[0].Received {
		t.Fatalf("the fever hospital's scans: %+v", got)
	}
	// The charity may not confirm the hospital's receipt; nor may the
	// other hospital.
	wantProblem(t, charity.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", map[string]any{"received": 58}), 403, "/forbidden")
	wantProblem(t, city.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", map[string]any{"received": 58}), 403, "/forbidden")
	wantProblem(t, fever.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", map[string]any{"received": 61}), 400, "/invalid")
	wantProblem(t, fever.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", map[string]any{"received": -1}), 400, "/invalid")
	// The scanned count, by default.
	r = fever.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", map[string]any{"note": "Two boxes missing from the pallet."})
	if r.StatusCode != 200 {
		t.Fatalf("confirm receipt: %d %s", r.StatusCode, r.body)
	}
	var recv ledger.Allocation
	r.json(t, &recv)
	if recv.Status != ledger.AllocationReceived || recv.Received != 58 || recv.Shortfall != 2 || recv.ReceivedBy != feverUser || recv.ReceiptTxID == "" {
		t.Errorf("received allocation %+v", recv)
	}
	// Twice: refused by the contract, nothing changes.
	p = wantProblem(t, fever.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", map[string]any{"received": 60}), 409, "/conflict")
	if d, _ := p["detail"].(string); !strings.Contains(d, "already received (58 of 60)") {
		t.Errorf("second receipt: %q", d)
	}
	wantProblem(t, fever.post("/api/v1/donations/allocations/"+fa.ID+"/receipt", `{}`), 409, "/conflict")
	if a, _ := l.Allocation(ctx, rd, fa.ID); a.Received != 58 || a.ReceiptTxID != recv.ReceiptTxID {
		t.Errorf("the second confirmation changed the allocation: %+v", a)
	}
	// The city hospital counts by hand (its pallet was not scanned).
	r = city.post("/api/v1/donations/allocations/"+ca.ID+"/receipt", map[string]any{"received": 20})
	if r.StatusCode != 200 {
		t.Fatalf("city receipt: %d %s", r.StatusCode, r.body)
	}

	// ---- The public figures ----
	o := e.overview(t)
	byOrg := map[string]int{}
	for i, h := range o.Hospitals {
		byOrg[h.Org] = i
	}
	if len(o.Hospitals) != 2 {
		t.Fatalf("hospitals %+v", o.Hospitals)
	}
	fh, ch := o.Hospitals[byOrg[orgFever]], o.Hospitals[byOrg[orgHospital]]
	if fh.Requested != 60 || fh.Allocated != 60 || fh.Received != 58 || fh.Shortfall != 2 || len(fh.Requests) != 1 || fh.Name != "St. Luke's Fever Hospital" {
		t.Errorf("fever hospital %+v", fh)
	}
	if ch.Requested != 40 || ch.Allocated != 20 || ch.Received != 20 || ch.Shortfall != 0 {
		t.Errorf("city hospital %+v", ch)
	}
	if len(o.Charities) != 1 || o.Charities[0].Org != orgCharity || o.Charities[0].Unallocated != 0 || o.Charities[0].Delivered != 78 ||
		o.Charities[0].DeliveryHours.Count != 2 || o.Charities[0].DeliveryHours.Max < o.Charities[0].DeliveryHours.Median || o.Charities[0].DeliveryHours.Max > 1 {
		t.Errorf("charities %+v", o.Charities)
	}
	if len(o.Allocations) != 2 || o.Allocations[0].ID != fa.ID || o.Allocations[0].Reason == "" {
		t.Errorf("allocations %+v", o.Allocations)
	}

	// ---- The donor's path from pledge to ward ----
	type path struct {
		Trace ledger.PledgeTrace `json:"trace"`
		Path  []donStep          `json:"path"`
	}
	follow := func(code string) path {
		t.Helper()
		r := e.get("/api/v1/donations/receipt/" + url.PathEscape(code))
		if r.StatusCode != 200 {
			t.Fatalf("receipt %s: %d %s", code, r.StatusCode, r.body)
		}
		var pth path
		r.json(t, &pth)
		return pth
	}
	anonPath := follow(anon.ReceiptCode)
	kinds := []string{}
	for _, s := range anonPath.Path {
		kinds = append(kinds, s.Kind)
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "pledged,received,allocated,shipped,delivered,custody") {
		t.Errorf("the anonymous donor's path: %s", got)
	}
	if len(anonPath.Trace.Allocations) != 1 || anonPath.Trace.Allocations[0].FromPledge != 50 || anonPath.Trace.Allocations[0].Allocation.ID != fa.ID {
		t.Errorf("trace %+v", anonPath.Trace)
	}
	ward := false
	for _, s := range anonPath.Path {
		if s.Kind == "custody" && contains(s.Places, "Fever ward 3") && s.Org == orgFever {
			ward = true
		}
		if s.Kind == "allocated" && (s.Units != 50 || !strings.Contains(s.Reason, "two days of masks")) {
			t.Errorf("allocated step %+v", s)
		}
		if s.Kind == "delivered" && (s.Shortfall == nil || *s.Shortfall != 2) {
			t.Errorf("delivered step %+v", s)
		}
	}
	if !ward {
		t.Errorf("the path does not reach the fever ward: %+v", anonPath.Path)
	}
	if strings.Contains(fmt.Sprint(anonPath), "Mustermann") {
		t.Error("the public path names the donor")
	}
	// The rotary club's 30 went 10 to the fever hospital, 20 to the city.
	rp := follow(strings.ToLower(strings.ReplaceAll(rotary.ReceiptCode, "-", " ")))
	if len(rp.Trace.Allocations) != 2 || rp.Trace.Allocations[0].FromPledge != 10 || rp.Trace.Allocations[1].FromPledge != 20 {
		t.Errorf("rotary trace %+v", rp.Trace.Allocations)
	}
	mp := follow(money.ReceiptCode)
	if last := mp.Path[len(mp.Path)-1]; last.Kind != "money" {
		t.Errorf("money path ends with %+v", last)
	}
	wantProblem(t, e.get("/api/v1/donations/receipt/TG-AAAA-AAAA-AAAA-AAAA"), 404, "/not-found")
	wantProblem(t, e.get("/api/v1/donations/receipt/TG-0000"), 400, "/invalid")

	// ---- Purge on the donor's request: the public path stays ----
	wantProblem(t, fever.do(http.MethodDelete, donorPath), 403, "/forbidden")
	r = charity.do(http.MethodDelete, donorPath)
	if r.StatusCode != 204 {
		t.Fatalf("purge: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, charity.get(donorPath), 404, "/not-found")
	after := follow(anon.ReceiptCode)
	if len(after.Path) != len(anonPath.Path) || after.Trace.Pledge.DonorPseudonym != "Anonymous donor" {
		t.Errorf("the path changed after the purge: %d steps, was %d", len(after.Path), len(anonPath.Path))
	}

	// ---- Pages ----
	page := e.get("/donations", "Accept", "text/html")
	body := string(page.body)
	if page.StatusCode != 200 {
		t.Fatalf("/donations: %d", page.StatusCode)
	}
	row := regexp.MustCompile(`(?s)<tr data-org="` + orgFever + `"[^>]*>(.*?)</tr>`).FindStringSubmatch(body)
	if row == nil {
		t.Fatalf("/donations has no row for the fever hospital")
	}
	for _, want := range []string{`class="num requested">60<`, `class="num allocated">60<`, `class="num received"><div>58<`, `2 short`} {
		if !strings.Contains(row[1], want) {
			t.Errorf("fever hospital row lacks %q: %s", want, row[1])
		}
	}
	if !strings.Contains(row[0], "has-short") {
		t.Error("the fever hospital's shortfall is not highlighted")
	}
	if !strings.Contains(body, html.EscapeString("Designated fever hospital; critical request; two days of masks left on fever ward 3.")) ||
		!strings.Contains(body, `<g class="hbar" data-org="`+orgFever+`"`) {
		t.Error("/donations lacks the reason or the chart")
	}
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a request note is rendered as HTML")
	}
	ap := e.get("/donations/allocations/"+fa.ID, "Accept", "text/html")
	if ap.StatusCode != 200 || !strings.Contains(string(ap.body), "Received 58 of 60 · 2 short") || !strings.Contains(string(ap.body), "/00/") ||
		!strings.Contains(string(ap.body), "/01/"+e.gtin+"/10/"+donationLot) || !strings.Contains(string(ap.body), "/api/v1/ledger/transactions/"+fa.TxID) ||
		!strings.Contains(string(ap.body), "Fever ward 3") {
		t.Errorf("allocation page: %d %.2000s", ap.StatusCode, ap.body)
	}
	rp2 := e.get("/donations/receipt?code="+url.QueryEscape(anon.ReceiptCode), "Accept", "text/html")
	if rp2.StatusCode != 200 || !strings.Contains(string(rp2.body), "Anonymous donor") || !strings.Contains(string(rp2.body), "Fever ward 3") || strings.Contains(string(rp2.body), "Mustermann") {
		t.Errorf("donor's page: %d", rp2.StatusCode)
	}
	bad := e.get("/donations/receipt?code=nonsense!", "Accept", "text/html")
	if bad.StatusCode != 400 || !strings.Contains(string(bad.body), "id=\"lookup-error\"") {
		t.Errorf("bad code page: %d", bad.StatusCode)
	}
	if r := e.get("/donations/allocations/alc-000000000000000000000000", "Accept", "text/html"); r.StatusCode != 404 {
		t.Errorf("unknown allocation page: %d", r.StatusCode)
	}
}

// do sends a request as the user (with the CSRF header).
func (u actor) do(method, path string) response {
	u.e.t.Helper()
	return u.e.do(u.c, method, path, nil, "X-CSRF-Token", u.csrf)
}

// TestDonationForms drives the hospital and charity pages' forms: mistakes
// re-render with the message and the input, nothing written; success
// redirects with a flash; the receipt code shows once; the pages refuse
// other organisations' staff.
func TestDonationForms(t *testing.T) {
	e := donationEnv(t)
	ctx := context.Background()
	l, rd := e.svc.Ledger(), e.svc.Config().Reader
	charity := e.signIn(t, charityUser, charityPass)
	fever := e.signIn(t, feverUser, feverPass)

	// Role pages.
	if r := fever.get("/charity", "Accept", "text/html"); r.StatusCode != 403 {
		t.Errorf("a hospital user opens /charity: %d", r.StatusCode)
	}
	if r := charity.get("/hospital", "Accept", "text/html"); r.StatusCode != 403 {
		t.Errorf("a charity user opens /hospital: %d", r.StatusCode)
	}
	if r := e.get("/hospital", "Accept", "text/html"); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("signed out /hospital: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// A request with mistakes, then right.
	v := url.Values{"kind": {"N95 Mask"}, "name": {"N95 respirators"}, "quantity": {"zero"}, "urgency": {"critical"}, "role": {"designated-fever-hospital"}, "note": {"Ward 3"}}
	r := fever.form("/hospital/requests", v)
	if r.StatusCode != 400 || !strings.Contains(string(r.body), `id="request-error"`) || !strings.Contains(string(r.body), "not a whole number") ||
		!strings.Contains(string(r.body), `value="N95 respirators"`) {
		t.Errorf("request form with a bad quantity: %d", r.StatusCode)
	}
	v.Set("quantity", "60")
	v.Set("name", "N95\x1b[31m")
	r = fever.form("/hospital/requests", v)
	if r.StatusCode != 400 || !strings.Contains(string(r.body), "invisible character") {
		t.Errorf("request form with an escape sequence: %d", r.StatusCode)
	}
	if reqs, _ := l.Requests(ctx, rd, ""); len(reqs) != 0 {
		t.Fatalf("refused forms wrote %d requests", len(reqs))
	}
	v.Set("name", "N95 respirators, box of 20")
	r = fever.form("/hospital/requests", v)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/hospital#requests" {
		t.Fatalf("request form: %d %s", r.StatusCode, r.body)
	}
	page := fever.get("/hospital", "Accept", "text/html")
	if !strings.Contains(string(page.body), `id="flash"`) || !strings.Contains(string(page.body), "published on the ledger") {
		t.Errorf("no flash after the request")
	}
	if again := fever.get("/hospital", "Accept", "text/html"); strings.Contains(string(again.body), `id="flash"`) {
		t.Errorf("the flash shows twice")
	}
	reqs, _ := l.Requests(ctx, rd, orgFever)
	if len(reqs) != 1 || reqs[0].Item.Kind != "n95-mask" || reqs[0].HospitalRole != "designated-fever-hospital" {
		t.Fatalf("requests %+v", reqs)
	}

	// A pledge with a private identity: the code shows once, with its QR.
	pv := url.Values{"pseudonym": {"Anonymous donor"}, "kind": {"goods"}, "item_kind": {"n95-mask"}, "item_name": {"N95 respirators, box of 20"},
		"quantity": {"50"}, "donor_name": {"Erika Mustermann"}, "donor_email": {"erika@example.org"}}
	bad := url.Values{}
	for k, vs := range pv {
		bad[k] = vs
	}
	bad.Set("quantity", "-3")
	r = charity.form("/charity/pledges", bad)
	if r.StatusCode != 400 || !strings.Contains(string(r.body), `id="pledge-error"`) || !strings.Contains(string(r.body), "at least 1") || !strings.Contains(string(r.body), `value="Erika Mustermann"`) {
		t.Errorf("pledge form with a negative quantity: %d", r.StatusCode)
	}
	r = charity.form("/charity/pledges", pv)
	if r.StatusCode != 303 {
		t.Fatalf("pledge form: %d %s", r.StatusCode, r.body)
	}
	page = charity.get("/charity", "Accept", "text/html")
	m := regexp.MustCompile(`id="receipt-code">(TG[-A-Z2-7]+)<`).FindSubmatch(page.body)
	if m == nil || !strings.Contains(string(page.body), `id="receipt-qr" src="data:image/png;base64,`) {
		t.Fatalf("the receipt code is not shown after the pledge: %.3000s", page.body)
	}
	code := string(m[1])
	if again := charity.get("/charity", "Accept", "text/html"); strings.Contains(string(again.body), code) {
		t.Error("the receipt code shows a second time")
	}
	ps, _ := l.Pledges(ctx, rd, orgCharity)
	if len(ps) != 1 {
		t.Fatalf("pledges %+v", ps)
	}
	pid := ps[0].ID
	if d, err := l.DonorIdentity(ctx, ledger.Identity{Org: orgCharity, User: charityUser}, pid); err != nil || !strings.Contains(string(d.Identity), "Erika") {
		t.Errorf("donor identity %s, %v", d.Identity, err)
	}

	// Confirm receipt, allocate (a mistake, then right), ship.
	if r := charity.form("/charity/pledges/"+pid+"/receipt", url.Values{"quantity": {"50"}}); r.StatusCode != 303 {
		t.Fatalf("confirm pledge form: %d %s", r.StatusCode, r.body)
	}
	r = charity.form("/charity/pledges/"+pid+"/receipt", url.Values{"quantity": {"50"}})
	if r.StatusCode != 409 || !strings.Contains(string(r.body), "already received") {
		t.Errorf("second pledge receipt form: %d", r.StatusCode)
	}
	av := url.Values{"request": {reqs[0].ID}, "stock": {"n95-mask|"}, "quantity": {"55"}, "reason": {"Designated fever hospital, critical."}}
	r = charity.form("/charity/allocations", av)
	if r.StatusCode != 409 || !strings.Contains(string(r.body), `id="alloc-error"`) || !strings.Contains(string(r.body), "holds 50 unallocated") {
		t.Errorf("over-allocation form: %d %.300s", r.StatusCode, r.body)
	}
	av.Set("quantity", "50")
	av.Set("reason", "")
	r = charity.form("/charity/allocations", av)
	if r.StatusCode != 400 || !strings.Contains(string(r.body), "reason") {
		t.Errorf("allocation without a reason: %d", r.StatusCode)
	}
	if as, _ := l.Allocations(ctx, rd, ""); len(as) != 0 {
		t.Fatalf("refused allocation forms wrote %d", len(as))
	}
	av.Set("reason", "Designated fever hospital, critical.")
	if r := charity.form("/charity/allocations", av); r.StatusCode != 303 {
		t.Fatalf("allocation form: %d %s", r.StatusCode, r.body)
	}
	as, _ := l.Allocations(ctx, rd, "")
	if len(as) != 1 || as[0].Quantity != 50 || as[0].Hospital != orgFever {
		t.Fatalf("allocations %+v", as)
	}
	r = charity.form("/charity/allocations/"+as[0].ID+"/shipment", url.Values{"pallets": {"not a pallet"}, "lots": {""}, "quantity": {"50"}})
	if r.StatusCode != 400 || !strings.Contains(string(r.body), "not an SSCC EPC URI") || !strings.Contains(string(r.body), "not a pallet") {
		t.Errorf("shipment form with a bad pallet: %d", r.StatusCode)
	}
	// One box never made it onto the pallet: the scans will count 49 of
	// the 50 shipped, so the delivery stays for the hospital to confirm
	// (a complete one is closed by its scans).
	e.packDonatedPallet(t, donationPallet, 1, 49)
	if r := charity.form("/charity/allocations/"+as[0].ID+"/shipment", url.Values{"pallets": {donationPallet}, "lots": {e.gtin + " " + donationLot}, "quantity": {"50"}}); r.StatusCode != 303 {
		t.Fatalf("shipment form: %d %s", r.StatusCode, r.body)
	}

	// The donor's identity: view, purge needs the box ticked.
	page = charity.get("/charity?donor="+pid, "Accept", "text/html")
	if !strings.Contains(string(page.body), "Erika Mustermann") || !strings.Contains(string(page.body), `id="purge-form"`) {
		t.Errorf("donor view: %.500s", page.body)
	}
	r = charity.form("/charity/pledges/"+pid+"/donor/purge", url.Values{})
	if r.StatusCode != 400 || !strings.Contains(string(r.body), "Tick the box") {
		t.Errorf("purge without the box: %d", r.StatusCode)
	}
	if r := charity.form("/charity/pledges/"+pid+"/donor/purge", url.Values{"confirm": {"yes"}}); r.StatusCode != 303 {
		t.Fatalf("purge form: %d", r.StatusCode)
	}
	page = charity.get("/charity?donor="+pid, "Accept", "text/html")
	if strings.Contains(string(page.body), "Erika") || !strings.Contains(string(page.body), `id="donor-missing"`) {
		t.Errorf("after the purge: %.500s", page.body)
	}

	// The hospital confirms through its page: the scan's count is
	// pre-filled with the shortfall it will record; a count above the
	// shipment is refused.
	e.receiveAtFever(t, donationPallet, nil)
	page = fever.get("/hospital", "Accept", "text/html")
	if !strings.Contains(string(page.body), `value="49" required`) || !strings.Contains(string(page.body), `A shortfall of <strong class="short-n">1</strong>`) {
		t.Errorf("hospital page before confirming: %.3000s", page.body)
	}
	r = fever.form("/hospital/allocations/"+as[0].ID+"/receipt", url.Values{"received": {"51"}})
	if r.StatusCode != 400 || !strings.Contains(string(r.body), "at most 50") || !strings.Contains(string(r.body), `value="51"`) {
		t.Errorf("confirm more than shipped: %d", r.StatusCode)
	}
	if r := fever.form("/hospital/allocations/"+as[0].ID+"/receipt", url.Values{"received": {"49"}, "note": {"One box missing from the pallet"}}); r.StatusCode != 303 {
		t.Fatalf("confirm form: %d %s", r.StatusCode, r.body)
	}
	r = fever.form("/hospital/allocations/"+as[0].ID+"/receipt", url.Values{"received": {"49"}})
	if r.StatusCode != 409 {
		t.Errorf("confirm twice through the form: %d", r.StatusCode)
	}
	if a, _ := l.Allocation(ctx, rd, as[0].ID); a.Received != 49 || a.Shortfall != 1 || a.ReceiptNote != "One box missing from the pallet" {
		t.Errorf("allocation after the form %+v", a)
	}
	// The donor follows the code.
	rp := e.get("/donations/receipt?code="+url.QueryEscape(code), "Accept", "text/html")
	if rp.StatusCode != 200 || !strings.Contains(string(rp.body), "1 short") || !strings.Contains(string(rp.body), "St. Luke") {
		t.Errorf("donor page: %d %.500s", rp.StatusCode, rp.body)
	}
}
