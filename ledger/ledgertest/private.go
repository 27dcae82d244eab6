package ledgertest

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/tracegate/tracegate/ledger"
)

func testPrivateData(s *suite) {
	fx, t := s.fx, s.t
	mfr, wh, col := fx.Manufacturer, fx.Warehouse, fx.Collection
	key := "policy-" + s.run
	secret := "premium-" + s.run
	doc := json.RawMessage(`{"note": "` + secret + `", "premium": 1200}`)

	start := s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), NewEdge(s.id("pd")).Device(mfr)))

	s.refused("non-member writes", ledger.Forbidden)(s.c.PutPrivate(s.ctx(), s.operator(fx.Regulator), col, key, doc))
	s.refused("non-member writes", ledger.Forbidden)(s.c.PutPrivate(s.ctx(), admin(fx.Hospital), col, key, doc))
	s.refused("not JSON", ledger.Invalid)(s.c.PutPrivate(s.ctx(), s.operator(mfr), col, key, json.RawMessage(`{premium`)))

	put := s.must(s.c.PutPrivate(s.ctx(), s.operator(mfr), col, key, doc))
	rec := got[ledger.PrivateRecord](s, "member reads")(s.c.Private(s.ctx(), s.other(wh), col, key))
	var compact bytes.Buffer
	_ = json.Compact(&compact, doc)
	if rec.Org != mfr || rec.Key != key || rec.Collection != col || !bytes.Equal(rec.Value, compact.Bytes()) || rec.TxID != put.TxID {
		t.Fatalf("GetPrivate = %+v", rec)
	}
	denied[ledger.PrivateRecord](s, "non-member reads", ledger.Forbidden)(s.c.Private(s.ctx(), admin(fx.Regulator), col, key))
	denied[ledger.PrivateRecord](s, "non-member reads", ledger.Forbidden)(s.c.Private(s.ctx(), s.other(fx.Hospital), col, key))
	s.refused("another member overwrites", ledger.Forbidden)(s.c.PutPrivate(s.ctx(), admin(wh), col, key, json.RawMessage(`{}`)))
	s.refused("another member deletes", ledger.Forbidden)(s.c.DeletePrivate(s.ctx(), admin(wh), col, key))
	s.refused("non-admin purges", ledger.Forbidden)(s.c.PurgePrivate(s.ctx(), s.operator(mfr), col, key))
	s.must(s.c.PutPrivate(s.ctx(), s.operator(mfr), col, key, doc)) // same value: no-op

	// The public event names neither the key nor the value.
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ch, err := s.l.Events(ctx, ledger.Checkpoint{Block: start.Block, TxID: start.TxID})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	evs := s.collect(ch, untilTx(put.TxID))
	if len(evs) != 1 || evs[0].Name != ledger.EvPrivatePut {
		t.Fatalf("events %v", names(evs))
	}
	if bytes.Contains(evs[0].Payload, []byte(secret)) || bytes.Contains(evs[0].Payload, []byte(key)) {
		t.Errorf("public event reveals private data: %s", evs[0].Payload)
	}
	var ref ledger.PrivateRef
	if err := json.Unmarshal(evs[0].Payload, &ref); err != nil || ref.Collection != col || len(ref.KeyHash) != 64 || len(ref.ValueHash) != 64 || ref.Org != mfr {
		t.Errorf("PrivateDataPut payload %s (%v)", evs[0].Payload, err)
	}

	// Delete, then purge.
	s.must(s.c.DeletePrivate(s.ctx(), s.operator(mfr), col, key))
	denied[ledger.PrivateRecord](s, "deleted", ledger.NotFound)(s.c.Private(s.ctx(), s.operator(wh), col, key))
	s.refused("delete absent", ledger.NotFound)(s.c.DeletePrivate(s.ctx(), s.operator(mfr), col, key))
	key2 := key + "-2"
	s.must(s.c.PutPrivate(s.ctx(), s.operator(wh), col, key2, doc))
	s.refused("another member's admin purges", ledger.Forbidden)(s.c.PurgePrivate(s.ctx(), admin(mfr), col, key2))
	s.must(s.c.PurgePrivate(s.ctx(), admin(wh), col, key2))
	denied[ledger.PrivateRecord](s, "purged", ledger.NotFound)(s.c.Private(s.ctx(), admin(mfr), col, key2))
	s.must(s.c.PurgePrivate(s.ctx(), admin(mfr), col, key)) // history of a deleted key
	s.refused("non-member purges", ledger.Forbidden)(s.c.PurgePrivate(s.ctx(), admin(fx.Regulator), col, key))
}

func testTransaction(s *suite) {
	fx, t := s.fx, s.t
	res := s.must(s.c.RegisterDevice(s.ctx(), s.operator(fx.Manufacturer), NewEdge(s.id("tx")).Device(fx.Manufacturer)))
	info, err := s.l.Transaction(s.ctx(), res.TxID)
	if err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	if info.TxID != res.TxID || info.Block != res.Block || !info.Valid || info.Org != fx.Manufacturer || info.Time.IsZero() {
		t.Errorf("Transaction = %+v, result %+v", info, res)
	}
	res2 := s.must(s.c.RegisterDevice(s.ctx(), s.operator(fx.Manufacturer), NewEdge(s.id("tx2")).Device(fx.Manufacturer)))
	if res2.Block < res.Block {
		t.Errorf("later transaction in an earlier block: %d < %d", res2.Block, res.Block)
	}
	// A refused transaction is not committed.
	failed, err := s.c.RegisterDevice(s.ctx(), admin(fx.Warehouse), NewEdge(s.id("tx3")).Device(fx.Manufacturer))
	wantCode(t, "refused", err, ledger.Forbidden)
	if failed.TxID != "" {
		_, err := s.l.Transaction(s.ctx(), failed.TxID)
		wantCode(t, "refused transaction lookup", err, ledger.NotFound)
	}
	_, err = s.l.Transaction(s.ctx(), "0000000000000000000000000000000000000000000000000000000000000000")
	wantCode(t, "unknown transaction", err, ledger.NotFound)
}

func testBadInput(s *suite) {
	fx, t := s.fx, s.t
	mfr := admin(fx.Manufacturer)
	for _, c := range []struct {
		what string
		fn   string
		args []string
	}{
		{"unknown function", "NoSuchFunction", nil},
		{"too few arguments", ledger.FnRegisterOrg, nil},
		{"too many arguments", ledger.FnRegisterOrg, []string{"{}", "{}"}},
		{"not JSON", ledger.FnRegisterOrg, []string{"{"}},
		{"JSON array", ledger.FnRegisterDevice, []string{"[]"}},
		{"unknown field", ledger.FnRegisterOrg, []string{`{"id":"` + fx.Manufacturer + `","name":"M","kind":"manufacturer","colour":"red"}`}},
		{"trailing data", ledger.FnRegisterOrg, []string{`{"id":"` + fx.Manufacturer + `","name":"M","kind":"manufacturer"} {}`}},
		{"header not JSON", ledger.FnAnchorBatch, []string{"nope", ""}},
	} {
		_, err := s.l.Submit(s.ctx(), mfr, c.fn, c.args...)
		wantCode(t, c.what, err, ledger.Invalid)
	}
	for _, c := range []struct {
		what string
		fn   string
		args []string
	}{
		{"seq not a number", ledger.FnGetAnchor, []string{"edge", "x"}},
		{"negative seq", ledger.FnGetAnchor, []string{"edge", "-1"}},
		{"limit too large", ledger.FnListAnchors, []string{"edge", "0", "100000"}},
		{"bad GTIN", ledger.FnListLots, []string{"12345678901234"}},
		{"empty id", ledger.FnGetDevice, []string{""}},
	} {
		_, err := s.l.Evaluate(s.ctx(), mfr, c.fn, c.args...)
		wantCode(t, c.what, err, ledger.Invalid)
	}
}
