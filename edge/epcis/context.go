package epcis

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// StandardContextIRI is the JSON-LD context of EPCIS 2.0 documents; its
// terms are built into this package (from an embedded copy), never fetched.
const StandardContextIRI = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// legacyContextIRI is the context IRI GS1's drafts and some examples use;
// it differs from StandardContextIRI only in the datatype of quantity.
const legacyContextIRI = "https://gs1.github.io/EPCIS/epcis-context.jsonld"

// Namespace is tracegate's namespace for EPCIS extensions; events the edge
// makes bind it to the prefix "tg".
const Namespace = "https://tracegate.dev/ns/epcis/"

//go:embed standard/ref.gs1.org-epcis-2.0.0-context.jsonld
var standardContextJSON []byte

// Context holds the namespace prefixes a document declares in its own
// @context (prefix -> IRI). The terms of the standard EPCIS/CBV context are
// built in and need not be listed: ContextOf recognises the standard context
// IRIs without fetching them.
//
// Prefixes the standard context defines (gs1, cbv, cbvmda …) are not added
// to a Context unless the document declares them itself: GS1's reference
// hash implementation resolves "prefix:name" keys and values only through
// the document's own declarations, so adding them would change event hashes.
type Context map[string]string

// ContextError reports an @context that cannot be read.
type ContextError struct {
	Reason string
}

// Error describes the @context problem.
func (e *ContextError) Error() string { return "epcis: @context: " + e.Reason }

// ContextOf reads the namespace prefixes of a document (or of an event that
// carries its own @context). The standard context IRIs are recognised;
// other remote context IRIs cannot be resolved offline and are skipped.
// Term definitions that are objects contribute their "@id".
func ContextOf(doc map[string]any) (Context, error) {
	raw, ok := doc["@context"]
	if !ok || raw == nil {
		return Context{}, nil
	}
	ctx := Context{}
	if err := addContext(ctx, raw, 0); err != nil {
		return nil, err
	}
	return ctx, nil
}

func addContext(ctx Context, raw any, depth int) error {
	if depth > 8 {
		return &ContextError{Reason: "nested too deeply"}
	}
	switch c := raw.(type) {
	case string:
		return nil // a context IRI: the standard ones are built in
	case []any:
		for _, item := range c {
			if err := addContext(ctx, item, depth+1); err != nil {
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
		return &ContextError{Reason: fmt.Sprintf("unexpected %T", raw)}
	}
}

// contextValue renders ctx as a JSON-LD @context value: the standard
// context IRI followed by the prefixes, if any.
func contextValue(ctx Context) []any {
	out := []any{StandardContextIRI}
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
type termDef struct {
	iri    string   // expanded IRI, or a keyword such as "@id"
	typ    string   // type mapping: "@id", "@vocab", a datatype IRI or ""
	prefix bool     // usable as the prefix of a compact IRI
	scoped *ldScope // property-scoped context, nil if none
}

// ldScope is a set of term definitions.
type ldScope struct {
	terms  map[string]*termDef
	vocab  string
	parent *ldScope // the scope it was defined in, for compact IRIs in it
}

// stdScope is the standard context's top-level scope.
var stdScope *ldScope

// cbvTerms maps, per CBV vocabulary (BizStep, Disp, BTT, SDT), the short
// names of the standard context to their IRIs; measurementTerms and
// alertTerms do the same for sensor report types and exceptions.
var (
	bizStepTerms     map[string]string
	dispTerms        map[string]string
	bttTerms         map[string]string
	sdtTerms         map[string]string
	measurementTerms map[string]string
	alertTerms       map[string]string
)

func init() {
	var doc map[string]any
	if err := json.Unmarshal(standardContextJSON, &doc); err != nil {
		panic("epcis: embedded standard context: " + err.Error())
	}
	root, _ := doc["@context"].(map[string]any)
	stdScope = parseScope(root, nil)
	vocabOf := func(path ...string) map[string]string {
		s := stdScope
		var d *termDef
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
	bizStepTerms = vocabOf("bizStep")
	dispTerms = vocabOf("disposition")
	bttTerms = vocabOf("bizTransactionList", "type")
	sdtTerms = vocabOf("sourceList", "type")
	measurementTerms = vocabOf("sensorElementList", "sensorReport", "type")
	alertTerms = vocabOf("sensorElementList", "sensorReport", "exception")
}

// parseScope reads a JSON-LD context object (or array of them) into term
// definitions; compact IRIs resolve through the scope itself and then outer.
func parseScope(raw any, outer *ldScope) *ldScope {
	s := &ldScope{terms: map[string]*termDef{}, parent: outer}
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
	lookup := func(p string) *termDef {
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
			if str, ok := v.(string); ok && !strings.HasPrefix(k, "@") && endsWithGenDelim(str) && strings.Contains(str, ":") {
				s.terms[k] = &termDef{iri: str, prefix: true}
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
				s.terms[k] = &termDef{iri: expand(d)}
			case map[string]any:
				td := &termDef{}
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
					td.scoped = parseScope(sc, s)
				}
				s.terms[k] = td
			}
		}
	}
	return s
}

// endsWithGenDelim reports whether an IRI ends with a URI gen-delim
// character, which makes a simple term definition a prefix (JSON-LD 1.1).
func endsWithGenDelim(iri string) bool {
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
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
