package gateway

import (
	"context"
	"sort"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway/store"
)

// Custody answers "where has it been and who held it" from the indexed
// events: an object's own events and, while it sat in a container (a case,
// a pallet, a truck), the container's events too: a pack inherits what its
// pallet went through.

// maxHistory bounds the events read for one object or container.
const maxHistory = 20000

// maxNesting bounds container nesting (pack → case → pallet → truck).
const maxNesting = 4

// historyEvent is one event in an object's history with what custody needs.
type historyEvent struct {
	Rec         store.EventRecord
	Via         string // the container it reached the object through ("" = itself)
	Action      string
	BizLocation string
	ReadPoint   string
	Disposition string
	Agg         *store.Aggregation
	Unmapped    bool
}

func (h historyEvent) place() string {
	if h.BizLocation != "" {
		return h.BizLocation
	}
	return h.ReadPoint
}

// Containment is a span of time an object sat in a container.
type Containment struct {
	Parent string    `json:"parent"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to,omitzero"` // zero: still inside
}

// history collects the events of the subject: scanned by sc (IdxEPC of an
// object or IdxLot of a lot), with member telling which aggregation
// children belong to the subject, plus the events of every container it
// sat in during its stay there (nested up to maxNesting).
func (s *Service) history(sc store.Scan, member func(string) bool) ([]historyEvent, []Containment, error) {
	sc.Limit = maxHistory
	recs, _, err := s.st.Walk(sc, nil)
	if err != nil {
		return nil, nil, err
	}
	out := make([]historyEvent, 0, len(recs))
	for _, r := range recs {
		out = append(out, toHistory(r, ""))
	}
	spans := containments(out, member)
	var all []Containment
	seen := map[string]bool{}
	for _, e := range out {
		seen[e.Rec.EventID] = true
	}
	var walk func(spans []Containment, depth int) error
	walk = func(spans []Containment, depth int) error {
		for _, c := range spans {
			if depth >= maxNesting {
				all = append(all, c)
				continue
			}
			crecs, _, err := s.st.Walk(store.Scan{Index: store.IdxEPC, Value: c.Parent, From: c.From, To: endOr(c.To), Limit: maxHistory}, nil)
			if err != nil {
				return err
			}
			var sub []historyEvent
			for _, r := range crecs {
				h := toHistory(r, c.Parent)
				// An empty DELETE by the container ends what it held.
				if h.Agg != nil && h.Agg.Parent == c.Parent && h.Agg.Action == "DELETE" && len(h.Agg.Children) == 0 && r.EventTime.After(c.From) {
					c.To = r.EventTime
					sub = append(sub, h)
					if !seen[r.EventID] {
						seen[r.EventID] = true
						out = append(out, h)
					}
					break
				}
				sub = append(sub, h)
				if !seen[r.EventID] {
					seen[r.EventID] = true
					out = append(out, h)
				}
			}
			all = append(all, c)
			// The container's own containers, while it held the subject.
			own := make([]historyEvent, len(sub))
			for i, h := range sub {
				h.Via = ""
				own[i] = h
			}
			inner := containments(own, func(id string) bool { return id == c.Parent })
			for i := range inner {
				if inner[i].From.Before(c.From) {
					inner[i].From = c.From
				}
				if !c.To.IsZero() && (inner[i].To.IsZero() || inner[i].To.After(c.To)) {
					inner[i].To = c.To
				}
			}
			if err := walk(inner, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(spans, 1); err != nil {
		return nil, nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rec.EventTime.Before(out[j].Rec.EventTime) })
	return out, all, nil
}

func endOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Add(time.Nanosecond)
}

// containments derives the spans a subject sat in containers from its
// aggregation events (sorted by time here). Each member child is tracked
// on its own: a container span opens when the first member enters it and
// closes when the last member leaves (unpacked, or packed elsewhere).
func containments(evs []historyEvent, member func(string) bool) []Containment {
	sorted := append([]historyEvent(nil), evs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Rec.EventTime.Before(sorted[j].Rec.EventTime) })
	parentOf := map[string]string{}
	count := map[string]int{}
	open := map[string]int{} // parent -> index in out
	var out []Containment
	leave := func(c, p string, t time.Time) {
		delete(parentOf, c)
		count[p]--
		if count[p] <= 0 {
			delete(count, p)
			if i, ok := open[p]; ok {
				out[i].To = t
				delete(open, p)
			}
		}
	}
	for _, e := range sorted {
		a := e.Agg
		if a == nil || e.Via != "" || member(a.Parent) {
			continue
		}
		t := e.Rec.EventTime
		switch a.Action {
		case "ADD", "OBSERVE":
			for _, c := range a.Children {
				if !member(c) || parentOf[c] == a.Parent {
					continue
				}
				if p, ok := parentOf[c]; ok {
					leave(c, p, t)
				}
				parentOf[c] = a.Parent
				count[a.Parent]++
				if _, ok := open[a.Parent]; !ok {
					open[a.Parent] = len(out)
					out = append(out, Containment{Parent: a.Parent, From: t})
				}
			}
		case "DELETE":
			kids := a.Children
			if len(kids) == 0 {
				for c, p := range parentOf {
					if p == a.Parent {
						kids = append(kids, c)
					}
				}
			}
			for _, c := range kids {
				if member(c) && parentOf[c] == a.Parent {
					leave(c, a.Parent, t)
				}
			}
		}
	}
	return out
}

func toHistory(r store.EventRecord, via string) historyEvent {
	h := historyEvent{Rec: r, Via: via}
	ev, err := parseEvent(r.Event)
	if err != nil {
		return h
	}
	h.Action, h.BizLocation, h.ReadPoint, h.Disposition = ev.Action(), ev.BizLocation(), ev.ReadPoint(), ev.Disposition()
	if u, ok := ev["tg:unmapped"].(bool); ok && u {
		h.Unmapped = true
	}
	if ev.Type() == "AggregationEvent" {
		if p, ok := ev["parentID"].(string); ok && p != "" {
			a := &store.Aggregation{Action: ev.Action(), Parent: CanonicalID(p)}
			if kids, ok := ev["childEPCs"].([]any); ok {
				for _, k := range kids {
					if ks, ok := k.(string); ok {
						a.Children = append(a.Children, CanonicalID(ks))
					}
				}
			}
			h.Agg = a
		}
	}
	return h
}

// CustodyStep is a stretch of an object's (or a lot's) life at one site,
// or in transit between sites.
type CustodyStep struct {
	Site      string    `json:"site,omitempty"` // GLN
	SiteName  string    `json:"siteName,omitempty"`
	Org       string    `json:"org,omitempty"`
	OrgName   string    `json:"orgName,omitempty"`
	Places    []string  `json:"places,omitempty"` // locations seen at the site, in order
	From      time.Time `json:"from"`
	To        time.Time `json:"to"` // time of its last event
	BizSteps  []string  `json:"bizSteps,omitempty"`
	Events    int       `json:"events"`
	EventIDs  []string  `json:"eventIDs,omitempty"` // the first few
	Via       []string  `json:"via,omitempty"`      // containers it was observed through
	InTransit bool      `json:"inTransit,omitempty"`
	Unmapped  bool      `json:"unmapped,omitempty"` // seen by a device with no location mapping
	Late      int       `json:"late,omitempty"`     // events recorded more than LateAfter after they happened
	// Suspect counts its events that raised a suspect flag (a cloned
	// serial seen where it cannot be): shown, never silently mixed in.
	Suspect        int      `json:"suspect,omitempty"`
	SuspectReasons []string `json:"suspectReasons,omitempty"`
}

// LateAfter is how long after it happened an event counts as late.
const LateAfter = time.Hour

// siteOf returns the GLN of a location (an SGLN URI); other locations are
// their own site.
func siteOf(loc string) string {
	if e, err := epc.ParseURI(loc); err == nil {
		if g, err := e.GLN(); err == nil {
			return g
		}
	}
	return loc
}

// steps groups a history into custody steps: consecutive events at one
// site are one step. When a step's latest event sent the goods on their
// way (disposition in_transit) and the next event is at another site, a
// transit step sits between the two; a departure followed by more events
// at the same site (a pack read at the dock door after its pallet) stays
// in the site's step.
func (s *Service) steps(ctx context.Context, h []historyEvent) []CustodyStep {
	sites := s.sites(ctx)
	ids := make([]string, len(h))
	for i, e := range h {
		ids[i] = e.Rec.EventID
	}
	flagged, _ := s.st.SuspectEvents(ids)
	var out []CustodyStep
	var cur *CustodyStep
	var shipped bool
	var shippedAt time.Time
	for _, e := range h {
		place := e.place()
		site := ""
		if place != "" && !e.Unmapped {
			site = siteOf(place)
		}
		if cur == nil || (site != "" && site != cur.Site) {
			if cur != nil && shipped {
				out = append(out, CustodyStep{From: shippedAt, To: e.Rec.EventTime, InTransit: true})
			}
			out = append(out, CustodyStep{Site: site, From: e.Rec.EventTime})
			cur = &out[len(out)-1]
			if si, ok := sites[site]; ok {
				cur.SiteName, cur.Org, cur.OrgName = si.Name, si.Org, si.OrgName
			}
			shipped = false
		}
		cur.To = e.Rec.EventTime
		cur.Events++
		if len(cur.EventIDs) < 5 {
			cur.EventIDs = append(cur.EventIDs, e.Rec.EventID)
		}
		if e.Unmapped {
			cur.Unmapped = true
		}
		if r, ok := flagged[e.Rec.EventID]; ok {
			cur.Suspect++
			if !contains(cur.SuspectReasons, r) {
				cur.SuspectReasons = append(cur.SuspectReasons, r)
			}
		}
		if e.Rec.RecordTime.Sub(e.Rec.EventTime) > LateAfter {
			cur.Late++
		}
		if place != "" && !contains(cur.Places, place) && len(cur.Places) < 20 {
			cur.Places = append(cur.Places, place)
		}
		if b := e.Rec.BizStep; b != "" && !contains(cur.BizSteps, b) && len(cur.BizSteps) < 20 {
			cur.BizSteps = append(cur.BizSteps, b)
		}
		if e.Via != "" && !contains(cur.Via, e.Via) && len(cur.Via) < 20 {
			cur.Via = append(cur.Via, e.Via)
		}
		if e.Disposition == "in_transit" || e.Rec.BizStep == "departing" {
			shipped, shippedAt = true, e.Rec.EventTime
		} else if site != "" {
			shipped = false
		}
	}
	if cur != nil && shipped {
		out = append(out, CustodyStep{From: shippedAt, To: shippedAt, InTransit: true})
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Custody returns the custody timeline of an object named by a canonical
// ID (GS1 Digital Link URI) or an EPC URI.
func (s *Service) Custody(ctx context.Context, id string) ([]CustodyStep, []Containment, error) {
	id = CanonicalID(id)
	h, spans, err := s.history(store.Scan{Index: store.IdxEPC, Value: id}, func(x string) bool { return x == id })
	if err != nil {
		return nil, nil, errf(KindUnavailable, "cannot read events", "%w", err)
	}
	return s.steps(ctx, withoutSensorNoise(h)), spans, nil
}

// LotCustody returns the custody timeline of a lot: the events of its
// packs and of the containers that held them.
func (s *Service) LotCustody(ctx context.Context, gtin, lot string) ([]CustodyStep, []Containment, error) {
	h, spans, err := s.lotHistory(gtin, lot)
	if err != nil {
		return nil, nil, err
	}
	return s.steps(ctx, withoutSensorNoise(h)), spans, nil
}

func (s *Service) lotHistory(gtin, lot string) ([]historyEvent, []Containment, error) {
	ref := store.LotRef{GTIN: gtin, Lot: lot}
	members := map[string]bool{}
	if ser, err := s.st.SerialsOfLot(ref, 0); err == nil {
		for _, x := range ser {
			members[x] = true
		}
	}
	h, spans, err := s.history(store.Scan{Index: store.IdxLot, Value: store.LotIndexValue(ref)}, func(x string) bool { return members[x] })
	if err != nil {
		return nil, nil, errf(KindUnavailable, "cannot read events", "%w", err)
	}
	return h, spans, nil
}

// withoutSensorNoise drops sensor readings reached through containers:
// they belong on the temperature chart, not in the custody timeline.
func withoutSensorNoise(h []historyEvent) []historyEvent {
	out := h[:0:0]
	for _, e := range h {
		if e.Rec.BizStep == "sensor_reporting" {
			continue
		}
		out = append(out, e)
	}
	return out
}
