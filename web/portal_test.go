package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

// newLot registers another lot of the test product (for recalls).
func (e *env) newLot(t *testing.T, lot string) {
	t.Helper()
	if _, err := e.svc.Ledger().RegisterLot(context.Background(), ledger.Identity{Org: orgMaker, User: ledger.AdminUser},
		ledger.Lot{GTIN: e.gtin, Lot: lot, Org: orgMaker, Quantity: 10, ProducedAt: "2026-11-06", Expiry: "2027-06-30"}); err != nil {
		t.Fatalf("register lot %s: %v", lot, err)
	}
}

// TestPassportColdChain checks what the gateway's cold-chain worker did
// with the cold room's warm night, as the passport (JSON and page) shows
// it: two excursions (the logger's and the readings sent with the
// events), recorded on the ledger, the lot flagged, custody by site.
func TestPassportColdChain(t *testing.T) {
	e := shared(t)
	p := e.waitExcursionsRecorded(2)
	cc := p.ColdChain
	if len(cc.Summary.Excursions) != 2 {
		t.Fatalf("%d excursions, want 2: %+v", len(cc.Summary.Excursions), cc.Summary.Excursions)
	}
	var logger *ledger.Excursion
	for i, r := range cc.Recorded {
		if r.Sensor == "wh1/coldroom-1" {
			logger = &cc.Recorded[i]
		}
		if r.TxID == "" || r.Kind != ledger.ExcursionTempHigh {
			t.Errorf("recorded excursion %+v", r)
		}
	}
	if logger == nil {
		t.Fatalf("the cold room logger's excursion is not recorded: %+v", cc.Recorded)
	}
	if logger.PeakValue != 10.6 || logger.Start.Format("15:04") != "01:30" || logger.End.Format("15:04") != "04:00" {
		t.Errorf("logger excursion peak %v from %s to %s, want 10.6 °C 01:30–04:00", logger.PeakValue, logger.Start, logger.End)
	}
	if len(cc.Pending) != 0 {
		t.Errorf("pending excursions %v after both are recorded", cc.Pending)
	}
	if len(cc.Readings["wh1/coldroom-1"]) != len(coldRoomSeries()) {
		t.Errorf("passport carries %d of the logger's %d readings", len(cc.Readings["wh1/coldroom-1"]), len(coldRoomSeries()))
	}
	// Custody by site, from the ledger's site directory.
	var names []string
	for _, s := range p.Custody {
		names = append(names, s.SiteName)
	}
	if len(p.Custody) < 2 || p.Custody[0].SiteName != "Meridian plant, Hamburg" || p.Custody[1].SiteName != "North Warehouse, Hanover" ||
		p.Custody[1].OrgName != "North Logistics Warehouse" || !contains(p.Custody[1].BizSteps, "shipping") {
		t.Errorf("custody steps %q (%d), want the plant, then the warehouse", names, len(p.Custody))
	}
	held := 0
	for _, h := range p.Holdings {
		held += h.Packs
	}
	// The pallet went on to the hospital (other tests see a pack again at
	// the warehouse later).
	hospital := false
	for _, h := range p.Holdings {
		hospital = hospital || (h.Org == orgHospital && h.SiteName == "City Hospital pharmacy, Berlin" && h.Packs > 0)
	}
	if held != 5 || !hospital {
		t.Errorf("holdings %+v, want the lot's packs at the hospital", p.Holdings)
	}
	var transit *gateway.CustodyStep
	for i, s := range p.Custody {
		if s.InTransit {
			transit = &p.Custody[i]
		}
	}
	if transit == nil || len(p.Custody) < 4 || p.Custody[3].SiteName != "City Hospital pharmacy, Berlin" || !contains(p.Custody[3].Via, gateway.CanonicalID(testPallet)) {
		t.Errorf("custody steps %q: want plant, warehouse, in transit, hospital (via the pallet)", names)
	}

	// The page.
	r := e.get("/01/"+e.gtin+"/10/"+testLot, "Accept", "text/html")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("passport page: %d", r.StatusCode)
	}
	html := string(r.body)
	for _, want := range []string{`id="temp-chart"`, `class="band"`, `<g class="exc"`, `data-state="recorded"`, `class="exc-row recorded"`,
		"Cold-chain excursion", "10.6 °C", "North Warehouse, Hanover", "Meridian plant, Hamburg", `id="custody"`, `id="event-states"`, `id="qr"`, "Allowed 2–8 °C",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("passport page lacks %q", want)
		}
	}
	// A pack of the lot: where it is now, the lot's cold chain.
	pk := e.get("/01/"+e.gtin+"/21/500001", "Accept", "text/html")
	if s := string(pk.body); pk.StatusCode != 200 || !strings.Contains(s, `id="where-now"`) || !strings.Contains(s, `id="temp-chart"`) ||
		!strings.Contains(s, "Pack passport") || !strings.Contains(s, "Cold-chain excursion") {
		t.Errorf("pack passport: %d", pk.StatusCode)
	}
	if strings.Contains(html, `id="hum-chart"`) {
		t.Errorf("a humidity chart, but the profile limits no humidity")
	}
	if n := strings.Count(html, `class="ev-row state-`); n != len(p.Events) || n < 1+len(e.eventIDs) {
		t.Errorf("%d events shown with their verification state, want %d", n, len(p.Events))
	}
	if n := strings.Count(html, `class="ev-row state-proven"`); n != p.Proven {
		t.Errorf("%d events shown proven, want %d", n, p.Proven)
	}
}

// TestLotAPI covers the JSON API for integrations.
func TestLotAPI(t *testing.T) {
	e := shared(t)
	e.waitExcursionsRecorded(2)
	base := "/api/v1/lots/" + e.gtin + "/" + testLot

	var tr gateway.Trace
	r := e.get(base + "/trace")
	if r.StatusCode != 200 {
		t.Fatalf("trace: %d %s", r.StatusCode, r.body)
	}
	r.json(t, &tr)
	sites := ""
	for _, h := range tr.Holdings {
		sites += h.SiteName + ";"
	}
	if tr.Packs != 5 || !strings.Contains(sites, "City Hospital pharmacy, Berlin;") || tr.Positions != nil {
		t.Errorf("trace %+v", tr)
	}
	wantProblem(t, e.get(base+"/trace?positions=true"), http.StatusUnauthorized, "unauthenticated")
	c, _ := e.login(t, e.url, operator, operatorPass)
	r = e.do(c, http.MethodGet, base+"/trace?positions=true", nil)
	tr = gateway.Trace{}
	r.json(t, &tr)
	if r.StatusCode != 200 || len(tr.Positions) != 5 || !tr.Positions[0].Seen {
		t.Errorf("trace with positions: %d %+v", r.StatusCode, tr.Positions)
	}

	var cu struct {
		GTIN, Lot string
		Steps     []gateway.CustodyStep
	}
	r = e.get(base + "/custody")
	r.json(t, &cu)
	if r.StatusCode != 200 || cu.Lot != testLot || len(cu.Steps) < 2 || cu.Steps[1].Org != orgWarehouse {
		t.Errorf("custody: %d %s", r.StatusCode, r.body)
	}

	var cc gateway.ColdChainReport
	r = e.get(base + "/coldchain")
	r.json(t, &cc)
	if r.StatusCode != 200 || len(cc.Recorded) != 2 || cc.Readings != nil || cc.Profile == nil || *cc.Profile.MaxC != 8 {
		t.Errorf("coldchain: %d %.400s", r.StatusCode, r.body)
	}
	cc = gateway.ColdChainReport{}
	e.get(base+"/coldchain?readings=true").json(t, &cc)
	if len(cc.Readings["wh1/coldroom-1"]) != len(coldRoomSeries()) {
		t.Errorf("coldchain?readings=true has %d logger readings", len(cc.Readings["wh1/coldroom-1"]))
	}

	var tb gateway.TraceBack
	r = e.get("/api/v1/objects/" + url.PathEscape(serial(500001)) + "/trace")
	r.json(t, &tb)
	if r.StatusCode != 200 || tb.Origin == nil || tb.Origin.SiteName != "Meridian plant, Hamburg" ||
		strings.Join(tb.Holders, ",") != orgMaker+","+orgWarehouse+","+orgHospital || tb.Current == nil || tb.Current.Org != orgHospital {
		t.Errorf("object trace: %d %.600s", r.StatusCode, r.body)
	}
	// The Digital Link of the same pack answers the same.
	dlID := "https://id.gs1.org/01/" + e.gtin + "/21/500001"
	tb2 := gateway.TraceBack{}
	e.get("/api/v1/objects/"+url.PathEscape(dlID)+"/trace").json(t, &tb2)
	if tb2.ID != tb.ID || len(tb2.Steps) != len(tb.Steps) {
		t.Errorf("trace by Digital Link %q vs %q", tb2.ID, tb.ID)
	}
	wantProblem(t, e.get("/api/v1/objects/not-an-id/trace"), http.StatusBadRequest, "invalid")
	wantProblem(t, e.get("/api/v1/objects/"+url.PathEscape(serial(999999))+"/trace"), http.StatusNotFound, "not-found")

	var ex struct{ Excursions []ledger.Excursion }
	r = e.get("/api/v1/excursions?gtin=" + e.gtin + "&lot=" + testLot)
	r.json(t, &ex)
	if r.StatusCode != 200 || len(ex.Excursions) != 2 {
		t.Errorf("excursions: %d %.300s", r.StatusCode, r.body)
	}
	wantProblem(t, e.get("/api/v1/excursions?lot="+testLot), http.StatusBadRequest, "invalid")

	var si struct{ Sites []ledger.Site }
	r = e.get("/api/v1/sites")
	r.json(t, &si)
	if r.StatusCode != 200 || len(si.Sites) != 3 {
		t.Errorf("sites: %d %.300s", r.StatusCode, r.body)
	}

	wantProblem(t, e.get("/api/v1/lots/"+e.gtin+"/NO-SUCH-LOT/trace"), http.StatusNotFound, "not-found")
	wantProblem(t, e.get("/api/v1/lots/12345/"+testLot+"/custody"), http.StatusBadRequest, "invalid")
}

// TestAlertsAPI: members see their own organisation's alerts; the
// gateway operator's admin and regulators see all; visitors none.
func TestAlertsAPI(t *testing.T) {
	e := shared(t)
	e.waitExcursionsRecorded(2)
	wantProblem(t, e.get("/api/v1/alerts"), http.StatusUnauthorized, "unauthenticated")

	type alerts struct {
		Org    string
		Alerts []gateway.Alert
	}
	get := func(user, pass string) alerts {
		c, _ := e.login(t, e.url, user, pass)
		var a alerts
		var r response
		waitForT(t, "alerts of "+user, func() bool {
			r = e.do(c, http.MethodGet, "/api/v1/alerts", nil)
			a = alerts{}
			r.json(t, &a)
			return r.StatusCode == 200 && len(a.Alerts) > 0
		})
		return a
	}
	op := get(operator, operatorPass)
	if op.Org != orgWarehouse {
		t.Errorf("operator's alerts are of %q", op.Org)
	}
	kinds := map[string]bool{}
	for _, a := range op.Alerts {
		if !contains(a.Orgs, orgWarehouse) {
			t.Errorf("the operator sees an alert for %v: %s", a.Orgs, a.Title)
		}
		kinds[a.Kind] = true
	}
	if !kinds[gateway.AlertExcursionRecorded] || !kinds[gateway.AlertExcursionStart] {
		t.Errorf("the warehouse (where the cold room is) was not alerted of the excursion: kinds %v", kinds)
	}
	for i := 1; i < len(op.Alerts); i++ {
		if op.Alerts[i].At.After(op.Alerts[i-1].At) {
			t.Errorf("alerts not newest first")
		}
	}
	if a := get(adminUser, adminPass); a.Org != "*" {
		t.Errorf("the gateway operator's admin sees alerts of %q, want all", a.Org)
	}
	if a := get(inspector, inspectPass); a.Org != "*" {
		t.Errorf("the regulator sees alerts of %q, want all", a.Org)
	}

	// The page, with the badge in the navigation.
	c, _ := e.login(t, e.url, operator, operatorPass)
	r := e.do(c, http.MethodGet, "/alerts", nil, "Accept", "text/html")
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `id="alert-list"`) || !strings.Contains(string(r.body), "Excursion recorded on the ledger") {
		t.Errorf("alerts page: %d", r.StatusCode)
	}
	if !strings.Contains(string(r.body), `id="alert-count" data-n="0"`) {
		t.Errorf("the badge still counts alerts after the alerts page was opened")
	}
	if strings.Contains(string(r.body), `href="/regulator"`) {
		t.Errorf("an operator is offered the regulator page")
	}
}

func waitForT(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRegulator covers suspects, recalls and who may issue them.
func TestRegulator(t *testing.T) {
	e := shared(t)
	lot := "VX-2611-11"
	e.newLot(t, lot)

	// An operator may not.
	oc, otok := e.login(t, e.url, operator, operatorPass)
	if r := e.do(oc, http.MethodGet, "/regulator", nil, "Accept", "text/html"); r.StatusCode != http.StatusForbidden {
		t.Errorf("operator on /regulator: %d", r.StatusCode)
	}
	body := `{"gtin": "` + e.gtin + `", "lot": "` + lot + `", "class": "I", "reason": "Particles found in vials."}`
	wantProblem(t, e.do(oc, http.MethodPost, "/api/v1/recalls", strings.NewReader(body), "Content-Type", "application/json", "X-CSRF-Token", otok),
		http.StatusForbidden, "forbidden")
	wantProblem(t, e.do(oc, http.MethodGet, "/api/v1/suspects", nil), http.StatusForbidden, "forbidden")
	wantProblem(t, e.postJSON("/api/v1/recalls", body), http.StatusUnauthorized, "unauthenticated")

	// A pack nobody commissioned turns up at the warehouse: a suspect.
	ev := objectEvent(time.Now().UTC().Format(time.RFC3339), "OBSERVE", "receiving", "in_progress", dockInLoc, siteLoc, serial(700001))
	if r := e.postJSON("/epcis/capture", document(ev)); r.StatusCode != 202 {
		t.Fatalf("capture: %d %s", r.StatusCode, r.body)
	}

	c, tok := e.login(t, e.url, inspector, inspectPass)
	post := func(b string, hdr ...string) response {
		return e.do(c, http.MethodPost, "/api/v1/recalls", strings.NewReader(b), append([]string{"Content-Type", "application/json"}, hdr...)...)
	}
	wantProblem(t, post(body), http.StatusForbidden, "csrf")
	p := wantProblem(t, post(strings.Replace(body, lot, "NO-SUCH-LOT", 1), "X-CSRF-Token", tok), http.StatusNotFound, "not-found")
	if d, _ := p["detail"].(string); !strings.Contains(d, "not registered") {
		t.Errorf("unknown lot: %q", d)
	}
	wantProblem(t, post(strings.Replace(body, `"I"`, `"IV"`, 1), "X-CSRF-Token", tok), http.StatusBadRequest, "invalid")
	wantProblem(t, post(strings.Replace(body, "Particles found in vials.", " ", 1), "X-CSRF-Token", tok), http.StatusBadRequest, "invalid")
	r := post(body, "X-CSRF-Token", tok)
	var rc ledger.Recall
	r.json(t, &rc)
	if r.StatusCode != http.StatusCreated || rc.TxID == "" || rc.Org != orgRegulator || rc.By != inspector || rc.Class != "I" {
		t.Fatalf("recall: %d %s", r.StatusCode, r.body)
	}
	if loc := r.Header.Get("Location"); loc != "/01/"+e.gtin+"/10/"+lot {
		t.Errorf("recall Location %q", loc)
	}
	p = wantProblem(t, post(body, "X-CSRF-Token", tok), http.StatusConflict, "conflict")
	if d, _ := p["detail"].(string); !strings.Contains(d, "already recalled") {
		t.Errorf("second recall: %q", d)
	}

	// Everyone can read recalls; the passport shows it.
	var rs struct{ Recalls []ledger.Recall }
	e.get("/api/v1/recalls").json(t, &rs)
	found := false
	for _, x := range rs.Recalls {
		found = found || (x.Lot == lot && x.Reason == "Particles found in vials.")
	}
	if !found {
		t.Errorf("recall not listed: %+v", rs.Recalls)
	}
	pp := e.get("/01/"+e.gtin+"/10/"+lot, "Accept", "text/html")
	if s := string(pp.body); !strings.Contains(s, "Recalled") || !strings.Contains(s, "Recall · Class I") || !strings.Contains(s, "Particles found in vials.") {
		t.Errorf("the recalled lot's passport does not say so")
	}

	// The regulator sees the suspect pack and the recall.
	var sus struct{ Suspects []gateway.SuspectFlag }
	waitForT(t, "suspect flag", func() bool {
		sus.Suspects = nil
		e.do(c, http.MethodGet, "/api/v1/suspects", nil).json(t, &sus)
		for _, f := range sus.Suspects {
			if strings.HasSuffix(f.EPC, "/21/700001") && f.Reason == gateway.SuspectNotCommissioned {
				return true
			}
		}
		return false
	})
	page := e.do(c, http.MethodGet, "/regulator", nil, "Accept", "text/html")
	if s := string(page.body); page.StatusCode != 200 || !strings.Contains(s, "Never commissioned") || !strings.Contains(s, "lot "+lot) {
		t.Errorf("regulator page: %d", page.StatusCode)
	}
	// The suspect pack's passport carries the red banner.
	sp := e.get("/01/"+e.gtin+"/21/700001", "Accept", "text/html")
	if s := string(sp.body); !strings.Contains(s, `id="suspect"`) || !strings.Contains(s, "Suspect pack") {
		t.Errorf("suspect pack passport: %d", sp.StatusCode)
	}

	// The form: a clear error, then a recall through it.
	form := url.Values{"_csrf": {tok}, "gtin": {e.gtin}, "lot": {lot}, "class": {"II"}, "reason": {"again"}}
	fr := e.do(c, http.MethodPost, "/regulator/recalls", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if s := string(fr.body); fr.StatusCode != http.StatusBadRequest || !strings.Contains(s, "cannot be undone") {
		t.Errorf("form recall without the confirmation: %d", fr.StatusCode)
	}
	form.Set("confirm", "yes")
	fr = e.do(c, http.MethodPost, "/regulator/recalls", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if s := string(fr.body); fr.StatusCode != http.StatusConflict || !strings.Contains(s, `id="recall-error"`) || !strings.Contains(s, "already recalled") {
		t.Errorf("form recall of a recalled lot: %d", fr.StatusCode)
	}
	lot2 := "VX-2611-12"
	e.newLot(t, lot2)
	form.Set("lot", lot2)
	fr = e.do(c, http.MethodPost, "/regulator/recalls", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if fr.StatusCode != http.StatusSeeOther || !strings.HasPrefix(fr.Header.Get("Location"), "/regulator?recalled=") {
		t.Errorf("form recall: %d %s", fr.StatusCode, fr.Header.Get("Location"))
	}
	form.Set("_csrf", "wrong")
	fr = e.do(c, http.MethodPost, "/regulator/recalls", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if fr.StatusCode != http.StatusForbidden {
		t.Errorf("form recall with a wrong CSRF token: %d", fr.StatusCode)
	}
}

// TestStreamAlerts: the live stream carries a whole alert only to a
// session that may see it; visitors learn which lot it concerns.
func TestStreamAlerts(t *testing.T) {
	e := shared(t)
	ic, itok := e.login(t, e.url, inspector, inspectPass)
	open := func(c *http.Client) (<-chan string, func()) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/stream", nil)
		if c == nil {
			c = http.DefaultClient
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1000)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		if l := <-lines; !strings.HasPrefix(l, "retry:") {
			t.Fatalf("stream starts with %q", l)
		}
		return lines, func() { cancel(); resp.Body.Close() }
	}
	visitor, stopV := open(nil)
	defer stopV()
	member, stopM := open(ic)
	defer stopM()
	time.Sleep(200 * time.Millisecond)

	lot := "VX-2611-31"
	e.newLot(t, lot)
	body := `{"gtin": "` + e.gtin + `", "lot": "` + lot + `", "class": "III", "reason": "Carton print smudged."}`
	if r := e.do(ic, http.MethodPost, "/api/v1/recalls", strings.NewReader(body), "Content-Type", "application/json", "X-CSRF-Token", itok); r.StatusCode != 201 {
		t.Fatalf("recall: %d %s", r.StatusCode, r.body)
	}
	alertOf := func(lines <-chan string) map[string]any {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("stream ended")
				}
				if l != "event: alert" {
					continue
				}
				data := strings.TrimPrefix(<-lines, "data: ")
				var m map[string]any
				if err := json.Unmarshal([]byte(data), &m); err != nil {
					t.Fatalf("alert data %q: %v", data, err)
				}
				if m["lot"] == lot {
					return m
				}
			case <-timeout:
				t.Fatal("no alert about the recall on the stream")
			}
		}
	}
	if m := alertOf(member); m["title"] == nil || m["id"] == nil || m["orgs"] == nil {
		t.Errorf("the regulator's stream has a partial alert: %v", m)
	}
	m := alertOf(visitor)
	if m["title"] != nil || m["message"] != nil || m["orgs"] != nil || m["id"] != nil {
		t.Errorf("a visitor's stream carries the whole alert: %v", m)
	}
	if m["gtin"] != e.gtin || m["kind"] != gateway.AlertRecall {
		t.Errorf("a visitor's stream does not say which lot the alert concerns: %v", m)
	}
}
