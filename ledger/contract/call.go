package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// call carries one invocation: the state, and the caller and its role once
// looked up.
type call struct {
	s      ledger.State
	fn     string
	caller *ledger.Caller
	role   *string
}

// stateErr wraps a State failure with what was being done. A backend's own
// *ledger.Error keeps its code (a private collection refusing a non-member
// stays Forbidden); anything else is the backend failing: Unavailable.
func stateErr(op string, err error) error {
	var le *ledger.Error
	if errors.As(err, &le) {
		return &ledger.Error{Code: le.Code, Msg: op + ": " + le.Msg, Err: le.Err}
	}
	return &ledger.Error{Code: ledger.Unavailable, Msg: op + ": " + err.Error(), Err: err}
}

func invalid(format string, args ...any) error { return ledger.Errorf(ledger.Invalid, format, args...) }
func forbidden(format string, args ...any) error {
	return ledger.Errorf(ledger.Forbidden, format, args...)
}
func notFound(format string, args ...any) error {
	return ledger.Errorf(ledger.NotFound, format, args...)
}
func conflict(format string, args ...any) error {
	return ledger.Errorf(ledger.Conflict, format, args...)
}

// who returns the authenticated caller.
func (c *call) who() (ledger.Caller, error) {
	if c.caller != nil {
		return *c.caller, nil
	}
	cl, err := c.s.Caller()
	if err != nil {
		return ledger.Caller{}, stateErr("identify caller", err)
	}
	if cl.Org == "" || cl.User == "" {
		return ledger.Caller{}, forbidden("the caller has no organisation or user")
	}
	c.caller = &cl
	return cl, nil
}

// callerRole returns the caller and its role: org-admin for the org's admin
// (Caller.Admin or user "admin"), else the role registered for the user by
// its org's admin, else "".
func (c *call) callerRole() (ledger.Caller, string, error) {
	cl, err := c.who()
	if err != nil {
		return cl, "", err
	}
	if c.role != nil {
		return cl, *c.role, nil
	}
	role := ""
	if cl.Admin || cl.User == ledger.AdminUser {
		role = ledger.RoleOrgAdmin
	} else if validID(cl.Org) == nil && validID(cl.User) == nil {
		var u ledger.User
		found, err := c.get(userKey(cl.Org, cl.User), &u)
		if err != nil {
			return cl, "", err
		}
		if found {
			role = u.Role
		}
	}
	c.role = &role
	return cl, role, nil
}

// requireRole checks that the caller acts for org and holds one of roles.
func (c *call) requireRole(org, action string, roles ...string) (ledger.Caller, error) {
	cl, role, err := c.callerRole()
	if err != nil {
		return cl, err
	}
	if cl.Org != org {
		return cl, forbidden("%s: org %s may not act for org %s", action, cl.Org, org)
	}
	for _, r := range roles {
		if role == r {
			return cl, nil
		}
	}
	if role == "" {
		return cl, forbidden("%s: user %s of org %s is not registered", action, cl.User, cl.Org)
	}
	return cl, forbidden("%s: needs role %v, user %s of org %s is %s", action, roles, cl.User, cl.Org, role)
}

// requireMember checks that the caller's org is registered: reads are open
// to registered members only.
func (c *call) requireMember() (ledger.Caller, error) {
	cl, err := c.who()
	if err != nil {
		return cl, err
	}
	if err := validID(cl.Org); err != nil {
		return cl, forbidden("caller org: %v", err)
	}
	raw, err := c.s.GetState(orgKey(cl.Org))
	if err != nil {
		return cl, stateErr("read org "+cl.Org, err)
	}
	if raw == nil {
		return cl, forbidden("org %s is not registered; only registered members may do this", cl.Org)
	}
	return cl, nil
}

// requireOrg returns the registered org id, NotFound when it is not.
func (c *call) requireOrg(id string) (ledger.Org, error) {
	var o ledger.Org
	found, err := c.get(orgKey(id), &o)
	if err != nil {
		return o, err
	}
	if !found {
		return o, notFound("org %s is not registered", id)
	}
	return o, nil
}

// now returns the transaction's time, in UTC.
func (c *call) now() (time.Time, error) {
	t, err := c.s.TxTime()
	if err != nil {
		return time.Time{}, stateErr("transaction time", err)
	}
	return t.UTC(), nil
}

// get reads key into v; found is false when the key is absent.
func (c *call) get(key string, v any) (found bool, err error) {
	raw, err := c.s.GetState(key)
	if err != nil {
		return false, stateErr("read "+key, err)
	}
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, ledger.Errorf(ledger.Unavailable, "stored %s is corrupt: %v", key, err)
	}
	return true, nil
}

// getRaw reads key's bytes, nil when absent.
func (c *call) getRaw(key string) ([]byte, error) {
	raw, err := c.s.GetState(key)
	if err != nil {
		return nil, stateErr("read "+key, err)
	}
	return raw, nil
}

// put writes v as JSON under key and returns the bytes written.
func (c *call) put(key string, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", key, err)
	}
	if err := c.s.PutState(key, raw); err != nil {
		return nil, stateErr("write "+key, err)
	}
	return raw, nil
}

// emit sets the transaction's one event.
func (c *call) emit(name string, payload []byte) error {
	if err := c.s.SetEvent(name, payload); err != nil {
		return stateErr("set event "+name, err)
	}
	return nil
}

// putAndEmit writes v under key and emits it as event name.
func (c *call) putAndEmit(key, name string, v any) ([]byte, error) {
	raw, err := c.put(key, v)
	if err != nil {
		return nil, err
	}
	if err := c.emit(name, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// scan calls each for every key in [start, end) in key order, stopping
// early when each returns false.
func (c *call) scan(start, end string, each func(kv ledger.KV) (bool, error)) error {
	it, err := c.s.GetStateByRange(start, end)
	if err != nil {
		return stateErr("range "+start, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return stateErr("range "+start, err)
		}
		more, err := each(kv)
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	return nil
}

// list decodes every value under prefix into a slice of T, in key order;
// keep filters (nil keeps all). The result is never nil, so it renders as
// [] in JSON.
func list[T any](c *call, prefix string, keep func(T) bool) ([]T, error) {
	out := []T{}
	err := c.scan(prefix, prefixEnd(prefix), func(kv ledger.KV) (bool, error) {
		var v T
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return false, ledger.Errorf(ledger.Unavailable, "stored %s is corrupt: %v", kv.Key, err)
		}
		if keep == nil || keep(v) {
			out = append(out, v)
		}
		return true, nil
	})
	return out, err
}

// marshal renders a result.
func marshal(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal result: %w", err)
	}
	return raw, nil
}

// decodeArg decodes a JSON argument strictly: unknown fields and trailing
// data are refused, so a typo is an error instead of a silently dropped
// field.
func decodeArg(arg, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(arg)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("%s is not a valid %s JSON object: %v", truncate(arg, 80), what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("trailing data after the %s JSON object", what)
	}
	return nil
}

// decodeStored decodes a stored value.
func decodeStored(kv ledger.KV, v any) error {
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return ledger.Errorf(ledger.Unavailable, "stored %s is corrupt: %v", kv.Key, err)
	}
	return nil
}

// emitJSON emits v as the transaction's event.
func (c *call) emitJSON(name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal event %s: %w", name, err)
	}
	return c.emit(name, raw)
}
