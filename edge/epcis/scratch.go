package epcis

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tracegate/tracegate/edge/epc"
)

// This file holds the working memory of the event hash. A hash builds a
// tree of a few dozen nodes and a pre-hash string of a few hundred bytes;
// allocating each node, child list and partial string separately made the
// hash cost tens of microseconds, mostly in the allocator and the garbage
// collector. A hashScratch, reused through a sync.Pool, holds arenas for
// the nodes and child lists and one buffer for the pre-hash string.
// Nothing in it outlives the hash call that uses it: PreHash copies the
// string out and Hash hashes the buffer.

// hashScratch is the reusable working memory of one hash at a time.
type hashScratch struct {
	nodes   []node      // node arena: the current slab
	ptrs    []*node     // child-list arena: the current slab
	stack   []*node     // children under construction
	members []member    // members of objects under conversion
	lists   []listEntry // "xList" groups of correct
	listIx  map[string]int
	buf     []byte // the pre-hash string
	tmp     []byte // sortSpans' copy
	spans   []span // rendered sibling strings to sort
	ranked  []ranked
	links   []scopeLink
	vocab   vocabSet
	merged  Context // the event's own prefixes, then the caller's

	keyFor   *ctxEntry         // the prefixes keyCache was made with
	keyCache map[string]string // "p:name" -> "{iri}name"

	canonCache map[string]string // identifier -> its canonical form
}

type span struct{ start, end int }

type member struct {
	k string
	v any
}

type listEntry struct {
	node *node
	n    int
}

var scratchPool = sync.Pool{New: func() any {
	return &hashScratch{merged: Context{}, keyCache: map[string]string{}, canonCache: map[string]string{}}
}}

func getScratch() *hashScratch { return scratchPool.Get().(*hashScratch) }

// putScratch returns sc to the pool without references into the event
// just hashed (so the pool keeps no garbage alive), and without memory an
// unusually large event made it grow to.
func putScratch(sc *hashScratch) {
	const keep = 1 << 16
	sc.reset()
	if cap(sc.nodes) > keep/64 {
		sc.nodes = nil
	}
	if cap(sc.ptrs) > keep/8 || cap(sc.stack) > keep/8 || cap(sc.members) > keep/32 {
		sc.ptrs, sc.stack, sc.members = nil, nil, nil
	}
	if cap(sc.buf) > keep || cap(sc.tmp) > keep || cap(sc.spans) > keep/16 || cap(sc.links) > keep/32 {
		sc.buf, sc.tmp, sc.spans, sc.links = nil, nil, nil, nil
	}
	if cap(sc.vocab.iris) > keep/16 || cap(sc.vocab.tails) > keep/16 {
		sc.vocab.iris, sc.vocab.tails = nil, nil
	}
	if len(sc.merged) > 64 {
		sc.merged = Context{}
	}
	scratchPool.Put(sc)
}

// reset empties sc for the next hash.
func (sc *hashScratch) reset() {
	clear(sc.nodes)
	sc.nodes = sc.nodes[:0]
	clear(sc.ptrs)
	sc.ptrs = sc.ptrs[:0]
	clear(sc.stack[:cap(sc.stack)])
	sc.stack = sc.stack[:0]
	clear(sc.members[:cap(sc.members)])
	sc.members = sc.members[:0]
	clear(sc.lists[:cap(sc.lists)])
	sc.lists = sc.lists[:0]
	sc.listIx = nil
	clear(sc.links)
	sc.links = sc.links[:0]
	clear(sc.ranked[:cap(sc.ranked)])
	sc.ranked = sc.ranked[:0]
	sc.spans = sc.spans[:0]
	sc.buf = sc.buf[:0]
	clear(sc.vocab.iris[:cap(sc.vocab.iris)])
	clear(sc.vocab.tails[:cap(sc.vocab.tails)])
	sc.vocab = vocabSet{iris: sc.vocab.iris[:0], tails: sc.vocab.tails[:0]}
	clear(sc.merged)
}

// newNode returns a zeroed node from the arena. A full slab is not grown
// in place (nodes already handed out point into it): a new, larger slab
// replaces it, and the pool keeps only the newest.
func (sc *hashScratch) newNode() *node {
	if len(sc.nodes) == cap(sc.nodes) {
		sc.nodes = make([]node, 0, max(64, 2*cap(sc.nodes)))
	}
	sc.nodes = sc.nodes[:len(sc.nodes)+1]
	return &sc.nodes[len(sc.nodes)-1]
}

// reserve returns an empty child list with room for exactly n children,
// from the arena (appending beyond n would copy it elsewhere).
func (sc *hashScratch) reserve(n int) []*node {
	if n == 0 {
		return nil
	}
	if cap(sc.ptrs)-len(sc.ptrs) < n {
		sc.ptrs = make([]*node, 0, max(256, 2*cap(sc.ptrs), n))
	}
	l := len(sc.ptrs)
	sc.ptrs = sc.ptrs[:l+n]
	return sc.ptrs[l : l : l+n]
}

// pop moves sc.stack[base:] into a child list and truncates the stack.
func (sc *hashScratch) pop(base int) []*node {
	kids := append(sc.reserve(len(sc.stack)-base), sc.stack[base:]...)
	clear(sc.stack[base:])
	sc.stack = sc.stack[:base]
	return kids
}

// findList returns the index in sc.lists (from lbase) of the group named
// name, or -1.
func (sc *hashScratch) findList(lbase int, name string) int {
	if sc.listIx != nil {
		if i, ok := sc.listIx[name]; ok {
			return i
		}
		return -1
	}
	for i := lbase; i < len(sc.lists); i++ {
		if sc.lists[i].node.name == name {
			return i
		}
	}
	return -1
}

// addList starts a group; beyond a few groups they are indexed by name.
func (sc *hashScratch) addList(lbase int, name string) {
	l := sc.newNode()
	l.name = name
	sc.lists = append(sc.lists, listEntry{node: l, n: 1})
	switch {
	case sc.listIx != nil:
		sc.listIx[name] = len(sc.lists) - 1
	case len(sc.lists)-lbase > 16:
		sc.listIx = make(map[string]int, len(sc.lists)-lbase)
		for i := lbase; i < len(sc.lists); i++ {
			sc.listIx[sc.lists[i].node.name] = i
		}
	}
}

func (sc *hashScratch) dropLists(lbase int) {
	clear(sc.lists[lbase:])
	sc.lists = sc.lists[:lbase]
	sc.listIx = nil
}

// sortSpans sorts the sibling strings rendered since start (the spans
// from sbase, which tile sc.buf[start:]) into byte order, and drops the
// spans.
func (sc *hashScratch) sortSpans(start, sbase int) {
	spans := sc.spans[sbase:]
	sc.spans = sc.spans[:sbase]
	if len(spans) < 2 {
		return
	}
	buf := sc.buf
	cmp := func(a, b span) int { return bytes.Compare(buf[a.start:a.end], buf[b.start:b.end]) }
	if slices.IsSortedFunc(spans, cmp) {
		return
	}
	slices.SortFunc(spans, cmp)
	sc.tmp = append(sc.tmp[:0], buf[start:]...)
	w := start
	for _, s := range spans {
		w += copy(buf[w:], sc.tmp[s.start-start:s.end-start])
	}
}

// expandedKey is the member name k (with a ':' at i, not starting with
// '@') as the hash writes it: "{" + iri + "}" + the rest when the prefix
// k[:i] is bound to iri in ns, k itself otherwise. It is remembered per
// scratch for the prefixes pfx (ns): the same few extension members recur
// in every event.
func (sc *hashScratch) expandedKey(pfx *ctxEntry, ns Context, k string, i int) string {
	if sc.keyFor != pfx {
		clear(sc.keyCache)
		sc.keyFor = pfx
	}
	if s, ok := sc.keyCache[k]; ok {
		return s
	}
	s := k
	if iri, ok := ns[k[:i]]; ok {
		s = "{" + iri + "}" + k[i+1:]
	}
	if len(sc.keyCache) < 256 && len(k) <= 256 {
		sc.keyCache[strings.Clone(k)] = s
	}
	return s
}

// appendCanonValue is appendCanonValue, remembering the canonical form of
// identifiers (EPC URIs, Digital Links and other http(s) IRIs): the
// locations, devices and vocabulary IRIs of a source recur in every event.
func (sc *hashScratch) appendCanonValue(dst []byte, s string) []byte {
	if len(s) > 128 || !(strings.HasPrefix(s, "urn:epc:") || strings.HasPrefix(s, "http")) ||
		strings.Contains(s, "urn:epcglobal:cbv:") {
		return appendCanonValue(dst, s)
	}
	// Such values hold no CBV URN and are not numbers: appendCanonValue
	// would append toDigitalLink(s).
	if c, ok := sc.canonCache[s]; ok {
		return append(dst, c...)
	}
	start := len(dst)
	dst = epc.AppendCanonicalForm(dst, s)
	if len(sc.canonCache) >= 512 {
		clear(sc.canonCache)
	}
	sc.canonCache[strings.Clone(s)] = string(dst[start:])
	return dst
}

// ---- prefixes ----

// ctxEntry is a set of prefixes (an event's own @context merged with the
// caller's Context) with what the hash derives from it: the active JSON-LD
// context for the vocabulary walk, and each prefix's IRI as values are
// expanded with (without braces). It is never changed once made.
type ctxEntry struct {
	ctx      Context
	active   activeCtx
	valueIRI map[string]string
}

// ctxCache remembers the last few prefix sets: events of one source share
// theirs, so the active context is built once, not once per event.
var (
	ctxCache     [8]atomic.Pointer[ctxEntry]
	ctxCacheNext atomic.Uint32
)

// cachedContext returns the entry for the prefixes ctx (not retained).
func cachedContext(ctx Context) *ctxEntry {
	for i := range ctxCache {
		if e := ctxCache[i].Load(); e != nil && maps.Equal(e.ctx, ctx) {
			return e
		}
	}
	e := &ctxEntry{ctx: maps.Clone(ctx), valueIRI: make(map[string]string, len(ctx))}
	if e.ctx == nil {
		e.ctx = Context{}
	}
	e.active = activeCtx{}.withPrefixes(e.ctx)
	for p, iri := range e.ctx {
		e.valueIRI[p] = unbraced(iri)
	}
	if len(ctx) <= 64 {
		ctxCache[ctxCacheNext.Add(1)%uint32(len(ctxCache))].Store(e)
	}
	return e
}

// ---- input ----

// isDecodedJSON reports whether v is already in the form normalizeJSON
// gives (what encoding/json with UseNumber decodes), with numbers
// normalizeJSON accepts and no deeper than it allows: then normalising
// would only copy it.
func isDecodedJSON(v any, depth int) bool {
	if depth > maxHashDepth {
		return false
	}
	switch x := v.(type) {
	case nil, string, bool:
		return true
	case json.Number:
		return isJSONNumberLiteral(string(x))
	case map[string]any:
		for _, el := range x {
			if !isDecodedJSON(el, depth+1) {
				return false
			}
		}
		return true
	case []any:
		for _, el := range x {
			if !isDecodedJSON(el, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// isJSONNumberLiteral reports whether s is a number as JSON writes it
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), which normalizeJSON
// always accepts.
func isJSONNumberLiteral(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}
