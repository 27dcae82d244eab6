// Package chaincode runs tracegate's contract (ledger/contract) as
// Hyperledger Fabric chaincode, packaged with fabric-contract-api-go and
// served as a service (Serve).
//
// No business logic lives here. Every transaction, whatever its name, goes
// through one path: Contract.invoke reads the function name and arguments
// from the stub, fills the private arguments in from the transient data,
// and calls contract.Invoke on a ledger.State over the stub (NewState).
// The contract API only routes and describes: Contract has one generated
// method per contract function (functions_gen.go), so the chaincode's
// metadata (org.hyperledger.fabric:GetMetadata) lists every transaction,
// tagged "evaluate" when the function is read-only, and an unknown name
// goes to the same path through the contract's unknown-transaction
// handler, where contract.Invoke refuses it like the embedded ledger does.
//
// The methods declare no parameters: the contract API can only describe a
// fixed number of arguments and would refuse too few with its own error
// and silently drop extra ones, while the contract takes optional
// arguments and answers a wrong count with an Invalid error. Reading the
// arguments from the stub keeps the behaviour identical on both backends.
//
// Errors leave the chaincode as their string form, "<Code>: <message>";
// ledger.ParseError on the client turns the peer's "chaincode response 500,
// <Code>: <message>" back into the same *ledger.Error.
package chaincode

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/contract"
)

//go:generate go run ./internal/genwrappers -o functions_gen.go

// ContractName is the name of the contract inside the chaincode. It is the
// default contract, so clients call plain function names ("AnchorBatch");
// "tracegate:AnchorBatch" works too.
const ContractName = "tracegate"

// Contract is tracegate's contract as a fabric-contract-api contract. Its
// generated methods, one per contract function, all run Contract.invoke.
type Contract struct {
	contractapi.Contract
}

// NewContract returns the contract with its name, metadata and
// unknown-transaction handler set.
func NewContract() *Contract {
	c := &Contract{}
	c.Name = ContractName
	c.Info = metadata.InfoMetadata{
		Title:       "tracegate",
		Description: "Supply-chain traceability for medical supplies: consortium registry, batch anchors, private data. Arguments are strings as in ledger/contract; private arguments travel as transient data arg<i>.",
		Version:     "1.0.0",
	}
	c.UnknownTransaction = c.invoke
	return c
}

// NewChaincode returns the chaincode: the contract plus the contract API's
// system contract (metadata).
func NewChaincode() (*contractapi.ContractChaincode, error) {
	cc, err := contractapi.NewChaincode(NewContract())
	if err != nil {
		return nil, fmt.Errorf("build chaincode: %w", err)
	}
	return cc, nil
}

// GetEvaluateTransactions lists the read-only contract functions, which
// the metadata tags "evaluate" (clients query them). The contract API
// calls it when the chaincode is built.
func (c *Contract) GetEvaluateTransactions() []string {
	var out []string
	for _, f := range contract.Functions() {
		if f.ReadOnly {
			out = append(out, f.Name)
		}
	}
	return out
}

// TransientKey is the transient data key that carries private argument i
// of a contract function (FunctionInfo.PrivateArgs): "arg1", "arg2", …
// The proposal carries an empty string in that argument's place, so the
// argument count stays the same.
func TransientKey(i int) string { return "arg" + strconv.Itoa(i) }

// invoke is the one path every transaction takes.
func (c *Contract) invoke(ctx contractapi.TransactionContextInterface) (string, error) {
	stub := ctx.GetStub()
	fn, args := stub.GetFunctionAndParameters()
	fn = functionName(fn)
	args, err := withPrivateArgs(stub, fn, args)
	if err != nil {
		return "", err
	}
	out, err := run(NewState(stub), fn, args)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// functionName strips the contract name the contract API routes by:
// "tracegate:AnchorBatch" → "AnchorBatch".
func functionName(fn string) string {
	if i := strings.LastIndexByte(fn, ':'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

// run calls the contract, turning a panic into an error: the contract API
// does not recover, and a panic would take the chaincode server down.
func run(s ledger.State, fn string, args []string) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, ledger.Errorf(ledger.Unavailable, "contract %s panicked: %v", fn, r)
		}
	}()
	return contract.Invoke(s, fn, args)
}

// withPrivateArgs fills fn's private arguments in from the transient data.
// A private argument sent in the proposal itself is refused: it would be
// recorded in the block for every channel member to read.
func withPrivateArgs(stub shim.ChaincodeStubInterface, fn string, args []string) ([]string, error) {
	info, ok := contract.Lookup(fn)
	if !ok || len(info.PrivateArgs) == 0 {
		return args, nil
	}
	var transient map[string][]byte
	args = slices.Clone(args)
	for _, i := range info.PrivateArgs {
		if i >= len(args) {
			continue // contract.Invoke reports the argument count
		}
		key := TransientKey(i)
		if args[i] != "" {
			return nil, ledger.Errorf(ledger.Invalid, "%s: argument %d is private: send it as transient data %q and leave it empty in the proposal", fn, i, key)
		}
		if transient == nil {
			var err error
			if transient, err = stub.GetTransient(); err != nil {
				return nil, ledger.Errorf(ledger.Unavailable, "%s: read transient data: %v", fn, err)
			}
		}
		v, ok := transient[key]
		if !ok {
			return nil, ledger.Errorf(ledger.Invalid, "%s: private argument %d is missing: send it as transient data %q", fn, i, key)
		}
		args[i] = string(v)
	}
	return args, nil
}
