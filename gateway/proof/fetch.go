package proof

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// HTTPLedger reads the ledger through a gateway's read-only ledger API
// (GET /api/v1/ledger/…, see docs/api.md). It is how `tracegate verify`
// checks a proof against an embedded ledger, which lives inside its
// gateway.
type HTTPLedger struct {
	Base   string // gateway base URL, e.g. http://127.0.0.1:8080
	Client *http.Client
	info   *ledger.Info
}

// NewHTTPLedger returns a ledger view over the gateway at base and loads
// the ledger's description.
func NewHTTPLedger(ctx context.Context, base string) (*HTTPLedger, error) {
	l := &HTTPLedger{Base: strings.TrimRight(base, "/"), Client: &http.Client{Timeout: 30 * time.Second}}
	var info ledger.Info
	if err := l.get(ctx, "/api/v1/ledger/info", &info); err != nil {
		return nil, fmt.Errorf("ledger info from %s: %w", base, err)
	}
	l.info = &info
	return l, nil
}

func (l *HTTPLedger) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.Base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := l.Client.Do(req)
	if err != nil {
		return ledger.Errorf(ledger.Unavailable, "%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return ledger.Errorf(ledger.Unavailable, "read %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(body, &p)
		msg := strings.TrimSpace(p.Title + ": " + p.Detail)
		switch resp.StatusCode {
		case http.StatusNotFound:
			return ledger.Errorf(ledger.NotFound, "%s", msg)
		case http.StatusForbidden:
			return ledger.Errorf(ledger.Forbidden, "%s", msg)
		}
		return ledger.Errorf(ledger.Unavailable, "HTTP %d from %s: %s", resp.StatusCode, path, msg)
	}
	return json.Unmarshal(body, v)
}

// Device implements Ledger.
func (l *HTTPLedger) Device(ctx context.Context, edge string) (ledger.Device, error) {
	var d ledger.Device
	err := l.get(ctx, "/api/v1/ledger/devices/"+url.PathEscape(edge), &d)
	return d, err
}

// Anchor implements Ledger.
func (l *HTTPLedger) Anchor(ctx context.Context, edge string, seq uint64) (ledger.Anchor, error) {
	var a ledger.Anchor
	err := l.get(ctx, "/api/v1/ledger/anchors/"+url.PathEscape(edge)+"/"+strconv.FormatUint(seq, 10), &a)
	return a, err
}

// Transaction implements Ledger.
func (l *HTTPLedger) Transaction(ctx context.Context, txID string) (ledger.TxInfo, error) {
	var t ledger.TxInfo
	err := l.get(ctx, "/api/v1/ledger/transactions/"+url.PathEscape(txID), &t)
	return t, err
}

// Info implements Ledger.
func (l *HTTPLedger) Info() ledger.Info {
	if l.info == nil {
		return ledger.Info{}
	}
	return *l.info
}

// Fetch reads a proof document from a file path, "-" (stdin, via r), or
// an http(s) URL.
func Fetch(ctx context.Context, src string, stdin io.Reader, readFile func(string) ([]byte, error)) ([]byte, error) {
	switch {
	case src == "-":
		return io.ReadAll(io.LimitReader(stdin, 64<<20))
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch proof: %w", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch proof from %s: HTTP %d: %s", src, resp.StatusCode, strings.TrimSpace(string(b)))
		}
		return b, nil
	}
	b, err := readFile(src)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty", src)
	}
	return b, err
}

// GatewayBase guesses the gateway base URL from a proof URL
// (…/api/v1/events/{id}/proof).
func GatewayBase(proofURL string) string {
	if i := strings.Index(proofURL, "/api/v1/"); i > 0 {
		return proofURL[:i]
	}
	return ""
}
