package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
)

// namer turns identifiers into names people read: products by GTIN and
// organisations from the ledger, places from the configuration or from
// the organisation owning their GS1 company prefix. Ledger answers are
// cached for a minute.
type namer struct {
	svc    *gateway.Service
	places map[string]string

	mu       sync.Mutex
	orgs     []ledger.Org
	orgsAt   time.Time
	products map[string]cachedProduct
}

type cachedProduct struct {
	p  *ledger.Product
	at time.Time
}

const nameCacheTTL = time.Minute

func newNamer(svc *gateway.Service, places map[string]string) *namer {
	n := &namer{svc: svc, places: map[string]string{}, products: map[string]cachedProduct{}}
	for k, v := range places {
		n.places[k] = v
		n.places[gateway.CanonicalID(k)] = v
	}
	return n
}

func (n *namer) reader() ledger.Identity { return n.svc.Config().Reader }

// product returns the registered product of a GTIN, nil when unknown.
func (n *namer) product(ctx context.Context, gtin string) *ledger.Product {
	if gtin == "" {
		return nil
	}
	n.mu.Lock()
	cp, ok := n.products[gtin]
	n.mu.Unlock()
	if ok && time.Since(cp.at) < nameCacheTTL {
		return cp.p
	}
	var pp *ledger.Product
	if p, err := n.svc.Ledger().Product(ctx, n.reader(), gtin); err == nil {
		pp = &p
	}
	n.mu.Lock()
	if len(n.products) > 10_000 {
		clear(n.products)
	}
	n.products[gtin] = cachedProduct{p: pp, at: time.Now()}
	n.mu.Unlock()
	return pp
}

// allOrgs returns the consortium's organisations.
func (n *namer) allOrgs(ctx context.Context) []ledger.Org {
	n.mu.Lock()
	if n.orgs != nil && time.Since(n.orgsAt) < nameCacheTTL {
		o := n.orgs
		n.mu.Unlock()
		return o
	}
	n.mu.Unlock()
	orgs, err := n.svc.Ledger().Orgs(ctx, n.reader())
	if err != nil {
		orgs = []ledger.Org{}
	}
	n.mu.Lock()
	n.orgs, n.orgsAt = orgs, time.Now()
	n.mu.Unlock()
	return orgs
}

// org returns an organisation by ID.
func (n *namer) org(ctx context.Context, id string) *ledger.Org {
	for _, o := range n.allOrgs(ctx) {
		if o.ID == id {
			return &o
		}
	}
	return nil
}

// orgOfGLN returns the organisation whose GLN shares the longest GS1
// company prefix (at least 6 digits) with a GLN or company prefix.
func (n *namer) orgOfGLN(ctx context.Context, digits string) *ledger.Org {
	var best *ledger.Org
	bestLen := 5
	for _, o := range n.allOrgs(ctx) {
		l := 0
		for l < len(o.GLN) && l < len(digits) && o.GLN[l] == digits[l] {
			l++
		}
		if l > bestLen {
			oo := o
			best, bestLen = &oo, l
		}
	}
	return best
}

// place names a read point or business location.
func (n *namer) place(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	if s, ok := n.places[id]; ok {
		return s
	}
	if s, ok := n.places[gateway.CanonicalID(id)]; ok {
		return s
	}
	if e, err := epc.ParseURI(id); err == nil && e.Scheme == epc.SGLN {
		ref := strings.TrimLeft(e.Reference, "0")
		loc := "location " + ref
		if ref == "" {
			loc = "main site"
		}
		switch ext := e.Serial; {
		case ext == "" || ext == "0":
		case strings.Trim(ext, "0123456789") == "":
			loc += "." + ext
		default:
			// A named sub-location (the extension is text): say it first.
			loc = ext + " (" + loc + ")"
		}
		if o := n.orgOfGLN(ctx, e.CompanyPrefix); o != nil {
			return o.Name + ", " + loc
		}
		gln, _ := e.GLN()
		return "GLN " + gln + " " + loc
	}
	if dl, err := epc.ParseDigitalLink(id); err == nil && dl.GLN != "" {
		s := "GLN " + dl.GLN
		if o := n.orgOfGLN(ctx, dl.GLN); o != nil {
			s = o.Name + " (GLN " + dl.GLN + ")"
		}
		if dl.GLNExtension != "" {
			s += ", location " + dl.GLNExtension
		}
		return s
	}
	return id
}

// ident is an identifier as pages show it.
type ident struct {
	Raw   string // as the event has it
	Label string // for people
	Link  string // passport path on this resolver, "" when none
	GTIN  string
	SSCC  string
	Lot   string
}

// identify reads an EPC URI or Digital Link.
func (n *namer) identify(ctx context.Context, raw string) ident {
	id := ident{Raw: raw, Label: raw}
	var dl epc.DigitalLink
	if e, err := epc.ParseURI(raw); err == nil {
		s, err := e.DigitalLink("")
		if err != nil {
			return id
		}
		if dl, err = epc.ParseDigitalLink(s); err != nil {
			return id
		}
	} else if d, err := epc.ParseDigitalLink(raw); err == nil {
		dl = d
	} else {
		return id
	}
	id.GTIN, id.SSCC, id.Lot = dl.GTIN, dl.SSCC, dl.Lot
	switch {
	case dl.SSCC != "":
		id.Label, id.Link = "Shipping unit (SSCC) "+dl.SSCC, dl.Path()
	case dl.GTIN != "":
		name := "GTIN " + dl.GTIN
		if p := n.product(ctx, dl.GTIN); p != nil {
			name = p.Name
		}
		switch {
		case dl.Serial != "":
			id.Label = name + " · pack " + dl.Serial
		case dl.Lot != "":
			id.Label = name + " · lot " + dl.Lot
		default:
			id.Label = name
		}
		id.Link = dl.Path()
	case dl.GLN != "":
		id.Label = n.place(ctx, raw)
	case dl.GIAI != "":
		id.Label = "Asset " + dl.GIAI
	case dl.GRAI != "":
		id.Label = "Returnable asset " + dl.GRAI
	}
	return id
}

// eventView is an event in plain words, with its proof state.
type eventView struct {
	ID         string
	Hash       string
	Sentence   string // "Received at North Warehouse, dock door 1"
	What       string // "40 × N95 respirator mask, box of 20"
	Step       string // "Received"
	Icon       string // name of the timeline icon
	Type       string
	Action     string
	BizStep    string
	Dispo      string
	DispoLabel string
	Time       time.Time
	LocalTime  string
	Place      string
	PlaceID    string
	ReadPoint  string
	ReadPtID   string
	Objects    []ident
	Parent     *ident
	Sensors    []string
	Temps      []float64 // temperatures in °C, for charts
	Excursion  bool      // a temperature outside the product's storage range
	Extra      []kv      // other facts: business transactions, source, destination, ILMD
	State      string    // proven, pending, failed
	StateLabel string
	Reason     string
	Anchor     *store.AnchorRecord
	Edge       string
	Seq        uint64
	Leaf       uint64
	RecordTime time.Time
	Raw        string // indented JSON
}

type kv struct{ K, V string }

// stepLabels names CBV 2.0 business steps for people.
var stepLabels = map[string]string{
	"accepting": "Accepted", "arriving": "Arrived", "assembling": "Assembled", "collecting": "Collected",
	"commissioning": "Commissioned", "consigning": "Consigned", "creating_class_instance": "Created",
	"cycle_counting": "Counted", "decommissioning": "Decommissioned", "departing": "Departed",
	"destroying": "Destroyed", "disassembling": "Disassembled", "dispensing": "Dispensed", "encoding": "Tagged",
	"entering_exiting": "Entered or left", "holding": "Put on hold", "inspecting": "Inspected", "installing": "Installed",
	"killing": "Tag deactivated", "loading": "Loaded", "other": "Recorded", "packing": "Packed", "picking": "Picked",
	"receiving": "Received", "removing": "Removed", "repackaging": "Repackaged", "repairing": "Repaired",
	"replacing": "Replaced", "reserving": "Reserved", "retail_selling": "Sold", "sampling": "Sampled",
	"sensor_reporting": "Sensor reading", "shipping": "Shipped", "staging_outbound": "Staged for shipping",
	"stock_taking": "Stock taken", "stocking": "Stocked", "storing": "Stored", "transporting": "In transport",
	"unloading": "Unloaded", "unpacking": "Unpacked", "void_shipping": "Shipment cancelled",
}

// dispositionLabels names CBV 2.0 dispositions for people.
var dispositionLabels = map[string]string{
	"active": "active", "available": "available", "completeness_inferred": "completeness inferred",
	"completeness_verified": "completeness verified", "conformant": "conformant", "container_closed": "container closed",
	"container_open": "container open", "damaged": "damaged", "destroyed": "destroyed", "dispensed": "dispensed",
	"disposed": "disposed", "encoded": "encoded", "expired": "expired", "in_progress": "in progress",
	"in_transit": "in transit", "inactive": "inactive", "mismatch_instance": "mismatch", "needs_replacement": "needs replacement",
	"no_pedigree_match": "no pedigree match", "non_conformant": "non-conformant", "non_sellable_other": "not sellable",
	"partially_dispensed": "partially dispensed", "recalled": "recalled", "reserved": "reserved",
	"retail_sold": "sold", "returned": "returned", "sellable_accessible": "on sale", "sellable_not_accessible": "in stock",
	"stolen": "stolen", "unavailable": "unavailable", "unknown": "unknown",
}

// shortCBV reduces a CBV value in any of its forms (receiving,
// urn:epcglobal:cbv:bizstep:receiving, https://ref.gs1.org/cbv/BizStep-receiving,
// cbv:BizStep-receiving) to its short name.
func shortCBV(v string) string {
	if i := strings.LastIndexAny(v, ":/"); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.Index(v, "-"); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// stepIcon picks the timeline icon of a business step.
func stepIcon(step, typ string) string {
	switch step {
	case "commissioning", "creating_class_instance", "encoding":
		return "factory"
	case "receiving", "arriving", "accepting", "unloading":
		return "inbox"
	case "shipping", "departing", "loading", "transporting", "staging_outbound":
		return "truck"
	case "storing", "stocking", "holding", "reserving", "stock_taking", "cycle_counting":
		return "shelf"
	case "packing", "assembling", "repackaging", "unpacking", "disassembling":
		return "box"
	case "inspecting", "sampling":
		return "check"
	case "sensor_reporting":
		return "thermo"
	case "dispensing", "retail_selling":
		return "hand"
	case "destroying", "decommissioning", "killing":
		return "cross"
	}
	if typ == "AggregationEvent" {
		return "box"
	}
	return "dot"
}

func decodeEvent(raw []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return map[string]any{}
	}
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strList(m map[string]any, k string) []string {
	arr, _ := m[k].([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func idOf(m map[string]any, k string) string {
	if o, ok := m[k].(map[string]any); ok {
		return str(o, "id")
	}
	return ""
}

// describe renders an indexed event in plain words.
func (a *App) describe(ctx context.Context, r store.EventRecord, withState bool) eventView {
	ev := decodeEvent(r.Event)
	n := a.names
	v := eventView{
		ID: r.EventID, Hash: hashOf(r.EventID), Type: r.Type, Action: str(ev, "action"),
		BizStep: shortCBV(str(ev, "bizStep")), Dispo: shortCBV(str(ev, "disposition")),
		Time: r.EventTime, Edge: r.Edge, Seq: r.Seq, Leaf: r.Leaf, RecordTime: r.RecordTime,
		ReadPtID: idOf(ev, "readPoint"), PlaceID: idOf(ev, "bizLocation"),
	}
	v.LocalTime = localTime(r.EventTime, str(ev, "eventTimeZoneOffset"))
	v.DispoLabel = dispositionLabels[v.Dispo]
	if v.DispoLabel == "" {
		v.DispoLabel = strings.ReplaceAll(v.Dispo, "_", " ")
	}
	v.ReadPoint, v.Place = n.place(ctx, v.ReadPtID), n.place(ctx, v.PlaceID)
	var pretty bytes.Buffer
	if json.Indent(&pretty, r.Event, "", "  ") == nil {
		v.Raw = pretty.String()
	} else {
		v.Raw = string(r.Event)
	}

	// What: the objects, grouped by product.
	var objs []string
	for _, k := range []string{"epcList", "childEPCs", "inputEPCList", "outputEPCList"} {
		objs = append(objs, strList(ev, k)...)
	}
	for _, o := range objs {
		v.Objects = append(v.Objects, n.identify(ctx, o))
	}
	if p := str(ev, "parentID"); p != "" {
		id := n.identify(ctx, p)
		v.Parent = &id
	}
	qty := quantities(ctx, n, ev)
	v.What = summarise(ctx, n, v.Objects, qty)

	// Sensor readings.
	v.Sensors, v.Temps = sensorReadings(ev)

	// The sentence.
	v.Step = stepLabels[v.BizStep]
	if v.Step == "" && v.BizStep != "" {
		v.Step = strings.ToUpper(v.BizStep[:1]) + strings.ReplaceAll(v.BizStep[1:], "_", " ")
	}
	if v.Step == "" {
		switch {
		case len(v.Sensors) > 0:
			v.Step = "Measured"
		case r.Type == "AggregationEvent" && v.Action == "ADD":
			v.Step = "Packed"
		case r.Type == "AggregationEvent" && v.Action == "DELETE":
			v.Step = "Unpacked"
		case r.Type == "TransformationEvent":
			v.Step = "Transformed"
		case r.Type == "TransactionEvent":
			v.Step = "Linked to a business transaction"
		case v.Action == "ADD":
			v.Step = "Created"
		case v.Action == "DELETE":
			v.Step = "Removed from the supply chain"
		default:
			v.Step = "Seen"
		}
	}
	v.Icon = stepIcon(v.BizStep, r.Type)
	if v.BizStep == "" && len(v.Sensors) > 0 {
		v.Icon = "thermo"
	}
	s := v.Step
	if v.Parent != nil && r.Type == "AggregationEvent" {
		switch v.Action {
		case "ADD":
			s += " into " + lowerFirst(v.Parent.Label)
		case "DELETE":
			s += " from " + lowerFirst(v.Parent.Label)
		default:
			s += " with " + lowerFirst(v.Parent.Label)
		}
	}
	switch where := firstNonEmpty(v.ReadPoint, v.Place); {
	case where != "":
		s += " at " + where
	}
	v.Sentence = s

	// Other facts.
	for _, k := range []string{"bizTransactionList", "sourceList", "destinationList"} {
		if arr, ok := ev[k].([]any); ok {
			for _, x := range arr {
				if m, ok := x.(map[string]any); ok {
					typ := shortCBV(str(m, "type"))
					val := firstNonEmpty(str(m, "bizTransaction"), str(m, "source"), str(m, "destination"))
					label := map[string]string{"bizTransactionList": "Business transaction", "sourceList": "Source", "destinationList": "Destination"}[k]
					if typ != "" {
						label += " (" + strings.ReplaceAll(typ, "_", " ") + ")"
					}
					if k != "bizTransactionList" {
						val = n.place(ctx, val)
					}
					v.Extra = append(v.Extra, kv{label, val})
				}
			}
		}
	}
	if ilmd, ok := ev["ilmd"].(map[string]any); ok {
		for _, k := range sortedKeys(ilmd) {
			if s, ok := ilmd[k].(string); ok {
				label := k
				switch shortCBV(k) {
				case "lotNumber":
					label = "Lot"
				case "itemExpirationDate":
					label = "Expiry date"
				case "bestBeforeDate":
					label = "Best before"
				}
				v.Extra = append(v.Extra, kv{label, s})
			}
		}
	}
	if withState {
		st, an, why := a.svc.EventState(r)
		v.setState(st, an, why)
	}
	return v
}

func (v *eventView) setState(st gateway.VerificationState, an *store.AnchorRecord, why string) {
	v.State, v.Anchor, v.Reason = string(st), an, why
	switch st {
	case gateway.StateProven:
		v.StateLabel = "Proven"
	case gateway.StatePending:
		v.StateLabel = "Pending anchor"
	case gateway.StateFailed:
		v.StateLabel = "Failed"
	default:
		v.StateLabel = string(st)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "GTIN") || strings.HasPrefix(s, "SSCC") {
		return s
	}
	r := []rune(s)
	if len(r) > 1 && r[1] >= 'A' && r[1] <= 'Z' {
		return s // an acronym
	}
	return strings.ToLower(string(r[:1])) + string(r[1:])
}

// quantity is a class-level quantity of a product or lot.
type quantity struct {
	id  ident
	qty string
	uom string
}

func quantities(ctx context.Context, n *namer, ev map[string]any) []quantity {
	var out []quantity
	for _, k := range []string{"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"} {
		arr, _ := ev[k].([]any)
		for _, x := range arr {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			q := quantity{id: n.identify(ctx, str(m, "epcClass")), uom: str(m, "uom")}
			switch qv := m["quantity"].(type) {
			case json.Number:
				q.qty = qv.String()
			case string:
				q.qty = qv
			}
			out = append(out, q)
		}
	}
	return out
}

// summarise says what an event is about: "40 × N95 respirator mask, box
// of 20", "1 shipping unit", "120 units of lot N95-2611A".
func summarise(ctx context.Context, n *namer, objs []ident, qty []quantity) string {
	type group struct {
		name  string
		count int
	}
	groups := map[string]*group{}
	var order []string
	ssccs := 0
	for _, o := range objs {
		switch {
		case o.SSCC != "":
			ssccs++
		case o.GTIN != "":
			g, ok := groups[o.GTIN]
			if !ok {
				name := "GTIN " + o.GTIN
				if p := n.product(ctx, o.GTIN); p != nil {
					name = p.Name
				}
				g = &group{name: name}
				groups[o.GTIN] = g
				order = append(order, o.GTIN)
			}
			g.count++
		default:
			g, ok := groups["other"]
			if !ok {
				g = &group{name: "other items"}
				groups["other"] = g
				order = append(order, "other")
			}
			g.count++
		}
	}
	var parts []string
	for _, k := range order {
		g := groups[k]
		parts = append(parts, fmt.Sprintf("%d × %s", g.count, g.name))
	}
	if ssccs > 0 {
		parts = append(parts, plural(ssccs, "shipping unit", "shipping units"))
	}
	for _, q := range qty {
		s := q.qty
		if q.uom != "" {
			s += " " + q.uom
		} else {
			s += " ×"
		}
		parts = append(parts, s+" "+q.id.Label)
	}
	return strings.Join(parts, ", ")
}

// sensorReadings renders sensorElementList: "Temperature 4.2 °C".
func sensorReadings(ev map[string]any) ([]string, []float64) {
	var out []string
	var temps []float64
	els, _ := ev["sensorElementList"].([]any)
	for _, e := range els {
		m, _ := e.(map[string]any)
		reps, _ := m["sensorReport"].([]any)
		for _, r := range reps {
			rep, _ := r.(map[string]any)
			if rep == nil {
				continue
			}
			typ := str(rep, "type")
			if i := strings.LastIndexAny(typ, ":/-"); i >= 0 {
				typ = typ[i+1:]
			}
			uom := str(rep, "uom")
			val, ok := number(rep["value"])
			if !ok {
				if s := str(rep, "stringValue"); s != "" {
					out = append(out, strings.TrimSpace(typ+" "+s))
				} else if b, isBool := rep["booleanValue"].(bool); isBool {
					out = append(out, fmt.Sprintf("%s %t", typ, b))
				}
				continue
			}
			unit := map[string]string{"CEL": "°C", "FAH": "°F", "KEL": "K", "P1": "%", "A93": "g/m³", "KGM": "kg", "GRM": "g"}[uom]
			if unit == "" {
				unit = uom
			}
			if typ == "RelativeHumidity" || typ == "Humidity" {
				typ, unit = "Humidity", map[bool]string{true: "%RH", false: unit}[uom == "P1" || uom == "" || uom == "A93"]
			}
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", typ, strconv.FormatFloat(val, 'f', -1, 64), unit)))
			if typ == "Temperature" {
				switch uom {
				case "CEL", "":
					temps = append(temps, val)
				case "FAH":
					temps = append(temps, (val-32)*5/9)
				case "KEL":
					temps = append(temps, val-273.15)
				}
			}
		}
	}
	return out, temps
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case float64:
		return x, true
	}
	return 0, false
}

// localTime renders an event time in the event's own time zone offset.
func localTime(t time.Time, offset string) string {
	if t.IsZero() {
		return "—"
	}
	loc := time.UTC
	label := "UTC"
	if len(offset) == 6 && (offset[0] == '+' || offset[0] == '-') && offset != "+00:00" && offset != "-00:00" {
		h, err1 := strconv.Atoi(offset[1:3])
		m, err2 := strconv.Atoi(offset[4:6])
		if err1 == nil && err2 == nil && h <= 14 && m < 60 {
			secs := h*3600 + m*60
			if offset[0] == '-' {
				secs = -secs
			}
			loc = time.FixedZone(offset, secs)
			label = "UTC" + offset
		}
	}
	return t.In(loc).Format("2 Jan 2006, 15:04") + " (" + label + ")"
}

// hashOf returns the hex hash of an eventID (ni:///sha-256;<hex>?ver=…).
func hashOf(id string) string {
	s := strings.TrimPrefix(id, "ni:///sha-256;")
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

// sortViews orders events by time, newest first when desc.
func sortViews(vs []eventView, desc bool) {
	sort.SliceStable(vs, func(i, j int) bool {
		if desc {
			return vs[i].Time.After(vs[j].Time)
		}
		return vs[i].Time.Before(vs[j].Time)
	})
}
