package web

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tracegate/tracegate/gateway"
)

func TestResolverSyntax(t *testing.T) {
	e := shared(t)
	g := e.gtin
	badCheck := g[:13] + string('0'+(g[13]-'0'+1)%10)
	for name, path := range map[string]string{
		"wrong GTIN check digit":   "/01/" + badCheck + "/10/" + testLot,
		"GTIN of letters":          "/01/notagtin",
		"GTIN too short":           "/01/12345",
		"qualifiers out of order":  "/01/" + g + "/21/500001/10/" + testLot,
		"qualifier not of a GTIN":  "/01/" + g + "/254/1",
		"dangling qualifier":       "/01/" + g + "/10",
		"wrong SSCC check digit":   "/00/106141410000000034",
		"lot with a bad character": "/01/" + g + "/10/A%7EB",
	} {
		for _, accept := range []string{"application/json", "text/html"} {
			r := e.get(path, "Accept", accept)
			if r.StatusCode != 400 {
				t.Errorf("%s (%s) %s: %d, want 400", name, accept, path, r.StatusCode)
			}
			if r.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: the error lacks CORS", name)
			}
		}
		wantProblem(t, e.get(path), 400, "/invalid")
	}
	if r := e.get("/01/"+badCheck, "Accept", "text/html"); !strings.Contains(string(r.body), "check digit") || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the browser's 400 page does not say what is wrong: %.300s", r.body)
	}
	// Well-formed but unknown: 404, never 200.
	wantProblem(t, e.get("/01/"+unknownGTIN(t)), 404, "/not-found")
	if r := e.get("/01/"+unknownGTIN(t), "Accept", "text/html"); r.StatusCode != 404 {
		t.Errorf("unknown GTIN for a browser: %d", r.StatusCode)
	}
}

func TestResolverNegotiation(t *testing.T) {
	e := shared(t)
	lotPath := "/01/" + e.gtin + "/10/" + testLot
	canonical := e.url + lotPath

	// Browsers get the passport page: tracegate is its own default link.
	r := e.get(lotPath, "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), `id="custody"`) {
		t.Fatalf("HTML: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if l := r.Header.Get("Link"); !strings.Contains(l, `rel="linkset"`) || !strings.Contains(l, "application/linkset+json") ||
		!strings.Contains(l, `rel="http://www.w3.org/ns/json-ld#context"`) {
		t.Errorf("Link header %q", l)
	}
	if !strings.Contains(r.Header.Get("Vary"), "Accept") {
		t.Errorf("negotiated response without Vary: Accept")
	}

	// Systems get JSON.
	r = e.get(lotPath, "Accept", "application/json")
	var p gateway.Passport
	r.json(t, &p)
	if r.StatusCode != 200 || p.Kind != "lot" || p.Link.Lot != testLot || p.Product == nil || p.Lot == nil || len(p.Events) < 1+len(e.eventIDs) || p.Proven != len(p.Events) {
		t.Errorf("JSON passport: %d kind %q events %d proven %d", r.StatusCode, p.Kind, len(p.Events), p.Proven)
	}

	// The linkset, by query and by Accept; short names resolve to the
	// canonical anchor.
	for _, req := range []struct {
		path   string
		accept string
	}{
		{lotPath + "?linkType=all", ""},
		{lotPath + "?linkType=linkset", "text/html"},
		{lotPath, "application/linkset+json"},
		{"/gtin/" + e.gtin + "/lot/" + testLot, "application/linkset+json"},
		{lotPath + "/", "application/linkset+json"},
	} {
		r := e.get(req.path, "Accept", req.accept)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/linkset+json" {
			t.Errorf("linkset %s: %d %s", req.path, r.StatusCode, r.Header.Get("Content-Type"))
			continue
		}
		var ls struct {
			Linkset []map[string]any `json:"linkset"`
		}
		r.json(t, &ls)
		if len(ls.Linkset) != 2 || ls.Linkset[0]["anchor"] != canonical || ls.Linkset[1]["anchor"] != e.url+"/01/"+e.gtin {
			t.Errorf("linkset %s anchors: %s", req.path, r.body)
			continue
		}
		for _, rel := range []string{"https://gs1.org/voc/pip", "https://gs1.org/voc/defaultLink", "https://gs1.org/voc/traceability"} {
			links, _ := ls.Linkset[0][rel].([]any)
			if len(links) == 0 {
				t.Errorf("linkset lacks %s", rel)
				continue
			}
			l := links[0].(map[string]any)
			if l["href"] == "" || l["title"] == "" || l["type"] == "" {
				t.Errorf("%s link %v lacks href, title or type", rel, l)
			}
		}
		pip := ls.Linkset[0]["https://gs1.org/voc/pip"].([]any)[0].(map[string]any)
		if pip["href"] != canonical || pip["type"] != "text/html" || pip["hreflang"].([]any)[0] != "en" {
			t.Errorf("pip link %v", pip)
		}
	}

	// A specific link type redirects (307) or is not found (404).
	r = e.get(lotPath + "?linkType=gs1:traceability")
	if r.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("linkType=gs1:traceability: %d", r.StatusCode)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	if loc.Path != "/epcis/events" || loc.Query().Get("gtin") != e.gtin || loc.Query().Get("lot") != testLot {
		t.Errorf("traceability Location %q", r.Header.Get("Location"))
	}
	if follow := e.get(loc.String()); follow.StatusCode != 200 {
		t.Errorf("the traceability link does not work: %d %s", follow.StatusCode, follow.body)
	}
	r = e.get(lotPath + "?linkType=" + url.QueryEscape("https://gs1.org/voc/pip") + "&utm_source=pack")
	if r.StatusCode != http.StatusTemporaryRedirect || r.Header.Get("Location") != canonical+"?utm_source=pack" {
		t.Errorf("linkType=pip as an IRI: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	wantProblem(t, e.get(lotPath+"?linkType=gs1:certificationInfo"), 404, "/not-found")

	// A pack and a shipping unit.
	pack := "/01/" + e.gtin + "/21/500001"
	r = e.get(pack, "Accept", "application/json")
	r.json(t, &p)
	if r.StatusCode != 200 || p.Kind != "serial" || len(p.Events) < 1+len(e.eventIDs) {
		t.Errorf("pack passport: %d %s events %d", r.StatusCode, p.Kind, len(p.Events))
	}
	r = e.get("/00/106141410000000033", "Accept", "application/json")
	r.json(t, &p)
	if r.StatusCode != 200 || p.Kind != "sscc" || len(p.Events) != 4 { // packed, loaded, unloaded, received
		t.Errorf("SSCC passport: %d %s events %d", r.StatusCode, p.Kind, len(p.Events))
	}
	if r := e.get("/01/"+e.gtin, "Accept", "text/html"); r.StatusCode != 200 || !strings.Contains(string(r.body), testLot) {
		t.Errorf("product passport does not list its lots: %d", r.StatusCode)
	}
}

func TestResolverMethods(t *testing.T) {
	e := shared(t)
	lotPath := "/01/" + e.gtin + "/10/" + testLot
	head := e.do(nil, http.MethodHead, lotPath, nil, "Accept", "application/json")
	get := e.get(lotPath, "Accept", "application/json")
	if head.StatusCode != 200 || len(head.body) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
		t.Errorf("HEAD: %d %q body %d", head.StatusCode, head.Header.Get("Content-Type"), len(head.body))
	}
	opt := e.do(nil, http.MethodOptions, lotPath, nil, "Origin", "https://scanner.example", "Access-Control-Request-Method", "GET")
	if opt.StatusCode != 204 || !strings.Contains(opt.Header.Get("Allow"), "HEAD") ||
		opt.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(opt.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("OPTIONS: %d %v", opt.StatusCode, opt.Header)
	}
	if !strings.Contains(get.Header.Get("Access-Control-Expose-Headers"), "Link") {
		t.Errorf("Link is not exposed to cross-origin readers")
	}
	if r := e.do(nil, http.MethodPost, lotPath, nil); r.StatusCode != 405 {
		t.Errorf("POST on the resolver: %d", r.StatusCode)
	}

	// The resolver description.
	r := e.get("/.well-known/gs1resolver")
	var d map[string]any
	r.json(t, &d)
	if r.StatusCode != 200 || d["resolverRoot"] != e.url || d["name"] == "" {
		t.Errorf("description: %s", r.body)
	}
	keys, _ := d["supportedPrimaryKeys"].([]any)
	types, _ := d["supportedLinkType"].([]any)
	if len(keys) != 2 || len(types) == 0 || types[0].(map[string]any)["prefix"] != "gs1:" {
		t.Errorf("description: %s", r.body)
	}

	// QR codes of the canonical Digital Link.
	for _, p := range []string{lotPath + "/qr.png", "/qr?data=" + url.QueryEscape(e.url+lotPath) + "&size=200"} {
		r := e.get(p)
		img, err := png.Decode(bytes.NewReader(r.body))
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" || err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("QR %s: %d %s %v", p, r.StatusCode, r.Header.Get("Content-Type"), err)
		}
	}
	wantProblem(t, e.get("/qr"), 400, "/invalid")
	wantProblem(t, e.get("/qr?data=x&size=5"), 400, "/invalid")
	wantProblem(t, e.get("/qr?data="+strings.Repeat("x", 2000)), 400, "/invalid")
	wantProblem(t, e.get("/01/123/qr.png"), 400, "/invalid")

	// The "check a product" form.
	for q, want := range map[string]string{
		"gtin=" + e.gtin + "&lot=" + testLot:                 lotPath,
		"q=" + url.QueryEscape("https://id.gs1.org"+lotPath): lotPath,
		"q=" + url.QueryEscape(serial(500001)):               "/01/" + e.gtin + "/21/500001",
	} {
		r := e.get("/lookup?" + q)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("lookup %s: %d %q, want %q", q, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
	wantProblem(t, e.get("/lookup?gtin=123"), 400, "/invalid")
	wantProblem(t, e.get("/lookup"), 400, "/invalid")
}

// TestPagesSafe checks that odd input gets a clear answer, never a crash.
func TestPagesSafe(t *testing.T) {
	e := shared(t)
	base, _ := e.extraApp(t, Config{})
	c, _ := e.login(t, base, adminUser, adminPass)
	for p, want := range map[string]int{
		"/events?from=not-a-time":                 400,
		"/events?epc=" + url.QueryEscape("%%%"):   200,
		"/events?page=forged":                     400,
		"/events?bizStep=receiving&type=Nonsense": 400,
		"/events/garbage":                         400,
		"/events/" + strings.Repeat("ab", 32):     404,
		"/nothing-here":                           404,
		"/verify?eventID=garbage":                 404,
	} {
		r := e.do(c, http.MethodGet, base+p, nil, "Accept", "text/html")
		if r.StatusCode != want || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s, want %d", p, r.StatusCode, r.Header.Get("Content-Type"), want)
		}
	}
	// The public verify form takes a pasted proof, a file or an ID.
	good := e.get("/api/v1/events/" + hashOf(e.eventIDs[0]) + "/proof").body
	for name, form := range map[string]url.Values{
		"pasted proof": {"proof": {string(good)}},
		"event ID":     {"eventID": {e.eventIDs[0]}},
	} {
		r := e.do(nil, http.MethodPost, "/verify", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		if r.StatusCode != 200 || !strings.Contains(string(r.body), "Every check passed") {
			t.Errorf("verify form, %s: %d", name, r.StatusCode)
		}
	}
	tampered := strings.Replace(string(good), `"receiving"`, `"shipping"`, 1)
	r := e.do(nil, http.MethodPost, "/verify", strings.NewReader(url.Values{"proof": {tampered}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != 422 || !strings.Contains(string(r.body), "Not verified") {
		t.Errorf("verify form, tampered: %d", r.StatusCode)
	}
	r = e.do(nil, http.MethodPost, "/verify", strings.NewReader("proof=%7Bnope"), "Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != 400 {
		t.Errorf("verify form, garbage: %d", r.StatusCode)
	}
}
