// Command tracegate is the single binary of tracegate: up (everything in one
// process on embedded defaults), edge, gateway, sim, verify, fsck and bench.
// It only reads configuration, builds components, runs and stops them;
// every decision lives in a package.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "tracegate:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "tracegate:", err)
	os.Exit(1)
}

var (
	logLevel  string
	logFormat string
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "tracegate",
		Short:         "Supply-chain traceability gateway for medical supplies: device readings in, provable EPCIS 2.0 events out",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return setupLogging()
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(newUpCmd(), newEdgeCmd(), newGatewayCmd(), newSimCmd(), newVerifyCmd(), newFsckCmd(), newBenchCmd(), newChaincodeCmd(), newFabricCmd(), newLedgerCmd())
	return root
}

func setupLogging() error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch logFormat {
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", logFormat)
	}
	slog.SetDefault(slog.New(h))
	return nil
}
