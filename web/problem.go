package web

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// ProblemBase is the URI prefix of tracegate's problem types; docs/api.md
// describes each.
const ProblemBase = "https://tracegate.dev/problems/"

// Problem is an RFC 9457 problem document. Extra members (such as
// expectedSeq) are marshalled beside the standard ones.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Extra    map[string]any `json:"-"`
}

// MarshalJSON writes the standard members and the extra ones.
func (p Problem) MarshalJSON() ([]byte, error) {
	m := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status}
	maps.Copy(m, p.Extra)
	m["type"], m["title"], m["status"] = p.Type, p.Title, p.Status
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	return json.Marshal(m)
}

// webError is an error of the web layer itself that has no gateway kind:
// authentication, media types, throttling.
type webError struct {
	status int
	kind   string
	title  string
	detail string
	header map[string]string
}

func (e *webError) Error() string { return e.title + ": " + e.detail }

// Web-layer error kinds (the last part of their problem type).
const (
	kindUnauthenticated = "unauthenticated"  // 401
	kindCSRF            = "csrf"             // 403
	kindMediaType       = "unsupported-type" // 415
	kindNotAcceptable   = "not-acceptable"   // 406
)

func errUnauthenticated(detail string) error {
	return &webError{status: http.StatusUnauthorized, kind: kindUnauthenticated, title: "sign-in required", detail: detail}
}

func errCSRF() error {
	return &webError{status: http.StatusForbidden, kind: kindCSRF, title: "missing or wrong CSRF token",
		detail: "state-changing requests made with a portal session must carry the session's CSRF token (form field _csrf or header X-CSRF-Token); reload the page and try again"}
}

func errMediaType(got string, want ...string) error {
	return &webError{status: http.StatusUnsupportedMediaType, kind: kindMediaType, title: "unsupported media type",
		detail: "Content-Type " + quoteOr(got, "(none)") + " is not accepted here; send " + strings.Join(want, " or ")}
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return `"` + s + `"`
}

// invalid is a 400 the web layer finds before calling the service.
func invalid(title, detail string) error {
	return &gateway.Error{Kind: gateway.KindInvalid, Title: title, Detail: detail}
}

// notFound is a 404 the web layer finds.
func notFound(title, detail string) error {
	return &gateway.Error{Kind: gateway.KindNotFound, Title: title, Detail: detail}
}

// tooLarge is a 413 the web layer finds.
func tooLarge(detail string) error {
	return &gateway.Error{Kind: gateway.KindTooLarge, Title: "request body too large", Detail: detail}
}

// statusOfKind maps gateway error kinds to HTTP statuses: the one table.
var statusOfKind = map[gateway.Kind]int{
	gateway.KindInvalid:     http.StatusBadRequest,
	gateway.KindUnverified:  http.StatusUnprocessableEntity,
	gateway.KindNotFound:    http.StatusNotFound,
	gateway.KindConflict:    http.StatusConflict,
	gateway.KindOutOfOrder:  http.StatusConflict,
	gateway.KindForbidden:   http.StatusForbidden,
	gateway.KindUnknownEdge: http.StatusForbidden,
	gateway.KindTooLarge:    http.StatusRequestEntityTooLarge,
	gateway.KindUnavailable: http.StatusServiceUnavailable,
}

// epcisException names the EPCIS exception of a status, for problems on
// the EPCIS REST binding (their type is "epcisException:<name>").
var epcisException = map[int]string{
	http.StatusBadRequest:            "ValidationException",
	http.StatusUnauthorized:          "SecurityException",
	http.StatusForbidden:             "SecurityException",
	http.StatusNotFound:              "NoSuchResourceException",
	http.StatusNotAcceptable:         "NotAcceptableException",
	http.StatusConflict:              "ResourceAlreadyExistsException",
	http.StatusRequestEntityTooLarge: "CaptureLimitExceededException",
	http.StatusRequestURITooLong:     "URITooLongException",
	http.StatusUnsupportedMediaType:  "UnsupportedMediaTypeException",
	http.StatusUnprocessableEntity:   "ValidationException",
	http.StatusInternalServerError:   "ImplementationException",
	http.StatusServiceUnavailable:    "ImplementationException",
}

// exceptionTitles are readable titles for the EPCIS exceptions the
// gateway names in its error titles.
var exceptionTitles = map[string]string{
	"ValidationException":           "the input is not valid EPCIS 2.0",
	"QueryParameterException":       "invalid query parameter",
	"QueryValidationException":      "invalid query",
	"CaptureLimitExceededException": "capture payload too large",
	"NoSuchResourceException":       "resource not found",
	"ImplementationException":       "server-side error",
}

// problemOf turns any error into a problem document: the single place
// where errors become HTTP statuses.
func problemOf(err error, epcis bool) Problem {
	var (
		ge *gateway.Error
		we *webError
		fe *fiber.Error
		p  Problem
	)
	switch {
	case errors.As(err, &ge):
		p = Problem{Status: statusOfKind[ge.Kind], Type: ProblemBase + string(ge.Kind), Title: ge.Title, Detail: ge.Detail, Extra: ge.Extra}
		if p.Status == 0 {
			p.Status, p.Type = http.StatusInternalServerError, ProblemBase+"internal"
		}
		if strings.HasSuffix(ge.Title, "Exception") {
			// The gateway names EPCIS exceptions in its titles.
			if t := exceptionTitles[ge.Title]; t != "" {
				p.Title = t
			}
			if epcis {
				p.Type = "epcisException:" + ge.Title
				return p
			}
		}
	case errors.As(err, &we):
		p = Problem{Status: we.status, Type: ProblemBase + we.kind, Title: we.title, Detail: we.detail}
	case ledger.CodeOf(err) != "":
		p = Problem{Detail: err.Error()}
		switch ledger.CodeOf(err) {
		case ledger.NotFound:
			p.Status, p.Type, p.Title = http.StatusNotFound, ProblemBase+string(gateway.KindNotFound), "not found on the ledger"
		case ledger.Forbidden:
			p.Status, p.Type, p.Title = http.StatusForbidden, ProblemBase+string(gateway.KindForbidden), "the ledger refused access"
		case ledger.Invalid:
			p.Status, p.Type, p.Title = http.StatusBadRequest, ProblemBase+string(gateway.KindInvalid), "the ledger refused the request"
		case ledger.Conflict:
			p.Status, p.Type, p.Title = http.StatusConflict, ProblemBase+string(gateway.KindConflict), "conflict on the ledger"
		default:
			p.Status, p.Type, p.Title = http.StatusServiceUnavailable, ProblemBase+string(gateway.KindUnavailable), "ledger unavailable"
		}
	case errors.As(err, &fe):
		p = Problem{Status: fe.Code, Title: strings.ToLower(http.StatusText(fe.Code)), Detail: fe.Message}
		switch fe.Code {
		case http.StatusNotFound:
			p.Type, p.Title = ProblemBase+string(gateway.KindNotFound), "no such page or resource"
		case http.StatusMethodNotAllowed:
			p.Type = ProblemBase + "method-not-allowed"
		case http.StatusRequestEntityTooLarge:
			p.Type, p.Detail = ProblemBase+string(gateway.KindTooLarge), "the request body is larger than this server accepts"
		case http.StatusRequestHeaderFieldsTooLarge:
			p.Type = ProblemBase + "headers-too-large"
		case http.StatusBadRequest:
			p.Type = ProblemBase + string(gateway.KindInvalid)
		case http.StatusRequestTimeout:
			p.Type = ProblemBase + "timeout"
		default:
			p.Type = ProblemBase + "http-" + http.StatusText(fe.Code)
		}
		if p.Title == "" {
			p.Title = "error"
		}
	default:
		p = Problem{Status: http.StatusInternalServerError, Type: ProblemBase + "internal", Title: "internal error",
			Detail: "the server failed to answer; the error is logged"}
	}
	if epcis {
		if name, ok := epcisException[p.Status]; ok {
			p.Type = "epcisException:" + name
		}
	}
	return p
}

// handleError is Fiber's error handler: every error a handler returns
// (and every routing error) ends here.
func (a *App) handleError(c *fiber.Ctx, err error) error {
	path := c.Path()
	isEPCIS := strings.HasPrefix(path, "/epcis")
	p := problemOf(err, isEPCIS)
	if p.Status >= 500 {
		a.log.Error("request failed", "method", c.Method(), "path", path, "status", p.Status, "err", err)
	} else {
		a.log.Debug("request refused", "method", c.Method(), "path", path, "status", p.Status, "err", err)
	}
	var we *webError
	if errors.As(err, &we) {
		for k, v := range we.header {
			c.Set(k, v)
		}
	}
	if p.Status == http.StatusRequestEntityTooLarge && isEPCIS {
		a.setCaptureLimits(c)
	}
	if p.Status == http.StatusUnauthorized && !isEPCIS && strings.HasPrefix(path, "/api/") {
		c.Set("WWW-Authenticate", `Cookie realm="tracegate portal"`)
	}
	c.Status(p.Status)
	if a.wantsHTML(c) {
		return a.renderError(c, p)
	}
	if c.Method() == fiber.MethodHead {
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return nil
	}
	b, merr := json.Marshal(p)
	if merr != nil {
		return c.SendString(p.Title)
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(b)
}

// wantsHTML tells browsers (which get error pages) from API clients
// (which get problem documents): machine paths always get JSON; other
// paths get HTML when the client accepts it.
func (a *App) wantsHTML(c *fiber.Ctx) bool {
	p := c.Path()
	for _, prefix := range []string{"/api/", "/epcis", "/.well-known/", "/metrics", "/healthz", "/readyz", "/static/", "/qr"} {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	accept := c.Get(fiber.HeaderAccept)
	return strings.Contains(accept, "text/html")
}

// sendJSON writes v as JSON with the given status and content type.
func sendJSON(c *fiber.Ctx, status int, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, contentType)
	return c.Send(b)
}
