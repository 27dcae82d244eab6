// Package ledgertest is the conformance suite every ledger.Ledger backend
// passes: the same calls through the Ledger interface, the same results, the
// same refusals with the same codes, the same events. It knows nothing about
// any backend: it never assumes block numbers (only their order), a fresh
// ledger, or a particular transaction ID format, so it runs against the
// embedded ledger on a temporary directory and against a long-lived Fabric
// channel alike. IDs it creates carry a random suffix; orgs it registers
// keep the same content across runs, so re-registering them is a no-op.
package ledgertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// Fixture names the identities a backend under test provides.
type Fixture struct {
	// Manufacturer, Warehouse, Regulator and Hospital are the org (MSP)
	// IDs of four distinct consortium members whose admin ("admin") and
	// Users the ledger can sign as. The suite registers them with kinds
	// manufacturer, warehouse, regulator and hospital.
	Manufacturer, Warehouse, Regulator, Hospital string
	// Users are at least three non-admin user names the ledger can sign
	// as in each of those orgs. The suite registers Users[0] as operator,
	// Users[1] as quality and Users[2] as hospital-receiver in every org.
	Users []string
	// Collection is a private data collection whose members include
	// Manufacturer and Warehouse but neither Regulator nor Hospital.
	Collection string
	// Charity, if set, is a consortium member the suite registers as a
	// charity: a member of ledger.CollectionCharityPrivate, which none of
	// the orgs above is. Without it the donations test is skipped.
	Charity string
	// Insurer is the org (MSP) ID of a member the ledger can sign as (its
	// admin and Users), registered by the suite with kind insurer; its
	// Users[2] is registered as insurer-assessor instead of
	// hospital-receiver.
	Insurer string
	// Outsider, if set, is a consortium member the suite can sign as but
	// never registers in the contract.
	Outsider string
	// ArbitraryUsers reports whether the ledger can sign as any user name
	// (the embedded ledger can; Fabric needs enrolled identities). The
	// suite then also checks unregistered users.
	ArbitraryUsers bool
}

// Timeout bounds every call the suite makes.
var Timeout = 30 * time.Second

// Run runs the conformance suite. newLedger returns the ledger under test
// and its fixture; it is called once per subtest and may return a fresh
// ledger each time or the same one.
func Run(t *testing.T, newLedger func(t *testing.T) (ledger.Ledger, Fixture)) {
	tests := []struct {
		name string
		fn   func(s *suite)
	}{
		{"Info", testInfo},
		{"Orgs", testOrgs},
		{"Users", testUsers},
		{"Devices", testDevices},
		{"Products", testProducts},
		{"Lots", testLots},
		{"Sites", testSites},
		{"Recalls", testRecalls},
		{"Excursions", testExcursions},
		{"LotStatus", testLotStatus},
		{"Insurance", testInsurance},
		{"Grants", testGrants},
		{"Donations", testDonations},
		{"Roles", testRoles},
		{"Anchors", testAnchors},
		{"AnchorChain", testAnchorChain},
		{"Events", testEvents},
		{"EventsLive", testEventsLive},
		{"PrivateData", testPrivateData},
		{"Transaction", testTransaction},
		{"BadInput", testBadInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, fx := newLedger(t)
			if fx.Manufacturer == "" || fx.Warehouse == "" || fx.Regulator == "" || fx.Hospital == "" || fx.Insurer == "" || len(fx.Users) < 3 || fx.Collection == "" {
				t.Fatalf("incomplete fixture %+v", fx)
			}
			s := &suite{t: t, l: l, c: ledger.Client{L: l}, fx: fx, run: randomHex(4)}
			s.setup()
			tc.fn(s)
		})
	}
}

// suite is one subtest's context.
type suite struct {
	t   *testing.T
	l   ledger.Ledger
	c   ledger.Client
	fx  Fixture
	run string // random suffix for IDs created by this subtest
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (s *suite) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	s.t.Cleanup(cancel)
	return ctx
}

func admin(org string) ledger.Identity { return ledger.Identity{Org: org, User: ledger.AdminUser} }

// operator, quality and other are the fixture's users of org, registered
// as operator, quality and hospital-receiver.
func (s *suite) operator(org string) ledger.Identity {
	return ledger.Identity{Org: org, User: s.fx.Users[0]}
}
func (s *suite) quality(org string) ledger.Identity {
	return ledger.Identity{Org: org, User: s.fx.Users[1]}
}
func (s *suite) other(org string) ledger.Identity {
	return ledger.Identity{Org: org, User: s.fx.Users[2]}
}

// orgRecords are the fixture orgs as the suite registers them.
func (s *suite) orgRecords() []ledger.Org {
	return []ledger.Org{
		{ID: s.fx.Manufacturer, Name: "Conformance Manufacturer", Kind: ledger.OrgManufacturer, GLN: "4012345000009", Country: "DE"},
		{ID: s.fx.Warehouse, Name: "Conformance Warehouse", Kind: ledger.OrgWarehouse, Country: "NL"},
		{ID: s.fx.Regulator, Name: "Conformance Regulator", Kind: ledger.OrgRegulator, Country: "FR"},
		{ID: s.fx.Hospital, Name: "Conformance Hospital", Kind: ledger.OrgHospital, Country: "IT"},
		{ID: s.fx.Insurer, Name: "Conformance Insurer", Kind: ledger.OrgInsurer, Country: "CH"},
	}
}

// setup registers the fixture orgs and users (idempotently).
func (s *suite) setup() {
	s.t.Helper()
	for _, o := range s.orgRecords() {
		s.must(s.c.RegisterOrg(s.ctx(), admin(o.ID), o))
		for i, role := range []string{ledger.RoleOperator, ledger.RoleQuality, ledger.RoleHospitalReceiver} {
			if o.ID == s.fx.Insurer && i == 2 {
				role = ledger.RoleInsurerAssessor
			}
			s.must(s.c.RegisterUser(s.ctx(), admin(o.ID), ledger.User{Org: o.ID, ID: s.fx.Users[i], Role: role}))
		}
	}
}

// must fails the test on err and returns the result.
func (s *suite) must(res ledger.Result, err error) ledger.Result {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("unexpected error: %v", err)
	}
	if res.TxID == "" {
		s.t.Fatalf("result has no transaction ID: %+v", res)
	}
	return res
}

// sentinels maps codes to the sentinels errors.Is matches.
var sentinels = map[ledger.Code]error{
	ledger.NotFound:    ledger.ErrNotFound,
	ledger.Forbidden:   ledger.ErrForbidden,
	ledger.Conflict:    ledger.ErrConflict,
	ledger.Invalid:     ledger.ErrInvalid,
	ledger.Unavailable: ledger.ErrUnavailable,
}

// wantCode checks that err is an *ledger.Error with code, matched by
// errors.Is against the sentinel, as callers will.
func wantCode(t *testing.T, what string, err error, code ledger.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want %s", what, code)
	}
	if !errors.Is(err, sentinels[code]) {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
	var le *ledger.Error
	if !errors.As(err, &le) {
		t.Fatalf("%s: %T is not a *ledger.Error", what, err)
	}
}

// refused returns a check that a submit was refused with code:
// s.refused("why", ledger.Forbidden)(s.c.RegisterOrg(...)).
func (s *suite) refused(what string, code ledger.Code) func(ledger.Result, error) {
	return func(_ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// anchorRefused is refused for AnchorBatch.
func (s *suite) anchorRefused(what string, code ledger.Code) func(ledger.Anchor, ledger.Result, error) {
	return func(_ ledger.Anchor, _ ledger.Result, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// denied is refused for queries and other calls returning a T.
func denied[T any](s *suite, what string, code ledger.Code) func(T, error) {
	return func(_ T, err error) {
		s.t.Helper()
		wantCode(s.t, what, err, code)
	}
}

// got fails the test on err and returns v.
func got[T any](s *suite, what string) func(T, error) T {
	return func(v T, err error) T {
		s.t.Helper()
		if err != nil {
			s.t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func (s *suite) id(prefix string) string { return fmt.Sprintf("%s-%s", prefix, s.run) }

func testInfo(s *suite) {
	info := s.l.Info()
	if info.Kind != ledger.KindEmbedded && info.Kind != ledger.KindFabric {
		s.t.Errorf("Info().Kind = %q", info.Kind)
	}
	if info.Channel == "" || info.Chaincode == "" {
		s.t.Errorf("Info() = %+v: channel and chaincode must be named", info)
	}
}
