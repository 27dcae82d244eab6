package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/journal"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// ---- Passport ----

// passportView is the passport page's data.
type passportView struct {
	P            gateway.Passport
	Name         string
	Kind         string // "Lot", "Pack", "Shipping unit", "Product"
	Key          []kv   // GTIN, lot, serial, SSCC
	Canonical    string
	QR           string
	Manufacturer string
	Country      string
	Status       string
	StatusClass  string
	StatusNote   string
	Storage      string
	Events       []eventView
	Total        int
	Cold         *coldView
	Lots         []lotRow
	Suspects     []suspectView
	Recall       *recallView
	Custody      []custodyView
	Holdings     []holdingView
	HeldPacks    int
	HeldTransit  int
	HeldDispense int
	Unseen       int
	Current      *currentView
	GTIN, Lot    string
	Refresh      string // the path the page's live updates reload
	TraceURL     string
	LinksetURL   string
	JSONURL      string
}

// lotRow is a lot in the product passport's list.
type lotRow struct {
	ledger.Lot
	Link string
}

// passportSubject names what a passport is about, for titles.
func passportSubject(p gateway.Passport) string {
	name := ""
	if p.Product != nil {
		name = p.Product.Name
	}
	switch p.Kind {
	case "lot":
		return strings.TrimSpace(name + " lot " + p.Link.Lot)
	case "serial":
		return strings.TrimSpace(name + " pack " + p.Link.Serial)
	case "sscc":
		return "shipping unit " + p.Link.SSCC
	}
	if name != "" {
		return name
	}
	return p.Link.Path()
}

// lotStatus describes a lot status for people.
func lotStatus(s string) (label, class, note string) {
	switch strings.ToLower(s) {
	case ledger.LotOK:
		return "In good standing", "ok", "No recall, quarantine or cold-chain excursion is recorded for this lot on the consortium ledger."
	case ledger.LotExcursion:
		return "Cold-chain excursion", "warn", "A temperature excursion is recorded on the consortium ledger. It stayed within the product's allowance; check the temperature record below before use."
	case ledger.LotRecalled:
		return "Recalled", "bad", "A regulator has recalled this lot. Do not use it; quarantine it and follow the recall instructions."
	case ledger.LotQuarantined, "quarantine", "on_hold", "hold":
		return "Quarantined", "bad", "This lot is quarantined. Do not use it until it is released."
	case "expired":
		return "Expired", "bad", "This lot is past its expiry date."
	case "", "unknown":
		return "No lot record", "muted", "No lot record is registered on the ledger for this code."
	}
	return strings.ToUpper(s[:1]) + s[1:], "warn", "Status recorded on the consortium ledger."
}

func storageText(p *ledger.StorageProfile) string {
	if p == nil {
		return ""
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	var parts []string
	switch {
	case p.MinC != nil && p.MaxC != nil:
		parts = append(parts, fmt.Sprintf("Store between %s °C and %s °C", f(*p.MinC), f(*p.MaxC)))
	case p.MaxC != nil:
		parts = append(parts, fmt.Sprintf("Store below %s °C", f(*p.MaxC)))
	case p.MinC != nil:
		parts = append(parts, fmt.Sprintf("Store above %s °C", f(*p.MinC)))
	}
	if p.MaxHumidity != nil {
		parts = append(parts, fmt.Sprintf("humidity below %s %%", f(*p.MaxHumidity)))
	}
	if p.MaxSingleExcursionMin != nil {
		parts = append(parts, fmt.Sprintf("excursions up to %s min", f(*p.MaxSingleExcursionMin)))
	}
	return strings.Join(parts, ", ")
}

func (a *App) passportPage(c *fiber.Ctx, dl epc.DigitalLink, p gateway.Passport, canonical string) error {
	ctx := c.UserContext()
	v := passportView{P: p, Canonical: canonical, QR: dl.Path() + "/qr.png", LinksetURL: dl.Path() + "?linkType=linkset"}
	v.JSONURL = dl.Path()
	if p.Product != nil {
		v.Name = p.Product.Name
		v.Storage = storageText(p.Product.Profile)
	} else {
		v.Name = "Unregistered product"
	}
	if p.Manufacturer != nil {
		v.Manufacturer, v.Country = p.Manufacturer.Name, p.Manufacturer.Country
	} else if p.Product != nil {
		v.Manufacturer = p.Product.Org
	}
	switch p.Kind {
	case "lot":
		v.Kind = "Lot"
	case "serial":
		v.Kind = "Pack"
	case "sscc":
		v.Kind, v.Name = "Shipping unit", "Shipping unit "+dl.SSCC
	default:
		v.Kind = "Product"
	}
	if dl.GTIN != "" {
		v.Key = append(v.Key, kv{"GTIN", dl.GTIN})
	}
	if dl.Lot != "" {
		v.Key = append(v.Key, kv{"Lot", dl.Lot})
	}
	if dl.Serial != "" {
		v.Key = append(v.Key, kv{"Serial number", dl.Serial})
	}
	if dl.SSCC != "" {
		v.Key = append(v.Key, kv{"SSCC", dl.SSCC})
	}
	if p.Lot != nil {
		if dl.Lot == "" {
			v.Key = append(v.Key, kv{"Lot", p.Lot.Lot})
		}
		if p.Lot.ProducedAt != "" {
			v.Key = append(v.Key, kv{"Produced", p.Lot.ProducedAt})
		}
		if p.Lot.Expiry != "" {
			v.Key = append(v.Key, kv{"Expiry", p.Lot.Expiry})
		}
		if p.Lot.Quantity > 0 {
			v.Key = append(v.Key, kv{"Lot size", plural(p.Lot.Quantity, "pack", "packs")})
		}
	}
	if p.Serials > 0 {
		v.Key = append(v.Key, kv{"Serialised packs", strconv.Itoa(p.Serials)})
	}
	v.Status, v.StatusClass, v.StatusNote = lotStatus(p.Status)
	if p.Lot == nil && (p.Kind == "lot" || p.Kind == "serial") && p.Product != nil {
		lot := dl.Lot
		if lot == "" {
			lot = "of this pack"
		}
		v.Status, v.StatusClass = "Lot not registered", "bad"
		v.StatusNote = "The manufacturer has not registered lot " + lot + " on the consortium ledger. Treat the pack as suspect: do not use it, and report it to your regulator."
		if dl.Lot == "" {
			v.StatusNote = "No lot is recorded for this pack on the consortium ledger. Treat it as suspect: do not use it, and report it to your regulator."
		}
	}
	if p.Kind == "sscc" || (p.Kind == "product" && p.Product != nil) {
		if p.Lot == nil {
			v.Status, v.StatusClass, v.StatusNote = "Registered", "ok", "This product is registered on the consortium ledger by its manufacturer."
		}
		if p.Kind == "sscc" {
			v.Status, v.StatusClass, v.StatusNote = "Tracked", "ok", "The events below name this shipping unit."
		}
	}
	var prof *ledger.StorageProfile
	if p.Product != nil {
		prof = p.Product.Profile
	}
	if p.Lot != nil && p.Lot.StatusReason != "" && p.Lot.Status == ledger.LotQuarantined {
		v.StatusNote += " Reason: " + p.Lot.StatusReason
	}
	v.GTIN, v.Lot = dl.GTIN, dl.Lot
	if p.Lot != nil {
		v.Lot = p.Lot.Lot
	}
	v.Refresh = dl.Path()
	v.Suspects = a.suspectViews(ctx, p.Suspects)
	v.Recall = a.recallView(ctx, p.Recall)
	v.Custody = a.custodyViews(ctx, p.Custody, p.Containers)
	v.Holdings = a.holdingViews(ctx, p.Holdings)
	for _, h := range p.Holdings {
		v.HeldPacks += h.Packs
		v.HeldTransit += h.InTransit
		v.HeldDispense += h.Dispensed
	}
	v.Current = a.currentView(ctx, p.Current)
	if hasOtherSuspicion(p.Suspects) {
		v.Status, v.StatusClass = "Suspect pack", "bad"
		v.StatusNote = "tracegate found reasons to doubt this pack (below). Do not use it; keep it apart and report it to your regulator."
	}
	for _, pe := range p.Events {
		ev := a.describe(ctx, pe.Record, false)
		ev.setState(pe.State, pe.Anchor, pe.Reason)
		for _, c := range ev.Temps {
			if prof != nil && ((prof.MinC != nil && c < *prof.MinC) || (prof.MaxC != nil && c > *prof.MaxC)) {
				ev.Excursion = true
			}
		}
		v.Events = append(v.Events, ev)
	}
	v.Total = len(v.Events)
	v.Cold = a.coldView(ctx, p, v.Events)
	if p.Kind == "product" && p.Product != nil {
		if lots, err := a.svc.Ledger().Lots(ctx, a.svc.Config().Reader, dl.GTIN); err == nil {
			for _, l := range lots {
				v.Lots = append(v.Lots, lotRow{Lot: l, Link: epc.DigitalLink{GTIN: l.GTIN, Lot: l.Lot}.Path()})
			}
		}
	}
	for _, lc := range a.linkset("", dl, "") {
		if ts := lc.Links[gs1Voc+"traceability"]; len(ts) > 0 {
			v.TraceURL = ts[0].Href
			break
		}
	}
	title := v.Name
	if dl.Lot != "" {
		title += " · lot " + dl.Lot
	}
	return a.render(c, "passport", pageData{Title: title, Public: true, Data: v})
}

// hasOtherSuspicion reports a suspect flag other than the recall (which
// the status already says).
func hasOtherSuspicion(fs []gateway.SuspectFlag) bool {
	for _, f := range fs {
		if f.Reason != gateway.SuspectRecalled {
			return true
		}
	}
	return false
}

// renderUnknown is the page for a well-formed code nothing is known about.
func (a *App) renderUnknown(c *fiber.Ctx, dl epc.DigitalLink) error {
	return a.renderError(c, Problem{Status: fiber.StatusNotFound, Title: "No records for this code",
		Detail: "tracegate knows no product, lot or event for " + dl.Path() + ". If you scanned this code on a pack, the pack may not come from a member of this consortium; report it to your regulator."})
}

// ---- Verify ----

// checkExplanations say in plain words what each proof check means.
var checkExplanations = map[proof.Check]string{
	proof.CheckEventHash:  "The event is exactly what was sealed: its CBV 2.0 fingerprint matches its ID. Changing what, where or when would break this.",
	proof.CheckHeaderForm: "The batch header that seals the event is well-formed.",
	proof.CheckAuditPath:  "The event is a leaf of its batch's Merkle tree: the audit path leads from the event to the root the batch header commits to.",
	proof.CheckSignature:  "The edge device that sealed the batch signed its header with its private key.",
	proof.CheckEdgeKey:    "That signing key is the one the device's organisation registered on the consortium ledger.",
	proof.CheckChain:      "The batch follows the device's previous batch: none was removed or reordered.",
	proof.CheckAnchor:     "The batch root is anchored on the consortium ledger, which no single member can rewrite.",
	proof.CheckAnchorTx:   "The anchoring transaction is valid and sits in the ledger block the proof names.",
}

// verifyView is the /verify page's data.
type verifyView struct {
	EventID string
	Proof   string
	Error   string
	Result  *resultView
}

type resultView struct {
	proof.Result
	Steps   []stepView
	Verdict string
	Class   string
	Summary string
	Event   *eventView
}

type stepView struct {
	proof.Step
	Explain string
	Class   string
	Mark    string
}

func (a *App) resultView(ctx context.Context, res proof.Result, d *proof.Document) *resultView {
	rv := &resultView{Result: res}
	for _, s := range res.Steps {
		sv := stepView{Step: s, Explain: checkExplanations[s.Check]}
		switch {
		case s.OK:
			sv.Class, sv.Mark = "ok", "✓"
		case s.Skip:
			sv.Class, sv.Mark = "muted", "–"
		default:
			sv.Class, sv.Mark = "bad", "✗"
		}
		rv.Steps = append(rv.Steps, sv)
	}
	switch {
	case res.Verified:
		rv.Verdict, rv.Class = "Verified", "ok"
		rv.Summary = "Every check passed: this event was sealed by a registered device and is anchored on the consortium ledger."
	case res.Pending:
		rv.Verdict, rv.Class = "Pending anchor", "warn"
		rv.Summary = "The event and its seal check out, but its batch is not anchored on the ledger yet. Try again in a few seconds."
	default:
		rv.Verdict, rv.Class = "Not verified", "bad"
		rv.Summary = "A check failed (marked below): do not rely on this record."
	}
	if d != nil {
		rec := store.EventRecord{EventID: d.EventID, Event: d.Event, Edge: d.Header.Edge, Seq: d.Header.Seq, Leaf: d.LeafIndex}
		var m map[string]any
		if json.Unmarshal(d.Event, &m) == nil {
			rec.Type, _ = m["type"].(string)
			if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["eventTime"])); err == nil {
				rec.EventTime = t.UTC()
			}
			ev := a.describe(ctx, rec, false)
			rv.Event = &ev
		}
	}
	return rv
}

func (a *App) verifyPage(c *fiber.Ctx) error {
	v := verifyView{EventID: strings.TrimSpace(c.Query("eventID"))}
	if v.EventID != "" {
		a.verifyByID(c.UserContext(), &v)
		if v.Error != "" {
			c.Status(fiber.StatusNotFound)
		}
	}
	return a.render(c, "verify", pageData{Title: "Verify a proof", Nav: "verify", Public: true, Data: v})
}

func (a *App) verifyByID(ctx context.Context, v *verifyView) {
	d, err := a.svc.Proof(ctx, v.EventID)
	if err != nil {
		v.Error = problemOf(err, false).Detail
		return
	}
	res := a.svc.VerifyProof(ctx, d)
	a.countVerification(res)
	v.Result = a.resultView(ctx, res, d)
	b, _ := json.MarshalIndent(d, "", "  ")
	v.Proof = string(b)
}

// verifySubmit verifies a pasted or uploaded proof, or an eventID.
func (a *App) verifySubmit(c *fiber.Ctx) error {
	v := verifyView{EventID: strings.TrimSpace(c.FormValue("eventID")), Proof: c.FormValue("proof")}
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxProofBytes {
			v.Error = fmt.Sprintf("The file is larger than %d MB.", maxProofBytes>>20)
		} else if f, err := fh.Open(); err == nil {
			b, err := io.ReadAll(io.LimitReader(f, maxProofBytes))
			f.Close()
			if err == nil {
				v.Proof = string(b)
			}
		}
	}
	ctx := c.UserContext()
	switch {
	case v.Error != "":
	case strings.TrimSpace(v.Proof) != "":
		if len(v.Proof) > maxProofBytes {
			v.Error = "The proof is too large."
			break
		}
		d, err := proof.Parse([]byte(v.Proof))
		if err != nil {
			v.Error = "This is not a tracegate proof document: " + err.Error()
			break
		}
		res := a.svc.VerifyProof(ctx, d)
		a.countVerification(res)
		v.Result = a.resultView(ctx, res, d)
		v.EventID = d.EventID
	case v.EventID != "":
		a.verifyByID(ctx, &v)
	default:
		v.Error = "Paste a proof, choose a proof file, or enter an event ID."
	}
	if v.Error != "" {
		c.Status(fiber.StatusBadRequest)
	} else if v.Result != nil && !v.Result.Verified {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return a.render(c, "verify", pageData{Title: "Verify a proof", Nav: "verify", Public: true, Data: v})
}

// ---- Dashboard ----

// eventSummary is an event in a list, as pages and the dashboard JSON
// show it.
type eventSummary struct {
	ID         string `json:"id"`
	Hash       string `json:"hash"`
	Sentence   string `json:"sentence"`
	What       string `json:"what"`
	When       string `json:"when"`
	Time       string `json:"time"`
	Type       string `json:"type"`
	State      string `json:"state"`
	StateLabel string `json:"stateLabel"`
	URL        string `json:"url"`
	Icon       string `json:"icon"`
}

func summaryOf(v eventView) eventSummary {
	return eventSummary{ID: v.ID, Hash: v.Hash, Sentence: v.Sentence, What: v.What, When: fmtTime(v.Time),
		Time: v.Time.UTC().Format(time.RFC3339), Type: v.Type, State: v.State, StateLabel: v.StateLabel,
		URL: "/events/" + v.Hash, Icon: v.Icon}
}

// edgeCard is an in-process edge's state on the dashboard and edges page.
type edgeCard struct {
	ID          string            `json:"id"`
	Ready       bool              `json:"ready"`
	Problems    []string          `json:"problems"`
	Error       string            `json:"error,omitempty"`
	Journal     journal.Stats     `json:"journal"`
	Upload      edge.UploadStatus `json:"upload"`
	OldestAge   string            `json:"oldestAge"`
	DeadLetters []deadLetterView  `json:"-"`
	DeadError   string            `json:"-"`
	View        EdgeView          `json:"-"`
	Raw         *edge.Status      `json:"-"`
}

type deadLetterView struct {
	journal.DeadLetter
	Preview   string
	Truncated bool
	Bytes     int
}

func (a *App) edgeCards(withDead bool) []edgeCard {
	out := make([]edgeCard, 0, len(a.cfg.Edges))
	for _, e := range a.cfg.Edges {
		ec := edgeCard{ID: e.ID(), View: e, Problems: []string{}}
		st, err := e.Status()
		if err != nil {
			ec.Error = err.Error()
		} else {
			ec.Ready, ec.Journal, ec.Upload, ec.Raw = st.Ready, st.Journal, st.Upload, &st
			if st.Problems != nil {
				ec.Problems = st.Problems
			}
			if !st.Journal.OldestUnack.IsZero() {
				ec.OldestAge = ago(a.now(), st.Journal.OldestUnack)
			}
		}
		if withDead {
			dl, err := e.Journal().DeadLetters(0, 100)
			if err != nil {
				ec.DeadError = err.Error()
			}
			for _, d := range dl {
				ec.DeadLetters = append(ec.DeadLetters, previewDead(d))
			}
		}
		out = append(out, ec)
	}
	return out
}

// previewDead shows the start of a dead letter's payload as text.
func previewDead(d journal.DeadLetter) deadLetterView {
	const limit = 400
	v := deadLetterView{DeadLetter: d, Bytes: len(d.Payload)}
	p := d.Payload
	if len(p) > limit {
		p, v.Truncated = p[:limit], true
	}
	var b strings.Builder
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, "\\x%02x", p[0])
		case r < 0x20 && r != '\n' && r != '\t':
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
		p = p[n:]
	}
	v.Preview = b.String()
	return v
}

// dashboardView is the dashboard's data (page and JSON).
type dashboardView struct {
	Counts    store.Counts         `json:"counts"`
	PerMinute []int                `json:"perMinute"`
	LastHour  int                  `json:"lastHour"`
	Anchor    gateway.AnchorStatus `json:"anchoring"`
	AnchorAge string               `json:"anchorAge"`
	Ledger    ledger.Info          `json:"ledger"`
	Ready     bool                 `json:"ready"`
	Problems  []string             `json:"problems"`
	Edges     []edgeCard           `json:"edges"`
	Recent    []eventSummary       `json:"recent"`
	Updated   string               `json:"updated"`
}

func (a *App) dashboard(ctx context.Context) (dashboardView, error) {
	var d dashboardView
	counts, err := a.svc.Store().Counts()
	if err != nil {
		return d, &gateway.Error{Kind: gateway.KindUnavailable, Title: "store unavailable", Detail: err.Error(), Err: err}
	}
	d.Counts = counts
	d.PerMinute = a.activity.series(time.Now())
	for _, n := range d.PerMinute {
		d.LastHour += n
	}
	d.Anchor = a.svc.AnchorStatus()
	d.AnchorAge = ago(time.Now(), d.Anchor.LastAnchor)
	d.Ledger = a.svc.LedgerInfo()
	d.Ready, d.Problems = a.svc.Ready(ctx)
	if d.Problems == nil {
		d.Problems = []string{}
	}
	d.Edges = a.edgeCards(false)
	recs, err := a.svc.RecentEvents(12)
	if err != nil {
		return d, &gateway.Error{Kind: gateway.KindUnavailable, Title: "store unavailable", Detail: err.Error(), Err: err}
	}
	d.Recent = []eventSummary{}
	for _, r := range recs {
		d.Recent = append(d.Recent, summaryOf(a.describe(ctx, r, true)))
	}
	d.Updated = time.Now().UTC().Format(time.RFC3339)
	return d, nil
}

func (a *App) dashboardPage(c *fiber.Ctx) error {
	d, err := a.dashboard(c.UserContext())
	if err != nil {
		return err
	}
	return a.render(c, "dashboard", pageData{Title: "Dashboard", Nav: "dashboard", Data: d})
}

// dashboardJSON is the dashboard's data for live refreshes (session only).
func (a *App) dashboardJSON(c *fiber.Ctx) error {
	d, err := a.dashboard(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, d)
}

// ---- Events ----

// eventsForm is the search form on /events, with the values it was
// submitted with.
type eventsForm struct {
	EPC, BizStep, Type, From, To, GTIN, Lot, Order string
	PerPage                                        int
}

type eventsView struct {
	Form     eventsForm
	Steps    []kv
	Types    []string
	Events   []eventSummary
	Next     string
	Error    string
	APIQuery string
	Searched bool
	Advanced bool // a filter behind "More filters" is set
}

// epcisTypes are the EPCIS 2.0 event types.
var epcisTypes = []string{"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}

// formTime reads a datetime-local value (taken as UTC) or an RFC 3339 time.
func formTime(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339Nano), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339), nil
		}
	}
	return "", fmt.Errorf("%q is not a date and time (YYYY-MM-DDTHH:MM, UTC)", s)
}

func (a *App) eventsPage(c *fiber.Ctx) error {
	f := eventsForm{EPC: strings.TrimSpace(c.Query("epc")), BizStep: c.Query("bizStep"), Type: c.Query("type"),
		From: c.Query("from"), To: c.Query("to"), GTIN: strings.TrimSpace(c.Query("gtin")), Lot: strings.TrimSpace(c.Query("lot")),
		Order: c.Query("order", "DESC")}
	f.PerPage, _ = strconv.Atoi(c.Query("perPage", "25"))
	if f.PerPage < 1 || f.PerPage > 200 {
		f.PerPage = 25
	}
	if f.Order != "ASC" {
		f.Order = "DESC"
	}
	v := eventsView{Form: f, Types: epcisTypes, Advanced: f.Type != "" || f.From != "" || f.To != "" || f.GTIN != "" || f.Lot != "" || f.Order == "ASC" || f.PerPage != 25}
	for _, k := range sortedKeys(stepLabels) {
		v.Steps = append(v.Steps, kv{k, stepLabels[k]})
	}
	q := url.Values{}
	if f.EPC != "" {
		q.Set("MATCH_anyEPC", f.EPC)
	}
	if f.BizStep != "" {
		q.Set("EQ_bizStep", f.BizStep)
	}
	if f.Type != "" {
		q.Set("eventType", f.Type)
	}
	if f.GTIN != "" || f.Lot != "" {
		q.Set("gtin", f.GTIN)
		q.Set("lot", f.Lot)
	}
	q.Set("orderDirection", f.Order)
	q.Set("perPage", strconv.Itoa(f.PerPage))
	var terr error
	for _, tv := range []struct{ form, param string }{{f.From, "GE_eventTime"}, {f.To, "LT_eventTime"}} {
		t, err := formTime(tv.form)
		if err != nil {
			terr = err
		} else if t != "" {
			q.Set(tv.param, t)
		}
	}
	v.APIQuery = "/epcis/events?" + q.Encode()
	if tok := c.Query("page"); tok != "" {
		q.Set("nextPageToken", tok)
	}
	v.Searched = len(c.Request().URI().QueryString()) > 0
	if terr != nil {
		v.Error = terr.Error()
		c.Status(fiber.StatusBadRequest)
		return a.render(c, "events", pageData{Title: "Events", Nav: "events", Data: v})
	}
	eq, err := gateway.ParseEventQuery(q)
	if err == nil {
		var res gateway.QueryResult
		res, err = a.svc.QueryEvents(c.UserContext(), eq)
		if err == nil {
			ctx := c.UserContext()
			for _, r := range res.Events {
				v.Events = append(v.Events, summaryOf(a.describe(ctx, r, true)))
			}
			if res.NextPageToken != "" {
				nq := c.Queries()
				vals := url.Values{}
				for k, x := range nq {
					vals.Set(k, x)
				}
				vals.Set("page", res.NextPageToken)
				v.Next = "/events?" + vals.Encode()
			}
		}
	}
	if err != nil {
		p := problemOf(err, false)
		if p.Status >= 500 {
			return err
		}
		v.Error = p.Detail
		c.Status(p.Status)
	}
	return a.render(c, "events", pageData{Title: "Events", Nav: "events", Data: v})
}

// eventPageView is /events/{id}'s data.
type eventPageView struct {
	E         eventView
	Batch     *store.BatchRecord
	BatchHash string
	ProofURL  string
	VerifyURL string
	Passports []ident
}

func (a *App) eventPage(c *fiber.Ctx) error {
	id, err := eventIDParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	r, err := a.svc.EventByID(ctx, id)
	if err != nil {
		return err
	}
	v := eventPageView{E: a.describe(ctx, r, true)}
	if b, err := a.svc.Store().Batch(r.Edge, r.Seq); err == nil {
		v.Batch = &b
	}
	v.ProofURL = "/api/v1/events/" + v.E.Hash + "/proof"
	v.VerifyURL = "/verify?eventID=" + url.QueryEscape(v.E.ID)
	seen := map[string]bool{}
	for _, o := range v.E.Objects {
		link := o.Link
		if o.GTIN != "" && o.Lot == "" && o.SSCC == "" {
			if l, err := a.svc.Store().LotOf(gateway.CanonicalID(o.Raw)); err == nil {
				// The lot passport tells more than a single pack's.
				dl := epc.DigitalLink{GTIN: l.GTIN, Lot: l.Lot}
				o = ident{Raw: o.Raw, Label: strings.Split(o.Label, " · ")[0] + " · lot " + l.Lot, Link: dl.Path()}
				link = o.Link
			}
		}
		if link != "" && !seen[link] && len(v.Passports) < 6 {
			seen[link] = true
			v.Passports = append(v.Passports, o)
		}
	}
	return a.render(c, "event", pageData{Title: v.E.Sentence, Nav: "events", Data: v})
}

// ---- Batches ----

type batchesView struct {
	Batches []store.BatchSummary
	Heads   []store.EdgeHead
	Anchor  gateway.AnchorStatus
	Ledger  ledger.Info
}

func (a *App) batchesPage(c *fiber.Ctx) error {
	bs, err := a.svc.Store().RecentBatches(100)
	if err != nil {
		return &gateway.Error{Kind: gateway.KindUnavailable, Title: "store unavailable", Detail: err.Error(), Err: err}
	}
	heads, err := a.svc.Store().Edges()
	if err != nil {
		return &gateway.Error{Kind: gateway.KindUnavailable, Title: "store unavailable", Detail: err.Error(), Err: err}
	}
	return a.render(c, "batches", pageData{Title: "Batches", Nav: "batches", Wide: true,
		Data: batchesView{Batches: bs, Heads: heads, Anchor: a.svc.AnchorStatus(), Ledger: a.svc.LedgerInfo()}})
}

// ---- Edges ----

type edgesView struct {
	Local []edgeCard
	Heads []store.EdgeHead
}

func (a *App) edgesPage(c *fiber.Ctx) error {
	heads, err := a.svc.Store().Edges()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return &gateway.Error{Kind: gateway.KindUnavailable, Title: "store unavailable", Detail: err.Error(), Err: err}
	}
	return a.render(c, "edges", pageData{Title: "Edges", Nav: "edges", Wide: true, Data: edgesView{Local: a.edgeCards(true), Heads: heads}})
}
