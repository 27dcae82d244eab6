package fabric

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tracegate/tracegate/ledger"
)

// PeerError is what one peer (or orderer) answered, from fabric-gateway's
// error details.
type PeerError struct {
	Address string // host:port
	MSPID   string
	Message string
}

func (p PeerError) String() string {
	return fmt.Sprintf("%s (%s): %s", p.Address, p.MSPID, p.Message)
}

// GatewayError is a failed call to the Fabric gateway: the stage
// ("endorse", "submit", "evaluate", …), the transaction, the gateway's
// gRPC status and what each peer or orderer said. It is the cause
// (Unwrap) of the *ledger.Error the backend returns; use errors.As to see
// which org refused and why.
type GatewayError struct {
	Stage   string
	Fn      string
	TxID    string
	Code    codes.Code
	Message string
	Peers   []PeerError
	Err     error
}

// Error renders the stage, the gateway's message and every peer's answer.
func (e *GatewayError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Stage, e.Fn)
	if e.TxID != "" {
		fmt.Fprintf(&b, " (tx %s)", e.TxID)
	}
	fmt.Fprintf(&b, ": %s (%s)", e.Message, e.Code)
	for i, p := range e.Peers {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the fabric-gateway error.
func (e *GatewayError) Unwrap() error { return e.Err }

// ValidationError is a transaction that was ordered but not committed as
// valid: the peers' validation code (MVCC_READ_CONFLICT,
// ENDORSEMENT_POLICY_FAILURE, …).
type ValidationError struct {
	TxID  string
	Block uint64
	Code  peer.TxValidationCode
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("transaction %s failed validation in block %d: %s (%d)", e.TxID, e.Block, e.Code, int32(e.Code))
}

// transientValidation reports whether a validation failure is worth a new
// attempt: a read conflict with a concurrent writer.
func transientValidation(c peer.TxValidationCode) bool {
	return c == peer.TxValidationCode_MVCC_READ_CONFLICT || c == peer.TxValidationCode_PHANTOM_READ_CONFLICT
}

// gatewayError collects the status and details of a fabric-gateway error.
func gatewayError(stage, fn, txID string, err error) *GatewayError {
	st := status.Convert(err)
	ge := &GatewayError{Stage: stage, Fn: fn, TxID: txID, Code: st.Code(), Message: st.Message(), Err: err}
	for _, d := range st.Details() {
		if ed, ok := d.(*gateway.ErrorDetail); ok {
			ge.Peers = append(ge.Peers, PeerError{Address: ed.GetAddress(), MSPID: ed.GetMspId(), Message: ed.GetMessage()})
		}
	}
	return ge
}

// chaincodeResponse marks a peer message that carries the chaincode's own
// error (the gateway's "chaincode response 500, <message>").
const chaincodeResponse = "chaincode response "

// contractError returns the contract's *ledger.Error carried by a message
// from the chaincode, if any.
func contractError(msg string) (*ledger.Error, bool) {
	i := strings.Index(msg, chaincodeResponse)
	if i < 0 {
		return nil, false
	}
	var le *ledger.Error
	if errors.As(ledger.ParseError(msg[i:]), &le) {
		return le, true
	}
	return nil, false
}

// classify turns a failed gateway call into the error Submit and Evaluate
// return, and reports whether a new attempt may succeed.
//
//   - A refusal by the contract is the contract's *ledger.Error, with the
//     same code and message as on the embedded backend; the GatewayError
//     (which peers refused) is its cause. Never retried.
//   - The caller ending the call (ctx) is Unavailable, not retried.
//   - Peers, orderers or the gateway unreachable, timed out, failing to
//     agree or not yet ready (discovery, gossip) are Unavailable and
//     retried.
//   - Access refused by Fabric itself (channel ACLs) is Forbidden, a
//     malformed request Invalid; neither is retried.
func classify(ctx context.Context, stage, fn, txID string, err error) (error, bool) {
	ge := gatewayError(stage, fn, txID, err)
	if ctx.Err() != nil {
		return &ledger.Error{Code: ledger.Unavailable, Msg: fmt.Sprintf("%s %s: %v", stage, fn, ctx.Err()), Err: errors.Join(ctx.Err(), ge)}, false
	}
	// The chaincode's own answer, from the message (evaluate) or any peer.
	msgs := []string{ge.Message}
	for _, p := range ge.Peers {
		msgs = append(msgs, p.Message)
	}
	for _, m := range msgs {
		if le, ok := contractError(m); ok {
			return &ledger.Error{Code: le.Code, Msg: le.Msg, Err: ge}, false
		}
	}
	code, retry := ledger.Unavailable, true
	switch ge.Code {
	case codes.PermissionDenied, codes.Unauthenticated:
		code, retry = ledger.Forbidden, false
	case codes.InvalidArgument:
		code, retry = ledger.Invalid, false
	case codes.Canceled, codes.NotFound, codes.Unimplemented:
		retry = false
	}
	for _, m := range msgs {
		if strings.Contains(m, "access denied") || strings.Contains(m, "creator org unknown") {
			code, retry = ledger.Forbidden, false
		}
		if strings.Contains(m, chaincodeResponse) {
			retry = false // the chaincode failed in a way it did not classify
		}
	}
	return &ledger.Error{Code: code, Msg: ge.Error(), Err: ge}, retry
}
