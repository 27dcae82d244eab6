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
	// sees it.
	passport := e.url + "/01/" + e.gtin + "/10/" + url.PathEscape(testLot)
	b.do("open passport", chromedp.Navigate(passport), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	if n := b.count("#timeline > li"); n != 1+len(e.eventIDs) {
		t.Errorf("timeline has %d events, want %d", n, 1+len(e.eventIDs))
	}
	if n := b.count("#timeline .badge.proven"); n != 1+len(e.eventIDs) {
		t.Errorf("%d events show Proven, want %d", n, 1+len(e.eventIDs))
	}
	if s := b.text("#timeline > li h3"); !strings.Contains(s, "Commissioned at Meridian plant") {
		t.Errorf("first timeline entry %q, want the commissioning in plain words", s)
	}
	if s := b.text("#timeline"); !strings.Contains(s, "Received at North Warehouse dock door 1") {
		t.Errorf("timeline lacks the receiving in plain words: %.300s", s)
	}
	if w, _ := b.eval("document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth").(float64); w < 100 {
		t.Errorf("QR code image did not load (naturalWidth %v)", w)
	}
	if n := b.count("#temp-chart circle.pt"); n != 4 {
		t.Errorf("temperature chart has %d points, want 4", n)
	}
	if n := b.count("#temp-chart circle.pt.out"); n != 1 {
		t.Errorf("temperature chart marks %d excursions, want 1 (9.3 °C)", n)
	}
	if n := b.count("#timeline .chip.bad"); n != 2 {
		t.Errorf("the excursion is flagged by %d chips on the timeline, want 2 (the reading and the note)", n)
	}
	if s := b.text("#lot-status"); !strings.Contains(s, "In good standing") {
		t.Errorf("lot status %q", s)
	}
	if s := b.text("#n-proven"); s != fmt.Sprint(1+len(e.eventIDs)) {
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
	if n := b.count("#temp-chart path.series"); n != 2 {
		t.Errorf("temperature chart has %d sensor lines, want 2 (the cold room logger and the readings sent with events)", n)
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
	if s := b.text("#custody"); !strings.Contains(s, "North Warehouse, Hanover") || !strings.Contains(s, "Meridian plant, Hamburg") {
		t.Errorf("custody timeline does not name the sites: %.400s", s)
	}
	total := 1 + len(e.eventIDs)
	if n := b.count("#event-states tr.ev-row"); n != total {
		t.Errorf("verification table has %d events, want %d", n, total)
	}
	if n := b.count("#event-states tr.ev-row .badge.proven"); n != total {
		t.Errorf("%d events show Proven, want %d", n, total)
	}
	// The filter shows only the pending ones (none).
	b.do("filter pending", chromedp.Click(chromedp.CSS(`#events-box .filter[data-filter="pending"]`)))
	if n, _ := b.eval(`document.querySelectorAll("#event-states tr.ev-row:not([hidden])").length`).(float64); n != 0 {
		t.Errorf("the pending filter shows %v rows", n)
	}
	b.do("filter all", chromedp.Click(chromedp.CSS(`#events-box .filter[data-filter="all"]`)))
	if w, _ := b.eval("document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth").(float64); w < 100 {
		t.Errorf("QR code image did not load (naturalWidth %v)", w)
	}
	b.shoot("passport-excursion")
	b.shootParts("passport-excursion", ".passport-head", "#where-now", "#cold-chain", "#journey", "#proof-summary")
}
