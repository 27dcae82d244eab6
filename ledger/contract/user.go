package contract

import (
	"encoding/pem"

	"github.com/tracegate/tracegate/ledger"
)

var userFunctions = []function{
	{name: ledger.FnRegisterUser, minArgs: 1, maxArgs: 1, run: registerUser},
	{name: ledger.FnGetUser, readOnly: true, minArgs: 2, maxArgs: 2, run: getUser},
	{name: ledger.FnListUsers, readOnly: true, minArgs: 1, maxArgs: 1, run: listUsers},
}

const maxCertBytes = 16 << 10

func checkUser(u ledger.User) error {
	if err := checkID("user org", u.Org); err != nil {
		return err
	}
	if err := checkID("user id", u.ID); err != nil {
		return err
	}
	if err := oneOf("role", u.Role, ledger.Roles); err != nil {
		return err
	}
	if u.ID == ledger.AdminUser && u.Role != ledger.RoleOrgAdmin {
		return invalid("user %q is always the org's admin; its role cannot be %s", ledger.AdminUser, u.Role)
	}
	if u.Cert != "" {
		if len(u.Cert) > maxCertBytes {
			return invalid("cert is longer than %d bytes", maxCertBytes)
		}
		block, _ := pem.Decode([]byte(u.Cert))
		if block == nil || block.Type != "CERTIFICATE" {
			return invalid("cert is not a PEM CERTIFICATE block")
		}
	}
	return nil
}

// registerUser records a user of the caller's org and its role, or changes
// the role or certificate of a registered one. Only the org's admin may.
func registerUser(c *call, args []string) ([]byte, error) {
	var in ledger.User
	if err := decodeArg(args[0], "user", &in); err != nil {
		return nil, err
	}
	if err := checkUser(in); err != nil {
		return nil, err
	}
	cl, err := c.requireRole(in.Org, "register user "+in.ID+" of org "+in.Org, ledger.RoleOrgAdmin)
	if err != nil {
		return nil, err
	}
	if _, err := c.requireOrg(in.Org); err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	key := userKey(in.Org, in.ID)
	var cur ledger.User
	found, err := c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if !found {
		in.RegisteredBy, in.RegisteredAt, in.UpdatedAt = cl.User, now, ledger.User{}.UpdatedAt
		return c.putAndEmit(key, ledger.EvUserRegistered, in)
	}
	if cur.Role == in.Role && cur.Cert == in.Cert {
		return marshal(cur)
	}
	cur.Role, cur.Cert, cur.UpdatedAt = in.Role, in.Cert, now
	return c.putAndEmit(key, ledger.EvUserUpdated, cur)
}

func getUser(c *call, args []string) ([]byte, error) {
	org, id := args[0], args[1]
	if err := checkID("org id", org); err != nil {
		return nil, err
	}
	if err := checkID("user id", id); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(userKey(org, id))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("user %s of org %s is not registered", id, org)
	}
	return raw, nil
}

func listUsers(c *call, args []string) ([]byte, error) {
	org := args[0]
	if err := checkID("org id", org); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	users, err := list[ledger.User](c, usersPrefix(org), nil)
	if err != nil {
		return nil, err
	}
	return marshal(users)
}
