package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Form says how a parsed input was shaped.
type Form int

const (
	// FormDocument is an EPCISDocument or EPCISQueryDocument.
	FormDocument Form = iota
	// FormEvent is a single event object, as handheld scanners send.
	FormEvent
	// FormEventArray is a JSON array of event objects.
	FormEventArray
)

// String names the form ("document", "event", "event array").
func (f Form) String() string {
	switch f {
	case FormDocument:
		return "document"
	case FormEvent:
		return "event"
	case FormEventArray:
		return "event array"
	}
	return "Form(" + strconv.Itoa(int(f)) + ")"
}

// Document is a parsed EPCIS 2.0 JSON-LD input.
type Document struct {
	// Type is "EPCISDocument" or "EPCISQueryDocument"; a single event or an
	// array of events counts as an EPCISDocument.
	Type string
	// Form says whether the input was a document, one event or an array.
	Form Form
	// Context holds the prefixes the document's @context declares (for a
	// single event, its own @context; for an array, none: each event's own
	// @context, if any, stays in the event and Hash reads it there).
	Context Context
	// Raw is the decoded input object as received (nil for an array).
	Raw map[string]any
	// Events are the events as received (URN-form CBV values are kept).
	Events []Event
}

// Limits bounds what ParseDocument accepts. Zero fields take the default.
type Limits struct {
	// MaxBytes is the largest input accepted (default 16 MiB).
	MaxBytes int
	// MaxEvents is the largest number of events accepted (default 10,000).
	MaxEvents int
	// MaxDepth is the deepest nesting of JSON objects and arrays accepted
	// (default 64).
	MaxDepth int
}

// DefaultLimits returns the limits ParseDocument applies.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 16 << 20, MaxEvents: 10000, MaxDepth: 64}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = d.MaxEvents
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	return l
}

// LimitError reports input beyond a Limits bound.
type LimitError struct {
	What  string // "bytes", "events" or "depth"
	Limit int
	Got   int // how much was seen (for depth: the depth where it stopped)
}

// Error says which limit was exceeded.
func (e *LimitError) Error() string {
	return fmt.Sprintf("epcis: input exceeds the limit of %d %s (%d)", e.Limit, e.What, e.Got)
}

// ParseDocument parses EPCIS 2.0 JSON-LD under DefaultLimits; see
// Limits.ParseDocument.
func ParseDocument(data []byte) (*Document, error) {
	return Limits{}.ParseDocument(data)
}

// ParseDocument parses an EPCIS 2.0 JSON-LD EPCISDocument or
// EPCISQueryDocument, or, for handheld scanners, a single event object or
// an array of events (Document.Form says which), and validates it against
// GS1's EPCIS 2.0 JSON Schema. CBV values in URN form
// (urn:epcglobal:cbv:bizstep:receiving …) are accepted: a normalised copy
// is validated while the events keep their original values. It returns a
// *LimitError for input beyond l, and a *ValidationError listing every
// problem (JSON pointer into the input, event index) for invalid input.
func (l Limits) ParseDocument(data []byte) (*Document, error) {
	l = l.withDefaults()
	if len(data) > l.MaxBytes {
		return nil, &LimitError{What: "bytes", Limit: l.MaxBytes, Got: len(data)}
	}
	if d := jsonDepth(data, l.MaxDepth); d > l.MaxDepth {
		return nil, &LimitError{What: "depth", Limit: l.MaxDepth, Got: d}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, syntaxProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ValidationError{Problems: []Problem{{Event: -1, Message: "unexpected data after the JSON value"}}}
	}
	switch x := top.(type) {
	case map[string]any:
		switch t, _ := x["type"].(string); t {
		case "EPCISDocument", "EPCISQueryDocument":
			return l.parseDocument(x, t)
		}
		return l.parseEvents([]any{x}, FormEvent, x)
	case []any:
		return l.parseEvents(x, FormEventArray, nil)
	}
	return nil, &ValidationError{Problems: []Problem{{Event: -1, Message: "not an EPCIS document, event or array of events"}}}
}

func syntaxProblem(err error) error {
	msg := err.Error()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return &ValidationError{Problems: []Problem{{Event: -1, Message: msg}}}
}

// eventListPath returns where a document keeps its events.
func eventListPath(typ string) []string {
	if typ == "EPCISQueryDocument" {
		return []string{"epcisBody", "queryResults", "resultsBody", "eventList"}
	}
	return []string{"epcisBody", "eventList"}
}

func (l Limits) parseDocument(raw map[string]any, typ string) (*Document, error) {
	path := eventListPath(typ)
	var list []any
	var cur any = raw
	for _, k := range path {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	list, _ = cur.([]any)
	if len(list) > l.MaxEvents {
		return nil, &LimitError{What: "events", Limit: l.MaxEvents, Got: len(list)}
	}
	norm, err := normalizeJSON(raw, 0)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Event: -1, Message: err.Error()}}}
	}
	cur = norm
	for _, k := range path {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	if nl, ok := cur.([]any); ok {
		for _, e := range nl {
			if m, ok := e.(map[string]any); ok {
				normaliseCBVURNs(m)
			}
		}
	}
	prefix := "/" + strings.Join(path, "/") + "/"
	locate := func(ptr string) (int, string) {
		if rest, ok := strings.CutPrefix(ptr, prefix); ok {
			idx, _, _ := strings.Cut(rest, "/")
			if n, err := strconv.Atoi(idx); err == nil {
				return n, ptr
			}
		}
		return -1, ptr
	}
	if err := validateValue(norm, locate); err != nil {
		return nil, err
	}
	ctx, err := ContextOf(raw)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Event: -1, Pointer: "/@context", Message: err.Error()}}}
	}
	doc := &Document{Type: typ, Form: FormDocument, Context: ctx, Raw: raw}
	for _, e := range list {
		m, _ := e.(map[string]any)
		doc.Events = append(doc.Events, Event(m))
	}
	return doc, nil
}

func (l Limits) parseEvents(list []any, form Form, raw map[string]any) (*Document, error) {
	if len(list) > l.MaxEvents {
		return nil, &LimitError{What: "events", Limit: l.MaxEvents, Got: len(list)}
	}
	var probs []Problem
	doc := &Document{Type: "EPCISDocument", Form: form, Context: Context{}, Raw: raw}
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			probs = append(probs, Problem{Event: i, Pointer: elemPointer(form, i, ""), Message: "not an event object"})
			continue
		}
		if err := ValidateEvent(Event(m)); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			for _, p := range ve.Problems {
				probs = append(probs, Problem{Event: i, Pointer: elemPointer(form, i, p.Pointer), Message: p.Message})
			}
			continue
		}
		doc.Events = append(doc.Events, Event(m))
		if len(probs) >= maxProblems {
			break
		}
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	if form == FormEvent {
		ctx, err := ContextOf(raw)
		if err != nil {
			return nil, &ValidationError{Problems: []Problem{{Event: 0, Pointer: "/@context", Message: err.Error()}}}
		}
		doc.Context = ctx
	}
	return doc, nil
}

func elemPointer(form Form, i int, ptr string) string {
	if form == FormEvent {
		return ptr
	}
	return "/" + strconv.Itoa(i) + ptr
}

// jsonDepth returns the nesting depth of JSON text, stopping early once
// it exceeds max.
func jsonDepth(data []byte, max int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// MarshalDocument writes events as an EPCISDocument: @context (the
// standard context plus ctx's prefixes), type, schemaVersion "2.0",
// creationDate (now, UTC, milliseconds) and epcisBody.eventList.
func MarshalDocument(events []Event, ctx Context) ([]byte, error) {
	list := make([]any, len(events))
	for i, e := range events {
		if e == nil {
			return nil, fmt.Errorf("epcis: event %d is nil", i)
		}
		list[i] = map[string]any(e)
	}
	doc := map[string]any{
		"@context":      contextValue(ctx),
		"type":          "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate":  time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"epcisBody":     map[string]any{"eventList": list},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("epcis: marshal document: %w", err)
	}
	return b, nil
}
