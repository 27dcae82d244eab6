package ledger

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies a ledger error. Its string form is what crosses a Fabric
// boundary, so the values are fixed.
type Code string

// Error codes. Unavailable is the only transient one: a backend that is down
// or timed out; an anchoring pipeline retries it. The others are permanent:
// retrying the same call gives the same answer.
const (
	NotFound    Code = "NotFound"
	Forbidden   Code = "Forbidden"
	Conflict    Code = "Conflict"
	Invalid     Code = "Invalid"
	Unavailable Code = "Unavailable"
)

var codes = []Code{NotFound, Forbidden, Conflict, Invalid, Unavailable}

// Error is a contract or backend error. Only its string form survives a
// trip through Fabric; ParseError turns that back into an *Error.
type Error struct {
	Code Code
	Msg  string
	// Err is an optional cause (for example context.DeadlineExceeded); it
	// is not part of the string form.
	Err error
}

// Error renders "<code>: <msg>".
func (e *Error) Error() string {
	if e.Msg == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Msg
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) match any
// *Error with that code. A target with a message matches only an equal one.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Msg == "" || t.Msg == e.Msg)
}

// Temporary reports whether retrying may succeed (code Unavailable).
func (e *Error) Temporary() bool { return e.Code == Unavailable }

// Sentinels for errors.Is.
var (
	ErrNotFound    = &Error{Code: NotFound}
	ErrForbidden   = &Error{Code: Forbidden}
	ErrConflict    = &Error{Code: Conflict}
	ErrInvalid     = &Error{Code: Invalid}
	ErrUnavailable = &Error{Code: Unavailable}
)

// Errorf returns an *Error with the code and a formatted message. A %w verb
// wraps its operand as the cause.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// CodeOf returns the code of the first *Error in err's chain, or "" when
// there is none.
func CodeOf(err error) Code {
	var le *Error
	if errors.As(err, &le) {
		return le.Code
	}
	return ""
}

// ParseError turns the string form of an *Error back into one. The code may
// be preceded by other text (Fabric wraps chaincode messages, e.g. "chaincode
// response 500, NotFound: edge e1 is not registered"); the first known
// "<code>: " at the start or after a space, comma, colon or parenthesis
// wins. A string with no known code yields a plain error with that text, and
// the empty string yields nil.
func ParseError(s string) error {
	if s == "" {
		return nil
	}
	best, bestCode := -1, Code("")
	for _, c := range codes {
		for from := 0; from < len(s); {
			i := strings.Index(s[from:], string(c))
			if i < 0 {
				break
			}
			i += from
			end := i + len(c)
			boundary := i == 0 || strings.ContainsRune(" ,:(", rune(s[i-1]))
			rest := s[end:]
			if boundary && (rest == "" || strings.HasPrefix(rest, ": ")) {
				if best < 0 || i < best {
					best, bestCode = i, c
				}
				break
			}
			from = end
		}
	}
	if best < 0 {
		return errors.New(s)
	}
	msg := strings.TrimPrefix(s[best+len(bestCode):], ": ")
	return &Error{Code: bestCode, Msg: msg}
}
