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

	// Custody is the timeline of where it was and who held it.
	Custody []CustodyStep `json:"custody"`
	// Containers are the containers it sat in (serials and pallets).
	Containers []Containment `json:"containers,omitempty"`
	// Holdings are where a lot's packs are now (lots only).
	Holdings []Holding `json:"holdings,omitempty"`
	// Current is where a pack or pallet is now.
	Current *PackPosition `json:"current,omitempty"`
	// ColdChain is the lot's exposure, excursions and readings (for
	// products with a storage profile).
	ColdChain *ColdChainReport `json:"coldChain,omitempty"`
	// Suspects are the reasons to doubt this pack (or, for a lot, its
	// packs).
	Suspects []SuspectFlag `json:"suspects,omitempty"`
	// Recall is the regulator's recall of the lot.
	Recall *ledger.Recall `json:"recall,omitempty"`
}

// maxLotSuspectScan bounds the packs of a lot whose flags a passport reads.
const maxLotSuspectScan = 5000

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
	s.passportExtras(ctx, &p, sc)
	return p, nil
}

// passportExtras adds custody, holdings, the cold chain, suspect flags and
// the recall. Each part is best effort: a part that cannot be read is left
// out and logged, the rest of the passport still answers.
func (s *Service) passportExtras(ctx context.Context, p *Passport, sc store.Scan) {
	var err error
	switch p.Kind {
	case "lot":
		p.Custody, p.Containers, err = s.LotCustody(ctx, p.Link.GTIN, p.Link.Lot)
		if err == nil {
			var tr Trace
			if tr, err = s.TraceForward(ctx, p.Link.GTIN, p.Link.Lot, false); err == nil {
				p.Holdings = tr.Holdings
			}
		}
		// The lot's packs that raised a flag (the first few per reason).
		if ser, serr := s.st.SerialsOfLot(store.LotRef{GTIN: p.Link.GTIN, Lot: p.Link.Lot}, maxLotSuspectScan); serr == nil {
			perReason := map[string]int{}
			for _, id := range ser {
				fs, _ := s.Suspects(id)
				for _, f := range fs {
					if f.Reason == SuspectRecalled {
						continue // the lot's own recall says it
					}
					if perReason[f.Reason] < 20 {
						p.Suspects = append(p.Suspects, f)
					}
					perReason[f.Reason]++
				}
			}
		}
	case "serial", "sscc":
		p.Custody, p.Containers, err = s.Custody(ctx, sc.Value)
		if pos, perr := s.positions([]string{sc.Value}); perr == nil && len(pos) == 1 && pos[0].Seen {
			cur := pos[0]
			if si, ok := s.sites(ctx)[cur.Site]; ok {
				cur.Org = si.Org
			}
			p.Current = &cur
		}
		if p.Kind == "serial" {
			p.Suspects, _ = s.Suspects(sc.Value)
		}
	}
	if err != nil {
		s.log.Warn("passport custody", "link", p.Link.Path(), "err", err)
	}
	if p.Custody == nil {
		p.Custody = []CustodyStep{}
	}
	if p.Lot != nil {
		if p.Product != nil && p.Product.Profile != nil {
			if cc, err := s.ColdChain(ctx, p.Lot.GTIN, p.Lot.Lot, true); err == nil {
				p.ColdChain = &cc
			} else {
				s.log.Warn("passport cold chain", "link", p.Link.Path(), "err", err)
			}
		}
		if p.Lot.Status == ledger.LotRecalled {
			if r, err := s.led.Recall(ctx, s.cfg.Reader, p.Lot.GTIN, p.Lot.Lot); err == nil {
				p.Recall = &r
			}
			if p.Kind == "serial" && !hasReason(p.Suspects, SuspectRecalled) {
				p.Suspects = append(p.Suspects, SuspectFlag{EPC: sc.Value, Reason: SuspectRecalled, Detail: "lot " + p.Lot.Lot + " is recalled: " + p.Lot.StatusReason, At: p.Lot.StatusAt})
			}
		}
	} else if p.Kind == "serial" && p.Product != nil && !hasReason(p.Suspects, SuspectNotCommissioned) {
		// A serial of a known product with no lot was never commissioned.
		p.Suspects = append(p.Suspects, SuspectFlag{EPC: sc.Value, Reason: SuspectNotCommissioned, Detail: "serial never commissioned by the manufacturer of GTIN " + p.Link.GTIN})
	}
}

func hasReason(fs []SuspectFlag, r string) bool {
	for _, f := range fs {
		if f.Reason == r {
			return true
		}
	}
	return false
}

// serialID is the canonical (indexed) ID of a serialised pack.
func serialID(dl epc.DigitalLink) string {
	return CanonicalID(epc.DefaultDigitalLinkBase + epc.DigitalLink{GTIN: dl.GTIN, Serial: dl.Serial}.Path())
}
