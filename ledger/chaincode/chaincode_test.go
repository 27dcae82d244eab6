package chaincode

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/contract"
)

// invoke runs stub's transaction through the contract API chaincode and
// returns what a client would see: the payload, or the error the peer's
// gateway reports ("chaincode response 500, <message>") parsed back.
func invoke(t *testing.T, cc *contractapi.ContractChaincode, stub *fakeStub) ([]byte, error) {
	t.Helper()
	resp := cc.Invoke(stub)
	if resp.GetStatus() != shim.OK {
		return nil, ledger.ParseError(fmt.Sprintf("chaincode response %d, %s", resp.GetStatus(), resp.GetMessage()))
	}
	return resp.GetPayload(), nil
}

func mustInvoke(t *testing.T, cc *contractapi.ContractChaincode, stub *fakeStub) []byte {
	t.Helper()
	out, err := invoke(t, cc, stub)
	if err != nil {
		t.Fatalf("%v: %v", stub.args, err)
	}
	return out
}

func newCC(t *testing.T) *contractapi.ContractChaincode {
	t.Helper()
	cc, err := NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

func orgJSON(id, kind string) string {
	return fmt.Sprintf(`{"id":%q,"name":"Org %s","kind":%q}`, id, id, kind)
}

func TestChaincodeRoutesEveryFunctionThroughTheContract(t *testing.T) {
	cc := newCC(t)
	mfr := newTestOrg(t, "MfrMSP", "mfr.example.com", "User1", "User2")
	d := newLedgerData()

	// A write: the payload and the event are the contract's.
	reg := d.tx(t, mfr.admin, ledger.FnRegisterOrg, orgJSON("MfrMSP", ledger.OrgManufacturer))
	var org ledger.Org
	if err := json.Unmarshal(mustInvoke(t, cc, reg), &org); err != nil || org.ID != "MfrMSP" || org.RegisteredAt.IsZero() {
		t.Fatalf("RegisterOrg payload: %+v (%v)", org, err)
	}
	if reg.event != ledger.EvOrgRegistered {
		t.Errorf("event %q", reg.event)
	}
	mustInvoke(t, cc, d.tx(t, mfr.admin, ledger.FnRegisterUser, `{"org":"MfrMSP","id":"User1","role":"operator"}`))

	// The caller and its role, from the certificate and the registry.
	var who ledger.Whoami
	if err := json.Unmarshal(mustInvoke(t, cc, d.tx(t, mfr.user("User1"), ledger.FnWhoami)), &who); err != nil {
		t.Fatal(err)
	}
	if who.Org != "MfrMSP" || who.User != "User1" || who.Admin || who.Role != ledger.RoleOperator || !who.OrgRegistered {
		t.Errorf("Whoami User1 = %+v", who)
	}
	who = ledger.Whoami{}
	if err := json.Unmarshal(mustInvoke(t, cc, d.tx(t, mfr.user("User2"), ledger.FnWhoami)), &who); err != nil || who.User != "User2" || who.Role != "" {
		t.Errorf("unregistered User2 = %+v (%v)", who, err)
	}
	if err := json.Unmarshal(mustInvoke(t, cc, d.tx(t, mfr.admin, "tracegate:"+ledger.FnWhoami)), &who); err != nil || !who.Admin || who.Role != ledger.RoleOrgAdmin {
		t.Errorf("qualified name, admin: %+v (%v)", who, err)
	}

	// Refusals arrive with the contract's code and message, whichever way
	// the contract API routed the name.
	for _, c := range []struct {
		what string
		args []string
		code ledger.Code
		msg  string
	}{
		{"unknown function (unknown-transaction handler)", []string{"NoSuchFunction"}, ledger.Invalid, `unknown contract function "NoSuchFunction"`},
		{"lower-case name the contract API would route", []string{"registerOrg", orgJSON("MfrMSP", "manufacturer")}, ledger.Invalid, `unknown contract function "registerOrg"`},
		{"too few arguments", []string{ledger.FnRegisterOrg}, ledger.Invalid, "RegisterOrg takes 1 arguments, got 0"},
		{"too many arguments", []string{ledger.FnRegisterOrg, "{}", "{}"}, ledger.Invalid, "RegisterOrg takes 1 arguments, got 2"},
		{"optional arguments beyond the maximum", []string{ledger.FnListAnchors, "e", "0", "1", "x"}, ledger.Invalid, "ListAnchors takes 1 to 3 arguments, got 4"},
		{"operator registers its org", []string{ledger.FnRegisterOrg, orgJSON("MfrMSP", "manufacturer")}, ledger.Forbidden, "register org MfrMSP: needs role [org-admin], user User1 of org MfrMSP is operator"},
		{"not found", []string{ledger.FnGetDevice, "nosuch"}, ledger.NotFound, "device nosuch is not registered"},
	} {
		_, err := invoke(t, cc, d.tx(t, mfr.user("User1"), c.args...))
		le := wantCode(t, c.what, err, c.code)
		if c.msg != "" && le.Msg != c.msg {
			t.Errorf("%s: message %q, want %q", c.what, le.Msg, c.msg)
		}
	}
}

func TestChaincodePrivateArgumentsFromTransientData(t *testing.T) {
	cc := newCC(t)
	mfr := newTestOrg(t, "MfrMSP", "mfr.example.com", "User1")
	reg := newTestOrg(t, "RegMSP", "reg.example.com", "User1")
	d := newLedgerData()
	d.members["col"] = []string{"MfrMSP"}
	mustInvoke(t, cc, d.tx(t, mfr.admin, ledger.FnRegisterOrg, orgJSON("MfrMSP", ledger.OrgManufacturer)))
	mustInvoke(t, cc, d.tx(t, reg.admin, ledger.FnRegisterOrg, orgJSON("RegMSP", ledger.OrgRegulator)))
	mustInvoke(t, cc, d.tx(t, mfr.admin, ledger.FnRegisterUser, `{"org":"MfrMSP","id":"User1","role":"operator"}`))

	put := d.tx(t, mfr.user("User1"), ledger.FnPutPrivate, "col", "", "")
	put.transient[TransientKey(1)] = []byte("policy-7")
	put.transient[TransientKey(2)] = []byte(`{"premium": 1200}`)
	var rec ledger.PrivateRecord
	if err := json.Unmarshal(mustInvoke(t, cc, put), &rec); err != nil || rec.Key != "policy-7" || string(rec.Value) != `{"premium":1200}` || rec.Org != "MfrMSP" {
		t.Fatalf("PutPrivate = %+v (%v)", rec, err)
	}
	if strings.Contains(string(put.payload), "policy-7") || strings.Contains(string(put.payload), "1200") {
		t.Errorf("public event reveals private data: %s", put.payload)
	}
	if _, ok := d.priv["col"]["doc/policy-7"]; !ok {
		t.Errorf("private data not written: %v", d.priv)
	}

	get := d.tx(t, mfr.admin, ledger.FnGetPrivate, "col", "")
	get.transient[TransientKey(1)] = []byte("policy-7")
	if err := json.Unmarshal(mustInvoke(t, cc, get), &rec); err != nil || rec.Key != "policy-7" {
		t.Fatalf("GetPrivate = %+v (%v)", rec, err)
	}

	// A private argument in the proposal is refused before anything runs.
	leak := d.tx(t, mfr.user("User1"), ledger.FnPutPrivate, "col", "policy-8", `{}`)
	leak.transient[TransientKey(1)] = []byte("policy-8")
	leak.transient[TransientKey(2)] = []byte(`{}`)
	_, err := invoke(t, cc, leak)
	if le := wantCode(t, "private argument in the proposal", err, ledger.Invalid); !strings.Contains(le.Msg, `send it as transient data "arg1"`) {
		t.Errorf("message %q", le.Msg)
	}
	missing := d.tx(t, mfr.user("User1"), ledger.FnPutPrivate, "col", "", "")
	missing.transient[TransientKey(1)] = []byte("policy-9")
	_, err = invoke(t, cc, missing)
	if le := wantCode(t, "missing transient argument", err, ledger.Invalid); !strings.Contains(le.Msg, `private argument 2 is missing: send it as transient data "arg2"`) {
		t.Errorf("message %q", le.Msg)
	}
	// Too few arguments: the contract's count error, not a transient one.
	_, err = invoke(t, cc, d.tx(t, mfr.user("User1"), ledger.FnPutPrivate, "col"))
	if le := wantCode(t, "too few", err, ledger.Invalid); le.Msg != "PutPrivate takes 3 arguments, got 1" {
		t.Errorf("message %q", le.Msg)
	}

	// A non-member's read: the peer's refusal, as the embedded backend's.
	nm := d.tx(t, reg.admin, ledger.FnGetPrivate, "col", "")
	nm.transient[TransientKey(1)] = []byte("policy-7")
	_, err = invoke(t, cc, nm)
	if le := wantCode(t, "non-member", err, ledger.Forbidden); !strings.Contains(le.Msg, "org RegMSP is not a member of private data collection col") {
		t.Errorf("message %q", le.Msg)
	}
}

func TestChaincodeRecoversFromPanics(t *testing.T) {
	cc := newCC(t)
	mfr := newTestOrg(t, "MfrMSP", "mfr.example.com")
	stub := newLedgerData().tx(t, mfr.admin, ledger.FnListOrgs)
	stub.panicOn = "GetState"
	_, err := invoke(t, cc, stub)
	if le := wantCode(t, "panic", err, ledger.Unavailable); !strings.Contains(le.Msg, "contract ListOrgs panicked") {
		t.Errorf("message %q", le.Msg)
	}
}

// TestErrorStringRoundTrip checks that every code survives the trip a
// contract error makes through Fabric: contract → shim.Error(message) →
// the gateway's "chaincode response 500, <message>" → ledger.ParseError.
func TestErrorStringRoundTrip(t *testing.T) {
	for _, code := range []ledger.Code{ledger.NotFound, ledger.Forbidden, ledger.Conflict, ledger.Invalid, ledger.Unavailable} {
		orig := ledger.Errorf(code, "edge e-1: seq 3 (of 4): needs role [org-admin operator], user NotFound: x")
		resp := shim.Error(orig.Error())
		for _, wrapped := range []string{
			"chaincode response 500, " + resp.GetMessage(),
			"evaluate call to endorser returned error: chaincode response 500, " + resp.GetMessage(),
		} {
			back := ledger.ParseError(wrapped)
			le := wantCode(t, string(code), back, code)
			if le.Msg != orig.Msg {
				t.Errorf("%s: message %q, want %q", code, le.Msg, orig.Msg)
			}
		}
	}
}

// TestMetadataListsEveryFunction checks the chaincode's metadata: every
// contract function is a transaction, read-only ones tagged evaluate.
func TestMetadataListsEveryFunction(t *testing.T) {
	cc := newCC(t)
	org := newTestOrg(t, "MfrMSP", "mfr.example.com")
	raw := mustInvoke(t, cc, newLedgerData().tx(t, org.admin, "org.hyperledger.fabric:GetMetadata"))
	var md struct {
		Contracts map[string]struct {
			Default      bool `json:"default"`
			Transactions []struct {
				Name string   `json:"name"`
				Tag  []string `json:"tag"`
			} `json:"transactions"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		t.Fatal(err)
	}
	c, ok := md.Contracts[ContractName]
	if !ok || !c.Default {
		t.Fatalf("contract %s missing or not the default: %s", ContractName, raw)
	}
	tags := map[string][]string{}
	for _, tx := range c.Transactions {
		tags[tx.Name] = tx.Tag
	}
	for _, f := range contract.Functions() {
		tag, ok := tags[f.Name]
		if !ok {
			t.Errorf("metadata lacks %s", f.Name)
			continue
		}
		want := "SUBMIT"
		if f.ReadOnly {
			want = "EVALUATE"
		}
		if !slices.Contains(tag, want) {
			t.Errorf("%s tagged %v, want %s", f.Name, tag, want)
		}
	}
	if len(tags) != len(contract.Functions()) {
		t.Errorf("metadata has %d transactions, the contract %d functions", len(tags), len(contract.Functions()))
	}
}

// TestWrappersMatchContract fails when functions_gen.go is out of date.
func TestWrappersMatchContract(t *testing.T) {
	typ := reflect.TypeOf(&Contract{})
	base := reflect.TypeOf(&contractapi.Contract{})
	var methods []string
	for i := 0; i < typ.NumMethod(); i++ {
		m := typ.Method(i)
		if _, inherited := base.MethodByName(m.Name); inherited || m.Name == "GetEvaluateTransactions" {
			continue
		}
		methods = append(methods, m.Name)
		want := reflect.TypeOf((*Contract).Whoami)
		if m.Type != want {
			t.Errorf("method %s has type %v, want %v", m.Name, m.Type, want)
		}
	}
	var fns []string
	for _, f := range contract.Functions() {
		fns = append(fns, f.Name)
	}
	sort.Strings(methods)
	if !slices.Equal(methods, fns) {
		t.Fatalf("Contract's methods %v do not match the contract's functions %v: run `go generate ./ledger/chaincode`", methods, fns)
	}
}
