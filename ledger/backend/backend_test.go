package backend

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracegate/tracegate/ledger"
)

// TestEmbeddedConsortiumGrows: an embedded ledger created for two orgs,
// reopened with a third configured, takes it in as a member (a
// configuration block) and signs as it; a replaced identity key of an
// existing member is refused with what to do.
func TestEmbeddedConsortiumGrows(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	open := func(orgs ...string) (ledger.Ledger, error) {
		c := Config{Kind: ledger.KindEmbedded, Orgs: orgs}
		if err := c.Validate(dir); err != nil {
			t.Fatal(err)
		}
		return Open(c, log)
	}
	l, err := open("AMSP", "BMSP")
	if err != nil {
		t.Fatal(err)
	}
	cl := ledger.Client{L: l}
	ctx := context.Background()
	if _, err := cl.RegisterOrg(ctx, ledger.Identity{Org: "AMSP", User: ledger.AdminUser}, ledger.Org{ID: "AMSP", Name: "A", Kind: ledger.OrgManufacturer}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.RegisterOrg(ctx, ledger.Identity{Org: "CMSP", User: ledger.AdminUser}, ledger.Org{ID: "CMSP", Name: "C", Kind: ledger.OrgHospital}); ledger.CodeOf(err) != ledger.Forbidden {
		t.Fatalf("a non-member signing: %v", err)
	}
	l.Close()

	// A check (KeepMembers) opens it as it is.
	kc := Config{Kind: ledger.KindEmbedded, Orgs: []string{"AMSP", "BMSP", "CMSP"}, KeepMembers: true}
	if err := kc.Validate(dir); err != nil {
		t.Fatal(err)
	}
	if l, err = Open(kc, log); err != nil {
		t.Fatal(err)
	}
	if _, err := (ledger.Client{L: l}).Org(ctx, ledger.Identity{Org: "CMSP", User: ledger.AdminUser}, "AMSP"); ledger.CodeOf(err) != ledger.Forbidden {
		t.Fatalf("KeepMembers added the new org: %v", err)
	}
	l.Close()

	l, err = open("AMSP", "BMSP", "CMSP")
	if err != nil {
		t.Fatalf("reopen with a new member: %v", err)
	}
	cl = ledger.Client{L: l}
	if _, err := cl.RegisterOrg(ctx, ledger.Identity{Org: "CMSP", User: ledger.AdminUser}, ledger.Org{ID: "CMSP", Name: "C", Kind: ledger.OrgHospital}); err != nil {
		t.Fatalf("the new member signing: %v", err)
	}
	if o, err := cl.Org(ctx, ledger.Identity{Org: "AMSP", User: ledger.AdminUser}, "AMSP"); err != nil || o.Name != "A" {
		t.Fatalf("the old records: %+v %v", o, err)
	}
	l.Close()

	// Once more: nothing to add, everything still signs.
	l, err = open("AMSP", "BMSP", "CMSP")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	// A replaced key file of an existing member.
	if err := os.Remove(filepath.Join(dir, "ledger", "identities", "BMSP.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := open("AMSP", "BMSP", "CMSP"); err == nil || !strings.Contains(err.Error(), "identities directory") {
		t.Fatalf("replaced key: %v", err)
	}
}
