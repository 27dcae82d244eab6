package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tracegate/tracegate/edge/epcis"
)

// queryDoc is an EPCISQueryDocument.
type queryDoc struct {
	Context       []any  `json:"@context"`
	Type          string `json:"type"`
	SchemaVersion string `json:"schemaVersion"`
	CreationDate  string `json:"creationDate"`
	EPCISBody     struct {
		QueryResults struct {
			QueryName   string `json:"queryName"`
			ResultsBody struct {
				EventList []map[string]any `json:"eventList"`
			} `json:"resultsBody"`
		} `json:"queryResults"`
	} `json:"epcisBody"`
}

func (q queryDoc) events() []map[string]any { return q.EPCISBody.QueryResults.ResultsBody.EventList }

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// query runs an events query, following the Link headers through every
// page.
func (e *env) query(t *testing.T, params string, hdr ...string) (events []map[string]any, pages int) {
	t.Helper()
	u := "/epcis/events?" + params
	for u != "" {
		r := e.get(u, hdr...)
		if r.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, r.StatusCode, r.body)
		}
		var doc queryDoc
		r.json(t, &doc)
		if doc.Type != "EPCISQueryDocument" || doc.SchemaVersion != "2.0" || doc.CreationDate == "" ||
			doc.EPCISBody.QueryResults.QueryName != "SimpleEventQuery" || len(doc.Context) == 0 || doc.Context[0] != epcis.StandardContextIRI {
			t.Fatalf("not an EPCISQueryDocument: %.400s", r.body)
		}
		if doc.events() == nil {
			t.Fatalf("eventList missing: %.300s", r.body)
		}
		if r.Header.Get("GS1-EPCIS-Version") != "2.0.0" || r.Header.Get("GS1-CBV-Version") != "2.0.0" {
			t.Errorf("EPCIS version headers: %v", r.Header)
		}
		events = append(events, doc.events()...)
		pages++
		u = ""
		if l := r.Header.Get("Link"); l != "" {
			m := nextLink.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link header %q", l)
			}
			u = m[1]
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
	}
	return events, pages
}

func TestEPCISQuery(t *testing.T) {
	e := shared(t)
	lot := url.Values{"gtin": {e.gtin}, "lot": {testLot}}.Encode()
	all, _ := e.query(t, lot+"&perPage=100")
	paged, pages := e.query(t, lot+"&perPage=2")
	if len(paged) != len(all) || pages < len(all)/2 {
		t.Fatalf("paging: %d events over %d pages, one page gives %d", len(paged), pages, len(all))
	}
	seen := map[string]bool{}
	for _, ev := range paged {
		id, _ := ev["eventID"].(string)
		if seen[id] {
			t.Errorf("event %s on two pages", id)
		}
		seen[id] = true
		if _, ok := ev["recordTime"]; !ok {
			t.Errorf("event %s has no recordTime", id)
		}
	}
	for _, id := range append([]string{e.commissionID}, e.eventIDs...) {
		if !seen[id] {
			t.Errorf("lot query misses %s", id)
		}
	}

	// Filters.
	recv, _ := e.query(t, "EQ_bizStep=receiving&"+lot)
	if len(recv) != 1 || recv[0]["bizStep"] != "receiving" {
		t.Errorf("EQ_bizStep=receiving: %d events", len(recv))
	}
	recvURN, _ := e.query(t, "EQ_bizStep=urn:epcglobal:cbv:bizstep:receiving&"+lot)
	if len(recvURN) != 1 {
		t.Errorf("EQ_bizStep in URN form: %d events", len(recvURN))
	}
	agg, _ := e.query(t, "eventType=AggregationEvent&MATCH_parentID=urn:epc:id:sscc:0614141.1000000003")
	if len(agg) != 1 {
		t.Errorf("AggregationEvent by parent: %d events", len(agg))
	}
	byEPC, _ := e.query(t, "MATCH_epc="+serial(500002)+"&GE_eventTime=2026-11-10T00:00:00Z&LT_eventTime=2026-11-11T00:00:00Z")
	if len(byEPC) != 4 {
		t.Errorf("MATCH_epc on 10 Nov: %d events, want 4", len(byEPC))
	}
	byDL, _ := e.query(t, "MATCH_epc="+url.QueryEscape("https://id.gs1.org/01/"+e.gtin+"/21/500002")+"&GE_eventTime=2026-11-10T00:00:00Z&LT_eventTime=2026-11-11T00:00:00Z")
	if len(byDL) != 4 {
		t.Errorf("MATCH_epc as a Digital Link: %d events, want 4", len(byDL))
	}
	// An eventID with its ";" and "?" left unencoded, as clients often send it.
	raw := e.raw("GET", "/epcis/events?EQ_eventID="+e.eventIDs[2])
	var one queryDoc
	raw.json(t, &one)
	if raw.StatusCode != 200 || len(one.events()) != 1 || one.events()[0]["eventID"] != e.eventIDs[2] {
		t.Errorf("EQ_eventID unencoded: %d %.300s", raw.StatusCode, raw.body)
	}
	ld := e.get("/epcis/events?perPage=1", "Accept", "application/ld+json")
	if ct := ld.Header.Get("Content-Type"); ct != "application/ld+json" {
		t.Errorf("Accept ld+json gives %q", ct)
	}

	wantProblem(t, e.get("/epcis/events?EQ_color=red"), 400, "epcisException:QueryParameterException")
	wantProblem(t, e.get("/epcis/events?GE_eventTime=yesterday"), 400, "epcisException:QueryParameterException")
	wantProblem(t, e.get("/epcis/events?perPage=0"), 400, "epcisException:QueryParameterException")
	wantProblem(t, e.get("/epcis/events?"+lot+"&nextPageToken=forged"), 400, "epcisException:ValidationException")
	wantProblem(t, e.get("/epcis/events", "GS1-EPCIS-Version", "1.2"), 406, "epcisException:NotAcceptableException")
}

func TestEPCISEventByID(t *testing.T) {
	e := shared(t)
	id := e.eventIDs[0]
	for _, p := range []string{"/epcis/events/" + escapeID(id), "/epcis/events/" + hashOf(id)} {
		r := e.get(p)
		var ev map[string]any
		r.json(t, &ev)
		if r.StatusCode != 200 || ev["eventID"] != id || ev["bizStep"] != "receiving" {
			t.Errorf("GET %s: %d %.300s", p, r.StatusCode, r.body)
		}
		if r.Header.Get("GS1-EPCIS-Version") != "2.0.0" {
			t.Errorf("GET %s: no GS1-EPCIS-Version", p)
		}
	}
	wantProblem(t, e.get("/epcis/events/"+strings.Repeat("0", 64)), 404, "epcisException:NoSuchResourceException")
	wantProblem(t, e.get("/epcis/events/"+escapeID("ni:///sha-256;"+strings.Repeat("1", 64)+"?ver=CBV2.0")), 404, "epcisException:NoSuchResourceException")
	wantProblem(t, e.get("/epcis/events/garbage"), 400, "epcisException:ValidationException")
	wantProblem(t, e.get("/epcis/capture/no-such-job"), 404, "epcisException:NoSuchResourceException")
}

func TestEPCISCapture(t *testing.T) {
	e := shared(t)
	// The capture job reports the events and their proof state.
	r := e.get("/epcis/capture/" + e.captureIDs[1])
	var st captureStatus
	r.json(t, &st)
	if r.StatusCode != 200 || st.Running || !st.Success || st.Proven != len(e.eventIDs) || st.Errors == nil {
		t.Errorf("capture job: %d %s", r.StatusCode, r.body)
	}

	// One event through POST /epcis/events, in the ld+json media type.
	ev := objectEvent("2026-11-14T08:00:00Z", "OBSERVE", "inspecting", "conformant", coldRoomLoc, coldRoomLoc, serial(500004))
	ev["@context"] = testContext
	b, _ := json.Marshal(ev)
	r = e.do(nil, http.MethodPost, "/epcis/events", bytes.NewReader(b), "Content-Type", "application/ld+json")
	if r.StatusCode != 202 || !strings.HasPrefix(r.Header.Get("Location"), "/epcis/capture/") {
		t.Fatalf("POST /epcis/events: %d %s %v", r.StatusCode, r.body, r.Header)
	}
	st = e.waitCapture(r.Header.Get("Location"))
	if len(st.EventIDs) != 1 || r.Header.Get("Content-Location") != "/epcis/events/"+escapeID(st.EventIDs[0]) {
		t.Errorf("single capture: %+v, Content-Location %q", st, r.Header.Get("Content-Location"))
	}
	if g := e.get("/epcis/events/" + hashOf(st.EventIDs[0])); g.StatusCode != 200 {
		t.Errorf("captured event not readable: %d", g.StatusCode)
	}

	// Errors.
	wantProblem(t, e.postJSON("/epcis/capture", `{"hello": "world"}`), 400, "epcisException:ValidationException")
	wantProblem(t, e.postJSON("/epcis/capture", `not even json`), 400, "epcisException:ValidationException")
	wantProblem(t, e.postJSON("/epcis/capture", document()), 400, "epcisException:ValidationException")
	wantProblem(t, e.postJSON("/epcis/events", document(ev)), 400, "epcisException:ValidationException")
	wantProblem(t, e.postJSON("/epcis/capture", document(ev), "Content-Type", "text/xml"), 415, "epcisException:UnsupportedMediaTypeException")
	big := document()
	var many []any
	for i := 0; i < 3000; i++ {
		many = append(many, objectEvent("2026-11-14T08:00:00Z", "OBSERVE", "inspecting", "", coldRoomLoc, coldRoomLoc, serial(600000+i)))
	}
	big["epcisBody"] = map[string]any{"eventList": many}
	r = e.postJSON("/epcis/capture", big)
	wantProblem(t, r, 413, "epcisException:CaptureLimitExceededException")
	if r.Header.Get("GS1-EPCIS-Capture-File-Size-Limit") == "" {
		t.Error("413 without GS1-EPCIS-Capture-File-Size-Limit")
	}
	opt := e.do(nil, http.MethodOptions, "/epcis/capture", nil)
	if opt.StatusCode != 204 || !strings.Contains(opt.Header.Get("Allow"), "POST") || opt.Header.Get("GS1-EPCIS-Capture-Limit") == "" {
		t.Errorf("OPTIONS /epcis/capture: %d %v", opt.StatusCode, opt.Header)
	}
}

// TestCaptureTokens checks capture protected by tokens: a bearer token, or
// a portal session with its CSRF token.
func TestCaptureTokens(t *testing.T) {
	e := shared(t)
	const token = "capture-token-0123456789abcdef"
	base, _ := e.extraApp(t, Config{CaptureTokens: []string{token}})
	doc := document(objectEvent("2026-11-15T08:00:00Z", "OBSERVE", "inspecting", "", coldRoomLoc, coldRoomLoc, serial(500005)))
	wantProblem(t, e.postJSON(base+"/epcis/capture", doc), 401, "epcisException:SecurityException")
	wantProblem(t, e.postJSON(base+"/epcis/capture", doc, "Authorization", "Bearer wrong-token-0123456789"), 401, "epcisException:SecurityException")
	if r := e.postJSON(base+"/epcis/capture", doc, "Authorization", "Bearer "+token); r.StatusCode != 202 {
		t.Errorf("with token: %d %s", r.StatusCode, r.body)
	}
	c, csrf := e.login(t, base, adminUser, adminPass)
	b, _ := json.Marshal(doc)
	r := e.do(c, http.MethodPost, base+"/epcis/capture", bytes.NewReader(b), "Content-Type", "application/json")
	wantProblem(t, r, 403, "epcisException:SecurityException")
	r = e.do(c, http.MethodPost, base+"/epcis/capture", bytes.NewReader(b), "Content-Type", "application/json", "X-CSRF-Token", csrf)
	if r.StatusCode != 202 {
		t.Errorf("with session and CSRF token: %d %s", r.StatusCode, r.body)
	}
}
