package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// Ledger events the gateway acts on.
const (
	evLotRecalled       = "LotRecalled"
	evExcursionRecorded = "ExcursionRecorded"
	evLotStatusChanged  = "LotStatusChanged"
	evSiteRegistered    = "SiteRegistered"
	evSiteUpdated       = "SiteUpdated"
)

// runLedgerWatcher follows the ledger's contract events from the stored
// checkpoint, so after a restart nothing is missed and nothing repeated
// (alerts are stored by ID besides). It reconnects with backoff when the
// ledger goes away.
func (s *Service) runLedgerWatcher(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	for {
		err := s.watchOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("ledger event stream ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if backoff < 10*time.Second {
			backoff *= 2
		}
	}
}

func (s *Service) watchOnce(ctx context.Context) error {
	var cp ledger.Checkpoint
	if b, err := s.st.LedgerCheckpoint(); err != nil {
		return err
	} else if b != nil {
		if err := json.Unmarshal(b, &cp); err != nil {
			return fmt.Errorf("stored ledger checkpoint: %w", err)
		}
	}
	ch, err := s.led.L.Events(ctx, cp)
	if err != nil {
		return err
	}
	for ev := range ch {
		if err := s.onLedgerEvent(ctx, ev); err != nil {
			// Kept at the checkpoint: handled again after the reconnect.
			return fmt.Errorf("handle %s of tx %s: %w", ev.Name, ev.TxID, err)
		}
		b, _ := json.Marshal(ledger.After(ev))
		if err := s.st.SetLedgerCheckpoint(b); err != nil {
			return err
		}
	}
	return errors.New("event stream closed")
}

// recallEvent is the payload of LotRecalled.
type recallEvent struct {
	GTIN     string    `json:"gtin"`
	Lot      string    `json:"lot"`
	Reason   string    `json:"reason"`
	Class    string    `json:"class"`
	Org      string    `json:"org"`
	IssuedAt time.Time `json:"issuedAt"`
}

func (s *Service) onLedgerEvent(ctx context.Context, ev ledger.Event) error {
	switch ev.Name {
	case evSiteRegistered, evSiteUpdated:
		s.forgetSites()
	case evLotRecalled:
		var r recallEvent
		if err := json.Unmarshal(ev.Payload, &r); err != nil {
			s.log.Error("malformed LotRecalled payload", "tx", ev.TxID, "err", err)
			return nil
		}
		return s.propagateRecall(ctx, r)
	case evExcursionRecorded:
		s.bus.Publish(Update{Type: "lot", Data: json.RawMessage(ev.Payload)})
		return onExcursionRecorded(s, ctx, ev.Payload)
	case evLotStatusChanged:
		s.bus.Publish(Update{Type: "lot", Data: json.RawMessage(ev.Payload)})
	case ledger.EvDonationRequested, ledger.EvRequestClosed, ledger.EvPledgeRecorded, ledger.EvPledgeReceived,
		ledger.EvDonationAllocated, ledger.EvDonationShipped, ledger.EvDonationReceived:
		// Donation records written through any gateway: the public
		// donation pages refresh.
		s.bus.Publish(Update{Type: "donation", Data: map[string]any{"kind": ev.Name, "tx": ev.TxID}})
	}
	return nil
}

// propagateRecall tells every current holder of a recalled lot, on its
// pages and its sites' alert topics, and the regulator.
func (s *Service) propagateRecall(ctx context.Context, r recallEvent) error {
	s.forgetLot(store.LotRef{GTIN: r.GTIN, Lot: r.Lot})
	tr, err := s.TraceForward(ctx, r.GTIN, r.Lot, true)
	if err != nil {
		return err
	}
	// Every pack of the lot is suspect from now on, wherever it is.
	for _, p := range tr.Positions {
		f := SuspectFlag{EPC: p.EPC, Reason: SuspectRecalled, Site: p.Site, At: r.IssuedAt,
			Detail: fmt.Sprintf("lot %s is recalled (class %s): %s", r.Lot, r.Class, r.Reason)}
		b, _ := json.Marshal(f)
		if err := s.st.PutSuspect(f.EPC, f.Reason, "", f.At, b); err != nil {
			return err
		}
	}
	name := r.GTIN
	if p, err := s.led.Product(ctx, s.cfg.Reader, r.GTIN); err == nil {
		name = p.Name
	}
	link := "/01/" + r.GTIN + "/10/" + r.Lot
	total := 0
	for _, h := range tr.Holdings {
		total += h.Packs
		where := h.SiteName
		if where == "" {
			where = h.Site
		}
		s.raise(ctx, Alert{
			ID: "recall/" + r.GTIN + "/" + r.Lot + "/" + h.Site, Kind: AlertRecall, Severity: "critical",
			EventTime: r.IssuedAt, Site: h.Site, Orgs: []string{h.Org, r.Org}, GTIN: r.GTIN, Lot: r.Lot,
			Title:   fmt.Sprintf("Recall (class %s): %s, lot %s", r.Class, name, r.Lot),
			Message: fmt.Sprintf("%d packs of this lot are at %s (%d dispensed, %d in transit). Stop using and quarantine them. Reason: %s", h.Packs, where, h.Dispensed, h.InTransit, r.Reason),
			Link:    link, Data: h,
		})
	}
	s.raise(ctx, Alert{
		ID: "recall/" + r.GTIN + "/" + r.Lot, Kind: AlertRecall, Severity: "critical", EventTime: r.IssuedAt,
		Orgs: []string{r.Org}, GTIN: r.GTIN, Lot: r.Lot,
		Title:   fmt.Sprintf("Recall issued (class %s): %s, lot %s", r.Class, name, r.Lot),
		Message: fmt.Sprintf("%d packs at %d sites were told; %d packs not seen since commissioning. Reason: %s", total, len(tr.Holdings), tr.Unseen, r.Reason),
		Link:    link, Data: tr.Holdings,
	})
	return nil
}
