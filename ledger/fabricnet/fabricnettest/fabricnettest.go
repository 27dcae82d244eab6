// Package fabricnettest starts a local Fabric network (ledger/fabricnet)
// for a test: binaries found or built once per machine, a free port block,
// a temporary directory, tracegate's chaincode served in the test process,
// and everything stopped and removed when the test ends.
package fabricnettest

import (
	"context"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger/chaincode"
	"github.com/tracegate/tracegate/ledger/fabricnet"
)

// ServeChaincode serves tracegate's contract as chaincode in this process
// (fabricnet.Options.ServeChaincode).
func ServeChaincode(ctx context.Context, ccid, address string) error {
	return chaincode.Serve(ctx, chaincode.ServerConfig{CCID: ccid, Address: address, TLSDisabled: true})
}

// Up starts a network for tb and returns it ready. Zero fields of opts get
// test defaults: Dir a temporary directory, BasePort a free block
// (fabricnet.FreeBasePort), the chaincode served by ServeChaincode unless
// a ChaincodeCommand or ExternalChaincode is set, progress logged with
// tb.Logf; StopWithParent is always on. The network is stopped and purged
// by tb.Cleanup. A failure fails the test: nothing is skipped.
func Up(tb testing.TB, opts fabricnet.Options) *fabricnet.Network {
	tb.Helper()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	if opts.BasePort == 0 {
		base, err := fabricnet.FreeBasePort()
		if err != nil {
			tb.Fatalf("fabric network: %v", err)
		}
		opts.BasePort = base
	}
	if opts.ServeChaincode == nil && len(opts.ChaincodeCommand) == 0 && !opts.ExternalChaincode {
		opts.ServeChaincode = ServeChaincode
	}
	opts.StopWithParent = true
	start := time.Now()
	if opts.Progress == nil {
		opts.Progress = func(msg string) { tb.Logf("fabric [%5.1fs] %s", time.Since(start).Seconds(), msg) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a cold binary build included
	defer cancel()
	n, err := fabricnet.Up(ctx, opts)
	if err != nil {
		tb.Fatalf("fabric network: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Down(context.Background(), fabricnet.Purge()); err != nil {
			tb.Errorf("fabric network down: %v", err)
		}
	})
	return n
}
