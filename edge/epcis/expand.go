package epcis

import "strings"

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
var vocabPrefixes = [...]string{"https://ref.gs1.org/cbv", "https://gs1.org/voc"}

// activeCtx is a JSON-LD active context: property-scoped contexts from the
// standard context (innermost first), the standard context, then the
// document's own definitions (which may not override protected standard
// terms).
type activeCtx struct {
	scoped *scopeLink
	inline *inlineLink
}

type scopeLink struct {
	s    *ldScope
	next *scopeLink
}

type inlineLink struct {
	terms map[string]*termDef
	vocab string
	next  *inlineLink
}

func (a activeCtx) lookup(term string) *termDef {
	for l := a.scoped; l != nil; l = l.next {
		if d := l.s.terms[term]; d != nil {
			return d
		}
	}
	if d := stdScope.terms[term]; d != nil {
		return d
	}
	for l := a.inline; l != nil; l = l.next {
		if d := l.terms[term]; d != nil {
			return d
		}
	}
	return nil
}

func (a activeCtx) vocab() string {
	for l := a.inline; l != nil; l = l.next {
		if l.vocab != "" {
			return l.vocab
		}
	}
	return ""
}

func (a activeCtx) withScope(s *ldScope) activeCtx {
	return activeCtx{scoped: &scopeLink{s: s, next: a.scoped}, inline: a.inline}
}

// withPrefixes adds a layer of document definitions.
func (a activeCtx) withPrefixes(ctx Context) activeCtx {
	if len(ctx) == 0 {
		return a
	}
	l := &inlineLink{terms: make(map[string]*termDef, len(ctx)), next: a.inline}
	for k, v := range ctx {
		if k == "@vocab" {
			l.vocab = v
			continue
		}
		l.terms[k] = &termDef{iri: v, prefix: endsWithGenDelim(v) && strings.Contains(v, ":")}
	}
	// Definitions may use each other's prefixes ("ex": "foo:bar/").
	for _, d := range l.terms {
		if i := strings.Index(d.iri, ":"); i > 0 && !strings.HasPrefix(d.iri[i+1:], "//") {
			if p := (activeCtx{inline: l}).lookup(d.iri[:i]); p != nil && p.prefix && p != d {
				d.iri = p.iri + d.iri[i+1:]
			}
		}
	}
	return activeCtx{scoped: a.scoped, inline: l}
}

// expandIRI expands a value the way JSON-LD IRI expansion does, with
// vocab for @vocab-typed values and @type, without for @id values.
func (a activeCtx) expandIRI(v string, vocab bool) string {
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
type vocabSet struct {
	iris  []string
	tails []string // what follows the last "-" or "/" of each IRI
	depth int
	links *[]scopeLink // arena for scope links; nil: allocate each
}

// withScope is a.withScope(sc), with the link taken from s.links.
func (s *vocabSet) withScope(a activeCtx, sc *ldScope) activeCtx {
	if s.links == nil {
		return a.withScope(sc)
	}
	links := *s.links
	if len(links) == cap(links) {
		// Links already handed out point into the full slab: start a new one.
		links = make([]scopeLink, 0, max(32, 2*cap(links)))
	}
	links = append(links, scopeLink{s: sc, next: a.scoped})
	*s.links = links
	return activeCtx{scoped: &links[len(links)-1], inline: a.inline}
}

func (s *vocabSet) add(iri string) {
	for _, p := range vocabPrefixes {
		if strings.HasPrefix(iri, p) {
			for _, x := range s.iris {
				if x == iri {
					return
				}
			}
			s.iris = append(s.iris, iri)
			s.tails = append(s.tails, iri[strings.LastIndexAny(iri, "-/")+1:])
			return
		}
	}
}

// walkNode visits a JSON-LD node object.
func (s *vocabSet) walkNode(obj map[string]any, a activeCtx) {
	s.walkObject(obj, a, false)
}

// walkObject is walkNode; event marks the event itself, whose @context
// the caller has already applied (it is not part of the event's content).
func (s *vocabSet) walkObject(obj map[string]any, a activeCtx, event bool) {
	if s.depth > maxHashDepth {
		return
	}
	s.depth++
	if c, ok := obj["@context"]; ok && !event {
		if extra, err := ContextOf(map[string]any{"@context": c}); err == nil {
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
			switch x := v.(type) {
			case string:
				s.add(a.expandIRI(x, true))
			case []any:
				for _, el := range x {
					if str, ok := el.(string); ok {
						s.add(a.expandIRI(str, true))
					}
				}
			}
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
				inner = s.withScope(a, d.scoped)
			}
			s.walkValue(v, inner, d.typ)
		case strings.Index(k, ":") > 0 || a.vocab() != "":
			s.walkValue(v, a, "")
		default:
			// JSON-LD drops properties that do not expand to an IRI.
		}
	}
	s.depth--
}

// walkValue visits the value of a property with type mapping typ.
func (s *vocabSet) walkValue(v any, a activeCtx, typ string) {
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

func hasDelimiter(v string) bool {
	return strings.IndexByte(v, '/') >= 0 || strings.IndexByte(v, '-') >= 0
}

// replacement returns the vocabulary IRI a bare value stands for: the one
// IRI of the set ending in "-v" or "/v", if exactly one does.
func (s *vocabSet) replacement(v string) (string, bool) {
	found := ""
	n := 0
	if !hasDelimiter(v) {
		// An IRI ends in "-v" or "/v" exactly when v is what follows its
		// last "-" or "/" (every vocabulary IRI has a "/").
		for i, t := range s.tails {
			if t == v {
				found = s.iris[i]
				n++
			}
		}
		return found, n == 1
	}
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
