package gateway

import (
	"errors"
	"fmt"

	"github.com/tracegate/tracegate/ledger"
)

// Kind classifies a gateway error; the web layer maps each kind to an HTTP
// status and an RFC 9457 problem document in one place.
type Kind string

// Error kinds.
const (
	KindInvalid     Kind = "invalid"      // 400: malformed input
	KindUnverified  Kind = "unverified"   // 422: well-formed but does not verify
	KindNotFound    Kind = "not-found"    // 404
	KindConflict    Kind = "conflict"     // 409
	KindOutOfOrder  Kind = "out-of-order" // 409, with expectedSeq
	KindForbidden   Kind = "forbidden"    // 403
	KindUnknownEdge Kind = "unknown-edge" // 403: edge not registered on the ledger
	KindTooLarge    Kind = "too-large"    // 413
	KindUnavailable Kind = "unavailable"  // 503: try again later
)

// Error is a gateway error a client can act on.
type Error struct {
	Kind   Kind
	Title  string
	Detail string
	// Extra members of the problem document (e.g. expectedSeq).
	Extra map[string]any
	Err   error
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Title
	}
	return e.Title + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

func errf(kind Kind, title, format string, a ...any) *Error {
	err := fmt.Errorf(format, a...)
	return &Error{Kind: kind, Title: title, Detail: err.Error(), Err: errors.Unwrap(err)}
}

// fromLedger turns a ledger error into a gateway error.
func fromLedger(title string, err error) *Error {
	kind := KindUnavailable
	switch ledger.CodeOf(err) {
	case ledger.NotFound:
		kind = KindNotFound
	case ledger.Forbidden:
		kind = KindForbidden
	case ledger.Conflict:
		kind = KindConflict
	case ledger.Invalid:
		kind = KindInvalid
	}
	return &Error{Kind: kind, Title: title, Detail: err.Error(), Err: err}
}

// KindOf returns the kind of a gateway error, "" for others.
func KindOf(err error) Kind {
	var ge *Error
	if errors.As(err, &ge) {
		return ge.Kind
	}
	return ""
}
