package gateway

import (
	"context"
	"sort"
	"time"

	"github.com/tracegate/tracegate/gateway/store"
)

// PackPosition is where one pack is now: its own latest event or that of
// the container holding it, whichever is later.
type PackPosition struct {
	EPC         string    `json:"epc"`
	At          time.Time `json:"at"`
	Place       string    `json:"place,omitempty"`
	Site        string    `json:"site,omitempty"`
	Org         string    `json:"org,omitempty"`
	BizStep     string    `json:"bizStep,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
	Via         []string  `json:"via,omitempty"` // containers holding it now, innermost first
	InTransit   bool      `json:"inTransit,omitempty"`
	Dispensed   bool      `json:"dispensed,omitempty"`
	Seen        bool      `json:"seen"` // false: no event names it yet
}

// Holding is how many packs of a lot one site holds now.
type Holding struct {
	Site      string    `json:"site"`
	SiteName  string    `json:"siteName,omitempty"`
	Org       string    `json:"org,omitempty"`
	OrgName   string    `json:"orgName,omitempty"`
	Topic     string    `json:"topic,omitempty"`
	Packs     int       `json:"packs"`
	InTransit int       `json:"inTransit,omitempty"` // shipped from this site, not yet received
	Dispensed int       `json:"dispensed,omitempty"`
	Last      time.Time `json:"last"`
}

// Trace is a lot's trace forward: where all its packs are now and who
// holds them.
type Trace struct {
	GTIN      string         `json:"gtin"`
	Lot       string         `json:"lot"`
	Packs     int            `json:"packs"`
	Unseen    int            `json:"unseen"`
	Holdings  []Holding      `json:"holdings"`
	Positions []PackPosition `json:"positions,omitempty"`
	Took      string         `json:"took"`
}

// TraceForward finds where every pack of a lot is now. It reads the
// current state of each commissioned pack and of the containers holding
// it, so its cost grows with the lot's size, not with the events indexed.
func (s *Service) TraceForward(ctx context.Context, gtin, lot string, positions bool) (Trace, error) {
	start := time.Now()
	tr := Trace{GTIN: gtin, Lot: lot, Holdings: []Holding{}}
	serials, err := s.st.SerialsOfLot(store.LotRef{GTIN: gtin, Lot: lot}, 0)
	if err != nil {
		return tr, errf(KindUnavailable, "cannot read the lot's packs", "%w", err)
	}
	tr.Packs = len(serials)
	pos, err := s.positions(serials)
	if err != nil {
		return tr, err
	}
	sites := s.sites(ctx)
	by := map[string]*Holding{}
	for i := range pos {
		p := &pos[i]
		if !p.Seen {
			tr.Unseen++
			continue
		}
		if si, ok := sites[p.Site]; ok {
			p.Org = si.Org
		}
		h := by[p.Site]
		if h == nil {
			h = &Holding{Site: p.Site}
			if si, ok := sites[p.Site]; ok {
				h.SiteName, h.Org, h.OrgName, h.Topic = si.Name, si.Org, si.OrgName, si.Topic
			}
			by[p.Site] = h
		}
		h.Packs++
		if p.InTransit {
			h.InTransit++
		}
		if p.Dispensed {
			h.Dispensed++
		}
		if p.At.After(h.Last) {
			h.Last = p.At
		}
	}
	for _, h := range by {
		tr.Holdings = append(tr.Holdings, *h)
	}
	sort.Slice(tr.Holdings, func(i, j int) bool {
		if tr.Holdings[i].Packs != tr.Holdings[j].Packs {
			return tr.Holdings[i].Packs > tr.Holdings[j].Packs
		}
		return tr.Holdings[i].Site < tr.Holdings[j].Site
	})
	if positions {
		tr.Positions = pos
	}
	tr.Took = time.Since(start).String()
	return tr, nil
}

// positions resolves the current position of each pack through its
// containers.
func (s *Service) positions(ids []string) ([]PackPosition, error) {
	cur, err := s.st.CurrentMany(ids)
	if err != nil {
		return nil, errf(KindUnavailable, "cannot read current states", "%w", err)
	}
	// Resolve container chains level by level, reading each level in one
	// transaction.
	known := map[string]store.Current{}
	for k, v := range cur {
		known[k] = v
	}
	frontier := map[string]bool{}
	for _, c := range cur {
		if c.Parent != "" {
			frontier[c.Parent] = true
		}
	}
	for depth := 0; depth < maxNesting && len(frontier) > 0; depth++ {
		var want []string
		for p := range frontier {
			if _, ok := known[p]; !ok {
				want = append(want, p)
			}
		}
		got, err := s.st.CurrentMany(want)
		if err != nil {
			return nil, errf(KindUnavailable, "cannot read current states", "%w", err)
		}
		frontier = map[string]bool{}
		for k, v := range got {
			known[k] = v
			if v.Parent != "" {
				frontier[v.Parent] = true
			}
		}
	}
	out := make([]PackPosition, len(ids))
	for i, id := range ids {
		p := PackPosition{EPC: id}
		c, ok := known[id]
		if !ok {
			out[i] = p
			continue
		}
		p.Seen = true
		best := c
		seen := map[string]bool{id: true}
		for parent := c.Parent; parent != "" && !seen[parent]; {
			seen[parent] = true
			p.Via = append(p.Via, parent)
			pc, ok := known[parent]
			if !ok {
				break
			}
			if pc.At.After(best.At) && (pc.BizLocation != "" || pc.ReadPoint != "") {
				best = pc
			}
			parent = pc.Parent
		}
		p.At, p.BizStep, p.Disposition = best.At, best.BizStep, best.Disposition
		p.Place = best.BizLocation
		if p.Place == "" {
			p.Place = best.ReadPoint
		}
		if p.Place != "" {
			p.Site = siteOf(p.Place)
		}
		p.InTransit = best.Disposition == "in_transit"
		p.Dispensed = c.Disposition == "dispensed" || c.BizStep == "dispensing"
		out[i] = p
	}
	return out, nil
}

// TraceBack is an object's origin and every holder since, in order.
type TraceBack struct {
	ID          string        `json:"id"`
	Origin      *CustodyStep  `json:"origin,omitempty"`
	Holders     []string      `json:"holders"` // orgs, in the order they held it
	Steps       []CustodyStep `json:"steps"`
	Containers  []Containment `json:"containers,omitempty"`
	Current     *PackPosition `json:"current,omitempty"`
	Commissions int           `json:"commissions"`
}

// TraceBackOf returns where an object comes from and who held it.
func (s *Service) TraceBackOf(ctx context.Context, id string) (TraceBack, error) {
	id = CanonicalID(id)
	steps, spans, err := s.Custody(ctx, id)
	if err != nil {
		return TraceBack{}, err
	}
	tb := TraceBack{ID: id, Steps: steps, Containers: spans, Holders: []string{}}
	for i := range steps {
		if tb.Origin == nil && contains(steps[i].BizSteps, "commissioning") {
			st := steps[i]
			tb.Origin = &st
		}
		if o := steps[i].Org; o != "" && (len(tb.Holders) == 0 || tb.Holders[len(tb.Holders)-1] != o) {
			tb.Holders = append(tb.Holders, o)
		}
	}
	if pos, err := s.positions([]string{id}); err == nil && len(pos) == 1 && pos[0].Seen {
		p := pos[0]
		if si, ok := s.sites(ctx)[p.Site]; ok {
			p.Org = si.Org
		}
		tb.Current = &p
	}
	return tb, nil
}
