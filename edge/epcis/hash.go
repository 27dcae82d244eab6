package epcis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxHashDepth bounds the nesting the hash walks, so hostile input cannot
// exhaust the stack.
const maxHashDepth = 512

// HashError reports an event that cannot be hashed.
type HashError struct {
	Reason string
}

// Error says why the event cannot be hashed.
func (e *HashError) Error() string { return "epcis: event hash: " + e.Reason }

// Hash computes the CBV 2.0 event hash of e: SHA-256 over its pre-hash
// string (see PreHash). Prefixes resolve from ctx and then from the
// event's own "@context" if it has one.
func Hash(e Event, ctx Context) ([32]byte, error) {
	pre, err := PreHash(e, ctx)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256([]byte(pre)), nil
}

// PreHash returns the CBV 2.0 pre-hash string of e, byte-for-byte as GS1's
// reference implementation (RalphTro/epcis-event-hash-generator) derives
// it from the same event in a JSON-LD document. The event's own "@context"
// only supplies prefixes; eventID, recordTime and errorDeclaration are left
// out as the standard requires.
//
// Two places where the reference depends on more than the event are read
// from the event alone: bare values are expanded with the vocabulary IRIs
// this event's own fields produce (the reference pools them over the whole
// document), and the members of bizTransactionList, sourceList and
// destinationList entries are taken type first (the reference keeps the
// JSON member order, which a decoded map does not have; every GS1 example
// writes type first). Objects elsewhere that hold a bizTransaction, source
// or destination member are likewise taken in member-name order.
//
// Where the reference fails or depends on its machine, PreHash decides:
// numbers too large for a float ("1e400", "inf") and "nan" are hashed as
// written (the reference raises), a time whose microseconds round up to a
// full second carries into the next second (the reference raises), a time
// without a zone is taken as UTC (the reference uses the local zone),
// numeric strings are normalised for ASCII digits only (Python's float()
// also takes other Unicode digits), "@xmlns…" members are ignored, and an
// @context that is a single object is read (the reference reads only
// arrays).
func PreHash(e Event, ctx Context) (string, error) {
	return preHash(e, ctx, nil, nil)
}

// preHash is PreHash with the reference's document-level knobs: the
// vocabulary set of the enclosing document (nil: the event's own) and
// top-level fields to ignore.
func preHash(e Event, ctx Context, vocab *vocabSet, ignore []string) (string, error) {
	if e == nil {
		return "", &HashError{Reason: "no event"}
	}
	norm, err := normalizeJSON(map[string]any(e), 0)
	if err != nil {
		return "", err
	}
	ev := norm.(map[string]any)
	merged := Context{}
	if _, ok := ev["@context"]; ok {
		own, err := ContextOf(ev)
		if err != nil {
			return "", &HashError{Reason: err.Error()}
		}
		merged = own
		delete(ev, "@context")
	}
	for k, v := range ctx {
		merged[k] = v
	}
	typ, _ := ev["type"].(string)
	if typ == "" {
		return "", &HashError{Reason: `event has no "type"`}
	}
	if vocab == nil {
		vocab = eventVocab(ev, merged)
	}
	h := &hasher{ns: merged, vocab: vocab}
	root, err := h.convObject(ev, 0, ignore, false)
	if err != nil {
		return "", err
	}
	root = correctStructure(root)
	var b strings.Builder
	b.WriteString("eventType=")
	b.WriteString(root.name)
	b.WriteString(orderedPreHash(&root.kids, eventOrder))
	rest := root.kids[:0:0]
	for _, k := range root.kids {
		switch k.name {
		case "recordTime", "eventID", "type", "errorDeclaration":
		default:
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		b.WriteString(genericPreHash(rest))
	}
	return b.String(), nil
}

// EventID renders an event hash as its CBV 2.0 eventID,
// "ni:///sha-256;<lowercase hex>?ver=CBV2.0" (RFC 6920 named information).
func EventID(h [32]byte) string {
	return "ni:///sha-256;" + hex.EncodeToString(h[:]) + "?ver=CBV2.0"
}

// EventIDError reports a string that is not an event hash ID.
type EventIDError struct {
	Input string
}

// Error quotes the rejected input.
func (e *EventIDError) Error() string {
	in := e.Input
	if len(in) > 100 {
		in = in[:100] + "…"
	}
	return fmt.Sprintf("epcis: %q is not a CBV 2.0 event ID (ni:///sha-256;<64 hex>?ver=CBV2.0) or a 64-hex hash", in)
}

// ParseEventID reads an eventID of the form EventID writes, or a bare
// 64-digit hex hash (either case), and returns the hash.
func ParseEventID(s string) ([32]byte, error) {
	var h [32]byte
	hx := s
	if rest, ok := strings.CutPrefix(s, "ni:///sha-256;"); ok {
		hx = strings.TrimSuffix(rest, "?ver=CBV2.0")
	}
	if len(hx) != 64 {
		return h, &EventIDError{Input: s}
	}
	if _, err := hex.Decode(h[:], []byte(hx)); err != nil {
		return [32]byte{}, &EventIDError{Input: s}
	}
	return h, nil
}

// ---- the reference's data model ----

// node is the reference's (name, text, children) triple; a pair node holds
// the two members of a bizTransaction/source/destination entry.
type node struct {
	name string
	text string
	kids []*node
	pair bool
}

// compareNodes orders triples as Python orders tuples.
func compareNodes(a, b *node) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := strings.Compare(a.text, b.text); c != 0 {
		return c
	}
	for i := 0; i < len(a.kids) && i < len(b.kids); i++ {
		if c := compareNodes(a.kids[i], b.kids[i]); c != 0 {
			return c
		}
	}
	return len(a.kids) - len(b.kids)
}

// hasher converts JSON into the node tree.
type hasher struct {
	ns    Context
	vocab *vocabSet
}

// value renders a string value: bare vocabulary words are replaced by
// their IRI, then a declared "prefix:" is expanded.
func (h *hasher) value(s string) string {
	if r, ok := h.vocab.replacement(s); ok {
		s = r
	}
	if p, rest, ok := strings.Cut(s, ":"); ok && !strings.HasPrefix(p, "@") {
		if iri, ok := h.ns[p]; ok {
			return strings.NewReplacer("{", "", "}", "").Replace(iri) + rest
		}
	}
	return s
}

// key renders a member name: a declared "prefix:" becomes "{iri}".
func (h *hasher) key(k string) string {
	if p, rest, ok := strings.Cut(k, ":"); ok && !strings.HasPrefix(p, "@") {
		if iri, ok := h.ns[p]; ok {
			return "{" + iri + "}" + rest
		}
	}
	return k
}

// listBreakers are the member names that stop the reference from sorting.
func isListBreaker(name string) bool {
	return name == "bizTransaction" || name == "source" || name == "destination"
}

func (h *hasher) conv(v any, depth int, entries bool) (*node, error) {
	if depth > maxHashDepth {
		return nil, &HashError{Reason: "nested too deeply"}
	}
	switch x := v.(type) {
	case string:
		return &node{text: h.value(x)}, nil
	case json.Number:
		return &node{text: pyNumberText(x)}, nil
	case bool:
		if x {
			return &node{text: "True"}, nil
		}
		return &node{text: "False"}, nil
	case nil:
		return &node{text: "None"}, nil
	case []any:
		n := &node{}
		sortIt := true
		for _, el := range x {
			if s, ok := el.(string); ok && isListBreaker(s) {
				sortIt = false
			}
			k, err := h.conv(el, depth+1, entries)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		if sortIt {
			slices.SortStableFunc(n.kids, compareNodes)
		}
		return n, nil
	case map[string]any:
		return h.convObject(x, depth, nil, entries)
	}
	return nil, &HashError{Reason: fmt.Sprintf("unsupported value %T", v)}
}

func (h *hasher) convObject(m map[string]any, depth int, ignore []string, entry bool) (*node, error) {
	if depth > maxHashDepth {
		return nil, &HashError{Reason: "nested too deeply"}
	}
	n := &node{}
	if t, ok := m["type"].(string); ok {
		if r, ok := h.vocab.replacement(t); ok {
			t = r
		}
		n.name = t
	}
	if t, ok := m["#text"].(string); ok {
		if r, ok := h.vocab.replacement(t); ok {
			t = r
		}
		n.text = t
	}
	keys := sortedKeys(m)
	if entry {
		keys = entryMemberOrder(keys)
	}
	breaker := false
	for _, k := range keys {
		if isListBreaker(k) {
			breaker = true
		}
		if k == "#text" || k == "rdfs:comment" || k == "comment" || strings.HasPrefix(k, "@xmlns") || slices.Contains(ignore, k) {
			continue
		}
		v := m[k]
		child, err := h.conv(v, depth+1, k == "bizTransactionList" || k == "sourceList" || k == "destinationList")
		if err != nil {
			return nil, err
		}
		name := h.key(k)
		if _, isList := v.([]any); isList {
			for _, el := range child.kids {
				n.kids = append(n.kids, &node{name: name, text: el.text, kids: el.kids})
			}
		} else {
			n.kids = append(n.kids, &node{name: name, text: child.text, kids: child.kids})
		}
	}
	if !breaker {
		slices.SortStableFunc(n.kids, compareNodes)
	}
	return n, nil
}

// entryMemberOrder orders the members of a bizTransactionList,
// sourceList or destinationList entry as GS1 writes them: "type" first,
// then the identifier, then the rest in byte order. Members of other
// objects are taken in byte order. (The reference keeps JSON member order,
// which matters only in objects holding bizTransaction, source or
// destination members; a decoded map has no order, so this is the
// canonical one.)
func entryMemberOrder(keys []string) []string {
	rank := func(k string) int {
		switch k {
		case "type":
			return 0
		case "bizTransaction", "source", "destination":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(keys, func(a, b string) int { return rank(a) - rank(b) })
	return keys
}

// pyNumberText renders a JSON number as Python's str() of what json.loads
// makes of it: an int for integer literals, a float otherwise.
func pyNumberText(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s
	}
	return pyFloatRepr(f)
}

// correctStructure reshapes the tree the way the reference maps JSON onto
// the XML data model: "xList" members become an "xList" node of "x"
// children, childEPCs become epc children, and quantity elements get the
// XML element names.
func correctStructure(n *node) *node {
	kids := n.kids
	var lists []*node
	index := map[string]*node{}
	rest := kids[:0:0]
	for _, k := range kids {
		if !k.pair && strings.HasSuffix(k.name, "List") {
			l := index[k.name]
			if l == nil {
				l = &node{name: k.name}
				index[k.name] = l
				lists = append(lists, l)
			}
			l.kids = append(l.kids, &node{name: k.name[:len(k.name)-4], text: k.text, kids: k.kids})
			continue
		}
		rest = append(rest, k)
	}
	for _, l := range lists {
		switch l.name {
		case "sourceList", "destinationList", "bizTransactionList":
			pairs := make([]*node, 0, len(l.kids))
			for _, e := range l.kids {
				p := &node{pair: true}
				p.kids = e.kids[:min(2, len(e.kids)):min(2, len(e.kids))]
				pairs = append(pairs, p)
			}
			l.kids = pairs
		}
		rest = append(rest, l)
	}
	var epcs []*node
	kept := rest[:0:0]
	for _, k := range rest {
		if k.name == "childEPCs" && !k.pair {
			epcs = append(epcs, &node{name: "epc", text: k.text})
			continue
		}
		kept = append(kept, k)
	}
	if len(epcs) > 0 {
		kept = append(kept, &node{name: "childEPCs", kids: epcs})
	}
	out := make([]*node, 0, len(kept))
	for _, k := range kept {
		switch {
		case k.pair:
			out = append(out, k)
		case k.name == "sourceList" || k.name == "destinationList" || k.name == "bizTransactionList":
			out = append(out, k)
		default:
			out = append(out, correctStructure(k))
		}
	}
	name := n.name
	switch {
	case name == "inputEPC" || name == "outputEPC":
		name = "epc"
	case name == "inputQuantity" || name == "outputQuantity" || name == "childQuantity" || (name == "quantity" && len(out) > 0):
		name = "quantityElement"
	}
	return &node{name: name, text: n.text, kids: out, pair: n.pair}
}

// propOrder is the reference's canonical property order (PROP_ORDER).
type propOrder struct {
	name string
	sub  []propOrder
	none bool // matches no node (the reference's tuple-named entries)
}

var (
	epcOrder      = []propOrder{{name: "epc"}}
	quantityOrder = []propOrder{{name: "quantityElement", sub: []propOrder{{name: "epcClass"}, {name: "quantity"}, {name: "uom"}}}}
	pairOrder     = []propOrder{{none: true}}
	idOrder       = []propOrder{{name: "id"}}
	eventOrder    = []propOrder{
		{name: "eventTime"},
		{name: "eventTimeZoneOffset"},
		{name: "certificationInfo"},
		{name: "parentID"},
		{name: "epcList", sub: epcOrder},
		{name: "inputEPCList", sub: epcOrder},
		{name: "childEPCs", sub: epcOrder},
		{name: "quantityList", sub: quantityOrder},
		{name: "childQuantityList", sub: quantityOrder},
		{name: "inputQuantityList", sub: quantityOrder},
		{name: "outputEPCList", sub: epcOrder},
		{name: "outputQuantityList", sub: quantityOrder},
		{name: "action"},
		{name: "transformationID"},
		{name: "bizStep"},
		{name: "disposition"},
		{name: "persistentDisposition", sub: []propOrder{{name: "set"}, {name: "unset"}}},
		{name: "readPoint", sub: idOrder},
		{name: "bizLocation", sub: idOrder},
		{name: "bizTransactionList", sub: pairOrder},
		{name: "sourceList", sub: pairOrder},
		{name: "destinationList", sub: pairOrder},
		{name: "sensorElementList", sub: []propOrder{{name: "sensorElement", sub: []propOrder{
			{name: "sensorMetadata", sub: []propOrder{
				{name: "time"}, {name: "startTime"}, {name: "endTime"}, {name: "deviceID"},
				{name: "deviceMetadata"}, {name: "rawData"}, {name: "dataProcessingMethod"}, {name: "bizRules"},
			}},
			{name: "sensorReport", sub: []propOrder{
				{name: "type"}, {name: "exception"}, {name: "deviceID"}, {name: "deviceMetadata"},
				{name: "rawData"}, {name: "dataProcessingMethod"}, {name: "time"}, {name: "microorganism"},
				{name: "chemicalSubstance"}, {name: "value"}, {name: "component"}, {name: "stringValue"},
				{name: "booleanValue"}, {name: "hexBinaryValue"}, {name: "uriValue"}, {name: "minValue"},
				{name: "maxValue"}, {name: "meanValue"}, {name: "sDev"}, {name: "percRank"},
				{name: "percValue"}, {name: "uom"}, {name: "coordinateReferenceSystem"},
			}},
		}}}},
	}
)

// orderedPreHash renders the children named in order, in that order, each
// name's values sorted; rendered children without children of their own
// are removed from *list, so what is left goes to the generic tail.
// Namespaced user extensions below the top level are gathered first and
// appended after their siblings.
func orderedPreHash(list *[]*node, order []propOrder) string {
	var b strings.Builder
	exts := gatherExtensions(list)
	kids := *list
	var removed []bool
	var vals []string
	for _, o := range order {
		if o.none {
			continue
		}
		vals = vals[:0]
		for i, c := range kids {
			if c.pair || c.name != o.name {
				continue
			}
			if s := childPreHash(c, o.sub); s != "" {
				vals = append(vals, s)
			}
			if len(c.kids) == 0 {
				if removed == nil {
					removed = make([]bool, len(kids))
				}
				removed[i] = true
			}
		}
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(v)
		}
	}
	if removed != nil {
		kept := make([]*node, 0, len(kids))
		for i, c := range kids {
			if !removed[i] {
				kept = append(kept, c)
			}
		}
		*list = kept
	}
	if len(exts) > 0 {
		b.WriteString(genericPreHash(exts))
	}
	return b.String()
}

func childPreHash(c *node, sub []propOrder) string {
	grand := ""
	if len(sub) > 0 {
		grand = orderedPreHash(&c.kids, sub)
	}
	text := ""
	if c.text != "" {
		t := pyStrip(c.text)
		lower := strings.ToLower(c.name)
		if strings.Contains(lower, "time") && !strings.Contains(lower, "offset") {
			t = canonTime(t)
		} else {
			t = canonValue(t)
		}
		if t != "" {
			text = "=" + t
		}
	}
	if text == "" && grand == "" {
		return ""
	}
	return c.name + text + grand
}

// gatherExtensions removes and returns the namespaced extension members
// ("{…/}name") of a nested list; the event level (recognised by eventTime
// or action) and single-member lists are left alone, as in the reference.
func gatherExtensions(list *[]*node) []*node {
	if len(*list) <= 1 {
		return nil
	}
	for _, c := range *list {
		if !c.pair && (strings.Contains(c.name, "eventTime") || strings.Contains(c.name, "action")) {
			return nil
		}
	}
	var exts []*node
	kept := (*list)[:0:0]
	for _, c := range *list {
		if !c.pair && strings.Contains(c.name, "{") && strings.Contains(c.name, "/}") {
			exts = append(exts, c)
			continue
		}
		kept = append(kept, c)
	}
	if len(exts) > 0 {
		*list = kept
	}
	return exts
}

// genericPreHash renders what the canonical order does not cover: sorted
// "name=value" strings with their children appended, except that lists
// naming bizTransaction, source or destination keep their order.
func genericPreHash(children []*node) string {
	vals := make([]string, 0, len(children))
	sortIt := true
	for _, c := range children {
		if c.pair {
			vals = append(vals, genericPreHash(c.kids))
			continue
		}
		if isListBreaker(c.name) {
			sortIt = false
		}
		text := pyStrip(c.text)
		if text != "" {
			text = "=" + canonValue(text)
		}
		vals = append(vals, c.name+text+genericPreHash(c.kids))
	}
	if len(children) > 1 && sortIt {
		slices.Sort(vals)
	}
	return strings.Join(vals, "")
}

// ---- JSON normalisation ----

// normalizeJSON returns a deep copy of v in the form encoding/json with
// UseNumber decodes JSON into (map[string]any, []any, string, json.Number,
// bool, nil), so events built in Go hash exactly like their JSON encoding.
func normalizeJSON(v any, depth int) (any, error) {
	if depth > maxHashDepth {
		return nil, &HashError{Reason: "nested too deeply"}
	}
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil && !isJSONNumber(string(x)) {
			return nil, &HashError{Reason: fmt.Sprintf("invalid number %q", string(x))}
		}
		return x, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			n, err := normalizeJSON(el, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case Event:
		return normalizeJSON(map[string]any(x), depth)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			n, err := normalizeJSON(el, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		b, err := json.Marshal(x) // NaN and infinities fail here
		if err != nil {
			return nil, &HashError{Reason: err.Error()}
		}
		return json.Number(b), nil
	}
	// Anything else (structs, typed maps and slices): through JSON.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &HashError{Reason: fmt.Sprintf("unsupported value %T: %v", v, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, &HashError{Reason: err.Error()}
	}
	return normalizeJSON(out, depth)
}

// isJSONNumber reports whether s is a JSON number literal (ParseFloat
// rejects out-of-range ones that JSON allows, such as 1e400).
func isJSONNumber(s string) bool {
	return json.Valid([]byte(s)) && s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}
