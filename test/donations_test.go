package test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/test/harness"
)

// checkDonations finishes the donations-2020 story (TestScenarios plays
// it through the broker, the edge, the gateway and the ledger): the
// hospitals' receiving scans count what arrived; City General's, complete,
// close its allocation on their own; the clinic's receiver confirms what
// its scans counted, 15 short, through the portal's API; the public page and API show requested,
// allocated and received per hospital; a donor's receipt code shows where
// the donation went; the anonymous donor's identity is the charity's only
// and is purged without breaking the public path. Refusals on the way:
// the clinic may not confirm City General's receipt, and no receipt is
// confirmed twice.
func checkDonations(t *testing.T, ctx context.Context, e *harness.Embedded, sc *sim.Scenario, actor *demo.Actor) {
	svc := e.Svc
	reader := ledger.Identity{Org: harness.GatewayOrg, User: ledger.AdminUser}
	ex := sc.Expected.Donations
	allocs := map[string]ledger.Allocation{} // by hospital
	for _, a := range sc.Actions {
		if a.Kind != sim.ActionAllocate {
			continue
		}
		al, err := svc.Ledger().Allocation(ctx, reader, actor.IDs[a.Ref])
		if err != nil {
			t.Fatalf("allocation %s: %v", a.Ref, err)
		}
		if (al.Status != ledger.AllocationShipped && al.Status != ledger.AllocationReceived) || al.Shipment == nil || len(al.Shipment.Pallets) == 0 {
			t.Fatalf("allocation %s not shipped: %+v", a.Ref, al)
		}
		allocs[al.Hospital] = al
	}
	// What the receiving scans counted.
	for org, want := range ex {
		al := allocs[org]
		waitFor(t, ctx, "receiving scans of "+org, func() (bool, string) {
			rs, err := svc.ScanReceipt(ctx, al)
			if err != nil {
				return false, err.Error()
			}
			if rs.Packs == want.Scanned {
				return true, ""
			}
			var where []string
			for _, p := range al.Shipment.Pallets {
				c, err := svc.Store().Current(gateway.CanonicalID(p))
				where = append(where, fmt.Sprintf("%s: %s %s %s (%v)", p, c.BizStep, c.BizLocation, c.ReadPoint, err))
			}
			return false, fmt.Sprintf("scanned %d of %d, pallets %+v, current %v", rs.Packs, rs.Shipped, rs.Pallets, where)
		})
	}

	// The portal users of the story.
	users := map[string]string{sim.OrgHospital: "fever.receiver", sim.OrgClinic: "clinic.receiver"}
	const pw = "receiver password 1"
	for org, u := range users {
		if err := e.AddPortalUser(ctx, u, pw, org, ledger.RoleHospitalReceiver); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.AddPortalUser(ctx, "charity.officer", pw, sim.OrgCharity, ledger.RoleCharityOfficer); err != nil {
		t.Fatal(err)
	}
	portal := map[string]*harness.Portal{}
	for org, u := range users {
		p, err := harness.SignIn(ctx, e.URL, u, pw)
		if err != nil {
			t.Fatal(err)
		}
		portal[org] = p
	}
	charity, err := harness.SignIn(ctx, e.URL, "charity.officer", pw)
	if err != nil {
		t.Fatal(err)
	}
	public := harness.Visitor(e.URL)

	// The allocation as the API shows it, scan included.
	for org, want := range ex {
		var got struct {
			Allocation ledger.Allocation   `json:"allocation"`
			Scan       gateway.ReceiptScan `json:"scan"`
		}
		st, body, err := public.JSON(ctx, http.MethodGet, "/api/v1/donations/allocations/"+allocs[org].ID, nil, &got)
		if err != nil || st != 200 {
			t.Fatalf("allocation of %s: %d %v %.300s", org, st, err, body)
		}
		if got.Scan.Packs != want.Scanned || got.Allocation.Quantity != want.Allocated {
			t.Errorf("allocation of %s: scanned %d allocated %d, want %d and %d", org, got.Scan.Packs, got.Allocation.Quantity, want.Scanned, want.Allocated)
		}
	}

	// Only the receiving hospital confirms: the clinic may not confirm
	// City General's (the contract refuses before anything else).
	fever, clinic := allocs[sim.OrgHospital], allocs[sim.OrgClinic]
	st, body, _ := portal[sim.OrgClinic].JSON(ctx, http.MethodPost, "/api/v1/donations/allocations/"+fever.ID+"/receipt", map[string]any{"received": 160}, nil)
	if st != http.StatusForbidden {
		t.Fatalf("clinic confirming City General's receipt: %d %.300s, want 403", st, body)
	}

	// City General's delivery arrived in full: its receiving scans closed
	// the allocation on the ledger, signed as the hospital, and told it.
	var closed ledger.Allocation
	waitFor(t, ctx, "City General's delivery closed by its scans", func() (bool, string) {
		closed, _ = svc.Ledger().Allocation(ctx, reader, fever.ID)
		return closed.Status == ledger.AllocationReceived, "status " + closed.Status
	})
	if closed.Received != 160 || closed.Shortfall != 0 || !strings.Contains(closed.ReceiptNote, "receiving scans") || closed.ReceiptTxID == "" {
		t.Errorf("closed by the scans: %+v", closed)
	}
	waitFor(t, ctx, "delivery alert to City General", func() (bool, string) {
		as, _ := svc.Alerts(sim.OrgHospital, 100)
		for _, a := range as {
			if a.Kind == gateway.AlertDeliveryReceived {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d alerts", len(as))
	})
	t.Logf("%s: closed by its receiving scans, %d of %d (transaction %s)", sim.OrgHospital, closed.Received, closed.Quantity, closed.ReceiptTxID)
	// Its receiver cannot confirm it again.
	if st, body, _ := portal[sim.OrgHospital].JSON(ctx, http.MethodPost, "/api/v1/donations/allocations/"+fever.ID+"/receipt", map[string]any{}, nil); st != http.StatusConflict {
		t.Errorf("confirming a delivery closed by its scans: %d %.300s, want 409", st, body)
	}

	// The clinic's arrived short: still open; its receiver confirms what
	// the scans counted (no count given: the scan's).
	if al, _ := svc.Ledger().Allocation(ctx, reader, clinic.ID); al.Status != ledger.AllocationShipped {
		t.Fatalf("the short delivery was closed without the clinic: %+v", al)
	}
	{
		want := ex[sim.OrgClinic]
		var got ledger.Allocation
		st, body, err := portal[sim.OrgClinic].JSON(ctx, http.MethodPost, "/api/v1/donations/allocations/"+clinic.ID+"/receipt", map[string]any{"note": "counted by the receiving scan"}, &got)
		if err != nil || st != 200 {
			t.Fatalf("clinic confirms: %d %v %.300s", st, err, body)
		}
		if got.Status != ledger.AllocationReceived || got.Received != want.Scanned || got.Shortfall != want.Allocated-want.Scanned || got.ReceiptTxID == "" || got.ReceivedBy != "clinic.receiver" {
			t.Errorf("clinic receipt: %+v, want %d received, %d short", got, want.Scanned, want.Allocated-want.Scanned)
		}
		t.Logf("%s confirmed %d of %d (shortfall %d), transaction %s", sim.OrgClinic, got.Received, got.Quantity, got.Shortfall, got.ReceiptTxID)
	}
	// Twice: refused.
	st, body, _ = portal[sim.OrgClinic].JSON(ctx, http.MethodPost, "/api/v1/donations/allocations/"+clinic.ID+"/receipt", map[string]any{"received": 15}, nil)
	if st != http.StatusConflict {
		t.Fatalf("second confirmation: %d %.300s, want 409", st, body)
	}

	// The public figures per hospital.
	var sum struct {
		Hospitals []struct {
			Org       string `json:"org"`
			Name      string `json:"name"`
			Requested int    `json:"requested"`
			Allocated int    `json:"allocated"`
			Received  int    `json:"received"`
			Shortfall int    `json:"shortfall"`
		} `json:"hospitals"`
		Charities []struct {
			Org         string `json:"org"`
			Unallocated int    `json:"unallocated"`
			Delivered   int    `json:"delivered"` // units received by hospitals
			Hours       struct {
				Count int `json:"count"`
			} `json:"deliveryHours"`
		} `json:"charities"`
	}
	if st, body, err := public.JSON(ctx, http.MethodGet, "/api/v1/donations", nil, &sum); err != nil || st != 200 {
		t.Fatalf("public donations: %d %v %.300s", st, err, body)
	}
	seen := 0
	for _, h := range sum.Hospitals {
		want, ok := ex[h.Org]
		if !ok {
			continue
		}
		seen++
		if h.Requested != want.Requested || h.Allocated != want.Allocated || h.Received != want.Scanned || h.Shortfall != want.Allocated-want.Scanned {
			t.Errorf("public figures of %s: %+v, want requested %d allocated %d received %d", h.Org, h, want.Requested, want.Allocated, want.Scanned)
		}
		t.Logf("public: %s (%s) requested %d, allocated %d, received %d, shortfall %d", h.Name, h.Org, h.Requested, h.Allocated, h.Received, h.Shortfall)
	}
	if seen != len(ex) {
		t.Errorf("public donations list %d of the %d hospitals: %+v", seen, len(ex), sum.Hospitals)
	}
	for _, c := range sum.Charities {
		if c.Org == sim.OrgCharity && (c.Unallocated != 0 || c.Delivered != 175 || c.Hours.Count != 2) {
			t.Errorf("charity figures %+v, want nothing unallocated, 175 cartons delivered in 2 deliveries", c)
		}
	}
	st, page, err := public.Page(ctx, "/donations")
	if err != nil || st != 200 || !strings.Contains(page, "Riverside Clinic") || !strings.Contains(page, "City General") {
		t.Fatalf("public donations page: %d %v", st, err)
	}

	// The anonymous donor's receipt code: their 40 cartons went 10 to
	// City General (after Meridian's 150) and 30 to the clinic.
	var anon sim.Action
	for _, a := range sc.Actions {
		if a.Kind == sim.ActionPledge && len(a.Donor) > 0 {
			anon = a
		}
	}
	var tr struct {
		Trace ledger.PledgeTrace `json:"trace"`
		Path  []map[string]any   `json:"path"`
	}
	if st, body, err := public.JSON(ctx, http.MethodGet, "/api/v1/donations/receipt/"+url.PathEscape(anon.ReceiptCode), nil, &tr); err != nil || st != 200 {
		t.Fatalf("receipt code: %d %v %.300s", st, err, body)
	}
	draws := map[string]int{}
	for _, d := range tr.Trace.Allocations {
		draws[d.Allocation.Hospital] = d.FromPledge
	}
	if tr.Trace.Pledge.DonorPseudonym != anon.Pseudonym || draws[sim.OrgHospital] != 10 || draws[sim.OrgClinic] != 30 || len(tr.Path) == 0 {
		t.Errorf("receipt code trace: pledge %q, draws %v, %d path steps", tr.Trace.Pledge.DonorPseudonym, draws, len(tr.Path))
	}
	st, page, _ = public.Page(ctx, "/donations/receipt?code="+url.QueryEscape(anon.ReceiptCode))
	if st != 200 || !strings.Contains(page, anon.Pseudonym) || strings.Contains(page, anon.Donor["name"]) {
		t.Errorf("donor's receipt page: %d, pseudonym shown %v, identity shown %v", st, strings.Contains(page, anon.Pseudonym), strings.Contains(page, anon.Donor["name"]))
	}
	if st, _, _ := public.JSON(ctx, http.MethodGet, "/api/v1/donations/receipt/TG-NOPE-NOPE-NOPE-NOPE", nil, nil); st != http.StatusNotFound {
		t.Errorf("unknown receipt code: %d, want 404", st)
	}

	// The identity is the charity's only; purged on request, the public
	// path stays.
	pid := actor.IDs[anon.Ref]
	if st, body, _ := public.JSON(ctx, http.MethodGet, "/api/v1/donations/pledges?charity="+sim.OrgCharity, nil, nil); st != 200 || strings.Contains(string(body), anon.Donor["name"]) {
		t.Fatalf("public pledges: %d, identity leaked %v", st, strings.Contains(string(body), anon.Donor["name"]))
	}
	if st, _, _ := portal[sim.OrgHospital].JSON(ctx, http.MethodGet, "/api/v1/donations/pledges/"+pid+"/donor", nil, nil); st != http.StatusForbidden {
		t.Errorf("hospital reading the donor's identity: %d, want 403", st)
	}
	if st, body, _ := charity.JSON(ctx, http.MethodGet, "/api/v1/donations/pledges/"+pid+"/donor", nil, nil); st != 200 || !strings.Contains(string(body), anon.Donor["name"]) {
		t.Errorf("charity reading the donor's identity: %d %.200s", st, body)
	}
	if st, body, _ := charity.JSON(ctx, http.MethodDelete, "/api/v1/donations/pledges/"+pid+"/donor", nil, nil); st != http.StatusNoContent {
		t.Fatalf("purge: %d %.300s", st, body)
	}
	if st, _, _ := charity.JSON(ctx, http.MethodGet, "/api/v1/donations/pledges/"+pid+"/donor", nil, nil); st != http.StatusNotFound {
		t.Errorf("identity after the purge: %d, want 404", st)
	}
	if st, _, _ := public.JSON(ctx, http.MethodGet, "/api/v1/donations/receipt/"+url.PathEscape(anon.ReceiptCode), nil, nil); st != 200 {
		t.Errorf("receipt code after the purge: %d", st)
	}
}
