package web

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/coldchain"
	"github.com/tracegate/tracegate/ledger"
)

// The passport's custody, holdings, cold-chain, suspect and recall parts,
// as the page shows them.

// suspectView is one reason to doubt a pack.
type suspectView struct {
	Reason string // "Never commissioned", …
	Detail string
	When   string
	Where  string
	Link   string
}

var suspectLabels = map[string]string{
	gateway.SuspectNotCommissioned:  "Never commissioned",
	gateway.SuspectImpossibleTravel: "Impossible travel (a cloned serial?)",
	gateway.SuspectRecalled:         "Recalled lot",
	gateway.AnomalyUnpackedUnknown:  "Unpacked, but never packed",
}

// recallView is a lot's recall.
type recallView struct {
	Class, Reason, By, Org, When, TxID string
	ClassNote                          string
}

var recallClassNotes = map[string]string{
	"I":   "Class I: using it may cause serious harm.",
	"II":  "Class II: using it may cause temporary or reversible harm.",
	"III": "Class III: unlikely to cause harm, but it breaks the rules it must meet.",
}

// custodyView is one step of the custody timeline.
type custodyView struct {
	Title     string // the site, or "In transit"
	Org       string
	When      string
	From, To  time.Time
	Steps     []string
	Places    []string
	Via       []string
	ViaText   string // "In shipping unit … inside asset …"
	Events    int
	InTransit bool
	Late      int
	Unmapped  bool
	Suspect   int
	Reasons   []string
	Icon      string
	Last      bool
}

// holdingView is where some of a lot's packs are now.
type holdingView struct {
	Site, Org                  string
	Packs, InTransit, Dispense int
	Last                       string
}

// currentView is where a pack or pallet is now.
type currentView struct {
	Where, Org, When, Step string
	Via                    []string
	InTransit, Dispensed   bool
}

// excursionView is one excursion in the list.
type excursionView struct {
	ID, Kind, Sensor, Where string
	Start, End, Duration    string
	StartT                  time.Time
	Peak, Limit, MKT        string
	Recorded                bool
	TxID, TxURL, RecordedAt string
	RecordedBy              string
	Breach                  bool
	BreachReason            string
	Cumulative              string
	Open                    bool
}

// coldView is the cold-chain part of the passport.
type coldView struct {
	Charts     []*chartBlock
	Excursions []excursionView
	Recorded   int
	Pending    int
	Sensors    int
	MKT        string
	Min, Max   string
	OutOfRange string
	Breach     bool
	Reasons    []string
	Profile    string
	Stays      int
}

var excursionKindLabels = map[string]string{
	ledger.ExcursionTempHigh:     "Too warm",
	ledger.ExcursionTempLow:      "Too cold",
	ledger.ExcursionHumidityHigh: "Too humid",
}

func unitLabel(u string) string {
	if u == ledger.UnitPercentRH {
		return "%RH"
	}
	return "°C"
}

// fmtDuration renders a duration for people: "2 h 30 min", "45 min".
func fmtDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	m := int(math.Round(d.Minutes()))
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	if m%60 == 0 {
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// fmtSpan renders a time range compactly.
func fmtSpan(from, to time.Time) string {
	if to.IsZero() || to.Equal(from) {
		return fmtTime(from)
	}
	f, t := from.UTC(), to.UTC()
	if f.Format("2006-01-02") == t.Format("2006-01-02") {
		return f.Format("2 Jan 2006, 15:04") + "–" + t.Format("15:04 UTC")
	}
	return f.Format("2 Jan, 15:04") + " – " + t.Format("2 Jan 2006, 15:04 UTC")
}

// siteName returns the name of a site (a GLN) in the ledger's site
// directory, "" when it is not registered. The directory is cached for a
// minute.
func (a *App) siteName(ctx context.Context, gln string) string {
	a.siteMu.Lock()
	defer a.siteMu.Unlock()
	if a.siteNames == nil || time.Since(a.siteAt) > nameCacheTTL {
		list, err := a.svc.Ledger().Sites(ctx, a.svc.Config().Reader, "")
		if err == nil {
			a.siteNames = map[string]string{}
			for _, s := range list {
				a.siteNames[s.GLN] = s.Name
				for _, l := range s.Locations {
					if l.Name != "" {
						a.siteNames[l.ID] = l.Name
						a.siteNames[gateway.CanonicalID(l.ID)] = l.Name
					}
				}
			}
			a.siteAt = time.Now()
		} else if a.siteNames == nil {
			return ""
		}
	}
	return a.siteNames[gln]
}

// placeLabel names a location for people: the portal's configured
// name, else the site directory's name of the sub-location (or of the
// site, for its main location), else what the namer makes of it.
func (a *App) placeLabel(ctx context.Context, id string) string {
	if n, ok := a.names.places[id]; ok {
		return n
	}
	if n := a.siteName(ctx, id); n != "" {
		return n
	}
	if e, err := epc.ParseURI(id); err == nil && e.Scheme == epc.SGLN && (e.Serial == "" || e.Serial == "0") {
		if g, err := e.GLN(); err == nil {
			if n := a.siteName(ctx, g); n != "" {
				return n
			}
		}
	}
	return a.names.place(ctx, id)
}

// siteLabel names a site (a GLN or a location) for people.
func (a *App) siteLabel(ctx context.Context, name, site string, places []string) string {
	if name != "" {
		return name
	}
	if n := a.siteName(ctx, site); n != "" {
		return n
	}
	if len(places) > 0 {
		return a.placeLabel(ctx, places[0])
	}
	if site == "" {
		return "Unknown place"
	}
	if _, err := epc.ParseURI(site); err == nil {
		return a.placeLabel(ctx, site)
	}
	if o := a.names.orgOfGLN(ctx, site); o != nil {
		return o.Name + " (GLN " + site + ")"
	}
	return "GLN " + site
}

// orgLabel names an organisation.
func (a *App) orgLabel(ctx context.Context, id, name string) string {
	if name != "" {
		return name
	}
	if id == "" {
		return ""
	}
	if o := a.names.org(ctx, id); o != nil {
		return o.Name
	}
	return id
}

// containerLabel names a container for the timeline: "shipping unit …",
// "asset …" (a vehicle or a returnable container with a GIAI or GRAI).
func (a *App) containerLabel(ctx context.Context, id string) string {
	if dl, err := epc.ParseDigitalLink(id); err == nil {
		switch {
		case dl.GIAI != "":
			return "asset " + dl.GIAI
		case dl.GRAI != "":
			return "returnable asset " + dl.GRAI
		}
	}
	l := a.names.identify(ctx, id).Label
	if strings.HasPrefix(l, "Shipping unit (SSCC) ") {
		return "shipping unit " + strings.TrimPrefix(l, "Shipping unit (SSCC) ")
	}
	if strings.HasPrefix(id, "urn:epc:id:giai:") {
		return "asset " + strings.TrimPrefix(id, "urn:epc:id:giai:")
	}
	return lowerFirst(l)
}

func (a *App) custodyViews(ctx context.Context, steps []gateway.CustodyStep, spans []gateway.Containment) []custodyView {
	out := make([]custodyView, 0, len(steps))
	for _, s := range steps {
		cv := custodyView{From: s.From, To: s.To, When: fmtSpan(s.From, s.To), Events: s.Events, InTransit: s.InTransit,
			Late: s.Late, Unmapped: s.Unmapped, Suspect: s.Suspect, Icon: "shelf"}
		for _, r := range s.SuspectReasons {
			if l := suspectLabels[r]; l != "" {
				r = l
			}
			cv.Reasons = append(cv.Reasons, strings.ToLower(r[:1])+r[1:])
		}
		if s.InTransit {
			cv.Title, cv.Icon = "In transit", "truck"
		} else {
			cv.Title = a.siteLabel(ctx, s.SiteName, s.Site, s.Places)
			cv.Org = a.orgLabel(ctx, s.Org, s.OrgName)
		}
		for _, b := range s.BizSteps {
			l := stepLabels[b]
			if l == "" {
				l = strings.ReplaceAll(b, "_", " ")
			}
			cv.Steps = append(cv.Steps, l)
			switch b {
			case "commissioning":
				cv.Icon = "factory"
			case "dispensing":
				cv.Icon = "hand"
			}
		}
		seen := map[string]bool{cv.Title: true}
		for _, p := range s.Places {
			n := a.placeLabel(ctx, p)
			if !seen[n] && len(cv.Places) < 6 {
				seen[n] = true
				cv.Places = append(cv.Places, n)
			}
		}
		via := s.Via
		if s.InTransit && len(via) == 0 {
			// What carried it: the containers it sat in during the leg,
			// outermost (the truck) first.
			for i := len(spans) - 1; i >= 0; i-- {
				c := spans[i]
				if !c.From.After(s.To) && (c.To.IsZero() || c.To.After(s.From)) && !contains(via, c.Parent) {
					via = append(via, c.Parent)
				}
			}
		}
		for _, v := range via {
			cv.Via = append(cv.Via, a.containerLabel(ctx, v))
		}
		if len(cv.Via) > 0 {
			sep := ", then in "
			if s.InTransit {
				// Innermost first: "in shipping unit … inside asset …".
				for i, j := 0, len(cv.Via)-1; i < j; i, j = i+1, j-1 {
					cv.Via[i], cv.Via[j] = cv.Via[j], cv.Via[i]
				}
				sep = " inside "
			}
			cv.ViaText = "In " + strings.Join(cv.Via, sep)
		}
		out = append(out, cv)
	}
	if len(out) > 0 {
		out[len(out)-1].Last = true
	}
	return out
}

func (a *App) holdingViews(ctx context.Context, hs []gateway.Holding) []holdingView {
	out := make([]holdingView, 0, len(hs))
	for _, h := range hs {
		out = append(out, holdingView{Site: a.siteLabel(ctx, h.SiteName, h.Site, nil), Org: a.orgLabel(ctx, h.Org, h.OrgName),
			Packs: h.Packs, InTransit: h.InTransit, Dispense: h.Dispensed, Last: fmtTime(h.Last)})
	}
	return out
}

func (a *App) currentView(ctx context.Context, p *gateway.PackPosition) *currentView {
	if p == nil || !p.Seen {
		return nil
	}
	cv := &currentView{When: fmtTime(p.At), InTransit: p.InTransit, Dispensed: p.Dispensed, Org: a.orgLabel(ctx, p.Org, "")}
	if p.Place != "" {
		cv.Where = a.placeLabel(ctx, p.Place)
	} else {
		cv.Where = a.siteLabel(ctx, "", p.Site, nil)
	}
	if l := stepLabels[p.BizStep]; l != "" {
		cv.Step = l
	}
	for _, v := range p.Via {
		cv.Via = append(cv.Via, a.containerLabel(ctx, v))
	}
	return cv
}

func (a *App) suspectViews(ctx context.Context, fs []gateway.SuspectFlag) []suspectView {
	out := make([]suspectView, 0, len(fs))
	for _, f := range fs {
		sv := suspectView{Reason: suspectLabels[f.Reason], Detail: f.Detail, Link: passportPath(f.EPC)}
		if sv.Detail != "" {
			sv.Detail = strings.ToUpper(sv.Detail[:1]) + sv.Detail[1:] + "."
		}
		if sv.Reason == "" {
			sv.Reason = f.Reason
		}
		if !f.At.IsZero() {
			sv.When = fmtTime(f.At)
		}
		if f.Site != "" {
			sv.Where = a.siteLabel(ctx, "", f.Site, nil)
		}
		out = append(out, sv)
	}
	return out
}

// passportPath is the portal path of an identifier's passport.
func passportPath(id string) string {
	if dl, err := epc.ParseDigitalLink(id); err == nil {
		return dl.Path()
	}
	if e, err := epc.ParseURI(id); err == nil {
		if s, err := e.DigitalLink(""); err == nil {
			if dl, err := epc.ParseDigitalLink(s); err == nil {
				return dl.Path()
			}
		}
	}
	return ""
}

func (a *App) recallView(ctx context.Context, r *ledger.Recall) *recallView {
	if r == nil {
		return nil
	}
	return &recallView{Class: r.Class, Reason: r.Reason, By: r.By, Org: a.orgLabel(ctx, r.Org, ""), When: fmtTime(r.IssuedAt),
		TxID: r.TxID, ClassNote: recallClassNotes[r.Class]}
}

// coldView renders a lot's cold chain; events are used for the chart
// when there is no report (a product without a storage profile).
func (a *App) coldView(ctx context.Context, p gateway.Passport, evs []eventView) *coldView {
	cc := p.ColdChain
	var prof *ledger.StorageProfile
	if p.Product != nil {
		prof = p.Product.Profile
	}
	if cc == nil {
		// Readings carried by the passport's own events.
		rs := map[string][]coldchain.Reading{}
		for _, e := range evs {
			for _, c := range e.Temps {
				name := "readings recorded with events"
				tc := c
				rs[name] = append(rs[name], coldchain.Reading{Sensor: name, At: e.Time, TempC: &tc})
			}
		}
		if len(rs) == 0 {
			return nil
		}
		return &coldView{Charts: coldCharts(rs, prof, nil, nil, nil), Sensors: len(rs), Profile: storageText(prof)}
	}
	cv := &coldView{Profile: storageText(cc.Profile), Stays: len(cc.Stays)}
	recorded := map[string]ledger.Excursion{}
	for _, r := range cc.Recorded {
		recorded[r.ID] = r
	}
	idOf := func(e coldchain.Excursion) string {
		return gateway.ExcursionID(cc.GTIN, cc.Lot, e.Kind, e.Sensor, e.Start)
	}
	rec := map[string]bool{}
	for id := range recorded {
		rec[id] = true
	}
	cv.Charts = coldCharts(cc.Readings, cc.Profile, cc.Summary.Excursions, rec, idOf)
	for _, ch := range cv.Charts {
		for i, l := range ch.Legend {
			ch.Legend[i].Name = a.sensorLabel(ctx, l.Name, cc.SensorSite[l.Name])
		}
	}
	cv.Sensors = len(cc.Summary.Sensors)
	if cc.Summary.MKTC != nil {
		cv.MKT = fmtNum(*cc.Summary.MKTC) + " °C"
	}
	if cc.Summary.MinC != nil {
		cv.Min = fmtNum(*cc.Summary.MinC) + " °C"
	}
	if cc.Summary.MaxC != nil {
		cv.Max = fmtNum(*cc.Summary.MaxC) + " °C"
	}
	cv.OutOfRange = fmtDuration(cc.Summary.TemperatureOutOfRange)
	cv.Breach = cc.Summary.Verdict.Breach
	for _, r := range cc.Summary.Verdict.Reasons {
		cv.Reasons = append(cv.Reasons, r.String())
	}
	shown := map[string]bool{}
	for _, e := range cc.Summary.Excursions {
		id := idOf(e)
		ev := excursionView{ID: id, Kind: excursionKindLabels[e.Kind], Sensor: e.Sensor, StartT: e.Start,
			Start: fmtTime(e.Start), End: fmtTime(e.End), Duration: fmtDuration(e.Duration),
			Peak: fmtNum(e.Peak) + " " + unitLabel(e.Unit), Limit: fmtNum(e.Limit) + " " + unitLabel(e.Unit), Open: e.Open}
		if e.MKTC != nil {
			ev.MKT = fmtNum(*e.MKTC) + " °C"
		}
		if sub := cc.SensorSite[e.Sensor]; sub != "" {
			ev.Where = a.placeLabel(ctx, sub)
			if !strings.HasPrefix(sub, "urn:epc:id:sgln:") {
				ev.Where = a.containerLabel(ctx, sub)
			}
		}
		ev.Sensor = a.sensorName(e.Sensor)
		if r, ok := recorded[id]; ok {
			a.fillRecorded(ctx, &ev, r)
			shown[id] = true
		}
		cv.Excursions = append(cv.Excursions, ev)
	}
	// Excursions on the ledger this gateway no longer sees readings for.
	for _, r := range cc.Recorded {
		if shown[r.ID] {
			continue
		}
		ev := excursionView{ID: r.ID, Kind: excursionKindLabels[r.Kind], Sensor: r.Sensor, StartT: r.Start, Start: fmtTime(r.Start), End: fmtTime(r.End),
			Duration: fmtDuration(time.Duration(r.DurationMin * float64(time.Minute))),
			Peak:     fmtNum(r.PeakValue) + " " + unitLabel(r.Unit), Limit: fmtNum(r.LimitValue) + " " + unitLabel(r.Unit)}
		if r.MKTC != nil {
			ev.MKT = fmtNum(*r.MKTC) + " °C"
		}
		if r.Location != "" {
			ev.Where = a.placeLabel(ctx, r.Location)
		}
		a.fillRecorded(ctx, &ev, r)
		cv.Excursions = append(cv.Excursions, ev)
	}
	sort.SliceStable(cv.Excursions, func(i, j int) bool { return cv.Excursions[i].StartT.Before(cv.Excursions[j].StartT) })
	for _, e := range cv.Excursions {
		if e.Recorded {
			cv.Recorded++
		} else {
			cv.Pending++
		}
	}
	return cv
}

// sensorName shortens a sensor's ID for people: "wh1/coldroom-1",
// "asset 4012345.TL-3".
func (a *App) sensorName(id string) string {
	if s, ok := strings.CutPrefix(id, "urn:epc:id:giai:"); ok {
		return "logger " + s
	}
	if s, ok := strings.CutPrefix(id, "urn:tracegate:device:"); ok {
		return strings.ReplaceAll(s, ":sensor:", "/")
	}
	return id
}

// sensorLabel names a sensor with where it measured.
func (a *App) sensorLabel(ctx context.Context, id, subject string) string {
	n := a.sensorName(id)
	if subject == "" {
		return n
	}
	where := a.placeLabel(ctx, subject)
	if strings.HasPrefix(subject, "urn:epc:id:sscc:") || strings.HasPrefix(subject, "urn:epc:id:giai:") || strings.HasPrefix(subject, "https://") {
		where = a.containerLabel(ctx, subject)
	}
	return where + " · " + n
}

func (a *App) fillRecorded(ctx context.Context, ev *excursionView, r ledger.Excursion) {
	ev.Recorded, ev.TxID, ev.Breach, ev.BreachReason = true, r.TxID, r.Breach, r.BreachReason
	if r.TxID != "" {
		ev.TxURL = "/api/v1/ledger/transactions/" + r.TxID
	}
	ev.RecordedAt = fmtTime(r.RecordedAt)
	ev.RecordedBy = a.orgLabel(ctx, r.Org, "")
	if r.CumulativeMin > 0 {
		ev.Cumulative = fmtDuration(time.Duration(r.CumulativeMin * float64(time.Minute)))
	}
}
