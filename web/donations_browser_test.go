package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tracegate/tracegate/ledger"
)

// seedDonations records, through the API, the story the browser test
// looks at: two hospitals' requests, two pledges received by the charity,
// an allocation to each hospital with its reason; the city hospital's is
// received, the fever hospital's is shipped on a traced pallet (58 of the
// 60 boxes were on it), which its dock has scanned when scanned is set.
// It returns the fever allocation and the anonymous donor's receipt code.
func (e *env) seedDonations(t *testing.T, scanned bool) (ledger.Allocation, string) {
	t.Helper()
	charity := e.signIn(t, charityUser, charityPass)
	city := e.signIn(t, receiverUser, receiverPass)
	fever := e.signIn(t, feverUser, feverPass)
	mask := map[string]any{"kind": "n95-mask", "name": "N95 respirators, box of 20"}
	must := func(r response, status int, v any) {
		t.Helper()
		if r.StatusCode != status {
			t.Fatalf("%d, want %d: %s", r.StatusCode, status, r.body)
		}
		if v != nil {
			r.json(t, v)
		}
	}
	var fr, cr ledger.DonationRequest
	must(fever.post("/api/v1/donations/requests", map[string]any{"item": mask, "quantity": 60, "urgency": "critical",
		"hospitalRole": "designated-fever-hospital", "note": "Fever ward 3 has two days of masks left."}), 201, &fr)
	must(city.post("/api/v1/donations/requests", map[string]any{"item": mask, "quantity": 40, "urgency": "normal", "hospitalRole": "general-hospital"}), 201, &cr)
	must(city.post("/api/v1/donations/requests", map[string]any{"item": map[string]any{"kind": "gloves", "name": "Nitrile gloves, box of 100"},
		"quantity": 120, "urgency": "high", "hospitalRole": "general-hospital"}), 201, nil)
	var anon, rotary struct {
		Pledge      ledger.Pledge `json:"pledge"`
		ReceiptCode string        `json:"receiptCode"`
	}
	must(charity.post("/api/v1/donations/pledges", map[string]any{"donorPseudonym": "Anonymous donor", "kind": "goods", "item": mask, "quantity": 50,
		"donor": map[string]any{"name": "Erika Mustermann", "email": "erika@example.org"}}), 201, &anon)
	must(charity.post("/api/v1/donations/pledges", map[string]any{"donorPseudonym": "Rotary Club Berlin", "kind": "goods", "item": mask, "quantity": 40}), 201, &rotary)
	must(charity.post("/api/v1/donations/pledges", map[string]any{"donorPseudonym": "A nurse's family", "kind": "money", "amount": 125000, "currency": "EUR"}), 201, nil)
	for _, p := range []struct {
		id string
		q  int
	}{{anon.Pledge.ID, 50}, {rotary.Pledge.ID, 40}} {
		must(charity.post("/api/v1/donations/pledges/"+p.id+"/receipt", map[string]any{"quantity": p.q}), 200, nil)
	}
	var fa, ca ledger.Allocation
	must(charity.post("/api/v1/donations/allocations", map[string]any{"hospital": orgFever, "item": mask, "quantity": 60, "requestIDs": []string{fr.ID},
		"reason": "Designated fever hospital with a critical request: fever ward 3 has two days of masks left. It gets its whole request first."}), 201, &fa)
	must(charity.post("/api/v1/donations/allocations", map[string]any{"hospital": orgHospital, "item": mask, "quantity": 20, "requestIDs": []string{cr.ID},
		"reason": "General hospital, normal urgency: half of its request from what is left after the fever hospital."}), 201, &ca)
	e.packDonatedPallet(t, donationPallet, 1, 58)
	must(charity.post("/api/v1/donations/allocations/"+fa.ID+"/shipment", map[string]any{"pallets": []string{donationPallet},
		"lots": []map[string]string{{"gtin": e.gtin, "lot": donationLot}}, "quantity": 60}), 200, nil)
	must(charity.post("/api/v1/donations/allocations/"+ca.ID+"/shipment", map[string]any{"pallets": []string{cityPallet}, "quantity": 20}), 200, nil)
	must(city.post("/api/v1/donations/allocations/"+ca.ID+"/receipt", map[string]any{"received": 20}), 200, nil)
	if scanned {
		e.scanFeverDelivery(t)
	}
	return fa, anon.ReceiptCode
}

// scanFeverDelivery scans the donated pallet in at the fever hospital's
// dock and takes a dozen of its boxes to the fever ward.
func (e *env) scanFeverDelivery(t *testing.T) {
	t.Helper()
	var ward []string
	for i := 1; i <= 12; i++ {
		ward = append(ward, donationSerial(i))
	}
	e.receiveAtFever(t, donationPallet, ward)
}

// newTab opens another tab in the same browser (sharing its cookies).
func (b *browser) newTab() *browser {
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("new tab: %v", err)
	}
	return &browser{t: b.t, ctx: ctx, dir: b.dir}
}

// TestBrowserDonations: a hospital receiver confirms a shipped allocation
// through the hospital page, pre-filled with what the dock's scans
// counted, while the public record is open in another tab: its figures
// and the allocation's status change without a reload. Then the
// allocation's page, the donor's page and the charity's page with a new
// receipt code.
func TestBrowserDonations(t *testing.T) {
	e := donationEnv(t)
	fa, code := e.seedDonations(t, false)
	b := newBrowser(t)

	// The public record before: the fever hospital has received nothing.
	pub := b.newTab()
	pub.do("public record", chromedp.Navigate(e.url+"/donations"), chromedp.WaitVisible(chromedp.CSS("#hosp-table")))
	feverRow := fmt.Sprintf(`#hosp-table tr[data-org=%q]`, orgFever)
	if s := pub.text(feverRow + " td.received"); !strings.HasPrefix(s, "0") {
		t.Errorf("fever hospital received %q before the confirmation", s)
	}
	allocItem := fmt.Sprintf(`#alloc-list li[data-id=%q]`, fa.ID)
	if s := pub.text(allocItem + " .alloc-status"); s != "Shipped, awaiting receipt" {
		t.Errorf("allocation status %q before the confirmation", s)
	}
	if n := pub.count("#hosp-chart svg.chart-wide g.hbar"); n != 2 {
		t.Errorf("the chart has %d hospitals, want 2", n)
	}
	pub.do("public record is live", chromedp.Poll[chromedp.Void](`document.documentElement.dataset.donLive === "on"`, chromedp.WithPollingTimeout(10*time.Second)))
	pub.shoot("donations-before")

	// The hospital receiver has its page open when the pallet is scanned
	// in at the dock: the count appears, and fills the form.
	b.signIn(e, feverUser, feverPass)
	b.do("hospital page", chromedp.Navigate(e.url+"/hospital"), chromedp.WaitVisible(chromedp.CSS("#confirm-"+fa.ID)))
	art := "#await-" + fa.ID
	if s := b.text(art + " .scan-packs"); s != "0" {
		t.Errorf("before the scan the page counts %q", s)
	}
	if v, _ := b.eval(fmt.Sprintf(`document.querySelector("#received-%s").value`, fa.ID)).(string); v != "" {
		t.Errorf("before any scan the form is pre-filled with %q", v)
	}
	if s := b.text(art + " .don-shortfall"); !strings.Contains(s, "Scan the pallets") {
		t.Errorf("before any scan the form announces %q", s)
	}
	b.do("the hospital page is live", chromedp.Poll[chromedp.Void](`document.documentElement.dataset.donLive === "on"`, chromedp.WithPollingTimeout(10*time.Second)))
	e.scanFeverDelivery(t)
	b.do("the scan arrives", chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector("#received-%s").value === "58"`, fa.ID),
		chromedp.WithPollingTimeout(20*time.Second)))
	if s := b.text(art + " .scan-packs"); s != "58" {
		t.Errorf("the scans counted %q, want 58", s)
	}
	if s := b.text(art + " .scan-pallets"); s != "1 of 1" {
		t.Errorf("pallets scanned in: %q", s)
	}
	if v, _ := b.eval(fmt.Sprintf(`document.querySelector("#received-%s").value`, fa.ID)).(string); v != "58" {
		t.Errorf("the form is pre-filled with %q, want the scanned 58", v)
	}
	if s := b.text(art + " .don-shortfall"); !strings.Contains(s, "shortfall of 2 of the 60") {
		t.Errorf("the form announces %q", s)
	}
	// Typing another count updates the shortfall it will record.
	b.do("type a count", chromedp.SetValue(chromedp.CSS("#received-"+fa.ID), ""), chromedp.SendKeys(chromedp.CSS("#received-"+fa.ID), "60"))
	if s := b.text(art + " .don-shortfall"); !strings.Contains(s, "No shortfall") {
		t.Errorf("after typing 60 the form announces %q", s)
	}
	b.do("back to the scanned count", chromedp.SetValue(chromedp.CSS("#received-"+fa.ID), ""), chromedp.SendKeys(chromedp.CSS("#received-"+fa.ID), "58"),
		chromedp.SendKeys(chromedp.CSS("#note-"+fa.ID), "Two boxes were not on the pallet."))
	b.eval("window.scrollTo(0, 0)")
	b.shoot("hospital-confirm")
	b.do("confirm receipt", chromedp.Submit(chromedp.CSS("#confirm-"+fa.ID)), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if s := b.text("#flash"); !strings.Contains(s, "58 of 60") || !strings.Contains(s, "shortfall of 2") {
		t.Errorf("flash %q", s)
	}
	if n := b.count("#confirm-" + fa.ID); n != 0 {
		t.Error("the confirmed allocation still waits for confirmation")
	}
	if s := b.text(fmt.Sprintf(`#received-table tr[data-id=%q]`, fa.ID)); !strings.Contains(s, "Received 58 of 60 · 2 short") {
		t.Errorf("received table row %q", s)
	}
	b.shoot("hospital-received")

	// The public tab changed by itself.
	pub.do("public record updates", chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector(%q)||{textContent:""}).textContent.trim().startsWith("58")`, feverRow+" td.received"),
		chromedp.WithPollingTimeout(20*time.Second)))
	if s := pub.text(allocItem + " .alloc-status"); s != "Received 58 of 60 · 2 short" {
		t.Errorf("allocation status after the confirmation %q", s)
	}
	if s := pub.text(feverRow + " td.shortfall"); s != "2 short" {
		t.Errorf("fever hospital shortfall %q", s)
	}
	if s := pub.text("#t-received"); s != "78" {
		t.Errorf("total received %q", s)
	}
	// And after a reload.
	pub.do("reload public record", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#hosp-table")))
	if s := pub.text(feverRow + " td.received"); !strings.HasPrefix(s, "58") {
		t.Errorf("fever hospital received %q after a reload", s)
	}
	if n := pub.count(feverRow + ".has-short"); n != 1 {
		t.Error("the shortfall is not highlighted")
	}
	if s := pub.text(`#charities .don-charity .delivery`); !strings.Contains(s, "median") {
		t.Errorf("delivery time %q", s)
	}
	pub.eval("window.scrollTo(0, 0)")
	pub.shoot("donations")
	pub.shootParts("donations", "#hospitals", "#allocations", "#charities")

	// The allocation's page: requests, reason, pallet and lot passports,
	// scans, receipt and the fever ward.
	b.do("allocation page", chromedp.Navigate(e.url+"/donations/allocations/"+fa.ID), chromedp.WaitVisible(chromedp.CSS("#steps")))
	if s := b.text("#alloc-status"); !strings.Contains(s, "2 short") {
		t.Errorf("allocation status %q", s)
	}
	if n := b.count(`#steps a[href^="/01/` + e.gtin + `/10/` + donationLot + `"]`); n < 1 {
		t.Error("the shipment does not link to its lot's passport")
	}
	if n := b.count(`#steps a[href^="/00/"]`); n < 1 {
		t.Error("the shipment does not link to its pallet's passport")
	}
	if s := b.text("#steps"); !strings.Contains(s, "Fever ward 3") {
		t.Errorf("the path does not reach the ward: %.400s", s)
	}
	if n := b.count(`#steps a[href^="/api/v1/ledger/transactions/"]`); n < 4 {
		t.Errorf("%d ledger transaction links", n)
	}
	b.shoot("donation-allocation")

	// The donor's page, from the code.
	b.do("donor's page", chromedp.Navigate(e.url+"/donations"), chromedp.WaitVisible(chromedp.CSS("#lookup-form")),
		chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(code)), chromedp.Submit(chromedp.CSS("#lookup-form")), chromedp.WaitVisible(chromedp.CSS("#steps")))
	if s := b.text("#receipt-summary"); !strings.Contains(s, "50 of 50 allocated to St. Luke") || !strings.Contains(s, "Delivered: confirmed received, 2 short") {
		t.Errorf("donor summary %q", s)
	}
	if s := b.text("#donor-receipt"); strings.Contains(s, "Mustermann") {
		t.Error("the donor's public page names the donor")
	}
	b.shoot("donor-receipt")

	// The charity records a pledge: the receipt code, once, with its QR.
	b.do("sign out", chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.signIn(e, charityUser, charityPass)
	b.do("charity page", chromedp.Navigate(e.url+"/charity"), chromedp.WaitVisible(chromedp.CSS("#pledge-form")))
	if v, _ := b.eval(`getComputedStyle(document.querySelector("#pl-amount").closest("div")).display`).(string); v != "none" {
		t.Errorf("the money fields show for a pledge of goods (%s)", v)
	}
	b.do("record a pledge",
		chromedp.SendKeys(chromedp.CSS("#pl-pseudo"), "Hamburg Lions"),
		chromedp.SendKeys(chromedp.CSS("#pl-kind"), "n95-mask"),
		chromedp.SendKeys(chromedp.CSS("#pl-name"), "N95 respirators, box of 20"),
		chromedp.SendKeys(chromedp.CSS("#pl-qty"), "25"),
		chromedp.Submit(chromedp.CSS("#pledge-form")),
		chromedp.WaitVisible(chromedp.CSS("#receipt-code")))
	newCode := b.text("#receipt-code")
	if !receiptCodePattern.MatchString(newCode) {
		t.Errorf("receipt code %q", newCode)
	}
	if w, _ := b.eval(`document.querySelector("#receipt-qr").complete && document.querySelector("#receipt-qr").naturalWidth`).(float64); w < 100 {
		t.Errorf("the receipt QR code did not load (%v)", w)
	}
	if href, _ := b.eval(`document.querySelector("#receipt-link").getAttribute("href")`).(string); !strings.HasSuffix(href, "/donations/receipt?code="+url.QueryEscape(newCode)) {
		t.Errorf("receipt link %q", href)
	}
	b.eval("window.scrollTo(0, 0)")
	b.shoot("charity")
	b.shootParts("charity", "#new-code", "#record-pledge", "#allocate", "#pledges")
}
