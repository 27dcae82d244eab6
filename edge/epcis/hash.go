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
	sc := getScratch()
	defer putScratch(sc)
	if err := sc.preHash(e, ctx, nil, nil); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(sc.buf), nil
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
	sc := getScratch()
	defer putScratch(sc)
	if err := sc.preHash(e, ctx, vocab, ignore); err != nil {
		return "", err
	}
	return string(sc.buf), nil
}

// preHash writes the pre-hash string of e into sc.buf.
//
// It computes what the straightforward implementation (kept in
// legacyhash_test.go and compared with in legacydiff_test.go) computes:
// normalise the event (a deep copy), drop its @context, build the
// reference's node tree, reshape it, render it. The work is the same; what
// differs is where it happens: an event already in decoded-JSON form is
// read in place (the copy changes nothing then, and "@context" is skipped
// instead of deleted), nodes and child lists come from arenas in sc, the
// pre-hash string is written into one buffer (sorted sibling strings are
// sorted as spans of it), and the active JSON-LD context of the event's
// prefixes is built once per distinct set of prefixes (ctxCache).
func (sc *hashScratch) preHash(e Event, ctx Context, vocab *vocabSet, ignore []string) error {
	if e == nil {
		return &HashError{Reason: "no event"}
	}
	// First as if the event were in decoded-JSON form: conversion gives up
	// (errNotDecoded) at the first value that is not. Then, and whenever
	// the event cannot be hashed, the straightforward way: normalise it
	// (a copy) and convert that, which also reports problems in the order
	// the reference meets them.
	if err := sc.render(map[string]any(e), ctx, vocab, ignore, true); err == nil {
		return nil
	}
	sc.reset()
	norm, err := normalizeJSON(map[string]any(e), 0)
	if err != nil {
		return err
	}
	return sc.render(norm.(map[string]any), ctx, vocab, ignore, false)
}

// errNotDecoded stops a conversion that assumed decoded-JSON form.
var errNotDecoded = &HashError{Reason: "not in decoded JSON form"}

// render writes the pre-hash string of ev into sc.buf. With decoded, ev is
// taken to be in decoded-JSON form, as normalizeJSON would leave it (so
// it is not copied), and the conversion fails with errNotDecoded where it
// is not.
func (sc *hashScratch) render(ev map[string]any, ctx Context, vocab *vocabSet, ignore []string, decoded bool) error {
	var pfx *ctxEntry
	if raw, ok := ev["@context"]; ok && raw != nil {
		if decoded && !isDecodedJSON(raw, 1) {
			return errNotDecoded
		}
		merged := sc.merged
		clear(merged)
		if err := addContext(merged, raw, 0); err != nil {
			return &HashError{Reason: err.Error()}
		}
		for k, v := range ctx {
			merged[k] = v
		}
		pfx = cachedContext(merged)
	} else {
		pfx = cachedContext(ctx)
	}
	typ, _ := ev["type"].(string)
	if typ == "" {
		return &HashError{Reason: `event has no "type"`}
	}
	if vocab == nil {
		vocab = &sc.vocab
		vocab.iris, vocab.tails = vocab.iris[:0], vocab.tails[:0]
		vocab.depth = 0
		vocab.links = &sc.links
		vocab.walkObject(ev, pfx.active, true)
	}
	h := &hasher{ns: pfx.ctx, vocab: vocab, sc: sc, pfx: pfx, decoded: decoded}
	root, err := h.convObject(ev, 0, ignore, false, true)
	if err != nil {
		return err
	}
	root = sc.correct(root)
	sc.buf = append(sc.buf[:0], "eventType="...)
	sc.buf = append(sc.buf, root.name...)
	sc.ordered(&root.kids, eventOrder)
	base := len(sc.stack)
	for _, k := range root.kids {
		switch k.name {
		case "recordTime", "eventID", "type", "errorDeclaration":
		default:
			sc.stack = append(sc.stack, k)
		}
	}
	if rest := sc.stack[base:]; len(rest) > 0 {
		sc.generic(rest)
	}
	sc.stack = sc.stack[:base]
	return nil
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
	// gone marks a child ordered rendered that had no children of its
	// own left: it is not passed on to the generic tail.
	gone bool
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
	sc    *hashScratch
	pfx   *ctxEntry // ns with its derived forms; nil: use ns alone
	// decoded: the input is taken to be in decoded-JSON form; anything
	// else (and any value normalizeJSON would change or reject) stops the
	// conversion with errNotDecoded.
	decoded bool
}

// unbraced removes { and } from a prefix IRI, as the reference does when
// it expands a prefixed value.
var unbraced = strings.NewReplacer("{", "", "}", "").Replace

// value renders a string value: bare vocabulary words are replaced by
// their IRI, then a declared "prefix:" is expanded.
func (h *hasher) value(s string) string {
	if r, ok := h.vocab.replacement(s); ok {
		s = r
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.HasPrefix(s, "@") {
		if iri, ok := h.ns[s[:i]]; ok {
			if h.pfx != nil {
				iri = h.pfx.valueIRI[s[:i]]
			} else {
				iri = unbraced(iri)
			}
			return iri + s[i+1:]
		}
	}
	return s
}

// key renders a member name: a declared "prefix:" becomes "{iri}".
func (h *hasher) key(k string) string {
	i := strings.IndexByte(k, ':')
	if i < 0 || k[0] == '@' {
		return k
	}
	if h.sc != nil && h.pfx != nil {
		return h.sc.expandedKey(h.pfx, h.ns, k, i)
	}
	if iri, ok := h.ns[k[:i]]; ok {
		return "{" + iri + "}" + k[i+1:]
	}
	return k
}

// listBreakers are the member names that stop the reference from sorting.
func isListBreaker(name string) bool {
	return name == "bizTransaction" || name == "source" || name == "destination"
}

var errNestedTooDeeply = "nested too deeply"

// conv converts one JSON value into a node (a list into a node holding its
// elements).
func (h *hasher) conv(v any, depth int, entries bool) (*node, error) {
	if depth > maxHashDepth {
		if h.decoded {
			return nil, errNotDecoded
		}
		return nil, &HashError{Reason: errNestedTooDeeply}
	}
	switch x := v.(type) {
	case string:
		n := h.sc.newNode()
		n.text = h.value(x)
		return n, nil
	case json.Number:
		if h.decoded && !isJSONNumberLiteral(string(x)) {
			return nil, errNotDecoded
		}
		n := h.sc.newNode()
		n.text = pyNumberText(x)
		return n, nil
	case bool:
		n := h.sc.newNode()
		n.text = "False"
		if x {
			n.text = "True"
		}
		return n, nil
	case nil:
		n := h.sc.newNode()
		n.text = "None"
		return n, nil
	case []any:
		base := len(h.sc.stack)
		if err := h.convList(x, depth, entries); err != nil {
			return nil, err
		}
		n := h.sc.newNode()
		n.kids = h.sc.pop(base)
		return n, nil
	case map[string]any:
		return h.convObject(x, depth, nil, entries, false)
	}
	if h.decoded {
		return nil, errNotDecoded
	}
	return nil, &HashError{Reason: fmt.Sprintf("unsupported value %T", v)}
}

// convList pushes the nodes of a list's elements onto sc.stack, sorted
// unless a string element is a list breaker.
func (h *hasher) convList(x []any, depth int, entries bool) error {
	if depth > maxHashDepth {
		if h.decoded {
			return errNotDecoded
		}
		return &HashError{Reason: errNestedTooDeeply}
	}
	base := len(h.sc.stack)
	sortIt := true
	for _, el := range x {
		if s, ok := el.(string); ok && isListBreaker(s) {
			sortIt = false
		}
		k, err := h.conv(el, depth+1, entries)
		if err != nil {
			return err
		}
		h.sc.stack = append(h.sc.stack, k)
	}
	if sortIt {
		slices.SortStableFunc(h.sc.stack[base:], compareNodes)
	}
	return nil
}

// convObject converts an object; top marks the event itself, whose
// "@context" is not part of it.
func (h *hasher) convObject(m map[string]any, depth int, ignore []string, entry, top bool) (*node, error) {
	if depth > maxHashDepth {
		if h.decoded {
			return nil, errNotDecoded
		}
		return nil, &HashError{Reason: errNestedTooDeeply}
	}
	sc := h.sc
	n := sc.newNode()
	kbase := len(sc.members)
	for k, v := range m {
		if top && k == "@context" {
			continue
		}
		sc.members = append(sc.members, member{k, v})
	}
	members := sc.members[kbase:]
	sortMembers(members)
	if entry {
		entryMemberOrder(members)
	}
	for _, kv := range members {
		switch kv.k {
		case "type":
			if t, ok := kv.v.(string); ok {
				if r, ok := h.vocab.replacement(t); ok {
					t = r
				}
				n.name = t
			}
		case "#text":
			if t, ok := kv.v.(string); ok {
				if r, ok := h.vocab.replacement(t); ok {
					t = r
				}
				n.text = t
			}
		}
	}
	base := len(sc.stack)
	breaker := false
	for _, kv := range members {
		k, v := kv.k, kv.v
		if isListBreaker(k) {
			breaker = true
		}
		if k == "#text" || k == "rdfs:comment" || k == "comment" || strings.HasPrefix(k, "@xmlns") || slices.Contains(ignore, k) {
			// Not hashed, but normalised all the same.
			if h.decoded && !isDecodedJSON(v, depth+1) {
				return nil, errNotDecoded
			}
			continue
		}
		entries := k == "bizTransactionList" || k == "sourceList" || k == "destinationList"
		name := h.key(k)
		if l, isList := v.([]any); isList {
			// Each element becomes a member of its own, named k.
			lbase := len(sc.stack)
			if err := h.convList(l, depth+1, entries); err != nil {
				return nil, err
			}
			for _, el := range sc.stack[lbase:] {
				el.name = name
			}
			continue
		}
		child, err := h.conv(v, depth+1, entries)
		if err != nil {
			return nil, err
		}
		child.name = name
		sc.stack = append(sc.stack, child)
	}
	clear(members)
	sc.members = sc.members[:kbase]
	if !breaker {
		slices.SortStableFunc(sc.stack[base:], compareNodes)
	}
	n.kids = sc.pop(base)
	return n, nil
}

// sortMembers sorts members by name (byte order).
func sortMembers(ms []member) {
	if len(ms) > 16 {
		slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.k, b.k) })
		return
	}
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].k < ms[j-1].k; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// entryMemberOrder orders the members of a bizTransactionList,
// sourceList or destinationList entry as GS1 writes them: "type" first,
// then the identifier, then the rest in byte order. Members of other
// objects are taken in byte order. (The reference keeps JSON member order,
// which matters only in objects holding bizTransaction, source or
// destination members; a decoded map has no order, so this is the
// canonical one.)
func entryMemberOrder(members []member) {
	slices.SortStableFunc(members, func(a, b member) int { return entryRank(a.k) - entryRank(b.k) })
}

func entryRank(k string) int {
	switch k {
	case "type":
		return 0
	case "bizTransaction", "source", "destination":
		return 1
	}
	return 2
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
	if isPyReprFloat(s) {
		return s // pyFloatRepr(float(s)) is s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s
	}
	return pyFloatRepr(f)
}

// correct reshapes the tree the way the reference maps JSON onto the XML
// data model (its correctStructure): "xList" members become an "xList"
// node of "x" children, childEPCs become epc children, and quantity
// elements get the XML element names.
//
// The reference builds a new tree; correct changes the nodes in place,
// which comes to the same: no node is reachable from two places, and the
// nodes it leaves behind (list members and the kids of
// bizTransactionList, sourceList and destinationList entries, which stay
// as they were converted) are not changed.
func (sc *hashScratch) correct(n *node) *node {
	kids := n.kids
	lists, epcs := false, false
	for _, k := range kids {
		if !k.pair {
			lists = lists || strings.HasSuffix(k.name, "List")
			epcs = epcs || k.name == "childEPCs"
		}
	}
	out := kids
	if lists || epcs {
		out = sc.regroup(kids)
	}
	for _, k := range out {
		switch {
		case k.pair:
		case k.name == "sourceList" || k.name == "destinationList" || k.name == "bizTransactionList":
		default:
			sc.correct(k) // in place
		}
	}
	switch name := n.name; {
	case name == "inputEPC" || name == "outputEPC":
		n.name = "epc"
	case name == "inputQuantity" || name == "outputQuantity" || name == "childQuantity" || (name == "quantity" && len(out) > 0):
		n.name = "quantityElement"
	}
	n.kids = out
	return n
}

// regroup returns kids with "xList" members grouped into list nodes
// (after the other members, in order of first appearance) and childEPCs
// members into one childEPCs node of epc nodes (last).
func (sc *hashScratch) regroup(kids []*node) []*node {
	rbase := len(sc.stack)
	lbase := len(sc.lists)
	for _, k := range kids {
		if !k.pair && strings.HasSuffix(k.name, "List") {
			if i := sc.findList(lbase, k.name); i >= 0 {
				sc.lists[i].n++
			} else {
				sc.addList(lbase, k.name)
			}
			continue
		}
		sc.stack = append(sc.stack, k)
	}
	if len(sc.lists) > lbase {
		for i := lbase; i < len(sc.lists); i++ {
			sc.lists[i].node.kids = sc.reserve(sc.lists[i].n)
		}
		for _, k := range kids {
			if !k.pair && strings.HasSuffix(k.name, "List") {
				l := sc.lists[sc.findList(lbase, k.name)].node
				x := sc.newNode()
				x.name, x.text, x.kids = k.name[:len(k.name)-4], k.text, k.kids
				l.kids = append(l.kids, x)
			}
		}
		for _, le := range sc.lists[lbase:] {
			l := le.node
			switch l.name {
			case "sourceList", "destinationList", "bizTransactionList":
				for i, e := range l.kids {
					p := sc.newNode()
					p.pair = true
					m := min(2, len(e.kids))
					p.kids = e.kids[:m:m]
					l.kids[i] = p
				}
			}
			sc.stack = append(sc.stack, l)
		}
		sc.dropLists(lbase)
	}
	nEPC := 0
	for _, k := range sc.stack[rbase:] {
		if k.name == "childEPCs" && !k.pair {
			nEPC++
		}
	}
	if nEPC == 0 {
		return sc.pop(rbase)
	}
	ce := sc.newNode()
	ce.name = "childEPCs"
	ce.kids = sc.reserve(nEPC)
	out := sc.reserve(len(sc.stack) - rbase - nEPC + 1)
	for _, k := range sc.stack[rbase:] {
		if k.name == "childEPCs" && !k.pair {
			e := sc.newNode()
			e.name, e.text = "epc", k.text
			ce.kids = append(ce.kids, e)
			continue
		}
		out = append(out, k)
	}
	clear(sc.stack[rbase:])
	sc.stack = sc.stack[:rbase]
	return append(out, ce)
}

// propOrder is the reference's canonical property order (PROP_ORDER).
type propOrder struct {
	name string
	sub  *orderList
	none bool // matches no node (the reference's tuple-named entries)
}

// orderList is one level of the order, with the position of each name
// (no name appears twice in a level: TestPropOrderNamesUnique).
type orderList struct {
	entries []propOrder
	// slots is an open-addressing table of entry positions + 1 (0: free),
	// indexed by orderSlot of the name.
	slots [64]uint8
}

func order(entries ...propOrder) *orderList {
	l := &orderList{entries: entries}
	if len(entries) > 32 {
		panic("epcis: order level too long")
	}
	for i, e := range entries {
		if !e.none {
			h := orderSlot(e.name)
			for l.slots[h] != 0 {
				h = (h + 1) % uint(len(l.slots))
			}
			l.slots[h] = uint8(i + 1)
		}
	}
	return l
}

func orderSlot(name string) uint {
	if name == "" {
		return 0
	}
	return (uint(len(name))*7 + uint(name[0])*3 + uint(name[len(name)-1])) % 64
}

// position returns the position of the entry naming name, or -1.
func (l *orderList) position(name string) int {
	for h := orderSlot(name); l.slots[h] != 0; h = (h + 1) % uint(len(l.slots)) {
		if i := int(l.slots[h]) - 1; l.entries[i].name == name {
			return i
		}
	}
	return -1
}

var (
	epcOrder      = order(propOrder{name: "epc"})
	quantityOrder = order(propOrder{name: "quantityElement", sub: order(propOrder{name: "epcClass"}, propOrder{name: "quantity"}, propOrder{name: "uom"})})
	pairOrder     = order(propOrder{none: true})
	idOrder       = order(propOrder{name: "id"})
	eventOrder    = order(
		propOrder{name: "eventTime"},
		propOrder{name: "eventTimeZoneOffset"},
		propOrder{name: "certificationInfo"},
		propOrder{name: "parentID"},
		propOrder{name: "epcList", sub: epcOrder},
		propOrder{name: "inputEPCList", sub: epcOrder},
		propOrder{name: "childEPCs", sub: epcOrder},
		propOrder{name: "quantityList", sub: quantityOrder},
		propOrder{name: "childQuantityList", sub: quantityOrder},
		propOrder{name: "inputQuantityList", sub: quantityOrder},
		propOrder{name: "outputEPCList", sub: epcOrder},
		propOrder{name: "outputQuantityList", sub: quantityOrder},
		propOrder{name: "action"},
		propOrder{name: "transformationID"},
		propOrder{name: "bizStep"},
		propOrder{name: "disposition"},
		propOrder{name: "persistentDisposition", sub: order(propOrder{name: "set"}, propOrder{name: "unset"})},
		propOrder{name: "readPoint", sub: idOrder},
		propOrder{name: "bizLocation", sub: idOrder},
		propOrder{name: "bizTransactionList", sub: pairOrder},
		propOrder{name: "sourceList", sub: pairOrder},
		propOrder{name: "destinationList", sub: pairOrder},
		propOrder{name: "sensorElementList", sub: order(propOrder{name: "sensorElement", sub: order(
			propOrder{name: "sensorMetadata", sub: order(
				propOrder{name: "time"}, propOrder{name: "startTime"}, propOrder{name: "endTime"}, propOrder{name: "deviceID"},
				propOrder{name: "deviceMetadata"}, propOrder{name: "rawData"}, propOrder{name: "dataProcessingMethod"}, propOrder{name: "bizRules"},
			)},
			propOrder{name: "sensorReport", sub: order(
				propOrder{name: "type"}, propOrder{name: "exception"}, propOrder{name: "deviceID"}, propOrder{name: "deviceMetadata"},
				propOrder{name: "rawData"}, propOrder{name: "dataProcessingMethod"}, propOrder{name: "time"}, propOrder{name: "microorganism"},
				propOrder{name: "chemicalSubstance"}, propOrder{name: "value"}, propOrder{name: "component"}, propOrder{name: "stringValue"},
				propOrder{name: "booleanValue"}, propOrder{name: "hexBinaryValue"}, propOrder{name: "uriValue"}, propOrder{name: "minValue"},
				propOrder{name: "maxValue"}, propOrder{name: "meanValue"}, propOrder{name: "sDev"}, propOrder{name: "percRank"},
				propOrder{name: "percValue"}, propOrder{name: "uom"}, propOrder{name: "coordinateReferenceSystem"},
			)},
		)})},
	)
)

// ranked is a child with the position of the order entry naming it.
type ranked struct {
	pos int
	c   *node
}

// ordered renders the children named in order, in that order, each name's
// values sorted; rendered children without children of their own are
// removed from *list, so what is left goes to the generic tail.
// Namespaced user extensions below the top level are gathered first and
// appended after their siblings. (The reference's orderedPreHash, which
// goes through the order and, for each entry, through the children; here
// each child is looked up in the order once.)
func (sc *hashScratch) ordered(list *[]*node, order *orderList) {
	exts := sc.gatherExtensions(list)
	kids := *list
	base := len(sc.ranked)
	for _, c := range kids {
		if c.pair {
			continue
		}
		if i := order.position(c.name); i >= 0 {
			sc.ranked = append(sc.ranked, ranked{i, c})
		}
	}
	if len(sc.ranked) == base {
		// Nothing to render in order, nothing to remove.
		if len(exts) > 0 {
			sc.generic(exts)
		}
		return
	}
	named := sc.ranked[base:]
	// Insertion sort by position: short, and often in order already.
	for i := 1; i < len(named); i++ {
		for j := i; j > 0 && named[j].pos < named[j-1].pos; j-- {
			named[j], named[j-1] = named[j-1], named[j]
		}
	}
	removed := 0 // children named by the order that have none of their own
	for i := 0; i < len(named); {
		pos := named[i].pos
		sub := order.entries[pos].sub
		start, sbase := len(sc.buf), len(sc.spans)
		for ; i < len(named) && named[i].pos == pos; i++ {
			c := named[i].c
			cs := len(sc.buf)
			sc.child(c, sub)
			if len(sc.buf) > cs {
				sc.spans = append(sc.spans, span{cs, len(sc.buf)})
			}
			if len(c.kids) == 0 {
				// A child an order entry named goes once it has no
				// children left.
				c.gone = true
				removed++
			}
		}
		sc.sortSpans(start, sbase)
	}
	if removed > 0 {
		kept := sc.reserve(len(kids) - removed)
		for _, c := range kids {
			if !c.gone {
				kept = append(kept, c)
			}
		}
		*list = kept
	}
	clear(named)
	sc.ranked = sc.ranked[:base]
	if len(exts) > 0 {
		sc.generic(exts)
	}
}

// child renders one child named by an order entry: name, "=" and its
// canonical text if it has any, then its own children in sub's order;
// nothing if it has neither text nor rendered children.
func (sc *hashScratch) child(c *node, sub *orderList) {
	start := len(sc.buf)
	sc.buf = append(sc.buf, c.name...)
	text := false
	if c.text != "" {
		t := pyStrip(c.text)
		ts := len(sc.buf)
		sc.buf = append(sc.buf, '=')
		if isTimeName(c.name) {
			sc.buf = appendCanonTime(sc.buf, t)
		} else {
			sc.buf = sc.appendCanonValue(sc.buf, t)
		}
		if len(sc.buf) == ts+1 {
			sc.buf = sc.buf[:ts]
		} else {
			text = true
		}
	}
	gs := len(sc.buf)
	if sub != nil {
		sc.ordered(&c.kids, sub)
	}
	if !text && len(sc.buf) == gs {
		sc.buf = sc.buf[:start]
	}
}

// isTimeName reports whether a member's value is canonicalised as a time:
// its lower-cased name contains "time" but not "offset".
func isTimeName(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			lower := strings.ToLower(name)
			return strings.Contains(lower, "time") && !strings.Contains(lower, "offset")
		}
	}
	return containsFoldASCII(name, "time") && !containsFoldASCII(name, "offset")
}

// containsFoldASCII reports whether s contains sub (lower-case ASCII
// letters) ignoring ASCII case.
func containsFoldASCII(s, sub string) bool {
	first := sub[0]
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 != first {
			continue
		}
		j := 1
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// gatherExtensions removes and returns the namespaced extension members
// ("{…/}name") of a nested list; the event level (recognised by eventTime
// or action) and single-member lists are left alone, as in the reference.
func (sc *hashScratch) gatherExtensions(list *[]*node) []*node {
	l := *list
	if len(l) <= 1 {
		return nil
	}
	n := 0
	for _, c := range l {
		if !c.pair && (strings.Contains(c.name, "eventTime") || strings.Contains(c.name, "action")) {
			return nil
		}
		if isExtension(c) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	exts := sc.reserve(n)
	kept := sc.reserve(len(l) - n)
	for _, c := range l {
		if isExtension(c) {
			exts = append(exts, c)
		} else {
			kept = append(kept, c)
		}
	}
	*list = kept
	return exts
}

func isExtension(c *node) bool {
	return !c.pair && strings.Contains(c.name, "{") && strings.Contains(c.name, "/}")
}

// generic renders what the canonical order does not cover: sorted
// "name=value" strings with their children appended, except that lists
// naming bizTransaction, source or destination keep their order. (The
// reference's genericPreHash.)
func (sc *hashScratch) generic(children []*node) {
	start, sbase := len(sc.buf), len(sc.spans)
	sortIt := true
	for _, c := range children {
		cs := len(sc.buf)
		if c.pair {
			sc.generic(c.kids)
		} else {
			if isListBreaker(c.name) {
				sortIt = false
			}
			sc.buf = append(sc.buf, c.name...)
			if text := pyStrip(c.text); text != "" {
				sc.buf = append(sc.buf, '=')
				sc.buf = sc.appendCanonValue(sc.buf, text)
			}
			sc.generic(c.kids)
		}
		if len(sc.buf) > cs {
			sc.spans = append(sc.spans, span{cs, len(sc.buf)})
		}
	}
	if len(children) > 1 && sortIt {
		sc.sortSpans(start, sbase)
	}
	sc.spans = sc.spans[:sbase]
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
