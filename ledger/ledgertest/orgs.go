package ledgertest

import (
	"encoding/json"
	"slices"

	"github.com/tracegate/tracegate/ledger"
)

func testOrgs(s *suite) {
	fx, t := s.fx, s.t
	mfr := s.orgRecords()[0]

	// Re-registering the same content is a no-op success returning the record.
	res := s.must(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), mfr))
	var back ledger.Org
	if err := json.Unmarshal(res.Payload, &back); err != nil || back.ID != mfr.ID || back.Kind != mfr.Kind || back.RegisteredAt.IsZero() {
		t.Fatalf("RegisterOrg payload %s (%v)", res.Payload, err)
	}

	// Only the org's own admin registers it.
	s.refused("warehouse admin registers the manufacturer", ledger.Forbidden)(s.c.RegisterOrg(s.ctx(), admin(fx.Warehouse), mfr))
	s.refused("operator registers its org", ledger.Forbidden)(s.c.RegisterOrg(s.ctx(), s.operator(fx.Manufacturer), mfr))
	if fx.ArbitraryUsers {
		s.refused("unregistered user registers its org", ledger.Forbidden)(s.c.RegisterOrg(s.ctx(), ledger.Identity{Org: fx.Manufacturer, User: s.id("nobody")}, mfr))
	}

	// Validation.
	bad := mfr
	bad.Kind = "pharmacy"
	s.refused("unknown kind", ledger.Invalid)(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), bad))
	bad = mfr
	bad.GLN = "4012345000008"
	s.refused("GLN check digit", ledger.Invalid)(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), bad))
	bad = mfr
	bad.Name = ""
	s.refused("empty name", ledger.Invalid)(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), bad))
	bad = mfr
	bad.Country = "Germany"
	s.refused("country code", ledger.Invalid)(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), bad))

	// The kind never changes.
	bad = mfr
	bad.Kind = ledger.OrgWarehouse
	s.refused("kind change", ledger.Conflict)(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), bad))

	// The admin may update name, GLN and country.
	upd := mfr
	upd.Name = "Renamed " + s.run
	s.must(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), upd))
	o := got[ledger.Org](s, "GetOrg")(s.c.Org(s.ctx(), admin(fx.Regulator), mfr.ID))
	if o.Name != upd.Name || o.Kind != mfr.Kind || o.UpdatedAt.IsZero() {
		t.Fatalf("after update: %+v", o)
	}
	s.must(s.c.RegisterOrg(s.ctx(), admin(mfr.ID), mfr)) // restore

	// Reads.
	orgs := got[[]ledger.Org](s, "ListOrgs")(s.c.Orgs(s.ctx(), s.other(fx.Hospital)))
	var ids []string
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ListOrgs not sorted: %v", ids)
	}
	for _, want := range []string{fx.Manufacturer, fx.Warehouse, fx.Regulator, fx.Hospital} {
		if !slices.Contains(ids, want) {
			t.Errorf("ListOrgs lacks %s: %v", want, ids)
		}
	}
	denied[ledger.Org](s, "unknown org", ledger.NotFound)(s.c.Org(s.ctx(), admin(fx.Regulator), s.id("NoSuchOrgMSP")))
	denied[ledger.Org](s, "malformed org id", ledger.Invalid)(s.c.Org(s.ctx(), admin(fx.Regulator), "a/b"))

	who := got[ledger.Whoami](s, "Whoami")(s.c.Whoami(s.ctx(), s.quality(fx.Manufacturer)))
	if who.Org != fx.Manufacturer || who.User != fx.Users[1] || who.Role != ledger.RoleQuality || !who.OrgRegistered {
		t.Errorf("Whoami = %+v", who)
	}
	who = got[ledger.Whoami](s, "Whoami admin")(s.c.Whoami(s.ctx(), admin(fx.Warehouse)))
	if who.Role != ledger.RoleOrgAdmin {
		t.Errorf("Whoami admin = %+v", who)
	}

	if fx.Outsider != "" {
		// A member that never registered may ask about itself, and nothing else.
		denied[ledger.Org](s, "outsider reads itself", ledger.NotFound)(s.c.Org(s.ctx(), admin(fx.Outsider), fx.Outsider))
		denied[ledger.Org](s, "outsider reads an org", ledger.Forbidden)(s.c.Org(s.ctx(), admin(fx.Outsider), fx.Manufacturer))
		denied[[]ledger.Org](s, "outsider lists orgs", ledger.Forbidden)(s.c.Orgs(s.ctx(), admin(fx.Outsider)))
		who := got[ledger.Whoami](s, "Whoami outsider")(s.c.Whoami(s.ctx(), admin(fx.Outsider)))
		if who.OrgRegistered {
			t.Errorf("outsider Whoami = %+v", who)
		}
	}
}

func testUsers(s *suite) {
	fx, t := s.fx, s.t
	wh := fx.Warehouse
	u := ledger.User{Org: wh, ID: fx.Users[0], Role: ledger.RoleOperator}

	s.refused("operator registers a user", ledger.Forbidden)(s.c.RegisterUser(s.ctx(), s.operator(wh), ledger.User{Org: wh, ID: fx.Users[1], Role: ledger.RoleOrgAdmin}))
	s.refused("another org's admin registers a user", ledger.Forbidden)(s.c.RegisterUser(s.ctx(), admin(fx.Manufacturer), u))
	s.refused("unknown role", ledger.Invalid)(s.c.RegisterUser(s.ctx(), admin(wh), ledger.User{Org: wh, ID: fx.Users[0], Role: "superuser"}))
	s.refused("admin demoted", ledger.Invalid)(s.c.RegisterUser(s.ctx(), admin(wh), ledger.User{Org: wh, ID: ledger.AdminUser, Role: ledger.RoleOperator}))
	s.refused("bad cert", ledger.Invalid)(s.c.RegisterUser(s.ctx(), admin(wh), ledger.User{Org: wh, ID: fx.Users[0], Role: ledger.RoleOperator, Cert: "not a certificate"}))
	s.refused("user id with slash", ledger.Invalid)(s.c.RegisterUser(s.ctx(), admin(wh), ledger.User{Org: wh, ID: "a/b", Role: ledger.RoleOperator}))

	// Idempotent, then a role change takes effect at once.
	s.must(s.c.RegisterUser(s.ctx(), admin(wh), u))
	s.must(s.c.RegisterUser(s.ctx(), admin(wh), ledger.User{Org: wh, ID: fx.Users[0], Role: ledger.RoleQuality}))
	if who := got[ledger.Whoami](s, "Whoami")(s.c.Whoami(s.ctx(), s.operator(wh))); who.Role != ledger.RoleQuality {
		t.Fatalf("after role change: %+v", who)
	}
	got[ledger.User](s, "GetUser")(s.c.User(s.ctx(), admin(fx.Regulator), wh, fx.Users[0]))
	s.must(s.c.RegisterUser(s.ctx(), admin(wh), u)) // restore

	usr := got[ledger.User](s, "GetUser")(s.c.User(s.ctx(), admin(fx.Regulator), wh, fx.Users[0]))
	if usr.Role != ledger.RoleOperator || usr.RegisteredBy != ledger.AdminUser || usr.RegisteredAt.IsZero() {
		t.Errorf("GetUser = %+v", usr)
	}
	users := got[[]ledger.User](s, "ListUsers")(s.c.Users(s.ctx(), s.other(fx.Hospital), wh))
	var ids []string
	for _, u := range users {
		if u.Org != wh {
			t.Errorf("ListUsers(%s) returned a user of %s", wh, u.Org)
		}
		ids = append(ids, u.ID)
	}
	for _, want := range fx.Users[:3] {
		if !slices.Contains(ids, want) {
			t.Errorf("ListUsers lacks %s: %v", want, ids)
		}
	}
	denied[ledger.User](s, "unknown user", ledger.NotFound)(s.c.User(s.ctx(), admin(wh), wh, s.id("nobody")))
	if fx.ArbitraryUsers {
		if who := got[ledger.Whoami](s, "Whoami")(s.c.Whoami(s.ctx(), ledger.Identity{Org: wh, User: s.id("nobody")})); who.Role != "" {
			t.Errorf("unregistered user has role %q", who.Role)
		}
	}
}
