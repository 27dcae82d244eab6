package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// Who sees what. A member sees its own organisation's alerts; regulators
// (a regulator-inspector, or the admin of a regulator organisation) and
// the admin of the organisation running this gateway see all of them.
// Only regulators see suspect packs and issue recalls (the ledger's
// contract checks the recall again, from its own user registry).

// isRegulator reports whether a session is a regulator's.
func (a *App) isRegulator(ctx context.Context, s *session) bool {
	if s == nil {
		return false
	}
	switch s.Role {
	case ledger.RoleRegulatorInspector:
		return true
	case ledger.RoleOrgAdmin:
		o := a.names.org(ctx, s.Org)
		return o != nil && o.Kind == ledger.OrgRegulator
	}
	return false
}

// seesAllAlerts reports whether a session sees every organisation's
// alerts.
func (a *App) seesAllAlerts(ctx context.Context, s *session) bool {
	if s == nil {
		return false
	}
	if s.Role == ledger.RoleOrgAdmin && s.Org == a.svc.Config().Reader.Org {
		return true
	}
	return a.isRegulator(ctx, s)
}

// alertScope is the org whose alerts a session sees ("" = all).
func (a *App) alertScope(ctx context.Context, s *session) string {
	if a.seesAllAlerts(ctx, s) {
		return ""
	}
	return s.Org
}

func errForbidden(title, detail string) error {
	return &gateway.Error{Kind: gateway.KindForbidden, Title: title, Detail: detail}
}

// requireRegulator lets regulators through (after requireUser).
func (a *App) requireRegulator(c *fiber.Ctx) error {
	s, _ := c.Locals(localSession).(*session)
	if !a.isRegulator(c.UserContext(), s) {
		return errForbidden("regulators only", "this needs a regulator-inspector, or the admin of a regulator organisation; you are signed in as "+s.Role+" of "+s.Org)
	}
	return c.Next()
}

// ---- Alert badge: when a user last looked at the alerts ----

const prefixAlertsSeen = "wa/" // wa/{username} -> RFC 3339 time

func (s *userStore) alertsSeen(user string) time.Time {
	var t time.Time
	_ = s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(prefixAlertsSeen + strings.ToLower(user)))
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error {
			var err error
			t, err = time.Parse(time.RFC3339Nano, string(b))
			return err
		})
	})
	return t
}

func (s *userStore) setAlertsSeen(user string, t time.Time) error {
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(prefixAlertsSeen+strings.ToLower(user)), []byte(t.UTC().Format(time.RFC3339Nano)))
	})
}

// navInfo is what the navigation shows a signed-in user.
type navInfo struct {
	Alerts    int // new since the user last opened /alerts
	AllAlerts bool
	Regulator bool
	OrgKind   string // the user's organisation's kind (hospital, charity, insurer, ...)
	OrgAdmin  bool
	// Ops: the gateway's operation pages (events, batches, edges) are in
	// the navigation of admins, operators and quality staff; the other
	// roles reach them by address.
	Ops bool
}

func (a *App) navInfo(ctx context.Context, s *session) navInfo {
	n := navInfo{AllAlerts: a.seesAllAlerts(ctx, s), Regulator: a.isRegulator(ctx, s), OrgAdmin: s.Role == ledger.RoleOrgAdmin,
		Ops: s.Role == ledger.RoleOrgAdmin || s.Role == ledger.RoleOperator || s.Role == ledger.RoleQuality}
	if o := a.names.org(ctx, s.Org); o != nil {
		n.OrgKind = o.Kind
	}
	scope := s.Org
	if n.AllAlerts {
		scope = ""
	}
	seen := a.users.alertsSeen(s.User)
	if list, err := a.svc.Alerts(scope, 100); err == nil {
		for _, al := range list {
			if al.At.After(seen) {
				n.Alerts++
			}
		}
	}
	return n
}

// ---- Alerts page and JSON ----

// alertView is an alert as the page shows it.
type alertView struct {
	gateway.Alert
	When     string
	KindText string
}

var alertKindLabels = map[string]string{
	gateway.AlertExcursionStart:    "Excursion started",
	gateway.AlertExcursionBreach:   "Excursion limit exceeded",
	gateway.AlertExcursionRecorded: "Excursion recorded",
	gateway.AlertRecall:            "Recall",
	gateway.AlertSuspect:           "Suspect packs",
	gateway.AlertSensorFault:       "Sensor fault",
}

type alertsView struct {
	Alerts   []alertView
	Scope    string // "all organisations" or the org's name
	All      bool
	Org      string
	Critical int
	Warning  int
	Total    int
}

func limitParam(c *fiber.Ctx, def, maxN int) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxN {
		return 0, invalid("invalid limit", fmt.Sprintf("limit is a number from 1 to %d", maxN))
	}
	return n, nil
}

func (a *App) alertsPage(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	scope := a.alertScope(ctx, s)
	list, err := a.svc.Alerts(scope, 200)
	if err != nil {
		return err
	}
	v := alertsView{All: scope == "", Org: s.Org, Total: len(list)}
	v.Scope = a.orgLabel(ctx, s.Org, "")
	if v.All {
		v.Scope = "all organisations"
	}
	for _, al := range list {
		v.Alerts = append(v.Alerts, alertView{Alert: al, When: fmtTime(al.At), KindText: alertKindLabels[al.Kind]})
		switch al.Severity {
		case "critical":
			v.Critical++
		case "warning":
			v.Warning++
		}
	}
	if err := a.users.setAlertsSeen(s.User, a.now()); err != nil {
		a.log.Warn("remember alerts seen", "user", s.User, "err", err)
	}
	return a.render(c, "alerts", pageData{Title: "Alerts", Nav: "alerts", Data: v})
}

// alertsJSON is GET /api/v1/alerts: the signed-in member's alerts,
// newest first.
func (a *App) alertsJSON(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	limit, err := limitParam(c, 100, 1000)
	if err != nil {
		return err
	}
	scope := a.alertScope(c.UserContext(), s)
	list, err := a.svc.Alerts(scope, limit)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	org := scope
	if org == "" {
		org = "*"
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"org": org, "alerts": list})
}

// liveAlert is what a stream subscriber receives of an alert: the whole
// alert when it may see it, else only which lot or pack it concerns (so
// public passports know to refresh).
func (a *App) liveAlert(data any, org string, all bool) any {
	var al gateway.Alert
	switch x := data.(type) {
	case gateway.Alert:
		al = x
	case *gateway.Alert:
		al = *x
	default:
		return map[string]any{}
	}
	if all || (org != "" && contains(al.Orgs, org)) {
		return al
	}
	return map[string]any{"kind": al.Kind, "gtin": al.GTIN, "lot": al.Lot, "epc": al.EPC, "at": al.At}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ---- Regulator ----

type recallForm struct {
	GTIN, Lot, Class, Reason string
}

type regulatorView struct {
	Suspects []suspectRow
	Recalls  []recallRow
	Form     recallForm
	Classes  []kv
	Error    string
	Done     string
	DoneLink string
}

type suspectRow struct {
	gateway.SuspectFlag
	Label, Link, When, Where, ReasonText string
}

type recallRow struct {
	ledger.Recall
	Product, Link, When, OrgName string
}

func (a *App) regulatorPage(c *fiber.Ctx) error {
	v := regulatorView{Form: recallForm{Class: "II"}}
	if done := c.Query("recalled"); done != "" {
		if dl, err := epc.ParseDigitalLink(done); err == nil && dl.GTIN != "" && dl.Lot != "" {
			v.Done = "Lot " + dl.Lot + " of GTIN " + dl.GTIN + " is recalled. Every current holder is alerted."
			v.DoneLink = dl.Path()
		}
	}
	return a.renderRegulator(c, v)
}

func (a *App) renderRegulator(c *fiber.Ctx, v regulatorView) error {
	ctx := c.UserContext()
	for _, cl := range ledger.RecallClasses {
		v.Classes = append(v.Classes, kv{cl, recallClassNotes[cl]})
	}
	flags, err := a.svc.AllSuspects(200)
	if err != nil {
		return err
	}
	for _, f := range flags {
		r := suspectRow{SuspectFlag: f, Label: a.names.identify(ctx, f.EPC).Label, Link: passportPath(f.EPC), When: fmtTime(f.At),
			ReasonText: suspectLabels[f.Reason]}
		if r.Detail != "" {
			r.Detail = strings.ToUpper(r.Detail[:1]) + r.Detail[1:] + "."
		}
		if f.Site != "" {
			r.Where = a.siteLabel(ctx, "", f.Site, nil)
		}
		v.Suspects = append(v.Suspects, r)
	}
	recalls, err := a.svc.Ledger().Recalls(ctx, a.svc.Config().Reader)
	if err != nil {
		return err
	}
	for i := len(recalls) - 1; i >= 0; i-- {
		r := recalls[i]
		row := recallRow{Recall: r, Link: epc.DigitalLink{GTIN: r.GTIN, Lot: r.Lot}.Path(), When: fmtTime(r.IssuedAt), OrgName: a.orgLabel(ctx, r.Org, "")}
		if p := a.names.product(ctx, r.GTIN); p != nil {
			row.Product = p.Name
		}
		v.Recalls = append(v.Recalls, row)
	}
	return a.render(c, "regulator", pageData{Title: "Regulator", Nav: "regulator", Wide: true, Data: v})
}

// recall checks and issues a recall as the signed-in regulator.
func (a *App) recall(ctx context.Context, s *session, f recallForm) (ledger.Recall, error) {
	f.GTIN, f.Lot, f.Class, f.Reason = strings.TrimSpace(f.GTIN), strings.TrimSpace(f.Lot), strings.TrimSpace(f.Class), strings.TrimSpace(f.Reason)
	if f.GTIN == "" || f.Lot == "" {
		return ledger.Recall{}, invalid("GTIN and lot required", "give the GTIN and the lot to recall")
	}
	dl, err := epc.ParseDigitalLink("/01/" + f.GTIN + "/10/" + url.PathEscape(f.Lot))
	if err != nil {
		return ledger.Recall{}, invalid("invalid GTIN or lot", err.Error())
	}
	if !contains(ledger.RecallClasses, f.Class) {
		return ledger.Recall{}, invalid("invalid recall class", fmt.Sprintf("class %q is not one of %s", f.Class, strings.Join(ledger.RecallClasses, ", ")))
	}
	if f.Reason == "" {
		return ledger.Recall{}, invalid("reason required", "say why the lot is recalled: holders read it")
	}
	if len(f.Reason) > 2000 {
		return ledger.Recall{}, invalid("reason too long", "keep the reason under 2000 characters")
	}
	reader := a.svc.Config().Reader
	if _, err := a.svc.Ledger().Lot(ctx, reader, dl.GTIN, dl.Lot); err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return ledger.Recall{}, notFound("no such lot", fmt.Sprintf("lot %s of GTIN %s is not registered on the ledger: check the GTIN and the lot number on the pack", dl.Lot, dl.GTIN))
		}
		return ledger.Recall{}, err
	}
	if old, err := a.svc.Ledger().Recall(ctx, reader, dl.GTIN, dl.Lot); err == nil {
		return old, &gateway.Error{Kind: gateway.KindConflict, Title: "already recalled",
			Detail: fmt.Sprintf("lot %s of GTIN %s was already recalled on %s (class %s, by %s): %s", dl.Lot, dl.GTIN, fmtTime(old.IssuedAt), old.Class, a.orgLabel(ctx, old.Org, ""), old.Reason)}
	}
	r, _, err := a.svc.Ledger().RecallLot(ctx, s.identity(), ledger.Recall{GTIN: dl.GTIN, Lot: dl.Lot, Class: f.Class, Reason: f.Reason, Org: s.Org})
	if err != nil {
		return r, err
	}
	a.log.Info("recall issued", "gtin", dl.GTIN, "lot", dl.Lot, "class", f.Class, "user", s.User, "org", s.Org, "tx", r.TxID)
	return r, nil
}

// recallSubmit is the regulator page's recall form.
func (a *App) recallSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	f := recallForm{GTIN: c.FormValue("gtin"), Lot: c.FormValue("lot"), Class: c.FormValue("class"), Reason: c.FormValue("reason")}
	if c.FormValue("confirm") != "yes" {
		c.Status(fiber.StatusBadRequest)
		return a.renderRegulator(c, regulatorView{Form: f, Error: "Tick the box to confirm: a recall cannot be undone."})
	}
	r, err := a.recall(c.UserContext(), s, f)
	if err != nil {
		p := problemOf(err, false)
		if p.Status >= 500 {
			return err
		}
		c.Status(p.Status)
		msg := p.Detail
		if msg == "" {
			msg = p.Title
		}
		return a.renderRegulator(c, regulatorView{Form: f, Error: strings.ToUpper(msg[:1]) + msg[1:] + "."})
	}
	return c.Redirect("/regulator?recalled="+url.QueryEscape(epc.DigitalLink{GTIN: r.GTIN, Lot: r.Lot}.Path()), fiber.StatusSeeOther)
}

// postRecall is POST /api/v1/recalls.
func (a *App) postRecall(c *fiber.Ctx) error {
	if err := requireJSON(c, fiber.MIMEApplicationJSON); err != nil {
		return err
	}
	body, err := readBody(c, 64<<10)
	if err != nil {
		return err
	}
	var in struct {
		GTIN   string `json:"gtin"`
		Lot    string `json:"lot"`
		Class  string `json:"class"`
		Reason string `json:"reason"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return invalid("not a recall", `the body must be {"gtin", "lot", "class", "reason"}: `+err.Error())
	}
	s := c.Locals(localSession).(*session)
	r, err := a.recall(c.UserContext(), s, recallForm{GTIN: in.GTIN, Lot: in.Lot, Class: in.Class, Reason: in.Reason})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, epc.DigitalLink{GTIN: r.GTIN, Lot: r.Lot}.Path())
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, r)
}

// recallsJSON is GET /api/v1/recalls: every recall, newest first (public:
// holders and the public must be able to check them).
func (a *App) recallsJSON(c *fiber.Ctx) error {
	list, err := a.svc.Ledger().Recalls(c.UserContext(), a.svc.Config().Reader)
	if err != nil {
		return err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].IssuedAt.After(list[j].IssuedAt) })
	if gtin := c.Query("gtin"); gtin != "" {
		out := list[:0]
		for _, r := range list {
			if r.GTIN == gtin {
				out = append(out, r)
			}
		}
		list = out
	}
	if list == nil {
		list = []ledger.Recall{}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"recalls": list})
}

// suspectsJSON is GET /api/v1/suspects (regulators).
func (a *App) suspectsJSON(c *fiber.Ctx) error {
	limit, err := limitParam(c, 200, 1000)
	if err != nil {
		return err
	}
	list, err := a.svc.AllSuspects(limit)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"suspects": list})
}

// ---- Lots, objects, excursions, sites ----

// lotParams reads and checks /lots/{gtin}/{lot}, and that the lot is
// known (on the ledger, or commissioned in events).
func (a *App) lotParams(c *fiber.Ctx) (epc.DigitalLink, error) {
	gtin := c.Params("gtin")
	lot, err := url.PathUnescape(c.Params("lot"))
	if err != nil || lot == "" {
		return epc.DigitalLink{}, invalid("invalid lot", "the lot path segment is not well-formed")
	}
	dl, err := epc.ParseDigitalLink("/01/" + gtin + "/10/" + url.PathEscape(lot))
	if err != nil {
		return dl, invalid("invalid GTIN or lot", err.Error())
	}
	ctx := c.UserContext()
	if _, err := a.svc.Ledger().Lot(ctx, a.svc.Config().Reader, dl.GTIN, dl.Lot); err == nil {
		return dl, nil
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return dl, err
	}
	tr, err := a.svc.TraceForward(ctx, dl.GTIN, dl.Lot, false)
	if err == nil && tr.Packs > 0 {
		return dl, nil
	}
	return dl, notFound("unknown lot", fmt.Sprintf("lot %s of GTIN %s is neither registered on the ledger nor commissioned in any event", dl.Lot, dl.GTIN))
}

// lotTrace is GET /api/v1/lots/{gtin}/{lot}/trace[?positions=true].
func (a *App) lotTrace(c *fiber.Ctx) error {
	dl, err := a.lotParams(c)
	if err != nil {
		return err
	}
	positions := c.QueryBool("positions")
	if positions {
		// Every pack's position is for members only.
		if s, _ := a.currentSession(c); s == nil {
			return errUnauthenticated("positions=true lists every pack's position: sign in to the portal first (POST /login)")
		}
	}
	tr, err := a.svc.TraceForward(c.UserContext(), dl.GTIN, dl.Lot, positions)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, tr)
}

// lotCustody is GET /api/v1/lots/{gtin}/{lot}/custody.
func (a *App) lotCustody(c *fiber.Ctx) error {
	dl, err := a.lotParams(c)
	if err != nil {
		return err
	}
	steps, spans, err := a.svc.LotCustody(c.UserContext(), dl.GTIN, dl.Lot)
	if err != nil {
		return err
	}
	if steps == nil {
		steps = []gateway.CustodyStep{}
	}
	if spans == nil {
		spans = []gateway.Containment{}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"gtin": dl.GTIN, "lot": dl.Lot, "steps": steps, "containers": spans})
}

// lotColdChain is GET /api/v1/lots/{gtin}/{lot}/coldchain[?readings=true].
func (a *App) lotColdChain(c *fiber.Ctx) error {
	dl, err := a.lotParams(c)
	if err != nil {
		return err
	}
	rep, err := a.svc.ColdChain(c.UserContext(), dl.GTIN, dl.Lot, c.QueryBool("readings"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, rep)
}

// objectTrace is GET /api/v1/objects/{id}/trace: where an object (a pack,
// a case, a pallet) comes from and who held it. id is an EPC URI or a GS1
// Digital Link, percent-encoded as one path segment.
func (a *App) objectTrace(c *fiber.Ctx) error {
	raw := c.Params("id")
	id, err := url.PathUnescape(raw)
	if err != nil || id == "" {
		return invalid("invalid object ID", fmt.Sprintf("%q is not a well-formed percent-encoded path segment", raw))
	}
	if _, err := epc.ParseURI(id); err != nil {
		if _, err2 := epc.ParseDigitalLink(id); err2 != nil {
			return invalid("invalid object ID", "give an EPC URI (urn:epc:id:sgtin:…, urn:epc:id:sscc:…) or a GS1 Digital Link URI: "+err.Error())
		}
	}
	tb, err := a.svc.TraceBackOf(c.UserContext(), id)
	if err != nil {
		return err
	}
	if len(tb.Steps) == 0 && tb.Current == nil {
		return notFound("nothing known", "no event names "+id)
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, tb)
}

// excursionsJSON is GET /api/v1/excursions[?gtin=[&lot=]]: excursions
// recorded on the ledger.
func (a *App) excursionsJSON(c *fiber.Ctx) error {
	gtin, lot := strings.TrimSpace(c.Query("gtin")), strings.TrimSpace(c.Query("lot"))
	if lot != "" && gtin == "" {
		return invalid("gtin required", "a lot is named within its product: give gtin with lot")
	}
	if gtin != "" {
		if _, err := epc.ParseDigitalLink("/01/" + gtin); err != nil {
			return invalid("invalid GTIN", err.Error())
		}
	}
	list, err := a.svc.Ledger().Excursions(c.UserContext(), a.svc.Config().Reader, gtin, lot)
	if err != nil {
		return err
	}
	if list == nil {
		list = []ledger.Excursion{}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"excursions": list})
}

// sitesJSON is GET /api/v1/sites[?org=]: the consortium's site directory.
func (a *App) sitesJSON(c *fiber.Ctx) error {
	list, err := a.svc.Ledger().Sites(c.UserContext(), a.svc.Config().Reader, c.Query("org"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []ledger.Site{}
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"sites": list})
}
