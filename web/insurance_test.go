package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// jsonCall sends a JSON request with a session's client and CSRF token
// ("" for none). body is marshalled unless it is a string or []byte.
func (e *env) jsonCall(c *http.Client, tok, method, path string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch x := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(x)
	case []byte:
		r = bytes.NewReader(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		r = bytes.NewReader(b)
	}
	hdr := []string{"Accept", "application/json"}
	if r != nil {
		hdr = append(hdr, "Content-Type", "application/json")
	}
	if tok != "" {
		hdr = append(hdr, "X-CSRF-Token", tok)
	}
	return e.do(c, method, path, r, hdr...)
}

// postForm posts a form as a browser does.
func (e *env) postForm(c *http.Client, path string, form url.Values) response {
	e.t.Helper()
	return e.do(c, http.MethodPost, path, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
}

// page reads a portal page as a browser does.
func (e *env) page(c *http.Client, path string) string {
	e.t.Helper()
	r := e.do(c, http.MethodGet, path, nil, "Accept", "text/html")
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %.300s", path, r.StatusCode, r.body)
	}
	return string(r.body)
}

// webRefused checks a 400 found by the web layer (before the ledger: its
// problems never carry the ledger's title) and returns its detail.
func webRefused(t *testing.T, r response, what string) string {
	t.Helper()
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s: status %d, want 400: %.500s", what, r.StatusCode, r.body)
	}
	p := wantProblem(t, r, http.StatusBadRequest, "invalid")
	if p["title"] == "the ledger refused the request" {
		t.Errorf("%s: refused by the ledger, not checked before it: %v", what, p["detail"])
	}
	d, _ := p["detail"].(string)
	if d == "" {
		t.Errorf("%s: a problem without a detail saying what is wrong", what)
	}
	return d
}

func policyBody(insured, gtin string, lots ...string) map[string]any {
	var ls []any
	for _, l := range lots {
		ls = append(ls, map[string]any{"gtin": gtin, "lot": l})
	}
	return map[string]any{
		"insured":    insured,
		"scope":      map[string]any{"lots": ls},
		"terms":      map[string]any{"currency": "EUR", "coldChain": map[string]any{"maxOutOfRangeMin": 60, "payout": 250000}, "manualCover": 500000},
		"validFrom":  "2026-11-01T00:00:00Z",
		"validUntil": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339),
	}
}

// with returns a copy of a JSON object with one member changed (nil
// deletes it).
func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

type policiesDoc struct {
	Org      string          `json:"org"`
	Policies []ledger.Policy `json:"policies"`
}

type claimsDoc struct {
	Org    string         `json:"org"`
	Claims []ledger.Claim `json:"claims"`
}

func (e *env) policies(c *http.Client, query string) []ledger.Policy {
	e.t.Helper()
	r := e.jsonCall(c, "", http.MethodGet, "/api/v1/policies"+query, nil)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("policies: %d %s", r.StatusCode, r.body)
	}
	var d policiesDoc
	r.json(e.t, &d)
	return d.Policies
}

func (e *env) claims(c *http.Client, query string) []ledger.Claim {
	e.t.Helper()
	r := e.jsonCall(c, "", http.MethodGet, "/api/v1/claims"+query, nil)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("claims: %d %s", r.StatusCode, r.body)
	}
	var d claimsDoc
	r.json(e.t, &d)
	return d.Claims
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestInsuranceAPI: an insurer issues a policy on a lot; the insured opens
// manual claims; only the insurer settles or rejects, once; bad and
// hostile input is refused with a clear problem and nothing is written.
func TestInsuranceAPI(t *testing.T) {
	e := shared(t)
	e.seedInsurance(t)
	lot := "INS-2611-01"
	e.newLot(t, lot)
	ac, atok := e.login(t, e.url, assessor, assessorPass) // the insurer
	wc, wtok := e.login(t, e.url, adminUser, adminPass)   // the insured warehouse's admin
	ic, _ := e.login(t, e.url, inspector, inspectPass)    // a third party

	body := policyBody(orgWarehouse, e.gtin, lot)
	// Sign-in and CSRF first.
	wantProblem(t, e.jsonCall(nil, "", http.MethodGet, "/api/v1/policies", nil), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, e.jsonCall(ac, "", http.MethodPost, "/api/v1/policies", body), http.StatusForbidden, "csrf")
	wantProblem(t, e.jsonCall(ac, "wrong", http.MethodPost, "/api/v1/policies", body), http.StatusForbidden, "csrf")

	// Bad and hostile policies: refused before the ledger.
	before := len(e.policies(ac, ""))
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	terms := body["terms"].(map[string]any)
	for _, c := range []struct {
		what string
		body any
		want string
	}{
		{"already expired", with(body, "validUntil", past), "already be expired"},
		{"ends before it starts", with(with(body, "validFrom", "2027-12-01T00:00:00Z"), "validUntil", "2027-11-01T00:00:00Z"), "not after its start"},
		{"no end", with(body, "validUntil", nil), "validUntil"},
		{"not a time", with(body, "validUntil", "next Tuesday"), "RFC 3339"},
		{"control character", with(body, "insured", "NorthWarehouse\u0000MSP"), "not an organisation ID"},
		{"markup in an ID", with(body, "insured", `<img src=x onerror=alert(1)>`), "not an organisation ID"},
		{"itself", with(body, "insured", orgInsurer), "cannot insure itself"},
		{"nothing covered", with(body, "scope", map[string]any{}), "covered lots"},
		{"bad GTIN", with(body, "scope", map[string]any{"lots": []any{map[string]any{"gtin": "12345", "lot": lot}}}), "14 digits"},
		{"bad lot", with(body, "scope", map[string]any{"lots": []any{map[string]any{"gtin": e.gtin, "lot": "A B"}}}), "lot"},
		{"bad shipment", with(body, "scope", map[string]any{"shipments": []any{"pallet 7"}}), "SSCC"},
		{"lower-case currency", with(body, "terms", with(terms, "currency", "eur")), "ISO 4217"},
		{"negative payout", with(body, "terms", with(terms, "coldChain", map[string]any{"maxOutOfRangeMin": 60, "payout": -1})), "negative"},
		{"negative minutes", with(body, "terms", with(terms, "coldChain", map[string]any{"maxOutOfRangeMin": -5, "payout": 100})), "minutes"},
		{"negative manual cover", with(body, "terms", with(terms, "manualCover", -100)), "negative"},
		{"covers nothing", with(body, "terms", map[string]any{"currency": "EUR"}), "covers nothing"},
		{"payout as text", with(body, "terms", with(terms, "coldChain", map[string]any{"maxOutOfRangeMin": 60, "payout": "250000"})), "whole number"},
		{"a member the contract sets", with(body, "status", "active"), "unknown member"},
		{"an ID", with(body, "id", strings.Repeat("a", 32)), "unknown member"},
		{"trailing data", `{"insured": "x"} {"insured": "y"}`, "trailing"},
		{"not JSON", `insured=NorthWarehouseMSP`, "the body must be"},
		{"empty", ``, "JSON object"},
	} {
		d := webRefused(t, e.jsonCall(ac, atok, http.MethodPost, "/api/v1/policies", c.body), c.what)
		if !strings.Contains(d, c.want) {
			t.Errorf("%s: detail %q does not say %q", c.what, d, c.want)
		}
	}
	huge := with(body, "insured", strings.Repeat("A", 70<<10))
	wantProblem(t, e.jsonCall(ac, atok, http.MethodPost, "/api/v1/policies", huge), http.StatusRequestEntityTooLarge, "too-large")
	// Someone else's policy, and a policy by a non-insurer: the ledger
	// refuses (who may do what is the contract's).
	wantProblem(t, e.jsonCall(ac, atok, http.MethodPost, "/api/v1/policies", with(body, "insurer", "OtherInsurerMSP")), http.StatusForbidden, "forbidden")
	p := wantProblem(t, e.jsonCall(wc, wtok, http.MethodPost, "/api/v1/policies", with(body, "insured", orgHospital)), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, "only insurers issue policies") {
		t.Errorf("a warehouse issuing a policy: %q", d)
	}
	if n := len(e.policies(ac, "")); n != before {
		t.Fatalf("refused policies wrote to the ledger: %d policies, was %d", n, before)
	}

	// The insurer issues the policy.
	r := e.jsonCall(ac, atok, http.MethodPost, "/api/v1/policies", body)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("issue policy: %d %s", r.StatusCode, r.body)
	}
	var pol ledger.Policy
	r.json(t, &pol)
	if !hexID.MatchString(pol.ID) || pol.Insurer != orgInsurer || pol.Insured != orgWarehouse || pol.Status != ledger.PolicyActive ||
		pol.IssuedBy != assessor || pol.TxID == "" || len(pol.Scope.Lots) != 1 || pol.Scope.Lots[0].Lot != lot ||
		pol.Terms.ColdChain == nil || pol.Terms.ColdChain.Payout != 250000 || pol.Terms.ManualCover != 500000 {
		t.Fatalf("issued policy %+v", pol)
	}
	if loc := r.Header.Get("Location"); loc != "/insurance#policy-"+pol.ID {
		t.Errorf("Location %q", loc)
	}
	findPolicy := func(list []ledger.Policy) bool {
		for _, x := range list {
			if x.ID == pol.ID {
				return true
			}
		}
		return false
	}
	if !findPolicy(e.policies(wc, "")) || !findPolicy(e.policies(wc, "?as=insured")) || !findPolicy(e.policies(ac, "?as=insurer")) {
		t.Errorf("the policy is not listed for both parties")
	}
	if findPolicy(e.policies(ac, "?as=insured")) || findPolicy(e.policies(ic, "")) {
		t.Errorf("the policy is listed where it should not be")
	}
	wantProblem(t, e.jsonCall(ac, "", http.MethodGet, "/api/v1/policies?as=everyone", nil), http.StatusBadRequest, "invalid")

	// A manual claim by the insured, with bad variants first.
	lossAt := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	claim := map[string]any{"policy": pol.ID, "description": "Pallet dropped at dock door 2: three cases of vials broken.", "amount": 120000, "lossAt": lossAt}
	for _, c := range []struct {
		what string
		body any
		want string
	}{
		{"no policy", with(claim, "policy", nil), "policy"},
		{"bad policy ID", with(claim, "policy", "../../policies"), "not a policy ID"},
		{"negative amount", with(claim, "amount", -5), "negative"},
		{"no amount", with(claim, "amount", nil), "minor units"},
		{"fractional amount", with(claim, "amount", 12.5), "whole number"},
		{"no description", with(claim, "description", "   "), "description"},
		{"control character", with(claim, "description", "broken\u0007 vials"), "control character"},
		{"bidi override", with(claim, "description", "broken \u202evials"), "text-direction"},
		{"too long", with(claim, "description", strings.Repeat("x", 2001)), "under 2000"},
		{"loss in the future", with(claim, "lossAt", time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339)), "after now"},
		{"no loss time", with(claim, "lossAt", nil), "lossAt"},
		{"unknown evidence", with(claim, "evidence", []any{map[string]any{"eventID": "ni:///sha-256;" + strings.Repeat("0", 64) + "?ver=CBV2.0"}}), "evidence"},
		{"status set by the client", with(claim, "status", "settled"), "unknown member"},
		{"unknown kind", with(claim, "kind", "fire"), "kind"},
	} {
		d := webRefused(t, e.jsonCall(wc, wtok, http.MethodPost, "/api/v1/claims", c.body), c.what)
		if !strings.Contains(d, c.want) {
			t.Errorf("%s: detail %q does not say %q", c.what, d, c.want)
		}
	}
	// More than the cover: the contract's rule, refused by the ledger.
	p = wantProblem(t, e.jsonCall(wc, wtok, http.MethodPost, "/api/v1/claims", with(claim, "amount", 900000)), http.StatusBadRequest, "invalid")
	if d, _ := p["detail"].(string); !strings.Contains(d, "manualCover") {
		t.Errorf("claim above the cover: %q", d)
	}
	// The insurer is not the insured.
	wantProblem(t, e.jsonCall(ac, atok, http.MethodPost, "/api/v1/claims", claim), http.StatusForbidden, "forbidden")
	if n := len(e.claims(wc, "?policy="+pol.ID)); n != 0 {
		t.Fatalf("refused claims wrote %d claims to the ledger", n)
	}
	open := func(desc string, amount int64) ledger.Claim {
		t.Helper()
		r := e.jsonCall(wc, wtok, http.MethodPost, "/api/v1/claims", with(with(claim, "description", desc), "amount", amount))
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("open claim: %d %s", r.StatusCode, r.body)
		}
		var cl ledger.Claim
		r.json(t, &cl)
		return cl
	}
	c1 := open(claim["description"].(string), 120000)
	if !hexID.MatchString(c1.ID) || c1.Kind != ledger.ClaimManual || c1.Status != ledger.ClaimOpen || c1.Insured != orgWarehouse || c1.Insurer != orgInsurer ||
		c1.Amount != 120000 || c1.Currency != "EUR" || len(c1.History) != 1 || c1.History[0].Step != ledger.StepOpened || c1.History[0].By != adminUser || c1.TxID == "" {
		t.Fatalf("opened claim %+v", c1)
	}

	// Only the insurer settles: the insured may not, nor may a third party.
	settle := func(c *http.Client, tok, id string, body any) response {
		return e.jsonCall(c, tok, http.MethodPost, "/api/v1/claims/"+id+"/settle", body)
	}
	p = wantProblem(t, settle(wc, wtok, c1.ID, map[string]any{"amount": 120000, "note": "paying ourselves"}), http.StatusForbidden, "forbidden")
	if d, _ := p["detail"].(string); !strings.Contains(d, orgWarehouse) {
		t.Errorf("insured settling: %q", d)
	}
	wantProblem(t, e.jsonCall(ic, "", http.MethodGet, "/api/v1/claims/"+c1.ID, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, settle(ac, "", c1.ID, map[string]any{"amount": 100000}), http.StatusForbidden, "csrf")
	for _, c := range []struct {
		what string
		body any
		want string
	}{
		{"negative", map[string]any{"amount": -5}, "negative"},
		{"nothing", map[string]any{"amount": 0}, "reject the claim"},
		{"no amount", map[string]any{"note": "x"}, "amount"},
		{"amount as text", map[string]any{"amount": "100000"}, "whole number"},
		{"control character in the note", map[string]any{"amount": 100000, "note": "ok\u001b[31m"}, "control character"},
		{"unknown member", map[string]any{"amount": 100000, "paidTo": "IBAN"}, "unknown member"},
	} {
		d := webRefused(t, settle(ac, atok, c1.ID, c.body), "settle: "+c.what)
		if !strings.Contains(d, c.want) {
			t.Errorf("settle %s: detail %q does not say %q", c.what, d, c.want)
		}
	}
	webRefused(t, settle(ac, atok, "not-a-claim", map[string]any{"amount": 1}), "settle a malformed claim ID")
	wantProblem(t, settle(ac, atok, strings.Repeat("0", 32), map[string]any{"amount": 1}), http.StatusNotFound, "not-found")
	if cl := e.claims(wc, "?policy="+pol.ID); len(cl) != 1 || cl[0].Status != ledger.ClaimOpen || len(cl[0].History) != 1 {
		t.Fatalf("refused settlements changed the claim: %+v", cl)
	}
	r = settle(ac, atok, c1.ID, map[string]any{"amount": 100000, "note": "One case recovered intact."})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("settle: %d %s", r.StatusCode, r.body)
	}
	var s1 ledger.Claim
	r.json(t, &s1)
	if s1.Status != ledger.ClaimSettled || s1.Settled != 100000 || len(s1.History) != 2 || s1.History[1].Step != ledger.StepSettled ||
		s1.History[1].By != assessor || s1.History[1].Org != orgInsurer || s1.History[1].Note != "One case recovered intact." || s1.History[1].TxID == "" {
		t.Fatalf("settled claim %+v", s1)
	}
	// Settling twice: 409 from the contract, which says when and by whom.
	p = wantProblem(t, settle(ac, atok, c1.ID, map[string]any{"amount": 100000}), http.StatusConflict, "conflict")
	if d, _ := p["detail"].(string); !strings.Contains(d, "already settled") || !strings.Contains(d, assessor) {
		t.Errorf("second settlement: %q", d)
	}

	// A claim rejected with a reason.
	c2 := open("Cases stolen from the loading bay.", 80000)
	reject := func(c *http.Client, tok, id string, body any) response {
		return e.jsonCall(c, tok, http.MethodPost, "/api/v1/claims/"+id+"/reject", body)
	}
	webRefused(t, reject(ac, atok, c2.ID, map[string]any{"reason": "  "}), "reject without a reason")
	webRefused(t, reject(ac, atok, c2.ID, map[string]any{}), "reject without a reason member")
	webRefused(t, reject(ac, atok, c2.ID, map[string]any{"reason": strings.Repeat("r", 1001)}), "reject with an over-long reason")
	wantProblem(t, reject(wc, wtok, c2.ID, map[string]any{"reason": "we changed our mind"}), http.StatusForbidden, "forbidden")
	reason := "Theft is excluded: the loading bay was left open (clause 4.2)."
	r = reject(ac, atok, c2.ID, map[string]any{"reason": reason})
	var r2 ledger.Claim
	r.json(t, &r2)
	if r.StatusCode != http.StatusOK || r2.Status != ledger.ClaimRejected || len(r2.History) != 2 || r2.History[1].Note != reason || r2.Settled != 0 {
		t.Fatalf("reject: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, reject(ac, atok, c2.ID, map[string]any{"reason": "again"}), http.StatusConflict, "conflict")
	wantProblem(t, settle(ac, atok, c2.ID, map[string]any{"amount": 1}), http.StatusConflict, "conflict")

	// Both parties see every step; newest first.
	for _, c := range []*http.Client{ac, wc} {
		list := e.claims(c, "?policy="+pol.ID)
		if len(list) != 2 || list[0].ID != c2.ID || list[1].ID != c1.ID {
			t.Fatalf("claims of the policy, newest first: %+v", list)
		}
		var got ledger.Claim
		e.jsonCall(c, "", http.MethodGet, "/api/v1/claims/"+c1.ID, nil).json(t, &got)
		if got.Status != ledger.ClaimSettled || len(got.History) != 2 {
			t.Errorf("claim as a party sees it: %+v", got)
		}
	}
	if got := e.claims(wc, "?status=rejected&as=insured"); len(got) == 0 || got[0].Status != ledger.ClaimRejected {
		t.Errorf("rejected claims of the insured: %+v", got)
	}
	wantProblem(t, e.jsonCall(wc, "", http.MethodGet, "/api/v1/claims?status=lost", nil), http.StatusBadRequest, "invalid")
	wantProblem(t, e.jsonCall(wc, "", http.MethodGet, "/api/v1/claims/"+strings.Repeat("f", 32), nil), http.StatusNotFound, "not-found")

	// The pages: the insurer's and the insured's.
	hostile := open(`<script>alert("x")</script> broken seal`, 1000)
	ap := e.page(ac, "/insurance")
	for _, want := range []string{`id="policy-form"`, `id="assess"`, `id="policy-` + pol.ID + `"`, `id="claim-` + c1.ID + `"`, `id="claim-` + c2.ID + `"`,
		"Settled: €1,000.00 paid", "One case recovered intact.", "Rejected", "clause 4.2", `action="/insurance/claims/` + hostile.ID + `/settle"`,
		`action="/insurance/claims/` + hostile.ID + `/reject"`, "Pays €2,500.00 if a covered lot spends more than 1 h outside its storage range", "Other losses up to €5,000.00",
		"/api/v1/ledger/transactions/" + s1.History[1].TxID} {
		if !strings.Contains(ap, want) {
			t.Errorf("the insurer's page lacks %q", want)
		}
	}
	if strings.Contains(ap, `action="/insurance/claims/`+c1.ID+`/settle"`) {
		t.Errorf("a settled claim still has a settle form")
	}
	wp := e.page(wc, "/insurance")
	for _, want := range []string{`id="held"`, `id="policy-` + pol.ID + `"`, `id="claim-` + c1.ID + `"`, "Settled: €1,000.00 paid", "clause 4.2",
		`id="claim-form"`, "Being assessed", "&lt;script&gt;alert("} {
		if !strings.Contains(wp, want) {
			t.Errorf("the insured's page lacks %q", want)
		}
	}
	for _, bad := range []string{`<script>alert(`, `action="/insurance/claims/` + hostile.ID + `/settle"`, `id="policy-form"`} {
		if strings.Contains(wp, bad) || strings.Contains(ap, `<script>alert(`) {
			t.Errorf("the insured's page contains %q", bad)
		}
	}
}

// TestInsuranceForms: the page's forms post, redirect and show a flash;
// a mistake re-renders the page with a clear error and the user's input.
func TestInsuranceForms(t *testing.T) {
	e := shared(t)
	e.seedInsurance(t)
	lot := "INS-2611-02"
	e.newLot(t, lot)
	ac, atok := e.login(t, e.url, assessor, assessorPass)
	wc, wtok := e.login(t, e.url, adminUser, adminPass)

	form := url.Values{"_csrf": {atok}, "insured": {orgWarehouse}, "gtin": {e.gtin}, "lots": {lot}, "currency": {"EUR"}, "max_minutes": {"90"},
		"payout": {"1,800.50"}, "manual_cover": {"3000"}, "valid_from": {"2026-11-01T00:00"}, "valid_until": {"2020-01-01T00:00"}}
	before := len(e.policies(ac, ""))
	r := e.postForm(ac, "/insurance/policies", form)
	if s := string(r.body); r.StatusCode != http.StatusBadRequest || !strings.Contains(s, `id="policy-error"`) || !strings.Contains(s, "already be expired") ||
		!strings.Contains(s, `value="`+lot+`"`) || !strings.Contains(s, `value="1,800.50"`) {
		t.Fatalf("expired policy form: %d", r.StatusCode)
	}
	form.Set("valid_until", time.Now().AddDate(0, 6, 0).UTC().Format("2006-01-02T15:04"))
	form.Set("payout", "18.005")
	if r = e.postForm(ac, "/insurance/policies", form); r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.body), "2 decimal places") {
		t.Errorf("payout with three decimals: %d", r.StatusCode)
	}
	form.Set("payout", "1,800.50")
	form.Set("_csrf", "forged")
	if r = e.postForm(ac, "/insurance/policies", form); r.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF token: %d", r.StatusCode)
	}
	if n := len(e.policies(ac, "")); n != before {
		t.Fatalf("refused forms wrote to the ledger: %d policies, was %d", n, before)
	}
	form.Set("_csrf", atok)
	r = e.postForm(ac, "/insurance/policies", form)
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/insurance?issued=") {
		t.Fatalf("policy form: %d %q %.300s", r.StatusCode, loc, r.body)
	}
	polID := strings.TrimPrefix(strings.Split(loc, "#")[0], "/insurance?issued=")
	if s := e.page(ac, loc); !strings.Contains(s, `id="flash"`) || !strings.Contains(s, "Policy issued to North Logistics Warehouse") {
		t.Errorf("no flash after issuing a policy")
	}
	var pol ledger.Policy
	for _, p := range e.policies(wc, "?as=insured") {
		if p.ID == polID {
			pol = p
		}
	}
	if pol.Terms.ColdChain == nil || pol.Terms.ColdChain.Payout != 180050 || pol.Terms.ColdChain.MaxOutOfRangeMin != 90 || pol.Terms.ManualCover != 300000 ||
		!pol.ValidFrom.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the form's policy: %+v", pol)
	}

	// The insured's manual-claim form.
	cf := url.Values{"_csrf": {wtok}, "policy": {pol.ID}, "description": {""}, "amount": {"450.00"}, "loss_at": {time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")}}
	r = e.postForm(wc, "/insurance/claims", cf)
	if s := string(r.body); r.StatusCode != http.StatusBadRequest || !strings.Contains(s, `id="claim-error"`) || !strings.Contains(s, "description is empty") || !strings.Contains(s, `value="450.00"`) {
		t.Fatalf("claim form without a description: %d", r.StatusCode)
	}
	cf.Set("description", "Cold box lid cracked in transit.")
	cf.Set("amount", "4000")
	if r = e.postForm(wc, "/insurance/claims", cf); r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.body), "more than the policy") {
		t.Errorf("claim above the cover through the form: %d", r.StatusCode)
	}
	cf.Set("amount", "450.00")
	r = e.postForm(wc, "/insurance/claims", cf)
	loc = r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/insurance?claimed=") {
		t.Fatalf("claim form: %d %q %.300s", r.StatusCode, loc, r.body)
	}
	clID := strings.TrimPrefix(strings.Split(loc, "#")[0], "/insurance?claimed=")
	if s := e.page(wc, loc); !strings.Contains(s, "Claim for €450.00 opened") || !strings.Contains(s, `id="claim-`+clID+`"`) {
		t.Errorf("no flash after opening a claim")
	}

	// The insurer settles through the form; a second time is a clear error.
	sf := url.Values{"_csrf": {atok}, "amount": {"4,50"}, "note": {"Paid in full."}}
	r = e.postForm(ac, "/insurance/claims/"+clID+"/settle", sf)
	if s := string(r.body); r.StatusCode != http.StatusBadRequest || !strings.Contains(s, `id="decide-error-`+clID+`"`) || !strings.Contains(s, `value="4,50"`) {
		t.Fatalf("settle form with a bad amount: %d", r.StatusCode)
	}
	sf.Set("amount", "450")
	r = e.postForm(wc, "/insurance/claims/"+clID+"/settle", url.Values{"_csrf": {wtok}, "amount": {"450"}})
	if r.StatusCode != http.StatusForbidden || !strings.Contains(string(r.body), `id="decide-error`) {
		t.Errorf("the insured settling through the form: %d", r.StatusCode)
	}
	r = e.postForm(ac, "/insurance/claims/"+clID+"/settle", sf)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/insurance?settled="+clID+"#claim-"+clID {
		t.Fatalf("settle form: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if s := e.page(ac, r.Header.Get("Location")); !strings.Contains(s, "Claim settled for €450.00") {
		t.Errorf("no flash after settling")
	}
	r = e.postForm(ac, "/insurance/claims/"+clID+"/settle", sf)
	if s := string(r.body); r.StatusCode != http.StatusConflict || !strings.Contains(s, `id="decide-error-`+clID+`"`) || !strings.Contains(s, "already settled") {
		t.Errorf("settling twice through the form: %d", r.StatusCode)
	}
	r = e.postForm(ac, "/insurance/claims/"+clID+"/reject", url.Values{"_csrf": {atok}, "reason": {"too late"}})
	if r.StatusCode != http.StatusConflict {
		t.Errorf("rejecting a settled claim through the form: %d", r.StatusCode)
	}
	if s := e.page(wc, "/insurance"); !strings.Contains(s, "Settled: €450.00 paid") || !strings.Contains(s, "Paid in full.") {
		t.Errorf("the insured does not see the settlement")
	}
}

// TestInsuranceColdChainClaim is the parametric story on a ledger of its
// own: a policy on the lot, then the cold room's warm night; the gateway
// opens the claim with the excursion as evidence; the insurer sees the
// evidence and settles; the insured sees every step.
func TestInsuranceColdChainClaim(t *testing.T) {
	e := startEnv(t, t.TempDir())
	defer e.stop()
	e.seedInsurance(t)
	ac, atok := e.login(t, e.url, assessor, assessorPass)
	wc, _ := e.login(t, e.url, adminUser, adminPass)
	r := e.jsonCall(ac, atok, http.MethodPost, "/api/v1/policies", policyBody(orgWarehouse, e.gtin, testLot))
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("issue policy: %d %s", r.StatusCode, r.body)
	}
	var pol ledger.Policy
	r.json(t, &pol)

	e.seedHistory()
	e.waitExcursionsRecorded(2)
	var cl ledger.Claim
	waitForT(t, "the automatic cold-chain claim", func() bool {
		list := e.claims(ac, "?as=insurer")
		if len(list) > 0 {
			cl = list[0]
		}
		return len(list) > 0
	})
	if cl.Kind != ledger.ClaimColdChain || cl.Policy != pol.ID || cl.GTIN != e.gtin || cl.Lot != testLot || cl.Amount != 250000 ||
		cl.Status != ledger.ClaimOpen || cl.Excursion == "" || len(cl.Evidence) == 0 || cl.Insured != orgWarehouse {
		t.Fatalf("automatic claim %+v", cl)
	}
	var xs struct{ Excursions []ledger.Excursion }
	e.get("/api/v1/excursions?gtin="+e.gtin+"&lot="+testLot).json(t, &xs)
	var x *ledger.Excursion
	for i := range xs.Excursions {
		if xs.Excursions[i].ID == cl.Excursion {
			x = &xs.Excursions[i]
		}
	}
	if x == nil || !(x.CumulativeMin > 60) || x.TxID == "" {
		t.Fatalf("the claim's excursion %s: %+v", cl.Excursion, x)
	}
	time.Sleep(500 * time.Millisecond) // both excursions' events are handled: still one claim (paid once per lot)
	if list := e.claims(wc, "?policy="+pol.ID); len(list) != 1 {
		t.Errorf("%d cold-chain claims for one lot under one policy", len(list))
	}
	// The insured is alerted.
	var al struct{ Alerts []gateway.Alert }
	e.jsonCall(wc, "", http.MethodGet, "/api/v1/alerts", nil).json(t, &al)
	alerted := false
	for _, a := range al.Alerts {
		alerted = alerted || a.Kind == gateway.AlertClaimOpened && strings.Contains(a.Message, pol.ID)
	}
	if !alerted {
		t.Errorf("no claim-opened alert for the insured")
	}

	// The insurer's page: the evidence, linked to the passport and the
	// excursion's ledger transaction; settle through the form.
	ap := e.page(ac, "/insurance")
	for _, want := range []string{`id="claim-` + cl.ID + `"`, "Opened automatically", "Excursion evidence", `href="/01/` + e.gtin + `/10/` + testLot + `"`,
		`href="/api/v1/ledger/transactions/` + x.TxID + `"`, "North Warehouse cold room", "Cold-chain claim", `action="/insurance/claims/` + cl.ID + `/settle"`,
		`value="2500.00"`, `href="/events/` + url.PathEscape(cl.Evidence[0].EventID) + `"`} {
		if !strings.Contains(ap, want) {
			t.Errorf("the insurer's page lacks %q", want)
		}
	}
	r = e.postForm(ac, "/insurance/claims/"+cl.ID+"/settle", url.Values{"_csrf": {atok}, "amount": {"2500.00"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("settle: %d %.300s", r.StatusCode, r.body)
	}
	var got ledger.Claim
	e.jsonCall(wc, "", http.MethodGet, "/api/v1/claims/"+cl.ID, nil).json(t, &got)
	if got.Status != ledger.ClaimSettled || got.Settled != 250000 {
		t.Fatalf("settled claim %+v", got)
	}
	wp := e.page(wc, "/insurance")
	for _, want := range []string{"Opened automatically", "Assessed", "By " + assessor + " (SafeCover Mutual)", "Settled: €2,500.00 paid",
		`href="/api/v1/ledger/transactions/` + got.History[1].TxID + `"`, `href="/api/v1/ledger/transactions/` + got.History[0].TxID + `"`} {
		if !strings.Contains(wp, want) {
			t.Errorf("the insured's page lacks %q", want)
		}
	}
}

// TestBrowserInsurance looks at the insurance page as the insurer and as
// the insured, on a desktop and a phone, and settles a cold-chain claim
// in the browser.
func TestBrowserInsurance(t *testing.T) {
	e := shared(t)
	e.seedInsurance(t)
	e.waitExcursionsRecorded(2)
	ctx := context.Background()
	// A quality manager of the warehouse claims the excursion (the
	// gateway claims only under policies in force when it is recorded).
	quality := "quality.mira"
	if _, err := e.svc.Ledger().RegisterUser(ctx, ledger.Identity{Org: orgWarehouse, User: ledger.AdminUser}, ledger.User{Org: orgWarehouse, ID: quality, Role: ledger.RoleQuality}); err != nil {
		t.Fatalf("register %s: %v", quality, err)
	}
	if err := e.app.EnsureUser(quality, "quality password 1", orgWarehouse, ledger.RoleQuality); err != nil {
		t.Fatal(err)
	}
	ac, atok := e.login(t, e.url, assessor, assessorPass)
	qc, qtok := e.login(t, e.url, quality, "quality password 1")
	r := e.jsonCall(ac, atok, http.MethodPost, "/api/v1/policies", policyBody(orgWarehouse, e.gtin, testLot, recallLot))
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("policy: %d %s", r.StatusCode, r.body)
	}
	var pol ledger.Policy
	r.json(t, &pol)
	var xs struct{ Excursions []ledger.Excursion }
	e.get("/api/v1/excursions?gtin="+e.gtin+"&lot="+testLot).json(t, &xs)
	var x ledger.Excursion
	for _, c := range xs.Excursions {
		if c.CumulativeMin > x.CumulativeMin {
			x = c
		}
	}
	r = e.jsonCall(qc, qtok, http.MethodPost, "/api/v1/claims", map[string]any{"policy": pol.ID, "kind": "cold-chain", "excursion": x.ID})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("cold-chain claim: %d %s", r.StatusCode, r.body)
	}
	var cc ledger.Claim
	r.json(t, &cc)
	manual := func(desc string, amount int64) ledger.Claim {
		r := e.jsonCall(qc, qtok, http.MethodPost, "/api/v1/claims", map[string]any{"policy": pol.ID, "description": desc, "amount": amount,
			"lossAt": time.Now().Add(-26 * time.Hour).UTC().Format(time.RFC3339), "evidence": []any{map[string]any{"eventID": e.eventIDs[len(e.eventIDs)-1]}}})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("manual claim: %d %s", r.StatusCode, r.body)
		}
		var c ledger.Claim
		r.json(t, &c)
		return c
	}
	m1 := manual("Forklift damage at dock door 2: two cases of vials crushed while loading the pallet.", 96000)
	m2 := manual("Shipment short by one case on arrival at City Hospital.", 48000)
	if r := e.jsonCall(ac, atok, http.MethodPost, "/api/v1/claims/"+m1.ID+"/settle", map[string]any{"amount": 64000, "note": "One of the two cases was recovered intact; paying for one case and handling."}); r.StatusCode != 200 {
		t.Fatalf("settle: %d %s", r.StatusCode, r.body)
	}
	if r := e.jsonCall(ac, atok, http.MethodPost, "/api/v1/claims/"+m2.ID+"/reject", map[string]any{"reason": "The receiving scan at City Hospital counts every case of the shipment (see the proof event)."}); r.StatusCode != 200 {
		t.Fatalf("reject: %d %s", r.StatusCode, r.body)
	}

	b := newBrowser(t)
	b.signIn(e, assessor, assessorPass)
	b.do("insurer's page", chromedp.Navigate(e.url+"/insurance"), chromedp.WaitVisible(chromedp.CSS("#assess")))
	if n := b.count("#claim-" + cc.ID + " .evidence-box"); n != 1 {
		t.Errorf("the cold-chain claim shows %d evidence boxes", n)
	}
	b.shoot("insurance-insurer")
	b.shootParts("insurance-insurer", "#claim-"+cc.ID, "#issue-card")
	// Settle the cold-chain claim in the browser: redirected, with a flash.
	b.do("settle", chromedp.Submit(chromedp.CSS("#claim-"+cc.ID+" .settle-form")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if s := b.text("#flash"); !strings.Contains(s, "Claim settled for €2,500.00") {
		t.Errorf("flash after settling: %q", s)
	}
	if s := b.text("#claim-" + cc.ID + " .claim-status"); s != "Settled" {
		t.Errorf("claim status after settling: %q", s)
	}
	// A mistake in the issue form: the error and the input stay.
	b.do("issue with a past end", chromedp.Navigate(e.url+"/insurance"), chromedp.WaitVisible(chromedp.CSS("#policy-form")),
		chromedp.SetValue(chromedp.CSS("#p-insured"), orgHospital), chromedp.SetValue(chromedp.CSS("#p-gtin"), e.gtin),
		chromedp.SetValue(chromedp.CSS("#p-lots"), testLot), chromedp.SetValue(chromedp.CSS("#p-payout"), "1500"),
		chromedp.SetValue(chromedp.CSS("#p-until"), "2026-01-01T00:00"),
		chromedp.Submit(chromedp.CSS("#policy-form")), chromedp.WaitVisible(chromedp.CSS("#policy-error")))
	if s := b.text("#policy-error"); !strings.Contains(s, "already be expired") {
		t.Errorf("policy form error %q", s)
	}
	b.shootParts("insurance-error", "#issue-card")

	b.do("sign out", chromedp.Submit(chromedp.CSS(".who form")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.signIn(e, quality, "quality password 1")
	b.do("insured's page", chromedp.Navigate(e.url+"/insurance"), chromedp.WaitVisible(chromedp.CSS("#claims")))
	if n := b.count("#claim-" + cc.ID + " .step"); n < 3 {
		t.Errorf("the insured sees %d steps of the settled claim", n)
	}
	if n := b.count("#claims .decide-form"); n != 0 {
		t.Errorf("the insured sees %d settle/reject forms", n)
	}
	b.shoot("insurance-insured")
	b.shootParts("insurance-insured", "#claim-"+m2.ID, "#manual-card")
}
