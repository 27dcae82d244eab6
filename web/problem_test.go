package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
)

func TestProblemOf(t *testing.T) {
	ge := func(k gateway.Kind) error {
		return fmt.Errorf("wrapped: %w", &gateway.Error{Kind: k, Title: "t", Detail: "d"})
	}
	cases := []struct {
		err    error
		epcis  bool
		status int
		typ    string
	}{
		{ge(gateway.KindInvalid), false, 400, ProblemBase + "invalid"},
		{ge(gateway.KindUnverified), false, 422, ProblemBase + "unverified"},
		{ge(gateway.KindNotFound), false, 404, ProblemBase + "not-found"},
		{ge(gateway.KindConflict), false, 409, ProblemBase + "conflict"},
		{ge(gateway.KindOutOfOrder), false, 409, ProblemBase + "out-of-order"},
		{ge(gateway.KindForbidden), false, 403, ProblemBase + "forbidden"},
		{ge(gateway.KindUnknownEdge), false, 403, ProblemBase + "unknown-edge"},
		{ge(gateway.KindTooLarge), false, 413, ProblemBase + "too-large"},
		{ge(gateway.KindUnavailable), false, 503, ProblemBase + "unavailable"},
		{ge(gateway.KindTooLarge), true, 413, "epcisException:CaptureLimitExceededException"},
		{ge(gateway.KindNotFound), true, 404, "epcisException:NoSuchResourceException"},
		{&gateway.Error{Kind: gateway.KindInvalid, Title: "QueryParameterException"}, true, 400, "epcisException:QueryParameterException"},
		{ledger.Errorf(ledger.NotFound, "no such device"), false, 404, ProblemBase + "not-found"},
		{ledger.Errorf(ledger.Unavailable, "down"), false, 503, ProblemBase + "unavailable"},
		{fiber.ErrNotFound, false, 404, ProblemBase + "not-found"},
		{fiber.ErrRequestEntityTooLarge, true, 413, "epcisException:CaptureLimitExceededException"},
		{errCSRF(), false, 403, ProblemBase + "csrf"},
		{errors.New("secret internals"), false, 500, ProblemBase + "internal"},
	}
	for _, c := range cases {
		p := problemOf(c.err, c.epcis)
		if p.Status != c.status || p.Type != c.typ || p.Title == "" {
			t.Errorf("%v (epcis %v): %d %q %q, want %d %q", c.err, c.epcis, p.Status, p.Type, p.Title, c.status, c.typ)
		}
		if strings.Contains(p.Detail, "secret") {
			t.Errorf("an unexpected error leaks its text: %q", p.Detail)
		}
	}
	// Extra members sit beside the standard ones and cannot replace them.
	p := problemOf(&gateway.Error{Kind: gateway.KindOutOfOrder, Title: "batch out of order", Detail: "d",
		Extra: map[string]any{"expectedSeq": 4, "status": 200}}, false)
	b, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["expectedSeq"] != float64(4) || m["status"] != float64(409) || m["title"] != "batch out of order" {
		t.Errorf("problem JSON %s", b)
	}
}
