package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tracegate/tracegate/gateway/store"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/tracegate once per process and returns its path.
func Binary() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tracegate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		buildPath = filepath.Join(dir, "tracegate")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/tracegate")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tracegate: %v\n%s", err, out)
		}
	})
	return buildPath, buildErr
}

// Verify runs `tracegate verify ARGS…` and returns its exit code and
// output.
func Verify(ctx context.Context, args ...string) (int, string, error) {
	bin, err := Binary()
	if err != nil {
		return -1, "", err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"verify"}, args...)...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out), nil
	}
	if err != nil {
		return -1, string(out), err
	}
	return 0, string(out), nil
}

// MosquittoPub publishes one message with the mosquitto_pub CLI at QoS 1.
func MosquittoPub(ctx context.Context, addr, clientID, user, password, topic string, payload []byte) error {
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "mosquitto_pub", "-h", host, "-p", port, "-q", "1",
		"-i", clientID, "-u", user, "-P", password, "-t", topic, "-s")
	cmd.Stdin = bytes.NewReader(payload)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("mosquitto_pub -t %s: %v: %s", topic, err, out)
	}
	return nil
}

// QueryEvents runs GET /epcis/events with params, following every page.
func QueryEvents(ctx context.Context, base string, params url.Values) ([]map[string]any, error) {
	var all []map[string]any
	next := ""
	for {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		if next != "" {
			p.Set("nextPageToken", next)
		}
		if p.Get("perPage") == "" {
			p.Set("perPage", "1000")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/epcis/events?"+p.Encode(), nil)
		req.Header.Set("Accept", "application/ld+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /epcis/events?%s: HTTP %d: %s", p.Encode(), resp.StatusCode, body)
		}
		var doc struct {
			EPCISBody struct {
				QueryResults struct {
					ResultsBody struct {
						EventList []map[string]any `json:"eventList"`
					} `json:"resultsBody"`
				} `json:"queryResults"`
			} `json:"epcisBody"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, fmt.Errorf("decode query result: %w", err)
		}
		all = append(all, doc.EPCISBody.QueryResults.ResultsBody.EventList...)
		next = nextToken(resp.Header.Get("Link"))
		if next == "" {
			return all, nil
		}
	}
}

func nextToken(link string) string {
	if link == "" || !strings.Contains(link, `rel="next"`) {
		return ""
	}
	start := strings.Index(link, "<")
	end := strings.Index(link, ">")
	if start < 0 || end < start {
		return ""
	}
	u, err := url.Parse(link[start+1 : end])
	if err != nil {
		return ""
	}
	return u.Query().Get("nextPageToken")
}

// ProofURL is the proof endpoint of an event.
func ProofURL(base, eventID string) string {
	return base + "/api/v1/events/" + url.PathEscape(eventID) + "/proof"
}

// WaitAnchored waits until every event in ids is indexed and its batch is
// anchored on the ledger.
func WaitAnchored(ctx context.Context, st *store.Store, ids []string, timeout time.Duration, hash func(string) ([32]byte, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		missing := ""
		for _, id := range ids {
			h, err := hash(id)
			if err != nil {
				return err
			}
			r, err := st.Event(h)
			if err != nil {
				missing = id + " not indexed"
				break
			}
			if _, err := st.Anchor(r.Edge, r.Seq); err != nil {
				missing = fmt.Sprintf("%s (batch %s #%d) not anchored", id, r.Edge, r.Seq)
				break
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %s", timeout, missing)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
