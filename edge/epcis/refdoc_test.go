package epcis

import "crypto/sha256"

// referenceHashes hashes every event of a decoded EPCIS document exactly as
// GS1's reference implementation hashes a whole document, where two things
// reach across events: bare vocabulary values are expanded with the IRIs of
// the whole document, and the reference's "ignoreFields" convention (a
// document-level "<prefix>:ignoreFields" list, the prefix bound to
// https://repository-x.example.com/) removes top-level event fields.
// Hash, which sees one event, agrees with it for every event whose bare
// values are unambiguous on their own and that no ignoreFields list names.
// Use it to compare with the reference; event identity in tracegate is Hash.
func referenceHashes(doc map[string]any) ([][32]byte, []string, error) {
	ctx, err := ContextOf(doc)
	if err != nil {
		return nil, nil, err
	}
	events, ignore := referenceEvents(doc, ctx)
	vocab := documentVocab(doc)
	hashes := make([][32]byte, 0, len(events))
	pres := make([]string, 0, len(events))
	for _, e := range events {
		pre, err := preHash(e, ctx, vocab, ignore)
		if err != nil {
			return nil, nil, err
		}
		pres = append(pres, pre)
		hashes = append(hashes, sha256.Sum256([]byte(pre)))
	}
	return hashes, pres, nil
}

// referenceEvents finds a document's events and its ignoreFields list.
func referenceEvents(doc map[string]any, ctx Context) ([]Event, []string) {
	key := ":ignoreFields"
	for p, iri := range ctx {
		if iri == "https://repository-x.example.com/" {
			key = p + key
			break
		}
	}
	body, _ := doc["epcisBody"].(map[string]any)
	ignoreFrom := doc
	var list []any
	switch {
	case body == nil:
	case body["eventList"] != nil:
		list, _ = body["eventList"].([]any)
	case body["queryResults"] != nil:
		qr, _ := body["queryResults"].(map[string]any)
		ignoreFrom = qr
		rb, _ := qr["resultsBody"].(map[string]any)
		list, _ = rb["eventList"].([]any)
	case body["event"] != nil:
		list = []any{body["event"]}
	}
	var ignore []string
	if l, ok := ignoreFrom[key].([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				ignore = append(ignore, s)
			}
		}
	}
	events := make([]Event, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			events = append(events, Event(m))
		}
	}
	return events, ignore
}

// documentVocab collects them over a whole document, as the reference does
// when it hashes a document: every event then sees the bare-value
// replacements the other events and the header make possible.
func documentVocab(doc map[string]any) *vocabSet {
	s := &vocabSet{}
	s.walkNode(doc, activeCtx{})
	return s
}
