package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// Genuine or not: a pack is suspect when its serial was never commissioned
// by its manufacturer, when it is seen at two sites further apart than
// travel allows in the time between, or when its lot is recalled.

// Suspect reasons.
const (
	SuspectNotCommissioned  = "not-commissioned"
	SuspectImpossibleTravel = "impossible-travel"
	SuspectRecalled         = "recalled"
	// AnomalyUnpackedUnknown flags a container unpacked (an aggregation
	// DELETE) that no event ever packed: its contents' history is unknown.
	AnomalyUnpackedUnknown = "unpacked-never-packed"
)

// MaxTravelKmh is the fastest plausible movement of goods between sites
// (air freight, door to door, is far slower); MinTravelKm ignores sites
// closer than this (one city).
const (
	MaxTravelKmh = 900.0
	MinTravelKm  = 50.0
)

// SuspectFlag is one reason to doubt a pack.
type SuspectFlag struct {
	EPC     string    `json:"epc"`
	Reason  string    `json:"reason"`
	Detail  string    `json:"detail"`
	Site    string    `json:"site,omitempty"`
	EventID string    `json:"eventID,omitempty"`
	At      time.Time `json:"at"`
}

// isPack reports whether a canonical ID names a serialised trade item
// (an SGTIN), the thing that is commissioned one by one.
func isPack(id string) (gtin string, ok bool) {
	dl, err := epc.ParseDigitalLink(id)
	if err != nil || dl.GTIN == "" || dl.Serial == "" {
		return "", false
	}
	return dl.GTIN, true
}

// lotCache keeps lot records read from the ledger for a few seconds.
type lotCache struct {
	mu sync.Mutex
	m  map[store.LotRef]lotEntry
}

type lotEntry struct {
	lot   ledger.Lot
	found bool
	at    time.Time
}

const lotTTL = 2 * time.Second

func (s *Service) lotRecord(ctx context.Context, ref store.LotRef) (ledger.Lot, bool, error) {
	s.lots.mu.Lock()
	if s.lots.m == nil {
		s.lots.m = map[store.LotRef]lotEntry{}
	}
	e, ok := s.lots.m[ref]
	s.lots.mu.Unlock()
	if ok && time.Since(e.at) < lotTTL {
		return e.lot, e.found, nil
	}
	l, err := s.led.Lot(ctx, s.cfg.Reader, ref.GTIN, ref.Lot)
	found := err == nil
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return l, false, err
	}
	s.lots.mu.Lock()
	s.lots.m[ref] = lotEntry{lot: l, found: found, at: time.Now()}
	s.lots.mu.Unlock()
	return l, found, nil
}

func (s *Service) forgetLot(ref store.LotRef) {
	s.lots.mu.Lock()
	delete(s.lots.m, ref)
	s.lots.mu.Unlock()
}

// checkGenuine flags the packs named by newly indexed events.
func (s *Service) checkGenuine(ctx context.Context, evs []store.IndexedEvent) {
	sites := s.sites(ctx)
	for _, ev := range evs {
		if ev.Record.BizStep == "commissioning" {
			continue
		}
		place := ev.BizLocation
		if place == "" {
			place = ev.ReadPoint
		}
		site := ""
		if place != "" {
			site = siteOf(place)
		}
		var flags []SuspectFlag
		if a := ev.Aggregation; a != nil && a.Action == "DELETE" && !s.everPacked(a.Parent, ev.Record.EventTime) {
			flags = append(flags, SuspectFlag{EPC: a.Parent, Reason: AnomalyUnpackedUnknown, Site: site, EventID: ev.Record.EventID, At: ev.Record.EventTime,
				Detail: "unpacked, but no event ever packed it: what it held has no history here"})
		}
		for _, id := range ev.EPCs {
			gtin, ok := isPack(id)
			if !ok {
				continue
			}
			flags = append(flags, s.packFlags(ctx, sites, ev, id, gtin, site)...)
		}
		s.reportSuspects(ctx, ev, site, flags)
	}
}

func (s *Service) packFlags(ctx context.Context, sites map[string]SiteInfo, ev store.IndexedEvent, id, gtin, site string) []SuspectFlag {
	t := ev.Record.EventTime
	var out []SuspectFlag
	ref, err := s.st.LotOf(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, own := ev.Serials[id]; !own {
			out = append(out, SuspectFlag{EPC: id, Reason: SuspectNotCommissioned, Site: site, EventID: ev.Record.EventID, At: t,
				Detail: fmt.Sprintf("serial never commissioned by the manufacturer of GTIN %s", gtin)})
		}
	case err != nil:
		s.log.Warn("genuine check: read lot of pack", "epc", id, "err", err)
	default:
		if l, found, err := s.lotRecord(ctx, ref); err == nil && found && l.Status == "recalled" {
			out = append(out, SuspectFlag{EPC: id, Reason: SuspectRecalled, Site: site, EventID: ev.Record.EventID, At: t,
				Detail: fmt.Sprintf("lot %s is recalled: %s", ref.Lot, l.StatusReason)})
		}
	}
	if here, ok := sites[site]; ok {
		if f, bad := s.travelCheck(sites, id, here, ev); bad {
			out = append(out, f)
		}
	}
	return out
}

// travelCheck compares an event with the pack's other events within a day
// at other sites.
func (s *Service) travelCheck(sites map[string]SiteInfo, id string, here SiteInfo, ev store.IndexedEvent) (SuspectFlag, bool) {
	t := ev.Record.EventTime
	// The pack's own events and those of the containers it was in.
	hist, _, err := s.history(store.Scan{Index: store.IdxEPC, Value: id}, func(x string) bool { return x == id })
	if err != nil {
		return SuspectFlag{}, false
	}
	for _, h := range hist {
		r := h.Rec
		if r.EventID == ev.Record.EventID || absDur(t.Sub(r.EventTime)) > 24*time.Hour || r.BizStep == "sensor_reporting" || h.Unmapped {
			continue
		}
		other, ok := sites[siteOf(h.place())]
		if !ok || other.GLN == here.GLN {
			continue
		}
		km := distanceKm(here, other)
		if km < MinTravelKm {
			continue
		}
		hours := math.Abs(t.Sub(r.EventTime).Hours())
		if hours == 0 || km/hours > MaxTravelKmh {
			return SuspectFlag{EPC: id, Reason: SuspectImpossibleTravel, Site: here.GLN, EventID: ev.Record.EventID, At: t,
				Detail: fmt.Sprintf("seen at %s and at %s %s apart: %.0f km in %s is faster than %.0f km/h (a cloned serial?)",
					here.Name, other.Name, absDur(t.Sub(r.EventTime)).Round(time.Second), km, absDur(t.Sub(r.EventTime)).Round(time.Second), MaxTravelKmh)}, true
		}
	}
	return SuspectFlag{}, false
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// reportSuspects stores the flags and raises one alert per reason for the
// event, to the site's org and the regulators.
func (s *Service) reportSuspects(ctx context.Context, ev store.IndexedEvent, site string, flags []SuspectFlag) {
	if len(flags) == 0 {
		return
	}
	byReason := map[string][]SuspectFlag{}
	for _, f := range flags {
		b, _ := json.Marshal(f)
		if err := s.st.PutSuspect(f.EPC, f.Reason, f.EventID, f.At, b); err != nil {
			s.log.Error("store suspect flag", "epc", f.EPC, "err", err)
		}
		byReason[f.Reason] = append(byReason[f.Reason], f)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	regs := s.regulators(ctx)
	for _, r := range reasons {
		fs := byReason[r]
		epcs := make([]string, len(fs))
		for i, f := range fs {
			epcs[i] = f.EPC
		}
		title := map[string]string{
			SuspectNotCommissioned:  "Suspect packs: serials never commissioned",
			SuspectImpossibleTravel: "Suspect packs: seen at two places too far apart",
			SuspectRecalled:         "Recalled goods seen",
			AnomalyUnpackedUnknown:  "Unpacked a container that was never packed",
		}[r]
		s.raise(ctx, Alert{
			ID: "suspect/" + r + "/" + ev.Record.EventID, Kind: AlertSuspect, Severity: "critical",
			EventTime: ev.Record.EventTime, Site: site, Orgs: regs, EPC: fs[0].EPC,
			Title:   title,
			Message: fmt.Sprintf("%d packs: %s. %s", len(fs), strings.Join(firstN(epcs, 5), ", "), fs[0].Detail),
			Link:    passportLink(fs[0].EPC), Data: fs,
		})
	}
}

func firstN(ss []string, n int) []string {
	if len(ss) <= n {
		return ss
	}
	return append(append([]string{}, ss[:n]...), fmt.Sprintf("… (%d more)", len(ss)-n))
}

// passportLink is the portal path of a pack's passport.
func passportLink(id string) string {
	if dl, err := epc.ParseDigitalLink(id); err == nil {
		return dl.Path()
	}
	return ""
}

// regulators lists the consortium's regulator orgs.
func (s *Service) regulators(ctx context.Context) []string {
	orgs, err := s.led.Orgs(ctx, s.cfg.Reader)
	if err != nil {
		return nil
	}
	var out []string
	for _, o := range orgs {
		if o.Kind == ledger.OrgRegulator {
			out = append(out, o.ID)
		}
	}
	return out
}

// Suspects returns the flags raised for a pack.
func (s *Service) Suspects(id string) ([]SuspectFlag, error) {
	return decodeFlags(s.st.SuspectsOf(CanonicalID(id)))
}

// AllSuspects lists the newest suspect flags (the regulator's page).
func (s *Service) AllSuspects(limit int) ([]SuspectFlag, error) {
	return decodeFlags(s.st.RecentSuspects(limit))
}

// decodeFlags decodes stored flags; a flag that does not decode is left
// out (they are written by this package only).
func decodeFlags(raws []json.RawMessage, err error) ([]SuspectFlag, error) {
	if err != nil {
		return nil, errf(KindUnavailable, "cannot read suspect flags", "%w", err)
	}
	out := make([]SuspectFlag, 0, len(raws))
	for _, r := range raws {
		var f SuspectFlag
		if json.Unmarshal(r, &f) == nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// everPacked reports whether any aggregation event put something into
// parent before t.
func (s *Service) everPacked(parent string, t time.Time) bool {
	recs, _, err := s.st.Walk(store.Scan{Index: store.IdxEPC, Value: parent, To: t, Limit: 1}, func(r *store.EventRecord) bool {
		if r.Type != "AggregationEvent" {
			return false
		}
		h := toHistory(*r, "")
		return h.Agg != nil && h.Agg.Parent == parent && (h.Agg.Action == "ADD" || h.Agg.Action == "OBSERVE")
	})
	return err != nil || len(recs) > 0
}
