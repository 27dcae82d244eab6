package chaincode

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/tracegate/tracegate/ledger"
)

// AdminOU is the organisational unit of an org admin's certificate under
// Fabric's NodeOUs (cryptogen and Fabric CA's default identifier).
const AdminOU = "admin"

// CallerOf maps an X.509 identity of MSP mspID to the Caller the contract
// sees. A certificate with the admin OU is the org's admin:
// Caller{User: "admin", Admin: true}. Any other certificate's user is its
// common name up to the first "@": cryptogen's "User1@org1.example.com" is
// "User1", a Fabric CA enrollment ID is itself. The contract then looks
// the user's role up in its own registry, as on the embedded backend.
//
// A non-admin certificate whose user would be "admin" is refused: the
// contract treats that name as the org's admin.
func CallerOf(mspID string, cert *x509.Certificate) (ledger.Caller, error) {
	if mspID == "" {
		return ledger.Caller{}, ledger.Errorf(ledger.Forbidden, "the caller's identity has no MSP ID")
	}
	if slices.Contains(cert.Subject.OrganizationalUnit, AdminOU) {
		return ledger.Caller{Org: mspID, User: ledger.AdminUser, Admin: true}, nil
	}
	user, _, _ := strings.Cut(cert.Subject.CommonName, "@")
	if user == "" {
		return ledger.Caller{}, ledger.Errorf(ledger.Forbidden, "the caller's certificate (MSP %s) has no common name to take the user name from", mspID)
	}
	if strings.EqualFold(user, ledger.AdminUser) {
		return ledger.Caller{}, ledger.Errorf(ledger.Forbidden,
			"the caller's certificate names user %q of MSP %s without the %q OU: only an admin certificate acts as the org's admin", cert.Subject.CommonName, mspID, AdminOU)
	}
	return ledger.Caller{Org: mspID, User: user}, nil
}

// callerOfCreator derives the Caller from the transaction's creator: a
// serialized MSP identity holding a PEM certificate.
func callerOfCreator(stub shim.ChaincodeStubInterface) (ledger.Caller, error) {
	raw, err := stub.GetCreator()
	if err != nil {
		return ledger.Caller{}, ledger.Errorf(ledger.Unavailable, "read the transaction creator: %v", err)
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(raw, &id); err != nil {
		return ledger.Caller{}, ledger.Errorf(ledger.Forbidden, "the transaction creator is not a serialized MSP identity: %v", err)
	}
	block, _ := pem.Decode(id.GetIdBytes())
	if block == nil || block.Type != "CERTIFICATE" {
		return ledger.Caller{}, ledger.Errorf(ledger.Forbidden, "the transaction creator (MSP %s) is not an X.509 certificate", id.GetMspid())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return ledger.Caller{}, ledger.Errorf(ledger.Forbidden, "the transaction creator's certificate (MSP %s): %v", id.GetMspid(), err)
	}
	return CallerOf(id.GetMspid(), cert)
}
