package fabric

import (
	"slices"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/chaincode"
	"github.com/tracegate/tracegate/ledger/contract"
)

// proposal builds fn(args) as identity admin@Org1MSP and decodes what the
// peers would receive: the public arguments, the transient data and the
// endorsing organisations.
func proposal(t *testing.T, l *Ledger, fn string, args ...string) (public []string, transient map[string][]byte, endorsers []string) {
	t.Helper()
	s := l.signers[ledger.Identity{Org: "Org1MSP", User: "admin"}]
	prop, err := s.contract.NewProposal(fn, l.proposalOptions(fn, args)...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := prop.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var pt gateway.ProposedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		t.Fatal(err)
	}
	var p peer.Proposal
	if err := proto.Unmarshal(pt.GetProposal().GetProposalBytes(), &p); err != nil {
		t.Fatal(err)
	}
	var payload peer.ChaincodeProposalPayload
	if err := proto.Unmarshal(p.GetPayload(), &payload); err != nil {
		t.Fatal(err)
	}
	var spec peer.ChaincodeInvocationSpec
	if err := proto.Unmarshal(payload.GetInput(), &spec); err != nil {
		t.Fatal(err)
	}
	for _, a := range spec.GetChaincodeSpec().GetInput().GetArgs() {
		public = append(public, string(a))
	}
	return public, payload.GetTransientMap(), pt.GetEndorsingOrganizations()
}

func TestProposalCarriesPrivateArgumentsAsTransientData(t *testing.T) {
	cfg := newCryptoDir(t).config()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	public, transient, endorsers := proposal(t, l, ledger.FnPutPrivate, "col", "policy-7", `{"premium":1200}`)
	if !slices.Equal(public, []string{ledger.FnPutPrivate, "col", "", ""}) {
		t.Errorf("public arguments %q: the key and the value must not be in the proposal", public)
	}
	if string(transient[chaincode.TransientKey(1)]) != "policy-7" || string(transient[chaincode.TransientKey(2)]) != `{"premium":1200}` || len(transient) != 2 {
		t.Errorf("transient %q", transient)
	}
	if !slices.Equal(endorsers, []string{"Org1MSP", "Org2MSP"}) {
		t.Errorf("endorsers %v, want the collection's members", endorsers)
	}

	public, transient, endorsers = proposal(t, l, ledger.FnGetPrivate, "col", "policy-7")
	if !slices.Equal(public, []string{ledger.FnGetPrivate, "col", ""}) || string(transient["arg1"]) != "policy-7" || len(endorsers) != 2 {
		t.Errorf("GetPrivate: %q %q %v", public, transient, endorsers)
	}
	// A collection the config does not name: the Fabric gateway chooses
	// (and protects the transient data itself).
	if _, _, endorsers = proposal(t, l, ledger.FnDeletePrivate, "other", "k"); len(endorsers) != 0 {
		t.Errorf("unconfigured collection endorsers %v", endorsers)
	}
	// Too few arguments stay too few, for the contract to refuse.
	if public, transient, _ = proposal(t, l, ledger.FnPutPrivate, "col"); !slices.Equal(public, []string{ledger.FnPutPrivate, "col"}) || len(transient) != 0 {
		t.Errorf("short PutPrivate: %q %q", public, transient)
	}
	// Public functions: arguments as given, no transient data, the
	// gateway picks the endorsers.
	public, transient, endorsers = proposal(t, l, ledger.FnGetAnchor, "edge-1", "0")
	if !slices.Equal(public, []string{ledger.FnGetAnchor, "edge-1", "0"}) || len(transient) != 0 || len(endorsers) != 0 {
		t.Errorf("GetAnchor: %q %q %v", public, transient, endorsers)
	}
}

// TestEveryPrivateFunctionNamesItsCollection keeps collectionArg in step
// with the contract: a function with private arguments must be endorsed by
// its collection's members only.
func TestEveryPrivateFunctionNamesItsCollection(t *testing.T) {
	for _, f := range contract.Functions() {
		_, named := collectionArg[f.Name]
		_, fixed := fixedCollection[f.Name]
		if len(f.PrivateArgs) > 0 && !named && !fixed {
			t.Errorf("%s has private arguments but no entry in collectionArg or fixedCollection", f.Name)
		}
	}
}
