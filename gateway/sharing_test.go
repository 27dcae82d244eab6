package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger"
)

// TestSharedReadsAndAccessLog: a hospital grants the regulator its
// receipt records; the regulator's reads inside the grant are served and
// logged, reads outside it (another scope, after the revocation) are
// refused and logged; the owner's own reads need no grant and are not
// logged. The log is sealed into signed batches anchored on the ledger,
// every entry verifies against the anchor, and an entry changed in the
// store afterwards no longer does.
func TestSharedReadsAndAccessLog(t *testing.T) {
	f := newCCFixture(t)
	ctx := context.Background()
	svc := f.svc
	if err := svc.EnsureAccessLogDevice(ctx); err != nil {
		t.Fatal(err)
	}
	hospAdmin := ledger.Identity{Org: ccHosp, User: ledger.AdminUser}
	inspector := ledger.Identity{Org: ccReg, User: ledger.AdminUser}
	g, _, err := svc.Ledger().GrantAccess(ctx, hospAdmin, ledger.Grant{Grantee: ccReg, Scope: ledger.GrantScope{Kind: ledger.GrantReceipts},
		Purpose: "inspection of donated goods", ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	read := func() error { reads++; return nil }
	receipts := ledger.GrantScope{Kind: ledger.GrantReceipts}
	// Inside the grant: served and logged.
	for i := 0; i < 3; i++ {
		if err := svc.SharedRead(ctx, inspector, ccHosp, receipts, "/api/v1/shared/"+ccHosp+"/receipts", read); err != nil {
			t.Fatalf("read %d inside the grant: %v", i, err)
		}
	}
	// Another scope: refused, logged, not served.
	err = svc.SharedRead(ctx, inspector, ccHosp, ledger.GrantScope{Kind: ledger.GrantAlerts}, "/api/v1/shared/"+ccHosp+"/alerts", read)
	var ge *Error
	if !errors.As(err, &ge) || ge.Kind != KindForbidden {
		t.Fatalf("read outside the grant's scope: %v", err)
	}
	// The owner's own read: no grant, no log entry.
	if err := svc.SharedRead(ctx, hospAdmin, ccHosp, ledger.GrantScope{Kind: ledger.GrantAlerts}, "own", read); err != nil {
		t.Fatal(err)
	}
	// Revoked: refused.
	if _, _, err := svc.Ledger().RevokeGrant(ctx, hospAdmin, g.ID, "inspection finished"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SharedRead(ctx, inspector, ccHosp, receipts, "/api/v1/shared/"+ccHosp+"/receipts", read); !errors.As(err, &ge) || ge.Kind != KindForbidden {
		t.Fatalf("read after the revocation: %v", err)
	}
	if reads != 4 {
		t.Fatalf("%d reads served, want 3 in the grant + 1 own", reads)
	}

	if err := svc.SealAccessLog(ctx); err != nil {
		t.Fatal(err)
	}
	log, err := svc.AccessLog(ctx, ccHosp, 0)
	if err != nil {
		t.Fatal(err)
	}
	var allowed, refused int
	for _, e := range log {
		switch e.Outcome {
		case AccessAllowed:
			allowed++
			if e.GrantID != g.ID || e.Purpose != "inspection of donated goods" || e.Grantee != ccReg {
				t.Errorf("allowed entry %+v", e)
			}
		case AccessRefused:
			refused++
			if e.Reason == "" {
				t.Errorf("refused entry without a reason: %+v", e)
			}
		}
		if !e.Sealed || !e.Anchored || !e.Verified || e.TxID == "" {
			t.Errorf("entry %d not sealed, anchored and verified: %+v", e.Seq, e)
		}
	}
	if allowed != 3 || refused != 2 || len(log) != 5 {
		t.Fatalf("access log: %d allowed, %d refused, %d entries", allowed, refused, len(log))
	}
	// More reads go into a second batch chained to the first.
	if _, _, err := svc.Ledger().GrantAccess(ctx, hospAdmin, ledger.Grant{Grantee: ccReg, Scope: receipts, Purpose: "follow-up", ValidUntil: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SharedRead(ctx, inspector, ccHosp, receipts, "/api/v1/shared/"+ccHosp+"/receipts", read); err != nil {
		t.Fatal(err)
	}
	if err := svc.SealAccessLog(ctx); err != nil {
		t.Fatal(err)
	}
	edge, _ := svc.AccessLogDevice()
	an, err := svc.Ledger().Anchor(ctx, svc.Config().Reader, edge, 1)
	if err != nil || an.Count != 1 {
		t.Fatalf("second access-log batch on the ledger: %+v %v", an, err)
	}

	// Tamper with a stored entry: it no longer verifies.
	recs, err := svc.Store().AccessOf(ccHosp, 0)
	if err != nil {
		t.Fatal(err)
	}
	victim := recs[len(recs)-1] // the oldest
	var e AccessEntry
	if err := json.Unmarshal(victim.Entry, &e); err != nil {
		t.Fatal(err)
	}
	e.Grantee = "SomeoneElseMSP"
	victim.Entry, _ = json.Marshal(e)
	raw, _ := json.Marshal(victim)
	if err := svc.Store().DB().Update(func(txn *badger.Txn) error {
		return txn.Set(append([]byte("xl/e/"), seqKey(victim.Seq)...), raw)
	}); err != nil {
		t.Fatal(err)
	}
	log, _ = svc.AccessLog(ctx, ccHosp, 0)
	for _, x := range log {
		if x.Seq == victim.Seq && (x.Verified || x.Problem == "") {
			t.Fatalf("tampered entry still verifies: %+v", x)
		}
		if x.Seq != victim.Seq && !x.Verified {
			t.Errorf("untouched entry %d fails: %s", x.Seq, x.Problem)
		}
	}
}

func seqKey(n uint64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return b
}

// BenchmarkSharedRead is a grantee's read of shared data through the
// gateway: the grant checked on the ledger and the read logged durably
// (sealing and anchoring run in the background, one transaction per
// batch). Compare with BenchmarkSharedReadBaseline, the grant check alone.
func BenchmarkSharedRead(b *testing.B) {
	svc, inspector := benchGrant(b)
	sc := ledger.GrantScope{Kind: ledger.GrantReceipts}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := svc.SharedRead(context.Background(), inspector, ccHosp, sc, "bench", func() error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := svc.SealAccessLog(context.Background()); err != nil {
		b.Fatal(err)
	}
	bs, _ := svc.Store().AccessBatches(0, 0)
	b.ReportMetric(float64(b.N)/float64(max(1, len(bs))), "reads/anchor")
}

// BenchmarkSharedReadBaseline is the ledger grant check alone.
func BenchmarkSharedReadBaseline(b *testing.B) {
	svc, inspector := benchGrant(b)
	sc := ledger.GrantScope{Kind: ledger.GrantReceipts}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Ledger().CheckGrant(context.Background(), inspector, ccHosp, ccReg, sc, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGrant(b *testing.B) (*Service, ledger.Identity) {
	f := newCCFixture(b)
	ctx := context.Background()
	if err := f.svc.EnsureAccessLogDevice(ctx); err != nil {
		b.Fatal(err)
	}
	if _, _, err := f.svc.Ledger().GrantAccess(ctx, ledger.Identity{Org: ccHosp, User: ledger.AdminUser}, ledger.Grant{Grantee: ccReg,
		Scope: ledger.GrantScope{Kind: ledger.GrantReceipts}, Purpose: "benchmark", ValidUntil: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	return f.svc, ledger.Identity{Org: ccReg, User: ledger.AdminUser}
}
