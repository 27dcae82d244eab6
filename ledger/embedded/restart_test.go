package embedded

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/tracegate/tracegate/ledger"
)

func collectN(t *testing.T, ch <-chan ledger.Event, n int) []ledger.Event {
	t.Helper()
	var out []ledger.Event
	for len(out) < n {
		e, ok := <-ch
		if !ok {
			t.Fatalf("stream closed after %d of %d events", len(out), n)
		}
		out = append(out, e)
	}
	return out
}

func TestRestartKeepsHeightStateAndEvents(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	e, anchors := populate(t, l, "edge-restart", 5)
	height := l.Height()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := l.Events(ctx, ledger.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	before := collectN(t, ch, 7) // org, device, 5 anchors
	cancel()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopen taking the members from the ledger.
	cfg := testConfig()
	cfg.Members, cfg.Collections = nil, nil
	l2 := openTest(t, dir, cfg)
	if l2.Height() != height {
		t.Fatalf("height %d after restart, want %d", l2.Height(), height)
	}
	c := ledger.Client{L: l2}
	latest, err := c.LatestAnchor(ctxT(t), admin(orgMfr), e.ID)
	if err != nil || latest != anchors[4] {
		t.Fatalf("LatestAnchor after restart = %+v, %v", latest, err)
	}
	ch2, err := l2.Events(ctxT(t), ledger.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	after := collectN(t, ch2, 7)
	for i := range before {
		if before[i].TxID != after[i].TxID || before[i].Block != after[i].Block || string(before[i].Payload) != string(after[i].Payload) {
			t.Fatalf("event %d differs after restart: %+v vs %+v", i, before[i], after[i])
		}
	}
	// The chain continues.
	h5 := e.Header(5, anchors[4].HeaderHash, 3)
	if _, res, err := c.AnchorBatch(ctxT(t), admin(orgMfr), h5, e.Sign(h5)); err != nil || res.Block != height+1 {
		t.Fatalf("anchor after restart: block %d, %v", res.Block, err)
	}
	if rep, err := l2.Verify(ctxT(t)); err != nil {
		t.Fatalf("Verify: %v (%+v)", err, rep)
	}
}

func TestReopenChecksMembership(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.Members = MembersOf(map[string]ed25519.PrivateKey{orgMfr: testKeys[orgMfr], orgWarehouse: testKeys[orgWarehouse]})
	cfg.Keys = map[string]ed25519.PrivateKey{orgMfr: testKeys[orgMfr], orgWarehouse: testKeys[orgWarehouse]}
	l, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	// An unknown member is refused until added with AddMember.
	bigger := cfg
	bigger.Members = append(MembersOf(cfg.Keys), Member{Org: orgHospital, PublicKey: testKeys[orgHospital].Public().(ed25519.PublicKey)})
	if _, err := Open(dir, bigger); err == nil || !strings.Contains(err.Error(), "AddMember") {
		t.Fatalf("Open with an extra member: %v", err)
	}
	// A member with another key is refused.
	other := cfg
	_, otherKey, _ := GenerateIdentity()
	other.Members = MembersOf(map[string]ed25519.PrivateKey{orgMfr: otherKey, orgWarehouse: testKeys[orgWarehouse]})
	other.Keys = nil
	if _, err := Open(dir, other); err == nil || !strings.Contains(err.Error(), "different public key") {
		t.Fatalf("Open with another key: %v", err)
	}
	// A held key that is not a member's is refused.
	stray := cfg
	stray.Members = nil
	stray.Keys = map[string]ed25519.PrivateKey{orgHospital: testKeys[orgHospital]}
	if _, err := Open(dir, stray); err == nil {
		t.Fatal("Open holding a non-member's key succeeded")
	}

	l = openTest(t, dir, cfg)
	hospital := Member{Org: orgHospital, PublicKey: testKeys[orgHospital].Public().(ed25519.PublicKey)}
	if _, err := l.AddMember(ctxT(t), ledger.Identity{Org: orgMfr, User: "olivia"}, hospital); !errors.Is(err, ledger.ErrForbidden) {
		t.Fatalf("AddMember by a non-admin: %v", err)
	}
	n, err := l.AddMember(ctxT(t), admin(orgMfr), hospital)
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if _, err := l.AddMember(ctxT(t), admin(orgMfr), hospital); !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("AddMember twice: %v", err)
	}
	b, err := l.Block(n)
	if err != nil || b.Config == nil || b.ConfigUpdate == nil || b.ConfigUpdate.Org != orgMfr {
		t.Fatalf("config block %d = %+v, %v", n, b, err)
	}
	l.Close()

	bigger.Keys = map[string]ed25519.PrivateKey{orgHospital: testKeys[orgHospital]}
	l = openTest(t, dir, bigger) // now matches; the hospital's key is held
	c := ledger.Client{L: l}
	if _, err := c.RegisterOrg(ctxT(t), admin(orgHospital), ledger.Org{ID: orgHospital, Name: "H", Kind: ledger.OrgHospital}); err != nil {
		t.Fatalf("new member submits: %v", err)
	}
	if rep, err := l.Verify(ctxT(t)); err != nil || rep.ConfigBlocks != 2 {
		t.Fatalf("Verify: %v (%+v)", err, rep)
	}
}

func TestNewLedgerNeedsMembers(t *testing.T) {
	if _, err := Open(t.TempDir(), Config{}); err == nil {
		t.Fatal("a new ledger opened without members")
	}
	cfg := testConfig()
	cfg.Collections = []Collection{{Name: "c", Members: []string{"NobodyMSP"}}}
	if _, err := Open(t.TempDir(), cfg); err == nil {
		t.Fatal("a collection of a non-member was accepted")
	}
}
