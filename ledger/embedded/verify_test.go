package embedded

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/tracegate/tracegate/ledger"
)

// tamper builds a small ledger in a fresh directory, closes it, changes
// the database behind the ledger's back with change, and returns the
// reopened ledger.
func tamper(t *testing.T, change func(t *testing.T, txn *badger.Txn)) *Ledger {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(dir, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	populate(t, l, "edge-v", 3)
	c := ledger.Client{L: l}
	if _, err := c.RegisterOrg(ctxT(t), admin(orgWarehouse), ledger.Org{ID: orgWarehouse, Name: "W", Kind: ledger.OrgWarehouse}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutPrivate(ctxT(t), admin(orgMfr), collection, "doc-1", json.RawMessage(`{"secret":"s3cr3t"}`)); err != nil {
		t.Fatal(err)
	}
	if rep, err := l.Verify(ctxT(t)); err != nil {
		t.Fatalf("Verify before tampering: %v (%+v)", err, rep)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { change(t, txn); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openTest(t, dir, testConfig())
}

func getRaw(t *testing.T, txn *badger.Txn, key []byte) []byte {
	t.Helper()
	item, err := txn.Get(key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// replaceIn rewrites the first occurrence of old in key's value.
func replaceIn(t *testing.T, txn *badger.Txn, key []byte, old, new string) {
	t.Helper()
	v := getRaw(t, txn, key)
	if !bytes.Contains(v, []byte(old)) {
		t.Fatalf("%q not in %q: %s", old, key, v)
	}
	if err := txn.Set(key, bytes.Replace(v, []byte(old), []byte(new), 1)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	// The populated chain: block 1 RegisterOrg, 2 RegisterDevice, 3-5
	// anchors, 6 RegisterOrg (warehouse), 7 PutPrivate.
	cases := []struct {
		name   string
		change func(t *testing.T, txn *badger.Txn)
		block  uint64
		tx     int
		key    string
		msg    string
	}{
		{"transaction argument in a block", func(t *testing.T, txn *badger.Txn) {
			replaceIn(t, txn, blockKey(3), `\"seq\":0`, `\"seq\":7`)
		}, 3, 0, "", "does not match its content"},
		{"block time (outside any signature)", func(t *testing.T, txn *badger.Txn) {
			replaceIn(t, txn, blockKey(4), `"time":"20`, `"time":"19`)
		}, 4, -1, "", "hashes to"},
		{"last block", func(t *testing.T, txn *badger.Txn) {
			replaceIn(t, txn, blockKey(7), `"time":"20`, `"time":"19`)
		}, 7, -1, "", "chain head"},
		{"recorded write set", func(t *testing.T, txn *badger.Txn) {
			b := getRaw(t, txn, blockKey(2))
			var blk Block
			if err := json.Unmarshal(b, &blk); err != nil {
				t.Fatal(err)
			}
			blk.Txs[0].Writes[0].Value = append(blk.Txs[0].Writes[0].Value, ' ')
			raw, _ := json.Marshal(blk)
			if err := txn.Set(blockKey(2), raw); err != nil {
				t.Fatal(err)
			}
		}, 2, 0, "", "write set"},
		{"state value", func(t *testing.T, txn *badger.Txn) {
			replaceIn(t, txn, stateKey("device/edge-v"), `"kind":"edge"`, `"kind":"edgy"`)
		}, 2, 0, "device/edge-v", "differs"},
		{"state key added", func(t *testing.T, txn *badger.Txn) {
			if err := txn.Set(stateKey("org/EvilMSP"), []byte(`{"id":"EvilMSP"}`)); err != nil {
				t.Fatal(err)
			}
		}, 7, -1, "org/EvilMSP", "never written"},
		{"state key deleted", func(t *testing.T, txn *badger.Txn) {
			if err := txn.Delete(stateKey("anchor/edge-v/00000000000000000001")); err != nil {
				t.Fatal(err)
			}
		}, 4, 0, "anchor/edge-v/00000000000000000001", "missing"},
		{"private value", func(t *testing.T, txn *badger.Txn) {
			replaceIn(t, txn, privateKey(collection, "doc/doc-1"), "s3cr3t", "s3cr3T")
		}, 7, 0, "", "private data"},
		{"transaction index", func(t *testing.T, txn *badger.Txn) {
			b, _ := readBlock(txn, 5)
			if err := txn.Delete(txKey(b.Txs[0].Tx.ID)); err != nil {
				t.Fatal(err)
			}
		}, 5, 0, "", "no index entry"},
		{"genesis membership", func(t *testing.T, txn *badger.Txn) {
			replaceIn(t, txn, blockKey(0), `"org":"HospitalMSP"`, `"org":"HospitalMSQ"`)
		}, 0, -1, "", "hashes to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := tamper(t, tc.change)
			rep, err := l.Verify(ctxT(t))
			if !errors.Is(err, ErrCorrupt) || rep.Problem == nil {
				t.Fatalf("Verify = %v, report %+v", err, rep)
			}
			p := rep.Problem
			if p.Block != tc.block || p.Tx != tc.tx || p.Key != tc.key || !strings.Contains(p.Msg, tc.msg) {
				t.Fatalf("problem %s; want block %d tx %d key %q with %q", p, tc.block, tc.tx, tc.key, tc.msg)
			}
			t.Logf("found: %s", p)
		})
	}
}

func TestVerifyCleanLedger(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig())
	populate(t, l, "edge-ok", 4)
	rep, err := l.Verify(ctxT(t))
	if err != nil || rep.Problem != nil {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
	if rep.Height != 6 || rep.Blocks != 7 || rep.Txs != 6 || rep.Events != 6 || rep.StateKeys != 7 || rep.ConfigBlocks != 1 {
		t.Fatalf("report %+v", rep)
	}
	b, err := l.Block(rep.Height)
	if err != nil || b.Hash != rep.HeadHash {
		t.Fatalf("Block(head).Hash = %s, report head %s (%v)", b.Hash, rep.HeadHash, err)
	}
}

// TestConcurrentSubmits anchors on many edges at once: every submit commits
// exactly once, blocks stay a valid chain, and grouping shares blocks.
func TestConcurrentSubmits(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig())
	c := ledger.Client{L: l}
	if _, err := c.RegisterOrg(ctxT(t), admin(orgMfr), ledger.Org{ID: orgMfr, Name: "M", Kind: ledger.OrgManufacturer}); err != nil {
		t.Fatal(err)
	}
	const workers, per = 8, 15
	var wg sync.WaitGroup
	txs := make(chan string, workers*(per+1))
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			e := newEdgeFor(t, l, fmt.Sprintf("edge-c%d", w))
			hs, sigs := e.Chain(per)
			for i := range hs {
				_, res, err := c.AnchorBatch(ctxT(t), admin(orgMfr), hs[i], sigs[i])
				if err != nil {
					errs <- fmt.Errorf("worker %d seq %d: %w", w, i, err)
					return
				}
				txs <- res.TxID
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	close(txs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for tx := range txs {
		if seen[tx] {
			t.Fatalf("transaction %s reported twice", tx)
		}
		seen[tx] = true
		if _, err := l.Transaction(ctxT(t), tx); err != nil {
			t.Fatalf("Transaction(%s): %v", tx, err)
		}
	}
	rep, err := l.Verify(ctxT(t))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	wantTxs := 1 + workers + workers*per
	if rep.Txs != wantTxs {
		t.Fatalf("%d transactions on the chain, want %d", rep.Txs, wantTxs)
	}
	t.Logf("%d transactions in %d blocks", rep.Txs, rep.Blocks-1)
}

func newEdgeFor(t *testing.T, l *Ledger, id string) edgeT {
	t.Helper()
	e := newEdge(id)
	if _, err := (ledger.Client{L: l}).RegisterDevice(ctxT(t), admin(orgMfr), e.Device(orgMfr)); err != nil {
		t.Error(err)
	}
	return e
}

// TestPrivateDataStaysOffChain checks that private values never reach a
// block, and that a purge removes every stored version.
func TestPrivateDataStaysOffChain(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testConfig())
	c := ledger.Client{L: l}
	for _, o := range []ledger.Org{{ID: orgMfr, Name: "M", Kind: ledger.OrgManufacturer}, {ID: orgWarehouse, Name: "W", Kind: ledger.OrgWarehouse}} {
		if _, err := c.RegisterOrg(ctxT(t), admin(o.ID), o); err != nil {
			t.Fatal(err)
		}
	}
	const secretKey, secret = "claim-4711", "patient-zero"
	for i := 0; i < 3; i++ {
		if _, err := c.PutPrivate(ctxT(t), admin(orgMfr), collection, secretKey, json.RawMessage(fmt.Sprintf(`{"who":"%s","v":%d}`, secret, i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutPrivate(ctxT(t), admin(orgMfr), collection, "other", json.RawMessage(`{"keep":true}`)); err != nil {
		t.Fatal(err)
	}
	for n := uint64(0); n <= l.Height(); n++ {
		err := l.db.View(func(txn *badger.Txn) error {
			raw, err := readBlockBytes(txn, n)
			if err != nil {
				return err
			}
			if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(secretKey)) {
				t.Errorf("block %d holds private data: %s", n, raw)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PurgePrivate(ctxT(t), admin(orgMfr), collection, secretKey); err != nil {
		t.Fatal(err)
	}
	err := l.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.AllVersions = true
		opts.Prefix = privateKey(collection, "doc/"+secretKey)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			t.Errorf("a version of the purged value survives (version %d)", it.Item().Version())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := c.Private(ctxT(t), admin(orgWarehouse), collection, "other"); err != nil || !strings.Contains(string(rec.Value), "keep") {
		t.Fatalf("purge removed a neighbour: %+v %v", rec, err)
	}
	if rep, err := l.Verify(ctxT(t)); err != nil || rep.PrivateKeys != 1 {
		t.Fatalf("Verify after purge: %v (%+v)", err, rep)
	}
}

// TestPurgeFinishesAfterCrash: a purge marker left by a crash between the
// commit and the physical removal is removed by the next Open.
func TestPurgeFinishesAfterCrash(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	k := privateKey(collection, "doc/x")
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{[]byte(`{"old":1}`), {}} {
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) }); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	l = openTest(t, dir, testConfig())
	err = l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: k, AllVersions: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			t.Errorf("version %d of a purged key survives reopening", it.Item().Version())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
