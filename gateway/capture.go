package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/store"
)

// CaptureStatus is a capture job as the EPCIS REST binding reports it.
type CaptureStatus struct {
	CaptureID             string    `json:"captureID"`
	CreatedAt             time.Time `json:"createdAt"`
	FinishedAt            time.Time `json:"finishedAt,omitzero"`
	Running               bool      `json:"running"`
	Success               bool      `json:"success"`
	CaptureErrorBehaviour string    `json:"captureErrorBehaviour"`
	Errors                []string  `json:"errors"`
	EventIDs              []string  `json:"eventIDs"`
	Proven                int       `json:"proven"`
}

// Capture accepts an EPCIS 2.0 document from another EPCIS system or a
// handheld app. The whole document is validated first (all or nothing:
// captureErrorBehaviour "rollback"); its events are then made durable in
// the gateway's capture journal, sealed into signed batches like any
// edge's, indexed and anchored. The job reports progress.
func (s *Service) Capture(ctx context.Context, body []byte, single bool) (CaptureStatus, error) {
	if int64(len(body)) > s.cfg.Capture.MaxBytes {
		s.m.captures.WithLabelValues("too-large").Inc()
		return CaptureStatus{}, errf(KindTooLarge, "CaptureLimitExceededException", "document of %d bytes is above the %d-byte limit", len(body), s.cfg.Capture.MaxBytes)
	}
	doc, err := epcis.ParseDocument(body)
	if err != nil {
		s.m.captures.WithLabelValues("invalid").Inc()
		return CaptureStatus{}, errf(KindInvalid, "ValidationException", "not a valid EPCIS 2.0 document: %w", err)
	}
	if single && len(doc.Events) != 1 {
		s.m.captures.WithLabelValues("invalid").Inc()
		return CaptureStatus{}, errf(KindInvalid, "ValidationException", "POST /epcis/events takes exactly one event; send documents to /epcis/capture")
	}
	if !single && doc.Type != "EPCISDocument" {
		s.m.captures.WithLabelValues("invalid").Inc()
		return CaptureStatus{}, errf(KindInvalid, "ValidationException", "capture takes an EPCISDocument, got %s; send single events to POST /epcis/events", orNone(doc.Type))
	}
	if len(doc.Events) == 0 {
		s.m.captures.WithLabelValues("invalid").Inc()
		return CaptureStatus{}, errf(KindInvalid, "ValidationException", "the document holds no events")
	}
	prep, err := edge.Prepare(doc.Events, doc.Context)
	if err != nil {
		s.m.captures.WithLabelValues("invalid").Inc()
		return CaptureStatus{}, errf(KindInvalid, "ValidationException", "%w", err)
	}
	n, err := s.cap.Append(ctx, prep)
	if err != nil {
		s.m.captures.WithLabelValues("unavailable").Inc()
		return CaptureStatus{}, errf(KindUnavailable, "capture not stored", "%w", err)
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	job := store.CaptureJob{ID: hex.EncodeToString(rnd[:]), CreatedAt: s.now().UTC(), NewEvents: n}
	for _, p := range prep {
		job.EventIDs = append(job.EventIDs, p.ID)
	}
	if err := s.st.PutJob(job); err != nil {
		// The events are durable and will be sealed; only the job record
		// is missing. Report it rather than pretend.
		s.m.captures.WithLabelValues("unavailable").Inc()
		return CaptureStatus{}, errf(KindUnavailable, "capture job not recorded", "events were stored, but the job record failed: %w", err)
	}
	s.m.captures.WithLabelValues("accepted").Inc()
	return s.CaptureJob(ctx, job.ID)
}

func orNone(s string) string {
	if s == "" {
		return "something else"
	}
	return s
}

// CaptureJob reports a capture job: running until every event is indexed,
// then successful; Proven counts events already anchored.
func (s *Service) CaptureJob(ctx context.Context, id string) (CaptureStatus, error) {
	j, err := s.st.Job(id)
	if errors.Is(err, store.ErrNotFound) {
		return CaptureStatus{}, errf(KindNotFound, "capture job not found", "no capture job %q", id)
	}
	if err != nil {
		return CaptureStatus{}, errf(KindUnavailable, "capture job unavailable", "%w", err)
	}
	st := CaptureStatus{CaptureID: j.ID, CreatedAt: j.CreatedAt, CaptureErrorBehaviour: "rollback", Errors: j.Errors, EventIDs: j.EventIDs}
	if st.Errors == nil {
		st.Errors = []string{}
	}
	indexed := 0
	var last time.Time
	for _, eid := range j.EventIDs {
		h, err := epcis.ParseEventID(eid)
		if err != nil {
			continue
		}
		r, err := s.st.Event(h)
		if err != nil {
			continue
		}
		indexed++
		if r.RecordTime.After(last) {
			last = r.RecordTime
		}
		if state, _, _ := s.EventState(r); state == StateProven {
			st.Proven++
		}
	}
	st.Running = indexed < len(j.EventIDs)
	st.Success = !st.Running && len(j.Errors) == 0
	if !st.Running {
		st.FinishedAt = last
	}
	return st, nil
}
