package contract

import (
	"crypto/ed25519"
	"encoding/base64"

	"github.com/tracegate/tracegate/ledger"
)

var deviceFunctions = []function{
	{name: ledger.FnRegisterDevice, minArgs: 1, maxArgs: 1, run: registerDevice},
	{name: ledger.FnGetDevice, readOnly: true, minArgs: 1, maxArgs: 1, run: getDevice},
	{name: ledger.FnListDevices, readOnly: true, minArgs: 0, maxArgs: 1, run: listDevices},
}

// devicePublicKey decodes a device's base64 Ed25519 public key.
func devicePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid("public key is not standard base64: %v", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, invalid("public key is %d bytes, an Ed25519 key is %d", len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

func checkDevice(d ledger.Device) error {
	if err := checkID("device id", d.ID); err != nil {
		return err
	}
	if err := checkID("device org", d.Org); err != nil {
		return err
	}
	if _, err := devicePublicKey(d.PublicKey); err != nil {
		return err
	}
	if err := oneOf("device kind", d.Kind, []string{ledger.DeviceEdge, ledger.DeviceCapture, ledger.DeviceAccessLog}); err != nil {
		return err
	}
	if err := checkText("site", d.Site, 200, false); err != nil {
		return err
	}
	return checkText("description", d.Description, 1000, false)
}

// registerDevice registers a device and its public key for the caller's
// org. Device IDs are global: an ID registered to another org, or with
// another key or kind, is a Conflict. There is no key rotation yet: a
// compromised or replaced edge gets a new device ID (a later issue adds
// rotation with a validity period, so old batches still verify against the
// key that signed them). Site and description may change.
func registerDevice(c *call, args []string) ([]byte, error) {
	var in ledger.Device
	if err := decodeArg(args[0], "device", &in); err != nil {
		return nil, err
	}
	if err := checkDevice(in); err != nil {
		return nil, err
	}
	if _, err := c.requireRole(in.Org, "register device "+in.ID, ledger.RoleOrgAdmin, ledger.RoleOperator); err != nil {
		return nil, err
	}
	if _, err := c.requireOrg(in.Org); err != nil {
		return nil, err
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	key := deviceKey(in.ID)
	var cur ledger.Device
	found, err := c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if !found {
		in.RegisteredAt, in.UpdatedAt = now, ledger.Device{}.UpdatedAt
		return c.putAndEmit(key, ledger.EvDeviceRegistered, in)
	}
	switch {
	case cur.Org != in.Org:
		return nil, conflict("device %s is registered to org %s", in.ID, cur.Org)
	case cur.PublicKey != in.PublicKey:
		return nil, conflict("device %s is registered with a different key; key rotation is not supported, register the new key under a new device ID", in.ID)
	case cur.Kind != in.Kind:
		return nil, conflict("device %s is registered as a %s device, not %s", in.ID, cur.Kind, in.Kind)
	case cur.Site == in.Site && cur.Description == in.Description:
		return marshal(cur)
	}
	cur.Site, cur.Description, cur.UpdatedAt = in.Site, in.Description, now
	return c.putAndEmit(key, ledger.EvDeviceUpdated, cur)
}

func getDevice(c *call, args []string) ([]byte, error) {
	id := args[0]
	if err := checkID("device id", id); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(deviceKey(id))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("device %s is not registered", id)
	}
	return raw, nil
}

// listDevices lists all devices, or those of the org named by the optional
// argument.
func listDevices(c *call, args []string) ([]byte, error) {
	var keep func(ledger.Device) bool
	if len(args) == 1 {
		org := args[0]
		if err := checkID("org id", org); err != nil {
			return nil, err
		}
		keep = func(d ledger.Device) bool { return d.Org == org }
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	devices, err := list(c, devicePrefix, keep)
	if err != nil {
		return nil, err
	}
	return marshal(devices)
}
