package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/edge/journal"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/embedded"
)

// The test consortium: a manufacturer and the warehouse that runs the
// gateway, registered on a real embedded ledger.
const (
	orgMaker     = "MeridianMSP"
	orgWarehouse = "NorthWarehouseMSP"
	orgRegulator = "HealthRegulatorMSP"
	orgHospital  = "CityHospitalMSP"
	testLot      = "VX-2611-07"
	recallLot    = "VX-2611-09"      // a second lot, registered, for the recall tests
	inspector    = "inspector.hanna" // a regulator-inspector of orgRegulator
	inspectPass  = "inspector password 1"
	operator     = "operator.jonas" // an operator of orgWarehouse
	operatorPass = "operator password 1"
	testPrefix   = "0614141"
	testItemRef  = "054321"
	adminUser    = "admin"
	adminPass    = "correct horse battery staple"
)

// Donations: a charity and a second (designated fever) hospital, with
// their portal users (registered with the same roles on the ledger).
const (
	orgCharity   = "HelpingHandsMSP"
	orgFever     = "FeverHospitalMSP"
	charityUser  = "officer.amara" // a charity-officer of orgCharity
	charityPass  = "charity password 1"
	receiverUser = "receiver.lena" // a hospital-receiver of orgHospital
	receiverPass = "receiver password 1"
	feverUser    = "receiver.wu" // a hospital-receiver of orgFever
	feverPass    = "fever receiver password 1"
	charityGLN12 = "409111100000"
	feverGLN12   = "406666600000"
)

// Places of the test warehouse (SGLN URIs).
var (
	plantLoc    = "urn:epc:id:sgln:0614141.00009.0"
	siteLoc     = "urn:epc:id:sgln:4012345.00001.0"
	dockInLoc   = "urn:epc:id:sgln:4012345.00001.1"
	dockOutLoc  = "urn:epc:id:sgln:4012345.00001.2"
	coldRoomLoc = "urn:epc:id:sgln:4012345.00001.3"
	hospLoc     = "urn:epc:id:sgln:4055555.00001.0"
	hospDockLoc = "urn:epc:id:sgln:4055555.00001.1"
	testPallet  = "urn:epc:id:sscc:0614141.1000000003"
	testTruck   = "urn:epc:id:giai:4012345.TRUCK-07"
	testPlaces  = map[string]string{
		plantLoc:    "Meridian plant, Hamburg",
		siteLoc:     "North Warehouse",
		dockInLoc:   "North Warehouse dock door 1",
		dockOutLoc:  "North Warehouse dock door 2",
		coldRoomLoc: "North Warehouse cold room",
	}
)

// serial returns the SGTIN URI of a test pack.
func serial(n int) string {
	return fmt.Sprintf("urn:epc:id:sgtin:%s.%s.%d", testPrefix, testItemRef, n)
}

// testGTIN is the GTIN of the test product.
func testGTIN(t testing.TB) string {
	e, err := epc.ParseURI(serial(1))
	if err != nil {
		t.Fatalf("parse test EPC: %v", err)
	}
	g, err := e.GTIN()
	if err != nil {
		t.Fatalf("test GTIN: %v", err)
	}
	return g
}

// unknownGTIN is a well-formed GTIN nobody registered.
func unknownGTIN(t testing.TB) string { return gln(t, "0061414199999") }

// gln completes a 12-digit GLN with its check digit.
func gln(t testing.TB, digits12 string) string {
	cd, err := epc.CheckDigit(digits12)
	if err != nil {
		t.Fatalf("check digit: %v", err)
	}
	return digits12 + string(cd)
}

// env is a running ledger, gateway service and web app.
type env struct {
	t       testing.TB
	dir     string
	led     *embedded.Ledger
	svc     *gateway.Service
	app     *App
	url     string
	reg     *prometheus.Registry
	agent   *edge.Agent
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	runErrs chan error

	// What the seed captured.
	gtin         string
	commissionID string
	captureIDs   []string
	eventIDs     []string // the history events, in document order
}

// logger returns a quiet logger (set TRACEGATE_TEST_LOG=1 for output).
func logger() *slog.Logger {
	if os.Getenv("TRACEGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startEnv builds everything on dir and seeds the consortium.
func startEnv(t testing.TB, dir string, opts ...Option) *env {
	e := &env{t: t, dir: dir, reg: prometheus.NewRegistry(), runErrs: make(chan error, 4)}
	log := logger()
	ctx := context.Background()
	keys, err := embedded.LoadOrCreateKeys(filepath.Join(dir, "identities"), []string{orgMaker, orgWarehouse, orgRegulator, orgHospital, orgInsurer, orgCharity, orgFever})
	if err != nil {
		t.Fatalf("ledger identities: %v", err)
	}
	e.led, err = embedded.Open(filepath.Join(dir, "ledger"), embedded.Config{Members: embedded.MembersOf(keys), Keys: keys, Logger: log,
		Collections: []embedded.Collection{{Name: ledger.CollectionCharityPrivate, Members: []string{orgCharity}}}})
	if err != nil {
		t.Fatalf("open embedded ledger: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	e.url = "http://" + ln.Addr().String()
	e.svc, err = gateway.New(gateway.Config{
		DataDir:       filepath.Join(dir, "gateway"),
		Reader:        ledger.Identity{Org: orgWarehouse, User: ledger.AdminUser},
		MaxBatchBytes: 1 << 20,
		Capture:       gateway.CaptureConfig{MaxBytes: 256 << 10, MaxAge: 100 * time.Millisecond},
		PublicURL:     e.url,
	}, e.led, gateway.WithLogger(log), gateway.WithRegistry(e.reg))
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	e.seedLedger(ctx)

	ecfg := edge.Defaults()
	ecfg.ID = "edge-wh1"
	ecfg.DataDir = filepath.Join(dir, "edge")
	ecfg.Gateway.URL = e.url
	ecfg.Gateway.MaxBackoff = time.Second
	ecfg.Batch.MaxAge = 100 * time.Millisecond
	ecfg.Smoothing.Window = 100 * time.Millisecond
	ecfg.Limits.MinFreeBytes = 0
	ecfg.Sites = map[string]edge.Site{"wh1": {
		Location: siteLoc,
		Readers:  map[string]edge.Reader{"dock-in-1": {ReadPoint: dockInLoc, BizLocation: siteLoc, BizStep: "receiving", Disposition: "in_progress"}},
		Sensors:  map[string]edge.Sensor{"coldroom-1": {ReadPoint: coldRoomLoc, BizLocation: coldRoomLoc}},
	}}
	e.agent, err = edge.New(ecfg, edge.WithLogger(log))
	if err != nil {
		t.Fatalf("edge agent: %v", err)
	}
	e.register(ctx, ledger.Device{ID: e.agent.ID(), Org: orgWarehouse, Kind: ledger.DeviceEdge, Site: "wh1", Description: "test edge",
		PublicKey: base64.StdEncoding.EncodeToString(e.agent.PublicKey())})

	opts = append([]Option{WithLogger(log)}, opts...)
	e.app, err = New(e.svc, Config{PublicURL: e.url, Registry: e.reg, Edges: []EdgeView{e.agent}, Places: testPlaces}, opts...)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	for _, u := range []struct{ name, pass, org, role string }{
		{adminUser, adminPass, orgWarehouse, ledger.RoleOrgAdmin},
		{inspector, inspectPass, orgRegulator, ledger.RoleRegulatorInspector},
		{operator, operatorPass, orgWarehouse, ledger.RoleOperator},
		{charityUser, charityPass, orgCharity, ledger.RoleCharityOfficer},
		{receiverUser, receiverPass, orgHospital, ledger.RoleHospitalReceiver},
		{feverUser, feverPass, orgFever, ledger.RoleHospitalReceiver},
	} {
		if err := e.app.EnsureUser(u.name, u.pass, u.org, u.role); err != nil {
			t.Fatalf("EnsureUser %s: %v", u.name, err)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	e.wg.Add(3)
	go func() { defer e.wg.Done(); e.runErrs <- e.svc.Run(rctx) }()
	go func() { defer e.wg.Done(); e.runErrs <- e.app.Serve(rctx, ln) }()
	go func() { defer e.wg.Done(); e.runErrs <- e.agent.Run(rctx) }()
	e.waitHTTP("/healthz")
	return e
}

// stop ends everything and closes the stores.
func (e *env) stop() {
	e.cancel()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		e.t.Errorf("components did not stop within 30 s")
	}
	close(e.runErrs)
	for err := range e.runErrs {
		if err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("component stopped with: %v", err)
		}
	}
	_ = e.agent.Close()
	_ = e.svc.Close()
	_ = e.led.Close()
}

func (e *env) register(ctx context.Context, d ledger.Device) {
	e.t.Helper()
	if _, err := e.svc.Ledger().RegisterDevice(ctx, ledger.Identity{Org: d.Org, User: ledger.AdminUser}, d); err != nil {
		e.t.Fatalf("register device %s: %v", d.ID, err)
	}
}

// seedLedger registers the orgs, the product and its lot, and the
// gateway's capture device.
func (e *env) seedLedger(ctx context.Context) {
	t, c := e.t, e.svc.Ledger()
	admin := func(org string) ledger.Identity { return ledger.Identity{Org: org, User: ledger.AdminUser} }
	for _, o := range []ledger.Org{
		{ID: orgMaker, Name: "Meridian Health Products", Kind: ledger.OrgManufacturer, GLN: gln(t, "061414100000"), Country: "DE"},
		{ID: orgWarehouse, Name: "North Logistics Warehouse", Kind: ledger.OrgWarehouse, GLN: gln(t, "401234500000"), Country: "DE"},
		{ID: orgRegulator, Name: "Federal Medicines Agency", Kind: ledger.OrgRegulator, GLN: gln(t, "409876500000"), Country: "DE"},
		{ID: orgHospital, Name: "City Hospital Berlin", Kind: ledger.OrgHospital, GLN: gln(t, "405555500000"), Country: "DE"},
		{ID: orgCharity, Name: "Helping Hands Medical Aid", Kind: ledger.OrgCharity, GLN: gln(t, charityGLN12), Country: "DE"},
		{ID: orgFever, Name: "St. Luke's Fever Hospital", Kind: ledger.OrgHospital, GLN: gln(t, feverGLN12), Country: "DE"},
	} {
		if _, err := c.RegisterOrg(ctx, admin(o.ID), o); err != nil {
			t.Fatalf("register org %s: %v", o.ID, err)
		}
	}
	e.gtin = testGTIN(t)
	minC, maxC := 2.0, 8.0
	if _, err := c.RegisterProduct(ctx, admin(orgMaker), ledger.Product{GTIN: e.gtin, Name: "Influenza vaccine, 10 × 0.5 ml vials",
		Org: orgMaker, Kind: "vaccine", Profile: &ledger.StorageProfile{MinC: &minC, MaxC: &maxC}}); err != nil {
		t.Fatalf("register product: %v", err)
	}
	if _, err := c.RegisterLot(ctx, admin(orgMaker), ledger.Lot{GTIN: e.gtin, Lot: testLot, Org: orgMaker, Quantity: 24,
		ProducedAt: "2026-11-04", Expiry: "2027-05-31"}); err != nil {
		t.Fatalf("register lot: %v", err)
	}
	if _, err := c.RegisterLot(ctx, admin(orgMaker), ledger.Lot{GTIN: e.gtin, Lot: recallLot, Org: orgMaker, Quantity: 12,
		ProducedAt: "2026-11-05", Expiry: "2027-06-30"}); err != nil {
		t.Fatalf("register lot: %v", err)
	}
	// The regulator's inspector, in the contract's user registry (the
	// ledger decides who may recall from it).
	if _, err := c.RegisterUser(ctx, admin(orgRegulator), ledger.User{Org: orgRegulator, ID: inspector, Role: ledger.RoleRegulatorInspector}); err != nil {
		t.Fatalf("register inspector: %v", err)
	}
	// The donation roles, in the registry too.
	for _, u := range []ledger.User{
		{Org: orgCharity, ID: charityUser, Role: ledger.RoleCharityOfficer},
		{Org: orgHospital, ID: receiverUser, Role: ledger.RoleHospitalReceiver},
		{Org: orgFever, ID: feverUser, Role: ledger.RoleHospitalReceiver},
	} {
		if _, err := c.RegisterUser(ctx, admin(u.Org), u); err != nil {
			t.Fatalf("register user %s: %v", u.ID, err)
		}
	}
	// The site directory: the plant and the warehouse with its docks and
	// cold room.
	for _, si := range []ledger.Site{
		{GLN: gln(t, "061414100009"), Org: orgMaker, Name: "Meridian plant, Hamburg", Kind: ledger.SiteFactory, Country: "DE", Lat: 53.5511, Lon: 9.9937,
			Locations: []ledger.SubLocation{}},
		{GLN: gln(t, "401234500001"), Org: orgWarehouse, Name: "North Warehouse, Hanover", Kind: ledger.SiteWarehouse, Country: "DE", Lat: 52.3759, Lon: 9.732,
			Locations: []ledger.SubLocation{
				{ID: dockInLoc, Name: "North Warehouse dock door 1", Kind: "dock-door"},
				{ID: dockOutLoc, Name: "North Warehouse dock door 2", Kind: "dock-door"},
				{ID: coldRoomLoc, Name: "North Warehouse cold room", Kind: "cold-room"},
			}},
		{GLN: gln(t, "405555500001"), Org: orgHospital, Name: "City Hospital pharmacy, Berlin", Kind: ledger.SiteHospital, Country: "DE", Lat: 52.52, Lon: 13.405,
			Locations: []ledger.SubLocation{
				{ID: hospDockLoc, Name: "City Hospital receiving dock", Kind: "receiving"},
			}},
	} {
		if _, err := c.RegisterSite(ctx, admin(si.Org), si); err != nil {
			t.Fatalf("register site %s: %v", si.Name, err)
		}
	}
	id, key := e.svc.CaptureDevice()
	e.register(ctx, ledger.Device{ID: id, Org: orgWarehouse, Kind: ledger.DeviceCapture, Description: "gateway capture sealer",
		PublicKey: base64.StdEncoding.EncodeToString(key)})
}

// ---- HTTP helpers ----

// client returns an HTTP client that does not follow redirects, with a
// cookie jar.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d is not JSON (%v): %.500s", r.StatusCode, err, r.body)
	}
}

// do sends a request and reads the whole response.
func (e *env) do(c *http.Client, method, path string, body io.Reader, hdr ...string) response {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = e.url + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatalf("request %s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = e.client()
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return response{Response: resp, body: b}
}

func (e *env) get(path string, hdr ...string) response {
	return e.do(nil, http.MethodGet, path, nil, hdr...)
}

func (e *env) postJSON(path string, v any, hdr ...string) response {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
	}
	return e.do(nil, http.MethodPost, path, bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, hdr...)...)
}

func (e *env) waitHTTP(path string) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(e.url + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("%s did not come up", path)
}

// wantProblem checks a problem document's status and type suffix.
func wantProblem(t testing.TB, r response, status int, typeSuffix string) map[string]any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %.800s", r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json: %.300s", ct, r.body)
	}
	var p map[string]any
	r.json(t, &p)
	if int(p["status"].(float64)) != status {
		t.Errorf("problem status member %v, want %d", p["status"], status)
	}
	if ty, _ := p["type"].(string); !strings.HasSuffix(ty, typeSuffix) {
		t.Errorf("problem type %q, want …%s", ty, typeSuffix)
	}
	if p["title"] == "" || p["title"] == nil {
		t.Errorf("problem without a title: %s", r.body)
	}
	return p
}

// ---- EPCIS documents ----

var testContext = []any{epcis.StandardContextIRI, map[string]any{"cbvmda": "urn:epcglobal:cbv:mda:"}}

func document(events ...map[string]any) map[string]any {
	list := make([]any, len(events))
	for i, ev := range events {
		list[i] = ev
	}
	return map[string]any{"@context": testContext, "type": "EPCISDocument", "schemaVersion": "2.0",
		"creationDate": "2026-11-20T10:00:00Z", "epcisBody": map[string]any{"eventList": list}}
}

func objectEvent(at, action, step, dispo, readPoint, bizLoc string, epcs ...string) map[string]any {
	ev := map[string]any{"type": "ObjectEvent", "eventTime": at, "eventTimeZoneOffset": "+01:00", "action": action, "epcList": epcs}
	if step != "" {
		ev["bizStep"] = step
	}
	if dispo != "" {
		ev["disposition"] = dispo
	}
	if readPoint != "" {
		ev["readPoint"] = map[string]any{"id": readPoint}
	}
	if bizLoc != "" {
		ev["bizLocation"] = map[string]any{"id": bizLoc}
	}
	return ev
}

func withTemperature(ev map[string]any, celsius float64) map[string]any {
	ev["sensorElementList"] = []any{map[string]any{
		"sensorMetadata": map[string]any{"time": ev["eventTime"], "deviceID": "urn:epc:id:giai:4012345.TL-3"},
		"sensorReport":   []any{map[string]any{"type": "gs1:Temperature", "value": celsius, "uom": "CEL"}},
	}}
	return ev
}

// packs is the five test packs.
func packs() []string {
	return []string{serial(500001), serial(500002), serial(500003), serial(500004), serial(500005)}
}

// historyDocument is the lot's journey through the warehouse.
func historyDocument() map[string]any {
	p := packs()
	agg := map[string]any{"type": "AggregationEvent", "eventTime": "2026-11-12T14:00:00Z", "eventTimeZoneOffset": "+01:00",
		"action": "ADD", "bizStep": "packing", "disposition": "in_progress", "parentID": "urn:epc:id:sscc:0614141.1000000003",
		"childEPCs": p, "readPoint": map[string]any{"id": coldRoomLoc}, "bizLocation": map[string]any{"id": siteLoc}}
	return document(
		objectEvent("2026-11-10T08:15:00Z", "OBSERVE", "receiving", "in_progress", dockInLoc, siteLoc, p...),
		objectEvent("2026-11-10T08:40:00Z", "OBSERVE", "storing", "sellable_not_accessible", coldRoomLoc, coldRoomLoc, p...),
		withTemperature(objectEvent("2026-11-10T12:00:00Z", "OBSERVE", "", "", coldRoomLoc, coldRoomLoc, p...), 4.2),
		withTemperature(objectEvent("2026-11-10T18:00:00Z", "OBSERVE", "", "", coldRoomLoc, coldRoomLoc, p...), 5.1),
		withTemperature(objectEvent("2026-11-11T06:00:00Z", "OBSERVE", "", "", coldRoomLoc, coldRoomLoc, p...), 9.3),
		withTemperature(objectEvent("2026-11-11T12:00:00Z", "OBSERVE", "", "", coldRoomLoc, coldRoomLoc, p...), 5.6),
		agg,
		objectEvent("2026-11-12T16:30:00Z", "OBSERVE", "shipping", "in_transit", dockOutLoc, siteLoc, p...),
	)
}

// deliveryDocument takes the lot's pallet by refrigerated truck from the
// warehouse to the hospital; the truck's logger reports on the way.
func deliveryDocument() map[string]any {
	load := map[string]any{"type": "AggregationEvent", "eventTime": "2026-11-12T17:00:00Z", "eventTimeZoneOffset": "+01:00",
		"action": "ADD", "bizStep": "loading", "disposition": "in_transit", "parentID": testTruck,
		"childEPCs": []any{testPallet}, "readPoint": map[string]any{"id": dockOutLoc}, "bizLocation": map[string]any{"id": siteLoc}}
	unload := map[string]any{"type": "AggregationEvent", "eventTime": "2026-11-13T08:30:00Z", "eventTimeZoneOffset": "+01:00",
		"action": "DELETE", "bizStep": "unloading", "disposition": "in_progress", "parentID": testTruck,
		"childEPCs": []any{testPallet}, "readPoint": map[string]any{"id": hospDockLoc}, "bizLocation": map[string]any{"id": hospLoc}}
	evs := []map[string]any{load}
	for i, c := range []float64{4.4, 4.1, 3.9, 4.2, 4.6} {
		at := time.Date(2026, 11, 12, 18, 0, 0, 0, time.UTC).Add(time.Duration(i) * 3 * time.Hour).Format(time.RFC3339)
		ev := objectEvent(at, "OBSERVE", "sensor_reporting", "", "", "", testTruck)
		ev["sensorElementList"] = []any{map[string]any{
			"sensorMetadata": map[string]any{"time": at, "deviceID": "urn:epc:id:giai:4012345.REEFER-07"},
			"sensorReport":   []any{map[string]any{"type": "gs1:Temperature", "value": c, "uom": "CEL"}},
		}}
		evs = append(evs, ev)
	}
	evs = append(evs, unload,
		objectEvent("2026-11-13T08:35:00Z", "OBSERVE", "receiving", "in_progress", hospDockLoc, hospLoc, testPallet))
	return document(evs...)
}

// commissioningDocument brings the test packs into being in the lot.
func commissioningDocument() map[string]any {
	ev := objectEvent("2026-11-04T06:00:00Z", "ADD", "commissioning", "active", plantLoc, plantLoc, packs()...)
	ev["ilmd"] = map[string]any{"cbvmda:lotNumber": testLot, "cbvmda:itemExpirationDate": "2027-05-31"}
	return document(ev)
}

// captureStatus is GET /epcis/capture/{id}.
type captureStatus struct {
	CaptureID string   `json:"captureID"`
	Running   bool     `json:"running"`
	Success   bool     `json:"success"`
	EventIDs  []string `json:"eventIDs"`
	Proven    int      `json:"proven"`
	Errors    []string `json:"errors"`
}

// capture posts a document and waits until all its events are anchored.
func (e *env) capture(doc map[string]any) captureStatus {
	e.t.Helper()
	r := e.postJSON("/epcis/capture", doc)
	if r.StatusCode != http.StatusAccepted {
		e.t.Fatalf("capture: %d %s", r.StatusCode, r.body)
	}
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/epcis/capture/") {
		e.t.Fatalf("capture Location %q", loc)
	}
	return e.waitCapture(loc)
}

// waitCapture polls a capture job until its events are indexed and
// anchored.
func (e *env) waitCapture(loc string) captureStatus {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var st captureStatus
	for time.Now().Before(deadline) {
		r := e.get(loc)
		if r.StatusCode != http.StatusOK {
			e.t.Fatalf("GET %s: %d %s", loc, r.StatusCode, r.body)
		}
		r.json(e.t, &st)
		if !st.Running && st.Proven == len(st.EventIDs) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("capture %s not anchored in time: %+v", loc, st)
	return st
}

// coldRoomSeries is what the cold room's logger reported while the lot
// was stored there: 2–8 °C, except for about three hours on the night of
// 11 November when the room warmed up to 10.6 °C and cooled down again.
func coldRoomSeries() []string {
	warm := map[string]float64{"01:30": 8.4, "02:00": 9.2, "02:30": 10.1, "03:00": 10.6, "03:30": 9.8, "04:00": 8.7, "04:30": 7.4, "05:00": 6.1}
	var out []string
	start := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	for i := 0; ; i++ {
		t := start.Add(time.Duration(i) * 30 * time.Minute)
		if t.After(time.Date(2026, 11, 12, 13, 30, 0, 0, time.UTC)) {
			break
		}
		c := 4.6 + 0.5*math.Sin(float64(i)/5)
		if t.Day() == 11 {
			if w, ok := warm[t.Format("15:04")]; ok {
				c = w
			}
		}
		out = append(out, fmt.Sprintf(`{"ts": %q, "temperature": %.1f, "humidity": %.0f, "battery": 96}`, t.Format(time.RFC3339), c, 48+3*math.Cos(float64(i)/7)))
	}
	return out
}

// seedColdRoom has the edge report the cold room's readings (over MQTT,
// as its logger does) and waits until the gateway has them.
func (e *env) seedColdRoom() {
	e.t.Helper()
	series := coldRoomSeries()
	if err := e.agent.Ingest(context.Background(), journalRaw("tracegate/wh1/sensor/coldroom-1", "coldroom-1", "["+strings.Join(series, ",")+"]")); err != nil {
		e.t.Fatalf("edge ingest: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		rs, err := e.svc.Store().Readings(coldRoomLoc, time.Time{}, time.Time{}, 0)
		if err == nil && len(rs) >= len(series) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the gateway has %d of the cold room's %d readings (%v)", len(rs), len(series), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seedHistory captures the commissioning, the cold room's readings and
// the history documents.
func (e *env) seedHistory() {
	st := e.capture(commissioningDocument())
	e.commissionID = st.EventIDs[0]
	e.captureIDs = append(e.captureIDs, st.CaptureID)
	e.seedColdRoom()
	st = e.capture(historyDocument())
	e.eventIDs = st.EventIDs
	e.captureIDs = append(e.captureIDs, st.CaptureID)
	st = e.capture(deliveryDocument())
	e.captureIDs = append(e.captureIDs, st.CaptureID)
}

// shared is one seeded environment for the tests that only read.
var (
	sharedOnce sync.Once
	sharedEnv  *env
	sharedDir  string
)

func shared(t *testing.T) *env {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tracegate-web-test-")
		if err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		sharedDir = dir
		sharedEnv = startEnv(&sharedT{T: t}, dir)
		sharedEnv.seedHistory()
	})
	if sharedEnv == nil {
		t.Fatal("the shared test environment failed to start (see the first failing test)")
	}
	sharedEnv.t = t
	return sharedEnv
}

// sharedT lets the shared environment outlive the test that started it:
// its failures still fail that test.
type sharedT struct{ *testing.T }

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedEnv != nil {
		sharedEnv.t = &exitT{}
		sharedEnv.stop()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// exitT reports problems found while tearing down after all tests.
type exitT struct{ testing.TB }

func (exitT) Helper()                   {}
func (exitT) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, "teardown: "+f+"\n", a...) }
func (exitT) Fatalf(f string, a ...any) { fmt.Fprintf(os.Stderr, "teardown: "+f+"\n", a...) }

// escapeID percent-encodes an eventID as one path segment.
func escapeID(id string) string { return url.PathEscape(id) }

// signer signs batches for a test edge.
type signer struct {
	id  string
	key ed25519.PrivateKey
}

// journalRaw is an MQTT message as the broker hands it to an edge.
func journalRaw(topic, client, payload string) journal.Raw {
	return journal.Raw{Topic: topic, ClientID: client, Payload: []byte(payload), Received: time.Now()}
}

// ioReadAll reads what is left of a response body.
func ioReadAll(resp *http.Response) (string, error) {
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// raw sends a request line as written (paths Go's client refuses to
// send, such as bad %-escapes) and reads the response.
func (e *env) raw(method, path string, hdr ...string) response {
	e.t.Helper()
	host := strings.TrimPrefix(e.url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host)
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		e.t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		e.t.Fatalf("read response to %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Response: resp, body: body}
}

// waitExcursionsRecorded polls the lot's passport (JSON) until the
// gateway's cold-chain worker has recorded n excursions on the ledger
// (it does so once the batches of their readings are anchored).
func (e *env) waitExcursionsRecorded(n int) gateway.Passport {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var p gateway.Passport
	for {
		r := e.get("/01/"+e.gtin+"/10/"+testLot, "Accept", "application/json")
		if r.StatusCode != http.StatusOK {
			e.t.Fatalf("passport: %d %s", r.StatusCode, r.body)
		}
		p = gateway.Passport{}
		r.json(e.t, &p)
		if p.ColdChain != nil && len(p.ColdChain.Recorded) >= n && p.Status == ledger.LotExcursion {
			return p
		}
		if time.Now().After(deadline) {
			rec := -1
			if p.ColdChain != nil {
				rec = len(p.ColdChain.Recorded)
			}
			e.t.Fatalf("%d excursions recorded (want %d), lot status %q", rec, n, p.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- Insurance and data sharing ----

const (
	orgInsurer    = "SafeCoverMSP"  // an insurer (its ledger identity is created with the others)
	assessor      = "assessor.lena" // an insurer-assessor of orgInsurer
	assessorPass  = "assessor password 1"
	hospitalAdmin = "admin.cityhospital" // the org-admin of orgHospital
	hospitalPass  = "hospital password 1"
)

// seedInsurance registers the insurer and its assessor, the hospital's
// admin (in the ledger's user registry and as portal users), and the
// gateway's access-log device. It may be called more than once.
func (e *env) seedInsurance(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	c := e.svc.Ledger()
	admin := func(org string) ledger.Identity { return ledger.Identity{Org: org, User: ledger.AdminUser} }
	if _, err := c.Org(ctx, e.svc.Config().Reader, orgInsurer); errors.Is(err, ledger.ErrNotFound) {
		if _, err := c.RegisterOrg(ctx, admin(orgInsurer), ledger.Org{ID: orgInsurer, Name: "SafeCover Mutual", Kind: ledger.OrgInsurer,
			GLN: gln(t, "409999900000"), Country: "DE"}); err != nil {
			t.Fatalf("register org %s: %v", orgInsurer, err)
		}
	} else if err != nil {
		t.Fatalf("read org %s: %v", orgInsurer, err)
	}
	for _, u := range []struct{ name, pass, org, role string }{
		{assessor, assessorPass, orgInsurer, ledger.RoleInsurerAssessor},
		{hospitalAdmin, hospitalPass, orgHospital, ledger.RoleOrgAdmin},
	} {
		if _, err := c.RegisterUser(ctx, admin(u.org), ledger.User{Org: u.org, ID: u.name, Role: u.role}); err != nil {
			t.Fatalf("register user %s: %v", u.name, err)
		}
		if err := e.app.EnsureUser(u.name, u.pass, u.org, u.role); err != nil {
			t.Fatalf("EnsureUser %s: %v", u.name, err)
		}
	}
	if err := e.svc.EnsureAccessLogDevice(ctx); err != nil {
		t.Fatalf("access-log device: %v", err)
	}
}
