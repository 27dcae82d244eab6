package epc

import (
	"fmt"
	"strconv"
)

// Kind classifies an *Error. Each Kind is also an error value, so callers
// test for a class of problem with errors.Is(err, epc.ErrCheckDigit).
type Kind int

// The kinds of error the package reports.
const (
	// ErrSyntax: the input does not have the shape of the expected form
	// (a missing component, a non-hex character, a malformed escape).
	ErrSyntax Kind = iota + 1
	// ErrHeader: the binary header is unknown, or known but not decoded
	// by this package.
	ErrHeader
	// ErrPartition: the binary partition value is not defined for the
	// scheme, or the company prefix length has no partition.
	ErrPartition
	// ErrCheckDigit: a GS1 key's check digit is wrong.
	ErrCheckDigit
	// ErrLength: a component has the wrong number of digits or characters.
	ErrLength
	// ErrRange: a value is too big for its field, or a filter is not 0–7.
	ErrRange
	// ErrCharset: a character is outside the set the field allows.
	ErrCharset
	// ErrReserved: bits the standard reserves (or pads with) are not zero.
	ErrReserved
	// ErrUnsupported: the input is well formed but this package, or the
	// requested conversion, does not handle it.
	ErrUnsupported
)

var kindNames = map[Kind]string{
	ErrSyntax:      "syntax error",
	ErrHeader:      "unknown or unsupported header",
	ErrPartition:   "bad partition",
	ErrCheckDigit:  "wrong check digit",
	ErrLength:      "wrong length",
	ErrRange:       "value out of range",
	ErrCharset:     "character not allowed",
	ErrReserved:    "reserved bits not zero",
	ErrUnsupported: "not supported",
}

// String returns a short description of the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error makes a Kind usable as a sentinel error value.
func (k Kind) Error() string { return "epc: " + k.String() }

// Error is the one error type the package returns. Msg says in plain words
// what is wrong; Input is the value that was being decoded or parsed.
type Error struct {
	Kind  Kind
	Input string
	Msg   string
}

// maxQuoted bounds how much of a (possibly hostile) input goes into an
// error message; the full input stays in Error.Input.
const maxQuoted = 80

func (e *Error) Error() string {
	in := e.Input
	if len(in) > maxQuoted {
		in = in[:maxQuoted] + "…"
	}
	if e.Input == "" {
		return "epc: " + e.Msg
	}
	return fmt.Sprintf("epc: %s (input %q)", e.Msg, in)
}

// Unwrap returns the Kind, so errors.Is(err, ErrRange) and
// errors.As(err, &kind) work.
func (e *Error) Unwrap() error { return e.Kind }

func errf(k Kind, input, format string, args ...any) *Error {
	return &Error{Kind: k, Input: input, Msg: fmt.Sprintf(format, args...)}
}
