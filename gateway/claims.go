package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// Automatic cold-chain claims: when an excursion is recorded on the
// ledger, the gateway looks for active policies insuring the lot (as the
// lot's owner and as the org that recorded the excursion, the likely
// insured parties, with the identities it holds) and opens a claim against
// each, with the excursion and its proofs as evidence. The contract decides
// whether the policy covers it (scope, validity, the threshold of its
// terms) and refuses a second claim for the same excursion, so replaying
// the ledger's events opens nothing twice.

// AlertClaimOpened is the alert kind of an automatic claim.
const AlertClaimOpened = "claim-opened"

func (s *Service) openColdChainClaims(ctx context.Context, x ledger.Excursion) error {
	lot, found, err := s.lotRecord(ctx, lotRefOf(x))
	if err != nil {
		return err
	}
	parties := []string{x.Org}
	if found && lot.Org != x.Org {
		parties = append(parties, lot.Org)
	}
	for _, org := range parties {
		id := ledger.Identity{Org: org, User: s.cfg.AnchorUser}
		pols, err := s.led.Policies(ctx, id, ledger.ByInsured, org)
		if err != nil {
			if errors.Is(err, ledger.ErrForbidden) || errors.Is(err, ledger.ErrNotFound) || errors.Is(err, ledger.ErrInvalid) {
				continue // this gateway cannot act as that org
			}
			return err
		}
		for _, p := range pols {
			if p.Status != ledger.PolicyActive || p.Terms.ColdChain == nil || !covers(p, x) {
				continue
			}
			c, _, err := s.led.OpenClaim(ctx, id, ledger.Claim{Policy: p.ID, Kind: ledger.ClaimColdChain, Excursion: x.ID})
			switch {
			case errors.Is(err, ledger.ErrConflict):
				continue // claimed already (a replay, or the lot was paid)
			case errors.Is(err, ledger.ErrInvalid) || errors.Is(err, ledger.ErrForbidden):
				s.log.Info("cold-chain claim not opened", "policy", p.ID, "excursion", x.ID, "why", err)
				continue
			case err != nil:
				return err
			}
			s.raise(ctx, Alert{
				ID: "claim/" + c.ID, Kind: AlertClaimOpened, Severity: "warning", EventTime: x.Start,
				Orgs: []string{p.Insured, p.Insurer}, GTIN: x.GTIN, Lot: x.Lot, Sensor: x.Sensor,
				Title:   fmt.Sprintf("Cold-chain claim opened: lot %s", x.Lot),
				Message: fmt.Sprintf("Policy %s pays %d (minor units of %s) when a covered lot spends more than %.0f min out of range; excursion %s (%.0f min, cumulative %.0f min) is the evidence. The insurer assesses it.", p.ID, c.Amount, c.Currency, p.Terms.ColdChain.MaxOutOfRangeMin, x.ID, x.DurationMin, x.CumulativeMin),
				Link:    "/01/" + x.GTIN + "/10/" + x.Lot, Data: c,
			})
		}
	}
	return nil
}

// covers reports whether a policy's scope names the excursion's lot or
// the shipment it was measured in (the contract checks again).
func covers(p ledger.Policy, x ledger.Excursion) bool {
	for _, l := range p.Scope.Lots {
		if l.GTIN == x.GTIN && l.Lot == x.Lot {
			return true
		}
	}
	for _, sh := range p.Scope.Shipments {
		if sh == x.Location {
			return true
		}
	}
	return false
}

func onExcursionRecorded(s *Service, ctx context.Context, payload []byte) error {
	var x ledger.Excursion
	if err := json.Unmarshal(payload, &x); err != nil {
		s.log.Error("malformed ExcursionRecorded payload", "err", err)
		return nil
	}
	err := s.openColdChainClaims(ctx, x)
	if err != nil && !errors.Is(err, ledger.ErrUnavailable) && ctx.Err() == nil {
		// Not worth holding the event stream (recalls) for: say so, go on.
		s.log.Error("cold-chain claims for an excursion", "excursion", x.ID, "err", err)
		s.m.alertErrors.WithLabelValues("claim").Inc()
		return nil
	}
	return err // retried from the checkpoint when the ledger is back
}

func lotRefOf(x ledger.Excursion) store.LotRef { return store.LotRef{GTIN: x.GTIN, Lot: x.Lot} }
