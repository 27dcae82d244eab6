package fabric

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/tracegate/tracegate/ledger"
)

// rpcErr builds a gateway error the way the Fabric gateway does: a status
// with one ErrorDetail per peer.
func rpcErr(t *testing.T, code codes.Code, msg string, peers ...*gateway.ErrorDetail) error {
	t.Helper()
	st := status.New(code, msg)
	if len(peers) > 0 {
		var details []protoadapt.MessageV1
		for _, p := range peers {
			details = append(details, protoadapt.MessageV1Of(p))
		}
		var err error
		if st, err = st.WithDetails(details...); err != nil {
			t.Fatal(err)
		}
	}
	return st.Err()
}

func TestClassify(t *testing.T) {
	mfr := func(msg string) *gateway.ErrorDetail {
		return &gateway.ErrorDetail{Address: "127.0.0.1:7051", MspId: "ManufacturerMSP", Message: msg}
	}
	wh := func(msg string) *gateway.ErrorDetail {
		return &gateway.ErrorDetail{Address: "127.0.0.1:9051", MspId: "WarehouseMSP", Message: msg}
	}
	for _, c := range []struct {
		what  string
		err   error
		code  ledger.Code
		msg   string // exact for contract errors, else a substring
		retry bool
	}{
		{"contract refusal at endorsement",
			rpcErr(t, codes.Aborted, "failed to endorse transaction, see attached details for more info", mfr("chaincode response 500, Forbidden: register org A: org B may not act for org A")),
			ledger.Forbidden, "register org A: org B may not act for org A", false},
		{"contract refusal by the second endorser",
			rpcErr(t, codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info", wh("chaincode response 500, Conflict: device d is registered to org X")),
			ledger.Conflict, "device d is registered to org X", false},
		{"contract refusal at evaluation",
			rpcErr(t, codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, NotFound: edge e has no anchors", mfr("chaincode response 500, NotFound: edge e has no anchors")),
			ledger.NotFound, "edge e has no anchors", false},
		{"chaincode unreachable",
			rpcErr(t, codes.Aborted, "failed to endorse transaction, see attached details for more info", mfr("error in simulation: could not launch chaincode tracegate_1.0:ab: connection refused")),
			ledger.Unavailable, "127.0.0.1:7051 (ManufacturerMSP): error in simulation: could not launch chaincode", true},
		{"endorsements that differ (a lagging peer)",
			rpcErr(t, codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info", wh("ProposalResponsePayloads do not match")),
			ledger.Unavailable, "WarehouseMSP", true},
		{"orderer down",
			rpcErr(t, codes.Unavailable, "no orderers could successfully process transaction", &gateway.ErrorDetail{Address: "127.0.0.1:7050", MspId: "OrdererMSP", Message: "rpc error: code = Unavailable desc = connection refused"}),
			ledger.Unavailable, "127.0.0.1:7050 (OrdererMSP)", true},
		{"no Raft leader", rpcErr(t, codes.Aborted, "received unsuccessful response from orderer: status=SERVICE_UNAVAILABLE, info=no Raft leader"),
			ledger.Unavailable, "SERVICE_UNAVAILABLE", true},
		{"gossip not ready", rpcErr(t, codes.FailedPrecondition, "no combination of peers can be derived which satisfy the endorsement policy"),
			ledger.Unavailable, "no combination of peers", true},
		{"gateway timeout", rpcErr(t, codes.DeadlineExceeded, "endorsement timeout expired while collecting first endorsement"),
			ledger.Unavailable, "timeout", true},
		{"channel ACL", rpcErr(t, codes.Aborted, "failed to endorse transaction, see attached details for more info", mfr("access denied: channel [tracegate] creator org unknown, creator is malformed")),
			ledger.Forbidden, "access denied", false},
		{"permission denied", rpcErr(t, codes.PermissionDenied, "implicit policy evaluation failed"), ledger.Forbidden, "implicit policy", false},
		{"malformed request", rpcErr(t, codes.InvalidArgument, "failed to unpack transaction proposal"), ledger.Invalid, "unpack", false},
		{"channel unknown", rpcErr(t, codes.NotFound, "channel nosuch not found"), ledger.Unavailable, "channel nosuch", false},
		{"chaincode error without a code", rpcErr(t, codes.Aborted, "failed to endorse transaction", mfr("chaincode response 500, Contract not found with name x")),
			ledger.Unavailable, "Contract not found", false},
	} {
		t.Run(c.what, func(t *testing.T) {
			err, retry := classify(context.Background(), "endorse", "RegisterOrg", "tx1", c.err)
			var le *ledger.Error
			if !errors.As(err, &le) || le.Code != c.code {
				t.Fatalf("got %v, want code %s", err, c.code)
			}
			if retry != c.retry {
				t.Errorf("retry = %v, want %v", retry, c.retry)
			}
			var ge *GatewayError
			if !errors.As(err, &ge) || ge.TxID != "tx1" || ge.Stage != "endorse" {
				t.Errorf("cause %#v", ge)
			}
			contract := strings.HasPrefix(c.what, "contract refusal")
			if contract && le.Msg != c.msg || !contract && !strings.Contains(le.Msg, c.msg) {
				t.Errorf("message %q, want %q", le.Msg, c.msg)
			}
		})
	}
}

func TestClassifyContractMessageIsExact(t *testing.T) {
	err, _ := classify(context.Background(), "endorse", "RegisterOrg", "tx1",
		rpcErr(t, codes.Aborted, "failed to endorse transaction, see attached details for more info",
			&gateway.ErrorDetail{Address: "a:1", MspId: "M", Message: "chaincode response 500, Forbidden: register org A: org B may not act for org A"}))
	if err.Error() != "Forbidden: register org A: org B may not act for org A" {
		t.Fatalf("contract refusal renders %q: it must read as on the embedded backend", err)
	}
	var ge *GatewayError
	if !errors.As(err, &ge) || ge.Error() != "endorse RegisterOrg (tx tx1): failed to endorse transaction, see attached details for more info (Aborted): a:1 (M): chaincode response 500, Forbidden: register org A: org B may not act for org A" {
		t.Fatalf("cause %v", ge)
	}
}

func TestClassifyCallerContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err, retry := classify(ctx, "submit", "AnchorBatch", "tx9", rpcErr(t, codes.Canceled, "context canceled"))
	if retry || ledger.CodeOf(err) != ledger.Unavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v (retry %v)", err, retry)
	}
}

func TestValidationError(t *testing.T) {
	e := &ValidationError{TxID: "t", Block: 7, Code: 11}
	if e.Error() != "transaction t failed validation in block 7: MVCC_READ_CONFLICT (11)" || !transientValidation(e.Code) {
		t.Fatalf("%v", e)
	}
	if transientValidation(10) { // ENDORSEMENT_POLICY_FAILURE
		t.Error("an endorsement policy failure is not transient")
	}
}
