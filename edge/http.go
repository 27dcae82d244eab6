package edge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tracegate/tracegate/edge/journal"
)

// Status is the edge's state as /api/v1/status reports it.
type Status struct {
	Edge      string        `json:"edge"`
	PublicKey []byte        `json:"publicKey"`
	Journal   journal.Stats `json:"journal"`
	Upload    UploadStatus  `json:"upload"`
	Ready     bool          `json:"ready"`
	Problems  []string      `json:"problems,omitempty"`
}

// Status reports the backlog and whether the edge is ready.
func (a *Agent) Status() (Status, error) {
	st, err := a.j.Stats()
	if err != nil {
		return Status{}, err
	}
	s := Status{Edge: a.cfg.ID, PublicKey: a.PublicKey(), Journal: st, Upload: a.LastUpload()}
	if st.DiskFull {
		s.Problems = append(s.Problems, "disk below the free-space minimum: readings are refused")
	}
	if s.Upload.Rejected {
		s.Problems = append(s.Problems, "gateway rejects batches: "+s.Upload.Error)
	}
	if !st.OldestUnack.IsZero() && a.now().Sub(st.OldestUnack) > 5*time.Minute {
		s.Problems = append(s.Problems, "oldest unacknowledged batch is over 5 minutes old")
	}
	s.Ready = len(s.Problems) == 0
	return s, nil
}

// Handler returns the edge's HTTP API: /healthz, /readyz, /metrics (when
// the agent's metrics went to a gatherer), /api/v1/status and
// /api/v1/deadletters.
func (a *Agent) Handler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		s, err := a.Status()
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "problems": []string{err.Error()}})
			return
		}
		code := http.StatusOK
		if !s.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, s)
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		s, err := a.Status()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, Problem{Title: "status unavailable", Detail: err.Error(), Status: 500})
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("GET /api/v1/deadletters", func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 || limit > 1000 {
			limit = 100
		}
		dl, err := a.j.DeadLetters(from, limit)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, Problem{Title: "dead letters unavailable", Detail: err.Error(), Status: 500})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"deadLetters": dl})
	})
	if g != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *Agent) serveHTTP(ctx context.Context) error {
	srv := &http.Server{Addr: a.cfg.Listen, Handler: a.Handler(a.gatherer), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	a.log.Info("edge HTTP API listening", "addr", a.cfg.Listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}

// runHousekeeping refreshes backlog gauges and reclaims journal space.
func (a *Agent) runHousekeeping(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	gc := time.NewTicker(5 * time.Minute)
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-gc.C:
			a.j.RunGC()
		case <-tick.C:
			st, err := a.j.Stats()
			if err != nil {
				continue
			}
			a.m.backlogEv.Set(float64(st.Pending))
			a.m.backlogBt.Set(float64(st.Unacked))
			a.m.inbox.Set(float64(st.Inbox))
			if st.OldestUnack.IsZero() {
				a.m.oldest.Set(0)
			} else {
				a.m.oldest.Set(a.now().Sub(st.OldestUnack).Seconds())
			}
			if st.DiskFull {
				a.m.diskFull.Set(1)
			}
		}
	}
}
