package chaincode

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tracegate/tracegate/ledger"
)

func wantCode(t *testing.T, what string, err error, code ledger.Code) *ledger.Error {
	t.Helper()
	var le *ledger.Error
	if !errors.As(err, &le) || le.Code != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
	return le
}

func TestStateWorldState(t *testing.T) {
	org := newTestOrg(t, "Org1MSP", "org1.example.com", "User1")
	d := newLedgerData()
	stub := d.tx(t, org.user("User1"))
	s := NewState(stub)

	if v, err := s.GetState("a/1"); v != nil || err != nil {
		t.Fatalf("absent key = %q, %v; want nil, nil", v, err)
	}
	for _, k := range []string{"a/1", "a/2", "a/3", "b/1"} {
		if err := s.PutState(k, []byte("v-"+k)); err != nil {
			t.Fatalf("PutState %s: %v", k, err)
		}
	}
	if v, err := s.GetState("a/2"); string(v) != "v-a/2" || err != nil {
		t.Fatalf("GetState = %q, %v", v, err)
	}
	if err := s.DelState("a/3"); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.kv["a/3"]; ok {
		t.Fatal("DelState did not reach the stub")
	}

	it, err := s.GetStateByRange("a/", "a0")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, kv.Key+"="+string(kv.Value))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "a/1=v-a/1" || keys[1] != "a/2=v-a/2" {
		t.Fatalf("range = %v", keys)
	}
	empty, err := s.GetStateByRange("b", "a")
	if err != nil || empty.HasNext() {
		t.Fatalf("reversed range: %v, has next %v", err, empty != nil && empty.HasNext())
	}
	if _, err := empty.Next(); err == nil {
		t.Fatal("Next on an empty range succeeded")
	}

	// The embedded backend's key rules, with its codes.
	wantCode(t, "empty key", func() error { _, err := s.GetState(""); return err }(), ledger.Invalid)
	wantCode(t, "0x00 key", s.PutState("\x00k", []byte("v")), ledger.Invalid)
	wantCode(t, "invalid UTF-8", s.DelState("\xff"), ledger.Invalid)
	wantCode(t, "empty value", s.PutState("k", nil), ledger.Invalid)
	wantCode(t, "range start", func() error { _, err := s.GetStateByRange("\x00", ""); return err }(), ledger.Invalid)

	// Peer failures are plain errors (the contract makes them Unavailable).
	stub.failWith = errors.New("peer went away")
	if _, err := s.GetState("a/1"); !errorsContain(err, "peer went away") || ledger.CodeOf(err) != "" {
		t.Fatalf("failing peer: %v", err)
	}
}

func TestStateTxMetadata(t *testing.T) {
	org := newTestOrg(t, "Org1MSP", "org1.example.com", "User1")
	stub := newLedgerData().tx(t, org.user("User1"))
	stub.txID = "abc123"
	at := time.Date(2026, 11, 25, 13, 14, 15, 123456789, time.FixedZone("CET", 3600))
	stub.ts = timestamppb.New(at)
	s := NewState(stub)

	if s.TxID() != "abc123" {
		t.Errorf("TxID = %q", s.TxID())
	}
	got, err := s.TxTime()
	if err != nil || !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("TxTime = %v, %v; want %v in UTC", got, err, at)
	}
	stub.ts = &timestamppb.Timestamp{Seconds: -1 << 62}
	if _, err := s.TxTime(); err == nil {
		t.Error("invalid timestamp accepted")
	}

	if err := s.SetEvent("First", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEvent("Second", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if stub.event != "Second" || string(stub.payload) != "2" {
		t.Errorf("event = %s %s; a second SetEvent replaces the first", stub.event, stub.payload)
	}
	wantCode(t, "empty event name", s.SetEvent("", nil), ledger.Invalid)
}

func TestStatePrivateData(t *testing.T) {
	org1 := newTestOrg(t, "Org1MSP", "org1.example.com", "User1")
	org2 := newTestOrg(t, "Org2MSP", "org2.example.com", "User1")
	d := newLedgerData()
	d.members["col"] = []string{"Org1MSP"}

	s := NewState(d.tx(t, org1.user("User1")))
	if v, err := s.GetPrivateData("col", "doc/k"); v != nil || err != nil {
		t.Fatalf("absent = %q, %v", v, err)
	}
	if err := s.PutPrivateData("col", "doc/k", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetPrivateData("col", "doc/k"); string(v) != "secret" || err != nil {
		t.Fatalf("GetPrivateData = %q, %v", v, err)
	}
	if err := s.DelPrivateData("col", "doc/k"); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.priv["col"]["doc/k"]; ok {
		t.Fatal("DelPrivateData did not reach the stub")
	}
	purge := d.tx(t, org1.admin)
	if err := NewState(purge).PurgePrivateData("col", "doc/k"); err != nil || len(purge.purged) != 1 {
		t.Fatalf("PurgePrivateData: %v (%v)", err, purge.purged)
	}
	wantCode(t, "empty private value", s.PutPrivateData("col", "k", nil), ledger.Invalid)
	wantCode(t, "private key with 0x00", s.PutPrivateData("col", "a\x00b", []byte("v")), ledger.Invalid)

	// A non-member: the peer's refusal becomes the embedded backend's
	// Forbidden, with its message.
	other := NewState(d.tx(t, org2.user("User1")))
	_, err := other.GetPrivateData("col", "doc/k")
	le := wantCode(t, "non-member reads", err, ledger.Forbidden)
	if le.Msg != "org Org2MSP is not a member of private data collection col" {
		t.Errorf("message %q", le.Msg)
	}
	wantCode(t, "non-member writes", other.PutPrivateData("col", "doc/k", []byte("x")), ledger.Forbidden)
	wantCode(t, "non-member deletes", other.DelPrivateData("col", "doc/k"), ledger.Forbidden)
	wantCode(t, "non-member purges", other.PurgePrivateData("col", "doc/k"), ledger.Forbidden)

	// An unknown collection is Invalid, as on the embedded backend.
	_, err = s.GetPrivateData("nosuch", "doc/k")
	le = wantCode(t, "unknown collection", err, ledger.Invalid)
	if le.Msg != `no private data collection "nosuch"` {
		t.Errorf("message %q", le.Msg)
	}
}
