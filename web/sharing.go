package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// Data sharing: an organisation's admin grants another organisation
// time-limited access to a named scope of its data, for a stated purpose;
// the grantee reads it through /api/v1/shared/…, which the gateway allows
// only inside a live grant on the ledger and logs, allowed or refused, in
// the tamper-evident access log (gateway/sharing.go). The owner's admin
// revokes grants and reads the access log. docs/data-sharing.md
// describes it.

func (a *App) sharingRoutes(f *fiber.App, api fiber.Router) {
	api.Get("/grants", a.requireUser, a.grantsJSON)
	api.Post("/grants", a.requireUser, a.requireCSRF, a.postGrant)
	api.Get("/grants/:id", a.requireUser, a.grantJSON)
	api.Post("/grants/:id/revoke", a.requireUser, a.requireCSRF, a.postRevoke)
	api.Get("/access-log", a.requireUser, a.accessLogJSON)
	api.Get("/shared/:owner/receipts", a.requireUser, a.sharedReceipts)
	api.Get("/shared/:owner/lots/:gtin/:lot/sensors", a.requireUser, a.sharedLotSensors)
	api.Get("/shared/:owner/lots/:gtin/:lot/custody", a.requireUser, a.sharedLotCustody)
	api.Get("/shared/:owner/alerts", a.requireUser, a.sharedAlerts)

	f.Get("/sharing", a.requireUser, a.sharingPage)
	f.Post("/sharing/grants", a.requireUser, a.requireCSRF, a.grantSubmit)
	f.Post("/sharing/grants/:id/revoke", a.requireUser, a.requireCSRF, a.revokeSubmit)
}

// grantKindLabels say what each grant scope kind shares.
var grantKindLabels = map[string]string{
	ledger.GrantReceipts:   "Receipt records: goods received at its sites",
	ledger.GrantLotSensors: "Sensor history of a lot while it held it",
	ledger.GrantLotCustody: "Custody of a lot at its sites",
	ledger.GrantAlerts:     "Its alerts",
}

// scopeLabel describes a grant scope for people.
func (a *App) scopeLabel(ctx context.Context, sc ledger.GrantScope) string {
	var t string
	switch sc.Kind {
	case ledger.GrantReceipts:
		t = "Receipt records"
	case ledger.GrantLotSensors:
		t = "Sensor history"
	case ledger.GrantLotCustody:
		t = "Custody"
	case ledger.GrantAlerts:
		t = "Alerts"
	default:
		t = sc.Kind
	}
	product := "GTIN " + sc.GTIN
	if p := a.names.product(ctx, sc.GTIN); p != nil {
		product = p.Name
	}
	switch {
	case sc.Lot != "":
		t += " of " + product + " · lot " + sc.Lot
	case sc.GTIN != "":
		t += " of every lot of " + product
	case sc.Kind == ledger.GrantLotSensors || sc.Kind == ledger.GrantLotCustody:
		t += " of every lot"
	}
	return t
}

// ---- Grants ----

// grantInput is POST /api/v1/grants.
type grantInput struct {
	Owner      string            `json:"owner"`
	Grantee    string            `json:"grantee"`
	Scope      ledger.GrantScope `json:"scope"`
	Purpose    string            `json:"purpose"`
	ValidFrom  string            `json:"validFrom"`
	ValidUntil string            `json:"validUntil"`
}

const grantShape = `{"grantee", "scope": {"kind": "receipts"|"lot-sensors"|"lot-custody"|"alerts", "gtin", "lot"}, "purpose", "validFrom" (optional, RFC 3339), "validUntil" (RFC 3339)}`

// checkGrantInput checks a grant before it goes to the ledger.
func (a *App) checkGrantInput(s *session, in grantInput) (ledger.Grant, error) {
	g := ledger.Grant{Owner: strings.TrimSpace(in.Owner), Grantee: strings.TrimSpace(in.Grantee)}
	if g.Owner != "" && g.Owner != s.Org {
		return g, errForbidden("only the owner grants access", fmt.Sprintf("you are signed in for %s; access to the data of %s is granted by its own admin", s.Org, truncateText(g.Owner, 40)))
	}
	g.Owner = s.Org
	if err := checkOrgID("grantee", g.Grantee); err != nil {
		return g, err
	}
	if g.Grantee == s.Org {
		return g, invalid("no grant needed", "your organisation reads its own data without a grant; choose another organisation")
	}
	sc := ledger.GrantScope{Kind: strings.TrimSpace(in.Scope.Kind), GTIN: strings.TrimSpace(in.Scope.GTIN), Lot: strings.TrimSpace(in.Scope.Lot)}
	if sc.Kind == "" {
		return g, invalid("scope required", "say what the grant shares: scope.kind is one of "+strings.Join(ledger.GrantKinds, ", "))
	}
	if !contains(ledger.GrantKinds, sc.Kind) {
		return g, invalid("invalid scope", fmt.Sprintf("scope kind %q is not one of %s", truncateText(sc.Kind, 30), strings.Join(ledger.GrantKinds, ", ")))
	}
	switch sc.Kind {
	case ledger.GrantReceipts, ledger.GrantAlerts:
		if sc.GTIN != "" || sc.Lot != "" {
			return g, invalid("invalid scope", "a "+sc.Kind+" grant shares all of them: leave the GTIN and lot empty (they apply to lot-sensors and lot-custody)")
		}
	default:
		if sc.Lot != "" && sc.GTIN == "" {
			return g, invalid("GTIN required", "a lot is named within its product: give the GTIN with the lot")
		}
		if sc.GTIN != "" {
			if err := checkGTINLot(sc.GTIN, sc.Lot); err != nil {
				return g, err
			}
		}
	}
	g.Scope = sc
	var err error
	if g.Purpose, err = cleanText("purpose", in.Purpose, 1000, true, true); err != nil {
		return g, err
	}
	if g.ValidFrom, err = parseInstant("validFrom", in.ValidFrom); err != nil {
		return g, err
	}
	if g.ValidUntil, err = parseInstant("validUntil", in.ValidUntil); err != nil {
		return g, err
	}
	now := a.now().UTC()
	from := g.ValidFrom
	if from.IsZero() {
		from = now
	}
	return g, checkWindow("grant", from, g.ValidUntil, now)
}

// grantAccess checks and records a grant as the signed-in user.
func (a *App) grantAccess(ctx context.Context, s *session, in grantInput) (ledger.Grant, error) {
	g, err := a.checkGrantInput(s, in)
	if err != nil {
		return g, err
	}
	out, _, err := a.svc.Ledger().GrantAccess(ctx, s.identity(), g)
	if err != nil {
		return out, err
	}
	a.log.Info("access granted", "grant", out.ID, "owner", out.Owner, "grantee", out.Grantee, "kind", out.Scope.Kind, "user", s.User, "tx", out.TxID)
	return out, nil
}

// revokeGrant checks and revokes a grant as the signed-in user.
func (a *App) revokeGrant(ctx context.Context, s *session, id, reason string) (ledger.Grant, error) {
	if err := checkHexID("grant", id); err != nil {
		return ledger.Grant{}, err
	}
	reason, err := cleanText("reason", reason, 1000, true, true)
	if err != nil {
		return ledger.Grant{}, err
	}
	out, _, err := a.svc.Ledger().RevokeGrant(ctx, s.identity(), id, reason)
	if err != nil {
		return out, err
	}
	a.log.Info("access revoked", "grant", id, "owner", out.Owner, "grantee", out.Grantee, "user", s.User)
	return out, nil
}

// postGrant is POST /api/v1/grants.
func (a *App) postGrant(c *fiber.Ctx) error {
	var in grantInput
	if err := decodeInput(c, &in, grantShape); err != nil {
		return err
	}
	g, err := a.grantAccess(c.UserContext(), c.Locals(localSession).(*session), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/grants/"+g.ID)
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, g)
}

// postRevoke is POST /api/v1/grants/{id}/revoke {"reason"}.
func (a *App) postRevoke(c *fiber.Ctx) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeInput(c, &in, `{"reason"}`); err != nil {
		return err
	}
	g, err := a.revokeGrant(c.UserContext(), c.Locals(localSession).(*session), c.Params("id"), in.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, g)
}

// grantsJSON is GET /api/v1/grants: the grants the caller's organisation
// gave and received, newest first.
func (a *App) grantsJSON(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	given, received, err := a.grantsOf(c.UserContext(), s)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"org": s.Org, "given": given, "received": received})
}

func (a *App) grantsOf(ctx context.Context, s *session) (given, received []ledger.Grant, err error) {
	list, err := a.svc.Ledger().Grants(ctx, s.identity(), "", "")
	if err != nil {
		return nil, nil, err
	}
	given, received = []ledger.Grant{}, []ledger.Grant{}
	for i := len(list) - 1; i >= 0; i-- {
		switch {
		case list[i].Owner == s.Org:
			given = append(given, list[i])
		case list[i].Grantee == s.Org:
			received = append(received, list[i])
		}
	}
	return given, received, nil
}

// grantJSON is GET /api/v1/grants/{id} (its owner and grantee only).
func (a *App) grantJSON(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := checkHexID("grant", id); err != nil {
		return err
	}
	g, err := a.svc.Ledger().Grant(c.UserContext(), c.Locals(localSession).(*session).identity(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, g)
}

// requireOwnerAdmin: the access log is the owner admin's.
func requireOwnerAdmin(s *session) error {
	if s.Role != ledger.RoleOrgAdmin {
		return errForbidden("the organisation's admin only", "the access log of "+s.Org+"'s data is read by its org-admin; you are signed in as "+s.Role)
	}
	return nil
}

// accessLogJSON is GET /api/v1/access-log[?limit=]: who read what of the
// caller's organisation's data, allowed or refused, newest first, each
// entry with its seal, anchor and verification state.
func (a *App) accessLogJSON(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	if err := requireOwnerAdmin(s); err != nil {
		return err
	}
	limit, err := limitParam(c, 200, 1000)
	if err != nil {
		return err
	}
	entries, err := a.svc.AccessLog(c.UserContext(), s.Org, limit)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []gateway.AccessLogEntry{}
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"owner": s.Org, "entries": entries})
}

// ---- Shared reads ----

// sharedOwner reads the {owner} of a shared-data path: a registered
// organisation.
func (a *App) sharedOwner(c *fiber.Ctx) (string, error) {
	owner, err := url.PathUnescape(c.Params("owner"))
	if err != nil {
		return "", invalid("invalid owner", "the owner path segment is not well-formed")
	}
	if err := checkOrgID("owner", owner); err != nil {
		return "", err
	}
	if a.lookupOrg(c.UserContext(), owner) == nil {
		return "", notFound("no such organisation", fmt.Sprintf("%s is not an organisation registered on the ledger", owner))
	}
	return owner, nil
}

// sharedRead serves owner's data of a scope to the signed-in user through
// the gateway's grant check and access log.
func (a *App) sharedRead(c *fiber.Ctx, owner string, scope ledger.GrantScope, read func(ctx context.Context) (any, error)) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	var out any
	resource := truncateText(c.OriginalURL(), 512)
	err := a.svc.SharedRead(ctx, s.identity(), owner, scope, resource, func() error {
		v, err := read(ctx)
		out = v
		return err
	})
	if err != nil {
		var ge *gateway.Error
		if errors.As(err, &ge) && ge.Kind == gateway.KindForbidden {
			extra := map[string]any{"owner": owner, "grantee": s.Org, "scope": scope}
			for k, v := range ge.Extra {
				extra[k] = v
			}
			ge.Extra = extra
		}
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, out)
}

// sharedReceipts is GET /api/v1/shared/{owner}/receipts[?limit=].
func (a *App) sharedReceipts(c *fiber.Ctx) error {
	owner, err := a.sharedOwner(c)
	if err != nil {
		return err
	}
	limit, err := limitParam(c, 200, 1000)
	if err != nil {
		return err
	}
	return a.sharedRead(c, owner, ledger.GrantScope{Kind: ledger.GrantReceipts}, func(ctx context.Context) (any, error) {
		return a.svc.Receipts(ctx, owner, limit)
	})
}

// sharedLotSensors is GET /api/v1/shared/{owner}/lots/{gtin}/{lot}/sensors.
func (a *App) sharedLotSensors(c *fiber.Ctx) error {
	return a.sharedLot(c, ledger.GrantLotSensors, func(ctx context.Context, owner, gtin, lot string) (any, error) {
		return a.svc.OwnedLotSensors(ctx, owner, gtin, lot)
	})
}

// sharedLotCustody is GET /api/v1/shared/{owner}/lots/{gtin}/{lot}/custody.
func (a *App) sharedLotCustody(c *fiber.Ctx) error {
	return a.sharedLot(c, ledger.GrantLotCustody, func(ctx context.Context, owner, gtin, lot string) (any, error) {
		steps, err := a.svc.OwnedLotCustody(ctx, owner, gtin, lot)
		if steps == nil {
			steps = []gateway.CustodyStep{}
		}
		return map[string]any{"owner": owner, "gtin": gtin, "lot": lot, "steps": steps}, err
	})
}

// sharedLot serves a lot's data of one scope kind from a
// /api/v1/shared/{owner}/lots/{gtin}/{lot}/… path.
func (a *App) sharedLot(c *fiber.Ctx, kind string, read func(ctx context.Context, owner, gtin, lot string) (any, error)) error {
	owner, err := a.sharedOwner(c)
	if err != nil {
		return err
	}
	dl, err := a.lotParams(c)
	if err != nil {
		return err
	}
	return a.sharedRead(c, owner, ledger.GrantScope{Kind: kind, GTIN: dl.GTIN, Lot: dl.Lot}, func(ctx context.Context) (any, error) {
		return read(ctx, owner, dl.GTIN, dl.Lot)
	})
}

// sharedAlerts is GET /api/v1/shared/{owner}/alerts[?limit=].
func (a *App) sharedAlerts(c *fiber.Ctx) error {
	owner, err := a.sharedOwner(c)
	if err != nil {
		return err
	}
	limit, err := limitParam(c, 100, 1000)
	if err != nil {
		return err
	}
	return a.sharedRead(c, owner, ledger.GrantScope{Kind: ledger.GrantAlerts}, func(ctx context.Context) (any, error) {
		list, err := a.svc.Alerts(owner, limit)
		if list == nil {
			list = []gateway.Alert{}
		}
		return map[string]any{"owner": owner, "alerts": list}, err
	})
}

// sharedLinks are the API paths that read a grant's data ("" when the
// grant covers every lot: the reader names one).
func sharedLinks(g ledger.Grant) (link, pattern string) {
	base := "/api/v1/shared/" + url.PathEscape(g.Owner)
	switch g.Scope.Kind {
	case ledger.GrantReceipts:
		return base + "/receipts", ""
	case ledger.GrantAlerts:
		return base + "/alerts", ""
	}
	tail := "/sensors"
	if g.Scope.Kind == ledger.GrantLotCustody {
		tail = "/custody"
	}
	if g.Scope.Lot != "" {
		return base + "/lots/" + g.Scope.GTIN + "/" + url.PathEscape(g.Scope.Lot) + tail, ""
	}
	gtin := "{gtin}"
	if g.Scope.GTIN != "" {
		gtin = g.Scope.GTIN
	}
	return "", base + "/lots/" + gtin + "/{lot}" + tail
}

// ---- The sharing page ----

type grantForm struct {
	Grantee, Kind, GTIN, Lot, Purpose, ValidFrom, ValidUntil string
}

type grantRow struct {
	ledger.Grant
	OwnerName, GranteeName string
	ScopeText, KindText    string
	From, Until            string
	StatusClass            string
	Live                   bool // pending or active: revocable, readable
	ReadLink, ReadPattern  string
	PassportLink           string
	RevokedWhen            string
	RevokeReason           string
	RevokeError            string
	CSRF                   string
}

type accessRow struct {
	gateway.AccessLogEntry
	When, ReaderOrg, ScopeText string
	ProofClass, ProofText      string
	Why                        string // the reason of a refusal, without what the other columns say
}

type sharingView struct {
	Org, OrgName, Role string
	Admin              bool
	Flash              string
	FlashLink          string

	Form     grantForm
	Error    string
	TopError string // a revoke that failed on a grant not listed here
	Orgs     []kv
	Kinds    []kv
	Given    []grantRow
	Recvd    []grantRow
	Log      []accessRow
	LogErr   string

	Allowed, Refused, Unproven int
	ActiveGiven, ActiveRecvd   int
}

func grantStatusClass(st string) string {
	switch st {
	case ledger.GrantActive:
		return "ok"
	case ledger.GrantPending:
		return "warn"
	case ledger.GrantRevoked:
		return "bad"
	}
	return "muted"
}

func (a *App) grantRow(ctx context.Context, g ledger.Grant) grantRow {
	r := grantRow{Grant: g, OwnerName: a.orgName(ctx, g.Owner), GranteeName: a.orgName(ctx, g.Grantee),
		ScopeText: a.scopeLabel(ctx, g.Scope), KindText: grantKindLabels[g.Scope.Kind],
		From: fmtTime(g.ValidFrom), Until: fmtTime(g.ValidUntil), StatusClass: grantStatusClass(g.Status),
		Live: g.Status == ledger.GrantActive || g.Status == ledger.GrantPending}
	r.ReadLink, r.ReadPattern = sharedLinks(g)
	if g.Scope.Lot != "" {
		r.PassportLink = epc.DigitalLink{GTIN: g.Scope.GTIN, Lot: g.Scope.Lot}.Path()
	}
	if g.Revoked != nil {
		r.RevokedWhen = fmtTime(g.Revoked.At)
	}
	return r
}

func (a *App) accessRow(ctx context.Context, e gateway.AccessLogEntry) accessRow {
	r := accessRow{AccessLogEntry: e, When: fmtTime(e.At), ScopeText: a.scopeLabel(ctx, e.Scope)}
	r.ReaderOrg = a.orgName(ctx, e.Grantee)
	r.Why = e.Reason
	// The contract's reason starts with who may not read what at when
	// ("org X may not read … at <time>: why"); the row says that already.
	if i := strings.Index(r.Why, "Z: "); i > 0 && strings.Contains(r.Why[:i], " may not read ") {
		r.Why = r.Why[i+3:]
	}
	if r.Why != "" {
		r.Why = strings.ToUpper(r.Why[:1]) + r.Why[1:]
	}
	switch {
	case e.Verified:
		r.ProofClass, r.ProofText = "ok", "Sealed · anchored · verified"
	case e.Problem != "":
		r.ProofClass, r.ProofText = "bad", "Verification failed"
	case e.Anchored:
		r.ProofClass, r.ProofText = "warn", "Sealed · anchored · checking"
	case e.Sealed:
		r.ProofClass, r.ProofText = "warn", "Sealed · anchoring…"
	default:
		r.ProofClass, r.ProofText = "warn", "Logged · sealing…"
	}
	return r
}

// sharingState is what a failed form brings back to the page.
type sharingState struct {
	form                              *grantForm
	err                               string
	revokeID, revokeReason, revokeErr string
	flash, flashLink                  string
}

func (a *App) sharingPage(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	var st sharingState
	if id := c.Query("granted"); checkHexID("grant", id) == nil {
		if g, err := a.svc.Ledger().Grant(ctx, s.identity(), id); err == nil {
			st.flash = fmt.Sprintf("%s may now read %s of %s, until %s. Every read is logged below.",
				a.orgName(ctx, g.Grantee), lowerFirst(a.scopeLabel(ctx, g.Scope)), a.orgName(ctx, g.Owner), fmtTime(g.ValidUntil))
			st.flashLink = "#grant-" + g.ID
		}
	} else if id := c.Query("revoked"); checkHexID("grant", id) == nil {
		if g, err := a.svc.Ledger().Grant(ctx, s.identity(), id); err == nil && g.Revoked != nil {
			st.flash = fmt.Sprintf("Access revoked: %s can no longer read %s. Reads from now on are refused and logged.",
				a.orgName(ctx, g.Grantee), lowerFirst(a.scopeLabel(ctx, g.Scope)))
			st.flashLink = "#grant-" + g.ID
		}
	}
	return a.renderSharing(c, st)
}

func (a *App) renderSharing(c *fiber.Ctx, st sharingState) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	now := a.now().UTC()
	v := sharingView{Org: s.Org, OrgName: a.orgName(ctx, s.Org), Role: s.Role, Admin: s.Role == ledger.RoleOrgAdmin,
		Flash: st.flash, FlashLink: st.flashLink, Error: st.err,
		Form: grantForm{Kind: ledger.GrantReceipts, ValidUntil: now.Add(30 * 24 * time.Hour).Format("2006-01-02T15:04")}}
	if st.form != nil {
		v.Form = *st.form
	}
	for _, k := range ledger.GrantKinds {
		v.Kinds = append(v.Kinds, kv{k, grantKindLabels[k]})
	}
	if v.Admin {
		v.Orgs = a.orgChoices(ctx, s.Org, nil)
	}
	given, received, err := a.grantsOf(ctx, s)
	if err != nil {
		return err
	}
	for _, g := range given {
		r := a.grantRow(ctx, g)
		r.CSRF = s.CSRF
		if g.ID == st.revokeID {
			r.RevokeReason, r.RevokeError = st.revokeReason, st.revokeErr
			st.revokeErr = ""
		}
		if r.Live {
			v.ActiveGiven++
		}
		v.Given = append(v.Given, r)
	}
	v.TopError = st.revokeErr
	for _, g := range received {
		r := a.grantRow(ctx, g)
		if r.Live {
			v.ActiveRecvd++
		}
		v.Recvd = append(v.Recvd, r)
	}
	if v.Admin {
		entries, err := a.svc.AccessLog(ctx, s.Org, 200)
		if err != nil {
			_, msg, _ := formProblem(err)
			v.LogErr = msg
		}
		for _, e := range entries {
			r := a.accessRow(ctx, e)
			if e.Outcome == gateway.AccessAllowed {
				v.Allowed++
			} else {
				v.Refused++
			}
			if !e.Verified {
				v.Unproven++
			}
			v.Log = append(v.Log, r)
		}
	}
	sort.SliceStable(v.Given, func(i, j int) bool { return v.Given[i].Live && !v.Given[j].Live })
	return a.render(c, "sharing", pageData{Title: "Data sharing", Nav: "sharing", Wide: true, Data: v})
}

// grantSubmit is the grant form.
func (a *App) grantSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	f := grantForm{Grantee: c.FormValue("grantee"), Kind: c.FormValue("kind"), GTIN: c.FormValue("gtin"), Lot: c.FormValue("lot"),
		Purpose: c.FormValue("purpose"), ValidFrom: c.FormValue("valid_from"), ValidUntil: c.FormValue("valid_until")}
	fail := func(err error) error {
		status, msg, ok := formProblem(err)
		if !ok {
			return err
		}
		c.Status(status)
		return a.renderSharing(c, sharingState{form: &f, err: msg})
	}
	in := grantInput{Grantee: f.Grantee, Scope: ledger.GrantScope{Kind: f.Kind, GTIN: f.GTIN, Lot: f.Lot}, Purpose: f.Purpose}
	if f.Kind == ledger.GrantReceipts || f.Kind == ledger.GrantAlerts {
		// The form keeps the product fields for the lot kinds; they do
		// not apply here.
		in.Scope.GTIN, in.Scope.Lot = "", ""
	}
	from, err := formInstant("start", f.ValidFrom)
	if err != nil {
		return fail(err)
	}
	until, err := formInstant("end of access", f.ValidUntil)
	if err != nil {
		return fail(err)
	}
	if strings.TrimSpace(f.ValidUntil) == "" {
		return fail(invalid("end required", "say until when the access lasts"))
	}
	if !from.IsZero() {
		in.ValidFrom = from.Format(time.RFC3339)
	}
	in.ValidUntil = until.Format(time.RFC3339)
	g, err := a.grantAccess(c.UserContext(), s, in)
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/sharing?granted="+g.ID+"#grant-"+g.ID, fiber.StatusSeeOther)
}

// revokeSubmit is a grant's revoke form.
func (a *App) revokeSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id := c.Params("id")
	if err := checkHexID("grant", id); err != nil {
		return err
	}
	reason := c.FormValue("reason")
	if _, err := a.revokeGrant(c.UserContext(), s, id, reason); err != nil {
		status, msg, ok := formProblem(err)
		if !ok {
			return err
		}
		c.Status(status)
		return a.renderSharing(c, sharingState{revokeID: id, revokeReason: reason, revokeErr: msg})
	}
	return c.Redirect("/sharing?revoked="+id+"#grant-"+id, fiber.StatusSeeOther)
}
