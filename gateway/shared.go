package gateway

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/tracegate/tracegate/gateway/coldchain"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// The data an organisation owns and may share with a grant (see
// sharing.go): what the gateway serves under each grant scope kind.

// ReceiptRecord is one receipt of goods at an organisation's site: a
// receiving (or accepting) event there.
type ReceiptRecord struct {
	EventID     string          `json:"eventID"`
	EventTime   time.Time       `json:"eventTime"`
	BizStep     string          `json:"bizStep"`
	Site        string          `json:"site"`
	SiteName    string          `json:"siteName,omitempty"`
	Objects     int             `json:"objects"`
	Event       json.RawMessage `json:"event"`
	Edge        string          `json:"edge"`
	Seq         uint64          `json:"seq"`
	Disposition string          `json:"disposition,omitempty"`
}

// SharedReceipts is an organisation's receipt records: every receiving or
// accepting event at one of its sites (newest first, up to limit), and the
// donation allocations it confirmed.
type SharedReceipts struct {
	Owner       string              `json:"owner"`
	Receipts    []ReceiptRecord     `json:"receipts"`
	Allocations []ledger.Allocation `json:"allocations"`
}

// Receipts reads owner's receipt records.
func (s *Service) Receipts(ctx context.Context, owner string, limit int) (SharedReceipts, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	out := SharedReceipts{Owner: owner, Receipts: []ReceiptRecord{}, Allocations: []ledger.Allocation{}}
	sites := s.sites(ctx)
	for _, step := range []string{"receiving", "accepting"} {
		recs, _, err := s.st.Walk(store.Scan{Index: store.IdxBizStep, Value: step, Desc: true, Limit: 20000}, func(r *store.EventRecord) bool {
			var ev struct {
				BizLocation struct {
					ID string `json:"id"`
				} `json:"bizLocation"`
			}
			if json.Unmarshal(r.Event, &ev) != nil || ev.BizLocation.ID == "" {
				return false
			}
			si, ok := sites[siteOf(ev.BizLocation.ID)]
			return ok && si.Org == owner
		})
		if err != nil {
			return out, errf(KindUnavailable, "cannot read events", "%w", err)
		}
		for _, r := range recs {
			var ev struct {
				BizLocation struct {
					ID string `json:"id"`
				} `json:"bizLocation"`
				EPCList     []string          `json:"epcList"`
				ChildEPCs   []string          `json:"childEPCs"`
				Quantity    []json.RawMessage `json:"quantityList"`
				Disposition string            `json:"disposition"`
			}
			_ = json.Unmarshal(r.Event, &ev)
			site := siteOf(ev.BizLocation.ID)
			out.Receipts = append(out.Receipts, ReceiptRecord{EventID: r.EventID, EventTime: r.EventTime, BizStep: r.BizStep, Site: site,
				SiteName: sites[site].Name, Objects: len(ev.EPCList) + len(ev.ChildEPCs) + len(ev.Quantity), Event: r.Event,
				Edge: r.Edge, Seq: r.Seq, Disposition: ev.Disposition})
		}
	}
	sort.SliceStable(out.Receipts, func(i, j int) bool { return out.Receipts[i].EventTime.After(out.Receipts[j].EventTime) })
	if len(out.Receipts) > limit {
		out.Receipts = out.Receipts[:limit]
	}
	if as, err := s.led.Allocations(ctx, s.cfg.Reader, owner); err == nil {
		for _, a := range as {
			if a.Hospital == owner && a.Status == ledger.AllocationReceived {
				out.Allocations = append(out.Allocations, a)
			}
		}
	}
	return out, nil
}

// LotSensors is a lot's sensor history while an organisation held it:
// every reading of a sensor the lot was exposed to, taken while the lot
// was at one of the owner's sites (or in transit from one).
type LotSensors struct {
	Owner    string                         `json:"owner"`
	GTIN     string                         `json:"gtin"`
	Lot      string                         `json:"lot"`
	Readings map[string][]coldchain.Reading `json:"readings"`
	Count    int                            `json:"count"`
}

// OwnedLotSensors reads a lot's sensor history while owner held it.
func (s *Service) OwnedLotSensors(ctx context.Context, owner, gtin, lot string) (LotSensors, error) {
	out := LotSensors{Owner: owner, GTIN: gtin, Lot: lot, Readings: map[string][]coldchain.Reading{}}
	x, err := s.lotExposure(gtin, lot)
	if err != nil {
		return out, errf(KindUnavailable, "cannot read the lot's exposure", "%w", err)
	}
	steps, _, err := s.LotCustody(ctx, gtin, lot)
	if err != nil {
		return out, err
	}
	holder := func(t time.Time) string {
		org := ""
		for _, st := range steps {
			if st.From.After(t) {
				break
			}
			if !st.InTransit && st.Org != "" {
				org = st.Org // in transit: still the consignor's
			}
		}
		return org
	}
	for sensor, rs := range x.Readings {
		for _, r := range rs {
			if holder(r.At) == owner {
				out.Readings[sensor] = append(out.Readings[sensor], r)
				out.Count++
			}
		}
	}
	return out, nil
}

// OwnedLotCustody is the part of a lot's custody timeline at owner's
// sites.
func (s *Service) OwnedLotCustody(ctx context.Context, owner, gtin, lot string) ([]CustodyStep, error) {
	steps, _, err := s.LotCustody(ctx, gtin, lot)
	if err != nil {
		return nil, err
	}
	out := []CustodyStep{}
	for _, st := range steps {
		if st.Org == owner {
			out = append(out, st)
		}
	}
	return out, nil
}
