package embedded

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/ledgertest"
)

// The fixture's consortium.
const (
	orgMfr       = "ManufacturerMSP"
	orgWarehouse = "WarehouseMSP"
	orgRegulator = "RegulatorMSP"
	orgHospital  = "HospitalMSP"
	orgOutsider  = "OutsiderMSP"
	orgInsurer   = "InsurerMSP"
	orgCharity   = "CharityMSP"
	collection   = "mfrWarehouse"
)

var fixtureOrgs = []string{orgMfr, orgWarehouse, orgRegulator, orgHospital, orgOutsider, orgCharity, orgInsurer}

// testKeys are generated once per test binary: identities are cheap, but
// stable ones let a test reopen a directory.
var testKeys = func() map[string]ed25519.PrivateKey {
	keys := map[string]ed25519.PrivateKey{}
	for _, org := range fixtureOrgs {
		_, priv, err := GenerateIdentity()
		if err != nil {
			panic(err)
		}
		keys[org] = priv
	}
	return keys
}()

func testConfig() Config {
	return Config{
		Members:     MembersOf(testKeys),
		Keys:        testKeys,
		Collections: []Collection{{Name: collection, Members: []string{orgMfr, orgWarehouse}}},
	}
}

func fixture() ledgertest.Fixture {
	return ledgertest.Fixture{
		Manufacturer: orgMfr, Warehouse: orgWarehouse, Regulator: orgRegulator, Hospital: orgHospital, Insurer: orgInsurer,
		Outsider: orgOutsider, Charity: orgCharity, Users: []string{"olivia", "quinn", "harper"}, Collection: collection,
		ArbitraryUsers: true,
	}
}

func openTest(t testing.TB, dir string, cfg Config) *Ledger {
	t.Helper()
	l, err := Open(dir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) (ledger.Ledger, ledgertest.Fixture) {
		cfg := testConfig()
		cfg.Collections = append(cfg.Collections, Collection{Name: ledger.CollectionCharityPrivate, Members: []string{orgCharity}})
		l := openTest(t, t.TempDir(), cfg)
		t.Cleanup(func() {
			// Every conformance run must leave a ledger that passes fsck.
			if rep, err := l.Verify(context.Background()); err != nil {
				t.Errorf("Verify after the subtest: %v (%+v)", err, rep)
			}
		})
		return l, fixture()
	})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func admin(org string) ledger.Identity { return ledger.Identity{Org: org, User: ledger.AdminUser} }

// populate registers the manufacturer and an edge and anchors n batches.
func populate(t testing.TB, l ledger.Ledger, edgeID string, n int) (ledgertest.Edge, []ledger.Anchor) {
	t.Helper()
	c := ledger.Client{L: l}
	if _, err := c.RegisterOrg(ctxT(t), admin(orgMfr), ledger.Org{ID: orgMfr, Name: "Maker", Kind: ledger.OrgManufacturer}); err != nil {
		t.Fatalf("RegisterOrg: %v", err)
	}
	e := ledgertest.NewEdge(edgeID)
	if _, err := c.RegisterDevice(ctxT(t), admin(orgMfr), e.Device(orgMfr)); err != nil {
		t.Fatalf("RegisterDevice: %v", err)
	}
	hs, sigs := e.Chain(n)
	var out []ledger.Anchor
	for i := range hs {
		a, _, err := c.AnchorBatch(ctxT(t), admin(orgMfr), hs[i], sigs[i])
		if err != nil {
			t.Fatalf("AnchorBatch %d: %v", i, err)
		}
		out = append(out, a)
	}
	return e, out
}

type edgeT = ledgertest.Edge

func newEdge(id string) edgeT { return ledgertest.NewEdge(id) }
