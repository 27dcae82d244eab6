package contract

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

const (
	mfr = "MakerMSP"
	wh  = "StoreMSP"
	col = "shared"
)

var (
	mfrAdmin = ledger.Caller{Org: mfr, User: "admin", Admin: true}
	mfrOp    = ledger.Caller{Org: mfr, User: "olivia"}
	whAdmin  = ledger.Caller{Org: wh, User: "admin", Admin: true}
	stranger = ledger.Caller{Org: "NobodyMSP", User: "x"}
)

// edgeKey is a fixed edge identity for seeded state.
var edgeKey = ed25519.NewKeyFromSeed(make([]byte, 32))

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func header(seq uint64, prev string) (string, string) {
	h := batch.Header{Edge: "edge-1", Seq: seq, Prev: prev, Count: 1, From: "2026-11-25T10:00:00.000Z", To: "2026-11-25T10:00:01.000Z",
		Root: strings.Repeat("ab", 32), Alg: batch.Alg}
	sig, err := h.Sign(edgeKey)
	if err != nil {
		panic(err)
	}
	return mustJSON(h), base64.StdEncoding.EncodeToString(sig)
}

// seeded returns a state with two orgs, a user, an edge, a product, a lot,
// an anchor and a private document, written through Invoke.
func seeded(t testing.TB) *memState {
	base := newMemState()
	base.members[col] = []string{mfr, wh}
	steps := []struct {
		as   ledger.Caller
		fn   string
		args []string
	}{
		{mfrAdmin, ledger.FnRegisterOrg, []string{mustJSON(ledger.Org{ID: mfr, Name: "Maker", Kind: ledger.OrgManufacturer})}},
		{whAdmin, ledger.FnRegisterOrg, []string{mustJSON(ledger.Org{ID: wh, Name: "Store", Kind: ledger.OrgWarehouse})}},
		{mfrAdmin, ledger.FnRegisterUser, []string{mustJSON(ledger.User{Org: mfr, ID: "olivia", Role: ledger.RoleOperator})}},
		{mfrOp, ledger.FnRegisterDevice, []string{mustJSON(ledger.Device{ID: "edge-1", Org: mfr, Kind: ledger.DeviceEdge,
			PublicKey: base64.StdEncoding.EncodeToString(edgeKey.Public().(ed25519.PublicKey))})}},
		{mfrAdmin, ledger.FnRegisterProduct, []string{mustJSON(ledger.Product{GTIN: "04012345000016", Name: "Mask", Org: mfr, Kind: "ppe"})}},
		{mfrOp, ledger.FnRegisterLot, []string{mustJSON(ledger.Lot{GTIN: "04012345000016", Lot: "L1", Quantity: 10, ProducedAt: "2026-01-01", Expiry: "2027-01-01"})}},
		{mfrOp, ledger.FnPutPrivate, []string{col, "k", `{"a":1}`}},
	}
	h0, s0 := header(0, "")
	steps = append(steps, struct {
		as   ledger.Caller
		fn   string
		args []string
	}{mfrOp, ledger.FnAnchorBatch, []string{h0, s0}})
	for i, st := range steps {
		s := base.fork(st.as, "seed-"+string(rune('a'+i)))
		if _, err := Invoke(s, st.fn, st.args); err != nil {
			t.Fatalf("seed %s: %v", st.fn, err)
		}
		s.caller = ledger.Caller{}
		base = s
	}
	return base
}

func TestGS1CheckDigit(t *testing.T) {
	for _, c := range []struct {
		s  string
		ok bool
	}{
		{"04012345000016", true}, // computed by hand: weights 3,1 from the right
		{"04012345000017", false},
		{"4012345000009", true}, // GLN
		{"0401234500001a", false},
		{"", false},
	} {
		if got := gs1CheckDigitOK(c.s); got != c.ok {
			t.Errorf("gs1CheckDigitOK(%q) = %v", c.s, got)
		}
	}
}

func TestKeyLayout(t *testing.T) {
	if got := prefixEnd("org/"); got != "org0" {
		t.Fatalf("prefixEnd = %q", got)
	}
	// Zero-padded sequence numbers sort numerically.
	if !(anchorKey("e", 9) < anchorKey("e", 10) && anchorKey("e", 10) < anchorKey("e", 1<<63)) {
		t.Fatal("anchor keys do not sort by seq")
	}
	if k := anchorKey("e", ^uint64(0)); len(k) != len("anchor/e/")+20 {
		t.Fatalf("max seq key %q", k)
	}
	// One edge's range does not include another edge whose ID extends it.
	if k := anchorKey("e-2", 0); k >= anchorsPrefix("e") && k < prefixEnd(anchorsPrefix("e")) {
		t.Fatal("edge e's range includes edge e-2")
	}
	for _, f := range Functions() {
		if strings.HasPrefix(f.Name, "\x00") {
			t.Fatal("composite-key style name")
		}
	}
}

func TestFunctionsTable(t *testing.T) {
	fs := Functions()
	if len(fs) == 0 {
		t.Fatal("no functions")
	}
	for i, f := range fs {
		if i > 0 && fs[i-1].Name >= f.Name {
			t.Fatalf("not sorted: %s, %s", fs[i-1].Name, f.Name)
		}
		want := strings.HasPrefix(f.Name, "Get") || strings.HasPrefix(f.Name, "List") || f.Name == ledger.FnLatestAnchor || f.Name == ledger.FnWhoami || f.Name == ledger.FnCheckGrant
		if f.ReadOnly != want {
			t.Errorf("%s: ReadOnly = %v", f.Name, f.ReadOnly)
		}
	}
	if fi, ok := Lookup(ledger.FnPutPrivate); !ok || len(fi.PrivateArgs) != 2 {
		t.Errorf("PutPrivate info %+v", fi)
	}
}

// TestWriteDiscipline: every write emits exactly one event, a repeat
// writes nothing and emits nothing, and times come from TxTime.
func TestWriteDiscipline(t *testing.T) {
	base := seeded(t)
	h1, s1 := header(1, anchorHash(t, base, 0))
	s := base.fork(mfrOp, "t1")
	out, err := Invoke(s, ledger.FnAnchorBatch, []string{h1, s1})
	if err != nil {
		t.Fatal(err)
	}
	if s.events != 1 || s.event != ledger.EvBatchAnchored || s.writes != 2 {
		t.Fatalf("anchor: %d events (%s), %d writes", s.events, s.event, s.writes)
	}
	var a ledger.Anchor
	if err := json.Unmarshal(out, &a); err != nil || !a.AnchoredAt.Equal(s.now) || a.TxID != "t1" {
		t.Fatalf("anchor %+v (%v)", a, err)
	}
	again := s.fork(mfrOp, "t2")
	out2, err := Invoke(again, ledger.FnAnchorBatch, []string{h1, s1})
	if err != nil || again.writes != 0 || again.events != 0 || string(out2) != string(out) {
		t.Fatalf("repeat: %v, %d writes, %d events, %s", err, again.writes, again.events, out2)
	}
}

func anchorHash(t *testing.T, s *memState, seq uint64) string {
	var a ledger.Anchor
	if err := json.Unmarshal(s.kv[anchorKey("edge-1", seq)], &a); err != nil {
		t.Fatal(err)
	}
	return a.HeaderHash
}

func TestErrorsAreLedgerErrors(t *testing.T) {
	base := seeded(t)
	for _, c := range []struct {
		as   ledger.Caller
		fn   string
		args []string
		code ledger.Code
	}{
		{mfrAdmin, "Nope", nil, ledger.Invalid},
		{stranger, ledger.FnListOrgs, nil, ledger.Forbidden},
		{whAdmin, ledger.FnGetDevice, []string{"edge-9"}, ledger.NotFound},
		{whAdmin, ledger.FnPutPrivate, []string{col, "k", "{}"}, ledger.Forbidden}, // another member's document
		{whAdmin, ledger.FnGetAnchor, []string{"edge-1", "x"}, ledger.Invalid},
	} {
		_, err := Invoke(base.fork(c.as, "x"), c.fn, c.args)
		var le *ledger.Error
		if !errors.As(err, &le) || le.Code != c.code {
			t.Errorf("%s as %v: %v, want %s", c.fn, c.as, err, c.code)
		}
	}
}

// FuzzInvoke throws random function names, arguments and callers at the
// contract on a seeded state: it must never panic, must answer with a
// *ledger.Error of a permanent code, read-only functions must not write,
// and a write must emit exactly one event.
func FuzzInvoke(f *testing.F) {
	h1, s1 := header(1, "")
	for _, fi := range Functions() {
		f.Add(fi.Name, "", "", "", uint8(0), uint8(0))
	}
	f.Add(ledger.FnAnchorBatch, h1, s1, "", uint8(2), uint8(1))
	f.Add(ledger.FnRegisterOrg, mustJSON(ledger.Org{ID: mfr, Name: "M2", Kind: ledger.OrgManufacturer}), "", "", uint8(1), uint8(0))
	f.Add(ledger.FnRegisterDevice, `{"id":"e2","org":"MakerMSP","publicKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","kind":"edge"}`, "", "", uint8(1), uint8(1))
	f.Add(ledger.FnRegisterLot, `{"gtin":"04012345000016","lot":"L2","quantity":1,"producedAt":"2026-01-01","expiry":"2026-01-01"}`, "", "", uint8(1), uint8(1))
	f.Add(ledger.FnRegisterProduct, `{"gtin":"04012345000023","name":"x","org":"MakerMSP","kind":"ppe","profile":{"minC":2,"maxC":8}}`, "", "", uint8(1), uint8(0))
	f.Add(ledger.FnPutPrivate, col, "k", `{"b":[1,2]}`, uint8(3), uint8(2))
	f.Add(ledger.FnPurgePrivate, col, "k", "", uint8(2), uint8(0))
	f.Add(ledger.FnListAnchors, "edge-1", "0", "5", uint8(3), uint8(3))
	f.Add(ledger.FnGetLot, "04012345000016", "L1", "", uint8(2), uint8(3))
	f.Add(ledger.FnRegisterUser, `{"org":"MakerMSP","id":"admin","role":"quality"}`, "", "", uint8(1), uint8(0))

	base := seeded(f)
	callers := []ledger.Caller{mfrAdmin, mfrOp, whAdmin, stranger, {Org: mfr, User: "unregistered"}, {}}
	f.Fuzz(func(t *testing.T, fn, a0, a1, a2 string, nargs, who uint8) {
		args := []string{a0, a1, a2}[:int(nargs)%4]
		s := base.fork(callers[int(who)%len(callers)], "fuzz")
		info, known := Lookup(fn)
		s.readOnly = known && info.ReadOnly
		out, err := Invoke(s, fn, args)
		if err != nil {
			var le *ledger.Error
			if !errors.As(err, &le) {
				t.Fatalf("%s: %T %v is not a *ledger.Error", fn, err, err)
			}
			if le.Code == ledger.Unavailable {
				t.Fatalf("%s: Unavailable from a healthy state: %v", fn, err)
			}
			var back *ledger.Error
			if !errors.As(ledger.ParseError(err.Error()), &back) || back.Code != le.Code {
				t.Fatalf("%q does not parse back", err.Error())
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s returned invalid JSON %q", fn, out)
		}
		if s.writes > 0 && s.events != 1 || s.writes == 0 && s.events != 0 {
			t.Fatalf("%s: %d writes, %d events", fn, s.writes, s.events)
		}
	})
}
