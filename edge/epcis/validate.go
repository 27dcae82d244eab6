package epcis

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed standard/EPCIS-JSON-Schema.json
var schemaJSON []byte

// schemaURL is the schema's own $id; it is only a name here, nothing is
// fetched.
const schemaURL = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// compiledSchema compiles the embedded GS1 schema once.
func compiledSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(schemaJSON)))
		if err != nil {
			schemaErr = fmt.Errorf("epcis: embedded schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.UseLoader(offlineLoader{})
		c.UseRegexpEngine(ecmaSubset)
		if err := c.AddResource(schemaURL, doc); err != nil {
			schemaErr = fmt.Errorf("epcis: embedded schema: %w", err)
			return
		}
		schema, schemaErr = c.Compile(schemaURL)
	})
	return schema, schemaErr
}

// offlineLoader refuses every URL: the schema is self-contained and
// validation must never touch the network.
type offlineLoader struct{}

// Load fails: nothing outside the embedded schema may be loaded.
func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("epcis: schema validation is offline, cannot load %s", url)
}

// ecmaSubset compiles the schema's ECMA-262 patterns with Go's regexp. The
// only construct Go lacks that GS1's schema uses is a leading negative
// lookahead, "^(?!(X))": it is evaluated as "does not match ^(X)".
func ecmaSubset(pattern string) (jsonschema.Regexp, error) {
	if inner, ok := strings.CutPrefix(pattern, "^(?!("); ok && strings.HasSuffix(inner, "))") {
		inner = strings.TrimSuffix(inner, "))")
		re, err := regexp.Compile("^(?:" + inner + ")")
		if err != nil {
			return nil, err
		}
		return negated{re: re, src: pattern}, nil
	}
	return regexp.Compile(pattern)
}

type negated struct {
	re  *regexp.Regexp
	src string
}

// MatchString reports whether s does not match the lookahead body.
func (n negated) MatchString(s string) bool { return !n.re.MatchString(s) }

// String returns the original pattern.
func (n negated) String() string { return n.src }

// Problem is one reason a document or event is invalid.
type Problem struct {
	// Event is the index of the event the problem is in, -1 for the
	// document itself.
	Event int `json:"event"`
	// Pointer is the JSON pointer (RFC 6901) of the offending value in
	// the input as received.
	Pointer string `json:"pointer"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// ValidationError lists every problem found in a document or event.
type ValidationError struct {
	Problems []Problem
}

// Error lists the first problems with their JSON pointers.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("epcis: invalid: ")
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-5)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		ptr := p.Pointer
		if ptr == "" {
			ptr = "/"
		}
		fmt.Fprintf(&b, "%s: %s", ptr, p.Message)
	}
	return b.String()
}

// englishPrinter renders the schema validator's messages.
var englishPrinter = message.NewPrinter(language.English)

// maxProblems bounds how many problems one validation reports.
const maxProblems = 100

// ValidateEvent checks one event against GS1's EPCIS 2.0 JSON Schema (an
// event without its own @context is checked as if it had the standard
// one). CBV values in URN form (urn:epcglobal:cbv:bizstep:receiving …) are
// accepted: the schema is applied to a copy in which they are written as
// bare CBV words. It returns nil or a *ValidationError.
func ValidateEvent(e Event) error {
	if e == nil {
		return &ValidationError{Problems: []Problem{{Event: 0, Message: "no event"}}}
	}
	norm, err := normalizeJSON(map[string]any(e), 0)
	if err != nil {
		return &ValidationError{Problems: []Problem{{Event: 0, Message: err.Error()}}}
	}
	m := norm.(map[string]any)
	if _, ok := m["@context"]; !ok {
		m["@context"] = StandardContextIRI
	}
	normaliseCBVURNs(m)
	return validateValue(m, func(ptr string) (int, string) { return 0, ptr })
}

// validateValue runs the schema over v; locate maps an instance pointer
// to an event index and the pointer to report.
func validateValue(v any, locate func(string) (int, string)) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	err = sch.Validate(toSchemaValue(v))
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &ValidationError{Problems: []Problem{{Event: -1, Message: err.Error()}}}
	}
	var probs []Problem
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(probs) >= maxProblems {
			return
		}
		if len(e.Causes) == 0 {
			ptr := "/" + strings.Join(escapeTokens(e.InstanceLocation), "/")
			if len(e.InstanceLocation) == 0 {
				ptr = ""
			}
			msg := e.ErrorKind.LocalizedString(englishPrinter)
			if seen[ptr+"\x00"+msg] {
				return
			}
			seen[ptr+"\x00"+msg] = true
			idx, p := locate(ptr)
			probs = append(probs, Problem{Event: idx, Pointer: p, Message: msg})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Event < probs[j].Event })
	return &ValidationError{Problems: probs}
}

func escapeTokens(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}

// toSchemaValue converts json.Number into the numbers the validator
// understands; everything else is already plain JSON.
func toSchemaValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			out[k] = toSchemaValue(el)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = toSchemaValue(el)
		}
		return out
	}
	return v
}

// cbvURNForms maps the legacy URN prefix of each CBV vocabulary to the
// short names the schema accepts.
var cbvURNForms = []struct {
	prefix string
	terms  *map[string]string
}{
	{"urn:epcglobal:cbv:bizstep:", &bizStepTerms},
	{"urn:epcglobal:cbv:disp:", &dispTerms},
	{"urn:epcglobal:cbv:btt:", &bttTerms},
	{"urn:epcglobal:cbv:sdt:", &sdtTerms},
}

// shortCBV rewrites a known CBV value in URN form to its short name.
func shortCBV(v any, vocab int) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	f := cbvURNForms[vocab]
	if rest, ok := strings.CutPrefix(s, f.prefix); ok {
		if _, known := (*f.terms)[rest]; known {
			return rest
		}
	}
	return v
}

// normaliseCBVURNs rewrites, in place, the CBV values of an event that
// are written in URN form into the bare words the schema expects.
func normaliseCBVURNs(e map[string]any) {
	if v, ok := e["bizStep"]; ok {
		e["bizStep"] = shortCBV(v, 0)
	}
	if v, ok := e["disposition"]; ok {
		e["disposition"] = shortCBV(v, 1)
	}
	if pd, ok := e["persistentDisposition"].(map[string]any); ok {
		for _, k := range []string{"set", "unset"} {
			if l, ok := pd[k].([]any); ok {
				for i := range l {
					l[i] = shortCBV(l[i], 1)
				}
			}
		}
	}
	for _, q := range objects(e["bizTransactionList"]) {
		if v, ok := q["type"]; ok {
			q["type"] = shortCBV(v, 2)
		}
	}
	for _, k := range []string{"sourceList", "destinationList"} {
		for _, q := range objects(e[k]) {
			if v, ok := q["type"]; ok {
				q["type"] = shortCBV(v, 3)
			}
		}
	}
	if ed, ok := e["errorDeclaration"].(map[string]any); ok {
		if s, ok := ed["reason"].(string); ok {
			if rest, ok := strings.CutPrefix(s, "urn:epcglobal:cbv:er:"); ok && (rest == "did_not_occur" || rest == "incorrect_data") {
				ed["reason"] = rest
			}
		}
	}
}
