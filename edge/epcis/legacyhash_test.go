// Code generated from tracegate commit 8002850 for differential tests; DO NOT EDIT.

// This file is the CBV 2.0 event hash as it was before its performance
// rework: edge/epcis hash.go, canon.go, expand.go, context.go,
// standalone.go and builder.go, and the identifier normaliser of edge/epc
// (cbv.go, without ToDigitalLink's error reporting), copied verbatim at
// commit 8002850 with every package-level name given the prefix "legacy_"
// (the method Event.Standalone becomes the function legacy_standalone and
// SensorElement.jsonLD the function legacy_sensorJSONLD; the builder's
// field types are not copied). It is the oracle that TestHashMatchesLegacy
// and FuzzHashMatchesLegacy compare the optimised code with, byte for byte:
// the rework must not change a single pre-hash string. Doc comments inside
// still use the original names.

package epcis

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ---- hash.go ----

// maxHashDepth bounds the nesting the hash walks, so hostile input cannot
// exhaust the stack.
const legacy_maxHashDepth = 512

// HashError reports an event that cannot be hashed.
type legacy_HashError struct {
	Reason string
}

// Error says why the event cannot be hashed.
func (e *legacy_HashError) Error() string { return "epcis: event hash: " + e.Reason }

// Hash computes the CBV 2.0 event hash of e: SHA-256 over its pre-hash
// string (see PreHash). Prefixes resolve from ctx and then from the
// event's own "@context" if it has one.
func legacy_Hash(e Event, ctx legacy_Context) ([32]byte, error) {
	pre, err := legacy_PreHash(e, ctx)
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
func legacy_PreHash(e Event, ctx legacy_Context) (string, error) {
	return legacy_preHash(e, ctx, nil, nil)
}

// preHash is PreHash with the reference's document-level knobs: the
// vocabulary set of the enclosing document (nil: the event's own) and
// top-level fields to ignore.
func legacy_preHash(e Event, ctx legacy_Context, vocab *legacy_vocabSet, ignore []string) (string, error) {
	if e == nil {
		return "", &legacy_HashError{Reason: "no event"}
	}
	norm, err := legacy_normalizeJSON(map[string]any(e), 0)
	if err != nil {
		return "", err
	}
	ev := norm.(map[string]any)
	merged := legacy_Context{}
	if _, ok := ev["@context"]; ok {
		own, err := legacy_ContextOf(ev)
		if err != nil {
			return "", &legacy_HashError{Reason: err.Error()}
		}
		merged = own
		delete(ev, "@context")
	}
	for k, v := range ctx {
		merged[k] = v
	}
	typ, _ := ev["type"].(string)
	if typ == "" {
		return "", &legacy_HashError{Reason: `event has no "type"`}
	}
	if vocab == nil {
		vocab = legacy_eventVocab(ev, merged)
	}
	h := &legacy_hasher{ns: merged, vocab: vocab}
	root, err := h.convObject(ev, 0, ignore, false)
	if err != nil {
		return "", err
	}
	root = legacy_correctStructure(root)
	var b strings.Builder
	b.WriteString("eventType=")
	b.WriteString(root.name)
	b.WriteString(legacy_orderedPreHash(&root.kids, legacy_eventOrder))
	rest := root.kids[:0:0]
	for _, k := range root.kids {
		switch k.name {
		case "recordTime", "eventID", "type", "errorDeclaration":
		default:
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		b.WriteString(legacy_genericPreHash(rest))
	}
	return b.String(), nil
}

// EventID renders an event hash as its CBV 2.0 eventID,
// "ni:///sha-256;<lowercase hex>?ver=CBV2.0" (RFC 6920 named information).
func legacy_EventID(h [32]byte) string {
	return "ni:///sha-256;" + hex.EncodeToString(h[:]) + "?ver=CBV2.0"
}

// EventIDError reports a string that is not an event hash ID.
type legacy_EventIDError struct {
	Input string
}

// Error quotes the rejected input.
func (e *legacy_EventIDError) Error() string {
	in := e.Input
	if len(in) > 100 {
		in = in[:100] + "…"
	}
	return fmt.Sprintf("epcis: %q is not a CBV 2.0 event ID (ni:///sha-256;<64 hex>?ver=CBV2.0) or a 64-hex hash", in)
}

// ParseEventID reads an eventID of the form EventID writes, or a bare
// 64-digit hex hash (either case), and returns the hash.
func legacy_ParseEventID(s string) ([32]byte, error) {
	var h [32]byte
	hx := s
	if rest, ok := strings.CutPrefix(s, "ni:///sha-256;"); ok {
		hx = strings.TrimSuffix(rest, "?ver=CBV2.0")
	}
	if len(hx) != 64 {
		return h, &legacy_EventIDError{Input: s}
	}
	if _, err := hex.Decode(h[:], []byte(hx)); err != nil {
		return [32]byte{}, &legacy_EventIDError{Input: s}
	}
	return h, nil
}

// ---- the reference's data model ----

// node is the reference's (name, text, children) triple; a pair node holds
// the two members of a bizTransaction/source/destination entry.
type legacy_node struct {
	name string
	text string
	kids []*legacy_node
	pair bool
}

// compareNodes orders triples as Python orders tuples.
func legacy_compareNodes(a, b *legacy_node) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := strings.Compare(a.text, b.text); c != 0 {
		return c
	}
	for i := 0; i < len(a.kids) && i < len(b.kids); i++ {
		if c := legacy_compareNodes(a.kids[i], b.kids[i]); c != 0 {
			return c
		}
	}
	return len(a.kids) - len(b.kids)
}

// hasher converts JSON into the node tree.
type legacy_hasher struct {
	ns    legacy_Context
	vocab *legacy_vocabSet
}

// value renders a string value: bare vocabulary words are replaced by
// their IRI, then a declared "prefix:" is expanded.
func (h *legacy_hasher) value(s string) string {
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
func (h *legacy_hasher) key(k string) string {
	if p, rest, ok := strings.Cut(k, ":"); ok && !strings.HasPrefix(p, "@") {
		if iri, ok := h.ns[p]; ok {
			return "{" + iri + "}" + rest
		}
	}
	return k
}

// listBreakers are the member names that stop the reference from sorting.
func legacy_isListBreaker(name string) bool {
	return name == "bizTransaction" || name == "source" || name == "destination"
}

func (h *legacy_hasher) conv(v any, depth int, entries bool) (*legacy_node, error) {
	if depth > legacy_maxHashDepth {
		return nil, &legacy_HashError{Reason: "nested too deeply"}
	}
	switch x := v.(type) {
	case string:
		return &legacy_node{text: h.value(x)}, nil
	case json.Number:
		return &legacy_node{text: legacy_pyNumberText(x)}, nil
	case bool:
		if x {
			return &legacy_node{text: "True"}, nil
		}
		return &legacy_node{text: "False"}, nil
	case nil:
		return &legacy_node{text: "None"}, nil
	case []any:
		n := &legacy_node{}
		sortIt := true
		for _, el := range x {
			if s, ok := el.(string); ok && legacy_isListBreaker(s) {
				sortIt = false
			}
			k, err := h.conv(el, depth+1, entries)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		if sortIt {
			slices.SortStableFunc(n.kids, legacy_compareNodes)
		}
		return n, nil
	case map[string]any:
		return h.convObject(x, depth, nil, entries)
	}
	return nil, &legacy_HashError{Reason: fmt.Sprintf("unsupported value %T", v)}
}

func (h *legacy_hasher) convObject(m map[string]any, depth int, ignore []string, entry bool) (*legacy_node, error) {
	if depth > legacy_maxHashDepth {
		return nil, &legacy_HashError{Reason: "nested too deeply"}
	}
	n := &legacy_node{}
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
	keys := legacy_sortedKeys(m)
	if entry {
		keys = legacy_entryMemberOrder(keys)
	}
	breaker := false
	for _, k := range keys {
		if legacy_isListBreaker(k) {
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
				n.kids = append(n.kids, &legacy_node{name: name, text: el.text, kids: el.kids})
			}
		} else {
			n.kids = append(n.kids, &legacy_node{name: name, text: child.text, kids: child.kids})
		}
	}
	if !breaker {
		slices.SortStableFunc(n.kids, legacy_compareNodes)
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
func legacy_entryMemberOrder(keys []string) []string {
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
func legacy_pyNumberText(n json.Number) string {
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
	return legacy_pyFloatRepr(f)
}

// correctStructure reshapes the tree the way the reference maps JSON onto
// the XML data model: "xList" members become an "xList" node of "x"
// children, childEPCs become epc children, and quantity elements get the
// XML element names.
func legacy_correctStructure(n *legacy_node) *legacy_node {
	kids := n.kids
	var lists []*legacy_node
	index := map[string]*legacy_node{}
	rest := kids[:0:0]
	for _, k := range kids {
		if !k.pair && strings.HasSuffix(k.name, "List") {
			l := index[k.name]
			if l == nil {
				l = &legacy_node{name: k.name}
				index[k.name] = l
				lists = append(lists, l)
			}
			l.kids = append(l.kids, &legacy_node{name: k.name[:len(k.name)-4], text: k.text, kids: k.kids})
			continue
		}
		rest = append(rest, k)
	}
	for _, l := range lists {
		switch l.name {
		case "sourceList", "destinationList", "bizTransactionList":
			pairs := make([]*legacy_node, 0, len(l.kids))
			for _, e := range l.kids {
				p := &legacy_node{pair: true}
				p.kids = e.kids[:min(2, len(e.kids)):min(2, len(e.kids))]
				pairs = append(pairs, p)
			}
			l.kids = pairs
		}
		rest = append(rest, l)
	}
	var epcs []*legacy_node
	kept := rest[:0:0]
	for _, k := range rest {
		if k.name == "childEPCs" && !k.pair {
			epcs = append(epcs, &legacy_node{name: "epc", text: k.text})
			continue
		}
		kept = append(kept, k)
	}
	if len(epcs) > 0 {
		kept = append(kept, &legacy_node{name: "childEPCs", kids: epcs})
	}
	out := make([]*legacy_node, 0, len(kept))
	for _, k := range kept {
		switch {
		case k.pair:
			out = append(out, k)
		case k.name == "sourceList" || k.name == "destinationList" || k.name == "bizTransactionList":
			out = append(out, k)
		default:
			out = append(out, legacy_correctStructure(k))
		}
	}
	name := n.name
	switch {
	case name == "inputEPC" || name == "outputEPC":
		name = "epc"
	case name == "inputQuantity" || name == "outputQuantity" || name == "childQuantity" || (name == "quantity" && len(out) > 0):
		name = "quantityElement"
	}
	return &legacy_node{name: name, text: n.text, kids: out, pair: n.pair}
}

// propOrder is the reference's canonical property order (PROP_ORDER).
type legacy_propOrder struct {
	name string
	sub  []legacy_propOrder
	none bool // matches no node (the reference's tuple-named entries)
}

var (
	legacy_epcOrder      = []legacy_propOrder{{name: "epc"}}
	legacy_quantityOrder = []legacy_propOrder{{name: "quantityElement", sub: []legacy_propOrder{{name: "epcClass"}, {name: "quantity"}, {name: "uom"}}}}
	legacy_pairOrder     = []legacy_propOrder{{none: true}}
	legacy_idOrder       = []legacy_propOrder{{name: "id"}}
	legacy_eventOrder    = []legacy_propOrder{
		{name: "eventTime"},
		{name: "eventTimeZoneOffset"},
		{name: "certificationInfo"},
		{name: "parentID"},
		{name: "epcList", sub: legacy_epcOrder},
		{name: "inputEPCList", sub: legacy_epcOrder},
		{name: "childEPCs", sub: legacy_epcOrder},
		{name: "quantityList", sub: legacy_quantityOrder},
		{name: "childQuantityList", sub: legacy_quantityOrder},
		{name: "inputQuantityList", sub: legacy_quantityOrder},
		{name: "outputEPCList", sub: legacy_epcOrder},
		{name: "outputQuantityList", sub: legacy_quantityOrder},
		{name: "action"},
		{name: "transformationID"},
		{name: "bizStep"},
		{name: "disposition"},
		{name: "persistentDisposition", sub: []legacy_propOrder{{name: "set"}, {name: "unset"}}},
		{name: "readPoint", sub: legacy_idOrder},
		{name: "bizLocation", sub: legacy_idOrder},
		{name: "bizTransactionList", sub: legacy_pairOrder},
		{name: "sourceList", sub: legacy_pairOrder},
		{name: "destinationList", sub: legacy_pairOrder},
		{name: "sensorElementList", sub: []legacy_propOrder{{name: "sensorElement", sub: []legacy_propOrder{
			{name: "sensorMetadata", sub: []legacy_propOrder{
				{name: "time"}, {name: "startTime"}, {name: "endTime"}, {name: "deviceID"},
				{name: "deviceMetadata"}, {name: "rawData"}, {name: "dataProcessingMethod"}, {name: "bizRules"},
			}},
			{name: "sensorReport", sub: []legacy_propOrder{
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
func legacy_orderedPreHash(list *[]*legacy_node, order []legacy_propOrder) string {
	var b strings.Builder
	exts := legacy_gatherExtensions(list)
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
			if s := legacy_childPreHash(c, o.sub); s != "" {
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
		kept := make([]*legacy_node, 0, len(kids))
		for i, c := range kids {
			if !removed[i] {
				kept = append(kept, c)
			}
		}
		*list = kept
	}
	if len(exts) > 0 {
		b.WriteString(legacy_genericPreHash(exts))
	}
	return b.String()
}

func legacy_childPreHash(c *legacy_node, sub []legacy_propOrder) string {
	grand := ""
	if len(sub) > 0 {
		grand = legacy_orderedPreHash(&c.kids, sub)
	}
	text := ""
	if c.text != "" {
		t := legacy_pyStrip(c.text)
		lower := strings.ToLower(c.name)
		if strings.Contains(lower, "time") && !strings.Contains(lower, "offset") {
			t = legacy_canonTime(t)
		} else {
			t = legacy_canonValue(t)
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
func legacy_gatherExtensions(list *[]*legacy_node) []*legacy_node {
	if len(*list) <= 1 {
		return nil
	}
	for _, c := range *list {
		if !c.pair && (strings.Contains(c.name, "eventTime") || strings.Contains(c.name, "action")) {
			return nil
		}
	}
	var exts []*legacy_node
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
func legacy_genericPreHash(children []*legacy_node) string {
	vals := make([]string, 0, len(children))
	sortIt := true
	for _, c := range children {
		if c.pair {
			vals = append(vals, legacy_genericPreHash(c.kids))
			continue
		}
		if legacy_isListBreaker(c.name) {
			sortIt = false
		}
		text := legacy_pyStrip(c.text)
		if text != "" {
			text = "=" + legacy_canonValue(text)
		}
		vals = append(vals, c.name+text+legacy_genericPreHash(c.kids))
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
func legacy_normalizeJSON(v any, depth int) (any, error) {
	if depth > legacy_maxHashDepth {
		return nil, &legacy_HashError{Reason: "nested too deeply"}
	}
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil && !legacy_isJSONNumber(string(x)) {
			return nil, &legacy_HashError{Reason: fmt.Sprintf("invalid number %q", string(x))}
		}
		return x, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			n, err := legacy_normalizeJSON(el, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case Event:
		return legacy_normalizeJSON(map[string]any(x), depth)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			n, err := legacy_normalizeJSON(el, depth+1)
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
			return nil, &legacy_HashError{Reason: err.Error()}
		}
		return json.Number(b), nil
	}
	// Anything else (structs, typed maps and slices): through JSON.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &legacy_HashError{Reason: fmt.Sprintf("unsupported value %T: %v", v, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, &legacy_HashError{Reason: err.Error()}
	}
	return legacy_normalizeJSON(out, depth)
}

// isJSONNumber reports whether s is a JSON number literal (ParseFloat
// rejects out-of-range ones that JSON allows, such as 1e400).
func legacy_isJSONNumber(s string) bool {
	return json.Valid([]byte(s)) && s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}

// ---- canon.go ----

// This file holds the value canonicalisation of the CBV 2.0 event hash as
// GS1's reference implementation (RalphTro/epcis-event-hash-generator)
// performs it. Its quirks are kept on purpose: the hash must come out the
// same, so "what Python does" is the specification here.

// canonValue runs a (stripped) value through every canonicalisation the
// reference applies to a non-time value: legacy CBV URNs become web
// vocabulary IRIs, numeric strings are normalised, GS1 identifiers become
// canonical Digital Link URIs.
func legacy_canonValue(s string) string {
	return legacy_toDigitalLink(legacy_pyNumeric(legacy_webVocabulary(s)))
}

// toDigitalLink is the one place the hash canonicalises GS1 identifiers
// (EPC URNs and Digital Link URIs); epc.ToDigitalLink returns what the
// reference hashes whatever its error says, so the error is not needed.
func legacy_toDigitalLink(s string) string {
	return legacy_cbvToDigitalLink(s)
}

// webVocabulary rewrites the legacy CBV URN prefixes wherever they occur.
var legacy_webVocabulary = strings.NewReplacer(
	"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
	"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-",
	"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-",
	"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-",
	"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-",
).Replace

// pyStrip trims what Python's str.strip() trims: Unicode whitespace in
// Python's sense, which includes the information separators U+001C..U+001F.
func legacy_pyStrip(s string) string {
	return strings.TrimFunc(s, legacy_isPySpace)
}

func legacy_isPySpace(r rune) bool {
	if r >= 0x1c && r <= 0x1f {
		return true
	}
	return unicode.IsSpace(r) || r == 0x1680 || r == 0x2028 || r == 0x2029
}

// pyNumeric normalises a numeric-looking string the way the reference does
// (float(text), integral values printed as Python ints, others as Python's
// repr of the float): "0042" → "42", "+1.50" → "1.5", "1e-5" → "1e-05".
// Strings Python's float() rejects stay as they are, and so do NaN and the
// infinities (the reference crashes on "inf"; keeping the text is ours).
func legacy_pyNumeric(s string) string {
	f, ok := legacy_pyParseFloat(s)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return s
	}
	if f == math.Trunc(f) {
		return legacy_pyIntOfFloat(f)
	}
	return legacy_pyFloatRepr(f)
}

// pyParseFloat accepts exactly the ASCII syntax of Python's float(): an
// optional sign, digits with single underscores between them, an optional
// fraction and exponent, or nan/inf/infinity in any case, surrounded by
// optional whitespace. (Python also accepts non-ASCII Unicode digits; GS1
// data has none and tracegate does not.)
func legacy_pyParseFloat(s string) (float64, bool) {
	s = legacy_pyStrip(s)
	if s == "" {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "nan", "inf", "infinity":
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil || math.IsInf(f, 0)
	}
	var b strings.Builder
	if s[0] == '-' {
		b.WriteByte('-')
	}
	i := 0
	digits := func() bool { // digitpart: digit (["_"] digit)*
		start := i
		for i < len(body) {
			c := body[i]
			if c >= '0' && c <= '9' {
				b.WriteByte(c)
				i++
				continue
			}
			if c == '_' && i > start && i+1 < len(body) && body[i+1] >= '0' && body[i+1] <= '9' {
				i++
				continue
			}
			break
		}
		return i > start
	}
	intPart := digits()
	fracPart := false
	if i < len(body) && body[i] == '.' {
		b.WriteByte('.')
		i++
		fracPart = digits()
	}
	if !intPart && !fracPart {
		return 0, false
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		b.WriteByte('e')
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			b.WriteByte(body[i])
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	if i != len(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	if err != nil && !math.IsInf(f, 0) {
		// Out-of-range exponents: Python yields inf or 0.0 like Go does.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

// pyIntOfFloat prints the exact integer value of an integral float64, as
// Python's str(int(f)) does ("1e20" → "100000000000000000000").
func legacy_pyIntOfFloat(f float64) string {
	if f == 0 {
		return "0" // int(-0.0) is 0
	}
	if math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	bi, _ := new(big.Float).SetFloat64(f).Int(nil)
	return bi.String()
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits,
// positional when the decimal exponent is in [-4, 16), scientific with a
// sign and at least two exponent digits otherwise.
func legacy_pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	neg := strings.HasPrefix(e, "-")
	if neg {
		e = e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	var out string
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			out = "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			out = digits[:decpt] + "." + digits[decpt:]
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		out = m + "e" + sign + es
	}
	if neg {
		return "-" + out
	}
	return out
}

// canonTime converts a timestamp to UTC with exactly three fractional
// digits ("2005-04-05T02:33:31.116Z"): fractions beyond microseconds are
// cut (as dateutil does), microseconds round half-to-even to milliseconds.
// A value that is not a timestamp is returned unchanged, as the reference
// does. Timestamps without a zone are taken as UTC (the reference uses the
// machine's local zone, which is UTC on GS1's and tracegate's machines).
func legacy_canonTime(s string) string {
	t, ok := legacy_parseTimestamp(s)
	if !ok {
		return s
	}
	return legacy_formatMillisUTC(t)
}

// formatMillisUTC formats t in UTC with exactly three fractional digits,
// after rounding its microseconds half-to-even to milliseconds.
func legacy_formatMillisUTC(t time.Time) string {
	t = t.UTC()
	us := t.Nanosecond() / 1000
	ms := us / 1000
	rem := us % 1000
	if rem > 500 || (rem == 500 && ms%2 == 1) {
		ms++
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).
		Add(time.Duration(ms) * time.Millisecond)
	return t.Format("2006-01-02T15:04:05.000Z")
}

// parseTimestamp reads an ISO 8601 / RFC 3339 date-time: YYYY-MM-DD, "T" or
// a space, hh:mm[:ss[.fraction]], then "Z", ±hh:mm, ±hhmm, ±hh or nothing.
func legacy_parseTimestamp(s string) (time.Time, bool) {
	p := legacy_tsParser{s: s}
	year, ok1 := p.num(4)
	ok2 := p.lit('-')
	month, ok3 := p.num(2)
	ok4 := p.lit('-')
	day, ok5 := p.num(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, false
	}
	if !p.lit('T') && !p.lit('t') && !p.lit(' ') {
		return time.Time{}, false
	}
	hour, ok1 := p.num(2)
	ok2 = p.lit(':')
	minute, ok3 := p.num(2)
	if !(ok1 && ok2 && ok3) {
		return time.Time{}, false
	}
	sec, nanos := 0, 0
	if p.lit(':') {
		var ok bool
		if sec, ok = p.num(2); !ok {
			return time.Time{}, false
		}
		if p.lit('.') || p.lit(',') {
			n := 0
			digits := 0
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				if digits < 6 {
					n = n*10 + int(p.s[p.i]-'0')
				}
				digits++
				p.i++
			}
			if digits == 0 {
				return time.Time{}, false
			}
			for d := digits; d < 6; d++ {
				n *= 10
			}
			nanos = n * 1000
		}
	}
	loc := time.UTC
	if p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case 'Z', 'z':
			p.i++
		case '+', '-':
			p.i++
			oh, ok := p.num(2)
			if !ok {
				return time.Time{}, false
			}
			om := 0
			if p.lit(':') {
				if om, ok = p.num(2); !ok {
					return time.Time{}, false
				}
			} else if p.i < len(p.s) {
				if om, ok = p.num(2); !ok {
					return time.Time{}, false
				}
			}
			if oh > 23 || om > 59 {
				return time.Time{}, false
			}
			off := oh*3600 + om*60
			if c == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return time.Time{}, false
		}
	}
	if p.i != len(p.s) {
		return time.Time{}, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > legacy_daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc), true
}

type legacy_tsParser struct {
	s string
	i int
}

func (p *legacy_tsParser) num(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for k := 0; k < n; k++ {
		c := p.s[p.i+k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

func (p *legacy_tsParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func legacy_daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ---- expand.go ----

// The reference hash implementation expands the document with a JSON-LD
// processor, keeps every expanded string value that lies in the CBV or GS1
// web vocabulary, and then replaces any bare value v of the input for which
// exactly one of those IRIs ends in "-v" or "/v" ("receiving" becomes
// https://ref.gs1.org/cbv/BizStep-receiving, "Temperature" becomes
// https://gs1.org/voc/Temperature). This file reproduces the part of JSON-LD
// expansion that can yield such IRIs, using the standard context's term
// definitions (scoped contexts included) and the document's own prefixes,
// without fetching anything.

// vocabPrefixes are the namespaces whose IRIs take part in the replacement.
var legacy_vocabPrefixes = [...]string{"https://ref.gs1.org/cbv", "https://gs1.org/voc"}

// activeCtx is a JSON-LD active context: property-scoped contexts from the
// standard context (innermost first), the standard context, then the
// document's own definitions (which may not override protected standard
// terms).
type legacy_activeCtx struct {
	scoped *legacy_scopeLink
	inline *legacy_inlineLink
}

type legacy_scopeLink struct {
	s    *legacy_ldScope
	next *legacy_scopeLink
}

type legacy_inlineLink struct {
	terms map[string]*legacy_termDef
	vocab string
	next  *legacy_inlineLink
}

func (a legacy_activeCtx) lookup(term string) *legacy_termDef {
	for l := a.scoped; l != nil; l = l.next {
		if d := l.s.terms[term]; d != nil {
			return d
		}
	}
	if d := legacy_stdScope.terms[term]; d != nil {
		return d
	}
	for l := a.inline; l != nil; l = l.next {
		if d := l.terms[term]; d != nil {
			return d
		}
	}
	return nil
}

func (a legacy_activeCtx) vocab() string {
	for l := a.inline; l != nil; l = l.next {
		if l.vocab != "" {
			return l.vocab
		}
	}
	return ""
}

func (a legacy_activeCtx) withScope(s *legacy_ldScope) legacy_activeCtx {
	return legacy_activeCtx{scoped: &legacy_scopeLink{s: s, next: a.scoped}, inline: a.inline}
}

// withPrefixes adds a layer of document definitions.
func (a legacy_activeCtx) withPrefixes(ctx legacy_Context) legacy_activeCtx {
	if len(ctx) == 0 {
		return a
	}
	l := &legacy_inlineLink{terms: make(map[string]*legacy_termDef, len(ctx)), next: a.inline}
	for k, v := range ctx {
		if k == "@vocab" {
			l.vocab = v
			continue
		}
		l.terms[k] = &legacy_termDef{iri: v, prefix: legacy_endsWithGenDelim(v) && strings.Contains(v, ":")}
	}
	// Definitions may use each other's prefixes ("ex": "foo:bar/").
	for _, d := range l.terms {
		if i := strings.Index(d.iri, ":"); i > 0 && !strings.HasPrefix(d.iri[i+1:], "//") {
			if p := (legacy_activeCtx{inline: l}).lookup(d.iri[:i]); p != nil && p.prefix && p != d {
				d.iri = p.iri + d.iri[i+1:]
			}
		}
	}
	return legacy_activeCtx{scoped: a.scoped, inline: l}
}

// expandIRI expands a value the way JSON-LD IRI expansion does, with
// vocab for @vocab-typed values and @type, without for @id values.
func (a legacy_activeCtx) expandIRI(v string, vocab bool) string {
	if strings.HasPrefix(v, "@") {
		return ""
	}
	if vocab {
		if d := a.lookup(v); d != nil {
			if strings.HasPrefix(d.iri, "@") {
				return ""
			}
			return d.iri
		}
	}
	if i := strings.Index(v, ":"); i > 0 {
		p, suffix := v[:i], v[i+1:]
		if p == "_" || strings.HasPrefix(suffix, "//") {
			return v
		}
		if d := a.lookup(p); d != nil && d.prefix {
			return d.iri + suffix
		}
		return v
	}
	if vocab {
		if voc := a.vocab(); voc != "" {
			return voc + v
		}
	}
	return v
}

// vocabSet collects the expanded CBV/GS1 vocabulary IRIs of a JSON value.
type legacy_vocabSet struct {
	iris  []string
	depth int
}

func (s *legacy_vocabSet) add(iri string) {
	for _, p := range legacy_vocabPrefixes {
		if strings.HasPrefix(iri, p) {
			for _, x := range s.iris {
				if x == iri {
					return
				}
			}
			s.iris = append(s.iris, iri)
			return
		}
	}
}

// walkNode visits a JSON-LD node object.
func (s *legacy_vocabSet) walkNode(obj map[string]any, a legacy_activeCtx) {
	if s.depth > legacy_maxHashDepth {
		return
	}
	s.depth++
	defer func() { s.depth-- }()
	if c, ok := obj["@context"]; ok {
		if extra, err := legacy_ContextOf(map[string]any{"@context": c}); err == nil {
			a = a.withPrefixes(extra)
		}
	}
	for k, v := range obj {
		if k == "@context" {
			continue
		}
		d := a.lookup(k)
		kw := k
		if d != nil && strings.HasPrefix(d.iri, "@") {
			kw = d.iri
		}
		switch {
		case kw == "@id":
			if str, ok := v.(string); ok {
				s.add(a.expandIRI(str, false))
			}
		case kw == "@type":
			legacy_forStrings(v, func(str string) { s.add(a.expandIRI(str, true)) })
		case kw == "@value":
			if str, ok := v.(string); ok {
				s.add(str)
			}
		case kw == "@list" || kw == "@set" || kw == "@graph" || kw == "@included":
			s.walkValue(v, a, "")
		case strings.HasPrefix(kw, "@"):
			// other keywords carry no vocabulary values
		case d != nil:
			inner := a
			if d.scoped != nil {
				inner = a.withScope(d.scoped)
			}
			s.walkValue(v, inner, d.typ)
		case strings.Index(k, ":") > 0 || a.vocab() != "":
			s.walkValue(v, a, "")
		default:
			// JSON-LD drops properties that do not expand to an IRI.
		}
	}
}

// walkValue visits the value of a property with type mapping typ.
func (s *legacy_vocabSet) walkValue(v any, a legacy_activeCtx, typ string) {
	switch x := v.(type) {
	case string:
		switch typ {
		case "@id":
			s.add(a.expandIRI(x, false))
		case "@vocab":
			s.add(a.expandIRI(x, true))
		default:
			s.add(x)
		}
	case []any:
		for _, el := range x {
			s.walkValue(el, a, typ)
		}
	case map[string]any:
		if val, ok := x["@value"]; ok {
			if str, ok := val.(string); ok {
				s.add(str)
			}
			return
		}
		s.walkNode(x, a)
	}
}

func legacy_forStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, el := range x {
			if str, ok := el.(string); ok {
				f(str)
			}
		}
	}
}

// replacement returns the vocabulary IRI a bare value stands for: the one
// IRI of the set ending in "-v" or "/v", if exactly one does.
func (s *legacy_vocabSet) replacement(v string) (string, bool) {
	found := ""
	n := 0
	for _, iri := range s.iris {
		if len(iri) > len(v) && strings.HasSuffix(iri, v) {
			if c := iri[len(iri)-len(v)-1]; c == '-' || c == '/' {
				found = iri
				n++
			}
		}
	}
	return found, n == 1
}

// eventVocab collects the vocabulary IRIs of one event under ctx.
func legacy_eventVocab(e map[string]any, ctx legacy_Context) *legacy_vocabSet {
	s := &legacy_vocabSet{}
	s.walkNode(e, legacy_activeCtx{}.withPrefixes(ctx))
	return s
}

// ---- context.go ----

// StandardContextIRI is the JSON-LD context of EPCIS 2.0 documents; its
// terms are built into this package (from an embedded copy), never fetched.
const legacy_StandardContextIRI = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// legacyContextIRI is the context IRI GS1's drafts and some examples use;
// it differs from StandardContextIRI only in the datatype of quantity.
const legacy_legacyContextIRI = "https://gs1.github.io/EPCIS/epcis-context.jsonld"

// Namespace is tracegate's namespace for EPCIS extensions; events the edge
// makes bind it to the prefix "tg".
const legacy_Namespace = "https://tracegate.dev/ns/epcis/"

//go:embed standard/ref.gs1.org-epcis-2.0.0-context.jsonld
var legacy_standardContextJSON []byte

// Context holds the namespace prefixes a document declares in its own
// @context (prefix -> IRI). The terms of the standard EPCIS/CBV context are
// built in and need not be listed: ContextOf recognises the standard context
// IRIs without fetching them.
//
// Prefixes the standard context defines (gs1, cbv, cbvmda …) are not added
// to a Context unless the document declares them itself: GS1's reference
// hash implementation resolves "prefix:name" keys and values only through
// the document's own declarations, so adding them would change event hashes.
type legacy_Context map[string]string

// ContextError reports an @context that cannot be read.
type legacy_ContextError struct {
	Reason string
}

// Error describes the @context problem.
func (e *legacy_ContextError) Error() string { return "epcis: @context: " + e.Reason }

// ContextOf reads the namespace prefixes of a document (or of an event that
// carries its own @context). The standard context IRIs are recognised;
// other remote context IRIs cannot be resolved offline and are skipped.
// Term definitions that are objects contribute their "@id".
func legacy_ContextOf(doc map[string]any) (legacy_Context, error) {
	raw, ok := doc["@context"]
	if !ok || raw == nil {
		return legacy_Context{}, nil
	}
	ctx := legacy_Context{}
	if err := legacy_addContext(ctx, raw, 0); err != nil {
		return nil, err
	}
	return ctx, nil
}

func legacy_addContext(ctx legacy_Context, raw any, depth int) error {
	if depth > 8 {
		return &legacy_ContextError{Reason: "nested too deeply"}
	}
	switch c := raw.(type) {
	case string:
		return nil // a context IRI: the standard ones are built in
	case []any:
		for _, item := range c {
			if err := legacy_addContext(ctx, item, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, v := range c {
			if k == "" {
				continue
			}
			if strings.HasPrefix(k, "@") && k != "@vocab" {
				continue
			}
			switch d := v.(type) {
			case string:
				ctx[k] = d
			case map[string]any:
				if id, ok := d["@id"].(string); ok && k != "@vocab" {
					ctx[k] = id
				}
			}
		}
		return nil
	case nil:
		return nil
	default:
		return &legacy_ContextError{Reason: fmt.Sprintf("unexpected %T", raw)}
	}
}

// contextValue renders ctx as a JSON-LD @context value: the standard
// context IRI followed by the prefixes, if any.
func legacy_contextValue(ctx legacy_Context) []any {
	out := []any{legacy_StandardContextIRI}
	if len(ctx) > 0 {
		m := make(map[string]any, len(ctx))
		for k, v := range ctx {
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}

// ---- the standard context as a small JSON-LD active context ----

// termDef is one JSON-LD term definition.
type legacy_termDef struct {
	iri    string          // expanded IRI, or a keyword such as "@id"
	typ    string          // type mapping: "@id", "@vocab", a datatype IRI or ""
	prefix bool            // usable as the prefix of a compact IRI
	scoped *legacy_ldScope // property-scoped context, nil if none
}

// ldScope is a set of term definitions.
type legacy_ldScope struct {
	terms  map[string]*legacy_termDef
	vocab  string
	parent *legacy_ldScope // the scope it was defined in, for compact IRIs in it
}

// stdScope is the standard context's top-level scope.
var legacy_stdScope *legacy_ldScope

// cbvTerms maps, per CBV vocabulary (BizStep, Disp, BTT, SDT), the short
// names of the standard context to their IRIs; measurementTerms and
// alertTerms do the same for sensor report types and exceptions.
var (
	legacy_bizStepTerms     map[string]string
	legacy_dispTerms        map[string]string
	legacy_bttTerms         map[string]string
	legacy_sdtTerms         map[string]string
	legacy_measurementTerms map[string]string
	legacy_alertTerms       map[string]string
)

func init() {
	var doc map[string]any
	if err := json.Unmarshal(legacy_standardContextJSON, &doc); err != nil {
		panic("epcis: embedded standard context: " + err.Error())
	}
	root, _ := doc["@context"].(map[string]any)
	legacy_stdScope = legacy_parseScope(root, nil)
	vocabOf := func(path ...string) map[string]string {
		s := legacy_stdScope
		var d *legacy_termDef
		for _, p := range path {
			d = s.terms[p]
			if d == nil || d.scoped == nil {
				panic("epcis: standard context lacks " + strings.Join(path, "/"))
			}
			s = d.scoped
		}
		out := map[string]string{}
		for k, t := range s.terms {
			if strings.HasPrefix(t.iri, "https://ref.gs1.org/cbv/") || strings.HasPrefix(t.iri, "https://gs1.org/voc/") {
				out[k] = t.iri
			}
		}
		return out
	}
	legacy_bizStepTerms = vocabOf("bizStep")
	legacy_dispTerms = vocabOf("disposition")
	legacy_bttTerms = vocabOf("bizTransactionList", "type")
	legacy_sdtTerms = vocabOf("sourceList", "type")
	legacy_measurementTerms = vocabOf("sensorElementList", "sensorReport", "type")
	legacy_alertTerms = vocabOf("sensorElementList", "sensorReport", "exception")
}

// parseScope reads a JSON-LD context object (or array of them) into term
// definitions; compact IRIs resolve through the scope itself and then outer.
func legacy_parseScope(raw any, outer *legacy_ldScope) *legacy_ldScope {
	s := &legacy_ldScope{terms: map[string]*legacy_termDef{}, parent: outer}
	var objs []map[string]any
	switch c := raw.(type) {
	case map[string]any:
		objs = []map[string]any{c}
	case []any:
		for _, x := range c {
			if m, ok := x.(map[string]any); ok {
				objs = append(objs, m)
			}
		}
	}
	lookup := func(p string) *legacy_termDef {
		for sc := s; sc != nil; sc = sc.parent {
			if d := sc.terms[p]; d != nil {
				return d
			}
		}
		return nil
	}
	expand := func(v string) string {
		if i := strings.Index(v, ":"); i > 0 {
			if d := lookup(v[:i]); d != nil && d.prefix {
				return d.iri + v[i+1:]
			}
		}
		if d := lookup(v); d != nil {
			return d.iri
		}
		return v
	}
	// Prefix definitions first, so later terms can use them in any order.
	for _, m := range objs {
		for k, v := range m {
			if str, ok := v.(string); ok && !strings.HasPrefix(k, "@") && legacy_endsWithGenDelim(str) && strings.Contains(str, ":") {
				s.terms[k] = &legacy_termDef{iri: str, prefix: true}
			}
		}
	}
	for _, m := range objs {
		for k, v := range m {
			if k == "@vocab" {
				if str, ok := v.(string); ok {
					s.vocab = str
				}
				continue
			}
			if strings.HasPrefix(k, "@") {
				continue
			}
			switch d := v.(type) {
			case string:
				if s.terms[k] != nil && s.terms[k].prefix {
					continue
				}
				s.terms[k] = &legacy_termDef{iri: expand(d)}
			case map[string]any:
				td := &legacy_termDef{}
				if id, ok := d["@id"].(string); ok {
					td.iri = expand(id)
				} else {
					td.iri = expand(k)
				}
				if t, ok := d["@type"].(string); ok {
					if strings.HasPrefix(t, "@") {
						td.typ = t
					} else {
						td.typ = expand(t)
					}
				}
				if p, ok := d["@prefix"].(bool); ok {
					td.prefix = p
				}
				if sc, ok := d["@context"]; ok {
					td.scoped = legacy_parseScope(sc, s)
				}
				s.terms[k] = td
			}
		}
	}
	return s
}

// endsWithGenDelim reports whether an IRI ends with a URI gen-delim
// character, which makes a simple term definition a prefix (JSON-LD 1.1).
func legacy_endsWithGenDelim(iri string) bool {
	if iri == "" {
		return false
	}
	switch iri[len(iri)-1] {
	case ':', '/', '?', '#', '[', ']', '@':
		return true
	}
	return false
}

// sortedKeys returns m's keys in byte order.
func legacy_sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- standalone.go ----

// Standalone returns a copy of e that carries its own "@context": the
// standard context IRI plus exactly the prefixes of ctx (and of e's own
// @context, which ctx overrides) that e uses, so the event alone, e.g.
// inside a proof file, can be re-hashed by anyone:
// Hash(e.Standalone(ctx), nil) == Hash(e, ctx).
//
// A prefix counts as used when a member name or string value of e starts
// with "prefix:" or is the prefix itself (a bare term). The copy is
// shallow below the top level: nested values are shared with e.
func legacy_standalone(e Event, ctx legacy_Context) Event {
	merged := legacy_Context{}
	if _, ok := e["@context"]; ok {
		if own, err := legacy_ContextOf(e); err == nil {
			merged = own
		}
	}
	for k, v := range ctx {
		merged[k] = v
	}
	used := legacy_Context{}
	if len(merged) > 0 {
		var visit func(v any, depth int)
		mark := func(s string) {
			p, _, found := strings.Cut(s, ":")
			if iri, ok := merged[p]; ok {
				used[p] = iri
			} else if iri, ok := merged[s]; ok && !found {
				used[s] = iri
			}
		}
		visit = func(v any, depth int) {
			if depth > legacy_maxHashDepth {
				return
			}
			switch x := v.(type) {
			case string:
				mark(x)
			case []any:
				for _, el := range x {
					visit(el, depth+1)
				}
			case []string:
				for _, el := range x {
					mark(el)
				}
			case map[string]any:
				for k, el := range x {
					if k == "@context" && depth == 0 {
						continue
					}
					mark(k)
					visit(el, depth+1)
				}
			case Event:
				visit(map[string]any(x), depth)
			}
		}
		visit(map[string]any(e), 0)
		if voc, ok := merged["@vocab"]; ok {
			used["@vocab"] = voc
		}
	}
	out := make(Event, len(e)+1)
	for k, v := range e {
		out[k] = v
	}
	out["@context"] = legacy_contextValue(used)
	return out
}

// ---- builder.go ----

// NewObjectEvent builds the JSON-LD form of an ObjectEvent. Without EPCs
// and with sensor data it is a sensor-only observation as in GS1's sensor
// examples (no epcList, readPoint required by the schema); without either
// it has an empty epcList. eventTime is written in UTC with millisecond
// precision (rounded), so the hash never has to round it.
//
// GS1 measurement types and sensor alert types are written as the bare
// terms of the standard context ("Temperature"), the form GS1's examples
// use, whatever form they are given in: the CBV 2.0 hash then reads them
// as https://gs1.org/voc/Temperature, as it does in XML, whereas the
// reference hashes a JSON "gs1:Temperature" as written.
//
// The event is in the form a JSON round trip gives (numbers as
// json.Number), so Hash sees the same event before and after storage.
func legacy_NewObjectEvent(f ObjectEventFields) Event {
	e := Event{
		"type":                "ObjectEvent",
		"eventTime":           legacy_formatEventTime(f.Time),
		"eventTimeZoneOffset": legacy_tzOffset(f.Time, f.TZOffset),
		"action":              f.Action,
	}
	switch {
	case len(f.EPCs) > 0:
		l := make([]any, len(f.EPCs))
		for i, s := range f.EPCs {
			l[i] = s
		}
		e["epcList"] = l
	case f.Sensor == nil || f.ReadPoint == "":
		e["epcList"] = []any{}
	}
	if f.BizStep != "" {
		e["bizStep"] = f.BizStep
	}
	if f.Disposition != "" {
		e["disposition"] = f.Disposition
	}
	if f.ReadPoint != "" {
		e["readPoint"] = map[string]any{"id": f.ReadPoint}
	}
	if f.BizLocation != "" {
		e["bizLocation"] = map[string]any{"id": f.BizLocation}
	}
	if f.Sensor != nil {
		e["sensorElementList"] = []any{legacy_sensorJSONLD(f.Sensor)}
	}
	for k, v := range f.Extensions {
		if _, taken := e[k]; !taken {
			e[k] = v
		}
	}
	norm, err := legacy_normalizeJSON(map[string]any(e), 0)
	if err != nil {
		// Only extension values that JSON cannot hold (NaN, channels …)
		// get here; the event stays as built and Hash reports them.
		return e
	}
	return Event(norm.(map[string]any))
}

func legacy_sensorJSONLD(s *SensorElement) map[string]any {
	el := map[string]any{}
	md := map[string]any{}
	if !s.Time.IsZero() {
		md["time"] = legacy_formatEventTime(s.Time)
	}
	if s.DeviceID != "" {
		md["deviceID"] = s.DeviceID
	}
	if len(md) > 0 {
		el["sensorMetadata"] = md
	}
	reps := make([]any, 0, len(s.Reports))
	for _, r := range s.Reports {
		rep := map[string]any{"type": legacy_gs1Term(r.Type, legacy_measurementTerms), "value": r.Value}
		if r.UOM != "" {
			rep["uom"] = r.UOM
		}
		if r.Exception != "" {
			rep["exception"] = legacy_gs1Term(r.Exception, legacy_alertTerms)
		}
		if !r.Time.IsZero() {
			rep["time"] = legacy_formatEventTime(r.Time)
		}
		reps = append(reps, rep)
	}
	el["sensorReport"] = reps
	return el
}

// gs1Term writes a GS1 vocabulary value as its bare standard-context term
// when it is one.
func legacy_gs1Term(v string, terms map[string]string) string {
	for _, p := range []string{"gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/"} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			if _, known := terms[rest]; known {
				return rest
			}
		}
	}
	return v
}

// formatEventTime writes t in UTC with milliseconds, rounded half up.
func legacy_formatEventTime(t time.Time) string {
	return t.Round(time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
}

// tzOffset returns the given offset or t's own, as "+hh:mm".
func legacy_tzOffset(t time.Time, given string) string {
	if given != "" {
		return given
	}
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// ---- cbv.go ----

// cbvToDigitalLink is what epc.ToDigitalLink returned as its string.
func legacy_cbvToDigitalLink(uri string) string {
	if out, res := legacy_cbvNormalise(uri); res == legacy_cbvConverted {
		return out
	}
	return uri
}

const legacy_hexUpper = "0123456789ABCDEF"

type legacy_cbvResult uint8

const (
	legacy_cbvUnchanged legacy_cbvResult = iota // the reference returns None
	legacy_cbvConverted                         // the reference returns a string
	legacy_cbvFails                             // the reference raises an exception
)

// cbvNormalise mirrors normaliser(). The reference is Python: it indexes
// strings by code point and its regular expressions are str patterns, so
// this works on runes and \d is unicode.IsDigit (category Nd).
func legacy_cbvNormalise(s string) (string, legacy_cbvResult) {
	if strings.IndexByte(s, '.') < 0 {
		return "", legacy_cbvUnchanged
	}
	// Every branch of the reference needs one of these prefixes.
	if !strings.HasPrefix(s, "urn:epc:") && !strings.HasPrefix(s, "http:") && !strings.HasPrefix(s, "https:") {
		return "", legacy_cbvUnchanged
	}
	u := []rune(s)
	if legacy_hasPrefixR(u, "urn:epc:") {
		if out, res, ok := legacy_cbvEPC(u); ok {
			return out, res
		}
		return "", legacy_cbvUnchanged
	}
	return legacy_cbvDL(u)
}

// --- small helpers with Python semantics ---------------------------------

func legacy_hasPrefixR(u []rune, p string) bool {
	if len(u) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if u[i] != rune(p[i]) {
			return false
		}
	}
	return true
}

func legacy_indexR(u []rune, p string) int {
	for i := 0; i+len(p) <= len(u); i++ {
		if legacy_hasPrefixR(u[i:], p) {
			return i
		}
	}
	return -1
}

func legacy_lastIndexR(u []rune, c rune) int {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == c {
			return i
		}
	}
	return -1
}

// pySlice is Python's s[a:b].
func legacy_pySlice(u []rune, a, b int) []rune {
	n := len(u)
	norm := func(i int) int {
		if i < 0 {
			i += n
		}
		return max(0, min(i, n))
	}
	a, b = norm(a), norm(b)
	if a >= b {
		return nil
	}
	return u[a:b]
}

func legacy_pyFrom(u []rune, a int) []rune { return legacy_pySlice(u, a, len(u)) }

func legacy_cat(parts ...[]rune) []rune {
	var out []rune
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func legacy_isNd(r rune) bool { return unicode.IsDigit(r) }

// ndValue is Python's int() of one character: the decimal value of a
// Unicode Nd digit. Nd digits come in runs of ten starting at zero.
func legacy_ndValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if !legacy_isNd(r) {
		return 0, false
	}
	for _, rg := range unicode.Digit.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Digit.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}

// pyCheckDigit is the reference's check_digit(); false where int() raises.
func legacy_pyCheckDigit(raw []rune) (rune, bool) {
	sum := 0
	for i := range raw {
		v, ok := legacy_ndValue(raw[len(raw)-1-i])
		if !ok {
			return 0, false
		}
		if i%2 == 0 {
			sum += 3 * v
		} else {
			sum += v
		}
	}
	return rune('0' + (10-sum%10)%10), true
}

// pyDollar drops one trailing newline: the reference's patterns end in $,
// which also matches just before a final "\n", and none of their character
// classes can take the newline itself.
func legacy_pyDollar(u []rune) []rune {
	if n := len(u); n > 0 && u[n-1] == '\n' {
		return u[:n-1]
	}
	return u
}

func legacy_ndRun(u []rune, i int) int {
	n := 0
	for i+n < len(u) && legacy_isNd(u[i+n]) {
		n++
	}
	return n
}

// --- EPC URIs --------------------------------------------------------------

// epcUnit reports the length of one component character of the
// reference's EPC patterns at u[i:] (a literal or a %-escape), 0 if none.
// cpi selects the CPI component/part reference class.
func legacy_epcUnit(u []rune, i int, cpi bool) int {
	if i >= len(u) {
		return 0
	}
	c := u[i]
	if c != '%' {
		if cpi {
			if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-' {
				return 1
			}
			return 0
		}
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strings.ContainsRune("!')(*+,.:;=_-", c) {
			return 1
		}
		return 0
	}
	if i+2 >= len(u) {
		return 0
	}
	h, l := u[i+1], u[i+2]
	in := func(set string) bool { return strings.ContainsRune(set, l) }
	var ok bool
	if cpi {
		switch h {
		case '2':
			ok = in("3dfDF")
		case '3':
			ok = in("0123456789")
		case '4':
			ok = in("123456789ABCDEFabcdef")
		case '5':
			ok = in("0123456789Aa")
		}
	} else {
		switch h {
		case '2':
			ok = in("1256789ABCDEFabcdef")
		case '3':
			ok = in("0123456789ABCDEFabcdef")
		case '4', '6':
			ok = in("123456789ABCDEFabcdef")
		case '5':
			ok = in("0123456789AaFf")
		case '7':
			ok = in("0123456789Aa")
		}
	}
	if ok {
		return 3
	}
	return 0
}

// epcUnits counts component characters from i up to stop (or the end when
// stop is 0); ok is false when something else is found first. end is
// where counting stopped.
func legacy_epcUnits(u []rune, i int, cpi bool, stop rune) (count, end int, ok bool) {
	for i < len(u) {
		if stop != 0 && u[i] == stop {
			return count, i, true
		}
		w := legacy_epcUnit(u, i, cpi)
		if w == 0 {
			return count, i, false
		}
		i += w
		count++
	}
	return count, i, stop == 0
}

// gcpRef matches the reference's (\d{k}\.\d{total-k}) alternatives, k = 6…12,
// at u[i:]; with total 12 the k = 12 alternative is "\d{12}\." or, where
// the reference writes it so, "\d{12}\.\." (dot2). It returns k and the
// index after the match.
func legacy_gcpRef(u []rune, i, total int, dot2 bool) (k, j int, ok bool) {
	k = legacy_ndRun(u, i)
	if k < 6 || k > 12 || i+k >= len(u) || u[i+k] != '.' {
		return 0, 0, false
	}
	ref := total - k
	j = i + k + 1
	if ref > 0 {
		if legacy_ndRun(u, j) < ref {
			return 0, 0, false
		}
		return k, j + ref, true
	}
	if dot2 {
		if j >= len(u) || u[j] != '.' {
			return 0, 0, false
		}
		j++
	}
	return k, j, true
}

func legacy_unitsToEnd(u []rune, i, lo, hi int) bool {
	n, _, ok := legacy_epcUnits(u, i, false, 0)
	return ok && n >= lo && n <= hi
}

func legacy_digitsToEnd(u []rune, i, lo, hi int) bool {
	n := legacy_ndRun(u, i)
	return i+n == len(u) && n >= lo && n <= hi
}

func legacy_litAt(u []rune, i int, s string) bool { return i <= len(u) && legacy_hasPrefixR(u[i:], s) }

// webEscape is the reference's __web_uri_percent_encoder.
func legacy_webEscape(v []rune) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '!', '(', ')', '*', '+', ',', ':':
			b.WriteByte('%')
			b.WriteByte(legacy_hexUpper[r>>4])
			b.WriteByte(legacy_hexUpper[r&15])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cbvEPC handles the EPC URI, class URI and ID pattern URI branches. ok is
// false when no branch matches.
func legacy_cbvEPC(u []rune) (out string, res legacy_cbvResult, ok bool) {
	m := legacy_pyDollar(u)
	p := legacy_indexR(u, ".")
	const dl = "https://id.gs1.org"
	// key returns the digits the reference takes as a GS1 key and appends
	// the check digit; false where Python's int() would raise.
	var failed bool
	withCD := func(raw []rune) string {
		cd, good := legacy_pyCheckDigit(raw)
		if !good {
			failed = true
			return ""
		}
		return string(raw) + string(cd)
	}
	gtinOf := func(gcpFrom, k int) string { // indicator + company prefix + item reference
		gcp := u[gcpFrom:p]
		item := legacy_pySlice(u, p+1, p+1+13-k)
		return withCD(legacy_cat(legacy_pySlice(item, 0, 1), gcp, legacy_pyFrom(item, 1)))
	}
	glnOf := func(gcpFrom, k int) string {
		return withCD(legacy_cat(u[gcpFrom:p], legacy_pySlice(u, p+1, p+1+12-k)))
	}
	done := func(s string) (string, legacy_cbvResult, bool) {
		if failed {
			return "", legacy_cbvFails, true
		}
		return s, legacy_cbvConverted, true
	}
	switch {
	case legacy_hasPrefixR(m, "urn:epc:id:sgtin:"):
		if k, j, good := legacy_gcpRef(m, 17, 13, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 20) {
			return done(dl + "/01/" + gtinOf(17, k) + "/21/" + legacy_webEscape(legacy_pyFrom(u, 32)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:sscc:"):
		if _, j, good := legacy_gcpRef(m, 16, 17, false); good && j == len(m) {
			raw := legacy_cat(legacy_pySlice(u, p+1, p+2), u[16:p], legacy_pyFrom(u, p+2))
			return done(dl + "/00/" + withCD(raw))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:sgln:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 20) {
			gln := glnOf(16, k)
			ext := legacy_pyFrom(u, 30)
			if string(ext) == "0" {
				return done(dl + "/414/" + gln)
			}
			return done(dl + "/414/" + gln + "/254/" + legacy_webEscape(ext))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:grai:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, true); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 16) {
			raw := legacy_cat([]rune("0"), u[16:p], legacy_pySlice(u, p+1, p+1+12-k))
			return done(dl + "/8003/" + withCD(raw) + legacy_webEscape(legacy_pyFrom(u, 30)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:giai:"), legacy_hasPrefixR(m, "urn:epc:id:ginc:"):
		k := legacy_ndRun(m, 16)
		if k >= 6 && k <= 12 && legacy_litAt(m, 16+k, ".") && legacy_unitsToEnd(m, 17+k, 1, 30-k) {
			ai := "/8004/"
			if legacy_hasPrefixR(m, "urn:epc:id:ginc:") {
				ai = "/401/"
			}
			return done(dl + ai + string(u[16:p]) + legacy_webEscape(legacy_pyFrom(u, p+1)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:gsrn:"), legacy_hasPrefixR(m, "urn:epc:id:gsrnp:"), legacy_hasPrefixR(m, "urn:epc:id:gsin:"):
		from, total, ai := 16, 17, "/8018/"
		if legacy_hasPrefixR(m, "urn:epc:id:gsrnp:") {
			from, ai = 17, "/8017/"
		} else if legacy_hasPrefixR(m, "urn:epc:id:gsin:") {
			total, ai = 16, "/402/"
		}
		if _, j, good := legacy_gcpRef(m, from, total, false); good && j == len(m) {
			return done(dl + ai + withCD(legacy_cat(u[from:p], legacy_pyFrom(u, p+1))))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:gdti:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, true); good && legacy_unitsToEnd(m, j, 1, 20) {
			return done(dl + "/253/" + glnOf(16, k) + legacy_webEscape(legacy_pyFrom(u, 30)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:cpi:"):
		k := legacy_ndRun(m, 15)
		if k >= 6 && k <= 12 && legacy_litAt(m, 15+k, ".") {
			n, end, good := legacy_epcUnits(m, 16+k, true, '.')
			if good && n >= 1 && n <= 30-k && legacy_litAt(m, end, ".") && legacy_digitsToEnd(m, end+1, 1, 12) {
				sep := legacy_lastIndexR(u, '.')
				raw := legacy_cat(u[15:p], legacy_pySlice(u, p+1, sep))
				return done(dl + "/8010/" + legacy_webEscape(raw) + "/8011/" + string(legacy_pyFrom(u, sep+1)))
			}
		}
	case legacy_hasPrefixR(m, "urn:epc:id:sgcn:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, false); good && legacy_litAt(m, j, ".") && legacy_digitsToEnd(m, j+1, 1, 12) {
			return done(dl + "/255/" + glnOf(16, k) + string(legacy_pyFrom(u, 30)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:itip:"):
		if k, j, good := legacy_gcpRef(m, 16, 13, false); good && legacy_litAt(m, j, ".") && legacy_ndRun(m, j+1) >= 2 && legacy_litAt(m, j+3, ".") &&
			legacy_ndRun(m, j+4) >= 2 && legacy_litAt(m, j+6, ".") && legacy_unitsToEnd(m, j+7, 1, 20) {
			return done(dl + "/8006/" + gtinOf(16, k) + string(legacy_pySlice(u, 31, 33)) + string(legacy_pySlice(u, 34, 36)) +
				"/21/" + legacy_webEscape(legacy_pyFrom(u, 37)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:upui:"):
		if k, j, good := legacy_gcpRef(m, 16, 13, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 28) {
			return done(dl + "/01/" + gtinOf(16, k) + "/235/" + legacy_webEscape(legacy_pyFrom(u, 31)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:pgln:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, false); good && j == len(m) {
			return done(dl + "/417/" + glnOf(16, k))
		}
	case legacy_hasPrefixR(m, "urn:epc:class:lgtin:"):
		if k, j, good := legacy_gcpRef(m, 20, 13, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 20) {
			return done(dl + "/01/" + gtinOf(20, k) + "/10/" + legacy_webEscape(legacy_pyFrom(u, 35)))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:sgtin:"), legacy_hasPrefixR(m, "urn:epc:idpat:upui:"):
		from := 20
		if legacy_hasPrefixR(m, "urn:epc:idpat:upui:") {
			from = 19
		}
		if k, j, good := legacy_gcpRef(m, from, 13, false); good && string(legacy_pyFrom(m, j)) == ".*" {
			return done(dl + "/01/" + gtinOf(from, k))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:grai:"):
		if k, j, good := legacy_gcpRef(m, 19, 12, true); good && string(legacy_pyFrom(m, j)) == ".*" {
			return done(dl + "/8003/" + withCD(legacy_cat([]rune("0"), u[19:p], legacy_pySlice(u, p+1, p+1+12-k))))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:gdti:"), legacy_hasPrefixR(m, "urn:epc:idpat:sgcn:"):
		ai := "/253/"
		if legacy_hasPrefixR(m, "urn:epc:idpat:sgcn:") {
			ai = "/255/"
		}
		if k, j, good := legacy_gcpRef(m, 19, 12, true); good && string(legacy_pyFrom(m, j)) == ".*" {
			return done(dl + ai + glnOf(19, k))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:cpi:"):
		k := legacy_ndRun(m, 18)
		if k >= 6 && k <= 12 && legacy_litAt(m, 18+k, ".") {
			n, end, good := legacy_epcUnits(m, 19+k, true, '.')
			if good && n >= 1 && n <= 30-k && string(legacy_pyFrom(m, end)) == ".*" {
				sep := legacy_lastIndexR(u, '.')
				return done(dl + "/8010/" + legacy_webEscape(legacy_cat(u[18:p], legacy_pySlice(u, p+1, sep))))
			}
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:itip:"):
		if k, j, good := legacy_gcpRef(m, 19, 13, false); good && legacy_litAt(m, j, ".") && legacy_ndRun(m, j+1) >= 2 && legacy_litAt(m, j+3, ".") &&
			legacy_ndRun(m, j+4) >= 2 && string(legacy_pyFrom(m, j+6)) == ".*" {
			return done(dl + "/8006/" + gtinOf(19, k) + string(legacy_pySlice(u, 34, 36)) + string(legacy_pySlice(u, 37, 39)))
		}
	}
	return "", legacy_cbvUnchanged, false
}

// --- Digital Link URIs -----------------------------------------------------

// gateKeys are the key segments the reference's first Digital Link pattern
// accepts.
var legacy_gateKeys = map[string]bool{
	"01": true, "gtin": true, "8006": true, "itip": true, "8010": true, "cpid": true, "414": true, "gln": true,
	"417": true, "party": true, "8017": true, "gsrnp": true, "8018": true, "gsrn": true, "255": true, "gcn": true,
	"00": true, "sscc": true, "253": true, "gdti": true, "401": true, "ginc": true, "402": true, "gsin": true,
	"8003": true, "grai": true, "8004": true, "giai": true,
}

var legacy_canonKeys = map[string]bool{
	"01": true, "8006": true, "8010": true, "414": true, "417": true, "8017": true, "8018": true,
	"255": true, "00": true, "253": true, "401": true, "402": true, "8003": true, "8004": true,
}

// keyThenDigits reports whether u[j:] is "/KEY/" with KEY in keys,
// followed by four Nd digits and one more character that is not '/'.
func legacy_keyThenDigits(u []rune, j int, keys map[string]bool) bool {
	if j >= len(u) || u[j] != '/' {
		return false
	}
	e := j + 1
	for e < len(u) && u[e] != '/' {
		e++
	}
	if e >= len(u) || e-j-1 > 5 {
		return false
	}
	var seg [5]byte
	for i, r := range u[j+1 : e] {
		if r >= 0x80 {
			return false
		}
		seg[i] = byte(r)
	}
	if !keys[string(seg[:e-j-1])] {
		return false
	}
	d := e + 1
	return legacy_ndRun(u, d) >= 4 && d+4 < len(u) && u[d+4] != '/'
}

// cbvGate is the reference's first Digital Link pattern: http(s):, then,
// before any '?' or '#', a key segment followed by four digits and more.
// (Its other alternative, a ten-letter path, never leads to a result.)
func legacy_cbvGate(u []rune) bool {
	i := 0
	switch {
	case legacy_hasPrefixR(u, "https:"):
		i = 6
	case legacy_hasPrefixR(u, "http:"):
		i = 5
	default:
		return false
	}
	for j := i; j < len(u); j++ {
		if u[j] == '?' || u[j] == '#' {
			return false
		}
		if u[j] == '/' && legacy_keyThenDigits(u, j, legacy_gateKeys) {
			return true
		}
	}
	return false
}

// gs1Host matches the reference's https://id.gs1.org, whose dots are
// regular-expression dots (any character but newline), and returns the
// index after it.
func legacy_gs1Host(u []rune) (int, bool) {
	if !legacy_hasPrefixR(u, "https://id") || len(u) < 18 || u[10] == '\n' || u[14] == '\n' ||
		!legacy_hasPrefixR(u[11:], "gs1") || !legacy_hasPrefixR(u[15:], "org") {
		return 0, false
	}
	return 18, true
}

var legacy_shortToAI = [][2]string{
	{"/gtin/", "/01/"}, {"/itip/", "/8006/"}, {"/cpid/", "/8010/"}, {"/gln/", "/414/"}, {"/party/", "/417/"},
	{"/gsrnp/", "/8017/"}, {"/gsrn/", "/8018/"}, {"/gcn/", "/255/"}, {"/sscc/", "/00/"}, {"/gdti/", "/253/"},
	{"/ginc/", "/401/"}, {"/gsin/", "/402/"}, {"/grai/", "/8003/"}, {"/giai/", "/8004/"}, {"/cpv/", "/22/"},
	{"/lot/", "/10/"}, {"/ser/", "/21/"},
}

var legacy_rehomeOrder = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/",
	"/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}

// isCS is the reference's value class in its Digital Link checks:
// " ' - . 0-9 ; < = > ? A-Z _ a-z (narrower than CSET 82: no %).
func legacy_isCS(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		return true
	case r >= ';' && r <= '?':
		return true
	}
	return r == '"' || r == '\'' || r == '-' || r == '.' || r == '_'
}

// csRun counts isCS runes from i (slashes too when slash is set).
func legacy_csRun(u []rune, i int, slash bool) int {
	n := 0
	for i+n < len(u) && (legacy_isCS(u[i+n]) || (slash && u[i+n] == '/')) {
		n++
	}
	return n
}

func legacy_csToEnd(u []rune, i, max int) bool {
	n := legacy_csRun(u, i, false)
	return i+n == len(u) && n <= max
}

// gtinOrITIP matches "/01/" + 14 digits or "/8006/" + 18 digits at u[h:]
// and returns the index after the digits.
func legacy_gtinOrITIP(u []rune, h int) (int, bool) {
	switch {
	case legacy_litAt(u, h, "/01/"):
		if legacy_ndRun(u, h+4) >= 14 {
			return h + 18, true
		}
	case legacy_litAt(u, h, "/8006/"):
		if legacy_ndRun(u, h+6) >= 18 {
			return h + 24, true
		}
	}
	return 0, false
}

func legacy_cbvDL(u []rune) (string, legacy_cbvResult) {
	if !legacy_cbvGate(u) {
		return "", legacy_cbvUnchanged
	}
	if i := legacy_indexR(u, "?"); i >= 0 {
		u = u[:i]
	}
	s := string(u)
	for _, r := range legacy_shortToAI {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	u = []rune(s)

	// Move to the canonical host unless it is (loosely) there already.
	if h, ok := legacy_gs1Host(u); !ok || !legacy_keyThenDigits(u, h, legacy_canonKeys) {
		for _, k := range legacy_rehomeOrder {
			if i := legacy_indexR(u, k); i >= 0 {
				u = legacy_cat([]rune("https://id.gs1.org"), u[i:])
				break
			}
		}
	}

	// Pad GTIN-8/12/13 to 14 digits (every "/01/" in the string, as the
	// reference's str.replace does).
	if h, ok := legacy_gs1Host(u); ok && legacy_litAt(u, h, "/01/") {
		pad := ""
		switch n := legacy_ndRun(u, h+4); {
		case n == 13:
			pad = "0"
		case n == 12:
			pad = "00"
		case n >= 8 && n < 12:
			pad = "000000"
		}
		if pad != "" {
			u = []rune(strings.ReplaceAll(string(u), "/01/", "/01/"+pad))
		}
	}

	// Drop the CPV.
	x := legacy_pyFrom(u, legacy_indexR(u, "/22/")+4)
	cpv := func(slash bool) bool {
		m := legacy_pyDollar(u)
		h, ok := legacy_gs1Host(m)
		if !ok {
			return false
		}
		j, ok := legacy_gtinOrITIP(m, h)
		if !ok || !legacy_litAt(m, j, "/22/") {
			return false
		}
		n := legacy_csRun(m, j+4, slash)
		return j+4+n == len(m) && n <= 20
	}
	if cpv(false) {
		u = legacy_cat(legacy_pySlice(u, 0, legacy_indexR(u, "/22/")), legacy_pySlice(x, legacy_indexR(x, "/"), -1))
	}
	if cpv(true) {
		u = legacy_cat(legacy_pySlice(u, 0, legacy_indexR(u, "/22/")), legacy_pyFrom(x, legacy_indexR(x, "/")))
	}

	// Keep only the finest level: a serial wins over a lot.
	if m := legacy_pyDollar(u); true {
		if h, ok := legacy_gs1Host(m); ok {
			if j, ok := legacy_gtinOrITIP(m, h); ok && legacy_litAt(m, j, "/10/") {
				n := legacy_csRun(m, j+4, false)
				if n <= 20 && legacy_litAt(m, j+4+n, "/21/") && legacy_csToEnd(m, j+8+n, 20) {
					y := legacy_pyFrom(u, legacy_indexR(u, "/10/")+4)
					u = legacy_cat(legacy_pySlice(u, 0, legacy_indexR(u, "/10/")), legacy_pyFrom(y, legacy_indexR(y, "/")))
				}
			}
		}
	}

	if legacy_cbvFinal(legacy_pyDollar(u)) {
		return string(u), legacy_cbvConverted
	}
	return "", legacy_cbvUnchanged
}

func legacy_isCPIChar(r rune) bool {
	return r == '#' || r == '-' || r == '/' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z')
}

// cbvFinal is the reference's closing syntax check of the canonical form.
func legacy_cbvFinal(m []rune) bool {
	h, ok := legacy_gs1Host(m)
	if !ok {
		return false
	}
	nd := func(i, n int) bool { return legacy_ndRun(m, i) >= n }
	ndEnd := func(i, n int) bool { return legacy_ndRun(m, i) == n && i+n == len(m) }
	switch {
	case legacy_litAt(m, h, "/00/"):
		return ndEnd(h+4, 18)
	case legacy_litAt(m, h, "/01/"):
		j := h + 4 + 14
		if !nd(h+4, 14) {
			return false
		}
		switch {
		case j == len(m):
			return true
		case legacy_litAt(m, j, "/21/"), legacy_litAt(m, j, "/10/"):
			return legacy_csToEnd(m, j+4, 20)
		case legacy_litAt(m, j, "/235/"):
			return legacy_csToEnd(m, j+5, 28)
		}
	case legacy_litAt(m, h, "/253/"):
		return nd(h+5, 13) && legacy_csToEnd(m, h+18, 17)
	case legacy_litAt(m, h, "/255/"):
		n := legacy_ndRun(m, h+5)
		return h+5+n == len(m) && n >= 13 && n <= 25
	case legacy_litAt(m, h, "/401/"):
		return legacy_csToEnd(m, h+5, 30)
	case legacy_litAt(m, h, "/402/"):
		return ndEnd(h+5, 17)
	case legacy_litAt(m, h, "/414/"):
		j := h + 5 + 13
		if !nd(h+5, 13) {
			return false
		}
		return j == len(m) || (legacy_litAt(m, j, "/254/") && legacy_csToEnd(m, j+5, 20))
	case legacy_litAt(m, h, "/417/"):
		return ndEnd(h+5, 13)
	case legacy_litAt(m, h, "/8003/"):
		return nd(h+6, 14) && legacy_csToEnd(m, h+20, 16)
	case legacy_litAt(m, h, "/8004/"):
		return legacy_csToEnd(m, h+6, 30)
	case legacy_litAt(m, h, "/8006/"):
		j := h + 6 + 18
		if !nd(h+6, 18) {
			return false
		}
		return j == len(m) || ((legacy_litAt(m, j, "/21/") || legacy_litAt(m, j, "/10/")) && legacy_csToEnd(m, j+4, 20))
	case legacy_litAt(m, h, "/8010/"):
		i := h + 6
		n := 0
		for i+n < len(m) && legacy_isCPIChar(m[i+n]) {
			n++
		}
		if i+n == len(m) && n <= 30 {
			return true
		}
		// CPID then /8011/ and up to 12 digits: the CPID may itself hold
		// "/8011/", so try every split.
		for q := i; q <= i+min(n, 30); q++ {
			if legacy_litAt(m, q, "/8011/") {
				if d := legacy_ndRun(m, q+6); q+6+d == len(m) && d <= 12 {
					return true
				}
			}
		}
	case legacy_litAt(m, h, "/8017/"):
		return ndEnd(h+6, 18)
	case legacy_litAt(m, h, "/8018/"):
		return ndEnd(h+6, 18)
	}
	return false
}
