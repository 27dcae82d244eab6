package web

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/store"
)

// EPCIS REST binding versions this server speaks.
const (
	epcisVersion = "2.0.0"
	cbvVersion   = "2.0.0"
)

// epcisMediaTypes are the request media types capture accepts.
var epcisMediaTypes = []string{fiber.MIMEApplicationJSON, "application/ld+json"}

// epcisHeaders sets the EPCIS version headers on every EPCIS response and
// refuses requests for an EPCIS version this server does not speak.
func (a *App) epcisHeaders(c *fiber.Ctx) error {
	c.Set("GS1-EPCIS-Version", epcisVersion)
	c.Set("GS1-CBV-Version", cbvVersion)
	c.Set("GS1-EPCIS-Min", epcisVersion)
	c.Set("GS1-EPCIS-Max", epcisVersion)
	c.Set("GS1-CBV-Min", cbvVersion)
	c.Set("GS1-CBV-Max", cbvVersion)
	if v := c.Get("GS1-EPCIS-Version"); v != "" && !strings.HasPrefix(v, "2.0") {
		return &webError{status: fiber.StatusNotAcceptable, kind: kindNotAcceptable, title: "EPCIS version not supported",
			detail: "this repository speaks EPCIS " + epcisVersion + "; the request asks for " + v}
	}
	return c.Next()
}

func (a *App) setCaptureLimits(c *fiber.Ctx) {
	gc := a.svc.Config()
	c.Set("GS1-EPCIS-Capture-Limit", strconv.Itoa(gc.Capture.MaxEvents))
	c.Set("GS1-EPCIS-Capture-File-Size-Limit", strconv.FormatInt(gc.Capture.MaxBytes, 10))
}

// epcisOptions answers OPTIONS on an EPCIS resource.
func (a *App) epcisOptions(allow string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a.setCaptureLimits(c)
		c.Set("GS1-Capture-Error-Behaviour", "rollback")
		c.Set("GS1-EPC-Format", "Always_GS1_Digital_Link")
		return a.preflight(allow)(c)
	}
}

// epcisRoot lists the top-level resources this repository serves.
func (a *App) epcisRoot(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{
		"@context": epcis.StandardContextIRI, "type": "Collection", "member": []string{"capture", "events"},
	})
}

// captureAuth protects capture when capture tokens are configured: a
// bearer token, or a portal session with its CSRF token.
func (a *App) captureAuth(c *fiber.Ctx) error {
	if len(a.cfg.CaptureTokens) == 0 {
		return c.Next()
	}
	if auth := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(auth, "Bearer ") {
		tok := strings.TrimSpace(strings.TrimPrefix(auth, "Bearer "))
		for _, t := range a.cfg.CaptureTokens {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
				return c.Next()
			}
		}
		return &webError{status: fiber.StatusUnauthorized, kind: kindUnauthenticated, title: "capture token refused",
			detail: "the bearer token is not one of this gateway's capture tokens", header: map[string]string{"WWW-Authenticate": `Bearer realm="tracegate capture"`}}
	}
	if s, _ := a.currentSession(c); s != nil {
		c.Locals(localSession, s)
		return a.requireCSRF(c)
	}
	return &webError{status: fiber.StatusUnauthorized, kind: kindUnauthenticated, title: "capture needs a token",
		detail: "send Authorization: Bearer <capture token>", header: map[string]string{"WWW-Authenticate": `Bearer realm="tracegate capture"`}}
}

// capture reads and captures a body; single is POST /epcis/events.
func (a *App) capture(c *fiber.Ctx, single bool) error {
	if err := requireJSON(c, epcisMediaTypes...); err != nil {
		return err
	}
	body, err := readBody(c, a.svc.Config().Capture.MaxBytes)
	if err != nil {
		return err
	}
	if single {
		// A single event is captured as a document of one.
		body, err = wrapEvent(body)
		if err != nil {
			return err
		}
	}
	st, err := a.svc.Capture(c.UserContext(), body, single)
	if err != nil {
		return err
	}
	loc := "/epcis/capture/" + url.PathEscape(st.CaptureID)
	c.Set(fiber.HeaderLocation, loc)
	if single && len(st.EventIDs) == 1 {
		c.Set(fiber.HeaderContentLocation, "/epcis/events/"+url.PathEscape(st.EventIDs[0]))
	}
	return sendJSON(c, fiber.StatusAccepted, fiber.MIMEApplicationJSON, st)
}

// wrapEvent turns one posted EPCIS event into an EPCISDocument holding it,
// the event's own @context becoming the document's.
func wrapEvent(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil || ev == nil {
		return nil, &gateway.Error{Kind: gateway.KindInvalid, Title: "ValidationException", Detail: "POST /epcis/events takes one EPCIS event as a JSON object"}
	}
	if t, _ := ev["type"].(string); t == "EPCISDocument" || t == "EPCISQueryDocument" {
		return nil, &gateway.Error{Kind: gateway.KindInvalid, Title: "ValidationException", Detail: "POST /epcis/events takes a single event; send documents to POST /epcis/capture"}
	}
	ctx, ok := ev["@context"]
	if !ok {
		ctx = epcis.StandardContextIRI
	}
	delete(ev, "@context")
	doc := map[string]any{
		"@context": ctx, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": nowRFC3339(),
		"epcisBody": map[string]any{"eventList": []any{ev}},
	}
	return json.Marshal(doc)
}

func nowRFC3339() string { return time.Now().UTC().Format(time.RFC3339) }

func (a *App) postCapture(c *fiber.Ctx) error { return a.capture(c, false) }
func (a *App) postEvent(c *fiber.Ctx) error   { return a.capture(c, true) }

// getCapture reports a capture job.
func (a *App) getCapture(c *fiber.Ctx) error {
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil || id == "" {
		return invalid("invalid capture ID", "the capture ID path segment is not well-formed")
	}
	st, err := a.svc.CaptureJob(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, st)
}

// responseType picks application/ld+json or application/json by Accept.
func responseType(c *fiber.Ctx) string {
	if strings.Contains(c.Get(fiber.HeaderAccept), "application/ld+json") {
		return "application/ld+json"
	}
	return fiber.MIMEApplicationJSON
}

// eventJSON is a stored event as the REST binding returns it: the stored
// standalone event (its own @context, its eventID) with the recordTime
// this repository assigned.
func eventJSON(r store.EventRecord) json.RawMessage {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(r.Event, &ev); err != nil || ev == nil {
		return r.Event
	}
	if _, ok := ev["recordTime"]; !ok {
		ev["recordTime"], _ = json.Marshal(r.RecordTime.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	if _, ok := ev["eventID"]; !ok {
		ev["eventID"], _ = json.Marshal(r.EventID)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return r.Event
	}
	return b
}

// getEvents answers an events query with an EPCISQueryDocument, a page at
// a time; a Link header (rel="next") carries the next page's URL.
func (a *App) getEvents(c *fiber.Ctx) error {
	vals, err := parseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return &gateway.Error{Kind: gateway.KindInvalid, Title: "QueryParameterException", Detail: "the query string is malformed: " + err.Error()}
	}
	q, err := gateway.ParseEventQuery(vals)
	if err != nil {
		return err
	}
	res, err := a.svc.QueryEvents(c.UserContext(), q)
	if err != nil {
		return err
	}
	list := make([]json.RawMessage, len(res.Events))
	for i, r := range res.Events {
		list[i] = eventJSON(r)
	}
	if res.NextPageToken != "" {
		next := url.Values{}
		for k, v := range vals {
			if k != "nextPageToken" {
				next[k] = v
			}
		}
		next.Set("nextPageToken", res.NextPageToken)
		c.Set(fiber.HeaderLink, "<"+a.baseURL(c)+"/epcis/events?"+next.Encode()+`>; rel="next"`)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, responseType(c), queryDocument(list))
}

// parseQuery reads a query string like url.ParseQuery, but splits on "&"
// only: eventIDs (ni:///sha-256;…) carry a ";" that clients often leave
// unencoded, and Go's parser refuses it.
func parseQuery(q string) (url.Values, error) {
	v := url.Values{}
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return v, fmt.Errorf("parameter %q: %w", k, err)
		}
		value, err := url.QueryUnescape(val)
		if err != nil {
			return v, fmt.Errorf("value of %s: %w", key, err)
		}
		v.Add(key, value)
	}
	return v, nil
}

// queryDocument wraps events in an EPCISQueryDocument.
func queryDocument(events []json.RawMessage) map[string]any {
	return map[string]any{
		"@context":      []any{epcis.StandardContextIRI},
		"type":          "EPCISQueryDocument",
		"schemaVersion": "2.0",
		"creationDate":  nowRFC3339(),
		"epcisBody": map[string]any{
			"queryResults": map[string]any{
				"queryName":   "SimpleEventQuery",
				"resultsBody": map[string]any{"eventList": events},
			},
		},
	}
}

// getEvent returns one event by eventID (the ni:///… ID as one encoded
// segment, or the bare hash).
func (a *App) getEvent(c *fiber.Ctx) error {
	id, err := eventIDParam(c, "id")
	if err != nil {
		return err
	}
	r, err := a.svc.EventByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, responseType(c), eventJSON(r))
}
