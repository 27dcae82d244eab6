package epcis

import "strings"

// Standalone returns a copy of e that carries its own "@context": the
// standard context IRI plus exactly the prefixes of ctx (and of e's own
// @context, which ctx overrides) that e uses, so the event alone, e.g.
// inside a proof file, can be re-hashed by anyone:
// Hash(e.Standalone(ctx), nil) == Hash(e, ctx).
//
// A prefix counts as used when a member name or string value of e starts
// with "prefix:" or is the prefix itself (a bare term). The copy is
// shallow below the top level: nested values are shared with e.
func (e Event) Standalone(ctx Context) Event {
	merged := Context{}
	if _, ok := e["@context"]; ok {
		if own, err := ContextOf(e); err == nil {
			merged = own
		}
	}
	for k, v := range ctx {
		merged[k] = v
	}
	used := Context{}
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
			if depth > maxHashDepth {
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
	out["@context"] = contextValue(used)
	return out
}
