package embedded

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// TestKeylessOrgCannotSubmit: a member's own gateway holds only its own key
// and cannot act for another member.
func TestKeylessOrgCannotSubmit(t *testing.T) {
	cfg := testConfig()
	cfg.Keys = map[string]ed25519.PrivateKey{orgWarehouse: testKeys[orgWarehouse]}
	l := openTest(t, t.TempDir(), cfg)
	c := ledger.Client{L: l}
	_, err := c.RegisterOrg(ctxT(t), admin(orgMfr), ledger.Org{ID: orgMfr, Name: "M", Kind: ledger.OrgManufacturer})
	if !errors.Is(err, ledger.ErrForbidden) {
		t.Fatalf("submit without the org's key: %v", err)
	}
	if _, err := c.Orgs(ctxT(t), admin(orgMfr)); !errors.Is(err, ledger.ErrForbidden) {
		t.Fatalf("evaluate without the org's key: %v", err)
	}
	if _, err := c.RegisterOrg(ctxT(t), admin(orgWarehouse), ledger.Org{ID: orgWarehouse, Name: "W", Kind: ledger.OrgWarehouse}); err != nil {
		t.Fatalf("submit with the org's key: %v", err)
	}
	if h := l.Height(); h != 1 {
		t.Fatalf("height %d, want 1", h)
	}
}

// TestForgedTransactionRejected feeds the writer transactions that claim
// an org without its valid signature.
func TestForgedTransactionRejected(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig())
	_, stranger, _ := GenerateIdentity()
	mk := func(org string, key ed25519.PrivateKey, mutate func(*Tx)) error {
		tx := Tx{Channel: DefaultChannel, Org: org, User: ledger.AdminUser, Fn: ledger.FnRegisterOrg,
			Args: []string{`{"id":"` + org + `","name":"X","kind":"manufacturer"}`},
			Time: time.Now().UTC().Format(time.RFC3339Nano), Nonce: "n"}
		signed, _ := tx.signingBytes()
		tx.ID = hashHex(signed)
		sig := ed25519.Sign(key, signed)
		if mutate != nil {
			mutate(&tx)
		}
		_, err := l.send(ctxT(t), &request{ctx: context.Background(), tx: tx, sig: sig, reply: make(chan response, 1)})
		return err
	}
	if err := mk(orgMfr, stranger, nil); !errors.Is(err, ledger.ErrForbidden) {
		t.Fatalf("signed by a stranger: %v", err)
	}
	if err := mk("StrangerMSP", stranger, nil); !errors.Is(err, ledger.ErrForbidden) {
		t.Fatalf("non-member org: %v", err)
	}
	if err := mk(orgMfr, testKeys[orgMfr], func(tx *Tx) { tx.User = "someone-else" }); !errors.Is(err, ledger.ErrInvalid) {
		t.Fatalf("altered after signing: %v", err)
	}
	if err := mk(orgMfr, testKeys[orgMfr], func(tx *Tx) {
		tx.Org = orgWarehouse
		signed, _ := tx.signingBytes()
		tx.ID = hashHex(signed)
	}); !errors.Is(err, ledger.ErrForbidden) {
		t.Fatalf("org swapped after signing: %v", err)
	}
	if err := mk(orgMfr, testKeys[orgMfr], nil); err != nil {
		t.Fatalf("genuine transaction: %v", err)
	}
	if l.Height() != 1 {
		t.Fatalf("height %d, want 1: a forged transaction was committed", l.Height())
	}
}

func TestEvaluateWritesNothing(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig())
	_, err := l.Evaluate(ctxT(t), admin(orgMfr), ledger.FnRegisterOrg, `{"id":"`+orgMfr+`","name":"M","kind":"manufacturer"}`)
	if !errors.Is(err, ledger.ErrInvalid) {
		t.Fatalf("evaluate a write: %v", err)
	}
	if _, err := (ledger.Client{L: l}).Org(ctxT(t), admin(orgMfr), orgMfr); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("the evaluated write took effect: %v", err)
	}
	if l.Height() != 0 {
		t.Fatalf("height %d after evaluate", l.Height())
	}
}

func TestContextAndClose(t *testing.T) {
	l, err := Open(t.TempDir(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := ledger.Client{L: l}
	org := ledger.Org{ID: orgMfr, Name: "M", Kind: ledger.OrgManufacturer}
	if _, err := c.RegisterOrg(ctx, admin(orgMfr), org); !errors.Is(err, ledger.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled submit: %v", err)
	}
	ch, err := l.Events(context.Background(), ledger.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch { // closes with the ledger
	}
	if _, err := c.RegisterOrg(context.Background(), admin(orgMfr), org); !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("submit after Close: %v", err)
	}
	if _, err := l.Events(context.Background(), ledger.Checkpoint{}); !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("Events after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCheckpointValidation(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig())
	populate(t, l, "edge-cp", 1)
	if _, err := l.Events(ctxT(t), ledger.Checkpoint{Block: 1, TxID: "nope"}); !errors.Is(err, ledger.ErrInvalid) {
		t.Fatalf("checkpoint naming a foreign tx: %v", err)
	}
	// A checkpoint at a block without TxID starts at that block.
	ch, err := l.Events(ctxT(t), ledger.Checkpoint{Block: 2})
	if err != nil {
		t.Fatal(err)
	}
	if e := <-ch; e.Block != 2 || e.Name != ledger.EvDeviceRegistered {
		t.Fatalf("first event from block 2 = %+v", e)
	}
}
