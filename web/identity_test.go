package web

import (
	"testing"

	"github.com/tracegate/tracegate/ledger"
)

// TestLedgerIdentityOfPortalUsers: a portal user signs on the ledger as
// its user name, or as the identity of its org it was given (on Fabric an
// enrolled one such as User1); changing the mapping of an existing user
// keeps its password and applies to its next session.
func TestLedgerIdentityOfPortalUsers(t *testing.T) {
	e := shared(t)
	_, app := e.extraApp(t, Config{})
	if err := app.EnsureUser("desk.plain", "desk password 1", orgHospital, ledger.RoleHospitalReceiver); err != nil {
		t.Fatal(err)
	}
	if err := app.EnsureLedgerUser("desk.mapped", "desk password 1", orgHospital, ledger.RoleHospitalReceiver, "User1"); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]ledger.Identity{
		"desk.plain":  {Org: orgHospital, User: "desk.plain"},
		"desk.mapped": {Org: orgHospital, User: "User1"},
	} {
		u, ok := app.authenticate(user, "desk password 1")
		if !ok {
			t.Fatalf("%s cannot sign in", user)
		}
		_, s, err := app.users.newSession(u, app.cfg.SessionTTL)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.identity(); got != want {
			t.Errorf("%s signs as %v, want %v", user, got, want)
		}
	}
	// Re-mapped on a later start; the password stays.
	if err := app.EnsureLedgerUser("desk.mapped", "another password 1", orgHospital, ledger.RoleHospitalReceiver, ledger.AdminUser); err != nil {
		t.Fatal(err)
	}
	u, ok := app.authenticate("desk.mapped", "desk password 1")
	if !ok || u.LedgerUser != ledger.AdminUser {
		t.Fatalf("after re-mapping: signed in %v, ledger user %q", ok, u.LedgerUser)
	}
	if _, ok := app.authenticate("desk.mapped", "another password 1"); ok {
		t.Fatal("EnsureLedgerUser replaced an existing password")
	}
}
