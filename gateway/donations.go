package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// Donation receipts: a charity ships an allocation as traced pallets and
// lots; the hospital's receiving scan (an EPCIS receiving event at one of
// its sites, from a dock reader or a handheld) is what the hospital
// confirms. ScanReceipt reads what the scans say arrived, so the hospital
// confirms the counted quantity and any shortfall is plain.

// PalletScan is one shipped pallet as the hospital's scans saw it.
type PalletScan struct {
	ID       string    `json:"id"` // as shipped (an SSCC EPC URI)
	Received bool      `json:"received"`
	At       time.Time `json:"at,omitzero"`
	Site     string    `json:"site,omitempty"`
	SiteName string    `json:"siteName,omitempty"`
	BizStep  string    `json:"bizStep,omitempty"`
}

// ReceiptScan is what the receiving hospital's scans show of a shipped
// allocation.
type ReceiptScan struct {
	Allocation string       `json:"allocation"`
	Hospital   string       `json:"hospital"`
	Shipped    int          `json:"shipped"`
	Pallets    []PalletScan `json:"pallets"`
	// Packs is how many packs of the shipment are at the hospital's
	// sites now (at most Shipped). Scans are not compared with the
	// shipment's ledger time: devices report when goods moved, the
	// charity may record the shipment later.
	Packs int       `json:"packs"`
	Last  time.Time `json:"last,omitzero"` // the latest receiving scan
}

// ScanReceipt reads the receiving scans of a shipped allocation.
func (s *Service) ScanReceipt(ctx context.Context, a ledger.Allocation) (ReceiptScan, error) {
	rs := ReceiptScan{Allocation: a.ID, Hospital: a.Hospital, Pallets: []PalletScan{}}
	if a.Shipment == nil {
		return rs, nil
	}
	rs.Shipped = a.Shipment.Quantity
	sites := s.sites(ctx)
	atHospital := func(site string) bool { si, ok := sites[site]; return ok && si.Org == a.Hospital }
	pallets := map[string]bool{}
	for _, p := range a.Shipment.Pallets {
		id := CanonicalID(p)
		pallets[id] = true
		ps := PalletScan{ID: p}
		if c, err := s.st.Current(id); err == nil {
			place := c.BizLocation
			if place == "" {
				place = c.ReadPoint
			}
			site := siteOf(place)
			if atHospital(site) {
				ps.Received, ps.At, ps.Site, ps.SiteName, ps.BizStep = true, c.At, site, sites[site].Name, c.BizStep
				if c.At.After(rs.Last) {
					rs.Last = c.At
				}
			}
		}
		rs.Pallets = append(rs.Pallets, ps)
	}
	// The shipment's packs: those of its lots, else those inside its
	// pallets now.
	var ids []string
	for _, l := range a.Shipment.Lots {
		ser, err := s.st.SerialsOfLot(store.LotRef{GTIN: l.GTIN, Lot: l.Lot}, 0)
		if err != nil {
			return rs, errf(KindUnavailable, "cannot read the lot's packs", "%w", err)
		}
		ids = append(ids, ser...)
	}
	if len(a.Shipment.Lots) == 0 {
		frontier := make([]string, 0, len(pallets))
		for p := range pallets {
			frontier = append(frontier, p)
		}
		for depth := 0; depth < maxNesting && len(frontier) > 0; depth++ {
			var next []string
			for _, p := range frontier {
				kids, err := s.st.Children(p)
				if err != nil {
					return rs, errf(KindUnavailable, "cannot read containment", "%w", err)
				}
				if len(kids) == 0 && !pallets[p] {
					ids = append(ids, p)
				}
				next = append(next, kids...)
			}
			frontier = next
		}
		ids = append(ids, frontier...)
	}
	pos, err := s.positions(ids)
	if err != nil {
		return rs, err
	}
	for _, p := range pos {
		if !p.Seen || !atHospital(p.Site) {
			continue
		}
		rs.Packs++
		if p.At.After(rs.Last) {
			rs.Last = p.At
		}
	}
	if rs.Packs > rs.Shipped && rs.Shipped > 0 {
		rs.Packs = rs.Shipped
	}
	return rs, nil
}

// AlertDeliveryReceived is the alert kind of a donated delivery closed by
// its receiving scans.
const AlertDeliveryReceived = "delivery-received"

// closeScannedDeliveries: receiving events at a hospital's site close the
// shipped allocations to that hospital whose scans now count everything
// shipped (every pallet received, every unit at the hospital): the
// receiving event is the hospital's confirmation, signed as the hospital
// when this gateway can act for it. A delivery that arrives short is left
// for the hospital's receiver to confirm, with the shortfall, on its page.
func (s *Service) closeScannedDeliveries(ctx context.Context, evs []store.IndexedEvent) {
	sites := s.sites(ctx)
	hospitals := map[string]string{} // org -> a receiving event's ID
	for _, ev := range evs {
		if ev.Record.BizStep != "receiving" && ev.Record.BizStep != "accepting" {
			continue
		}
		place := ev.BizLocation
		if place == "" {
			place = ev.ReadPoint
		}
		if si, ok := sites[siteOf(place)]; ok && si.Org != "" {
			hospitals[si.Org] = ev.Record.EventID
		}
	}
	for org, eventID := range hospitals {
		as, err := s.led.Allocations(ctx, s.cfg.Reader, org)
		if err != nil {
			s.log.Warn("donations: cannot list allocations", "org", org, "err", err)
			continue
		}
		for _, a := range as {
			if a.Hospital != org || a.Status != ledger.AllocationShipped || a.Shipment == nil {
				continue
			}
			rs, err := s.ScanReceipt(ctx, a)
			if err != nil || rs.Packs < rs.Shipped || rs.Shipped == 0 {
				continue
			}
			all := true
			for _, p := range rs.Pallets {
				all = all && p.Received
			}
			if !all {
				continue
			}
			note := fmt.Sprintf("closed by the receiving scans: %d of %d units and every pallet counted at the hospital (event %s)", rs.Packs, rs.Shipped, eventID)
			got, _, err := s.led.ConfirmAllocationReceipt(ctx, ledger.Identity{Org: org, User: s.cfg.AnchorUser}, a.ID, rs.Packs, note)
			switch {
			case err == nil:
				s.log.Info("donated delivery closed by its receiving scans", "allocation", a.ID, "hospital", org, "received", got.Received, "tx", got.ReceiptTxID)
				s.raise(ctx, Alert{ID: AlertDeliveryReceived + "/" + a.ID, Kind: AlertDeliveryReceived, Severity: "info", Orgs: []string{org, a.Charity},
					Title: "Donated delivery received in full", Link: "/donations/allocations/" + a.ID,
					Message: fmt.Sprintf("%d × %s from %s: every pallet and unit scanned in; the allocation is closed on the ledger.", got.Received, a.Item.Name, a.Charity)})
			case errors.Is(err, ledger.ErrConflict):
				// Confirmed meanwhile (by the hospital, or another gateway).
			case errors.Is(err, ledger.ErrForbidden) || errors.Is(err, ledger.ErrNotFound):
				// This gateway cannot act for the hospital: its receiver
				// confirms on the portal.
			default:
				s.log.Warn("donations: closing a scanned delivery failed; the hospital can confirm it on its page", "allocation", a.ID, "err", err)
			}
		}
	}
}
