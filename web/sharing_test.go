package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

type grantsDoc struct {
	Org      string         `json:"org"`
	Given    []ledger.Grant `json:"given"`
	Received []ledger.Grant `json:"received"`
}

type accessLogDoc struct {
	Owner   string                   `json:"owner"`
	Entries []gateway.AccessLogEntry `json:"entries"`
}

func (e *env) grants(c *http.Client) grantsDoc {
	e.t.Helper()
	r := e.jsonCall(c, "", http.MethodGet, "/api/v1/grants", nil)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("grants: %d %s", r.StatusCode, r.body)
	}
	var d grantsDoc
	r.json(e.t, &d)
	return d
}

func (e *env) accessLog(c *http.Client) []gateway.AccessLogEntry {
	e.t.Helper()
	r := e.jsonCall(c, "", http.MethodGet, "/api/v1/access-log", nil)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("access log: %d %s", r.StatusCode, r.body)
	}
	var d accessLogDoc
	r.json(e.t, &d)
	return d.Entries
}

// revokeLive revokes the owner's live grants to grantee, so that a test
// starts from none (other tests share the ledger).
func (e *env) revokeLive(c *http.Client, tok, grantee string) {
	e.t.Helper()
	for _, g := range e.grants(c).Given {
		if g.Grantee == grantee && (g.Status == ledger.GrantActive || g.Status == ledger.GrantPending) {
			if r := e.jsonCall(c, tok, http.MethodPost, "/api/v1/grants/"+g.ID+"/revoke", map[string]any{"reason": "test reset"}); r.StatusCode != http.StatusOK {
				e.t.Fatalf("revoke %s: %d %s", g.ID, r.StatusCode, r.body)
			}
		}
	}
}

// TestSharingRegulatorReadsReceipts is the story: a regulator's read
// outside its grant is refused, and an in-grant read appears in the
// owner's access log, sealed, anchored and verified.
func TestSharingRegulatorReadsReceipts(t *testing.T) {
	e := shared(t)
	e.seedInsurance(t)
	hc, htok := e.login(t, e.url, hospitalAdmin, hospitalPass) // the owner's admin
	rc, rtok := e.login(t, e.url, inspector, inspectPass)      // the regulator
	wc, wtok := e.login(t, e.url, adminUser, adminPass)        // another member
	e.revokeLive(hc, htok, orgRegulator)
	since := time.Now().UTC()
	receipts := "/api/v1/shared/" + orgHospital + "/receipts"
	alerts := "/api/v1/shared/" + orgHospital + "/alerts"

	// No grant, no read.
	p := wantProblem(t, e.jsonCall(rc, "", http.MethodGet, receipts, nil), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, orgHospital) || !strings.Contains(d, "receipts") {
		t.Errorf("read without a grant: %q", d)
	}

	// The hospital's admin grants the regulator its receipt records.
	until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	purpose := "Inspection 2026-114: vaccine receipts at City Hospital"
	grant := map[string]any{"grantee": orgRegulator, "scope": map[string]any{"kind": "receipts"}, "purpose": purpose, "validUntil": until.Format(time.RFC3339)}
	wantProblem(t, e.jsonCall(hc, "", http.MethodPost, "/api/v1/grants", grant), http.StatusForbidden, "csrf")
	wantProblem(t, e.jsonCall(nil, "", http.MethodPost, "/api/v1/grants", grant), http.StatusUnauthorized, "unauthenticated")
	r := e.jsonCall(hc, htok, http.MethodPost, "/api/v1/grants", grant)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("grant: %d %s", r.StatusCode, r.body)
	}
	var g ledger.Grant
	r.json(t, &g)
	if !hexID.MatchString(g.ID) || g.Owner != orgHospital || g.Grantee != orgRegulator || g.Scope.Kind != ledger.GrantReceipts || g.Purpose != purpose ||
		g.Status != ledger.GrantActive || !g.ValidUntil.Equal(until) || g.GrantedBy != hospitalAdmin || g.TxID == "" || g.Revoked != nil {
		t.Fatalf("grant %+v", g)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/grants/"+g.ID {
		t.Errorf("Location %q", loc)
	}
	if d := e.grants(rc); len(d.Received) == 0 || d.Received[0].ID != g.ID || len(d.Given) != 0 && d.Given[0].ID == g.ID {
		t.Errorf("the regulator's grants: %+v", d)
	}

	// Inside the grant: allowed.
	r = e.jsonCall(rc, "", http.MethodGet, receipts, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("read in grant: %d %s", r.StatusCode, r.body)
	}
	var rec gateway.SharedReceipts
	r.json(t, &rec)
	if rec.Owner != orgHospital || len(rec.Receipts) == 0 {
		t.Fatalf("the hospital's receipts: %+v", rec)
	}
	for _, x := range rec.Receipts {
		if x.SiteName != "City Hospital pharmacy, Berlin" {
			t.Errorf("a receipt of another organisation's site is shared: %+v", x)
		}
	}
	// Outside its scope: refused, and the problem names the owner, the
	// scope and why.
	p = wantProblem(t, e.jsonCall(rc, "", http.MethodGet, alerts, nil), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, orgHospital) || !strings.Contains(d, "alerts") || !strings.Contains(d, "outside the scope") {
		t.Errorf("read outside the grant: %q", d)
	}
	if p["owner"] != orgHospital || p["grantee"] != orgRegulator {
		t.Errorf("refusal problem members: %v", p)
	}
	sensors := "/api/v1/shared/" + orgHospital + "/lots/" + e.gtin + "/" + testLot + "/sensors"
	wantProblem(t, e.jsonCall(rc, "", http.MethodGet, sensors, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, e.jsonCall(rc, "", http.MethodGet, "/api/v1/shared/NoSuchMSP/receipts", nil), http.StatusNotFound, "not-found")
	wantProblem(t, e.jsonCall(rc, "", http.MethodGet, "/api/v1/shared/"+url.PathEscape("Bad Org")+"/receipts", nil), http.StatusBadRequest, "invalid")
	wantProblem(t, e.jsonCall(nil, "", http.MethodGet, receipts, nil), http.StatusUnauthorized, "unauthenticated")

	// Bad and hostile grants: refused before the ledger, nothing written.
	before := len(e.grants(hc).Given)
	for _, c := range []struct {
		what string
		body any
		want string
	}{
		{"already expired", with(grant, "validUntil", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)), "already be expired"},
		{"ends before it starts", with(with(grant, "validFrom", until.Add(time.Hour).Format(time.RFC3339)), "validUntil", until.Format(time.RFC3339)), "not after its start"},
		{"no end", with(grant, "validUntil", nil), "validUntil"},
		{"not a time", with(grant, "validUntil", "2027-13-45"), "RFC 3339"},
		{"no purpose", with(grant, "purpose", " "), "purpose"},
		{"control characters", with(grant, "purpose", "audit\r\x00\x1b"), "control character"},
		{"over-long purpose", with(grant, "purpose", strings.Repeat("p", 1001)), "under 1000"},
		{"unknown scope", with(grant, "scope", map[string]any{"kind": "everything"}), "not one of"},
		{"no scope", with(grant, "scope", nil), "scope"},
		{"receipts of a lot", with(grant, "scope", map[string]any{"kind": "receipts", "gtin": e.gtin}), "leave the GTIN and lot empty"},
		{"lot without GTIN", with(grant, "scope", map[string]any{"kind": "lot-sensors", "lot": testLot}), "GTIN"},
		{"bad GTIN", with(grant, "scope", map[string]any{"kind": "lot-custody", "gtin": e.gtin[:13] + string('0'+(e.gtin[13]-'0'+1)%10)}), "check digit"},
		{"itself", with(grant, "grantee", orgHospital), "its own data"},
		{"hostile grantee", with(grant, "grantee", "../admin"), "not an organisation ID"},
		{"status set by the client", with(grant, "status", "active"), "unknown member"},
		{"grantee as a list", with(grant, "grantee", []any{orgRegulator}), "string"},
	} {
		d := webRefused(t, e.jsonCall(hc, htok, http.MethodPost, "/api/v1/grants", c.body), c.what)
		if !strings.Contains(d, c.want) {
			t.Errorf("%s: detail %q does not say %q", c.what, d, c.want)
		}
	}
	// Another organisation's data: only its owner grants.
	wantProblem(t, e.jsonCall(hc, htok, http.MethodPost, "/api/v1/grants", with(grant, "owner", orgWarehouse)), http.StatusForbidden, "forbidden")
	// A grantee that is not a member: the ledger says so.
	wantProblem(t, e.jsonCall(hc, htok, http.MethodPost, "/api/v1/grants", with(grant, "grantee", "NoSuchMSP")), http.StatusNotFound, "not-found")
	// A regulator-inspector is not its organisation's admin.
	p = wantProblem(t, e.jsonCall(rc, rtok, http.MethodPost, "/api/v1/grants", with(grant, "grantee", orgHospital)), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, "org-admin") {
		t.Errorf("a non-admin granting: %q", d)
	}
	if n := len(e.grants(hc).Given); n != before {
		t.Fatalf("refused grants wrote to the ledger: %d grants given, was %d", n, before)
	}

	// Only the owner revokes.
	revoke := func(c *http.Client, tok, id string, body any) response {
		return e.jsonCall(c, tok, http.MethodPost, "/api/v1/grants/"+id+"/revoke", body)
	}
	p = wantProblem(t, revoke(rc, rtok, g.ID, map[string]any{"reason": "we are done"}), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, orgRegulator) {
		t.Errorf("the grantee revoking: %q", d)
	}
	wantProblem(t, revoke(wc, wtok, g.ID, map[string]any{"reason": "not yours"}), http.StatusForbidden, "forbidden")
	webRefused(t, revoke(hc, htok, g.ID, map[string]any{"reason": ""}), "revoke without a reason")
	webRefused(t, revoke(hc, htok, "zz", map[string]any{"reason": "x"}), "revoke a malformed grant ID")
	wantProblem(t, revoke(hc, htok, strings.Repeat("0", 32), map[string]any{"reason": "x"}), http.StatusNotFound, "not-found")
	var still ledger.Grant
	e.jsonCall(hc, "", http.MethodGet, "/api/v1/grants/"+g.ID, nil).json(t, &still)
	if still.Status != ledger.GrantActive {
		t.Fatalf("refused revocations changed the grant: %+v", still)
	}
	wantProblem(t, e.jsonCall(wc, "", http.MethodGet, "/api/v1/grants/"+g.ID, nil), http.StatusForbidden, "forbidden")
	r = revoke(hc, htok, g.ID, map[string]any{"reason": "Inspection closed."})
	var rv ledger.Grant
	r.json(t, &rv)
	if r.StatusCode != http.StatusOK || rv.Status != ledger.GrantRevoked || rv.Revoked == nil || rv.Revoked.By != hospitalAdmin || rv.Revoked.Reason != "Inspection closed." {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, revoke(hc, htok, g.ID, map[string]any{"reason": "again"}), http.StatusConflict, "conflict")
	// After the revocation: refused, saying so.
	p = wantProblem(t, e.jsonCall(rc, "", http.MethodGet, receipts, nil), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, "revoked") || !strings.Contains(d, "Inspection closed.") {
		t.Errorf("read after revocation: %q", d)
	}

	// The owner reads its own data without a grant, unlogged.
	if r := e.jsonCall(hc, "", http.MethodGet, alerts, nil); r.StatusCode != http.StatusOK {
		t.Errorf("the owner reading its own alerts: %d %s", r.StatusCode, r.body)
	}

	// The owner's access log: the allowed read and the refused ones.
	wantProblem(t, e.jsonCall(rc, "", http.MethodGet, "/api/v1/access-log", nil), http.StatusForbidden, "forbidden")
	mine := func() (allowed, refusedAlerts, refusedRevoked []gateway.AccessLogEntry, all []gateway.AccessLogEntry) {
		for _, x := range e.accessLog(hc) {
			if x.At.Before(since) || x.Grantee != orgRegulator {
				if x.Grantee == orgHospital {
					t.Errorf("the owner's own read is logged: %+v", x)
				}
				continue
			}
			all = append(all, x)
			switch {
			case x.Outcome == gateway.AccessAllowed && x.Scope.Kind == ledger.GrantReceipts && x.GrantID == g.ID:
				allowed = append(allowed, x)
			case x.Outcome == gateway.AccessRefused && x.Scope.Kind == ledger.GrantAlerts:
				refusedAlerts = append(refusedAlerts, x)
			case x.Outcome == gateway.AccessRefused && x.Scope.Kind == ledger.GrantReceipts && strings.Contains(x.Reason, "grant "+g.ID+" was revoked"):
				refusedRevoked = append(refusedRevoked, x)
			}
		}
		return
	}
	allowed, refA, refR, all := mine()
	if len(allowed) != 1 || len(refA) != 1 || len(refR) != 1 {
		t.Fatalf("access log since the test began: %d allowed, %d refused (alerts), %d refused (revoked): %+v", len(allowed), len(refA), len(refR), all)
	}
	if a := allowed[0]; a.User != inspector || a.Purpose != purpose || a.Resource != receipts || a.Owner != orgHospital {
		t.Errorf("allowed entry %+v", a)
	}
	if !strings.Contains(refA[0].Reason, "outside the scope") {
		t.Errorf("refused entry %+v", refA[0])
	}
	// Sealed into a signed batch, anchored on the ledger, verified
	// against the anchor (the background loop does it within a second or
	// two; SealAccessLog forces a pass).
	if err := e.svc.SealAccessLog(context.Background()); err != nil {
		t.Fatalf("seal the access log: %v", err)
	}
	allowed, refA, refR, all = mine()
	for _, x := range all {
		if !x.Sealed || !x.Anchored || !x.Verified || x.TxID == "" || x.Problem != "" {
			t.Errorf("entry not sealed, anchored and verified: %+v", x)
		}
	}
	if r := e.get("/api/v1/ledger/transactions/" + allowed[0].TxID); r.StatusCode != http.StatusOK {
		t.Errorf("the anchoring transaction %s: %d", allowed[0].TxID, r.StatusCode)
	}

	// The pages.
	hp := e.page(hc, "/sharing")
	for _, want := range []string{`id="grant-form"`, `id="grant-` + g.ID + `"`, "Revoked", "Inspection closed.", `id="access-log"`,
		`class="badge ok outcome"`, `class="badge bad outcome"`, "Sealed · anchored · verified", "/api/v1/ledger/transactions/" + allowed[0].TxID,
		"<strong>Federal Medicines Agency</strong><small class=\"block muted\">" + inspector + "</small>", purpose} {
		if !strings.Contains(hp, want) {
			t.Errorf("the owner's sharing page lacks %q", want)
		}
	}
	rp := e.page(rc, "/sharing")
	if !strings.Contains(rp, `id="received"`) || !strings.Contains(rp, `id="grant-`+g.ID+`"`) || strings.Contains(rp, `id="access-log"`) || strings.Contains(rp, `id="grant-form"`) {
		t.Errorf("the regulator's sharing page")
	}
}

// TestSharingLotSensorsToInsurer: a lot's sensor history to an insurer,
// through the page's forms.
func TestSharingLotSensorsToInsurer(t *testing.T) {
	e := shared(t)
	e.seedInsurance(t)
	e.waitExcursionsRecorded(2)
	hc, htok := e.login(t, e.url, hospitalAdmin, hospitalPass)
	ac, _ := e.login(t, e.url, assessor, assessorPass)
	rc, rtok := e.login(t, e.url, inspector, inspectPass)
	e.revokeLive(hc, htok, orgInsurer)
	base := "/api/v1/shared/" + orgHospital + "/lots/" + e.gtin + "/"

	// An expired grant through the form: the page says so and keeps the input.
	before := len(e.grants(hc).Given)
	form := url.Values{"_csrf": {htok}, "grantee": {orgInsurer}, "kind": {ledger.GrantLotSensors}, "gtin": {e.gtin}, "lot": {testLot},
		"purpose": {"Claim assessment: cold chain of lot " + testLot}, "valid_until": {"2026-01-01T00:00"}}
	r := e.postForm(hc, "/sharing/grants", form)
	if s := string(r.body); r.StatusCode != http.StatusBadRequest || !strings.Contains(s, `id="grant-error"`) || !strings.Contains(s, "already be expired") ||
		!strings.Contains(s, "Claim assessment: cold chain of lot") || !strings.Contains(s, `value="`+testLot+`"`) {
		t.Fatalf("expired grant form: %d", r.StatusCode)
	}
	form.Set("valid_until", "")
	if r = e.postForm(hc, "/sharing/grants", form); r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.body), "until when") {
		t.Errorf("grant form without an end: %d", r.StatusCode)
	}
	if n := len(e.grants(hc).Given); n != before {
		t.Fatalf("refused grant forms wrote to the ledger")
	}
	form.Set("valid_until", time.Now().Add(72*time.Hour).UTC().Format("2006-01-02T15:04"))
	r = e.postForm(hc, "/sharing/grants", form)
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/sharing?granted=") {
		t.Fatalf("grant form: %d %q %.300s", r.StatusCode, loc, r.body)
	}
	id := strings.TrimPrefix(strings.Split(loc, "#")[0], "/sharing?granted=")
	if s := e.page(hc, loc); !strings.Contains(s, `id="flash"`) || !strings.Contains(s, "SafeCover Mutual may now read sensor history of") {
		t.Errorf("no flash after granting")
	}

	// The insurer reads that lot's sensor history, not its custody nor
	// another lot's.
	r = e.jsonCall(ac, "", http.MethodGet, base+testLot+"/sensors", nil)
	var ls gateway.LotSensors
	r.json(t, &ls)
	if r.StatusCode != http.StatusOK || ls.Owner != orgHospital || ls.Lot != testLot {
		t.Fatalf("in-grant sensors: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, e.jsonCall(ac, "", http.MethodGet, base+testLot+"/custody", nil), http.StatusForbidden, "forbidden")
	wantProblem(t, e.jsonCall(ac, "", http.MethodGet, base+recallLot+"/sensors", nil), http.StatusForbidden, "forbidden")
	wantProblem(t, e.jsonCall(ac, "", http.MethodGet, base+"NO-SUCH-LOT/sensors", nil), http.StatusNotFound, "not-found")
	ap := e.page(ac, "/sharing")
	if !strings.Contains(ap, `href="`+base+testLot+`/sensors"`) {
		t.Errorf("the insurer's page has no link to read the shared data")
	}

	// Only the owner revokes, through the form too.
	r = e.postForm(rc, "/sharing/grants/"+id+"/revoke", url.Values{"_csrf": {rtok}, "reason": {"not mine"}})
	if r.StatusCode != http.StatusForbidden || !strings.Contains(string(r.body), `id="revoke-error"`) {
		t.Errorf("a stranger revoking through the form: %d", r.StatusCode)
	}
	r = e.postForm(hc, "/sharing/grants/"+id+"/revoke", url.Values{"_csrf": {htok}, "reason": {""}})
	if s := string(r.body); r.StatusCode != http.StatusBadRequest || !strings.Contains(s, `class="alert bad revoke-error"`) {
		t.Errorf("revoke form without a reason: %d", r.StatusCode)
	}
	r = e.postForm(hc, "/sharing/grants/"+id+"/revoke", url.Values{"_csrf": {htok}, "reason": {"Claim settled."}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/sharing?revoked="+id+"#grant-"+id {
		t.Fatalf("revoke form: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if s := e.page(hc, r.Header.Get("Location")); !strings.Contains(s, "Access revoked") {
		t.Errorf("no flash after revoking")
	}
	wantProblem(t, e.jsonCall(ac, "", http.MethodGet, base+testLot+"/sensors", nil), http.StatusForbidden, "forbidden")
}

// TestBrowserSharing looks at the sharing page as the owner's admin (the
// grant form, the grants given, the access log) and as the grantee, on a
// desktop and a phone, and grants access in the browser.
func TestBrowserSharing(t *testing.T) {
	e := shared(t)
	e.seedInsurance(t)
	hc, htok := e.login(t, e.url, hospitalAdmin, hospitalPass)
	rc, _ := e.login(t, e.url, inspector, inspectPass)
	ac, _ := e.login(t, e.url, assessor, assessorPass)
	e.revokeLive(hc, htok, orgRegulator)
	e.revokeLive(hc, htok, orgInsurer)
	grant := func(grantee string, scope map[string]any, purpose string, d time.Duration) ledger.Grant {
		r := e.jsonCall(hc, htok, http.MethodPost, "/api/v1/grants", map[string]any{"grantee": grantee, "scope": scope, "purpose": purpose,
			"validUntil": time.Now().Add(d).UTC().Format(time.RFC3339)})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("grant: %d %s", r.StatusCode, r.body)
		}
		var g ledger.Grant
		r.json(t, &g)
		return g
	}
	g1 := grant(orgRegulator, map[string]any{"kind": "receipts"}, "Inspection 2026-114: vaccine receipts at City Hospital", 14*24*time.Hour)
	g2 := grant(orgInsurer, map[string]any{"kind": "lot-sensors", "gtin": e.gtin, "lot": testLot}, "Assessment of the cold-chain claim on lot "+testLot, 72*time.Hour)
	g3 := grant(orgRegulator, map[string]any{"kind": "lot-custody", "gtin": e.gtin}, "Recall readiness check", 48*time.Hour)
	base := "/api/v1/shared/" + orgHospital
	for _, rd := range []struct {
		c    *http.Client
		path string
		want int
	}{
		{rc, base + "/receipts", 200}, {rc, base + "/alerts", 403}, {ac, base + "/lots/" + e.gtin + "/" + testLot + "/sensors", 200},
		{ac, base + "/lots/" + e.gtin + "/" + testLot + "/custody", 403}, {rc, base + "/lots/" + e.gtin + "/" + testLot + "/custody", 200},
	} {
		if r := e.jsonCall(rd.c, "", http.MethodGet, rd.path, nil); r.StatusCode != rd.want {
			t.Fatalf("read %s: %d, want %d", rd.path, r.StatusCode, rd.want)
		}
	}
	if r := e.jsonCall(hc, htok, http.MethodPost, "/api/v1/grants/"+g3.ID+"/revoke", map[string]any{"reason": "Check completed."}); r.StatusCode != 200 {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if r := e.jsonCall(rc, "", http.MethodGet, base+"/lots/"+e.gtin+"/"+testLot+"/custody", nil); r.StatusCode != 403 {
		t.Fatalf("read after revocation: %d", r.StatusCode)
	}
	if err := e.svc.SealAccessLog(context.Background()); err != nil {
		t.Fatal(err)
	}
	// One more read, not sealed yet (unless the background loop is quick).
	e.jsonCall(rc, "", http.MethodGet, base+"/receipts?limit=10", nil)

	b := newBrowser(t)
	b.signIn(e, hospitalAdmin, hospitalPass)
	b.do("owner's page", chromedp.Navigate(e.url+"/sharing"), chromedp.WaitVisible(chromedp.CSS("#access-log")))
	if n := b.count("#access-entries .badge.ok.outcome"); n < 3 {
		t.Errorf("%d allowed reads shown", n)
	}
	if n := b.count("#access-entries .badge.bad.outcome"); n < 2 {
		t.Errorf("%d refused reads shown", n)
	}
	if n := b.count("#grants-given .revoke-form"); n != 2 {
		t.Errorf("%d revoke forms, want 2 (the live grants %s, %s)", n, g1.ID, g2.ID)
	}
	b.shoot("sharing-owner")
	b.shootParts("sharing-owner", "#grant-card", "#given", "#access-log")
	// Grant in the browser: redirected with a flash.
	until := time.Now().Add(7 * 24 * time.Hour).UTC().Format("2006-01-02T15:04")
	b.do("grant", chromedp.SetValue(chromedp.CSS("#g-grantee"), orgInsurer), chromedp.SetValue(chromedp.CSS("#g-kind"), "alerts"),
		chromedp.SetValue(chromedp.CSS("#g-purpose"), "Claim follow-up: alerts about the lots we insure"), chromedp.SetValue(chromedp.CSS("#g-until"), until),
		chromedp.Submit(chromedp.CSS("#grant-form")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if s := b.text("#flash"); !strings.Contains(s, "SafeCover Mutual may now read alerts") {
		t.Errorf("flash after granting: %q", s)
	}
	b.do("sign out", chromedp.Submit(chromedp.CSS(".who form")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.signIn(e, assessor, assessorPass)
	b.do("grantee's page", chromedp.Navigate(e.url+"/sharing"), chromedp.WaitVisible(chromedp.CSS("#received")))
	if n := b.count("#grants-received a.read-link"); n < 2 {
		t.Errorf("%d read links for the grantee", n)
	}
	if b.count("#access-log") != 0 || b.count("#grant-form") != 0 {
		t.Errorf("a non-admin of another organisation sees the owner's controls")
	}
	b.shoot("sharing-grantee")
}
