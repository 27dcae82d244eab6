package epcis

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file is the EPCIS 2.0 XML binding: XML capture and query documents
// are read into the same JSON-LD event model the rest of the package uses,
// written the way GS1's JSON-LD examples write the same event, so an event
// hashes alike whichever binding it arrived in.

// xmlSchemaInstance is the namespace of xsi:type.
const xmlSchemaInstance = "http://www.w3.org/2001/XMLSchema-instance"

// xelem is a parsed XML element.
type xelem struct {
	space, local string
	attrs        []xml.Attr
	kids         []*xelem
	text         strings.Builder
}

// ParseXMLDocument parses an EPCIS 2.0 XML document under DefaultLimits;
// see Limits.ParseXMLDocument.
func ParseXMLDocument(data []byte) (*Document, error) {
	return Limits{}.ParseXMLDocument(data)
}

// ParseXMLDocument parses an EPCIS 2.0 XML EPCISDocument or
// EPCISQueryDocument into the JSON-LD event model and validates each event
// against GS1's JSON Schema (problem pointers refer to the JSON-LD form).
//
// The mapping follows GS1's JSON-LD examples of the same events: list
// elements become arrays, attributes of sensorMetadata/sensorReport and of
// extension elements become members, bizTransaction/source/destination
// become {"type", id} entries, <extension> wrappers of EPCIS 1.x disappear,
// extension elements become members named "prefix:local" with their
// namespaces in Document.Context, xsi:type'd numbers and booleans become
// JSON numbers and booleans, as do the standard numeric and boolean fields,
// "gs1:"/"cbv:" CURIE values are expanded, and GS1 measurement and alert
// types are written as their standard-context terms. An extension element
// with both attributes and text keeps its text under "#text", the member
// the reference's JSON reading takes as an element's text. Prefixes that
// values in the document use (component="example:x") are not used for
// member names, because XML does not resolve prefixes in values and the
// hash would otherwise expand them.
func (l Limits) ParseXMLDocument(data []byte) (*Document, error) {
	doc, err := l.decodeXMLDocument(data)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	for i, e := range doc.Events {
		if err := ValidateEvent(e); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			for _, p := range ve.Problems {
				probs = append(probs, Problem{Event: i, Pointer: p.Pointer, Message: p.Message})
			}
		}
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return doc, nil
}

// decodeXMLDocument reads an XML document into the event model without
// validating the events.
func (l Limits) decodeXMLDocument(data []byte) (*Document, error) {
	l = l.withDefaults()
	if len(data) > l.MaxBytes {
		return nil, &LimitError{What: "bytes", Limit: l.MaxBytes, Got: len(data)}
	}
	root, prefixes, err := parseXMLTree(data, l.MaxDepth)
	if err != nil {
		return nil, err
	}
	typ := root.local
	if typ != "EPCISDocument" && typ != "EPCISQueryDocument" {
		return nil, &ValidationError{Problems: []Problem{{Event: -1, Message: fmt.Sprintf("XML root element is %s, not EPCISDocument or EPCISQueryDocument", typ)}}}
	}
	list := findXML(root, "EventList", 0)
	if list == nil {
		return nil, &ValidationError{Problems: []Problem{{Event: -1, Message: "no EventList element"}}}
	}
	if n := len(list.kids); n > l.MaxEvents {
		return nil, &LimitError{What: "events", Limit: l.MaxEvents, Got: n}
	}
	conv := &xmlConverter{prefixes: prefixes, used: Context{}, valuePrefixes: map[string]bool{}}
	collectValuePrefixes(root, conv.valuePrefixes, 0)
	doc := &Document{Type: typ, Form: FormDocument}
	for _, el := range list.kids {
		doc.Events = append(doc.Events, conv.event(el))
	}
	doc.Context = conv.used
	return doc, nil
}

// parseXMLTree reads the element tree and the namespace prefixes declared
// anywhere in the document (URI -> first prefix seen).
func parseXMLTree(data []byte, maxDepth int) (*xelem, map[string]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	prefixes := map[string]string{}
	var stack []*xelem
	var root *xelem
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, &ValidationError{Problems: []Problem{{Event: -1, Message: "invalid XML: " + err.Error()}}}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, nil, &LimitError{What: "depth", Limit: maxDepth, Got: len(stack) + 1}
			}
			el := &xelem{space: t.Name.Space, local: t.Name.Local}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					if _, seen := prefixes[a.Value]; !seen {
						prefixes[a.Value] = a.Name.Local
					}
				case a.Name.Space == "" && a.Name.Local == "xmlns":
				default:
					el.attrs = append(el.attrs, a)
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, el)
			} else if root == nil {
				root = el
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, nil, &ValidationError{Problems: []Problem{{Event: -1, Message: "no XML root element"}}}
	}
	return root, prefixes, nil
}

// findXML finds the first element with the given local name, depth first.
func findXML(el *xelem, local string, depth int) *xelem {
	if depth > 16 {
		return nil
	}
	for _, k := range el.kids {
		if k.local == local {
			return k
		}
	}
	for _, k := range el.kids {
		if f := findXML(k, local, depth+1); f != nil {
			return f
		}
	}
	return nil
}

// xmlConverter turns XML events into JSON-LD events.
type xmlConverter struct {
	prefixes map[string]string // namespace URI -> prefix declared in the document
	used     Context           // prefixes used in member names
	gen      int
	// valuePrefixes are the "p:" prefixes that occur in values: XML does
	// not resolve them (only element and attribute names are qualified), so
	// member names must use other prefixes or the hash would expand them.
	valuePrefixes map[string]bool
}

// collectValuePrefixes records the CURIE-like prefixes of every text and
// attribute value.
func collectValuePrefixes(el *xelem, into map[string]bool, depth int) {
	if depth > 256 {
		return
	}
	add := func(v string) {
		if p, _, ok := strings.Cut(strings.TrimSpace(v), ":"); ok && p != "" {
			into[p] = true
		}
	}
	add(el.text.String())
	for _, a := range el.attrs {
		add(a.Value)
	}
	for _, k := range el.kids {
		collectValuePrefixes(k, into, depth+1)
	}
}

// name returns the JSON-LD member name of an XML name: the local name for
// unqualified names, "prefix:local" for namespaced ones.
func (c *xmlConverter) name(space, local string) string {
	if space == "" {
		return local
	}
	p, ok := c.prefixes[space]
	if iri, taken := c.used[p]; !ok || p == "" || c.valuePrefixes[p] || (taken && iri != space) {
		// No prefix, or one that values use, or one bound to two
		// namespaces in the document: make up a fresh one.
		base := p
		if base == "" {
			base = "ns"
		}
		for {
			c.gen++
			p = base + "-" + strconv.Itoa(c.gen)
			if _, taken := c.used[p]; !taken && !c.valuePrefixes[p] {
				break
			}
		}
		c.prefixes[space] = p
	}
	c.used[p] = space
	return p + ":" + local
}

// children flattens the unqualified <extension> and <baseExtension>
// wrappers of EPCIS 1.x XML.
func children(el *xelem) []*xelem {
	var out []*xelem
	for _, k := range el.kids {
		if k.space == "" && (k.local == "extension" || k.local == "baseExtension") && len(k.attrs) == 0 {
			out = append(out, children(k)...)
			continue
		}
		out = append(out, k)
	}
	return out
}

func text(el *xelem) string { return strings.TrimSpace(el.text.String()) }

// expandCURIE expands the gs1: and cbv: CURIEs XML documents use in values.
func expandCURIE(v string) string {
	if rest, ok := strings.CutPrefix(v, "gs1:"); ok {
		return "https://gs1.org/voc/" + rest
	}
	if rest, ok := strings.CutPrefix(v, "cbv:"); ok {
		return "https://ref.gs1.org/cbv/" + rest
	}
	return v
}

// numberOr returns s as a json.Number when it is a JSON-compatible number.
func numberOr(s string) any {
	t := strings.TrimSpace(s)
	if t != "" && isJSONNumber(t) {
		return json.Number(t)
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil && !strings.ContainsAny(strings.ToLower(t), "inx_") {
		b, _ := json.Marshal(f)
		return json.Number(b)
	}
	return s
}

func boolOr(s string) any {
	switch strings.TrimSpace(s) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	return s
}

// numericFields and boolFields are typed as numbers and booleans in
// EPCIS 2.0 JSON-LD.
var numericFields = map[string]bool{"quantity": true, "value": true, "minValue": true, "maxValue": true,
	"meanValue": true, "sDev": true, "percRank": true, "percValue": true}

func (c *xmlConverter) event(el *xelem) Event {
	e := Event{"type": el.local}
	for _, a := range el.attrs {
		e[c.name(a.Name.Space, a.Name.Local)] = expandCURIE(a.Value)
	}
	var certs []any
	for _, k := range children(el) {
		if k.space != "" {
			c.addMember(e, c.name(k.space, k.local), c.generic(k))
			continue
		}
		switch k.local {
		case "epcList", "childEPCs", "inputEPCList", "outputEPCList":
			l := []any{}
			for _, x := range children(k) {
				l = append(l, text(x))
			}
			e[k.local] = l
		case "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList":
			l := []any{}
			for _, q := range children(k) {
				l = append(l, c.object(q))
			}
			e[k.local] = l
		case "readPoint", "bizLocation", "persistentDisposition", "errorDeclaration", "ilmd":
			e[k.local] = c.object(k)
		case "bizTransactionList", "sourceList", "destinationList":
			l := []any{}
			for _, x := range children(k) {
				entry := map[string]any{x.local: text(x)}
				for _, a := range x.attrs {
					if a.Name.Space == "" && a.Name.Local == "type" {
						entry["type"] = expandCURIE(a.Value)
					} else {
						entry[c.name(a.Name.Space, a.Name.Local)] = expandCURIE(a.Value)
					}
				}
				l = append(l, entry)
			}
			e[k.local] = l
		case "sensorElementList":
			l := []any{}
			for _, se := range children(k) {
				l = append(l, c.sensorElement(se))
			}
			e[k.local] = l
		case "certificationInfo":
			certs = append(certs, expandCURIE(text(k)))
		default:
			if len(k.kids) > 0 || len(k.attrs) > 0 {
				c.addMember(e, k.local, c.object(k))
			} else {
				c.addMember(e, k.local, expandCURIE(text(k)))
			}
		}
	}
	switch len(certs) {
	case 0:
	case 1:
		e["certificationInfo"] = certs[0]
	default:
		e["certificationInfo"] = certs
	}
	finish(map[string]any(e))
	return e
}

// addMember sets m[k], turning repeated members into arrays.
func (c *xmlConverter) addMember(m map[string]any, k string, v any) {
	old, ok := m[k]
	if !ok {
		m[k] = v
		return
	}
	if l, isList := old.(xmlRepeated); isList {
		m[k] = append(l, v)
		return
	}
	m[k] = xmlRepeated{old, v}
}

// xmlRepeated marks arrays made from repeated XML elements while members
// are collected; finish turns them into []any.
type xmlRepeated []any

func finish(v any) any {
	switch x := v.(type) {
	case xmlRepeated:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = finish(el)
		}
		return out
	case map[string]any:
		for k, el := range x {
			x[k] = finish(el)
		}
		return x
	case Event:
		for k, el := range x {
			x[k] = finish(el)
		}
		return x
	case []any:
		for i, el := range x {
			x[i] = finish(el)
		}
		return x
	}
	return v
}

// object converts an element with children and attributes into an object
// of members; standard (unqualified) members keep their names.
func (c *xmlConverter) object(el *xelem) map[string]any {
	m := map[string]any{}
	for _, a := range el.attrs {
		if a.Name.Space == xmlSchemaInstance {
			continue
		}
		m[c.name(a.Name.Space, a.Name.Local)] = c.attrValue(a.Name.Local, a.Value, a.Name.Space == "")
	}
	for _, k := range children(el) {
		name := c.name(k.space, k.local)
		switch {
		case k.space == "" && (k.local == "set" || k.local == "unset" || k.local == "correctiveEventIDs"):
			if k.local == "correctiveEventIDs" {
				l := []any{}
				for _, x := range children(k) {
					l = append(l, text(x))
				}
				m[name] = l
				continue
			}
			if old, ok := m[name].([]any); ok {
				m[name] = append(old, expandCURIE(text(k)))
			} else {
				m[name] = []any{expandCURIE(text(k))}
			}
		default:
			var v any
			if k.space == "" && numericFields[k.local] && len(k.kids) == 0 {
				v = numberOr(text(k))
			} else {
				v = c.generic(k)
			}
			c.addMember(m, name, v)
		}
	}
	if t := text(el); t != "" && len(m) > 0 {
		m["#text"] = t
	}
	return finish(m).(map[string]any)
}

// attrValue types the value of a standard attribute of sensor data.
func (c *xmlConverter) attrValue(local, v string, standard bool) any {
	if !standard {
		return expandCURIE(v)
	}
	switch {
	case numericFields[local]:
		return numberOr(v)
	case local == "booleanValue":
		return boolOr(v)
	}
	return expandCURIE(v)
}

// generic converts an extension element: text (typed by xsi:type when it
// names a number or boolean type), or an object of its attributes and
// children.
func (c *xmlConverter) generic(el *xelem) any {
	var xsiType string
	plainAttrs := 0
	for _, a := range el.attrs {
		if a.Name.Space == xmlSchemaInstance && a.Name.Local == "type" {
			xsiType = a.Value
			continue
		}
		plainAttrs++
	}
	if len(el.kids) == 0 && plainAttrs == 0 {
		t := text(el)
		_, local, _ := strings.Cut(xsiType, ":")
		if local == "" {
			local = xsiType
		}
		switch local {
		case "integer", "int", "long", "short", "byte", "decimal", "double", "float",
			"nonNegativeInteger", "positiveInteger", "unsignedInt", "unsignedLong":
			return numberOr(t)
		case "boolean":
			return boolOr(t)
		}
		return expandCURIE(t)
	}
	return c.object(el)
}

func (c *xmlConverter) sensorElement(el *xelem) map[string]any {
	m := map[string]any{}
	var reports []any
	for _, k := range children(el) {
		switch {
		case k.space == "" && k.local == "sensorMetadata":
			m["sensorMetadata"] = c.object(k)
		case k.space == "" && k.local == "sensorReport":
			r := c.object(k)
			if t, ok := r["type"].(string); ok {
				r["type"] = gs1Term(t, measurementTerms)
			}
			if x, ok := r["exception"].(string); ok {
				r["exception"] = gs1Term(x, alertTerms)
			}
			reports = append(reports, r)
		default:
			c.addMember(m, c.name(k.space, k.local), c.generic(k))
		}
	}
	if reports != nil {
		m["sensorReport"] = reports
	}
	return finish(m).(map[string]any)
}
