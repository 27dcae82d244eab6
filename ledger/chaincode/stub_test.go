package chaincode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeStub is a map-backed shim.ChaincodeStubInterface with the peer's
// behaviour where the adapter depends on it: private data refused to
// non-members with the peer's messages, unknown collections refused.
// Unlike a peer, writes are visible at once. Methods the adapter does not
// use panic (the embedded nil interface).
type fakeStub struct {
	shim.ChaincodeStubInterface

	args      []string
	creator   []byte
	mspID     string
	transient map[string][]byte
	txID      string
	ts        *timestamppb.Timestamp

	kv       map[string][]byte
	priv     map[string]map[string][]byte
	members  map[string][]string // collection → member MSP IDs
	purged   []string
	event    string
	payload  []byte
	failWith error // returned by every state call when set
	panicOn  string
}

// ledgerData is the world state shared by the transactions of a test.
type ledgerData struct {
	kv      map[string][]byte
	priv    map[string]map[string][]byte
	members map[string][]string
}

func newLedgerData() *ledgerData {
	return &ledgerData{kv: map[string][]byte{}, priv: map[string]map[string][]byte{}, members: map[string][]string{}}
}

// tx returns a stub for one transaction on d, by creator, calling args.
func (d *ledgerData) tx(t *testing.T, creator testIdentity, args ...string) *fakeStub {
	t.Helper()
	return &fakeStub{
		args: args, creator: creator.serialized(t), mspID: creator.mspID, transient: map[string][]byte{},
		txID: fmt.Sprintf("tx-%d", time.Now().UnixNano()), ts: timestamppb.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)),
		kv: d.kv, priv: d.priv, members: d.members,
	}
}

func (s *fakeStub) fail(op string) error {
	if s.panicOn == op {
		panic("fake stub: " + op)
	}
	return s.failWith
}

func (s *fakeStub) GetArgs() [][]byte {
	out := make([][]byte, len(s.args))
	for i, a := range s.args {
		out[i] = []byte(a)
	}
	return out
}
func (s *fakeStub) GetStringArgs() []string { return slices.Clone(s.args) }
func (s *fakeStub) GetFunctionAndParameters() (string, []string) {
	if len(s.args) == 0 {
		return "", nil
	}
	return s.args[0], slices.Clone(s.args[1:])
}
func (s *fakeStub) GetTxID() string                                 { return s.txID }
func (s *fakeStub) GetChannelID() string                            { return "testchannel" }
func (s *fakeStub) GetCreator() ([]byte, error)                     { return s.creator, nil }
func (s *fakeStub) GetTransient() (map[string][]byte, error)        { return s.transient, nil }
func (s *fakeStub) GetTxTimestamp() (*timestamppb.Timestamp, error) { return s.ts, nil }
func (s *fakeStub) GetDecorations() map[string][]byte               { return nil }

func (s *fakeStub) GetState(key string) ([]byte, error) {
	if err := s.fail("GetState"); err != nil {
		return nil, err
	}
	return s.kv[key], nil
}
func (s *fakeStub) PutState(key string, value []byte) error {
	if err := s.fail("PutState"); err != nil {
		return err
	}
	s.kv[key] = value
	return nil
}
func (s *fakeStub) DelState(key string) error {
	if err := s.fail("DelState"); err != nil {
		return err
	}
	delete(s.kv, key)
	return nil
}
func (s *fakeStub) GetStateByRange(start, end string) (shim.StateQueryIteratorInterface, error) {
	if err := s.fail("GetStateByRange"); err != nil {
		return nil, err
	}
	var kvs []*queryresult.KV
	for k, v := range s.kv {
		if k >= start && (end == "" || k < end) {
			kvs = append(kvs, &queryresult.KV{Key: k, Value: v})
		}
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return &fakeIter{kvs: kvs}, nil
}

// access mimics the peer's memberOnlyRead/memberOnlyWrite checks.
func (s *fakeStub) access(collection, mode string) error {
	members, ok := s.members[collection]
	if !ok {
		return fmt.Errorf("collection testchannel/tracegate/%s could not be found", collection)
	}
	if !slices.Contains(members, s.mspID) {
		return fmt.Errorf("tx creator does not have %s access permission on privatedata in chaincodeName:tracegate collectionName: %s", mode, collection)
	}
	return nil
}

func (s *fakeStub) GetPrivateData(collection, key string) ([]byte, error) {
	if err := s.access(collection, "read"); err != nil {
		return nil, err
	}
	return s.priv[collection][key], nil
}
func (s *fakeStub) PutPrivateData(collection, key string, value []byte) error {
	if err := s.access(collection, "write"); err != nil {
		return err
	}
	if s.priv[collection] == nil {
		s.priv[collection] = map[string][]byte{}
	}
	s.priv[collection][key] = value
	return nil
}
func (s *fakeStub) DelPrivateData(collection, key string) error {
	if err := s.access(collection, "write"); err != nil {
		return err
	}
	delete(s.priv[collection], key)
	return nil
}
func (s *fakeStub) PurgePrivateData(collection, key string) error {
	if err := s.access(collection, "write"); err != nil {
		return err
	}
	delete(s.priv[collection], key)
	s.purged = append(s.purged, collection+"/"+key)
	return nil
}
func (s *fakeStub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("event name can not be empty string")
	}
	s.event, s.payload = name, payload
	return nil
}

type fakeIter struct {
	kvs    []*queryresult.KV
	i      int
	closed bool
}

func (it *fakeIter) HasNext() bool { return it.i < len(it.kvs) }
func (it *fakeIter) Next() (*queryresult.KV, error) {
	if it.i >= len(it.kvs) {
		return nil, errors.New("no more")
	}
	it.i++
	return it.kvs[it.i-1], nil
}
func (it *fakeIter) Close() error { it.closed = true; return nil }

// testCA issues cryptogen-style certificates: EC P-256, NodeOUs in the
// subject's OU ("admin", "client", "peer").
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, domain string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca." + domain, Organization: []string{domain}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue returns a certificate for cn with the NodeOU ou, as cryptogen
// writes them: CN "User1@org1.example.com", OU "client"; CN
// "Admin@org1.example.com", OU "admin".
func (ca *testCA) issue(t testing.TB, cn, ou string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}, Country: []string{"US"}, Locality: []string{"San Francisco"}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// testIdentity is a creator: an MSP ID and a certificate.
type testIdentity struct {
	mspID string
	cert  *x509.Certificate
}

func (id testIdentity) serialized(t testing.TB) []byte {
	t.Helper()
	raw, err := proto.Marshal(&msp.SerializedIdentity{Mspid: id.mspID, IdBytes: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.cert.Raw})})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// testOrg is a cryptogen-like organisation with an admin and users.
type testOrg struct {
	mspID string
	admin testIdentity
	users map[string]testIdentity
}

func newTestOrg(t testing.TB, mspID, domain string, users ...string) testOrg {
	ca := newTestCA(t, domain)
	adm, _ := ca.issue(t, "Admin@"+domain, "admin")
	o := testOrg{mspID: mspID, admin: testIdentity{mspID, adm}, users: map[string]testIdentity{}}
	for _, u := range users {
		c, _ := ca.issue(t, u+"@"+domain, "client")
		o.users[u] = testIdentity{mspID, c}
	}
	return o
}

func (o testOrg) user(name string) testIdentity { return o.users[name] }

// errorsContain reports whether err's text contains all of want.
func errorsContain(err error, want ...string) bool {
	if err == nil {
		return false
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			return false
		}
	}
	return true
}

// testIdentityRaw serializes an MSP identity with arbitrary ID bytes.
func testIdentityRaw(t testing.TB, mspID string, idBytes []byte) []byte {
	t.Helper()
	raw, err := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: idBytes})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
