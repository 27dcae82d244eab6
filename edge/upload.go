package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger/batch"
)

// Uploader hands a sealed batch to the gateway. A nil error means the
// gateway acknowledged it (stored it, or had it already).
type Uploader interface {
	Upload(ctx context.Context, b batch.Sealed) error
}

// RejectedError is the gateway refusing a batch for a reason that retrying
// the same bytes will not fix by itself (bad signature, unknown edge, a
// broken chain). The batch stays in the journal and the edge raises an
// alarm; it retries slowly, since an operator may fix the cause (register
// the edge, for instance).
type RejectedError struct {
	Status  int
	Problem Problem
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("gateway rejected batch (HTTP %d): %s: %s", e.Status, e.Problem.Title, e.Problem.Detail)
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// HTTPUploader posts batches to the gateway's batch API
// (POST {gateway}/api/v1/batches, see docs/edge-api.md).
type HTTPUploader struct {
	url    string
	client *http.Client
}

// NewHTTPUploader returns an uploader for the gateway at baseURL.
func NewHTTPUploader(baseURL string, timeout time.Duration) *HTTPUploader {
	return &HTTPUploader{
		url:    strings.TrimRight(baseURL, "/") + "/api/v1/batches",
		client: &http.Client{Timeout: timeout},
	}
}

// Upload implements Uploader.
func (u *HTTPUploader) Upload(ctx context.Context, b batch.Sealed) error {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	if err := json.NewEncoder(zw).Encode(b); err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("upload batch %d: %w", b.Header.Seq, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var p Problem
	if json.Unmarshal(msg, &p) != nil || p.Title == "" {
		p = Problem{Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(msg))}
	}
	// 408, 429 and 5xx are the gateway's own trouble: retry soon.
	if resp.StatusCode >= 500 || resp.StatusCode == 429 || resp.StatusCode == 408 {
		return fmt.Errorf("upload batch %d: gateway answered %d: %s %s", b.Header.Seq, resp.StatusCode, p.Title, p.Detail)
	}
	return &RejectedError{Status: resp.StatusCode, Problem: p}
}

// runUploader sends sealed batches in sequence order, one at a time,
// deleting each from the journal only after the gateway acknowledged it.
// Failures back off exponentially with jitter; the first success after a
// failure resumes at full speed.
func (a *Agent) runUploader(ctx context.Context) error {
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		b, ok, err := a.j.OldestUnacked()
		if err != nil {
			a.log.Error("read unacknowledged batch", "err", err)
			backoff = nextBackoff(backoff, time.Second, a.cfg.Gateway.MaxBackoff)
			continue
		}
		if !ok {
			backoff = 0
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-a.wakeUpload:
			case <-time.After(time.Second):
			}
			continue
		}
		evs, err := a.j.BatchEvents(b)
		if err != nil {
			a.log.Error("read batch events", "seq", b.Header.Seq, "err", err)
			backoff = nextBackoff(backoff, time.Second, a.cfg.Gateway.MaxBackoff)
			continue
		}
		s := batch.Sealed{Header: b.Header, Signature: b.Signature, Events: make([]json.RawMessage, len(evs))}
		for i, e := range evs {
			s.Events[i] = e.JSON
		}
		err = a.up.Upload(ctx, s)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			var rej *RejectedError
			rejected := errors.As(err, &rej)
			kind := "transient"
			floor := 100 * time.Millisecond
			ceiling := a.cfg.Gateway.MaxBackoff
			if rejected {
				kind, floor, ceiling = "rejected", 2*time.Second, max(ceiling, time.Minute)
			}
			a.m.uploadErrs.WithLabelValues(kind).Inc()
			a.setUpload(UploadStatus{OK: false, At: a.now(), Error: err.Error(), Rejected: rejected})
			backoff = nextBackoff(backoff, floor, ceiling)
			a.log.Warn("batch upload failed; kept and retried", "seq", b.Header.Seq, "kind", kind, "retryIn", backoff, "err", err)
			continue
		}
		if err := a.j.Ack(b); err != nil {
			a.log.Error("forget acknowledged batch", "seq", b.Header.Seq, "err", err)
			backoff = nextBackoff(backoff, time.Second, a.cfg.Gateway.MaxBackoff)
			continue
		}
		backoff = 0
		a.m.uploaded.Inc()
		a.nAcked.Add(b.Header.Count)
		a.setUpload(UploadStatus{OK: true, At: a.now()})
		a.log.Debug("batch acknowledged by gateway", "seq", b.Header.Seq, "count", b.Header.Count)
	}
}

func nextBackoff(cur, floor, ceiling time.Duration) time.Duration {
	if cur < floor {
		return floor
	}
	return min(cur*2, ceiling)
}

func (a *Agent) setUpload(s UploadStatus) {
	a.mu.Lock()
	a.lastUpload = s
	a.mu.Unlock()
}

// LastUpload returns the uploader's latest outcome.
func (a *Agent) LastUpload() UploadStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastUpload
}
