package gateway

import (
	"context"
	"errors"
	"sort"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// PassportEvent is one event on a product passport with its proof state.
type PassportEvent struct {
	Record store.EventRecord   `json:"record"`
	State  VerificationState   `json:"state"`
	Anchor *store.AnchorRecord `json:"anchor,omitempty"`
	Reason string              `json:"reason,omitempty"`
}

// Passport is what tracegate knows and can prove about a lot, a pack or a
// pallet named by a GS1 Digital Link.
type Passport struct {
	Link         epc.DigitalLink `json:"link"`
	Kind         string          `json:"kind"` // "lot", "serial", "sscc", "product"
	Product      *ledger.Product `json:"product,omitempty"`
	Manufacturer *ledger.Org     `json:"manufacturer,omitempty"`
	Lot          *ledger.Lot     `json:"lot,omitempty"`
	Status       string          `json:"status"`
	Events       []PassportEvent `json:"events"`
	Proven       int             `json:"proven"`
	Pending      int             `json:"pending"`
	Failed       int             `json:"failed"`
	Serials      int             `json:"serials,omitempty"`
	Truncated    bool            `json:"truncated,omitempty"`
}

// PassportLimit bounds the events on one passport page.
const PassportLimit = 500

// Passport assembles a product passport for a Digital Link.
func (s *Service) Passport(ctx context.Context, dl epc.DigitalLink) (Passport, error) {
	p := Passport{Link: dl, Status: "unknown", Events: []PassportEvent{}}
	var sc store.Scan
	switch {
	case dl.SSCC != "":
		p.Kind = "sscc"
		sc = store.Scan{Index: store.IdxEPC, Value: CanonicalID(epc.DefaultDigitalLinkBase + epc.DigitalLink{SSCC: dl.SSCC}.Path())}
	case dl.GTIN != "" && dl.Serial != "":
		p.Kind = "serial"
		sc = store.Scan{Index: store.IdxEPC, Value: serialID(dl)}
	case dl.GTIN != "" && dl.Lot != "":
		p.Kind = "lot"
		sc = store.Scan{Index: store.IdxLot, Value: store.LotIndexValue(store.LotRef{GTIN: dl.GTIN, Lot: dl.Lot})}
	case dl.GTIN != "":
		p.Kind = "product"
	default:
		return p, errf(KindInvalid, "unsupported Digital Link", "this resolver serves /01/{gtin}[/10/{lot}][/21/{serial}] and /00/{sscc}")
	}
	if dl.GTIN != "" {
		prod, err := s.led.Product(ctx, s.cfg.Reader, dl.GTIN)
		switch {
		case err == nil:
			p.Product = &prod
			if org, err := s.led.Org(ctx, s.cfg.Reader, prod.Org); err == nil {
				p.Manufacturer = &org
			}
		case !errors.Is(err, ledger.ErrNotFound):
			return p, fromLedger("cannot read the product from the ledger", err)
		}
		lotID := dl.Lot
		if lotID == "" && dl.Serial != "" {
			if l, err := s.st.LotOf(serialID(dl)); err == nil {
				lotID = l.Lot
			}
		}
		if lotID != "" {
			if lot, err := s.led.Lot(ctx, s.cfg.Reader, dl.GTIN, lotID); err == nil {
				p.Lot = &lot
				p.Status = lot.Status
			} else if !errors.Is(err, ledger.ErrNotFound) {
				return p, fromLedger("cannot read the lot from the ledger", err)
			}
		} else if p.Product != nil {
			p.Status = ledger.LotOK
		}
		if p.Kind == "lot" {
			if ser, err := s.st.SerialsOfLot(store.LotRef{GTIN: dl.GTIN, Lot: dl.Lot}, 0); err == nil {
				p.Serials = len(ser)
			}
		}
	}
	if sc.Index == "" {
		if p.Product == nil {
			return p, errf(KindNotFound, "nothing known", "tracegate knows no product %s", dl.GTIN)
		}
		return p, nil
	}
	sc.Limit = PassportLimit
	recs, next, err := s.st.Walk(sc, nil)
	if err != nil {
		return p, errf(KindUnavailable, "cannot read events", "%w", err)
	}
	p.Truncated = next != nil
	for _, r := range recs {
		st, a, why := s.EventState(r)
		p.Events = append(p.Events, PassportEvent{Record: r, State: st, Anchor: a, Reason: why})
		switch st {
		case StateProven:
			p.Proven++
		case StatePending:
			p.Pending++
		case StateFailed:
			p.Failed++
		}
	}
	sort.SliceStable(p.Events, func(i, j int) bool { return p.Events[i].Record.EventTime.Before(p.Events[j].Record.EventTime) })
	if p.Product == nil && len(p.Events) == 0 {
		return p, errf(KindNotFound, "nothing known", "tracegate knows no product, lot or event for %s", dl.Path())
	}
	return p, nil
}

// serialID is the canonical (indexed) ID of a serialised pack.
func serialID(dl epc.DigitalLink) string {
	return CanonicalID(epc.DefaultDigitalLinkBase + epc.DigitalLink{GTIN: dl.GTIN, Serial: dl.Serial}.Path())
}
