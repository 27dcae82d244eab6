package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/ledger"
)

// Insurance: insurers issue policies on lots and shipments with
// cold-chain terms; the gateway opens a cold-chain claim when an anchored
// excursion matches one (gateway/claims.go); the insured opens manual
// claims for other losses; the insurer settles or rejects. The contract
// decides who may do what from its user registry: every write is made as
// the signed-in user of its organisation. This file checks the input
// first, so that bad input never reaches the ledger, and says clearly what
// is wrong, on the page and in the API. docs/insurance.md describes it.

func (a *App) insuranceRoutes(f *fiber.App, api fiber.Router) {
	api.Get("/policies", a.requireUser, a.policiesJSON)
	api.Post("/policies", a.requireUser, a.requireCSRF, a.postPolicy)
	api.Get("/claims", a.requireUser, a.claimsJSON)
	api.Post("/claims", a.requireUser, a.requireCSRF, a.postClaim)
	api.Get("/claims/:id", a.requireUser, a.claimJSON)
	api.Post("/claims/:id/settle", a.requireUser, a.requireCSRF, a.postSettle)
	api.Post("/claims/:id/reject", a.requireUser, a.requireCSRF, a.postReject)

	f.Get("/insurance", a.requireUser, a.insurancePage)
	f.Post("/insurance/policies", a.requireUser, a.requireCSRF, a.policySubmit)
	f.Post("/insurance/claims", a.requireUser, a.requireCSRF, a.claimSubmit)
	f.Post("/insurance/claims/:id/settle", a.requireUser, a.requireCSRF, a.settleSubmit)
	f.Post("/insurance/claims/:id/reject", a.requireUser, a.requireCSRF, a.rejectSubmit)
}

// ---- Input checks shared by insurance and sharing ----

// maxInputBody bounds the JSON bodies of the insurance and sharing API.
const maxInputBody = 64 << 10

// decodeInput decodes a JSON request body into v, refusing unknown
// members, trailing data and text that is not UTF-8. shape describes the
// expected body for the error.
func decodeInput(c *fiber.Ctx, v any, shape string) error {
	if err := requireJSON(c, fiber.MIMEApplicationJSON); err != nil {
		return err
	}
	body, err := readBody(c, maxInputBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("empty body", "send a JSON object: "+shape)
	}
	if !utf8.Valid(body) {
		return invalid("body is not UTF-8", "send the JSON object in UTF-8: "+shape)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("unreadable body", "the body must be "+shape+": "+jsonProblem(err))
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return invalid("unreadable body", "trailing data after the JSON object; the body must be "+shape)
	}
	return nil
}

// jsonProblem says what is wrong with a JSON body, in words.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s must be a %s, not a JSON %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown member " + f + " (the server sets it, or it does not exist)"
	}
	return strings.TrimPrefix(msg, "json: ")
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "whole number"
	case strings.HasPrefix(k, "float"):
		return "number"
	case k == "string":
		return "string"
	case k == "slice":
		return "list"
	case k == "struct", k == "map":
		return "object"
	}
	return k
}

// cleanText checks a free-text field and returns it trimmed: at most max
// bytes of UTF-8 without control characters (newlines and tabs only when
// multiline), and not blank when required.
func cleanText(field, s string, max int, required, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return s, invalid(field+" required", "the "+field+" is empty: fill it in")
	}
	if len(s) > max {
		return s, invalid(field+" too long", fmt.Sprintf("the %s has %d bytes; keep it under %d", field, len(s), max))
	}
	for _, r := range s {
		if r == utf8.RuneError {
			return s, invalid("invalid "+field, "the "+field+" is not valid UTF-8 text")
		}
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return s, invalid("invalid "+field, fmt.Sprintf("the %s contains the control character %U; remove it", field, r))
		}
		if unicode.Is(unicode.Bidi_Control, r) {
			return s, invalid("invalid "+field, fmt.Sprintf("the %s contains the text-direction control %U; remove it", field, r))
		}
	}
	return s, nil
}

// checkOrgID checks an organisation ID as the ledger spells them (its MSP
// ID): 1 to 128 bytes, no spaces, slashes or control characters.
func checkOrgID(field, s string) error {
	if s == "" {
		return invalid(field+" required", "name the "+field+" by its ledger ID (for example "+"CityHospitalMSP)")
	}
	if len(s) > 128 || !utf8.ValidString(s) {
		return invalid("invalid "+field, "the "+field+" is not an organisation ID (1 to 128 characters)")
	}
	for _, r := range s {
		if r == '/' || r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == '"' || r == '\'' {
			return invalid("invalid "+field, fmt.Sprintf("%q is not an organisation ID: it contains %q", truncateText(s, 40), r))
		}
	}
	return nil
}

// checkHexID checks a 32-hex record ID (policies, claims, grants).
func checkHexID(what, id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return invalid("invalid "+what+" ID", fmt.Sprintf("%q is not a %s ID (32 lowercase hex digits)", truncateText(id, 40), what))
	}
	return nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// checkGTINLot checks a GTIN (14 digits with its check digit) and, when
// given, a lot number (GS1 AI 10).
func checkGTINLot(gtin, lot string) error {
	if len(gtin) != 14 {
		return invalid("invalid GTIN", fmt.Sprintf("GTIN %q is not 14 digits", truncateText(gtin, 20)))
	}
	p := "/01/" + gtin
	if lot != "" {
		if len(lot) > 20 {
			return invalid("invalid lot", fmt.Sprintf("lot %q is longer than 20 characters", truncateText(lot, 24)))
		}
		p += "/10/" + url.PathEscape(lot)
	}
	if _, err := epc.ParseDigitalLink(p); err != nil {
		return invalid("invalid GTIN or lot", strings.TrimPrefix(err.Error(), "epc: "))
	}
	return nil
}

// parseInstant parses an RFC 3339 time ("" is the zero time).
func parseInstant(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, invalid("invalid "+field, fmt.Sprintf("%s %q is not an RFC 3339 time such as 2027-01-31T18:00:00Z", field, truncateText(s, 40)))
	}
	return t.UTC(), nil
}

// formInstant parses a time from a form (datetime-local or date inputs,
// in UTC) or RFC 3339.
func formInstant(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	r, err := formTime(s)
	if err != nil {
		return time.Time{}, invalid("invalid "+field, fmt.Sprintf("the %s %q is not a date and time (YYYY-MM-DD HH:MM, UTC)", field, truncateText(s, 40)))
	}
	return parseInstant(field, r)
}

// checkWindow checks a validity window [from, until) against now: until
// is required, after from and in the future.
func checkWindow(what string, from, until, now time.Time) error {
	if until.IsZero() {
		return invalid("validUntil required", "say until when the "+what+" is valid (validUntil)")
	}
	if !until.After(now) {
		return invalid(what+" already expired", fmt.Sprintf("the %s would already be expired: it is valid until %s, and it is now %s; choose an end in the future", what, fmtTime(until), fmtTime(now)))
	}
	if !until.After(from) {
		return invalid("validity ends before it starts", fmt.Sprintf("the %s would be valid until %s, which is not after its start %s", what, fmtTime(until), fmtTime(from)))
	}
	if until.Sub(now) > 10*366*24*time.Hour {
		return invalid("validity too long", fmt.Sprintf("the %s would be valid until %s; keep it within ten years", what, fmtTime(until)))
	}
	return nil
}

// formProblem turns an error into the sentence a form shows and its
// status; ok is false for server errors (the error page shows them).
func formProblem(err error) (int, string, bool) {
	p := problemOf(err, false)
	if p.Status >= 500 {
		return p.Status, "", false
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return p.Status, msg, true
}

// lookupOrg returns an organisation from the names cache, or from the
// ledger when the cache does not know it yet.
func (a *App) lookupOrg(ctx context.Context, id string) *ledger.Org {
	if id == "" {
		return nil
	}
	if o := a.names.org(ctx, id); o != nil {
		return o
	}
	if o, err := a.svc.Ledger().Org(ctx, a.svc.Config().Reader, id); err == nil {
		return &o
	}
	return nil
}

// orgName names an organisation for people (its ID when unknown).
func (a *App) orgName(ctx context.Context, id string) string {
	if o := a.lookupOrg(ctx, id); o != nil && o.Name != "" {
		return o.Name
	}
	return id
}

// orgChoices are the organisations a form offers, except the caller's
// (read from the ledger: a member registered a minute ago is offered).
func (a *App) orgChoices(ctx context.Context, self string, keep func(ledger.Org) bool) []kv {
	orgs, err := a.svc.Ledger().Orgs(ctx, a.svc.Config().Reader)
	if err != nil {
		orgs = a.names.allOrgs(ctx)
	}
	var out []kv
	for _, o := range orgs {
		if o.ID == self || keep != nil && !keep(o) {
			continue
		}
		out = append(out, kv{o.ID, o.Name + " (" + o.Kind + ")"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].V < out[j].V })
	return out
}

// ---- Policies ----

// policyInput is POST /api/v1/policies: ledger.Policy's client fields.
type policyInput struct {
	Insurer    string             `json:"insurer"`
	Insured    string             `json:"insured"`
	Scope      ledger.PolicyScope `json:"scope"`
	Terms      ledger.PolicyTerms `json:"terms"`
	ValidFrom  string             `json:"validFrom"`
	ValidUntil string             `json:"validUntil"`
}

const policyShape = `{"insured", "scope": {"lots": [{"gtin", "lot"}], "shipments": ["urn:epc:id:sscc:…"]}, "terms": {"currency", "coldChain": {"maxOutOfRangeMin", "payout"}, "manualCover"}, "validFrom", "validUntil"}`

// checkPolicy checks a policy before it goes to the ledger and returns it
// as the ledger takes it.
func (a *App) checkPolicy(s *session, in policyInput) (ledger.Policy, error) {
	p := ledger.Policy{Insurer: strings.TrimSpace(in.Insurer), Insured: strings.TrimSpace(in.Insured), Terms: in.Terms}
	if p.Insurer != "" && p.Insurer != s.Org {
		return p, errForbidden("insurers issue their own policies", fmt.Sprintf("you are signed in for %s; a policy of %s must be issued by one of its own users", s.Org, truncateText(p.Insurer, 40)))
	}
	p.Insurer = s.Org
	if err := checkOrgID("insured organisation", p.Insured); err != nil {
		return p, err
	}
	if p.Insured == s.Org {
		return p, invalid("an insurer cannot insure itself", "an insurer cannot insure itself: "+s.Org+" is the insurer; choose the insured organisation")
	}
	n := len(in.Scope.Lots) + len(in.Scope.Shipments)
	if n == 0 {
		return p, invalid("nothing covered", "name the covered lots (GTIN and lot) and/or shipments (SSCC)")
	}
	if n > 500 {
		return p, invalid("scope too large", fmt.Sprintf("the policy names %d lots and shipments; at most 500", n))
	}
	seen := map[string]bool{}
	for _, l := range in.Scope.Lots {
		l.GTIN, l.Lot = strings.TrimSpace(l.GTIN), strings.TrimSpace(l.Lot)
		if l.Lot == "" {
			return p, invalid("lot required", "every covered lot needs its GTIN and its lot number")
		}
		if err := checkGTINLot(l.GTIN, l.Lot); err != nil {
			return p, err
		}
		if k := l.GTIN + "\x00" + l.Lot; seen[k] {
			return p, invalid("lot named twice", fmt.Sprintf("lot %s of GTIN %s is named twice", l.Lot, l.GTIN))
		} else {
			seen[k] = true
		}
		p.Scope.Lots = append(p.Scope.Lots, l)
	}
	for _, sh := range in.Scope.Shipments {
		sh = strings.TrimSpace(sh)
		e, err := epc.ParseURI(sh)
		if err != nil || e.Scheme != epc.SSCC || !strings.HasPrefix(sh, "urn:epc:id:sscc:") {
			return p, invalid("invalid shipment", fmt.Sprintf("%q is not an SSCC (urn:epc:id:sscc:CompanyPrefix.SerialReference)", truncateText(sh, 60)))
		}
		if e.URI() != sh {
			return p, invalid("invalid shipment", fmt.Sprintf("write the shipment %s as %s", sh, e.URI()))
		}
		if seen[sh] {
			return p, invalid("shipment named twice", "shipment "+sh+" is named twice")
		}
		seen[sh] = true
		p.Scope.Shipments = append(p.Scope.Shipments, sh)
	}
	t := &p.Terms
	t.Currency = strings.TrimSpace(t.Currency)
	if len(t.Currency) != 3 || strings.Trim(t.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return p, invalid("invalid currency", fmt.Sprintf("currency %q is not an ISO 4217 code such as EUR", truncateText(t.Currency, 12)))
	}
	if t.ColdChain == nil && t.ManualCover == 0 {
		return p, invalid("the policy covers nothing", "the policy covers nothing: set cold-chain terms (minutes out of range and payout) and/or a manual cover for other losses")
	}
	if cc := t.ColdChain; cc != nil {
		if math.IsNaN(cc.MaxOutOfRangeMin) || cc.MaxOutOfRangeMin < 0 || cc.MaxOutOfRangeMin > 525600 {
			return p, invalid("invalid cold-chain terms", fmt.Sprintf("maxOutOfRangeMin %g is not a number of minutes from 0 to 525600 (a year)", cc.MaxOutOfRangeMin))
		}
		if err := checkMinor("coldChain.payout", cc.Payout, false); err != nil {
			return p, err
		}
	}
	if err := checkMinor("manualCover", t.ManualCover, true); err != nil {
		return p, err
	}
	var err error
	if p.ValidFrom, err = parseInstant("validFrom", in.ValidFrom); err != nil {
		return p, err
	}
	if p.ValidUntil, err = parseInstant("validUntil", in.ValidUntil); err != nil {
		return p, err
	}
	now := a.now().UTC()
	if p.ValidFrom.IsZero() {
		p.ValidFrom = now.Truncate(time.Second)
	}
	return p, checkWindow("policy", p.ValidFrom, p.ValidUntil, now)
}

// issuePolicy checks and issues a policy as the signed-in user.
func (a *App) issuePolicy(ctx context.Context, s *session, in policyInput) (ledger.Policy, error) {
	p, err := a.checkPolicy(s, in)
	if err != nil {
		return p, err
	}
	out, _, err := a.svc.Ledger().IssuePolicy(ctx, s.identity(), p)
	if err != nil {
		return out, err
	}
	a.log.Info("policy issued", "policy", out.ID, "insurer", out.Insurer, "insured", out.Insured, "user", s.User, "tx", out.TxID)
	return out, nil
}

// postPolicy is POST /api/v1/policies.
func (a *App) postPolicy(c *fiber.Ctx) error {
	var in policyInput
	if err := decodeInput(c, &in, policyShape); err != nil {
		return err
	}
	p, err := a.issuePolicy(c.UserContext(), c.Locals(localSession).(*session), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/insurance#policy-"+p.ID)
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, p)
}

// partyFilter reads ?as=insurer|insured.
func partyFilter(c *fiber.Ctx, org string) (string, string, error) {
	switch as := c.Query("as"); as {
	case "":
		return "", "", nil
	case ledger.ByInsurer, ledger.ByInsured:
		return as, org, nil
	default:
		return "", "", invalid("invalid as", fmt.Sprintf("as=%q: use as=insurer or as=insured", truncateText(as, 20)))
	}
}

// policiesJSON is GET /api/v1/policies[?as=insurer|insured]: the policies
// the caller's organisation is a party to, newest first.
func (a *App) policiesJSON(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	by, org, err := partyFilter(c, s.Org)
	if err != nil {
		return err
	}
	list, err := a.svc.Ledger().Policies(c.UserContext(), s.identity(), by, org)
	if err != nil {
		return err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].IssuedAt.After(list[j].IssuedAt) })
	if list == nil {
		list = []ledger.Policy{}
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"org": s.Org, "policies": list})
}

// ---- Claims ----

// claimInput is POST /api/v1/claims: a manual claim (or, for an excursion
// the gateway could not claim, a cold-chain one).
type claimInput struct {
	Policy      string               `json:"policy"`
	Kind        string               `json:"kind"`
	Excursion   string               `json:"excursion"`
	Description string               `json:"description"`
	Amount      int64                `json:"amount"`
	LossAt      string               `json:"lossAt"`
	Evidence    []ledger.EvidenceRef `json:"evidence"`
}

const claimShape = `{"policy", "description", "amount" (minor units), "lossAt" (RFC 3339), "evidence": [{"eventID"}]}`

// checkClaim checks a claim before it goes to the ledger.
func (a *App) checkClaim(ctx context.Context, in claimInput) (ledger.Claim, error) {
	cl := ledger.Claim{Policy: strings.TrimSpace(in.Policy), Kind: strings.TrimSpace(in.Kind)}
	if cl.Policy == "" {
		return cl, invalid("policy required", "name the policy the claim is made under")
	}
	if err := checkHexID("policy", cl.Policy); err != nil {
		return cl, err
	}
	if cl.Kind == "" {
		cl.Kind = ledger.ClaimManual
	}
	switch cl.Kind {
	case ledger.ClaimColdChain:
		cl.Excursion = strings.TrimSpace(in.Excursion)
		if err := checkHexID("excursion", cl.Excursion); err != nil {
			return cl, err
		}
		if in.Description != "" || in.Amount != 0 || in.LossAt != "" || len(in.Evidence) > 0 {
			return cl, invalid("a cold-chain claim names only its excursion", "the amount comes from the policy's terms and the evidence and time from the recorded excursion; leave description, amount, lossAt and evidence out")
		}
		return cl, nil
	case ledger.ClaimManual:
	default:
		return cl, invalid("invalid claim kind", fmt.Sprintf("kind %q is not manual or cold-chain", truncateText(cl.Kind, 20)))
	}
	if in.Excursion != "" {
		return cl, invalid("a manual claim names no excursion", "claim an excursion with kind cold-chain")
	}
	var err error
	if cl.Description, err = cleanText("description", in.Description, 2000, true, true); err != nil {
		return cl, err
	}
	if err := checkMinor("amount", in.Amount, false); err != nil {
		return cl, err
	}
	cl.Amount = in.Amount
	if strings.TrimSpace(in.LossAt) == "" {
		return cl, invalid("lossAt required", "say when the loss happened (lossAt)")
	}
	if cl.LossAt, err = parseInstant("lossAt", in.LossAt); err != nil {
		return cl, err
	}
	if now := a.now(); cl.LossAt.After(now.Add(5 * time.Minute)) {
		return cl, invalid("loss in the future", fmt.Sprintf("the loss at %s is after now (%s)", fmtTime(cl.LossAt), fmtTime(now)))
	}
	if len(in.Evidence) > 200 {
		return cl, invalid("too much evidence", fmt.Sprintf("%d evidence events; at most 200", len(in.Evidence)))
	}
	seen := map[string]bool{}
	for _, ev := range in.Evidence {
		ev.EventID = strings.TrimSpace(ev.EventID)
		if seen[ev.EventID] {
			return cl, invalid("evidence named twice", "event "+truncateText(ev.EventID, 100)+" is named twice")
		}
		seen[ev.EventID] = true
		r, err := a.svc.EventByID(ctx, ev.EventID)
		if err != nil {
			p := problemOf(err, false)
			if p.Status >= 500 {
				return cl, err
			}
			return cl, invalid("unknown evidence", fmt.Sprintf("evidence event %q is not a captured event: %s", truncateText(ev.EventID, 100), p.Detail))
		}
		if ev.Edge != "" && (ev.Edge != r.Edge || ev.Seq != r.Seq) {
			return cl, invalid("wrong evidence batch", fmt.Sprintf("event %s is in batch %d of %s, not %d of %s", r.EventID, r.Seq, r.Edge, ev.Seq, truncateText(ev.Edge, 40)))
		}
		cl.Evidence = append(cl.Evidence, ledger.EvidenceRef{EventID: r.EventID, Edge: r.Edge, Seq: r.Seq})
	}
	return cl, nil
}

// openClaim checks and opens a claim as the signed-in user.
func (a *App) openClaim(ctx context.Context, s *session, in claimInput) (ledger.Claim, error) {
	cl, err := a.checkClaim(ctx, in)
	if err != nil {
		return cl, err
	}
	out, _, err := a.svc.Ledger().OpenClaim(ctx, s.identity(), cl)
	if err != nil {
		return out, err
	}
	a.log.Info("claim opened", "claim", out.ID, "policy", out.Policy, "kind", out.Kind, "user", s.User, "org", s.Org, "tx", out.TxID)
	return out, nil
}

// postClaim is POST /api/v1/claims.
func (a *App) postClaim(c *fiber.Ctx) error {
	var in claimInput
	if err := decodeInput(c, &in, claimShape); err != nil {
		return err
	}
	cl, err := a.openClaim(c.UserContext(), c.Locals(localSession).(*session), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/claims/"+cl.ID)
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, cl)
}

// claimsJSON is GET /api/v1/claims[?as=insurer|insured][&policy=][&status=]:
// the claims the caller's organisation is a party to, newest first.
func (a *App) claimsJSON(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	by, val, err := partyFilter(c, s.Org)
	if err != nil {
		return err
	}
	if pol := c.Query("policy"); pol != "" {
		if by != "" {
			return invalid("one filter at a time", "use as= or policy=, not both")
		}
		if err := checkHexID("policy", pol); err != nil {
			return err
		}
		by, val = ledger.ByPolicy, pol
	}
	status := c.Query("status")
	if status != "" && !contains(ledger.ClaimStatuses, status) {
		return invalid("invalid status", fmt.Sprintf("status=%q: use %s", truncateText(status, 20), strings.Join(ledger.ClaimStatuses, ", ")))
	}
	list, err := a.svc.Ledger().Claims(c.UserContext(), s.identity(), by, val)
	if err != nil {
		return err
	}
	out := make([]ledger.Claim, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		if status == "" || list[i].Status == status {
			out = append(out, list[i])
		}
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"org": s.Org, "claims": out})
}

// claimJSON is GET /api/v1/claims/{id}.
func (a *App) claimJSON(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := checkHexID("claim", id); err != nil {
		return err
	}
	cl, err := a.svc.Ledger().Claim(c.UserContext(), c.Locals(localSession).(*session).identity(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, cl)
}

// settleClaim checks and settles a claim as the signed-in user.
func (a *App) settleClaim(ctx context.Context, s *session, id string, amount int64, note string) (ledger.Claim, error) {
	if err := checkHexID("claim", id); err != nil {
		return ledger.Claim{}, err
	}
	if amount < 0 {
		return ledger.Claim{}, invalid("negative amount", fmt.Sprintf("amount %d is negative; a settlement pays a whole number of minor units ≥ 1 (cents for EUR)", amount))
	}
	if amount == 0 {
		return ledger.Claim{}, invalid("nothing to pay", "a settlement pays at least 1 minor unit; to pay nothing, reject the claim with a reason")
	}
	if err := checkMinor("amount", amount, false); err != nil {
		return ledger.Claim{}, err
	}
	note, err := cleanText("note", note, 1000, false, true)
	if err != nil {
		return ledger.Claim{}, err
	}
	out, _, err := a.svc.Ledger().SettleClaim(ctx, s.identity(), id, amount, note)
	if err != nil {
		return out, err
	}
	a.log.Info("claim settled", "claim", id, "amount", amount, "user", s.User, "org", s.Org, "tx", out.History[len(out.History)-1].TxID)
	return out, nil
}

// rejectClaim checks and rejects a claim as the signed-in user.
func (a *App) rejectClaim(ctx context.Context, s *session, id, reason string) (ledger.Claim, error) {
	if err := checkHexID("claim", id); err != nil {
		return ledger.Claim{}, err
	}
	reason, err := cleanText("reason", reason, 1000, true, true)
	if err != nil {
		return ledger.Claim{}, err
	}
	out, _, err := a.svc.Ledger().RejectClaim(ctx, s.identity(), id, reason)
	if err != nil {
		return out, err
	}
	a.log.Info("claim rejected", "claim", id, "user", s.User, "org", s.Org, "tx", out.History[len(out.History)-1].TxID)
	return out, nil
}

// postSettle is POST /api/v1/claims/{id}/settle {"amount", "note"}.
func (a *App) postSettle(c *fiber.Ctx) error {
	var in struct {
		Amount *int64 `json:"amount"`
		Note   string `json:"note"`
	}
	if err := decodeInput(c, &in, `{"amount" (minor units, ≥ 1), "note"}`); err != nil {
		return err
	}
	if in.Amount == nil {
		return invalid("amount required", `give the amount paid, in minor units of the policy's currency: {"amount": 250000, "note": "…"}`)
	}
	cl, err := a.settleClaim(c.UserContext(), c.Locals(localSession).(*session), c.Params("id"), *in.Amount, in.Note)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, cl)
}

// postReject is POST /api/v1/claims/{id}/reject {"reason"}.
func (a *App) postReject(c *fiber.Ctx) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeInput(c, &in, `{"reason"}`); err != nil {
		return err
	}
	cl, err := a.rejectClaim(c.UserContext(), c.Locals(localSession).(*session), c.Params("id"), in.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, cl)
}

// ---- The insurance page ----

type policyForm struct {
	Insured, GTIN, Lots, Shipments, Currency, MaxMin, Payout, ManualCover, ValidFrom, ValidUntil string
}

type claimForm struct {
	Policy, Description, Amount, LossAt, Evidence string
}

// decideForm is a settle or reject form of one claim, with its error.
type decideForm struct {
	Action, Amount, Note, Reason, Error string
}

type insuranceView struct {
	Org, OrgName string
	Insurer      bool // the organisation is an insurer
	CanIssue     bool // and the user may issue and assess
	CanClaim     bool // the user may open claims for the organisation
	Role         string
	Flash        string
	FlashLink    string
	FlashText    string
	TopError     string // a decision that failed on a claim not listed here

	PolicyForm  policyForm
	PolicyError string
	Insureds    []kv
	ClaimForm   claimForm
	ClaimError  string
	Claimable   []kv // policies with manual cover, in force

	Issued   []policyRow // as insurer
	Held     []policyRow // as insured
	ToAssess []claimRow  // as insurer, open first
	Claims   []claimRow  // as insured

	Open, Settled, Rejected int
	Active                  int
	PaidText                string
}

type policyRow struct {
	ledger.Policy
	InsurerName, InsuredName string
	Lots                     []kv // label, passport link
	Shipments                []string
	ColdText, ManualText     string
	Validity, ValidityFull   string
	StatusClass              string
	Claims                   int
	Party, PartyRole         string // the other party, as the viewer sees it
}

type claimRow struct {
	ledger.Claim
	Title                    string
	KindText                 string
	Automatic                bool
	LotLink                  string
	AmountText, SettledText  string
	StatusClass              string
	InsurerName, InsuredName string
	LossText, OpenedText     string
	ShowDesc                 bool // the description says more than the title
	Steps                    []claimStep
	Excursion                *claimExcursion
	Evidence                 []evidenceRow
	CanDecide                bool
	Decide                   decideForm
	Currency                 string
	SettleAmount             string // the settle form's amount field
	CSRF                     string
}

type claimStep struct {
	Class, Title, Detail, Note, When, TxID string
}

type claimExcursion struct {
	ID, Summary, Where, When, Cumulative, TxID, Sensor string
	Breach                                             bool
}

type evidenceRow struct {
	EventID, Link, Short, Edge string
	Seq                        uint64
}

func policyStatusClass(st string) string {
	switch st {
	case ledger.PolicyActive:
		return "ok"
	case ledger.PolicyPending:
		return "warn"
	}
	return "muted"
}

func claimStatusClass(st string) string {
	switch st {
	case ledger.ClaimSettled:
		return "ok"
	case ledger.ClaimRejected:
		return "bad"
	}
	return "warn"
}

func (a *App) policyRow(ctx context.Context, p ledger.Policy) policyRow {
	r := policyRow{Policy: p, InsurerName: a.orgName(ctx, p.Insurer), InsuredName: a.orgName(ctx, p.Insured),
		Shipments: p.Scope.Shipments, StatusClass: policyStatusClass(p.Status)}
	r.Validity = p.ValidFrom.UTC().Format("2 Jan 2006") + " – " + p.ValidUntil.UTC().Format("2 Jan 2006")
	r.ValidityFull = fmtTime(p.ValidFrom) + " to " + fmtTime(p.ValidUntil) + " (until: exclusive)"
	for _, l := range p.Scope.Lots {
		label := "lot " + l.Lot
		if pr := a.names.product(ctx, l.GTIN); pr != nil {
			label = pr.Name + " · lot " + l.Lot
		}
		r.Lots = append(r.Lots, kv{label, epc.DigitalLink{GTIN: l.GTIN, Lot: l.Lot}.Path()})
	}
	if cc := p.Terms.ColdChain; cc != nil {
		r.ColdText = fmt.Sprintf("Pays %s if a covered lot spends more than %s outside its storage range", fmtMoney(cc.Payout, p.Terms.Currency), fmtMinutes(cc.MaxOutOfRangeMin))
	}
	if p.Terms.ManualCover > 0 {
		r.ManualText = "Other losses up to " + fmtMoney(p.Terms.ManualCover, p.Terms.Currency)
	}
	return r
}

func fmtMinutes(m float64) string {
	if m == math.Trunc(m) {
		return fmtDuration(time.Duration(m) * time.Minute)
	}
	return fmtNum(m) + " min"
}

func (a *App) claimRow(ctx context.Context, s *session, cl ledger.Claim, canDecide bool) claimRow {
	r := claimRow{Claim: cl, StatusClass: claimStatusClass(cl.Status), AmountText: fmtMoney(cl.Amount, cl.Currency),
		InsurerName: a.orgName(ctx, cl.Insurer), InsuredName: a.orgName(ctx, cl.Insured), Currency: cl.Currency,
		SettleAmount: majorAmount(cl.Amount, cl.Currency), CSRF: s.CSRF, LossText: fmtTime(cl.LossAt), OpenedText: fmtTime(cl.OpenedAt)}
	r.CanDecide = canDecide && cl.Status == ledger.ClaimOpen && cl.Insurer == s.Org
	if cl.Settled > 0 {
		r.SettledText = fmtMoney(cl.Settled, cl.Currency)
	}
	if cl.Kind == ledger.ClaimColdChain {
		r.Automatic = cl.OpenedBy == a.svc.Config().AnchorUser
		r.KindText = "Cold-chain claim"
		r.Title = "Cold-chain excursion"
	} else {
		r.KindText = "Manual claim"
		r.Title = firstLine(cl.Description, 90)
		r.ShowDesc = r.Title != strings.TrimSpace(cl.Description)
	}
	if cl.GTIN != "" && cl.Lot != "" {
		r.LotLink = epc.DigitalLink{GTIN: cl.GTIN, Lot: cl.Lot}.Path()
		label := "lot " + cl.Lot
		if pr := a.names.product(ctx, cl.GTIN); pr != nil {
			label = pr.Name + " · lot " + cl.Lot
		}
		r.Title = "Cold-chain excursion · " + label
	}
	if cl.Excursion != "" {
		ev := &claimExcursion{ID: cl.Excursion}
		if x, err := a.svc.Ledger().Excursion(ctx, a.svc.Config().Reader, cl.Excursion); err == nil {
			ev.TxID, ev.Sensor, ev.Breach = x.TxID, x.Sensor, x.Breach
			unit := "°C"
			if x.Unit == "A93" {
				unit = "% RH"
			}
			dir := "above"
			if x.PeakValue < x.LimitValue {
				dir = "below"
			}
			ev.Summary = fmt.Sprintf("%s %s %s for %s, peak %s %s", "Measured", dir, fmtNum(x.LimitValue)+" "+unit, fmtMinutes(x.DurationMin), fmtNum(x.PeakValue), unit)
			ev.When = fmtSpan(x.Start, x.End)
			ev.Where = a.placeLabel(ctx, x.Location)
			ev.Cumulative = fmtMinutes(x.CumulativeMin) + " out of range in all, as of this excursion"
		} else {
			ev.Summary = "The excursion record could not be read from the ledger."
		}
		r.Excursion = ev
	}
	for _, e := range cl.Evidence {
		r.Evidence = append(r.Evidence, evidenceRow{EventID: e.EventID, Link: "/events/" + url.PathEscape(e.EventID), Short: shortEventID(e.EventID), Edge: e.Edge, Seq: e.Seq})
	}
	// Every step, as both parties see it.
	anchorUser := a.svc.Config().AnchorUser
	for _, st := range cl.History {
		who := st.By + " (" + a.orgName(ctx, st.Org) + ")"
		switch st.Step {
		case ledger.StepOpened:
			step := claimStep{Class: "done", Title: "Opened", When: fmtTime(st.At), TxID: st.TxID}
			if cl.Kind == ledger.ClaimColdChain && st.By == anchorUser {
				step.Title = "Opened automatically"
				step.Detail = "The gateway opened it when the excursion was recorded on the ledger, claiming " + fmtMoney(st.Amount, cl.Currency) + " under the policy's cold-chain terms."
			} else {
				step.Detail = "By " + who + ", claiming " + fmtMoney(st.Amount, cl.Currency) + "."
			}
			r.Steps = append(r.Steps, step)
		case ledger.StepSettled:
			r.Steps = append(r.Steps,
				claimStep{Class: "done", Title: "Assessed", Detail: "By " + who + " for " + r.InsurerName + "."},
				claimStep{Class: "ok", Title: "Settled: " + fmtMoney(st.Amount, cl.Currency) + " paid", Note: st.Note, When: fmtTime(st.At), TxID: st.TxID})
		case ledger.StepRejected:
			r.Steps = append(r.Steps,
				claimStep{Class: "done", Title: "Assessed", Detail: "By " + who + " for " + r.InsurerName + "."},
				claimStep{Class: "bad", Title: "Rejected", Note: st.Note, When: fmtTime(st.At), TxID: st.TxID})
		}
	}
	if cl.Status == ledger.ClaimOpen {
		r.Steps = append(r.Steps,
			claimStep{Class: "current", Title: "Being assessed", Detail: r.InsurerName + " assesses the claim and its evidence."},
			claimStep{Class: "todo", Title: "Settled or rejected", Detail: "The decision and its reason are recorded on the ledger; both parties see it here."})
	}
	return r
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return truncateText(s, n)
}

func shortEventID(id string) string {
	h := strings.TrimPrefix(id, "ni:///sha-256;")
	h, _, _ = strings.Cut(h, "?")
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// insuranceState is what a failed form brings back to the page.
type insuranceState struct {
	policyForm  *policyForm
	policyError string
	claimForm   *claimForm
	claimError  string
	decideID    string
	decide      decideForm
	flash       string
	flashLink   string
	flashText   string
}

func (a *App) insurancePage(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	var st insuranceState
	q := func(k string) string {
		v := c.Query(k)
		if checkHexID("record", v) != nil {
			return ""
		}
		return v
	}
	switch {
	case q("issued") != "":
		if p, err := a.svc.Ledger().Policy(ctx, s.identity(), q("issued")); err == nil {
			st.flash = fmt.Sprintf("Policy issued to %s and recorded on the ledger.", a.orgName(ctx, p.Insured))
			st.flashLink, st.flashText = "#policy-"+p.ID, "See the policy"
		}
	case q("claimed") != "":
		if cl, err := a.svc.Ledger().Claim(ctx, s.identity(), q("claimed")); err == nil {
			st.flash = fmt.Sprintf("Claim for %s opened and recorded on the ledger. %s is told and assesses it.", fmtMoney(cl.Amount, cl.Currency), a.orgName(ctx, cl.Insurer))
			st.flashLink, st.flashText = "#claim-"+cl.ID, "Follow the claim"
		}
	case q("settled") != "":
		if cl, err := a.svc.Ledger().Claim(ctx, s.identity(), q("settled")); err == nil && cl.Status == ledger.ClaimSettled {
			st.flash = fmt.Sprintf("Claim settled for %s. %s sees the settlement and your note.", fmtMoney(cl.Settled, cl.Currency), a.orgName(ctx, cl.Insured))
			st.flashLink, st.flashText = "#claim-"+cl.ID, "See the claim"
		}
	case q("rejected") != "":
		if cl, err := a.svc.Ledger().Claim(ctx, s.identity(), q("rejected")); err == nil && cl.Status == ledger.ClaimRejected {
			st.flash = fmt.Sprintf("Claim rejected. %s sees the rejection and your reason.", a.orgName(ctx, cl.Insured))
			st.flashLink, st.flashText = "#claim-"+cl.ID, "See the claim"
		}
	}
	return a.renderInsurance(c, st)
}

func (a *App) renderInsurance(c *fiber.Ctx, st insuranceState) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	v := insuranceView{Org: s.Org, OrgName: a.orgName(ctx, s.Org), Role: s.Role,
		Flash: st.flash, FlashLink: st.flashLink, FlashText: st.flashText,
		PolicyError: st.policyError, ClaimError: st.claimError}
	if o := a.lookupOrg(ctx, s.Org); o != nil && o.Kind == ledger.OrgInsurer {
		v.Insurer = true
		v.CanIssue = s.Role == ledger.RoleInsurerAssessor || s.Role == ledger.RoleOrgAdmin
	}
	v.CanClaim = s.Role == ledger.RoleOrgAdmin || s.Role == ledger.RoleOperator || s.Role == ledger.RoleQuality
	now := a.now().UTC()
	v.PolicyForm = policyForm{Currency: "EUR", MaxMin: "60", ValidFrom: now.Format("2006-01-02T15:04"), ValidUntil: now.AddDate(1, 0, 0).Format("2006-01-02T15:04")}
	if st.policyForm != nil {
		v.PolicyForm = *st.policyForm
	}
	if st.claimForm != nil {
		v.ClaimForm = *st.claimForm
	}
	if v.CanIssue {
		v.Insureds = a.orgChoices(ctx, s.Org, func(o ledger.Org) bool { return o.Kind != ledger.OrgInsurer && o.Kind != ledger.OrgRegulator })
	}
	policies, err := a.svc.Ledger().Policies(ctx, s.identity(), "", "")
	if err != nil {
		return err
	}
	claims, err := a.svc.Ledger().Claims(ctx, s.identity(), "", "")
	if err != nil {
		return err
	}
	perPolicy := map[string]int{}
	paid := map[string]int64{}
	for _, cl := range claims {
		perPolicy[cl.Policy]++
	}
	for i := len(policies) - 1; i >= 0; i-- {
		p := policies[i]
		row := a.policyRow(ctx, p)
		row.Claims = perPolicy[p.ID]
		if p.Status == ledger.PolicyActive {
			v.Active++
		}
		if p.Insurer == s.Org {
			row.Party, row.PartyRole = row.InsuredName, "insured"
			v.Issued = append(v.Issued, row)
		} else {
			row.Party, row.PartyRole = row.InsurerName, "insurer"
			v.Held = append(v.Held, row)
			if p.Status == ledger.PolicyActive && p.Terms.ManualCover > 0 {
				v.Claimable = append(v.Claimable, kv{p.ID, fmt.Sprintf("%s · %s · up to %s", a.orgName(ctx, p.Insurer), policyLabel(row), fmtMoney(p.Terms.ManualCover, p.Terms.Currency))})
			}
		}
	}
	v.TopError = st.decide.Error
	for i := len(claims) - 1; i >= 0; i-- {
		cl := claims[i]
		row := a.claimRow(ctx, s, cl, v.CanIssue)
		if row.ID == st.decideID {
			row.Decide = st.decide
			if st.decide.Action == "settle" {
				row.SettleAmount = st.decide.Amount
			}
			v.TopError = ""
		}
		switch cl.Status {
		case ledger.ClaimOpen:
			v.Open++
		case ledger.ClaimSettled:
			v.Settled++
			paid[cl.Currency] += cl.Settled
		case ledger.ClaimRejected:
			v.Rejected++
		}
		if cl.Insurer == s.Org {
			v.ToAssess = append(v.ToAssess, row)
		} else {
			v.Claims = append(v.Claims, row)
		}
	}
	// Open claims first for the assessor, newest first within.
	sort.SliceStable(v.ToAssess, func(i, j int) bool {
		return v.ToAssess[i].Status == ledger.ClaimOpen && v.ToAssess[j].Status != ledger.ClaimOpen
	})
	var paidParts []string
	for cur, amt := range paid {
		paidParts = append(paidParts, fmtMoney(amt, cur))
	}
	sort.Strings(paidParts)
	v.PaidText = strings.Join(paidParts, " + ")
	if v.PaidText == "" {
		v.PaidText = "—"
	}
	return a.render(c, "insurance", pageData{Title: "Insurance", Nav: "insurance", Wide: true, Data: v})
}

func policyLabel(r policyRow) string {
	var parts []string
	for _, l := range r.Lots {
		parts = append(parts, l.K)
	}
	for _, sh := range r.Shipments {
		parts = append(parts, "shipment "+strings.TrimPrefix(sh, "urn:epc:id:sscc:"))
	}
	if len(parts) > 2 {
		parts = append(parts[:2], fmt.Sprintf("%d more", len(parts)-2))
	}
	return strings.Join(parts, ", ")
}

// failInsurance re-renders the page with a form's error (or returns a
// server error for the error page).
func (a *App) failInsurance(c *fiber.Ctx, err error, st insuranceState, set func(*insuranceState, string)) error {
	status, msg, ok := formProblem(err)
	if !ok {
		return err
	}
	set(&st, msg)
	c.Status(status)
	return a.renderInsurance(c, st)
}

// policySubmit is the issue-policy form.
func (a *App) policySubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	f := policyForm{Insured: c.FormValue("insured"), GTIN: c.FormValue("gtin"), Lots: c.FormValue("lots"), Shipments: c.FormValue("shipments"),
		Currency: strings.ToUpper(strings.TrimSpace(c.FormValue("currency"))), MaxMin: c.FormValue("max_minutes"), Payout: c.FormValue("payout"),
		ManualCover: c.FormValue("manual_cover"), ValidFrom: c.FormValue("valid_from"), ValidUntil: c.FormValue("valid_until")}
	st := insuranceState{policyForm: &f}
	fail := func(err error) error {
		return a.failInsurance(c, err, st, func(st *insuranceState, m string) { st.policyError = m })
	}
	in, err := policyFromForm(f)
	if err != nil {
		return fail(err)
	}
	p, err := a.issuePolicy(c.UserContext(), s, in)
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/insurance?issued="+p.ID+"#policy-"+p.ID, fiber.StatusSeeOther)
}

// splitList splits a form list on commas, semicolons and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

func policyFromForm(f policyForm) (policyInput, error) {
	in := policyInput{Insured: strings.TrimSpace(f.Insured), Terms: ledger.PolicyTerms{Currency: f.Currency}}
	gtin := strings.TrimSpace(f.GTIN)
	lots := splitList(f.Lots)
	if gtin != "" && len(lots) == 0 {
		return in, invalid("lot required", "give the lot numbers of GTIN "+truncateText(gtin, 20)+" that the policy covers")
	}
	if gtin == "" && len(lots) > 0 {
		return in, invalid("GTIN required", "give the GTIN of the covered lots")
	}
	for _, l := range lots {
		in.Scope.Lots = append(in.Scope.Lots, ledger.LotRef{GTIN: gtin, Lot: l})
	}
	in.Scope.Shipments = splitList(f.Shipments)
	if strings.TrimSpace(f.Payout) != "" {
		payout, err := parseMoney("payout", f.Payout, f.Currency)
		if err != nil {
			return in, err
		}
		mins, err := strconv.ParseFloat(strings.TrimSpace(f.MaxMin), 64)
		if err != nil || math.IsNaN(mins) || math.IsInf(mins, 0) {
			return in, invalid("invalid minutes", fmt.Sprintf("minutes out of range %q is not a number", truncateText(f.MaxMin, 20)))
		}
		in.Terms.ColdChain = &ledger.ColdChainTerms{MaxOutOfRangeMin: mins, Payout: payout}
	}
	if strings.TrimSpace(f.ManualCover) != "" {
		mc, err := parseMoney("manual cover", f.ManualCover, f.Currency)
		if err != nil {
			return in, err
		}
		in.Terms.ManualCover = mc
	}
	from, err := formInstant("start of cover", f.ValidFrom)
	if err != nil {
		return in, err
	}
	until, err := formInstant("end of cover", f.ValidUntil)
	if err != nil {
		return in, err
	}
	if !from.IsZero() {
		in.ValidFrom = from.Format(time.RFC3339)
	}
	if !until.IsZero() {
		in.ValidUntil = until.Format(time.RFC3339)
	}
	return in, nil
}

// claimSubmit is the manual-claim form.
func (a *App) claimSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	f := claimForm{Policy: c.FormValue("policy"), Description: c.FormValue("description"), Amount: c.FormValue("amount"),
		LossAt: c.FormValue("loss_at"), Evidence: c.FormValue("evidence")}
	st := insuranceState{claimForm: &f}
	fail := func(err error) error {
		return a.failInsurance(c, err, st, func(st *insuranceState, m string) { st.claimError = m })
	}
	pol := strings.TrimSpace(f.Policy)
	if err := checkHexID("policy", pol); err != nil {
		return fail(invalid("policy required", "choose the policy the claim is made under"))
	}
	p, err := a.svc.Ledger().Policy(ctx, s.identity(), pol)
	if err != nil {
		return fail(err)
	}
	amount, err := parseMoney("amount", f.Amount, p.Terms.Currency)
	if err != nil {
		return fail(err)
	}
	loss, err := formInstant("time of the loss", f.LossAt)
	if err != nil {
		return fail(err)
	}
	in := claimInput{Policy: pol, Kind: ledger.ClaimManual, Description: f.Description, Amount: amount}
	if !loss.IsZero() {
		in.LossAt = loss.Format(time.RFC3339)
	}
	for _, id := range strings.Fields(f.Evidence) {
		in.Evidence = append(in.Evidence, ledger.EvidenceRef{EventID: id})
	}
	cl, err := a.openClaim(ctx, s, in)
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/insurance?claimed="+cl.ID+"#claim-"+cl.ID, fiber.StatusSeeOther)
}

// settleSubmit is a claim's settle form.
func (a *App) settleSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	id := c.Params("id")
	f := decideForm{Action: "settle", Amount: c.FormValue("amount"), Note: c.FormValue("note")}
	st := insuranceState{decideID: id, decide: f}
	fail := func(err error) error {
		return a.failInsurance(c, err, st, func(st *insuranceState, m string) { st.decide.Error = m })
	}
	if err := checkHexID("claim", id); err != nil {
		return err
	}
	cl, err := a.svc.Ledger().Claim(ctx, s.identity(), id)
	if err != nil {
		return fail(err)
	}
	amount, err := parseMoney("amount", f.Amount, cl.Currency)
	if err != nil {
		return fail(err)
	}
	if _, err := a.settleClaim(ctx, s, id, amount, f.Note); err != nil {
		return fail(err)
	}
	return c.Redirect("/insurance?settled="+id+"#claim-"+id, fiber.StatusSeeOther)
}

// rejectSubmit is a claim's reject form.
func (a *App) rejectSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id := c.Params("id")
	f := decideForm{Action: "reject", Reason: c.FormValue("reason")}
	st := insuranceState{decideID: id, decide: f}
	if err := checkHexID("claim", id); err != nil {
		return err
	}
	if _, err := a.rejectClaim(c.UserContext(), s, id, f.Reason); err != nil {
		return a.failInsurance(c, err, st, func(st *insuranceState, m string) { st.decide.Error = m })
	}
	return c.Redirect("/insurance?rejected="+id+"#claim-"+id, fiber.StatusSeeOther)
}
