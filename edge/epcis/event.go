package epcis

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
)

// Event is one EPCIS 2.0 event in JSON-LD form, decoded with
// json.Decoder.UseNumber (numbers stay json.Number so nothing is lost).
type Event map[string]any

// Type returns the event type ("ObjectEvent", "AggregationEvent", …).
func (e Event) Type() string { return e.str("type") }

// Action returns the action (ADD, OBSERVE, DELETE); TransformationEvents
// have none.
func (e Event) Action() string { return e.str("action") }

// ID returns the eventID field as written (it is not checked against the
// event's hash).
func (e Event) ID() string { return e.str("eventID") }

func (e Event) str(k string) string {
	s, _ := e[k].(string)
	return s
}

// Time parses eventTime (RFC 3339 / xsd:dateTime with a zone).
func (e Event) Time() (time.Time, error) {
	s, ok := e["eventTime"].(string)
	if !ok {
		return time.Time{}, errors.New("epcis: event has no eventTime")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t2, ok := parseTimestamp(s); ok && hasZone(s) {
			return t2, nil
		}
		return time.Time{}, fmt.Errorf("epcis: eventTime %q: %w", s, err)
	}
	return t, nil
}

func hasZone(s string) bool {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	i := strings.LastIndexAny(s, "+-")
	return i > 10
}

// BizStep returns the business step, normalised to the CBV short name
// ("receiving") when it is a CBV value written bare, as
// https://ref.gs1.org/cbv/BizStep-receiving, cbv:BizStep-receiving or
// urn:epcglobal:cbv:bizstep:receiving; other values are returned as written.
func (e Event) BizStep() string {
	return cbvShortName(e.str("bizStep"), bizStepTerms, "BizStep-", "urn:epcglobal:cbv:bizstep:")
}

// Disposition returns the disposition, normalised like BizStep.
func (e Event) Disposition() string {
	return cbvShortName(e.str("disposition"), dispTerms, "Disp-", "urn:epcglobal:cbv:disp:")
}

// cbvShortName maps the forms of a CBV value to its short name.
func cbvShortName(v string, terms map[string]string, webPrefix, urnPrefix string) string {
	if _, ok := terms[v]; ok {
		return v
	}
	for _, p := range []string{"https://ref.gs1.org/cbv/" + webPrefix, "http://ref.gs1.org/cbv/" + webPrefix, "cbv:" + webPrefix, urnPrefix} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			if _, known := terms[rest]; known {
				return rest
			}
		}
	}
	return v
}

// ReadPoint returns the readPoint's id.
func (e Event) ReadPoint() string { return locationID(e["readPoint"]) }

// BizLocation returns the bizLocation's id.
func (e Event) BizLocation() string { return locationID(e["bizLocation"]) }

func locationID(v any) string {
	switch x := v.(type) {
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	case string:
		return x
	}
	return ""
}

// EPCs returns every EPC the event names, in this order and without
// repeats: epcList, childEPCs, parentID, inputEPCList, outputEPCList.
func (e Event) EPCs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, k := range []string{"epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList"} {
		switch x := e[k].(type) {
		case string:
			add(x)
		case []any:
			for _, el := range x {
				if s, ok := el.(string); ok {
					add(s)
				}
			}
		case []string:
			for _, s := range x {
				add(s)
			}
		}
	}
	return out
}

// Classes returns the epcClass of every quantity element (quantityList,
// childQuantityList, inputQuantityList, outputQuantityList), without
// repeats.
func (e Event) Classes() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range []string{"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"} {
		for _, q := range objects(e[k]) {
			if c, ok := q["epcClass"].(string); ok && c != "" && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

func objects(v any) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case []map[string]any:
		out = x
	}
	return out
}

// LotRef names a lot: a GTIN-14 and a lot number.
type LotRef struct {
	GTIN string
	Lot  string
}

// Lots returns the lots the event names, without repeats: from LGTIN
// classes (urn:epc:class:lgtin:…) and Digital Link URIs with a lot
// (…/01/{gtin}/10/{lot}…) among its EPCs and classes, and from an ILMD lot
// number (cbvmda:lotNumber) paired with the GTIN of each of the event's
// EPCs and classes.
func (e Event) Lots() []LotRef {
	var out []LotRef
	seen := map[LotRef]bool{}
	add := func(l LotRef) {
		if l.GTIN != "" && l.Lot != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	ids := append(e.EPCs(), e.Classes()...)
	var gtins []string
	gseen := map[string]bool{}
	for _, id := range ids {
		gtin, lot := gtinAndLot(id)
		if gtin != "" && !gseen[gtin] {
			gseen[gtin] = true
			gtins = append(gtins, gtin)
		}
		add(LotRef{GTIN: gtin, Lot: lot})
	}
	if lot := ilmdLot(e["ilmd"]); lot != "" {
		for _, g := range gtins {
			add(LotRef{GTIN: g, Lot: lot})
		}
	}
	return out
}

// gtinAndLot extracts the GTIN-14 and lot of an EPC URI, LGTIN class or
// Digital Link URI; an SGTIN gives its GTIN and no lot.
func gtinAndLot(id string) (gtin, lot string) {
	if strings.HasPrefix(id, "urn:epc:") {
		dl, err := epc.ToDigitalLink(id)
		if err != nil || dl == id {
			return "", ""
		}
		id = dl
	}
	d, err := epc.ParseDigitalLink(id)
	if err != nil {
		return "", ""
	}
	return d.GTIN, d.Lot
}

// ilmdLot finds the lot number in ILMD: cbvmda:lotNumber, its full IRI
// urn:epcglobal:cbv:mda:lotNumber, or a bare lotNumber.
func ilmdLot(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	for _, k := range []string{"cbvmda:lotNumber", "urn:epcglobal:cbv:mda:lotNumber", "lotNumber"} {
		switch x := m[k].(type) {
		case string:
			return x
		case json.Number:
			return string(x)
		}
	}
	return ""
}
