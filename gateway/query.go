package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/store"
)

// EventQuery is an EPCIS 2.0 events query (REST binding query parameters).
type EventQuery struct {
	EventTypes     []string
	Actions        []string
	BizSteps       []string
	Dispositions   []string
	ReadPoints     []string
	BizLocations   []string
	MatchEPC       []string // epcList and childEPCs
	MatchAnyEPC    []string // every EPC field, parentID included
	MatchParentID  []string
	MatchInputEPC  []string
	MatchOutputEPC []string
	MatchEPCClass  []string
	EventIDs       []string
	GEEventTime    time.Time
	LTEventTime    time.Time
	GERecordTime   time.Time
	LTRecordTime   time.Time
	Lot            *store.LotRef // tracegate: every event of a lot (incl. its serialised packs)
	PerPage        int
	NextPageToken  string
	Desc           bool
}

// MaxPerPage bounds one page of events.
const MaxPerPage = 1000

// ParseEventQuery reads the EPCIS REST binding's query parameters. Unknown
// parameters are an error, never silently ignored.
func ParseEventQuery(v url.Values) (EventQuery, error) {
	q := EventQuery{PerPage: 30}
	list := func(vals []string) []string {
		var out []string
		for _, s := range vals {
			for _, p := range strings.Split(s, "|") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	tm := func(name string, vals []string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339Nano, vals[0])
		if err != nil {
			return t, errf(KindInvalid, "QueryParameterException", "%s=%q is not an RFC 3339 time with a zone", name, vals[0])
		}
		return t, nil
	}
	var err error
	for name, vals := range v {
		if len(vals) == 0 {
			continue
		}
		switch name {
		case "eventType", "EQ_eventType":
			q.EventTypes = list(vals)
			for _, t := range q.EventTypes {
				if !slices.Contains([]string{"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}, t) {
					return q, errf(KindInvalid, "QueryParameterException", "eventType %q is not an EPCIS 2.0 event type", t)
				}
			}
		case "EQ_action":
			q.Actions = list(vals)
		case "EQ_bizStep":
			for _, b := range list(vals) {
				q.BizSteps = append(q.BizSteps, epcis.Event{"bizStep": b}.BizStep())
			}
		case "EQ_disposition":
			for _, b := range list(vals) {
				q.Dispositions = append(q.Dispositions, epcis.Event{"disposition": b}.Disposition())
			}
		case "EQ_readPoint":
			q.ReadPoints = list(vals)
		case "EQ_bizLocation":
			q.BizLocations = list(vals)
		case "MATCH_epc":
			q.MatchEPC = list(vals)
		case "MATCH_anyEPC":
			q.MatchAnyEPC = list(vals)
		case "MATCH_parentID":
			q.MatchParentID = list(vals)
		case "MATCH_inputEPC":
			q.MatchInputEPC = list(vals)
		case "MATCH_outputEPC":
			q.MatchOutputEPC = list(vals)
		case "MATCH_epcClass", "MATCH_anyEPCClass":
			q.MatchEPCClass = list(vals)
		case "EQ_eventID":
			q.EventIDs = list(vals)
		case "GE_eventTime":
			if q.GEEventTime, err = tm(name, vals); err != nil {
				return q, err
			}
		case "LT_eventTime":
			if q.LTEventTime, err = tm(name, vals); err != nil {
				return q, err
			}
		case "GE_recordTime":
			if q.GERecordTime, err = tm(name, vals); err != nil {
				return q, err
			}
		case "LT_recordTime":
			if q.LTRecordTime, err = tm(name, vals); err != nil {
				return q, err
			}
		case "perPage":
			n, err := strconv.Atoi(vals[0])
			if err != nil || n < 1 {
				return q, errf(KindInvalid, "QueryParameterException", "perPage=%q: want a positive integer", vals[0])
			}
			q.PerPage = min(n, MaxPerPage)
		case "nextPageToken":
			q.NextPageToken = vals[0]
		case "orderDirection":
			switch strings.ToUpper(vals[0]) {
			case "ASC":
			case "DESC":
				q.Desc = true
			default:
				return q, errf(KindInvalid, "QueryParameterException", "orderDirection=%q: want ASC or DESC", vals[0])
			}
		case "orderBy":
			if vals[0] != "eventTime" {
				return q, errf(KindInvalid, "QueryParameterException", "orderBy=%q: only eventTime is supported", vals[0])
			}
		case "gtin", "lot":
			// tracegate's lot filter: both together.
			g, l := v.Get("gtin"), v.Get("lot")
			if g == "" || l == "" {
				return q, errf(KindInvalid, "QueryParameterException", "gtin and lot go together")
			}
			q.Lot = &store.LotRef{GTIN: g, Lot: l}
		default:
			return q, errf(KindInvalid, "QueryParameterException", "query parameter %q is not supported (see docs/api.md for the supported EPCIS query parameters)", name)
		}
	}
	if !q.GEEventTime.IsZero() && !q.LTEventTime.IsZero() && !q.GEEventTime.Before(q.LTEventTime) {
		return q, errf(KindInvalid, "QueryParameterException", "GE_eventTime must be before LT_eventTime")
	}
	return q, nil
}

// QueryResult is one page of events.
type QueryResult struct {
	Events        []store.EventRecord
	NextPageToken string
}

type pageToken struct {
	Index string `json:"i"`
	Value string `json:"v"`
	Key   []byte `json:"k"`
}

// QueryEvents runs an events query, choosing the most selective index.
func (s *Service) QueryEvents(ctx context.Context, q EventQuery) (QueryResult, error) {
	sc := store.Scan{Index: store.IdxTime, From: q.GEEventTime, To: q.LTEventTime, Desc: q.Desc, Limit: q.PerPage}
	switch {
	case len(q.EventIDs) > 0:
		return s.eventsByID(q)
	case len(q.MatchEPC) == 1 && !isPattern(q.MatchEPC[0]):
		sc.Index, sc.Value = store.IdxEPC, CanonicalID(q.MatchEPC[0])
	case len(q.MatchAnyEPC) == 1 && !isPattern(q.MatchAnyEPC[0]):
		sc.Index, sc.Value = store.IdxEPC, CanonicalID(q.MatchAnyEPC[0])
	case len(q.MatchParentID) == 1:
		sc.Index, sc.Value = store.IdxEPC, CanonicalID(q.MatchParentID[0])
	case q.Lot != nil:
		sc.Index, sc.Value = store.IdxLot, store.LotIndexValue(*q.Lot)
	case len(q.BizLocations) == 1:
		sc.Index, sc.Value = store.IdxLocation, q.BizLocations[0]
	case len(q.ReadPoints) == 1:
		sc.Index, sc.Value = store.IdxReadPt, q.ReadPoints[0]
	case len(q.BizSteps) == 1:
		sc.Index, sc.Value = store.IdxBizStep, q.BizSteps[0]
	case len(q.EventTypes) == 1:
		sc.Index, sc.Value = store.IdxType, q.EventTypes[0]
	}
	if q.NextPageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.NextPageToken)
		var pt pageToken
		if err != nil || json.Unmarshal(raw, &pt) != nil || pt.Index != sc.Index || pt.Value != sc.Value {
			return QueryResult{}, errf(KindInvalid, "ValidationException", "nextPageToken does not belong to this query")
		}
		sc.After = pt.Key
	}
	out, next, err := s.st.Walk(sc, func(r *store.EventRecord) bool { return q.matches(r) })
	if err != nil {
		return QueryResult{}, &Error{Kind: KindUnavailable, Title: "query failed", Detail: err.Error(), Err: err}
	}
	res := QueryResult{Events: out}
	if next != nil {
		b, _ := json.Marshal(pageToken{Index: sc.Index, Value: sc.Value, Key: next})
		res.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return res, nil
}

func (s *Service) eventsByID(q EventQuery) (QueryResult, error) {
	var res QueryResult
	for _, id := range q.EventIDs {
		h, err := epcis.ParseEventID(id)
		if err != nil {
			return res, errf(KindInvalid, "QueryParameterException", "EQ_eventID %q: %v", id, err)
		}
		r, err := s.st.Event(h)
		if err != nil {
			continue
		}
		if q.matches(&r) {
			res.Events = append(res.Events, r)
		}
	}
	return res, nil
}

func isPattern(s string) bool {
	return strings.Contains(s, "*") || strings.HasPrefix(s, "urn:epc:idpat:")
}

// matches applies every predicate of q to an event.
func (q EventQuery) matches(r *store.EventRecord) bool {
	if !q.GERecordTime.IsZero() && r.RecordTime.Before(q.GERecordTime) {
		return false
	}
	if !q.LTRecordTime.IsZero() && !r.RecordTime.Before(q.LTRecordTime) {
		return false
	}
	if !q.GEEventTime.IsZero() && r.EventTime.Before(q.GEEventTime) {
		return false
	}
	if !q.LTEventTime.IsZero() && !r.EventTime.Before(q.LTEventTime) {
		return false
	}
	if len(q.EventTypes) > 0 && !slices.Contains(q.EventTypes, r.Type) {
		return false
	}
	if len(q.BizSteps) > 0 && !slices.Contains(q.BizSteps, r.BizStep) {
		return false
	}
	needEvent := len(q.Actions)+len(q.Dispositions)+len(q.ReadPoints)+len(q.BizLocations)+len(q.MatchEPC)+
		len(q.MatchAnyEPC)+len(q.MatchParentID)+len(q.MatchInputEPC)+len(q.MatchOutputEPC)+len(q.MatchEPCClass) > 0
	if !needEvent {
		return true
	}
	ev, err := parseEvent(r.Event)
	if err != nil {
		return false
	}
	if len(q.Actions) > 0 && !slices.Contains(q.Actions, ev.Action()) {
		return false
	}
	if len(q.Dispositions) > 0 && !slices.Contains(q.Dispositions, ev.Disposition()) {
		return false
	}
	if len(q.ReadPoints) > 0 && !slices.Contains(q.ReadPoints, ev.ReadPoint()) {
		return false
	}
	if len(q.BizLocations) > 0 && !slices.Contains(q.BizLocations, ev.BizLocation()) {
		return false
	}
	field := func(keys ...string) []string {
		var out []string
		for _, k := range keys {
			switch x := ev[k].(type) {
			case string:
				out = append(out, x)
			case []any:
				for _, e := range x {
					if s, ok := e.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
		return out
	}
	classes := func(keys ...string) []string {
		var out []string
		for _, k := range keys {
			if x, ok := ev[k].([]any); ok {
				for _, e := range x {
					if m, ok := e.(map[string]any); ok {
						if c, ok := m["epcClass"].(string); ok {
							out = append(out, c)
						}
					}
				}
			}
		}
		return out
	}
	if len(q.MatchEPC) > 0 && !anyMatch(q.MatchEPC, field("epcList", "childEPCs")) {
		return false
	}
	if len(q.MatchAnyEPC) > 0 && !anyMatch(q.MatchAnyEPC, field("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList")) {
		return false
	}
	if len(q.MatchParentID) > 0 && !anyMatch(q.MatchParentID, field("parentID")) {
		return false
	}
	if len(q.MatchInputEPC) > 0 && !anyMatch(q.MatchInputEPC, field("inputEPCList")) {
		return false
	}
	if len(q.MatchOutputEPC) > 0 && !anyMatch(q.MatchOutputEPC, field("outputEPCList")) {
		return false
	}
	if len(q.MatchEPCClass) > 0 && !anyMatch(q.MatchEPCClass, classes("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")) {
		return false
	}
	return true
}

// anyMatch reports whether any value matches any wanted identifier or
// pattern (urn:epc:idpat:…, or a trailing *), comparing canonical forms.
func anyMatch(want, have []string) bool {
	for _, w := range want {
		wp := patternPrefix(w)
		wc := CanonicalID(w)
		for _, h := range have {
			if wp != "" {
				if strings.HasPrefix(h, wp) {
					return true
				}
				continue
			}
			if h == w || CanonicalID(h) == wc {
				return true
			}
		}
	}
	return false
}

// patternPrefix turns an EPC pattern into the URN prefix it matches, ""
// for a plain identifier. urn:epc:idpat:sgtin:0614141.812345.* matches
// urn:epc:id:sgtin:0614141.812345.*.
func patternPrefix(p string) string {
	if strings.HasPrefix(p, "urn:epc:idpat:") {
		p = "urn:epc:id:" + strings.TrimPrefix(p, "urn:epc:idpat:")
	}
	if i := strings.Index(p, "*"); i >= 0 {
		return p[:i]
	}
	return ""
}

// EventByID returns one indexed event by eventID (ni:///… or bare hex).
func (s *Service) EventByID(ctx context.Context, id string) (store.EventRecord, error) {
	h, err := epcis.ParseEventID(id)
	if err != nil {
		return store.EventRecord{}, errf(KindInvalid, "invalid eventID", "%q: %v", id, err)
	}
	r, err := s.st.Event(h)
	if err != nil {
		return r, errf(KindNotFound, "event not found", "no event %s is indexed here", epcis.EventID(h))
	}
	return r, nil
}

// VerificationState of an event for pages: proven (anchored), pending
// (sealed and verified, waiting for its anchor) or failed (the ledger
// refused its batch).
type VerificationState string

// Verification states.
const (
	StateProven  VerificationState = "proven"
	StatePending VerificationState = "pending"
	StateFailed  VerificationState = "failed"
)

// EventState returns an event's verification state and its anchor.
func (s *Service) EventState(r store.EventRecord) (VerificationState, *store.AnchorRecord, string) {
	a, err := s.st.Anchor(r.Edge, r.Seq)
	if err == nil {
		return StateProven, &a, ""
	}
	if q, err := s.st.QueueEntry(r.Edge, r.Seq); err == nil && q.Permanent {
		return StateFailed, nil, q.LastError
	}
	return StatePending, nil, ""
}

// RecentEvents lists the latest recorded events.
func (s *Service) RecentEvents(limit int) ([]store.EventRecord, error) {
	out, _, err := s.st.Walk(store.Scan{Index: store.IdxRecorded, Desc: true, Limit: limit}, nil)
	return out, err
}
