// Package contract is tracegate's one business logic: the smart contract that
// both ledger backends run. It is plain, deterministic Go over ledger.State:
// no clock (times come from State.TxTime), no randomness, no map iteration
// order, no backend knowledge. Access rules are decided here, from the
// authenticated Caller and the contract's own registry of orgs and users,
// so the embedded ledger and Fabric decide them from the same data.
//
// Invoke dispatches a call by function name; Functions lists the functions
// for a chaincode adapter. Each business area lives in its own file and
// contributes its functions to the table below.
package contract

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tracegate/tracegate/ledger"
)

// FunctionInfo describes one contract function.
type FunctionInfo struct {
	Name string
	// ReadOnly functions write nothing; clients Evaluate them.
	ReadOnly bool
	// PrivateArgs are the indexes of arguments that carry private data:
	// the embedded backend records only their SHA-256 in the block, and
	// the Fabric backend sends them as transient data, never in the
	// proposal.
	PrivateArgs []int
}

// function is one entry of the dispatch table.
type function struct {
	name        string
	readOnly    bool
	minArgs     int
	maxArgs     int
	privateArgs []int
	run         func(c *call, args []string) ([]byte, error)
}

// areas lists the business areas. A new area adds a file with its
// functions and one line here.
var areas = [][]function{
	orgFunctions,
	userFunctions,
	deviceFunctions,
	productFunctions,
	lotFunctions,
	anchorFunctions,
	privateFunctions,
	siteFunctions,
	recallFunctions,
	excursionFunctions,
	donationFunctions,
	insuranceFunctions,
	grantFunctions,
}

var table = func() map[string]function {
	t := map[string]function{}
	for _, area := range areas {
		for _, f := range area {
			if _, dup := t[f.name]; dup {
				panic("contract: function " + f.name + " defined twice")
			}
			t[f.name] = f
		}
	}
	return t
}()

// Functions lists the contract's functions, sorted by name.
func Functions() []FunctionInfo {
	out := make([]FunctionInfo, 0, len(table))
	for _, f := range table {
		out = append(out, FunctionInfo{Name: f.name, ReadOnly: f.readOnly, PrivateArgs: slices.Clone(f.privateArgs)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the description of function fn.
func Lookup(fn string) (FunctionInfo, bool) {
	f, ok := table[fn]
	if !ok {
		return FunctionInfo{}, false
	}
	return FunctionInfo{Name: f.name, ReadOnly: f.readOnly, PrivateArgs: slices.Clone(f.privateArgs)}, true
}

// MaxArgBytes bounds a single argument; larger ones are refused as Invalid.
const MaxArgBytes = 256 << 10

// Invoke runs contract function fn with args on s and returns its result.
// Every error it returns is a *ledger.Error whose code says what went wrong.
func Invoke(s ledger.State, fn string, args []string) ([]byte, error) {
	f, ok := table[fn]
	if !ok {
		return nil, ledger.Errorf(ledger.Invalid, "unknown contract function %q", truncate(fn, 64))
	}
	if len(args) < f.minArgs || len(args) > f.maxArgs {
		want := fmt.Sprint(f.minArgs)
		if f.maxArgs != f.minArgs {
			want = fmt.Sprintf("%d to %d", f.minArgs, f.maxArgs)
		}
		return nil, ledger.Errorf(ledger.Invalid, "%s takes %s arguments, got %d", fn, want, len(args))
	}
	for i, a := range args {
		if len(a) > MaxArgBytes {
			return nil, ledger.Errorf(ledger.Invalid, "%s: argument %d is %d bytes, more than %d", fn, i, len(a), MaxArgBytes)
		}
		if !utf8.ValidString(a) {
			return nil, ledger.Errorf(ledger.Invalid, "%s: argument %d is not valid UTF-8", fn, i)
		}
	}
	out, err := f.run(&call{s: s, fn: fn}, args)
	if err != nil {
		return nil, asLedgerError(fn, err)
	}
	return out, nil
}

// asLedgerError makes sure err is an *ledger.Error. Errors that are not
// come from the backend (a failing State) and count as Unavailable.
func asLedgerError(fn string, err error) error {
	var le *ledger.Error
	if errors.As(err, &le) {
		if le == err {
			return le
		}
		// Keep the context the wrapping added, but render the code once.
		return &ledger.Error{Code: le.Code, Msg: strings.Replace(err.Error(), le.Error(), le.Msg, 1), Err: le.Err}
	}
	return &ledger.Error{Code: ledger.Unavailable, Msg: fn + ": " + err.Error(), Err: err}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
