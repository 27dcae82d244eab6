package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// Donations (docs/donations.md): hospitals publish requests, charities
// record donors' pledges, confirm what arrives, allocate it to hospitals
// with a stated reason and ship it as traced pallets and lots; the
// hospital confirms what its receiving scans counted. Everything is on
// the ledger and public, except the donor's identity, which only the
// charity reads (and may purge). The ledger's contract decides who may
// do what; the web layer checks forms first so that mistakes get a clear
// message and nothing is written.

func (a *App) donationRoutes(f *fiber.App, api fiber.Router) {
	// JSON API.
	api.Get("/donations", a.donationsJSON)
	api.Get("/donations/requests", a.donationRequestsJSON)
	api.Post("/donations/requests", a.requireUser, a.requireCSRF, a.postDonationRequest)
	api.Post("/donations/requests/:id/close", a.requireUser, a.requireCSRF, a.postCloseRequest)
	api.Get("/donations/pledges", a.pledgesJSON)
	api.Post("/donations/pledges", a.requireUser, a.requireCSRF, a.postPledge)
	api.Post("/donations/pledges/:id/receipt", a.requireUser, a.requireCSRF, a.postPledgeReceipt)
	api.Get("/donations/pledges/:id/donor", a.requireUser, a.donorJSON)
	api.Delete("/donations/pledges/:id/donor", a.requireUser, a.requireCSRF, a.deleteDonor)
	api.Post("/donations/allocations", a.requireUser, a.requireCSRF, a.postAllocation)
	api.Get("/donations/allocations/:id", a.allocationJSON)
	api.Post("/donations/allocations/:id/shipment", a.requireUser, a.requireCSRF, a.postShipment)
	api.Post("/donations/allocations/:id/receipt", a.requireUser, a.requireCSRF, a.postAllocationReceipt)
	api.Get("/donations/receipt/:code", a.receiptJSON)

	// Public pages.
	f.Get("/donations", a.optionalUser, a.donationsPage)
	f.Get("/donations/receipt", a.optionalUser, a.donorReceiptPage)
	f.Get("/donations/allocations/:id", a.optionalUser, a.allocationPage)

	// Hospital and charity pages.
	hosp := a.donRequireOrgKind(ledger.OrgHospital, "hospital")
	f.Get("/hospital", a.requireUser, hosp, a.hospitalPage)
	f.Post("/hospital/requests", a.requireUser, a.requireCSRF, hosp, a.hospitalRequestSubmit)
	f.Post("/hospital/requests/:id/close", a.requireUser, a.requireCSRF, hosp, a.hospitalCloseSubmit)
	f.Post("/hospital/allocations/:id/receipt", a.requireUser, a.requireCSRF, hosp, a.hospitalReceiptSubmit)
	char := a.donRequireOrgKind(ledger.OrgCharity, "charity")
	f.Get("/charity", a.requireUser, char, a.charityPage)
	f.Post("/charity/pledges", a.requireUser, a.requireCSRF, char, a.charityPledgeSubmit)
	f.Post("/charity/pledges/:id/receipt", a.requireUser, a.requireCSRF, char, a.charityPledgeReceiptSubmit)
	f.Post("/charity/pledges/:id/donor/purge", a.requireUser, a.requireCSRF, char, a.charityPurgeSubmit)
	f.Post("/charity/allocations", a.requireUser, a.requireCSRF, char, a.charityAllocateSubmit)
	f.Post("/charity/allocations/:id/shipment", a.requireUser, a.requireCSRF, char, a.charityShipSubmit)
}

// donRequireOrgKind lets members of organisations of one kind through
// (after requireUser): the hospital and charity pages. The ledger checks
// every write again, with the user's role.
func (a *App) donRequireOrgKind(kind, label string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		s := c.Locals(localSession).(*session)
		o := a.names.org(c.UserContext(), s.Org)
		if o == nil || o.Kind != kind {
			k := "an unregistered organisation"
			if o != nil {
				k = "a " + o.Kind
			}
			return errForbidden(label+" staff only", fmt.Sprintf("this page is for the staff of a %s; you are signed in for %s (%s)", label, s.Org, k))
		}
		return c.Next()
	}
}

// donationChanged tells the pages watching the live stream that a
// donation record changed (through this gateway).
func (a *App) donationChanged(kind, id string, orgs ...string) {
	a.svc.Bus().Publish(gateway.Update{Type: "donation", Data: map[string]any{"kind": kind, "id": id, "orgs": orgs}})
}

// ---- Input checks: the contract checks again; these say what to fix ----

const (
	maxDonationQty = 100_000_000
	maxDonorBytes  = 16 << 10
	donMaxReason   = 2000
	donMaxName     = 200
	donMaxPseudo   = 100
)

// hiddenRune reports characters that have no place in a form's text:
// control characters (but newline and tab in long texts) and the
// bidirectional overrides that make text read differently than it is
// stored.
func donHiddenRune(r rune, multiline bool) bool {
	if multiline && (r == '\n' || r == '\t' || r == '\r') {
		return false
	}
	if unicode.IsControl(r) || r == utf8.RuneError {
		return true
	}
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0xFEFF
}

// textField checks a free-text field.
func donText(field, s string, maxLen int, required, multiline bool) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid(field+" required", "fill in the "+field)
	}
	if !utf8.ValidString(s) {
		return invalid("invalid "+field, "the "+field+" is not valid UTF-8 text")
	}
	if len(s) > maxLen {
		return invalid(field+" too long", fmt.Sprintf("keep the %s under %d characters (it has %d)", field, maxLen, len(s)))
	}
	for _, r := range s {
		if donHiddenRune(r, multiline) {
			return invalid("hidden character in "+field, fmt.Sprintf("the %s contains the invisible character U+%04X; type it again without pasted formatting", field, r))
		}
	}
	return nil
}

// tokenField checks a lowercase token (an item kind, a hospital role).
func donToken(field, s, example string) error {
	if s == "" {
		return invalid(field+" required", "give the "+field+", for example "+example)
	}
	if len(s) > 32 {
		return invalid(field+" too long", fmt.Sprintf("the %s is at most 32 characters, for example %s", field, example))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return invalid("invalid "+field, fmt.Sprintf("the %s %q may use only lowercase letters a-z, digits and hyphens, for example %s", field, truncateText(s, 40), example))
		}
	}
	return nil
}

// normToken turns what people type into a token: "N95 Mask" → "n95-mask".
func donNormToken(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '_' }), "-")
}

// idField checks a record or organisation ID.
func donID(field, s string) error {
	if s == "" {
		return invalid(field+" required", "give the "+field)
	}
	if len(s) > 128 || !utf8.ValidString(s) {
		return invalid("invalid "+field, "the "+field+" is at most 128 characters of text")
	}
	for _, r := range s {
		if r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) || donHiddenRune(r, false) {
			return invalid("invalid "+field, fmt.Sprintf("the %s %q contains %q, which no ID has", field, truncateText(s, 40), r))
		}
	}
	return nil
}

// gtinField checks an optional GTIN and returns it as 14 digits.
func donGTIN(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", invalid("invalid GTIN", fmt.Sprintf("the GTIN %q has other characters than digits: give the 8, 12, 13 or 14 digits under the barcode", truncateText(s, 20)))
		}
	}
	switch len(s) {
	case 8, 12, 13:
		s = strings.Repeat("0", 14-len(s)) + s
	case 14:
	default:
		return "", invalid("invalid GTIN", fmt.Sprintf("the GTIN %s has %d digits; a GTIN has 8, 12, 13 or 14", s, len(s)))
	}
	if cd, err := epc.CheckDigit(s[:13]); err != nil || cd != s[13] {
		return "", invalid("invalid GTIN", "the GTIN "+s+" has a wrong check digit (the last digit): check it against the pack")
	}
	return s, nil
}

func donQty(field string, n int) error {
	if n < 1 {
		return invalid(field+" must be positive", fmt.Sprintf("the %s must be at least 1 (it is %d)", field, n))
	}
	if n > maxDonationQty {
		return invalid(field+" too large", fmt.Sprintf("the %s is at most %s", field, groupDigits(maxDonationQty)))
	}
	return nil
}

// itemIn is an item in a request body.
type donItemIn struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	GTIN string `json:"gtin,omitempty"`
}

func (in donItemIn) check() (ledger.DonationItem, error) {
	if err := donToken("item kind", in.Kind, `"n95-mask"`); err != nil {
		return ledger.DonationItem{}, err
	}
	if err := donText("item name", in.Name, donMaxName, true, false); err != nil {
		return ledger.DonationItem{}, err
	}
	g, err := donGTIN(in.GTIN)
	if err != nil {
		return ledger.DonationItem{}, err
	}
	return ledger.DonationItem{Kind: in.Kind, Name: strings.TrimSpace(in.Name), GTIN: g}, nil
}

// decodeInto reads a JSON request body into v, refusing unknown members
// (a field the API does not take is a mistake worth hearing about). An
// empty body leaves v as it is when optional.
func donDecode(c *fiber.Ctx, v any, shape string, optional bool) error {
	if err := requireJSON(c, fiber.MIMEApplicationJSON); err != nil {
		return err
	}
	body, err := readBody(c, 64<<10)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return invalid("empty body", "send a JSON object: "+shape)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("unreadable body", "the body must be "+shape+": "+strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("unreadable body", "the body must be one JSON object "+shape+", with nothing after it")
	}
	return nil
}

// pathID reads and checks an ID path parameter.
func donPathID(c *fiber.Ctx, field string) (string, error) {
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil {
		return "", invalid("invalid "+field, "the "+field+" in the address is not well-formed")
	}
	return id, donID(field, id)
}

// ---- Receipt codes ----

// A receipt code is "TG-" and 16 base32 characters (80 random bits) in
// groups of four. The ledger keeps only its SHA-256; the donor keeps the
// code.
const receiptCodeChars = 16

var donB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func newReceiptCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return formatReceiptCode(donB32.EncodeToString(b))
}

func formatReceiptCode(body string) string {
	var sb strings.Builder
	sb.WriteString("TG")
	for i := 0; i < len(body); i += 4 {
		sb.WriteString("-" + body[i:min(i+4, len(body))])
	}
	return sb.String()
}

// normReceiptCode reads a code as people type it (any case, with or
// without the dashes and the TG prefix) into its canonical form.
func normReceiptCode(s string) (string, error) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		switch {
		case r == '-' || r == ' ':
		case r >= 'A' && r <= 'Z' || r >= '2' && r <= '7':
			sb.WriteRune(r)
		default:
			return "", invalid("not a receipt code", fmt.Sprintf("a receipt code looks like TG-ABCD-EFGH-JKLM-NPQR: letters and the digits 2 to 7 only (%q is not one of them)", r))
		}
	}
	body := sb.String()
	if len(body) == receiptCodeChars+2 && strings.HasPrefix(body, "TG") {
		body = body[2:]
	}
	if len(body) != receiptCodeChars {
		return "", invalid("not a receipt code", "a receipt code has 16 characters after TG, like TG-ABCD-EFGH-JKLM-NPQR: check that none is missing")
	}
	return formatReceiptCode(body), nil
}

func receiptCodeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// ---- Counts ----

func donN(n int) string { return groupDigits(int64(n)) }

// ---- Operations (API and forms) ----

// requestIn is POST /api/v1/donations/requests.
type donRequestIn struct {
	Item         donItemIn `json:"item"`
	Quantity     int       `json:"quantity"`
	Urgency      string    `json:"urgency"`
	HospitalRole string    `json:"hospitalRole"`
	Note         string    `json:"note,omitempty"`
}

const donRequestShape = `{"item": {"kind", "name", "gtin"}, "quantity", "urgency", "hospitalRole", "note"}`

func (a *App) donCreateRequest(ctx context.Context, s *session, in donRequestIn) (ledger.DonationRequest, error) {
	it, err := in.Item.check()
	if err != nil {
		return ledger.DonationRequest{}, err
	}
	if err := donQty("quantity", in.Quantity); err != nil {
		return ledger.DonationRequest{}, err
	}
	if !contains(ledger.DonationUrgencies, in.Urgency) {
		return ledger.DonationRequest{}, invalid("invalid urgency", fmt.Sprintf("the urgency %q is not one of %s", truncateText(in.Urgency, 20), strings.Join(ledger.DonationUrgencies, ", ")))
	}
	if err := donToken("hospital role", in.HospitalRole, `"designated-fever-hospital"`); err != nil {
		return ledger.DonationRequest{}, err
	}
	if err := donText("note", in.Note, donMaxReason, false, true); err != nil {
		return ledger.DonationRequest{}, err
	}
	r, _, err := a.svc.Ledger().RequestDonation(ctx, s.identity(), ledger.DonationRequest{Item: it, Quantity: in.Quantity, Urgency: in.Urgency,
		HospitalRole: in.HospitalRole, Note: strings.TrimSpace(in.Note)})
	if err != nil {
		return r, err
	}
	a.log.Info("donation requested", "id", r.ID, "hospital", r.Hospital, "user", s.User, "tx", r.TxID)
	a.donationChanged("request", r.ID, r.Hospital)
	return r, nil
}

func (a *App) donCloseRequest(ctx context.Context, s *session, id, note string) (ledger.DonationRequest, error) {
	if err := donID("request ID", id); err != nil {
		return ledger.DonationRequest{}, err
	}
	if err := donText("note", note, 1000, false, true); err != nil {
		return ledger.DonationRequest{}, err
	}
	r, _, err := a.svc.Ledger().CloseRequest(ctx, s.identity(), id, strings.TrimSpace(note))
	if err != nil {
		return r, err
	}
	a.donationChanged("request", r.ID, r.Hospital)
	return r, nil
}

// pledgeIn is POST /api/v1/donations/pledges.
type donPledgeIn struct {
	Charity        string          `json:"charity,omitempty"`
	DonorPseudonym string          `json:"donorPseudonym"`
	Kind           string          `json:"kind"`
	Item           *donItemIn      `json:"item,omitempty"`
	Quantity       int             `json:"quantity,omitempty"`
	Amount         int64           `json:"amount,omitempty"`
	Currency       string          `json:"currency,omitempty"`
	Donor          json.RawMessage `json:"donor,omitempty"`
}

const donPledgeShape = `{"charity", "donorPseudonym", "kind": "goods" or "money", "item": {"kind", "name", "gtin"}, "quantity" (goods), "amount" (minor units), "currency" (money), "donor": {…} (optional, private)}`

// checkDonor checks a donor identity: a JSON object of at most 16 KiB
// whose texts carry no hidden characters. It returns it compacted.
func donCheckDonor(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil || !strings.HasPrefix(buf.String(), "{") {
		return nil, invalid("invalid donor identity", `the donor identity is a JSON object, like {"name": "…", "email": "…"}`)
	}
	if buf.Len() > maxDonorBytes {
		return nil, invalid("donor identity too long", fmt.Sprintf("keep the donor identity under %d bytes", maxDonorBytes))
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		return nil, invalid("invalid donor identity", err.Error())
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case string:
			return donText("donor identity", x, maxDonorBytes, false, true)
		case map[string]any:
			if len(x) == 0 {
				return invalid("empty donor identity", "leave the donor identity out, or give at least one field (a name, an email)")
			}
			for k, e := range x {
				if err := donText("donor identity", k, 200, true, false); err != nil {
					return err
				}
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pledgeResult is what recording a pledge returns: the receipt code once.
type pledgeResult struct {
	Pledge      ledger.Pledge `json:"pledge"`
	ReceiptCode string        `json:"receiptCode"`
	ReceiptURL  string        `json:"receiptURL"`
	// Warning says the donor's identity could not be kept (the pledge
	// and its code are recorded); the charity may try again.
	Warning string `json:"warning,omitempty"`
}

func (a *App) donRecordPledge(ctx context.Context, s *session, in donPledgeIn, base string) (pledgeResult, error) {
	var res pledgeResult
	if in.Charity != "" {
		if err := donID("charity", in.Charity); err != nil {
			return res, err
		}
	}
	in.DonorPseudonym = strings.TrimSpace(in.DonorPseudonym)
	if err := donText("donor pseudonym", in.DonorPseudonym, donMaxPseudo, true, false); err != nil {
		return res, invalid(problemOf(err, false).Title, problemOf(err, false).Detail+`: the public sees the donor only by this name ("Anonymous donor" will do)`)
	}
	p := ledger.Pledge{Charity: in.Charity, DonorPseudonym: in.DonorPseudonym, Kind: in.Kind}
	switch in.Kind {
	case ledger.PledgeGoods:
		if in.Item == nil {
			return res, invalid("item required", "a pledge of goods names its item: kind, name and (optional) GTIN")
		}
		it, err := in.Item.check()
		if err != nil {
			return res, err
		}
		if err := donQty("quantity", in.Quantity); err != nil {
			return res, err
		}
		if in.Amount != 0 || in.Currency != "" {
			return res, invalid("goods or money", "a pledge of goods has a quantity, not an amount or a currency")
		}
		p.Item, p.Quantity = &it, in.Quantity
	case ledger.PledgeMoney:
		if in.Item != nil || in.Quantity != 0 {
			return res, invalid("goods or money", "a pledge of money has an amount and a currency, not an item or a quantity")
		}
		if len(in.Currency) != 3 || strings.Trim(in.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return res, invalid("invalid currency", fmt.Sprintf("the currency %q is not an ISO 4217 code such as EUR or USD", truncateText(in.Currency, 12)))
		}
		if in.Amount < 1 || in.Amount > maxMinor {
			return res, invalid("invalid amount", "the amount, in minor units (cents), must be more than 0 and less than 10^18")
		}
		p.Amount, p.Currency = in.Amount, in.Currency
	case "":
		return res, invalid("kind required", `say whether the pledge is "goods" or "money"`)
	default:
		return res, invalid("invalid kind", fmt.Sprintf(`the pledge kind %q is neither "goods" nor "money"`, truncateText(in.Kind, 20)))
	}
	donor, err := donCheckDonor(in.Donor)
	if err != nil {
		return res, err
	}
	code := newReceiptCode()
	p.ReceiptCodeHash = receiptCodeHash(code)
	p, _, err = a.svc.Ledger().RecordPledge(ctx, s.identity(), p)
	if err != nil {
		return res, err
	}
	res = pledgeResult{Pledge: p, ReceiptCode: code, ReceiptURL: base + "/donations/receipt?code=" + url.QueryEscape(code)}
	a.log.Info("pledge recorded", "id", p.ID, "charity", p.Charity, "user", s.User, "tx", p.TxID)
	if donor != nil {
		if _, err := a.svc.Ledger().PutDonorIdentity(ctx, s.identity(), p.ID, donor); err != nil {
			a.log.Error("keep donor identity", "pledge", p.ID, "err", err)
			res.Warning = "the pledge is recorded, but the donor's identity could not be kept: " + problemOf(err, false).Detail
		}
	}
	a.donationChanged("pledge", p.ID, p.Charity)
	return res, nil
}

func (a *App) donConfirmPledge(ctx context.Context, s *session, id string, qty int64) (ledger.Pledge, error) {
	if err := donID("pledge ID", id); err != nil {
		return ledger.Pledge{}, err
	}
	if qty < 1 || qty > maxMinor {
		return ledger.Pledge{}, invalid("quantity must be positive", fmt.Sprintf("give what arrived: at least 1 (units of goods, or the amount in minor units); it is %d", qty))
	}
	p, err := a.svc.Ledger().Pledge(ctx, a.svc.Config().Reader, id)
	if err != nil {
		return p, err
	}
	if p.Kind == ledger.PledgeGoods && qty > maxDonationQty {
		return p, invalid("quantity too large", "a receipt of goods is at most "+donN(maxDonationQty)+" units")
	}
	p, _, err = a.svc.Ledger().ConfirmPledgeReceipt(ctx, s.identity(), id, qty)
	if err != nil {
		return p, err
	}
	a.log.Info("pledge received", "id", p.ID, "charity", p.Charity, "quantity", qty, "user", s.User)
	a.donationChanged("pledge", p.ID, p.Charity)
	return p, nil
}

// allocationIn is POST /api/v1/donations/allocations.
type donAllocationIn struct {
	Charity    string    `json:"charity,omitempty"`
	Hospital   string    `json:"hospital"`
	Item       donItemIn `json:"item"`
	Quantity   int       `json:"quantity"`
	RequestIDs []string  `json:"requestIDs"`
	Reason     string    `json:"reason"`
}

const donAllocationShape = `{"charity", "hospital", "item": {"kind", "name", "gtin"}, "quantity", "requestIDs": [...], "reason"}`

func (a *App) donAllocate(ctx context.Context, s *session, in donAllocationIn) (ledger.Allocation, error) {
	if in.Charity == "" {
		in.Charity = s.Org
	}
	if err := donID("charity", in.Charity); err != nil {
		return ledger.Allocation{}, err
	}
	if err := donID("hospital", in.Hospital); err != nil {
		return ledger.Allocation{}, err
	}
	it, err := in.Item.check()
	if err != nil {
		return ledger.Allocation{}, err
	}
	if err := donQty("quantity", in.Quantity); err != nil {
		return ledger.Allocation{}, err
	}
	if len(in.RequestIDs) == 0 {
		return ledger.Allocation{}, invalid("requests required", "an allocation answers the hospital's requests: name at least one")
	}
	if len(in.RequestIDs) > 100 {
		return ledger.Allocation{}, invalid("too many requests", "an allocation answers at most 100 requests")
	}
	seen := map[string]bool{}
	for _, id := range in.RequestIDs {
		if err := donID("request ID", id); err != nil {
			return ledger.Allocation{}, err
		}
		if seen[id] {
			return ledger.Allocation{}, invalid("request listed twice", "request "+id+" is listed twice")
		}
		seen[id] = true
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := donText("reason", in.Reason, donMaxReason, true, true); err != nil {
		return ledger.Allocation{}, invalid(problemOf(err, false).Title, problemOf(err, false).Detail+": the public reads why this hospital gets these goods")
	}
	// What the charity holds, with the figures, before the ledger is
	// asked (it refuses too). Only for the charity's own staff: anyone
	// else hears from the ledger that they may not allocate.
	var held ledger.DonationStock
	o := a.names.org(ctx, in.Charity)
	own := in.Charity == s.Org && o != nil && o.Kind == ledger.OrgCharity
	if own {
		stock, err := a.svc.Ledger().DonationStock(ctx, a.svc.Config().Reader, in.Charity)
		if err != nil {
			return ledger.Allocation{}, err
		}
		for _, st := range stock {
			if st.Item.Kind == it.Kind && st.Item.GTIN == it.GTIN {
				held = st
			}
		}
	}
	if own && in.Quantity > held.Unallocated {
		return ledger.Allocation{}, &gateway.Error{Kind: gateway.KindConflict, Title: "not enough unallocated stock",
			Detail: fmt.Sprintf("allocating %s %s, but %s holds %s unallocated (received %s, allocated %s): allocate at most %s",
				donN(in.Quantity), donItemText(it), a.orgLabel(ctx, in.Charity, ""), donN(held.Unallocated), donN(held.Received), donN(held.Allocated), donN(held.Unallocated)),
			Extra: map[string]any{"quantity": in.Quantity, "unallocated": held.Unallocated, "received": held.Received, "allocated": held.Allocated}}
	}
	al, _, err := a.svc.Ledger().Allocate(ctx, s.identity(), ledger.Allocation{Charity: in.Charity, Hospital: in.Hospital, Item: it,
		Quantity: in.Quantity, RequestIDs: in.RequestIDs, Reason: in.Reason})
	if err != nil {
		return al, err
	}
	a.log.Info("donation allocated", "id", al.ID, "charity", al.Charity, "hospital", al.Hospital, "quantity", al.Quantity, "user", s.User, "tx", al.TxID)
	a.donationChanged("allocation", al.ID, al.Charity, al.Hospital)
	return al, nil
}

// shipmentIn is POST /api/v1/donations/allocations/{id}/shipment.
type donShipmentIn struct {
	Pallets  []string            `json:"pallets"`
	Lots     []ledger.ShippedLot `json:"lots,omitempty"`
	Quantity int                 `json:"quantity"`
}

const donShipmentShape = `{"pallets": ["urn:epc:id:sscc:…"], "lots": [{"gtin", "lot"}], "quantity"}`

// palletField reads a pallet as an SSCC EPC URI in canonical form.
func donPallet(s string) (string, error) {
	s = strings.TrimSpace(s)
	e, err := epc.ParseURI(s)
	if err != nil || e.Scheme != epc.SSCC || !strings.HasPrefix(strings.ToLower(s), "urn:epc:id:") {
		return "", invalid("invalid pallet", fmt.Sprintf("the pallet %q is not an SSCC EPC URI: write it like urn:epc:id:sscc:0614141.1234567890 (as the pallet label's RFID tag reads)", truncateText(s, 60)))
	}
	return e.URI(), nil
}

func (a *App) donShip(ctx context.Context, s *session, id string, in donShipmentIn) (ledger.Allocation, error) {
	if err := donID("allocation ID", id); err != nil {
		return ledger.Allocation{}, err
	}
	if len(in.Pallets) == 0 {
		return ledger.Allocation{}, invalid("pallets required", "name the traced pallets shipped (SSCC EPC URIs): the hospital's receiving scan finds them")
	}
	if len(in.Pallets) > 1000 || len(in.Lots) > 1000 {
		return ledger.Allocation{}, invalid("too many pallets or lots", "a shipment names at most 1000 pallets and 1000 lots")
	}
	seen := map[string]bool{}
	for i, p := range in.Pallets {
		canon, err := donPallet(p)
		if err != nil {
			return ledger.Allocation{}, err
		}
		if seen[canon] {
			return ledger.Allocation{}, invalid("pallet listed twice", "the pallet "+canon+" is listed twice")
		}
		seen[canon] = true
		in.Pallets[i] = canon
	}
	for i, l := range in.Lots {
		g, err := donGTIN(l.GTIN)
		if err != nil {
			return ledger.Allocation{}, err
		}
		if g == "" {
			return ledger.Allocation{}, invalid("GTIN required", "each lot is named by its product's GTIN and its lot number")
		}
		lot := strings.TrimSpace(l.Lot)
		if lot == "" || len(lot) > 20 {
			return ledger.Allocation{}, invalid("invalid lot", "a lot number has 1 to 20 characters")
		}
		if _, err := epc.ParseDigitalLink("/01/" + g + "/10/" + url.PathEscape(lot)); err != nil {
			return ledger.Allocation{}, invalid("invalid lot", fmt.Sprintf("the lot %q has characters a GS1 lot number cannot have", truncateText(lot, 24)))
		}
		if seen["lot "+g+"/"+lot] {
			return ledger.Allocation{}, invalid("lot listed twice", "lot "+lot+" of GTIN "+g+" is listed twice")
		}
		seen["lot "+g+"/"+lot] = true
		in.Lots[i] = ledger.ShippedLot{GTIN: g, Lot: lot}
	}
	if err := donQty("quantity", in.Quantity); err != nil {
		return ledger.Allocation{}, err
	}
	al, err := a.svc.Ledger().Allocation(ctx, a.svc.Config().Reader, id)
	if err != nil {
		return al, err
	}
	if in.Quantity > al.Quantity {
		return al, invalid("more than allocated", fmt.Sprintf("shipping %s but the allocation is for %s: ship at most %s", donN(in.Quantity), donN(al.Quantity), donN(al.Quantity)))
	}
	al, _, err = a.svc.Ledger().ShipAllocation(ctx, s.identity(), id, ledger.Shipment{Pallets: in.Pallets, Lots: in.Lots, Quantity: in.Quantity})
	if err != nil {
		return al, err
	}
	a.log.Info("donation shipped", "id", al.ID, "pallets", len(in.Pallets), "quantity", in.Quantity, "user", s.User, "tx", al.ShipmentTxID)
	a.donationChanged("allocation", al.ID, al.Charity, al.Hospital)
	return al, nil
}

// receiptIn is POST /api/v1/donations/allocations/{id}/receipt.
type donReceiptIn struct {
	Received *int   `json:"received,omitempty"`
	Note     string `json:"note,omitempty"`
}

// donConfirmReceipt records what the hospital received of a shipped
// allocation: the count given, else what its receiving scans counted.
func (a *App) donConfirmReceipt(ctx context.Context, s *session, id string, in donReceiptIn) (ledger.Allocation, error) {
	if err := donID("allocation ID", id); err != nil {
		return ledger.Allocation{}, err
	}
	if err := donText("note", in.Note, donMaxReason, false, true); err != nil {
		return ledger.Allocation{}, err
	}
	al, err := a.svc.Ledger().Allocation(ctx, a.svc.Config().Reader, id)
	if err != nil {
		return al, err
	}
	var n int
	if in.Received != nil {
		n = *in.Received
		if n < 0 {
			return al, invalid("received must not be negative", fmt.Sprintf("give the number of units that arrived, 0 to %s (it is %d)", donN(al.Shipped), n))
		}
		if al.Status == ledger.AllocationShipped && n > al.Shipped {
			return al, invalid("more than shipped", fmt.Sprintf("%s were shipped; you can confirm at most %s (count again, or tell the charity)", donN(al.Shipped), donN(al.Shipped)))
		}
	} else {
		switch al.Status {
		case ledger.AllocationReceived:
			return al, &gateway.Error{Kind: gateway.KindConflict, Title: "already received",
				Detail: fmt.Sprintf("allocation %s was already received (%s of %s) on %s; a receipt is confirmed once", al.ID, donN(al.Received), donN(al.Quantity), fmtTime(al.ReceivedAt))}
		case ledger.AllocationAllocated:
			return al, &gateway.Error{Kind: gateway.KindConflict, Title: "not shipped yet",
				Detail: fmt.Sprintf("allocation %s has not been shipped yet: confirm it once it arrives", al.ID)}
		}
		scan, err := a.svc.ScanReceipt(ctx, al)
		if err != nil {
			return al, err
		}
		if scan.Packs == 0 {
			return al, invalid("nothing scanned yet", "the hospital's receiving scans show none of this shipment yet: scan the pallets at the dock, or give the count you received (received)")
		}
		n = scan.Packs
	}
	al, _, err = a.svc.Ledger().ConfirmAllocationReceipt(ctx, s.identity(), id, n, strings.TrimSpace(in.Note))
	if err != nil {
		return al, err
	}
	a.log.Info("donation received", "id", al.ID, "hospital", al.Hospital, "received", al.Received, "shortfall", al.Shortfall, "user", s.User, "tx", al.ReceiptTxID)
	a.donationChanged("allocation", al.ID, al.Charity, al.Hospital)
	return al, nil
}

// ---- Overview: per hospital and per charity ----

type hospitalSummary struct {
	Org       string                   `json:"org"`
	Name      string                   `json:"name"`
	Requested int                      `json:"requested"`
	Allocated int                      `json:"allocated"`
	Received  int                      `json:"received"`
	Shortfall int                      `json:"shortfall"`
	Requests  []ledger.DonationRequest `json:"requests"`
}

type donDeliveryHours struct {
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Count  int     `json:"count"`
}

type donMoneyTotal struct {
	Currency string `json:"currency"`
	Pledged  int64  `json:"pledged"`
	Received int64  `json:"received"`
}

type charitySummary struct {
	Org           string                 `json:"org"`
	Name          string                 `json:"name"`
	Stock         []ledger.DonationStock `json:"stock"`
	Unallocated   int                    `json:"unallocated"`
	Delivered     int                    `json:"delivered"`
	DeliveryHours donDeliveryHours       `json:"deliveryHours"`
	Money         []donMoneyTotal        `json:"money"`
}

type donationsOverview struct {
	Hospitals   []hospitalSummary   `json:"hospitals"`
	Charities   []charitySummary    `json:"charities"`
	Allocations []ledger.Allocation `json:"allocations"`

	orgs     map[string]ledger.Org
	requests map[string]ledger.DonationRequest
	pledges  []ledger.Pledge
}

// drawnPledges are the received goods pledges whose units an allocation
// drew (first in, first out: the unit ranges overlap).
func drawnPledges(al ledger.Allocation, pledges []ledger.Pledge) []ledger.Pledge {
	var out []ledger.Pledge
	for _, p := range pledges {
		if p.Charity != al.Charity || p.Kind != ledger.PledgeGoods || p.Status != ledger.PledgeReceived || p.Item == nil ||
			p.Item.Kind != al.Item.Kind || p.Item.GTIN != al.Item.GTIN {
			continue
		}
		if p.StockFrom < al.StockFrom+al.Quantity && p.StockFrom+p.ReceivedQuantity > al.StockFrom {
			out = append(out, p)
		}
	}
	return out
}

// deliveryTime is the time from the charity's receipt of the goods an
// allocation drew (the latest of its pledges' receipts) to the hospital's
// receipt.
func deliveryTime(al ledger.Allocation, pledges []ledger.Pledge) (time.Duration, bool) {
	if al.Status != ledger.AllocationReceived {
		return 0, false
	}
	var latest time.Time
	for _, p := range drawnPledges(al, pledges) {
		if p.ReceivedAt.After(latest) {
			latest = p.ReceivedAt
		}
	}
	if latest.IsZero() {
		return 0, false
	}
	return max(al.ReceivedAt.Sub(latest), 0), true
}

func donRound1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func (a *App) donationsOverview(ctx context.Context) (donationsOverview, error) {
	l, rd := a.svc.Ledger(), a.svc.Config().Reader
	v := donationsOverview{Hospitals: []hospitalSummary{}, Charities: []charitySummary{}, orgs: map[string]ledger.Org{}, requests: map[string]ledger.DonationRequest{}}
	orgs, err := l.Orgs(ctx, rd)
	if err != nil {
		return v, err
	}
	for _, o := range orgs {
		v.orgs[o.ID] = o
	}
	reqs, err := l.Requests(ctx, rd, "")
	if err != nil {
		return v, err
	}
	if v.Allocations, err = l.Allocations(ctx, rd, ""); err != nil {
		return v, err
	}
	if v.Allocations == nil {
		v.Allocations = []ledger.Allocation{}
	}
	if v.pledges, err = l.Pledges(ctx, rd, ""); err != nil {
		return v, err
	}
	hosp := map[string]*hospitalSummary{}
	hospital := func(id string) *hospitalSummary {
		if h := hosp[id]; h != nil {
			return h
		}
		h := &hospitalSummary{Org: id, Name: a.donOrgName(v.orgs, id), Requests: []ledger.DonationRequest{}}
		hosp[id] = h
		return h
	}
	for _, r := range reqs {
		v.requests[r.ID] = r
		if o, ok := v.orgs[r.Hospital]; ok && o.Kind != ledger.OrgHospital {
			continue
		}
		h := hospital(r.Hospital)
		h.Requested += r.Quantity
		h.Requests = append(h.Requests, r)
	}
	charities := map[string]bool{}
	for _, al := range v.Allocations {
		h := hospital(al.Hospital)
		h.Allocated += al.Quantity
		if al.Status == ledger.AllocationReceived {
			h.Received += al.Received
			h.Shortfall += al.Shortfall
		}
		charities[al.Charity] = true
	}
	for _, p := range v.pledges {
		charities[p.Charity] = true
	}
	for _, o := range orgs {
		if o.Kind == ledger.OrgCharity {
			charities[o.ID] = charities[o.ID] || false
		}
	}
	for _, h := range hosp {
		v.Hospitals = append(v.Hospitals, *h)
	}
	sort.Slice(v.Hospitals, func(i, j int) bool { return v.Hospitals[i].Name < v.Hospitals[j].Name })
	for id := range charities {
		cs := charitySummary{Org: id, Name: a.donOrgName(v.orgs, id), Money: []donMoneyTotal{}}
		if cs.Stock, err = l.DonationStock(ctx, rd, id); err != nil {
			return v, err
		}
		if cs.Stock == nil {
			cs.Stock = []ledger.DonationStock{}
		}
		for _, st := range cs.Stock {
			cs.Unallocated += st.Unallocated
		}
		var hours []float64
		for _, al := range v.Allocations {
			if al.Charity != id || al.Status != ledger.AllocationReceived {
				continue
			}
			cs.Delivered += al.Received
			if d, ok := deliveryTime(al, v.pledges); ok {
				hours = append(hours, d.Hours())
			}
		}
		sort.Float64s(hours)
		if n := len(hours); n > 0 {
			med := hours[n/2]
			if n%2 == 0 {
				med = (hours[n/2-1] + hours[n/2]) / 2
			}
			cs.DeliveryHours = donDeliveryHours{Median: donRound1(med), Max: donRound1(hours[n-1]), Count: n}
		}
		money := map[string]*donMoneyTotal{}
		for _, p := range v.pledges {
			if p.Charity != id || p.Kind != ledger.PledgeMoney {
				continue
			}
			m := money[p.Currency]
			if m == nil {
				m = &donMoneyTotal{Currency: p.Currency}
				money[p.Currency] = m
			}
			m.Pledged += p.Amount
			m.Received += p.ReceivedAmount
		}
		for _, cur := range sortedKeys(money) {
			cs.Money = append(cs.Money, *money[cur])
		}
		if len(cs.Stock) == 0 && cs.Delivered == 0 && len(cs.Money) == 0 && !donHasPledges(v.pledges, id) {
			continue
		}
		v.Charities = append(v.Charities, cs)
	}
	sort.Slice(v.Charities, func(i, j int) bool { return v.Charities[i].Name < v.Charities[j].Name })
	return v, nil
}

func donHasPledges(ps []ledger.Pledge, charity string) bool {
	for _, p := range ps {
		if p.Charity == charity {
			return true
		}
	}
	return false
}

func (a *App) donOrgName(orgs map[string]ledger.Org, id string) string {
	if o, ok := orgs[id]; ok && o.Name != "" {
		return o.Name
	}
	return id
}

// ---- JSON API handlers ----

func (a *App) donationsJSON(c *fiber.Ctx) error {
	v, err := a.donationsOverview(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, v)
}

func (a *App) donationRequestsJSON(c *fiber.Ctx) error {
	h := strings.TrimSpace(c.Query("hospital"))
	if h != "" {
		if err := donID("hospital", h); err != nil {
			return err
		}
	}
	list, err := a.svc.Ledger().Requests(c.UserContext(), a.svc.Config().Reader, h)
	if err != nil {
		return err
	}
	if list == nil {
		list = []ledger.DonationRequest{}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"requests": list})
}

func (a *App) postDonationRequest(c *fiber.Ctx) error {
	var in donRequestIn
	if err := donDecode(c, &in, donRequestShape, false); err != nil {
		return err
	}
	r, err := a.donCreateRequest(c.UserContext(), c.Locals(localSession).(*session), in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, r)
}

func (a *App) postCloseRequest(c *fiber.Ctx) error {
	id, err := donPathID(c, "request ID")
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := donDecode(c, &in, `{"note"}`, true); err != nil {
		return err
	}
	r, err := a.donCloseRequest(c.UserContext(), c.Locals(localSession).(*session), id, in.Note)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, r)
}

func (a *App) pledgesJSON(c *fiber.Ctx) error {
	ch := strings.TrimSpace(c.Query("charity"))
	if ch != "" {
		if err := donID("charity", ch); err != nil {
			return err
		}
	}
	list, err := a.svc.Ledger().Pledges(c.UserContext(), a.svc.Config().Reader, ch)
	if err != nil {
		return err
	}
	if list == nil {
		list = []ledger.Pledge{}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"pledges": list})
}

func (a *App) postPledge(c *fiber.Ctx) error {
	var in donPledgeIn
	if err := donDecode(c, &in, donPledgeShape, false); err != nil {
		return err
	}
	res, err := a.donRecordPledge(c.UserContext(), c.Locals(localSession).(*session), in, a.baseURL(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, res)
}

func (a *App) postPledgeReceipt(c *fiber.Ctx) error {
	id, err := donPathID(c, "pledge ID")
	if err != nil {
		return err
	}
	var in struct {
		Quantity *int64 `json:"quantity"`
	}
	if err := donDecode(c, &in, `{"quantity"}`, false); err != nil {
		return err
	}
	if in.Quantity == nil {
		return invalid("quantity required", "give the quantity received: units of goods, or the amount of money in minor units")
	}
	p, err := a.donConfirmPledge(c.UserContext(), c.Locals(localSession).(*session), id, *in.Quantity)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, p)
}

func (a *App) donorJSON(c *fiber.Ctx) error {
	id, err := donPathID(c, "pledge ID")
	if err != nil {
		return err
	}
	d, err := a.svc.Ledger().DonorIdentity(c.UserContext(), c.Locals(localSession).(*session).identity(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, d)
}

func (a *App) donPurgeDonor(ctx context.Context, s *session, id string) error {
	if err := donID("pledge ID", id); err != nil {
		return err
	}
	if _, err := a.svc.Ledger().PurgeDonorIdentity(ctx, s.identity(), id); err != nil {
		return err
	}
	a.log.Info("donor identity purged", "pledge", id, "user", s.User, "org", s.Org)
	return nil
}

func (a *App) deleteDonor(c *fiber.Ctx) error {
	id, err := donPathID(c, "pledge ID")
	if err != nil {
		return err
	}
	if err := a.donPurgeDonor(c.UserContext(), c.Locals(localSession).(*session), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *App) postAllocation(c *fiber.Ctx) error {
	var in donAllocationIn
	if err := donDecode(c, &in, donAllocationShape, false); err != nil {
		return err
	}
	al, err := a.donAllocate(c.UserContext(), c.Locals(localSession).(*session), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/donations/allocations/"+al.ID)
	return sendJSON(c, fiber.StatusCreated, fiber.MIMEApplicationJSON, al)
}

func (a *App) postShipment(c *fiber.Ctx) error {
	id, err := donPathID(c, "allocation ID")
	if err != nil {
		return err
	}
	var in donShipmentIn
	if err := donDecode(c, &in, donShipmentShape, false); err != nil {
		return err
	}
	al, err := a.donShip(c.UserContext(), c.Locals(localSession).(*session), id, in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, al)
}

func (a *App) postAllocationReceipt(c *fiber.Ctx) error {
	id, err := donPathID(c, "allocation ID")
	if err != nil {
		return err
	}
	var in donReceiptIn
	if err := donDecode(c, &in, `{"received" (optional: the scanned count), "note"}`, true); err != nil {
		return err
	}
	al, err := a.donConfirmReceipt(c.UserContext(), c.Locals(localSession).(*session), id, in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, al)
}

func (a *App) allocationJSON(c *fiber.Ctx) error {
	id, err := donPathID(c, "allocation ID")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	al, err := a.svc.Ledger().Allocation(ctx, a.svc.Config().Reader, id)
	if err != nil {
		return err
	}
	scan, err := a.svc.ScanReceipt(ctx, al)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"allocation": al, "scan": scan})
}

func (a *App) receiptJSON(c *fiber.Ctx) error {
	raw, err := url.PathUnescape(c.Params("code"))
	if err != nil {
		return invalid("not a receipt code", "the receipt code in the address is not well-formed")
	}
	tr, steps, err := a.receiptTrace(c.UserContext(), raw)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{"trace": tr, "path": steps})
}

// ---- A donation's path from pledge to ward ----

// pathStep is one step of a donation's path.
type donStep struct {
	Kind       string              `json:"kind"` // pledged, received, allocated, shipped, delivered, custody, held, money
	At         time.Time           `json:"at,omitzero"`
	Title      string              `json:"title"`
	Detail     string              `json:"detail,omitempty"`
	Org        string              `json:"org,omitempty"`
	OrgName    string              `json:"orgName,omitempty"`
	Allocation string              `json:"allocation,omitempty"`
	Units      int                 `json:"units,omitempty"` // units of this donation in this step
	Reason     string              `json:"reason,omitempty"`
	Requests   []string            `json:"requests,omitempty"`
	Pallets    []string            `json:"pallets,omitempty"`
	Lots       []ledger.ShippedLot `json:"lots,omitempty"`
	Received   *int                `json:"received,omitempty"`
	Shortfall  *int                `json:"shortfall,omitempty"`
	Site       string              `json:"site,omitempty"`
	SiteName   string              `json:"siteName,omitempty"`
	Places     []string            `json:"places,omitempty"` // names of the places seen at the site (a dock, a ward)
	To         time.Time           `json:"to,omitzero"`
	TxID       string              `json:"txID,omitempty"`
	Link       string              `json:"link,omitempty"`
}

func donItemText(it ledger.DonationItem) string {
	if it.Name != "" {
		return it.Name
	}
	return strings.ReplaceAll(it.Kind, "-", " ")
}

func donPledgeWhat(p ledger.Pledge) string {
	if p.Kind == ledger.PledgeMoney {
		return fmtMoney(p.Amount, p.Currency)
	}
	if p.Item == nil {
		return donN(p.Quantity) + " units"
	}
	return donN(p.Quantity) + " × " + donItemText(*p.Item)
}

func donHuman(s string) string { return strings.ReplaceAll(s, "-", " ") }

func donRequestText(r ledger.DonationRequest) string {
	return fmt.Sprintf("%s × %s, %s urgency, as %s", donN(r.Quantity), donItemText(r.Item), r.Urgency, donHuman(r.HospitalRole))
}

// hospitalSteps are the custody steps at the hospital's sites of what an
// allocation shipped since it was shipped: its lots (else its pallets)
// on their way to the wards.
func (a *App) hospitalSteps(ctx context.Context, al ledger.Allocation) []donStep {
	if al.Shipment == nil {
		return nil
	}
	var out []donStep
	seen := map[string]bool{}
	add := func(steps []gateway.CustodyStep, lot *ledger.ShippedLot, pallet string) {
		for _, st := range steps {
			if st.InTransit || st.Org != al.Hospital || st.To.Before(al.Shipment.ShippedAt) {
				continue
			}
			ps := donStep{Kind: "custody", At: st.From, To: st.To, Org: st.Org, OrgName: a.orgLabel(ctx, st.Org, st.OrgName), Site: st.Site,
				SiteName: a.siteLabel(ctx, st.SiteName, st.Site, st.Places), Allocation: al.ID}
			for _, p := range st.Places {
				if n := a.placeLabel(ctx, p); n != "" && n != ps.SiteName && !contains(ps.Places, n) {
					ps.Places = append(ps.Places, n)
				}
			}
			var steps []string
			for _, b := range st.BizSteps {
				if l := stepLabels[b]; l != "" && !contains(steps, l) {
					steps = append(steps, l)
				}
			}
			what := "the shipment"
			if lot != nil {
				what = "lot " + lot.Lot
				ps.Lots = []ledger.ShippedLot{*lot}
				ps.Link = epc.DigitalLink{GTIN: lot.GTIN, Lot: lot.Lot}.Path()
			} else {
				what = a.containerLabel(ctx, pallet)
				ps.Pallets = []string{pallet}
				ps.Link = passportPath(pallet)
			}
			ps.Title = donCapital(what) + " at " + ps.SiteName
			for i, st := range steps {
				if i == 0 {
					ps.Detail = st
				} else {
					ps.Detail += ", then " + strings.ToLower(st)
				}
			}
			if len(ps.Places) > 0 {
				if ps.Detail != "" {
					ps.Detail += ". "
				}
				ps.Detail += "Seen at " + strings.Join(ps.Places, ", then at ") + "."
			}
			k := ps.Title + ps.At.String()
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, ps)
		}
	}
	for _, l := range al.Shipment.Lots {
		steps, _, err := a.svc.LotCustody(ctx, l.GTIN, l.Lot)
		if err != nil {
			a.log.Warn("lot custody", "gtin", l.GTIN, "lot", l.Lot, "err", err)
			continue
		}
		l := l
		add(steps, &l, "")
	}
	if len(al.Shipment.Lots) == 0 {
		for _, p := range al.Shipment.Pallets {
			steps, _, err := a.svc.Custody(ctx, gateway.CanonicalID(p))
			if err != nil {
				continue
			}
			add(steps, nil, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func donCapital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// allocationSteps are an allocation's steps after its creation: shipped,
// received, and its goods at the hospital.
func (a *App) allocationSteps(ctx context.Context, al ledger.Allocation, units int) []donStep {
	var out []donStep
	hospital := a.orgLabel(ctx, al.Hospital, "")
	if al.Shipment != nil {
		sh := al.Shipment
		st := donStep{Kind: "shipped", At: sh.ShippedAt, Title: "Shipped to " + hospital, Org: al.Charity, OrgName: a.orgLabel(ctx, al.Charity, ""),
			Allocation: al.ID, Units: units, Pallets: sh.Pallets, Lots: sh.Lots, TxID: al.ShipmentTxID}
		st.Detail = fmt.Sprintf("%s of the %s allocated, on %s and %s", donN(sh.Quantity), donN(al.Quantity), plural(len(sh.Pallets), "pallet", "pallets"), plural(len(sh.Lots), "lot", "lots"))
		out = append(out, st)
	}
	if al.Status == ledger.AllocationReceived {
		rec, short := al.Received, al.Shortfall
		st := donStep{Kind: "delivered", At: al.ReceivedAt, Title: "Received by " + hospital, Org: al.Hospital, OrgName: hospital,
			Allocation: al.ID, Units: units, Received: &rec, Shortfall: &short, TxID: al.ReceiptTxID}
		if short > 0 {
			st.Detail = fmt.Sprintf("%s of %s arrived: %s short", donN(rec), donN(al.Quantity), donN(short))
		} else {
			st.Detail = fmt.Sprintf("All %s arrived", donN(rec))
		}
		if al.ReceiptNote != "" {
			st.Detail += ". " + al.ReceiptNote
		}
		out = append(out, st)
	}
	return append(out, a.hospitalSteps(ctx, al)...)
}

// receiptTrace finds a donation by its receipt code and lays out its path.
func (a *App) receiptTrace(ctx context.Context, raw string) (ledger.PledgeTrace, []donStep, error) {
	code, err := normReceiptCode(raw)
	if err != nil {
		return ledger.PledgeTrace{}, nil, err
	}
	tr, err := a.svc.Ledger().PledgeByReceiptCode(ctx, a.svc.Config().Reader, receiptCodeHash(code))
	if errors.Is(err, ledger.ErrNotFound) {
		return tr, nil, notFound("unknown receipt code", "no donation has the receipt code "+code+": check it against your receipt")
	}
	if err != nil {
		return tr, nil, err
	}
	p := tr.Pledge
	charity := a.orgLabel(ctx, p.Charity, "")
	steps := []donStep{{Kind: "pledged", At: p.CreatedAt, Title: "Pledged to " + charity, Detail: donPledgeWhat(p) + " by " + p.DonorPseudonym,
		Org: p.Charity, OrgName: charity, TxID: p.TxID}}
	if p.Status != ledger.PledgeReceived {
		return tr, steps, nil
	}
	rs := donStep{Kind: "received", At: p.ReceivedAt, Title: "Received by " + charity, Org: p.Charity, OrgName: charity}
	if p.Kind == ledger.PledgeMoney {
		rs.Detail = fmtMoney(p.ReceivedAmount, p.Currency) + " arrived"
		steps = append(steps, rs, donStep{Kind: "money", Title: "Money goes to the charity's purchases",
			Detail: "Gifts of money are not traced unit by unit: the charity buys supplies with them, and those are allocated and shipped as goods."})
		return tr, steps, nil
	}
	rs.Units = p.ReceivedQuantity
	rs.Detail = fmt.Sprintf("%s of the %s pledged arrived", donN(p.ReceivedQuantity), donN(p.Quantity))
	steps = append(steps, rs)
	for _, d := range tr.Allocations {
		al := d.Allocation
		st := donStep{Kind: "allocated", At: al.CreatedAt, Title: "Allocated to " + a.orgLabel(ctx, al.Hospital, ""), Org: al.Hospital,
			OrgName: a.orgLabel(ctx, al.Hospital, ""), Allocation: al.ID, Units: d.FromPledge, Reason: al.Reason, TxID: al.TxID,
			Link: "/donations/allocations/" + al.ID}
		st.Detail = fmt.Sprintf("%s of your donation, in an allocation of %s", donN(d.FromPledge), donN(al.Quantity))
		for _, id := range al.RequestIDs {
			if r, err := a.svc.Ledger().Request(ctx, a.svc.Config().Reader, id); err == nil {
				st.Requests = append(st.Requests, "Requested "+donRequestText(r))
			}
		}
		steps = append(steps, st)
		steps = append(steps, a.allocationSteps(ctx, al, d.FromPledge)...)
	}
	if tr.Unallocated > 0 {
		steps = append(steps, donStep{Kind: "held", Title: "Held by " + charity, Org: p.Charity, OrgName: charity, Units: tr.Unallocated,
			Detail: fmt.Sprintf("%s of your donation are in the charity's stock, not allocated yet", donN(tr.Unallocated))})
	}
	return tr, steps, nil
}

// ---- Flash messages (POST, redirect, GET) ----

const donCookieFlash = "tg_flash"

type donFlash struct {
	Msg  string `json:"m"`
	Code string `json:"c,omitempty"` // a new receipt code, shown once
	ID   string `json:"i,omitempty"` // the record it concerns (highlighted)
}

func (a *App) setFlash(c *fiber.Ctx, f donFlash) {
	b, _ := json.Marshal(f)
	c.Cookie(&fiber.Cookie{Name: donCookieFlash, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/", MaxAge: 300, HTTPOnly: true,
		Secure: a.cfg.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode})
}

func (a *App) takeFlash(c *fiber.Ctx) donFlash {
	var f donFlash
	v := c.Cookies(donCookieFlash)
	if v == "" {
		return f
	}
	a.clearCookie(c, donCookieFlash)
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && len(b) < 4096 {
		_ = json.Unmarshal(b, &f)
	}
	return f
}

// formError is the message a form shows for an error: the problem's
// detail (a ledger refusal without its code), as a sentence. Server
// failures are not form errors.
func donFormError(err error) (string, int, bool) {
	p := problemOf(err, false)
	if p.Status >= 500 {
		return "", p.Status, false
	}
	msg := p.Detail
	var le *ledger.Error
	if errors.As(err, &le) && le.Msg != "" {
		msg = le.Msg
	}
	if msg == "" {
		msg = p.Title
	}
	msg = donCapital(strings.TrimSpace(msg))
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg, p.Status, true
}

// ---- Views shared by the pages ----

type donReqRow struct {
	ledger.DonationRequest
	HospitalName string
	ItemText     string
	Role         string
	UrgencyClass string
	Need         int
	When         string
	Qty          string
	StatusText   string
	StatusClass  string
}

func (a *App) donReqRow(ctx context.Context, r ledger.DonationRequest) donReqRow {
	row := donReqRow{DonationRequest: r, HospitalName: a.orgLabel(ctx, r.Hospital, ""), ItemText: donItemText(r.Item), Role: donHuman(r.HospitalRole),
		Need: max(r.Quantity-r.Allocated, 0), When: fmtTime(r.CreatedAt), Qty: donN(r.Quantity)}
	switch r.Urgency {
	case "critical":
		row.UrgencyClass = "bad"
	case "high":
		row.UrgencyClass = "warn"
	default:
		row.UrgencyClass = "muted"
	}
	switch r.Status {
	case ledger.RequestClosed:
		row.StatusText, row.StatusClass = "Closed", "muted"
	case ledger.RequestAllocated:
		row.StatusText, row.StatusClass = "Fully allocated", "ok"
	case ledger.RequestPartlyAllocated:
		row.StatusText, row.StatusClass = "Partly allocated", "warn"
	default:
		row.StatusText, row.StatusClass = "Open", "warn"
	}
	return row
}

type donAllocRow struct {
	ledger.Allocation
	Link         string
	CharityName  string
	HospitalName string
	ItemText     string
	Qty          string
	When         string
	StatusText   string
	StatusClass  string
	Answers      []string // the requests it answers, with the units for each
}

func donAllocStatus(al ledger.Allocation) (string, string) {
	switch al.Status {
	case ledger.AllocationShipped:
		return "Shipped, awaiting receipt", "warn"
	case ledger.AllocationReceived:
		if al.Shortfall > 0 {
			return fmt.Sprintf("Received %s of %s · %s short", donN(al.Received), donN(al.Quantity), donN(al.Shortfall)), "bad"
		}
		return "Received in full", "ok"
	}
	return "Allocated, not shipped yet", "muted"
}

func (a *App) donAllocRow(ctx context.Context, al ledger.Allocation, reqs map[string]ledger.DonationRequest) donAllocRow {
	row := donAllocRow{Allocation: al, Link: "/donations/allocations/" + al.ID, CharityName: a.orgLabel(ctx, al.Charity, ""),
		HospitalName: a.orgLabel(ctx, al.Hospital, ""), ItemText: donItemText(al.Item), Qty: donN(al.Quantity), When: fmtTime(al.CreatedAt)}
	row.StatusText, row.StatusClass = donAllocStatus(al)
	for i, id := range al.RequestIDs {
		units := ""
		if i < len(al.RequestQuantities) {
			units = donN(al.RequestQuantities[i]) + " for "
		}
		if r, ok := reqs[id]; ok {
			row.Answers = append(row.Answers, units+"the request of "+fmtTime(r.CreatedAt)+": "+donRequestText(r))
		} else {
			row.Answers = append(row.Answers, units+"request "+id)
		}
	}
	return row
}

// stepView is a path step as the pages show it.
type donStepView struct {
	donStep
	Icon    string
	When    string
	Class   string
	Notes   []string
	Links   []donLink
	Warn    string
	UnitsIn string
}

type donLink struct{ Text, Href string }

func (a *App) donStepViews(ctx context.Context, steps []donStep) []donStepView {
	out := make([]donStepView, 0, len(steps))
	for i, st := range steps {
		v := donStepView{donStep: st, When: fmtTime(st.At)}
		if st.At.IsZero() {
			v.When = ""
		}
		switch st.Kind {
		case "pledged":
			v.Icon = "hand"
		case "received":
			v.Icon = "inbox"
		case "allocated":
			v.Icon = "box"
		case "shipped":
			v.Icon, v.Class = "truck", "transit"
		case "delivered":
			v.Icon = "check"
			if st.Shortfall != nil && *st.Shortfall > 0 {
				v.Warn = donN(*st.Shortfall) + " short"
			}
		case "custody":
			v.Icon = "shelf"
			if !st.To.IsZero() && !st.To.Equal(st.At) {
				v.When = fmtTime(st.At) + " – " + fmtTime(st.To)
			}
		case "held":
			v.Icon = "clock"
		default:
			v.Icon = "dot"
		}
		if i == len(steps)-1 {
			v.Class += " last"
		}
		for _, p := range st.Pallets {
			if st.Kind == "custody" {
				break
			}
			v.Links = append(v.Links, donLink{Text: a.containerLabel(ctx, p), Href: passportPath(p)})
		}
		for _, l := range st.Lots {
			if st.Kind == "custody" {
				break
			}
			t := "Lot " + l.Lot
			if pr := a.names.product(ctx, l.GTIN); pr != nil {
				t = pr.Name + " · lot " + l.Lot
			}
			v.Links = append(v.Links, donLink{Text: t, Href: epc.DigitalLink{GTIN: l.GTIN, Lot: l.Lot}.Path()})
		}
		if st.Kind == "custody" && st.Link != "" {
			v.Links = append(v.Links, donLink{Text: "Passport", Href: st.Link})
		}
		if st.Kind == "allocated" && st.Link != "" {
			v.Links = append(v.Links, donLink{Text: "The whole allocation", Href: st.Link})
		}
		v.Notes = st.Requests
		out = append(out, v)
	}
	return out
}

// ---- Bar chart: requested, allocated, received per hospital ----

type donSVGText struct {
	X, Y   string
	Class  string
	Anchor string
	Text   string
}

type donSVGBox struct {
	X, Y, W, H string
	Class      string
}

type donBarGroup struct {
	Org   string
	Rects []donSVGBox
	Texts []donSVGText
}

type donBars struct {
	Label  string
	W, H   int
	Class  string
	Groups []donBarGroup
	Axis   []donSVGBox
}

type donBarChart struct {
	Label  string
	Wide   donBars
	Narrow donBars
}

func donF1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// hospitalChart draws each hospital's requested, allocated and received
// units as three bars on one scale, the shortfall in red after the
// received bar. The wide drawing has the names on the left; the narrow
// one (phones) above the bars.
func hospitalChart(hs []hospitalSummary) donBarChart {
	top := 1
	var label []string
	for _, h := range hs {
		top = max(top, h.Requested, h.Allocated, h.Received+h.Shortfall)
		label = append(label, fmt.Sprintf("%s: %d requested, %d allocated, %d received, %d short", h.Name, h.Requested, h.Allocated, h.Received, h.Shortfall))
	}
	draw := func(w int, narrow bool) donBars {
		const barH, gap = 16.0, 5.0
		var x0, maxW, groupH, head float64
		if narrow {
			x0, maxW, head = 2, float64(w)-112, 24
		} else {
			x0, maxW, head = 260, float64(w)-260-150, 0
		}
		groupH = head + 3*barH + 2*gap + 24
		out := donBars{W: w, Class: "dchart", H: int(float64(len(hs))*groupH) + 8}
		if narrow {
			out.Class += " chart-narrow"
		} else {
			out.Class += " chart-wide"
		}
		for i, h := range hs {
			y := 8 + float64(i)*groupH
			g := donBarGroup{Org: h.Org}
			if narrow {
				g.Texts = append(g.Texts, donSVGText{X: donF1(x0), Y: donF1(y + 15), Class: "hname", Text: truncateText(h.Name, 38)})
			} else {
				g.Texts = append(g.Texts, donSVGText{X: "0", Y: donF1(y + 20), Class: "hname", Text: truncateText(h.Name, 32)})
				if h.Shortfall > 0 {
					g.Texts = append(g.Texts, donSVGText{X: "0", Y: donF1(y + 40), Class: "hshort", Text: donN(h.Shortfall) + " short"})
				}
			}
			by := y + head
			for j, b := range []struct {
				v      int
				class  string
				suffix string
			}{{h.Requested, "b-req", "requested"}, {h.Allocated, "b-alloc", "allocated"}, {h.Received, "b-recv", "received"}} {
				bw := maxW * float64(b.v) / float64(top)
				if b.v > 0 {
					bw = max(bw, 2)
				}
				yy := by + float64(j)*(barH+gap)
				g.Rects = append(g.Rects, donSVGBox{X: donF1(x0), Y: donF1(yy), W: donF1(bw), H: donF1(barH), Class: b.class})
				end := x0 + bw
				if j == 2 && h.Shortfall > 0 {
					sw := max(maxW*float64(h.Shortfall)/float64(top), 2)
					g.Rects = append(g.Rects, donSVGBox{X: donF1(end), Y: donF1(yy), W: donF1(sw), H: donF1(barH), Class: "b-short"})
					end += sw
				}
				txt := donN(b.v) + " " + b.suffix
				if j == 2 && h.Shortfall > 0 && narrow {
					txt = donN(b.v) + " recv · " + donN(h.Shortfall) + " short"
				}
				g.Texts = append(g.Texts, donSVGText{X: donF1(end + 6), Y: donF1(yy + barH - 4), Class: "bval " + b.class, Text: txt})
			}
			out.Groups = append(out.Groups, g)
		}
		out.Axis = append(out.Axis, donSVGBox{X: donF1(x0 - 1), Y: "4", W: "1", H: strconv.Itoa(out.H - 8), Class: "axis"})
		return out
	}
	ch := donBarChart{Label: "Units per hospital. " + strings.Join(label, "; ") + ".", Wide: draw(1000, false), Narrow: draw(330, true)}
	ch.Wide.Label, ch.Narrow.Label = ch.Label, ch.Label
	return ch
}

// ---- /donations ----

type hospitalRow struct {
	hospitalSummary
	Role                        string
	ReqS, AllocS, RecvS, ShortS string
	Open, Pending               int
	ReceivedPct                 int
	Critical                    bool
	RequestedAt                 string
}

type charityRow struct {
	charitySummary
	StockRows []donStockRow
	Median    string
	Max       string
	Money     []string
	UnallocS  string
	DelivS    string
}

type donStockRow struct {
	Key, ItemText, GTIN              string
	Received, Allocated, Unallocated string
	Free                             int
}

type donationsView struct {
	Hospitals   []hospitalRow
	Charities   []charityRow
	Allocations []donAllocRow
	Requests    []donReqRow
	Chart       donBarChart
	Totals      struct{ Requested, Allocated, Received, Shortfall string }
	Code        string
	Error       string
}

// fmtHours renders a duration in hours for people: "5 h", "2 days 3 h".
func donHours(h float64) string {
	if h < 1 {
		return fmt.Sprintf("%d min", int(h*60+0.5))
	}
	if h < 48 {
		return fmt.Sprintf("%s h", strconv.FormatFloat(donRound1(h), 'f', -1, 64))
	}
	d := int(h / 24)
	rest := int(h) - 24*d
	if rest == 0 {
		return fmt.Sprintf("%d days", d)
	}
	return fmt.Sprintf("%d days %d h", d, rest)
}

func (a *App) donStockRows(st []ledger.DonationStock) []donStockRow {
	var out []donStockRow
	for _, s := range st {
		out = append(out, donStockRow{Key: s.Item.Kind + "|" + s.Item.GTIN, ItemText: donItemText(s.Item), GTIN: s.Item.GTIN, Received: donN(s.Received),
			Allocated: donN(s.Allocated), Unallocated: donN(s.Unallocated), Free: s.Unallocated})
	}
	return out
}

func (a *App) donationsView(ctx context.Context) (donationsView, error) {
	var v donationsView
	ov, err := a.donationsOverview(ctx)
	if err != nil {
		return v, err
	}
	var tr, ta, tv, ts int
	for _, h := range ov.Hospitals {
		row := hospitalRow{hospitalSummary: h, ReqS: donN(h.Requested), AllocS: donN(h.Allocated), RecvS: donN(h.Received), ShortS: donN(h.Shortfall)}
		for _, r := range h.Requests {
			row.Role = donHuman(r.HospitalRole)
			if r.Status != ledger.RequestClosed && r.Allocated < r.Quantity {
				row.Open++
				row.Critical = row.Critical || r.Urgency == "critical"
			}
		}
		for _, al := range ov.Allocations {
			if al.Hospital == h.Org && al.Status != ledger.AllocationReceived {
				row.Pending += al.Quantity
			}
		}
		if h.Allocated > 0 {
			row.ReceivedPct = h.Received * 100 / h.Allocated
		}
		tr, ta, tv, ts = tr+h.Requested, ta+h.Allocated, tv+h.Received, ts+h.Shortfall
		v.Hospitals = append(v.Hospitals, row)
	}
	v.Totals.Requested, v.Totals.Allocated, v.Totals.Received, v.Totals.Shortfall = donN(tr), donN(ta), donN(tv), donN(ts)
	v.Chart = hospitalChart(ov.Hospitals)
	for _, cs := range ov.Charities {
		row := charityRow{charitySummary: cs, StockRows: a.donStockRows(cs.Stock), UnallocS: donN(cs.Unallocated), DelivS: donN(cs.Delivered)}
		if cs.DeliveryHours.Count > 0 {
			row.Median, row.Max = donHours(cs.DeliveryHours.Median), donHours(cs.DeliveryHours.Max)
		}
		for _, m := range cs.Money {
			row.Money = append(row.Money, fmtMoney(m.Received, m.Currency)+" received of "+fmtMoney(m.Pledged, m.Currency)+" pledged")
		}
		v.Charities = append(v.Charities, row)
	}
	for i := len(ov.Allocations) - 1; i >= 0; i-- {
		v.Allocations = append(v.Allocations, a.donAllocRow(ctx, ov.Allocations[i], ov.requests))
	}
	for _, h := range ov.Hospitals {
		for _, r := range h.Requests {
			if r.Status != ledger.RequestClosed && r.Allocated < r.Quantity {
				v.Requests = append(v.Requests, a.donReqRow(ctx, r))
			}
		}
	}
	urg := map[string]int{"critical": 0, "high": 1, "normal": 2, "low": 3}
	sort.SliceStable(v.Requests, func(i, j int) bool {
		if urg[v.Requests[i].Urgency] != urg[v.Requests[j].Urgency] {
			return urg[v.Requests[i].Urgency] < urg[v.Requests[j].Urgency]
		}
		return v.Requests[i].CreatedAt.Before(v.Requests[j].CreatedAt)
	})
	return v, nil
}

func (a *App) donationsPage(c *fiber.Ctx) error {
	v, err := a.donationsView(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return a.render(c, "donations", pageData{Title: "Donations", Nav: "donations", Public: true, Wide: true, Data: v})
}

// ---- /donations/allocations/{id} ----

type donScanPallet struct {
	Label, Link, Where, When string
	Received                 bool
}

type allocationView struct {
	Row         donAllocRow
	Requests    []donReqRow
	Steps       []donStepView
	Scan        gateway.ReceiptScan
	ScanPallets []donScanPallet
	PalletsIn   int
	LastScan    string
	Shipped     bool
	Received    bool
	ShortS      string
	RecvS       string
	ShippedS    string
	PacksS      string
}

func (a *App) allocationPage(c *fiber.Ctx) error {
	id, err := donPathID(c, "allocation ID")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rd := a.svc.Config().Reader
	al, err := a.svc.Ledger().Allocation(ctx, rd, id)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return notFound("no such allocation", "no allocation "+id+" is on the ledger: check the link")
		}
		return err
	}
	reqs := map[string]ledger.DonationRequest{}
	v := allocationView{Shipped: al.Shipment != nil, Received: al.Status == ledger.AllocationReceived, ShortS: donN(al.Shortfall),
		RecvS: donN(al.Received), ShippedS: donN(al.Shipped)}
	for _, rid := range al.RequestIDs {
		if r, err := a.svc.Ledger().Request(ctx, rd, rid); err == nil {
			reqs[rid] = r
			v.Requests = append(v.Requests, a.donReqRow(ctx, r))
		}
	}
	v.Row = a.donAllocRow(ctx, al, reqs)
	if v.Scan, err = a.svc.ScanReceipt(ctx, al); err != nil {
		return err
	}
	v.PacksS = donN(v.Scan.Packs)
	if !v.Scan.Last.IsZero() {
		v.LastScan = fmtTime(v.Scan.Last)
	}
	for _, p := range v.Scan.Pallets {
		sp := donScanPallet{Label: a.containerLabel(ctx, p.ID), Link: passportPath(p.ID), Received: p.Received}
		if p.Received {
			v.PalletsIn++
			sp.Where, sp.When = a.siteLabel(ctx, p.SiteName, p.Site, nil), fmtTime(p.At)
		}
		v.ScanPallets = append(v.ScanPallets, sp)
	}
	steps := []donStep{}
	for _, rid := range al.RequestIDs {
		if r, ok := reqs[rid]; ok {
			steps = append(steps, donStep{Kind: "requested", At: r.CreatedAt, Title: "Requested by " + a.orgLabel(ctx, r.Hospital, ""),
				Detail: donRequestText(r) + donNote(r.Note), Org: r.Hospital, TxID: r.TxID})
		}
	}
	alloc := donStep{Kind: "allocated", At: al.CreatedAt, Title: fmt.Sprintf("%s allocated by %s", donN(al.Quantity), v.Row.CharityName),
		Org: al.Charity, Reason: al.Reason, TxID: al.TxID, Detail: "Recorded by " + al.CreatedBy}
	steps = append(steps, alloc)
	steps = append(steps, a.allocationSteps(ctx, al, 0)...)
	v.Steps = a.donStepViews(ctx, steps)
	for i := range v.Steps {
		if v.Steps[i].Kind == "requested" {
			v.Steps[i].Icon = "alert"
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return a.render(c, "allocation", pageData{Title: "Allocation of " + v.Row.Qty + " " + v.Row.ItemText, Nav: "donations", Public: true, Data: v})
}

func donNote(n string) string {
	if n == "" {
		return ""
	}
	return ". “" + n + "”"
}

// ---- /donations/receipt ----

type donorReceiptView struct {
	Code     string
	Error    string
	Found    bool
	Pledge   ledger.Pledge
	What     string
	Charity  string
	When     string
	Steps    []donStepView
	Summary  string
	Hospital []string
}

func (a *App) donorReceiptPage(c *fiber.Ctx) error {
	v := donorReceiptView{Code: strings.TrimSpace(c.Query("code"))}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	if v.Code == "" {
		return a.render(c, "donor-receipt", pageData{Title: "Track your donation", Nav: "donations", Public: true, Data: v})
	}
	ctx := c.UserContext()
	tr, steps, err := a.receiptTrace(ctx, v.Code)
	if err != nil {
		msg, status, ok := donFormError(err)
		if !ok {
			return err
		}
		c.Status(status)
		v.Error = msg
		return a.render(c, "donor-receipt", pageData{Title: "Track your donation", Nav: "donations", Public: true, Data: v})
	}
	v.Code, _ = normReceiptCode(v.Code)
	v.Found, v.Pledge, v.What = true, tr.Pledge, donPledgeWhat(tr.Pledge)
	v.Charity, v.When = a.orgLabel(ctx, tr.Pledge.Charity, ""), fmtTime(tr.Pledge.CreatedAt)
	v.Steps = a.donStepViews(ctx, steps)
	received, shipped, short, hospitals := 0, 0, 0, []string{}
	for _, d := range tr.Allocations {
		switch d.Allocation.Status {
		case ledger.AllocationReceived:
			received++
			short += d.Allocation.Shortfall
		case ledger.AllocationShipped:
			shipped++
		}
		if h := a.orgLabel(ctx, d.Allocation.Hospital, ""); !contains(hospitals, h) {
			hospitals = append(hospitals, h)
		}
	}
	v.Hospital = hospitals
	switch {
	case tr.Pledge.Status != ledger.PledgeReceived:
		v.Summary = "Pledged: the charity has not confirmed its arrival yet."
	case tr.Pledge.Kind == ledger.PledgeMoney:
		v.Summary = "Received by the charity."
	case len(tr.Allocations) == 0:
		v.Summary = "Received by the charity, not allocated to a hospital yet."
	default:
		v.Summary = fmt.Sprintf("%s of %s allocated to %s.", donN(tr.Pledge.ReceivedQuantity-tr.Unallocated), donN(tr.Pledge.ReceivedQuantity), strings.Join(hospitals, " and "))
		switch {
		case received == len(tr.Allocations) && short == 0:
			v.Summary += " Delivered: confirmed received in full."
		case received == len(tr.Allocations):
			v.Summary += fmt.Sprintf(" Delivered: confirmed received, %s short in the delivery.", donN(short))
		case received > 0:
			v.Summary += fmt.Sprintf(" %d of %d deliveries confirmed received.", received, len(tr.Allocations))
		case shipped > 0:
			v.Summary += " On its way to the hospital."
		}
	}
	return a.render(c, "donor-receipt", pageData{Title: "Your donation", Nav: "donations", Public: true, Data: v})
}

// ---- /hospital ----

type donRequestForm struct {
	Kind, Name, GTIN, Quantity, Urgency, Role, Note string
}

type awaitRow struct {
	donAllocRow
	Scan           gateway.ReceiptScan
	PalletsIn      int
	PalletsTotal   int
	LastScan       string
	Prefill        string
	ShortIfPrefill int
	HasScan        bool
	Note           string
	Error          string
	ShippedS       string
	PacksS         string
}

type hospitalView struct {
	OrgName    string
	Flash      string
	FlashID    string
	Form       donRequestForm
	FormError  string
	CloseID    string
	CloseError string
	Requests   []donReqRow
	Awaiting   []awaitRow
	Received   []donAllocRow
	Urgencies  []string
	Roles      []string
	Kinds      []string
	Totals     struct{ Requested, Allocated, Received, Shortfall string }
}

var (
	donHospitalRoles = []string{"designated-fever-hospital", "general-hospital", "intensive-care-centre", "field-hospital", "clinic", "maternity-hospital"}
	donItemKinds     = []string{"n95-mask", "surgical-mask", "gloves", "gown", "face-shield", "ventilator", "oxygen-concentrator", "test-kit"}
)

func (a *App) hospitalPage(c *fiber.Ctx) error {
	f := a.takeFlash(c)
	return a.renderHospital(c, hospitalView{Flash: f.Msg, FlashID: f.ID, Form: donRequestForm{Urgency: "normal"}}, nil)
}

// renderHospital renders the hospital page; forms (by allocation ID) keep
// what the user typed when it is re-rendered after a mistake.
func (a *App) renderHospital(c *fiber.Ctx, v hospitalView, confirm map[string]awaitRow) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	rd := a.svc.Config().Reader
	v.OrgName = a.orgLabel(ctx, s.Org, "")
	v.Urgencies, v.Roles, v.Kinds = ledger.DonationUrgencies, donHospitalRoles, donItemKinds
	reqs, err := a.svc.Ledger().Requests(ctx, rd, s.Org)
	if err != nil {
		return err
	}
	byID := map[string]ledger.DonationRequest{}
	var tr, ta, tv, ts int
	for i := len(reqs) - 1; i >= 0; i-- {
		v.Requests = append(v.Requests, a.donReqRow(ctx, reqs[i]))
		byID[reqs[i].ID] = reqs[i]
		tr += reqs[i].Quantity
	}
	als, err := a.svc.Ledger().Allocations(ctx, rd, s.Org)
	if err != nil {
		return err
	}
	for i := len(als) - 1; i >= 0; i-- {
		al := als[i]
		if al.Hospital != s.Org {
			continue
		}
		ta += al.Quantity
		row := a.donAllocRow(ctx, al, byID)
		switch al.Status {
		case ledger.AllocationShipped:
			scan, err := a.svc.ScanReceipt(ctx, al)
			if err != nil {
				return err
			}
			ar := awaitRow{donAllocRow: row, Scan: scan, PalletsTotal: len(scan.Pallets), HasScan: scan.Packs > 0, Prefill: strconv.Itoa(scan.Packs),
				ShortIfPrefill: al.Quantity - scan.Packs, ShippedS: donN(al.Shipped), PacksS: donN(scan.Packs)}
			if !scan.Last.IsZero() {
				ar.LastScan = fmtTime(scan.Last)
			}
			for _, p := range scan.Pallets {
				if p.Received {
					ar.PalletsIn++
				}
			}
			if !ar.HasScan {
				// Nothing scanned: the receiver counts; no figure that a
				// careless click would record as a shortfall of everything.
				ar.Prefill = ""
			}
			if prev, ok := confirm[al.ID]; ok {
				ar.Prefill, ar.Note, ar.Error = prev.Prefill, prev.Note, prev.Error
				if n, err := strconv.Atoi(prev.Prefill); err == nil {
					ar.ShortIfPrefill = al.Quantity - n
				}
			}
			v.Awaiting = append(v.Awaiting, ar)
		case ledger.AllocationReceived:
			tv, ts = tv+al.Received, ts+al.Shortfall
			v.Received = append(v.Received, row)
		}
	}
	v.Totals.Requested, v.Totals.Allocated, v.Totals.Received, v.Totals.Shortfall = donN(tr), donN(ta), donN(tv), donN(ts)
	return a.render(c, "hospital", pageData{Title: "Hospital donations", Nav: "hospital", Wide: true, Data: v})
}

// formFail re-renders a page with the error of a failed form, or returns
// the error (server failures) to the error handler.
func donFormFail(c *fiber.Ctx, err error, show func(msg string) error) error {
	msg, status, ok := donFormError(err)
	if !ok {
		return err
	}
	c.Status(status)
	return show(msg)
}

func (a *App) hospitalRequestSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	f := donRequestForm{Kind: c.FormValue("kind"), Name: c.FormValue("name"), GTIN: c.FormValue("gtin"), Quantity: c.FormValue("quantity"),
		Urgency: c.FormValue("urgency"), Role: c.FormValue("role"), Note: c.FormValue("note")}
	fail := func(msg string) error { return a.renderHospital(c, hospitalView{Form: f, FormError: msg}, nil) }
	q, err := donFormInt("quantity", f.Quantity)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	r, err := a.donCreateRequest(c.UserContext(), s, donRequestIn{Item: donItemIn{Kind: donNormToken(f.Kind), Name: f.Name, GTIN: f.GTIN}, Quantity: q,
		Urgency: f.Urgency, HospitalRole: donNormToken(f.Role), Note: f.Note})
	if err != nil {
		return donFormFail(c, err, fail)
	}
	a.setFlash(c, donFlash{Msg: fmt.Sprintf("Your request for %s × %s is published on the ledger.", donN(r.Quantity), donItemText(r.Item)), ID: r.ID})
	return c.Redirect("/hospital#requests", fiber.StatusSeeOther)
}

func (a *App) hospitalCloseSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id, err := donPathID(c, "request ID")
	if err != nil {
		return err
	}
	r, err := a.donCloseRequest(c.UserContext(), s, id, c.FormValue("note"))
	if err != nil {
		return donFormFail(c, err, func(msg string) error {
			return a.renderHospital(c, hospitalView{Form: donRequestForm{Urgency: "normal"}, CloseID: id, CloseError: msg}, nil)
		})
	}
	a.setFlash(c, donFlash{Msg: fmt.Sprintf("The request for %s × %s is closed.", donN(r.Quantity), donItemText(r.Item)), ID: r.ID})
	return c.Redirect("/hospital#requests", fiber.StatusSeeOther)
}

// formInt reads a whole number from a form.
func donFormInt(field, s string) (int, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, invalid(field+" required", "fill in the "+field)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalid("invalid "+field, fmt.Sprintf("the %s %q is not a whole number", field, truncateText(s, 20)))
	}
	return n, nil
}

func (a *App) hospitalReceiptSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id, err := donPathID(c, "allocation ID")
	if err != nil {
		return err
	}
	prev := awaitRow{Prefill: c.FormValue("received"), Note: c.FormValue("note")}
	fail := func(msg string) error {
		prev.Error = msg
		return a.renderHospital(c, hospitalView{Form: donRequestForm{Urgency: "normal"}}, map[string]awaitRow{id: prev})
	}
	n, err := donFormInt("received count", prev.Prefill)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	al, err := a.donConfirmReceipt(c.UserContext(), s, id, donReceiptIn{Received: &n, Note: prev.Note})
	if err != nil {
		return donFormFail(c, err, fail)
	}
	msg := fmt.Sprintf("Receipt confirmed: %s of %s × %s received.", donN(al.Received), donN(al.Quantity), donItemText(al.Item))
	if al.Shortfall > 0 {
		msg += fmt.Sprintf(" The shortfall of %s is on the public record.", donN(al.Shortfall))
	}
	a.setFlash(c, donFlash{Msg: msg, ID: al.ID})
	return c.Redirect("/hospital#received", fiber.StatusSeeOther)
}

// ---- /charity ----

type donPledgeForm struct {
	Pseudonym, Kind, ItemKind, ItemName, GTIN, Quantity, Amount, Currency string
	DonorName, DonorEmail, DonorPhone, DonorAddress                       string
}

type pledgeRow struct {
	ledger.Pledge
	What     string
	When     string
	Received string
	Prefill  string
	Unit     string
	Error    string
	Money    bool
}

type donAllocForm struct {
	Stock, Quantity, Reason string
	Requests                map[string]bool
}

type donShipForm struct {
	Pallets, Lots, Quantity, Error string
}

type charityAllocRow struct {
	donAllocRow
	Ship donShipForm
}

type donorView struct {
	PledgeID  string
	Pseudonym string
	Fields    []kv
	Raw       string
	Updated   string
	TxID      string
	Missing   string
	Error     string
}

type donNewCode struct {
	Code, URL string
	QR        template.URL // a data: URL of the PNG, made here
}

type charityView struct {
	OrgName     string
	Flash       string
	FlashID     string
	NewCode     *donNewCode
	Form        donPledgeForm
	FormError   string
	Pledges     []pledgeRow
	Stock       []donStockRow
	Open        []donReqRow
	Alloc       donAllocForm
	AllocError  string
	Allocations []charityAllocRow
	Donor       *donorView
	Kinds       []string
	Unallocated string
	Delivered   string
}

func (a *App) charityPage(c *fiber.Ctx) error {
	f := a.takeFlash(c)
	v := charityView{Flash: f.Msg, FlashID: f.ID, Form: donPledgeForm{Kind: ledger.PledgeGoods, Currency: "EUR"}}
	if f.Code != "" {
		nc := &donNewCode{Code: f.Code, URL: a.baseURL(c) + "/donations/receipt?code=" + url.QueryEscape(f.Code)}
		if png, err := qrcode.Encode(nc.URL, qrcode.Medium, 320); err == nil {
			nc.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
		v.NewCode = nc
	}
	if id := strings.TrimSpace(c.Query("donor")); id != "" {
		v.Donor = a.donorView(c, id)
	}
	return a.renderCharity(c, v, nil)
}

// donorView reads a pledge's donor identity as the charity (the ledger
// refuses anyone else).
func (a *App) donorView(c *fiber.Ctx, id string) *donorView {
	dv := &donorView{PledgeID: id}
	if err := donID("pledge ID", id); err != nil {
		dv.Error, _, _ = donFormError(err)
		return dv
	}
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	if p, err := a.svc.Ledger().Pledge(ctx, a.svc.Config().Reader, id); err == nil {
		dv.Pseudonym = p.DonorPseudonym
	}
	d, err := a.svc.Ledger().DonorIdentity(ctx, s.identity(), id)
	if errors.Is(err, ledger.ErrNotFound) {
		dv.Missing = "No identity is kept for this donor: it was never given, or it was purged at the donor's request."
		return dv
	}
	if err != nil {
		msg, _, ok := donFormError(err)
		if !ok {
			msg = "The donor's identity cannot be read now; try again in a minute."
		}
		dv.Error = msg
		return dv
	}
	dv.Updated, dv.TxID = fmtTime(d.UpdatedAt), d.TxID
	var m map[string]any
	if json.Unmarshal(d.Identity, &m) == nil {
		for _, k := range sortedKeys(m) {
			val := ""
			switch x := m[k].(type) {
			case string:
				val = x
			default:
				b, _ := json.Marshal(x)
				val = string(b)
			}
			dv.Fields = append(dv.Fields, kv{K: donCapital(k), V: val})
		}
	} else {
		dv.Raw = string(d.Identity)
	}
	return dv
}

func (a *App) renderCharity(c *fiber.Ctx, v charityView, ship map[string]donShipForm) error {
	return a.renderCharityWith(c, v, ship, nil)
}

// renderCharityWith renders the charity page: forms keep what the user
// typed (ship, by allocation ID) and mark, if any, changes the view last
// (an error on one pledge's row).
func (a *App) renderCharityWith(c *fiber.Ctx, v charityView, ship map[string]donShipForm, mark func(*charityView)) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	rd := a.svc.Config().Reader
	l := a.svc.Ledger()
	v.OrgName, v.Kinds = a.orgLabel(ctx, s.Org, ""), donItemKinds
	if v.Alloc.Requests == nil {
		v.Alloc.Requests = map[string]bool{}
	}
	pledges, err := l.Pledges(ctx, rd, s.Org)
	if err != nil {
		return err
	}
	for i := len(pledges) - 1; i >= 0; i-- {
		p := pledges[i]
		row := pledgeRow{Pledge: p, What: donPledgeWhat(p), When: fmtTime(p.CreatedAt), Money: p.Kind == ledger.PledgeMoney}
		if p.Status == ledger.PledgeReceived {
			if row.Money {
				row.Received = fmtMoney(p.ReceivedAmount, p.Currency)
			} else {
				row.Received = donN(p.ReceivedQuantity)
			}
		} else if row.Money {
			row.Prefill, row.Unit = majorAmount(p.Amount, p.Currency), p.Currency
		} else {
			row.Prefill, row.Unit = strconv.Itoa(p.Quantity), "units"
		}
		v.Pledges = append(v.Pledges, row)
	}
	stock, err := l.DonationStock(ctx, rd, s.Org)
	if err != nil {
		return err
	}
	v.Stock = a.donStockRows(stock)
	unalloc := 0
	for _, st := range stock {
		unalloc += st.Unallocated
	}
	v.Unallocated = donN(unalloc)
	reqs, err := l.Requests(ctx, rd, "")
	if err != nil {
		return err
	}
	byID := map[string]ledger.DonationRequest{}
	for _, r := range reqs {
		byID[r.ID] = r
		if r.Status != ledger.RequestClosed && r.Allocated < r.Quantity {
			v.Open = append(v.Open, a.donReqRow(ctx, r))
		}
	}
	urg := map[string]int{"critical": 0, "high": 1, "normal": 2, "low": 3}
	sort.SliceStable(v.Open, func(i, j int) bool { return urg[v.Open[i].Urgency] < urg[v.Open[j].Urgency] })
	als, err := l.Allocations(ctx, rd, s.Org)
	if err != nil {
		return err
	}
	delivered := 0
	for i := len(als) - 1; i >= 0; i-- {
		al := als[i]
		if al.Charity != s.Org {
			continue
		}
		row := charityAllocRow{donAllocRow: a.donAllocRow(ctx, al, byID), Ship: donShipForm{Quantity: strconv.Itoa(al.Quantity)}}
		if f, ok := ship[al.ID]; ok {
			row.Ship = f
		}
		if al.Status == ledger.AllocationReceived {
			delivered += al.Received
		}
		v.Allocations = append(v.Allocations, row)
	}
	v.Delivered = donN(delivered)
	if mark != nil {
		mark(&v)
	}
	return a.render(c, "charity", pageData{Title: "Charity donations", Nav: "charity", Wide: true, Data: v})
}

func (a *App) charityPledgeSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	f := donPledgeForm{Pseudonym: c.FormValue("pseudonym"), Kind: c.FormValue("kind"), ItemKind: c.FormValue("item_kind"), ItemName: c.FormValue("item_name"),
		GTIN: c.FormValue("gtin"), Quantity: c.FormValue("quantity"), Amount: c.FormValue("amount"), Currency: strings.ToUpper(strings.TrimSpace(c.FormValue("currency"))),
		DonorName: c.FormValue("donor_name"), DonorEmail: c.FormValue("donor_email"), DonorPhone: c.FormValue("donor_phone"), DonorAddress: c.FormValue("donor_address")}
	fail := func(msg string) error {
		return a.renderCharity(c, charityView{Form: f, FormError: msg}, nil)
	}
	in := donPledgeIn{DonorPseudonym: f.Pseudonym, Kind: f.Kind}
	switch f.Kind {
	case ledger.PledgeGoods:
		q, err := donFormInt("quantity", f.Quantity)
		if err != nil {
			return donFormFail(c, err, fail)
		}
		in.Item, in.Quantity = &donItemIn{Kind: donNormToken(f.ItemKind), Name: f.ItemName, GTIN: f.GTIN}, q
	case ledger.PledgeMoney:
		in.Currency = f.Currency
		if len(f.Currency) != 3 {
			return donFormFail(c, invalid("invalid currency", "give the currency as its ISO 4217 code, such as EUR"), fail)
		}
		amt, err := parsePositiveMoney("amount", f.Amount, f.Currency)
		if err != nil {
			return donFormFail(c, err, fail)
		}
		in.Amount = amt
	}
	donor := map[string]string{}
	for k, v := range map[string]string{"name": f.DonorName, "email": f.DonorEmail, "phone": f.DonorPhone, "address": f.DonorAddress} {
		if v = strings.TrimSpace(v); v != "" {
			if err := donText("donor's "+k, v, 1000, false, k == "address"); err != nil {
				return donFormFail(c, err, fail)
			}
			donor[k] = v
		}
	}
	if len(donor) > 0 {
		b, _ := json.Marshal(donor)
		in.Donor = b
	}
	res, err := a.donRecordPledge(c.UserContext(), s, in, a.baseURL(c))
	if err != nil {
		return donFormFail(c, err, fail)
	}
	msg := fmt.Sprintf("Pledge of %s by %s recorded.", donPledgeWhat(res.Pledge), res.Pledge.DonorPseudonym)
	if len(donor) > 0 && res.Warning == "" {
		msg += " The donor's identity is kept private: only your charity can read it."
	}
	if res.Warning != "" {
		msg += " " + donCapital(res.Warning) + "."
	}
	a.setFlash(c, donFlash{Msg: msg, Code: res.ReceiptCode, ID: res.Pledge.ID})
	return c.Redirect("/charity#new-code", fiber.StatusSeeOther)
}

func (a *App) charityPledgeReceiptSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id, err := donPathID(c, "pledge ID")
	if err != nil {
		return err
	}
	raw := c.FormValue("quantity")
	fail := func(msg string) error {
		return a.renderCharityWithPledgeError(c, id, raw, msg)
	}
	p, err := a.svc.Ledger().Pledge(c.UserContext(), a.svc.Config().Reader, id)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	var n int64
	if p.Kind == ledger.PledgeMoney {
		n, err = parsePositiveMoney("amount received", raw, p.Currency) // the form takes major units
	} else {
		var q int
		q, err = donFormInt("quantity received", raw)
		n = int64(q)
	}
	if err != nil {
		return donFormFail(c, err, fail)
	}
	p, err = a.donConfirmPledge(c.UserContext(), s, id, n)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	a.setFlash(c, donFlash{Msg: fmt.Sprintf("Receipt of %s's pledge confirmed.", p.DonorPseudonym), ID: p.ID})
	return c.Redirect("/charity#pledges", fiber.StatusSeeOther)
}

// renderCharityWithPledgeError re-renders the charity page with an error
// on one pledge's receipt form.
func (a *App) renderCharityWithPledgeError(c *fiber.Ctx, id, raw, msg string) error {
	v := charityView{Form: donPledgeForm{Kind: ledger.PledgeGoods, Currency: "EUR"}}
	// renderCharity fills the pledges; mark the one after it does.
	return a.renderCharityWith(c, v, nil, func(v *charityView) {
		for i := range v.Pledges {
			if v.Pledges[i].ID == id {
				v.Pledges[i].Error, v.Pledges[i].Prefill = msg, raw
			}
		}
	})
}

func (a *App) charityPurgeSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id, err := donPathID(c, "pledge ID")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		c.Status(fiber.StatusBadRequest)
		v := charityView{Form: donPledgeForm{Kind: ledger.PledgeGoods, Currency: "EUR"}, Donor: a.donorView(c, id)}
		v.Donor.Error = "Tick the box to confirm: a purged identity cannot be recovered."
		return a.renderCharity(c, v, nil)
	}
	if err := a.donPurgeDonor(c.UserContext(), s, id); err != nil {
		return donFormFail(c, err, func(msg string) error {
			v := charityView{Form: donPledgeForm{Kind: ledger.PledgeGoods, Currency: "EUR"}, Donor: a.donorView(c, id)}
			v.Donor.Error = msg
			return a.renderCharity(c, v, nil)
		})
	}
	a.setFlash(c, donFlash{Msg: "The donor's identity is purged for good. The pledge, its pseudonym and its path stay public.", ID: id})
	return c.Redirect("/charity?donor="+url.QueryEscape(id)+"#donor", fiber.StatusSeeOther)
}

func (a *App) charityAllocateSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	ctx := c.UserContext()
	f := donAllocForm{Stock: c.FormValue("stock"), Quantity: c.FormValue("quantity"), Reason: c.FormValue("reason"), Requests: map[string]bool{}}
	var ids []string
	for _, b := range c.Request().PostArgs().PeekMulti("request") {
		id := string(b)
		ids = append(ids, id)
		f.Requests[id] = true
	}
	fail := func(msg string) error {
		return a.renderCharity(c, charityView{Form: donPledgeForm{Kind: ledger.PledgeGoods, Currency: "EUR"}, Alloc: f, AllocError: msg}, nil)
	}
	if len(ids) == 0 {
		return donFormFail(c, invalid("requests required", "tick the hospital requests this allocation answers"), fail)
	}
	// The hospital is the requests'; they must all be one hospital's.
	hospital := ""
	for _, id := range ids {
		if err := donID("request ID", id); err != nil {
			return donFormFail(c, err, fail)
		}
		r, err := a.svc.Ledger().Request(ctx, a.svc.Config().Reader, id)
		if err != nil {
			return donFormFail(c, err, fail)
		}
		if hospital != "" && r.Hospital != hospital {
			return donFormFail(c, invalid("one hospital at a time", "the requests ticked are of different hospitals: allocate to one hospital at a time"), fail)
		}
		hospital = r.Hospital
	}
	kind, gtin, _ := strings.Cut(f.Stock, "|")
	if kind == "" {
		return donFormFail(c, invalid("stock item required", "choose which of your stock to allocate"), fail)
	}
	var item ledger.DonationItem
	stock, err := a.svc.Ledger().DonationStock(ctx, a.svc.Config().Reader, s.Org)
	if err != nil {
		return err
	}
	for _, st := range stock {
		if st.Item.Kind == kind && st.Item.GTIN == gtin {
			item = st.Item
		}
	}
	if item.Kind == "" {
		return donFormFail(c, invalid("not in stock", "your charity holds no "+donHuman(kind)+": choose an item from your stock"), fail)
	}
	q, err := donFormInt("quantity", f.Quantity)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	al, err := a.donAllocate(ctx, s, donAllocationIn{Hospital: hospital, Item: donItemIn{Kind: item.Kind, Name: item.Name, GTIN: item.GTIN}, Quantity: q,
		RequestIDs: ids, Reason: f.Reason})
	if err != nil {
		return donFormFail(c, err, fail)
	}
	a.setFlash(c, donFlash{Msg: fmt.Sprintf("%s × %s allocated to %s. Ship it below when it leaves.", donN(al.Quantity), donItemText(al.Item), a.orgLabel(ctx, al.Hospital, "")), ID: al.ID})
	return c.Redirect("/charity#allocations", fiber.StatusSeeOther)
}

// splitLines splits a textarea into its non-empty lines.
func donLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (a *App) charityShipSubmit(c *fiber.Ctx) error {
	s := c.Locals(localSession).(*session)
	id, err := donPathID(c, "allocation ID")
	if err != nil {
		return err
	}
	f := donShipForm{Pallets: c.FormValue("pallets"), Lots: c.FormValue("lots"), Quantity: c.FormValue("quantity")}
	fail := func(msg string) error {
		f.Error = msg
		return a.renderCharity(c, charityView{Form: donPledgeForm{Kind: ledger.PledgeGoods, Currency: "EUR"}}, map[string]donShipForm{id: f})
	}
	in := donShipmentIn{Pallets: donLines(f.Pallets)}
	for _, l := range strings.FieldsFunc(f.Lots, func(r rune) bool { return r == '\n' || r == '\r' || r == ';' }) {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		parts := strings.Fields(strings.ReplaceAll(l, ",", " "))
		if len(parts) != 2 {
			return donFormFail(c, invalid("invalid lot line", fmt.Sprintf("write each lot on its own line as GTIN and lot number, like 09506000134352 A1234 (%q is not)", truncateText(l, 40))), fail)
		}
		in.Lots = append(in.Lots, ledger.ShippedLot{GTIN: parts[0], Lot: parts[1]})
	}
	q, err := donFormInt("quantity", f.Quantity)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	in.Quantity = q
	al, err := a.donShip(c.UserContext(), s, id, in)
	if err != nil {
		return donFormFail(c, err, fail)
	}
	a.setFlash(c, donFlash{Msg: fmt.Sprintf("Shipment of %s to %s recorded. The hospital confirms it when its receiving scan counts it.", donN(al.Shipped), a.orgLabel(c.UserContext(), al.Hospital, "")), ID: al.ID})
	return c.Redirect("/charity#allocations", fiber.StatusSeeOther)
}
