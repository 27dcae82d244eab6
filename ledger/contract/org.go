package contract

import (
	"github.com/tracegate/tracegate/ledger"
)

var orgFunctions = []function{
	{name: ledger.FnRegisterOrg, minArgs: 1, maxArgs: 1, run: registerOrg},
	{name: ledger.FnGetOrg, readOnly: true, minArgs: 1, maxArgs: 1, run: getOrg},
	{name: ledger.FnListOrgs, readOnly: true, run: listOrgs},
	{name: ledger.FnWhoami, readOnly: true, run: whoami},
}

func checkOrg(o ledger.Org) error {
	if err := checkID("org id", o.ID); err != nil {
		return err
	}
	if err := checkText("org name", o.Name, 200, true); err != nil {
		return err
	}
	if err := oneOf("org kind", o.Kind, ledger.OrgKinds); err != nil {
		return err
	}
	if o.GLN != "" {
		if err := checkGLN(o.GLN); err != nil {
			return err
		}
	}
	if o.Country != "" {
		if err := checkCountry(o.Country); err != nil {
			return err
		}
	}
	return nil
}

// registerOrg registers the caller's own org, or updates its name, GLN and
// country. Only the org's admin may; the kind never changes, because
// access rules (only manufacturers register products, …) depend on it.
func registerOrg(c *call, args []string) ([]byte, error) {
	var in ledger.Org
	if err := decodeArg(args[0], "org", &in); err != nil {
		return nil, err
	}
	if err := checkOrg(in); err != nil {
		return nil, err
	}
	if _, err := c.requireRole(in.ID, "register org "+in.ID, ledger.RoleOrgAdmin); err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	var cur ledger.Org
	found, err := c.get(orgKey(in.ID), &cur)
	if err != nil {
		return nil, err
	}
	if !found {
		in.RegisteredAt, in.UpdatedAt = now, ledger.Org{}.UpdatedAt
		return c.putAndEmit(orgKey(in.ID), ledger.EvOrgRegistered, in)
	}
	if cur.Kind != in.Kind {
		return nil, conflict("org %s is registered as a %s; its kind cannot change to %s", in.ID, cur.Kind, in.Kind)
	}
	if cur.Name == in.Name && cur.GLN == in.GLN && cur.Country == in.Country {
		return marshal(cur)
	}
	cur.Name, cur.GLN, cur.Country, cur.UpdatedAt = in.Name, in.GLN, in.Country, now
	return c.putAndEmit(orgKey(in.ID), ledger.EvOrgUpdated, cur)
}

// getOrg returns a registered org. An org may read its own record before
// it is registered (to find out whether it is).
func getOrg(c *call, args []string) ([]byte, error) {
	id := args[0]
	if err := checkID("org id", id); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if cl.Org != id {
		if _, err := c.requireMember(); err != nil {
			return nil, err
		}
	}
	raw, err := c.getRaw(orgKey(id))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("org %s is not registered", id)
	}
	return raw, nil
}

func listOrgs(c *call, _ []string) ([]byte, error) {
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	orgs, err := list[ledger.Org](c, orgPrefix, nil)
	if err != nil {
		return nil, err
	}
	return marshal(orgs)
}

// whoami tells any authenticated caller who the contract thinks it is.
func whoami(c *call, _ []string) ([]byte, error) {
	cl, role, err := c.callerRole()
	if err != nil {
		return nil, err
	}
	w := ledger.Whoami{Caller: cl, Role: role}
	if validID(cl.Org) == nil {
		raw, err := c.getRaw(orgKey(cl.Org))
		if err != nil {
			return nil, err
		}
		w.OrgRegistered = raw != nil
	}
	return marshal(w)
}
