package chaincode

import (
	"testing"

	"github.com/tracegate/tracegate/ledger"
)

func TestCallerOf(t *testing.T) {
	ca := newTestCA(t, "org1.example.com")
	cert := func(cn, ou string) testIdentity {
		c, _ := ca.issue(t, cn, ou)
		return testIdentity{"Org1MSP", c}
	}
	for _, c := range []struct {
		what string
		id   testIdentity
		want ledger.Caller
		code ledger.Code
	}{
		{"cryptogen user", cert("User1@org1.example.com", "client"), ledger.Caller{Org: "Org1MSP", User: "User1"}, ""},
		{"cryptogen admin", cert("Admin@org1.example.com", "admin"), ledger.Caller{Org: "Org1MSP", User: "admin", Admin: true}, ""},
		{"Fabric CA admin enrolled as org1admin", cert("org1admin", "admin"), ledger.Caller{Org: "Org1MSP", User: "admin", Admin: true}, ""},
		{"Fabric CA user", cert("alice", "client"), ledger.Caller{Org: "Org1MSP", User: "alice"}, ""},
		{"client named admin without the admin OU", cert("admin", "client"), ledger.Caller{}, ledger.Forbidden},
		{"client named Admin@… without the admin OU", cert("Admin@org1.example.com", "client"), ledger.Caller{}, ledger.Forbidden},
		{"no common name", cert("", "client"), ledger.Caller{}, ledger.Forbidden},
		{"no MSP ID", testIdentity{"", cert("User1@org1.example.com", "client").cert}, ledger.Caller{}, ledger.Forbidden},
	} {
		t.Run(c.what, func(t *testing.T) {
			// Through the stub, as the contract gets it.
			stub := newLedgerData().tx(t, c.id)
			got, err := NewState(stub).Caller()
			if c.code != "" {
				wantCode(t, c.what, err, c.code)
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Caller() = %+v, %v; want %+v", got, err, c.want)
			}
			direct, err := CallerOf(c.id.mspID, c.id.cert)
			if err != nil || direct != c.want {
				t.Fatalf("CallerOf = %+v, %v", direct, err)
			}
		})
	}
}

func TestCallerOfBadCreator(t *testing.T) {
	org := newTestOrg(t, "Org1MSP", "org1.example.com", "User1")
	for what, creator := range map[string][]byte{
		"not a protobuf":       []byte("\xff\xff\xff"),
		"not a certificate":    testIdentityRaw(t, "Org1MSP", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")),
		"corrupt PEM body":     testIdentityRaw(t, "Org1MSP", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")),
		"idemix-like (no PEM)": testIdentityRaw(t, "Org1MSP", []byte{1, 2, 3}),
	} {
		stub := newLedgerData().tx(t, org.user("User1"))
		stub.creator = creator
		s := NewState(stub)
		_, err := s.Caller()
		wantCode(t, what, err, ledger.Forbidden)
		// The failure is remembered for the rest of the transaction.
		if _, err2 := s.Caller(); err2 != err {
			t.Errorf("%s: second Caller() = %v", what, err2)
		}
	}
}
