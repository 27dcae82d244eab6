package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tracegate/tracegate/ledger"
)

func TestErrorString(t *testing.T) {
	err := ledger.Errorf(ledger.NotFound, "edge %s is not registered", "e1")
	if got := err.Error(); got != "NotFound: edge e1 is not registered" {
		t.Fatalf("Error() = %q", got)
	}
	if !errors.Is(err, ledger.ErrNotFound) || errors.Is(err, ledger.ErrForbidden) {
		t.Fatal("errors.Is does not match by code")
	}
	wrapped := fmt.Errorf("anchor batch: %w", err)
	if !errors.Is(wrapped, ledger.ErrNotFound) || ledger.CodeOf(wrapped) != ledger.NotFound {
		t.Fatal("wrapped error lost its code")
	}
	if ledger.CodeOf(errors.New("plain")) != "" {
		t.Fatal("plain error has a code")
	}
	cause := ledger.Errorf(ledger.Unavailable, "submit: %w", context.DeadlineExceeded)
	if !errors.Is(cause, context.DeadlineExceeded) || !errors.Is(cause, ledger.ErrUnavailable) || !cause.Temporary() {
		t.Fatal("cause not reachable")
	}
}

func TestParseError(t *testing.T) {
	for _, c := range []struct {
		in   string
		code ledger.Code
		msg  string
	}{
		{"Forbidden: org A may not act for org B", ledger.Forbidden, "org A may not act for org B"},
		{"chaincode response 500, Conflict: edge e seq 3 is already anchored", ledger.Conflict, "edge e seq 3 is already anchored"},
		{"rpc error: code = Aborted desc = failed to endorse: Invalid: bad header", ledger.Invalid, "bad header"},
		{"NotFound: name mentions Forbidden: inside", ledger.NotFound, "name mentions Forbidden: inside"},
		{"Unavailable", ledger.Unavailable, ""},
		{"XNotFound: glued", "", ""},
		{"something broke", "", ""},
	} {
		err := ledger.ParseError(c.in)
		var le *ledger.Error
		if c.code == "" {
			if errors.As(err, &le) || err == nil || err.Error() != c.in {
				t.Errorf("ParseError(%q) = %#v, want a plain error", c.in, err)
			}
			continue
		}
		if !errors.As(err, &le) || le.Code != c.code || le.Msg != c.msg {
			t.Errorf("ParseError(%q) = %#v, want %s %q", c.in, err, c.code, c.msg)
		}
	}
	if ledger.ParseError("") != nil {
		t.Error("ParseError(\"\") is not nil")
	}
	// Round trip.
	orig := ledger.Errorf(ledger.Conflict, "anchor seq %d first", 4)
	if back := ledger.ParseError(orig.Error()); !errors.Is(back, orig) {
		t.Errorf("round trip: %v", back)
	}
}
