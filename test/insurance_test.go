package test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	sim "github.com/tracegate/tracegate/firmware-sim"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/test/harness"
)

// coldChainPayout is what the test policies pay per claim (EUR cents).
const coldChainPayout = 250_000

// insureLots has the insurer cover every lot a scenario expects an
// excursion for: it pays when a lot spends more than 30 minutes out of
// range.
func insureLots(t *testing.T, ctx context.Context, e *harness.Embedded, sc *sim.Scenario) map[string]ledger.Policy {
	pols := map[string]ledger.Policy{}
	insurer := ledger.Identity{Org: sim.OrgInsurer, User: ledger.AdminUser}
	for _, x := range sc.Expected.Excursions {
		key := x.GTIN + "/" + x.Lot
		if _, ok := pols[key]; ok {
			continue
		}
		p, _, err := e.Svc.Ledger().IssuePolicy(ctx, insurer, ledger.Policy{Insurer: sim.OrgInsurer, Insured: sim.OrgManufacturer,
			Scope:     ledger.PolicyScope{Lots: []ledger.LotRef{{GTIN: x.GTIN, Lot: x.Lot}}},
			Terms:     ledger.PolicyTerms{Currency: "EUR", ColdChain: &ledger.ColdChainTerms{MaxOutOfRangeMin: 30, Payout: coldChainPayout}},
			ValidFrom: sc.Start.Add(-time.Hour), ValidUntil: time.Now().Add(365 * 24 * time.Hour)})
		if err != nil {
			t.Fatalf("policy on %s: %v", key, err)
		}
		pols[key] = p
	}
	return pols
}

// checkClaims: the reefer failure's recorded excursions opened a claim on
// each lot's policy automatically, with the excursion's readings as
// evidence; the insurer's assessor settles each through the portal's API;
// the insured sees every step; the insured may not settle, and no claim
// is settled twice.
func checkClaims(t *testing.T, ctx context.Context, e *harness.Embedded, pols map[string]ledger.Policy) {
	svc := e.Svc
	insurer := ledger.Identity{Org: sim.OrgInsurer, User: ledger.AdminUser}
	const pw = "claims password 1"
	if err := e.AddPortalUser(ctx, "assessor", pw, sim.OrgInsurer, ledger.RoleInsurerAssessor); err != nil {
		t.Fatal(err)
	}
	if err := e.AddPortalUser(ctx, "quality.meridian", pw, sim.OrgManufacturer, ledger.RoleQuality); err != nil {
		t.Fatal(err)
	}
	assessor, err := harness.SignIn(ctx, e.URL, "assessor", pw)
	if err != nil {
		t.Fatal(err)
	}
	insured, err := harness.SignIn(ctx, e.URL, "quality.meridian", pw)
	if err != nil {
		t.Fatal(err)
	}
	for key, p := range pols {
		var claims []ledger.Claim
		waitFor(t, ctx, "cold-chain claim on "+key, func() (bool, string) {
			cs, err := svc.Ledger().Claims(ctx, insurer, ledger.ByPolicy, p.ID)
			if err != nil {
				return false, err.Error()
			}
			claims = cs
			return len(cs) > 0, fmt.Sprintf("%d claims", len(cs))
		})
		c := claims[0]
		if c.Kind != ledger.ClaimColdChain || c.Status != ledger.ClaimOpen || c.Excursion == "" || len(c.Evidence) == 0 || c.Amount != coldChainPayout || c.Insured != sim.OrgManufacturer {
			t.Fatalf("claim on %s: %+v", key, c)
		}
		x, err := svc.Ledger().Excursion(ctx, insurer, c.Excursion)
		if err != nil || x.GTIN+"/"+x.Lot != key {
			t.Fatalf("claim's excursion %s: %+v %v", c.Excursion, x, err)
		}
		// The insured may not settle its own claim; nothing is written.
		if st, body, _ := insured.JSON(ctx, http.MethodPost, "/api/v1/claims/"+c.ID+"/settle", map[string]any{"amount": coldChainPayout, "note": "self-service"}, nil); st != http.StatusForbidden {
			t.Fatalf("insured settling: %d %.300s, want 403", st, body)
		}
		var settled ledger.Claim
		st, body, err := assessor.JSON(ctx, http.MethodPost, "/api/v1/claims/"+c.ID+"/settle", map[string]any{"amount": coldChainPayout, "note": "parametric payout: reefer compressor failure"}, &settled)
		if err != nil || st != 200 || settled.Status != ledger.ClaimSettled || settled.Settled != coldChainPayout {
			t.Fatalf("settle: %d %v %.300s", st, err, body)
		}
		if st, body, _ := assessor.JSON(ctx, http.MethodPost, "/api/v1/claims/"+c.ID+"/settle", map[string]any{"amount": coldChainPayout, "note": "again"}, nil); st != http.StatusConflict {
			t.Fatalf("second settlement: %d %.300s, want 409", st, body)
		}
		// The insured sees every step.
		var seen ledger.Claim
		if st, body, err := insured.JSON(ctx, http.MethodGet, "/api/v1/claims/"+c.ID, nil, &seen); err != nil || st != 200 {
			t.Fatalf("insured reading the claim: %d %v %.300s", st, err, body)
		}
		if seen.Status != ledger.ClaimSettled || len(seen.History) != 2 || seen.History[0].Step != ledger.StepOpened || seen.History[1].Step != ledger.StepSettled || seen.History[1].TxID == "" {
			t.Errorf("insured's view of the claim: %+v", seen)
		}
		t.Logf("claim %s on %s: excursion %s (%.0f min), opened automatically, settled %d %s by %s in %s",
			c.ID[:8], key, x.ID[:8], x.CumulativeMin, settled.Settled, settled.Currency, settled.History[len(settled.History)-1].By, settled.History[len(settled.History)-1].TxID)
	}
}
