package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tracegate/tracegate/edge/journal"
)

// chromiumPath finds Debian's Chromium; the browser test fails (never
// skips) without it.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium found on PATH: the browser test needs it. Install it with `apt-get install -y chromium` (Debian) and run the tests again")
	return ""
}

// browser drives one headless Chromium tab.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func newBrowser(t *testing.T) *browser {
	path := chromiumPath(t)
	dir := os.Getenv("TRACEGATE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return &browser{t: t, ctx: ctx, dir: dir}
}

// run runs an action with a timeout.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, what, chromedp.Steps(steps...))
}

func (b *browser) eval(expr string) any {
	b.t.Helper()
	return run(b, expr, chromedp.Evaluate[any](expr))
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	v, _ := b.eval(fmt.Sprintf("document.querySelectorAll(%q).length", sel)).(float64)
	return int(v)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, _ := b.eval(fmt.Sprintf("(document.querySelector(%q)||{}).textContent||''", sel)).(string)
	return strings.TrimSpace(s)
}

// viewports are the screenshot sizes: a desktop and a 390 px phone.
var viewports = []struct {
	name   string
	w, h   int64
	mobile bool
}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

// shoot saves screenshots of the current page at both sizes (the screen,
// and the full page) and checks that nothing overflows the phone's width.
func (b *browser) shoot(name string) {
	b.t.Helper()
	for _, vp := range viewports {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		b.do("viewport "+vp.name, chromedp.EmulateViewport(vp.w, vp.h, opts...), chromedp.Sleep(250*time.Millisecond))
		if vp.mobile {
			if w, _ := b.eval("document.documentElement.scrollWidth").(float64); int64(w) > vp.w {
				b.t.Errorf("%s: the page is %v px wide on a %d px phone (horizontal scrolling)", name, w, vp.w)
			}
		}
		// What the screen shows, and the whole page.
		for _, shot := range []struct {
			suffix string
			action chromedp.Action[[]byte]
		}{{"", chromedp.CaptureScreenshot()}, {"-full", chromedp.FullScreenshot(100)}} {
			png := run(b, "screenshot "+name, shot.action)
			p := filepath.Join(b.dir, name+"-"+vp.name+shot.suffix+".png")
			if err := os.WriteFile(p, png, 0o644); err != nil {
				b.t.Fatalf("write screenshot: %v", err)
			}
			b.t.Logf("screenshot: %s", p)
		}
	}
	b.do("reset viewport", chromedp.EmulateViewport(1280, 800))
}

// shootParts saves a screenshot of each element matching the selectors
// at the phone size (name-phone-<part>.png): long pages are easier to
// review in parts.
func (b *browser) shootParts(name string, sels ...string) {
	b.t.Helper()
	vp := viewports[1]
	b.do("viewport phone", chromedp.EmulateViewport(vp.w, vp.h, chromedp.EmulateScale(1), chromedp.EmulateMobile), chromedp.Sleep(250*time.Millisecond))
	for _, sel := range sels {
		if b.count(sel) == 0 {
			continue
		}
		png := run(b, "screenshot "+sel, chromedp.Screenshot(chromedp.CSS(sel)))
		part := strings.Trim(strings.NewReplacer("#", "", ".", "-", " ", "-", ">", "").Replace(sel), "-")
		p := filepath.Join(b.dir, name+"-phone-"+part+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Fatalf("write screenshot: %v", err)
		}
		b.t.Logf("screenshot: %s", p)
	}
	b.do("reset viewport", chromedp.EmulateViewport(1280, 800))
}

func TestBrowser(t *testing.T) {
	e := shared(t)
	b := newBrowser(t)

	// Some edge traffic for the edges page: a reading that cannot be used
	// (kept as a dead letter) and a good one.
	ctx := context.Background()
	if err := e.agent.Ingest(ctx, journal.Raw{Topic: "tracegate/wh1/rfid/dock-in-1", ClientID: "dock-in-1", Received: time.Now(),
		Payload: []byte(`{"epc": "not-an-epc", "ts": "yesterday", "antenna": 1}`)}); err != nil {
		t.Fatalf("edge ingest: %v", err)
	}

	// The public passport of the lot, as a regulator scanning the pack
	// sees it (TestBrowserPassportColdChain looks at the cold chain).
	p := e.waitExcursionsRecorded(2)
	passport := e.url + "/01/" + e.gtin + "/10/" + url.PathEscape(testLot)
	b.do("open passport", chromedp.Navigate(passport), chromedp.WaitVisible(chromedp.CSS("#custody")))
	if n := b.count("#event-states tr.ev-row"); n != len(p.Events) || n < 1+len(e.eventIDs) {
		t.Errorf("verification table has %d events, want %d", n, len(p.Events))
	}
	if n := b.count("#event-states .badge.proven"); n != p.Proven {
		t.Errorf("%d events show Proven, want %d", n, p.Proven)
	}
	if s := b.text("#event-states tr.ev-row strong"); !strings.Contains(s, "Commissioned at Meridian plant") {
		t.Errorf("first event %q, want the commissioning in plain words", s)
	}
	if s := b.text("#event-states"); !strings.Contains(s, "Received at North Warehouse dock door 1") {
		t.Errorf("events lack the receiving in plain words: %.300s", s)
	}
	if w, _ := b.eval("document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth").(float64); w < 100 {
		t.Errorf("QR code image did not load (naturalWidth %v)", w)
	}
	if n := b.count("#event-states .chip.bad"); n != 1 {
		t.Errorf("the reading outside the range is flagged by %d chips, want 1 (9.3 °C)", n)
	}
	if s := b.text("#lot-status"); !strings.Contains(s, "Cold-chain excursion") {
		t.Errorf("lot status %q", s)
	}
	if s := b.text("#n-proven"); s != fmt.Sprint(p.Proven) {
		t.Errorf("proven count %q", s)
	}
	b.shoot("passport")

	// Verify in the browser from the passport.
	b.do("verify from passport", chromedp.Navigate(e.url+"/verify?eventID="+url.QueryEscape(e.eventIDs[0])),
		chromedp.WaitVisible(chromedp.CSS("#verify-result .verdict.ok")))
	if n := b.count("#verify-result .checks li.ok"); n < 7 {
		t.Errorf("verify page shows %d passed checks, want all", n)
	}
	b.shoot("verify")

	// Sign in through the form and watch the dashboard.
	b.do("sign in",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), adminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPass),
		chromedp.Submit(chromedp.CSS("#login-form")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard")),
	)
	b.do("live stream connects", chromedp.WaitVisible(chromedp.CSS("#live.on")))
	if n := b.count("#spark rect.bar"); n != activityMinutes {
		t.Errorf("events-per-minute chart has %d bars, want %d", n, activityMinutes)
	}
	if n := b.count("#recent > li"); n == 0 {
		t.Error("latest events list is empty")
	}
	if s := b.text("#edges"); !strings.Contains(s, "edge-wh1") {
		t.Errorf("edges card %q does not show the edge", s)
	}
	before := b.text("#c-events")

	// A new event captured now appears without a reload.
	now := time.Now().UTC().Format(time.RFC3339)
	ev := objectEvent(now, "OBSERVE", "inspecting", "conformant", coldRoomLoc, coldRoomLoc, serial(500003))
	r := e.postJSON("/epcis/capture", document(ev))
	if r.StatusCode != 202 {
		t.Fatalf("capture: %d %s", r.StatusCode, r.body)
	}
	var st captureStatus
	r.json(t, &st)
	if len(st.EventIDs) != 1 {
		t.Fatalf("capture status %s", r.body)
	}
	b.do("live update", chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector('#recent > li')||{dataset:{}}).dataset.id === %q`, st.EventIDs[0]),
		chromedp.WithPollingTimeout(20*time.Second)))
	if s := b.text("#recent > li a"); s != "Inspected at North Warehouse cold room" {
		t.Errorf("the new event reads %q", s)
	}
	if after := b.text("#c-events"); after == before {
		t.Errorf("event count did not change live (%s)", after)
	}
	if n := b.count("#recent > li.new"); n == 0 {
		t.Error("the new event is not highlighted")
	}
	if s := b.text("#recent > li .badge"); s == "" {
		t.Error("the new event has no verification badge")
	}
	e.waitCapture(r.Header.Get("Location"))
	b.do("reload dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#live.on")))
	b.shoot("dashboard")

	// Events search and an event's page with in-place verification.
	b.do("events", chromedp.Navigate(e.url+"/events?bizStep=receiving"), chromedp.WaitVisible(chromedp.CSS("#events-table")))
	if n := b.count("#events-table tbody tr"); n < 1 {
		t.Errorf("events search found %d rows", n)
	}
	b.do("events all", chromedp.Navigate(e.url+"/events?perPage=8"), chromedp.WaitVisible(chromedp.CSS("#events-table")))
	b.shoot("events")
	b.do("event page", chromedp.Navigate(e.url+"/events/"+hashOf(e.eventIDs[0])), chromedp.WaitVisible(chromedp.CSS("#verify-now")),
		chromedp.Click(chromedp.CSS("#verify-now")), chromedp.WaitVisible(chromedp.CSS("#verify-result .verdict.ok")))
	if n := b.count("#verify-result .checks li.ok"); n < 7 {
		t.Errorf("Verify now shows %d passed checks", n)
	}
	b.shoot("event")

	// Batches and edges.
	b.do("batches", chromedp.Navigate(e.url+"/batches"), chromedp.WaitVisible(chromedp.CSS("#batches-table")))
	b.shoot("batches")
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := e.agent.Status()
		if err == nil && st.Journal.DeadLetters > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edge did not dead-letter the bad reading: %+v %v", st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.do("edges", chromedp.Navigate(e.url+"/edges"), chromedp.WaitVisible(chromedp.CSS(".edge-card")))
	if n := b.count("table.dead tbody tr"); n < 1 {
		t.Errorf("edges page lists %d dead letters", n)
	}
	b.shoot("edges")

	// The sign-in page and an error page, signed out.
	b.do("sign out", chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.shoot("login")
	b.do("unknown lot", chromedp.Navigate(e.url+"/01/"+e.gtin+"/10/NO-SUCH-LOT"), chromedp.WaitVisible(chromedp.CSS("#lot-status")))
	if s := b.text("#lot-status"); !strings.Contains(s, "Lot not registered") {
		t.Errorf("a lot the manufacturer never registered shows %q", s)
	}
	b.shoot("suspect-lot")
	b.do("unknown product", chromedp.Navigate(e.url+"/01/"+unknownGTIN(t)), chromedp.WaitVisible(chromedp.CSS("#error")))
	b.shoot("unknown")
}

// TestBrowserPassportColdChain opens the passport of the lot whose cold
// room warmed up: the chart, its band and excursion markers, the
// excursion recorded on the ledger, the custody timeline and the
// verification state of every event.
func TestBrowserPassportColdChain(t *testing.T) {
	e := shared(t)
	e.waitExcursionsRecorded(2)
	b := newBrowser(t)
	passport := e.url + "/01/" + e.gtin + "/10/" + url.PathEscape(testLot)
	b.do("open passport", chromedp.Navigate(passport), chromedp.WaitVisible(chromedp.CSS("#temp-chart")))
	if n := b.count("#temp-chart path.series"); n != 3 {
		t.Errorf("temperature chart has %d sensor lines, want 3 (the cold room logger, the readings sent with events, the truck's logger)", n)
	}
	if n := b.count("#temp-chart rect.band"); n != 1 {
		t.Errorf("temperature chart has %d allowed-range bands, want 1", n)
	}
	if n := b.count("#temp-chart g.exc"); n < 1 {
		t.Errorf("temperature chart marks %d excursions, want at least 1", n)
	}
	if n := b.count("#temp-chart .exc-peak"); n < 1 {
		t.Errorf("temperature chart marks %d excursion peaks", n)
	}
	if s := b.text("#temp-chart"); !strings.Contains(s, "10.6 °C") {
		t.Errorf("the chart does not label the 10.6 °C peak: %.200s", s)
	}
	if n := b.count("#excursions tr.exc-row.recorded"); n < 2 {
		t.Errorf("%d excursion rows are recorded on the ledger, want 2", n)
	}
	if s := b.text("#excursions tr.exc-row.recorded .ledger-state"); !strings.Contains(s, "Recorded") || !strings.Contains(s, "transaction") {
		t.Errorf("excursion ledger state reads %q", s)
	}
	if s := b.text("#lot-status"); !strings.Contains(s, "Cold-chain excursion") {
		t.Errorf("lot status %q, want the excursion", s)
	}
	if n := b.count("#custody > li"); n < 2 {
		t.Errorf("custody timeline has %d steps", n)
	}
	if s := b.text("#custody"); !strings.Contains(s, "North Warehouse, Hanover") || !strings.Contains(s, "Meridian plant, Hamburg") ||
		!strings.Contains(s, "City Hospital pharmacy, Berlin") || !strings.Contains(s, "City Hospital Berlin") {
		t.Errorf("custody timeline does not name the sites and holders: %.400s", s)
	}
	if s := b.text("#custody li.transit"); !strings.Contains(s, "In transit") || !strings.Contains(s, "TRUCK-07") {
		t.Errorf("the in-transit leg reads %q, want the truck", s)
	}
	if s := b.text("#custody"); !strings.Contains(s, "In shipping unit") {
		t.Errorf("the custody timeline does not say the packs travelled in their pallet: %.600s", s)
	}
	if s := b.text("#holdings"); !strings.Contains(s, "City Hospital pharmacy, Berlin") {
		t.Errorf("where it is now: %q", s)
	}
	// Other tests add events to the lot: count what the passport has.
	p := e.waitExcursionsRecorded(2)
	if n := b.count("#event-states tr.ev-row"); n != len(p.Events) {
		t.Errorf("verification table has %d events, want %d", n, len(p.Events))
	}
	if n := b.count("#event-states tr.ev-row .badge.proven"); n != p.Proven || n < 1+len(e.eventIDs) {
		t.Errorf("%d events show Proven, want %d", n, p.Proven)
	}
	if n := b.count("#event-states tr.ev-row .badge.pending"); n != p.Pending {
		t.Errorf("%d events show Pending anchor, want %d", n, p.Pending)
	}
	// The filter shows only the pending ones (none).
	b.do("filter proven", chromedp.Click(chromedp.CSS(`#events-box .filter[data-filter="proven"]`)))
	if n, _ := b.eval(`document.querySelectorAll("#event-states tr.ev-row:not([hidden])").length`).(float64); int(n) != b.count("#event-states tr.ev-row.state-proven") {
		t.Errorf("the proven filter shows %v rows", n)
	}
	if n, _ := b.eval(`document.querySelectorAll("#event-states tr.ev-row:not([hidden]):not(.state-proven)").length`).(float64); n != 0 {
		t.Errorf("the proven filter shows %v other rows", n)
	}
	b.do("filter all", chromedp.Click(chromedp.CSS(`#events-box .filter[data-filter="all"]`)))
	b.eval("window.scrollTo(0, 0)")
	if w, _ := b.eval("document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth").(float64); w < 100 {
		t.Errorf("QR code image did not load (naturalWidth %v)", w)
	}
	b.shoot("passport-excursion")
	b.shootParts("passport-excursion", ".passport-head", "#where-now", "#cold-chain", "#journey", "#proof-summary")
}

// signIn signs the browser in through the form.
func (b *browser) signIn(e *env, user, pass string) {
	b.t.Helper()
	b.do("sign in as "+user,
		chromedp.Navigate(e.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), pass),
		chromedp.Submit(chromedp.CSS("#login-form")),
		chromedp.WaitVisible(chromedp.CSS(".who")),
	)
}

// TestBrowserLive: pages update without a reload. A public passport
// turns to "Recalled" when the regulator recalls its lot; a member's
// alerts page shows a new alert as it is raised; the regulator's page.
func TestBrowserLive(t *testing.T) {
	e := shared(t)
	b := newBrowser(t)
	ic, itok := e.login(t, e.url, inspector, inspectPass)
	recall := func(lot, reason string) {
		t.Helper()
		body := `{"gtin": "` + e.gtin + `", "lot": "` + lot + `", "class": "I", "reason": "` + reason + `"}`
		r := e.do(ic, "POST", "/api/v1/recalls", strings.NewReader(body), "Content-Type", "application/json", "X-CSRF-Token", itok)
		if r.StatusCode != 201 {
			t.Fatalf("recall %s: %d %s", lot, r.StatusCode, r.body)
		}
	}

	// A visitor has the passport of a lot open when it is recalled.
	lot := "VX-2611-21"
	e.newLot(t, lot)
	b.do("open passport", chromedp.Navigate(e.url+"/01/"+e.gtin+"/10/"+lot), chromedp.WaitVisible(chromedp.CSS("#lot-status")))
	if s := b.text("#lot-status"); !strings.Contains(s, "In good standing") {
		t.Errorf("a fresh lot reads %q", s)
	}
	b.eval("window.scrollTo(0, 200); window.tgMarker = 42")
	y0, _ := b.eval("window.scrollY").(float64)
	b.do("the passport's stream connects", chromedp.Poll[chromedp.Void](`document.documentElement.dataset.live === "on"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	recall(lot, "Sterility cannot be assured: a filling line filter failed its integrity test.")
	b.do("passport turns to recalled", chromedp.Poll[chromedp.Void](
		`window.tgMarker === 42 && (document.querySelector('#lot-status')||{textContent:''}).textContent.includes('Recalled') && !!document.querySelector('#recall')`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if y, _ := b.eval("window.scrollY").(float64); y != y0 {
		t.Errorf("the live update moved the reader from %v to %v px", y0, y)
	}
	if s := b.text("#recall"); !strings.Contains(s, "Class I") || !strings.Contains(s, "filling line filter") {
		t.Errorf("recall box reads %q", s)
	}
	b.shoot("passport-recalled")

	// A member has the alerts page open when an alert is raised.
	b.signIn(e, adminUser, adminPass)
	b.do("alerts page", chromedp.Navigate(e.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS("#alerts-page #live.on")))
	before := b.count("#alert-list > li.alert-item")
	if before == 0 {
		t.Errorf("the alerts page lists no alerts")
	}
	if n := b.count("#alert-list > li.sev-warning"); n == 0 {
		t.Errorf("no warning-coloured alert (the excursions)")
	}
	b.eval("window.tgMarker = 43")
	lot2 := "VX-2611-22"
	e.newLot(t, lot2)
	recall(lot2, "Labels carry the wrong expiry date.")
	id := "recall/" + e.gtin + "/" + lot2
	b.do("new alert appears", chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`window.tgMarker === 43 && !!document.querySelector('#alert-list > li[data-id=%q].new.sev-critical')`, id),
		chromedp.WithPollingTimeout(20*time.Second)))
	if s := b.text("#alert-list > li.alert-item h3"); !strings.Contains(s, lot2) {
		t.Errorf("newest alert reads %q", s)
	}
	if n, _ := b.eval(`Number(document.querySelector('#alert-count').dataset.n)`).(float64); n < 1 {
		t.Errorf("the navigation badge did not count the new alert (%v)", n)
	}
	b.shoot("alerts")

	// A pack nobody commissioned turns up at the warehouse: its passport
	// says so in red, and the regulator sees it.
	ev := objectEvent(time.Now().UTC().Format(time.RFC3339), "OBSERVE", "receiving", "in_progress", dockInLoc, siteLoc, serial(700002))
	if r := e.postJSON("/epcis/capture", document(ev)); r.StatusCode != 202 {
		t.Fatalf("capture: %d %s", r.StatusCode, r.body)
	}
	waitForT(t, "suspect flag", func() bool {
		fs, err := e.svc.Suspects(serial(700002))
		return err == nil && len(fs) > 0
	})
	b.do("suspect pack passport", chromedp.Navigate(e.url+"/01/"+e.gtin+"/21/700002"), chromedp.WaitVisible(chromedp.CSS("#suspect")))
	if s := b.text("#suspect"); !strings.Contains(s, "never commissioned") {
		t.Errorf("suspect banner reads %q", s)
	}
	if s := b.text("#lot-status"); !strings.Contains(s, "Suspect pack") {
		t.Errorf("suspect pack status %q", s)
	}
	b.shoot("passport-suspect")

	// The regulator's page, and a recall form mistake.
	b.do("sign out", chromedp.Navigate(e.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(".who button")),
		chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.signIn(e, inspector, inspectPass)
	b.do("regulator page", chromedp.Navigate(e.url+"/regulator"), chromedp.WaitVisible(chromedp.CSS("#recall-form")))
	if n := b.count("#recalls tbody tr"); n < 2 {
		t.Errorf("regulator page lists %d recalls", n)
	}
	if n := b.count("#suspects tbody tr"); n < 1 {
		t.Errorf("regulator page lists %d suspect packs", n)
	}
	b.shoot("regulator")
	b.do("recall an unknown lot",
		chromedp.SendKeys(chromedp.CSS("#r-gtin"), e.gtin),
		chromedp.SendKeys(chromedp.CSS("#r-lot"), "VX-0000-00"),
		chromedp.SendKeys(chromedp.CSS("#r-reason"), "test"),
		chromedp.Click(chromedp.CSS("#r-confirm")),
		chromedp.Submit(chromedp.CSS("#recall-form")),
		chromedp.WaitVisible(chromedp.CSS("#recall-error")))
	if s := b.text("#recall-error"); !strings.Contains(s, "not registered on the ledger") {
		t.Errorf("recall form error %q", s)
	}
	b.shootParts("regulator", "#recall-card")
}
