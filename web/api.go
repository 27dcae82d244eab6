package web

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/ledger/batch"
)

// maxProofBytes bounds a proof document posted for verification.
const maxProofBytes = 8 << 20

// readBody returns the request body, decompressed (gzip or deflate) when
// Content-Encoding says so, refusing more than limit bytes either way: a
// small compressed body that inflates past the limit (a "zip bomb") is 413
// like a large plain one. Fiber's Ctx.Body decompresses without a limit,
// so it is never used on request bodies.
func readBody(c *fiber.Ctx, limit int64) ([]byte, error) {
	raw := c.Request().Body()
	enc := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)))
	var r io.Reader
	switch enc {
	case "", "identity":
		if int64(len(raw)) > limit {
			return nil, tooLarge(fmt.Sprintf("the body has %d bytes; the limit is %d", len(raw), limit))
		}
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, invalid("body is not gzip", "Content-Encoding says gzip, but the body is not: "+err.Error())
		}
		defer zr.Close()
		r = zr
	case "deflate":
		fr := flate.NewReader(bytes.NewReader(raw))
		defer fr.Close()
		r = fr
	default:
		return nil, &webError{status: fiber.StatusUnsupportedMediaType, kind: kindMediaType, title: "unsupported content encoding",
			detail: fmt.Sprintf("Content-Encoding %q is not accepted; send the body plain, gzip or deflate", enc)}
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, invalid("body does not decompress", err.Error())
	}
	if int64(len(out)) > limit {
		return nil, tooLarge(fmt.Sprintf("the body inflates to more than the %d-byte limit", limit))
	}
	return out, nil
}

// requireJSON refuses bodies that say they are something other than JSON.
// A missing Content-Type is taken as JSON.
func requireJSON(c *fiber.Ctx, allowed ...string) error {
	ct := c.Get(fiber.HeaderContentType)
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errMediaType(ct, allowed...)
	}
	for _, a := range allowed {
		if mt == a {
			return nil
		}
	}
	return errMediaType(ct, allowed...)
}

// decodeStrict decodes one JSON value, refusing trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// postBatch takes a sealed batch from an edge (possibly gzip-compressed).
func (a *App) postBatch(c *fiber.Ctx) error {
	if err := requireJSON(c, fiber.MIMEApplicationJSON); err != nil {
		return err
	}
	body, err := readBody(c, a.svc.Config().MaxBatchBytes)
	if err != nil {
		return err
	}
	var b batch.Sealed
	if err := decodeStrict(body, &b); err != nil {
		return invalid("not a sealed batch", "the body must be a JSON batch {header, signature, events}: "+err.Error())
	}
	res, err := a.svc.IngestBatch(c.UserContext(), b, gateway.SourceEdge)
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if res.Status == "duplicate" {
		status = fiber.StatusOK
	}
	return sendJSON(c, status, fiber.MIMEApplicationJSON, res)
}

// eventIDParam reads an eventID path segment: the whole ni:///… ID
// percent-encoded as one segment, or the bare 64-hex hash. Routing uses the
// raw path, so %2F and %3F arrive here still encoded.
func eventIDParam(c *fiber.Ctx, name string) (string, error) {
	raw := c.Params(name)
	id, err := url.PathUnescape(raw)
	if err != nil {
		return "", invalid("invalid eventID", fmt.Sprintf("%q is not a well-formed percent-encoded path segment", raw))
	}
	if id == "" {
		return "", invalid("invalid eventID", "the eventID is empty")
	}
	return id, nil
}

// getProof returns the proof document of an event.
func (a *App) getProof(c *fiber.Ctx) error {
	id, err := eventIDParam(c, "id")
	if err != nil {
		return err
	}
	d, err := a.svc.Proof(c.UserContext(), id)
	if err != nil {
		return err
	}
	if d.Anchor == nil {
		c.Set(fiber.HeaderCacheControl, "no-store")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	}
	if c.Query("download") != "" {
		h := hashOf(d.EventID)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="proof-`+h[:min(len(h), 16)]+`.json"`)
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, d)
}

// postVerify verifies a proof document against this gateway's ledger: 200
// with the result when it verifies, 422 with the result when not (the
// failing step says why; "pending" marks a proof whose batch is not
// anchored yet).
func (a *App) postVerify(c *fiber.Ctx) error {
	if err := requireJSON(c, fiber.MIMEApplicationJSON); err != nil {
		return err
	}
	body, err := readBody(c, maxProofBytes)
	if err != nil {
		return err
	}
	d, err := proof.Parse(body)
	if err != nil {
		return invalid("not a proof document", err.Error())
	}
	res := a.svc.VerifyProof(c.UserContext(), d)
	status := fiber.StatusOK
	if !res.Verified {
		status = fiber.StatusUnprocessableEntity
	}
	a.countVerification(res)
	return sendJSON(c, status, fiber.MIMEApplicationJSON, res)
}

func (a *App) countVerification(res proof.Result) {
	switch {
	case res.Verified:
		a.m.verifyRes.WithLabelValues("verified").Inc()
	case res.Pending:
		a.m.verifyRes.WithLabelValues("pending").Inc()
	default:
		a.m.verifyRes.WithLabelValues("failed").Inc()
	}
}

// stream sends live updates as server-sent events: each bus update as an
// event named by its type with JSON data, and a comment line as heartbeat.
// It ends when the client goes (noticed at the next write) or when the app
// stops.
func (a *App) stream(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	if c.Method() == fiber.MethodHead {
		return nil
	}
	// Alerts go whole only to those who may see them; others learn which
	// lot or pack one concerns (public passports refresh on it).
	org, all := "", false
	if s, ok := c.Locals(localSession).(*session); ok && s != nil {
		org, all = s.Org, a.seesAllAlerts(c.UserContext(), s)
	}
	sub, cancel := a.svc.Bus().Subscribe()
	a.streams.Add(1)
	stop, hb := a.stop, a.heartbeat
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer a.streams.Add(-1)
		defer cancel()
		tick := time.NewTicker(hb)
		defer tick.Stop()
		fmt.Fprintf(w, "retry: 3000\n: connected to tracegate\n\n")
		if w.Flush() != nil {
			return
		}
		for {
			select {
			case <-stop:
				fmt.Fprintf(w, "event: bye\ndata: {}\n\n")
				_ = w.Flush()
				return
			case u, ok := <-sub:
				if !ok {
					return
				}
				data := u.Data
				if u.Type == "alert" {
					data = a.liveAlert(u.Data, org, all)
				}
				b, err := json.Marshal(data)
				if err != nil {
					continue
				}
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", sanitizeEventName(u.Type), b)
			case <-tick.C:
				fmt.Fprintf(w, ": heartbeat %d\n\n", time.Now().Unix())
			}
			if w.Flush() != nil {
				return
			}
		}
	})
	return nil
}

func sanitizeEventName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ':' {
			return -1
		}
		return r
	}, s)
}

// edgeStatus is an in-process edge's state for /api/v1/status and pages.
type edgeStatus struct {
	ID     string       `json:"id"`
	Status *edge.Status `json:"status,omitempty"`
	Error  string       `json:"error,omitempty"`
}

func (a *App) edgeStatuses() []edgeStatus {
	out := make([]edgeStatus, 0, len(a.cfg.Edges))
	for _, e := range a.cfg.Edges {
		es := edgeStatus{ID: e.ID()}
		st, err := e.Status()
		if err != nil {
			es.Error = err.Error()
		} else {
			es.Status = &st
		}
		out = append(out, es)
	}
	return out
}

// status reports counts, the anchoring pipeline, the ledger and edges.
func (a *App) status(c *fiber.Ctx) error {
	counts, err := a.svc.Store().Counts()
	if err != nil {
		return &gateway.Error{Kind: gateway.KindUnavailable, Title: "store unavailable", Detail: err.Error(), Err: err}
	}
	ready, problems := a.svc.Ready(c.UserContext())
	if problems == nil {
		problems = []string{}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{
		"counts":      counts,
		"anchoring":   a.svc.AnchorStatus(),
		"ledger":      a.svc.LedgerInfo(),
		"edges":       a.edgeStatuses(),
		"ready":       ready,
		"problems":    problems,
		"liveDropped": a.svc.Bus().Dropped.Load(),
		"time":        a.now().UTC(),
	})
}

// Read-only ledger API: what `tracegate verify` (proof.HTTPLedger) reads
// to check a proof against a ledger that lives inside this gateway.

func (a *App) ledgerInfo(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, a.svc.LedgerView().Info())
}

func (a *App) ledgerDevice(c *fiber.Ctx) error {
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil || id == "" {
		return invalid("invalid device ID", "the device ID path segment is not well-formed")
	}
	d, err := a.svc.LedgerView().Device(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, d)
}

func (a *App) ledgerAnchor(c *fiber.Ctx) error {
	edgeID, err := url.PathUnescape(c.Params("edge"))
	if err != nil || edgeID == "" {
		return invalid("invalid edge ID", "the edge ID path segment is not well-formed")
	}
	seq, err := strconv.ParseUint(c.Params("seq"), 10, 64)
	if err != nil {
		return invalid("invalid sequence number", fmt.Sprintf("%q is not a batch sequence number", c.Params("seq")))
	}
	an, err := a.svc.LedgerView().Anchor(c.UserContext(), edgeID, seq)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, an)
}

func (a *App) ledgerTx(c *fiber.Ctx) error {
	tx, err := url.PathUnescape(c.Params("tx"))
	if err != nil || tx == "" {
		return invalid("invalid transaction ID", "the transaction ID path segment is not well-formed")
	}
	info, err := a.svc.LedgerView().Transaction(c.UserContext(), tx)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, info)
}
