package contract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/tracegate/tracegate/ledger"
)

// Private data: JSON documents kept in a private data collection, readable
// only by the collection's member orgs. The backend enforces membership
// (the embedded ledger from its collection config, Fabric from the
// collection's memberOnlyRead/memberOnlyWrite), so a non-member's call
// fails with the backend's Forbidden. The key and value travel as private
// arguments (see FunctionInfo.PrivateArgs) and the public event names only
// their hashes. The org that wrote a document is the only one that may
// change, delete or purge it.
var privateFunctions = []function{
	{name: ledger.FnPutPrivate, minArgs: 3, maxArgs: 3, privateArgs: []int{1, 2}, run: putPrivate},
	{name: ledger.FnDeletePrivate, minArgs: 2, maxArgs: 2, privateArgs: []int{1}, run: deletePrivate},
	{name: ledger.FnPurgePrivate, minArgs: 2, maxArgs: 2, privateArgs: []int{1}, run: purgePrivate},
	{name: ledger.FnGetPrivate, readOnly: true, minArgs: 2, maxArgs: 2, privateArgs: []int{1}, run: getPrivate},
}

// maxPrivateValue bounds a private document.
const maxPrivateValue = 64 << 10

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func checkPrivateRef(collection, key string) error {
	if err := checkID("collection", collection); err != nil {
		return err
	}
	return checkText("private key", key, 256, true)
}

// readPrivate reads the document under key; found is false when absent.
func (c *call) readPrivate(collection, key string) (rec ledger.PrivateRecord, raw []byte, err error) {
	raw, err = c.s.GetPrivateData(collection, docKey(key))
	if err != nil {
		return rec, nil, stateErr("read private data in "+collection, err)
	}
	if raw == nil {
		return rec, nil, nil
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, nil, ledger.Errorf(ledger.Unavailable, "stored private document in %s is corrupt: %v", collection, err)
	}
	return rec, raw, nil
}

// privateWriter checks that the caller may write private data: a
// registered member with a registered role.
func (c *call) privateWriter(action string, roles ...string) (ledger.Caller, error) {
	cl, err := c.requireMember()
	if err != nil {
		return cl, err
	}
	return c.requireRole(cl.Org, action, roles...)
}

var anyRole = ledger.Roles

func putPrivate(c *call, args []string) ([]byte, error) {
	collection, key, value := args[0], args[1], args[2]
	if err := checkPrivateRef(collection, key); err != nil {
		return nil, err
	}
	if len(value) > maxPrivateValue {
		return nil, invalid("private document is longer than %d bytes", maxPrivateValue)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(value)); err != nil {
		return nil, invalid("private document is not JSON: %v", err)
	}
	cl, err := c.privateWriter("write private data in "+collection, anyRole...)
	if err != nil {
		return nil, err
	}
	cur, curRaw, err := c.readPrivate(collection, key)
	if err != nil {
		return nil, err
	}
	if curRaw != nil {
		if cur.Org != cl.Org {
			return nil, forbidden("private document in %s belongs to org %s", collection, cur.Org)
		}
		if bytes.Equal(cur.Value, buf.Bytes()) {
			return curRaw, nil
		}
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	rec := ledger.PrivateRecord{Collection: collection, Key: key, Value: buf.Bytes(), Org: cl.Org, TxID: c.s.TxID(), UpdatedAt: now}
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := c.s.PutPrivateData(collection, docKey(key), raw); err != nil {
		return nil, stateErr("write private data in "+collection, err)
	}
	ref := ledger.PrivateRef{Collection: collection, KeyHash: hashHex([]byte(key)), ValueHash: hashHex(raw), Org: cl.Org, TxID: rec.TxID, At: now}
	if err := c.emitJSON(ledger.EvPrivatePut, ref); err != nil {
		return nil, err
	}
	return raw, nil
}

func deletePrivate(c *call, args []string) ([]byte, error) {
	collection, key := args[0], args[1]
	if err := checkPrivateRef(collection, key); err != nil {
		return nil, err
	}
	cl, err := c.privateWriter("delete private data in "+collection, anyRole...)
	if err != nil {
		return nil, err
	}
	cur, curRaw, err := c.readPrivate(collection, key)
	if err != nil {
		return nil, err
	}
	if curRaw == nil {
		return nil, notFound("no such private document in %s", collection)
	}
	if cur.Org != cl.Org {
		return nil, forbidden("private document in %s belongs to org %s", collection, cur.Org)
	}
	if err := c.s.DelPrivateData(collection, docKey(key)); err != nil {
		return nil, stateErr("delete private data in "+collection, err)
	}
	return c.privateEvent(ledger.EvPrivateDeleted, collection, key, cl.Org)
}

// purgePrivate removes a document and its history for good. A present
// document may be purged by its owner's admin only; an absent (deleted)
// one, whose history may remain, by the admin of any member org.
func purgePrivate(c *call, args []string) ([]byte, error) {
	collection, key := args[0], args[1]
	if err := checkPrivateRef(collection, key); err != nil {
		return nil, err
	}
	cl, err := c.privateWriter("purge private data in "+collection, ledger.RoleOrgAdmin)
	if err != nil {
		return nil, err
	}
	cur, curRaw, err := c.readPrivate(collection, key)
	if err != nil {
		return nil, err
	}
	if curRaw != nil && cur.Org != cl.Org {
		return nil, forbidden("private document in %s belongs to org %s", collection, cur.Org)
	}
	if err := c.s.PurgePrivateData(collection, docKey(key)); err != nil {
		return nil, stateErr("purge private data in "+collection, err)
	}
	return c.privateEvent(ledger.EvPrivatePurged, collection, key, cl.Org)
}

func (c *call) privateEvent(name, collection, key, org string) ([]byte, error) {
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	ref := ledger.PrivateRef{Collection: collection, KeyHash: hashHex([]byte(key)), Org: org, TxID: c.s.TxID(), At: now}
	raw, err := json.Marshal(ref)
	if err != nil {
		return nil, err
	}
	if err := c.emit(name, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func getPrivate(c *call, args []string) ([]byte, error) {
	collection, key := args[0], args[1]
	if err := checkPrivateRef(collection, key); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	_, raw, err := c.readPrivate(collection, key)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("no such private document in %s", collection)
	}
	return raw, nil
}
