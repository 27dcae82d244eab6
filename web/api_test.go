package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

func TestHealthReadyMetrics(t *testing.T) {
	e := shared(t)
	if r := e.get("/healthz"); r.StatusCode != 200 || !strings.Contains(string(r.body), "ok") {
		t.Errorf("healthz: %d %s", r.StatusCode, r.body)
	}
	r := e.get("/readyz")
	var ready struct {
		Ready    bool     `json:"ready"`
		Problems []string `json:"problems"`
	}
	r.json(t, &ready)
	if (r.StatusCode == 200) != ready.Ready {
		t.Errorf("readyz: status %d but ready=%v", r.StatusCode, ready.Ready)
	}
	if ready.Problems == nil {
		t.Error("readyz: problems is null, want a list")
	}
	m := e.get("/metrics")
	for _, name := range []string{"tracegate_web_requests_total", "tracegate_gateway_batches_total", "tracegate_web_streams"} {
		if !strings.Contains(string(m.body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	st := e.get("/api/v1/status")
	var status struct {
		Counts struct{ Events, Batches, Anchored uint64 } `json:"counts"`
		Ledger ledger.Info                                `json:"ledger"`
		Edges  []edgeStatus                               `json:"edges"`
	}
	st.json(t, &status)
	if status.Counts.Events == 0 || status.Ledger.Kind != ledger.KindEmbedded || len(status.Edges) != 1 || status.Edges[0].Status == nil {
		t.Errorf("status: %s", st.body)
	}
	if st.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("API responses lack CORS")
	}
}

func TestProofEndpoint(t *testing.T) {
	e := shared(t)
	id := e.eventIDs[1]
	forms := map[string]string{
		"percent-encoded ni URI": "/api/v1/events/" + escapeID(id) + "/proof",
		"bare hex hash":          "/api/v1/events/" + hashOf(id) + "/proof",
	}
	if !strings.Contains(forms["percent-encoded ni URI"], "%2F") || !strings.Contains(forms["percent-encoded ni URI"], "%3F") {
		t.Fatalf("the test path does not encode / and ?: %s", forms["percent-encoded ni URI"])
	}
	var first []byte
	for name, path := range forms {
		r := e.get(path)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, r.StatusCode, r.body)
		}
		// The proof format's exact members.
		var raw map[string]json.RawMessage
		r.json(t, &raw)
		for _, k := range []string{"eventID", "event", "leafIndex", "treeSize", "auditPath", "header", "signature", "edgeKey", "anchor"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("%s: proof lacks %q", name, k)
			}
		}
		if len(raw) != 9 {
			t.Errorf("%s: proof has %d members, want exactly 9: %s", name, len(raw), r.body)
		}
		var hdr map[string]any
		_ = json.Unmarshal(raw["header"], &hdr)
		for _, k := range []string{"edge", "seq", "prev", "count", "from", "to", "root", "alg"} {
			if _, ok := hdr[k]; !ok {
				t.Errorf("%s: header lacks %q", name, k)
			}
		}
		d, err := proof.Parse(r.body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.EventID != id || d.Anchor == nil || d.Anchor.Ledger != ledger.KindEmbedded {
			t.Errorf("%s: eventID %s anchor %+v", name, d.EventID, d.Anchor)
		}
		// A third party verifies it with tracegate verify's code, reading
		// the ledger through this gateway's ledger API.
		hl, err := proof.NewHTTPLedger(context.Background(), e.url)
		if err != nil {
			t.Fatalf("ledger API: %v", err)
		}
		if res := proof.Verify(context.Background(), d, hl); !res.Verified {
			t.Errorf("%s: proof does not verify: %v", name, res.Err())
		}
		if first == nil {
			first = r.body
		} else if !bytes.Equal(first, r.body) {
			t.Errorf("the two ID forms give different proofs")
		}
	}
	wantProblem(t, e.get("/api/v1/events/"+strings.Repeat("ab", 32)+"/proof"), 404, "/not-found")
	wantProblem(t, e.get("/api/v1/events/not-an-id/proof"), 400, "/invalid")
	wantProblem(t, e.raw("GET", "/api/v1/events/%zz/proof"), 400, "/invalid")
	if r := e.get("/api/v1/events/" + hashOf(id) + "/proof?download=1"); !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Error("?download=1 does not make an attachment")
	}
}

func TestVerifyEndpoint(t *testing.T) {
	e := shared(t)
	good := e.get("/api/v1/events/" + hashOf(e.eventIDs[0]) + "/proof").body
	r := e.postJSON("/api/v1/verify", good)
	var res proof.Result
	r.json(t, &res)
	if r.StatusCode != 200 || !res.Verified {
		t.Fatalf("verify good proof: %d %s", r.StatusCode, r.body)
	}

	tamper := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name  string
		body  []byte
		check proof.Check
	}{
		{"event changed", tamper(func(m map[string]any) { m["event"].(map[string]any)["bizStep"] = "destroying" }), proof.CheckEventHash},
		{"audit path changed", tamper(func(m map[string]any) {
			p := m["auditPath"].([]any)
			p[0] = strings.Repeat("00", 32)
		}), proof.CheckAuditPath},
		{"signature changed", tamper(func(m map[string]any) {
			m["signature"] = base64.StdEncoding.EncodeToString(make([]byte, 64))
		}), proof.CheckSignature},
		{"other key", tamper(func(m map[string]any) {
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			m["edgeKey"] = base64.StdEncoding.EncodeToString(pub)
		}), proof.CheckSignature},
	}
	for _, c := range cases {
		r := e.postJSON("/api/v1/verify", c.body)
		if r.StatusCode != 422 {
			t.Errorf("%s: status %d, want 422: %s", c.name, r.StatusCode, r.body)
			continue
		}
		var res proof.Result
		r.json(t, &res)
		var failed *proof.Step
		for i := range res.Steps {
			if !res.Steps[i].OK {
				failed = &res.Steps[i]
				break
			}
		}
		if res.Verified || failed == nil || failed.Check != c.check {
			t.Errorf("%s: failing step %+v, want %q", c.name, failed, c.check)
		}
	}
	wantProblem(t, e.postJSON("/api/v1/verify", `{"hello": "world"}`), 400, "/invalid")
	wantProblem(t, e.postJSON("/api/v1/verify", `not json`), 400, "/invalid")
	wantProblem(t, e.postJSON("/api/v1/verify", good, "Content-Type", "text/plain"), 415, "/unsupported-type")
}

// testBatch builds a sealed batch of events for edge id, signed with key.
func testBatch(t *testing.T, id string, seq uint64, prev string, key ed25519.PrivateKey, events ...map[string]any) batch.Sealed {
	t.Helper()
	var hashes [][32]byte
	var raws []json.RawMessage
	var from, to time.Time
	for i, ev := range events {
		h, _, js, at, err := edge.Finalise(epcis.Event(ev), nil)
		if err != nil {
			t.Fatalf("finalise event: %v", err)
		}
		hashes, raws = append(hashes, h), append(raws, js)
		if i == 0 || at.Before(from) {
			from = at
		}
		if i == 0 || at.After(to) {
			to = at
		}
	}
	root, err := batch.Root(hashes)
	if err != nil {
		t.Fatal(err)
	}
	h := batch.Header{Edge: id, Seq: seq, Prev: prev, Count: uint64(len(events)), From: batch.FormatTime(from), To: batch.FormatTime(to),
		Root: hex.EncodeToString(root[:]), Alg: batch.Alg}
	sig, err := h.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	return batch.Sealed{Header: h, Signature: sig, Events: raws}
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func TestBatchUpload(t *testing.T) {
	e := shared(t)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	const id = "edge-upload-test"
	e.register(context.Background(), ledger.Device{ID: id, Org: orgWarehouse, Kind: ledger.DeviceEdge, Site: "wh1",
		PublicKey: base64.StdEncoding.EncodeToString(pub)})
	ev := objectEvent("2026-11-13T09:00:00Z", "OBSERVE", "receiving", "in_progress", dockInLoc, siteLoc, serial(500010))
	good := testBatch(t, id, 0, "", key, ev)
	goodJSON, _ := json.Marshal(good)
	post := func(body []byte, hdr ...string) response {
		return e.do(nil, http.MethodPost, "/api/v1/batches", bytes.NewReader(body), append([]string{"Content-Type", "application/json"}, hdr...)...)
	}

	wantProblem(t, post([]byte("this is not a batch")), 400, "/invalid")
	wantProblem(t, post([]byte(`{"header": {"edge": "x"}}`)), 400, "/invalid")
	badSig, _ := json.Marshal(testBatch(t, id, 0, "", otherKey, ev))
	wantProblem(t, post(badSig), 422, "/unverified")
	unknown, _ := json.Marshal(testBatch(t, "edge-nobody-registered", 0, "", key, ev))
	wantProblem(t, post(unknown), 403, "/unknown-edge")
	ahead, _ := json.Marshal(testBatch(t, id, 1, strings.Repeat("0", 64), key, ev))
	p := wantProblem(t, post(ahead), 409, "/out-of-order")
	if p["expectedSeq"] != float64(0) {
		t.Errorf("out-of-order problem: expectedSeq %v, want 0", p["expectedSeq"])
	}

	// A gzip bomb: a small body that inflates past MaxBatchBytes (1 MiB
	// in the test gateway).
	bomb := gzipped(t, append([]byte(`{"header": {}, "events": ["`), bytes.Repeat([]byte("A"), 3<<20)...))
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	wantProblem(t, post(bomb, "Content-Encoding", "gzip"), 413, "/too-large")
	wantProblem(t, post([]byte("\x1f\x8bnot really gzip"), "Content-Encoding", "gzip"), 400, "/invalid")
	wantProblem(t, post(goodJSON, "Content-Encoding", "br"), 415, "/unsupported-type")
	wantProblem(t, post(bytes.Repeat([]byte(" "), 2<<20)), 413, "/too-large")

	// The real thing, compressed as edges send it; then again.
	r := post(gzipped(t, goodJSON), "Content-Encoding", "gzip")
	var res struct {
		Status    string `json:"status"`
		NewEvents int    `json:"newEvents"`
	}
	r.json(t, &res)
	if r.StatusCode != 201 || res.Status != "accepted" || res.NewEvents != 1 {
		t.Fatalf("upload: %d %s", r.StatusCode, r.body)
	}
	r = post(goodJSON)
	r.json(t, &res)
	if r.StatusCode != 200 || res.Status != "duplicate" {
		t.Fatalf("re-upload: %d %s, want 200 duplicate", r.StatusCode, r.body)
	}
	hh, _ := good.Header.Hash()
	conflicting := testBatch(t, id, 0, "", key, objectEvent("2026-11-13T09:05:00Z", "OBSERVE", "receiving", "", dockInLoc, siteLoc, serial(500011)))
	cj, _ := json.Marshal(conflicting)
	wantProblem(t, post(cj), 409, "/conflict")
	broken, _ := json.Marshal(testBatch(t, id, 1, strings.Repeat("1", 64), key, ev))
	wantProblem(t, post(broken), 422, "/unverified")
	next, _ := json.Marshal(testBatch(t, id, 1, hh, key, objectEvent("2026-11-13T10:00:00Z", "OBSERVE", "storing", "", coldRoomLoc, coldRoomLoc, serial(500010))))
	if r := post(next); r.StatusCode != 201 {
		t.Errorf("next batch: %d %s", r.StatusCode, r.body)
	}
}

// TestEdgeUploadsThroughAPI runs a real edge agent against the API: an
// RFID read goes edge → POST /api/v1/batches → index → ledger.
func TestEdgeUploadsThroughAPI(t *testing.T) {
	e := shared(t)
	pack := serial(500020)
	ts := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	if err := e.agent.Ingest(context.Background(), journalRaw("tracegate/wh1/rfid/dock-in-1", "dock-in-1",
		`{"epc": "`+pack+`", "ts": "`+ts+`", "antenna": 1, "rssi": -52.5}`)); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.get("/epcis/events?MATCH_epc=" + pack)
		var doc struct {
			EPCISBody struct {
				QueryResults struct {
					ResultsBody struct {
						EventList []map[string]any `json:"eventList"`
					} `json:"resultsBody"`
				} `json:"queryResults"`
			} `json:"epcisBody"`
		}
		r.json(t, &doc)
		if l := doc.EPCISBody.QueryResults.ResultsBody.EventList; len(l) == 1 {
			if l[0]["bizStep"] != "receiving" {
				t.Errorf("edge event: %v", l[0])
			}
			break
		}
		if time.Now().After(deadline) {
			st, _ := e.agent.Status()
			t.Fatalf("the edge's read never reached the index: edge status %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := e.agent.Status()
	if err != nil || !st.Upload.OK {
		t.Errorf("edge upload status %+v %v", st.Upload, err)
	}
}

func TestStream(t *testing.T) {
	e := shared(t)
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v1/stream", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream Content-Type %q", ct)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; !strings.HasPrefix(l, "retry:") {
		t.Fatalf("stream starts with %q", l)
	}
	ev := objectEvent(time.Now().UTC().Format(time.RFC3339), "OBSERVE", "inspecting", "", coldRoomLoc, coldRoomLoc, serial(500030))
	if r := e.postJSON("/epcis/capture", document(ev)); r.StatusCode != 202 {
		t.Fatalf("capture: %d %s", r.StatusCode, r.body)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if l == "event: batch" {
				data := <-lines
				if !strings.HasPrefix(data, "data: {") || !strings.Contains(data, `"newEvents":1`) {
					t.Errorf("batch update %q", data)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no batch update on the stream")
		}
	}
}

// TestShutdownWithOpenStream checks that a graceful shutdown ends live
// streams instead of waiting for them, and that departed stream clients
// are noticed.
func TestShutdownWithOpenStream(t *testing.T) {
	e := shared(t)
	app, err := New(e.svc, Config{PublicURL: "http://example.test"}, WithLogger(logger()), WithHeartbeat(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	// A client that goes away is noticed at the next heartbeat.
	gone, _ := http.NewRequest(http.MethodGet, base+"/api/v1/stream", nil)
	gctx, gcancel := context.WithCancel(context.Background())
	resp, err := http.DefaultClient.Do(gone.WithContext(gctx))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stream opened", func() bool { return app.streams.Load() == 1 })
	gcancel()
	resp.Body.Close()
	waitFor(t, "departed client noticed", func() bool { return app.streams.Load() == 0 })

	// A client that stays: shutdown ends its stream.
	resp, err = http.Get(base + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, "second stream opened", func() bool { return app.streams.Load() == 1 })
	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("graceful shutdown hangs on an open stream")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	rest, _ := ioReadAll(resp)
	if !strings.Contains(rest, "event: bye") {
		t.Errorf("the stream did not say goodbye: %q", rest)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLedgerAPI(t *testing.T) {
	e := shared(t)
	capID, _ := e.svc.CaptureDevice()
	var d ledger.Device
	r := e.get("/api/v1/ledger/devices/" + capID)
	r.json(t, &d)
	if r.StatusCode != 200 || d.ID != capID {
		t.Errorf("device: %d %s", r.StatusCode, r.body)
	}
	var a ledger.Anchor
	r = e.get("/api/v1/ledger/anchors/" + capID + "/0")
	r.json(t, &a)
	if r.StatusCode != 200 || a.TxID == "" {
		t.Fatalf("anchor: %d %s", r.StatusCode, r.body)
	}
	var tx ledger.TxInfo
	r = e.get("/api/v1/ledger/transactions/" + a.TxID)
	r.json(t, &tx)
	if r.StatusCode != 200 || !tx.Valid {
		t.Errorf("transaction: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, e.get("/api/v1/ledger/devices/no-such-device"), 404, "/not-found")
	wantProblem(t, e.get("/api/v1/ledger/anchors/"+capID+"/99999"), 404, "/not-found")
	wantProblem(t, e.get("/api/v1/ledger/anchors/"+capID+"/minus-one"), 400, "/invalid")
	wantProblem(t, e.get("/api/v1/no-such-thing"), 404, "/not-found")
}
