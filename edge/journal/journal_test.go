package journal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger/batch"
)

func openT(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestInboxSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir)
	var raws []Raw
	for i := range 10 {
		raws = append(raws, Raw{Topic: "tracegate/s/sensor/x", Payload: []byte(fmt.Sprintf(`{"i":%d}`, i)), Received: time.Now()})
	}
	if err := j.AppendInbox(raws); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = openT(t, dir)
	defer j.Close()
	got, err := j.ReadInbox(100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("inbox holds %d, want 10", len(got))
	}
	for i, e := range got {
		if string(e.Raw.Payload) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("entry %d out of order: %s", i, e.Raw.Payload)
		}
	}
	// New appends continue after the old sequence numbers.
	if err := j.AppendInbox([]Raw{{Topic: "t", Payload: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	got, _ = j.ReadInbox(100)
	if len(got) != 11 || got[10].Seq <= got[9].Seq {
		t.Fatalf("appended entry has seq %d after %d", got[10].Seq, got[9].Seq)
	}
}

func hashOf(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint(i))) }

func TestEventsSealAckChain(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir)
	pub, key, _ := ed25519.GenerateKey(nil)
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	err := j.Update(func(tx *Tx) error {
		for i := range 25 {
			isNew, err := tx.AppendEvent(hashOf(i), base.Add(time.Duration(i)*time.Second), []byte(fmt.Sprintf(`{"n":%d}`, i)))
			if err != nil || !isNew {
				return fmt.Errorf("append %d: new=%v err=%v", i, isNew, err)
			}
		}
		// The same hash again is a duplicate, even in the same step.
		isNew, err := tx.AppendEvent(hashOf(3), base, []byte(`{}`))
		if err != nil || isNew {
			return fmt.Errorf("duplicate accepted: new=%v err=%v", isNew, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := j.PendingCount(100); n != 25 {
		t.Fatalf("pending %d, want 25", n)
	}
	b0, err := j.Seal("e1", key, 10)
	if err != nil || b0 == nil {
		t.Fatalf("seal: %v", err)
	}
	b1, _ := j.Seal("e1", key, 10)
	b2, _ := j.Seal("e1", key, 10)
	if b3, _ := j.Seal("e1", key, 10); b3 != nil {
		t.Fatalf("sealed a batch from nothing: %+v", b3.Header)
	}
	if b0.Header.Count != 10 || b1.Header.Count != 10 || b2.Header.Count != 5 {
		t.Fatalf("counts %d %d %d", b0.Header.Count, b1.Header.Count, b2.Header.Count)
	}
	for _, b := range []*Batch{b0, b1, b2} {
		if err := b.Header.Verify(pub, b.Signature); err != nil {
			t.Fatal(err)
		}
	}
	if err := b1.Header.Follows(b0.Header); err != nil {
		t.Fatal(err)
	}
	if err := b2.Header.Follows(b1.Header); err != nil {
		t.Fatal(err)
	}
	if b0.Header.From != "2026-11-25T10:00:00.000Z" || b0.Header.To != "2026-11-25T10:00:09.000Z" {
		t.Fatalf("time range %s..%s", b0.Header.From, b0.Header.To)
	}
	evs, err := j.BatchEvents(*b1)
	if err != nil {
		t.Fatal(err)
	}
	hs := make([][32]byte, len(evs))
	for i, e := range evs {
		hs[i] = e.Hash
	}
	root, _ := batch.Root(hs)
	if hex.EncodeToString(root[:]) != b1.Header.Root {
		t.Fatal("batch root does not match its events")
	}
	// Reopen: unacked batches and the chain survive.
	j.Close()
	j = openT(t, dir)
	defer j.Close()
	old, ok, err := j.OldestUnacked()
	if err != nil || !ok || old.Header.Seq != 0 {
		t.Fatalf("oldest unacked after reopen: %v %v %+v", err, ok, old.Header)
	}
	if err := j.Ack(old); err != nil {
		t.Fatal(err)
	}
	old, _, _ = j.OldestUnacked()
	if old.Header.Seq != 1 {
		t.Fatalf("after ack the oldest is %d", old.Header.Seq)
	}
	st, _ := j.Stats()
	if st.Unacked != 2 || st.Pending != 0 {
		t.Fatalf("stats %+v", st)
	}
	// New events continue the chain after reopen.
	_ = j.Update(func(tx *Tx) error { _, err := tx.AppendEvent(hashOf(100), base, []byte(`{}`)); return err })
	b3, err := j.Seal("e1", key, 10)
	if err != nil || b3 == nil {
		t.Fatal(err)
	}
	if err := b3.Header.Follows(b2.Header); err != nil {
		t.Fatal(err)
	}
}

func TestDeadLettersAndRawDedupe(t *testing.T) {
	j := openT(t, t.TempDir())
	defer j.Close()
	h := sha256.Sum256([]byte("raw"))
	for i := range 2 {
		err := j.Update(func(tx *Tx) error {
			seen, err := tx.SeenRaw(h, 0)
			if err != nil {
				return err
			}
			if seen != (i == 1) {
				t.Fatalf("round %d: seen=%v", i, seen)
			}
			return tx.DeadLetter(DeadLetter{Topic: "x", Payload: []byte("bad"), Reason: "bad_json: nope", Index: -1})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	dl, err := j.DeadLetters(0, 10)
	if err != nil || len(dl) != 2 || dl[0].Reason != "bad_json: nope" || dl[1].Seq != dl[0].Seq+1 {
		t.Fatalf("dead letters %+v %v", dl, err)
	}
}

func TestDiskFullRefuses(t *testing.T) {
	j, err := Open(t.TempDir(), Options{MinFreeBytes: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.AppendInbox([]Raw{{Topic: "t"}}); err != ErrDiskFull {
		t.Fatalf("append on a full disk: %v, want ErrDiskFull", err)
	}
	if n, _ := j.ReadInbox(10); len(n) != 0 {
		t.Fatal("refused message was stored")
	}
}
