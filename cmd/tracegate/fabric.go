package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger/fabricnet"
)

// defaultFabricDir is the network directory: $TRACEGATE_FABRIC_DIR, else
// ./data/fabric.
func defaultFabricDir() string {
	if d := os.Getenv("TRACEGATE_FABRIC_DIR"); d != "" {
		return d
	}
	return filepath.Join("data", "fabric")
}

// newFabricCmd is `tracegate fabric up|down|status`: a local Hyperledger
// Fabric network of native processes (ledger/fabricnet).
func newFabricCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fabric",
		Short: "Run a local Hyperledger Fabric network (native processes) for development and tests",
		Long: `fabric runs the demo consortium on a local Hyperledger Fabric network of native
processes (no containers): every member is its own MSP in channel tracegate,
three of them run a peer, one or three etcdraft orderers order, and the
tracegate chaincode runs as a service (tracegate chaincode). The network
lives in one directory (--dir, default $TRACEGATE_FABRIC_DIR or ./data/fabric)
and keeps running after "fabric up" returns, until "fabric down".

The Fabric binaries are built from source on first use (about 2 minutes) and
cached under the user cache directory, or taken from $TRACEGATE_FABRIC_BIN.`,
	}
	cmd.AddCommand(newFabricUpCmd(), newFabricDownCmd(), newFabricStatusCmd())
	return cmd
}

func newFabricUpCmd() *cobra.Command {
	var (
		dir          string
		orderers     int
		peers        string
		basePort     int
		batchTimeout time.Duration
		logSpec      string
		chaincodeCmd string
		external     bool
		printConfig  bool
	)
	cmd := &cobra.Command{
		Use:   "up [--dir DIR] [--orderers 1|3] [--peers A,B,C] [--base-port N] [--batch-timeout D] [--print-config]",
		Short: "Create the network, or restart the one in --dir from its data, and wait until it is ready",
		Long: `up creates a network in --dir: crypto material for every demo member, the
channel tracegate through the orderers' channel participation API, one peer
for each of --peers, and the chaincode (package, install, approve, commit,
with the private data collections). If --dir already holds a network, up
restarts it from its data instead (the topology flags are then ignored).
It returns once a Raft leader is elected, the peers see each other and the
peers' discovery finds endorsers for the chaincode, and writes the gateway's
ledger configuration to <dir>/gateway-fabric.yaml.

Ports (127.0.0.1) run from --base-port B: orderers B..B+2 (admin B+3..B+5,
operations B+6..B+8), the chaincode server B+9, peer k at B+10+3k
(chaincode listener +1, operations +2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			start := time.Now()
			opts := fabricnet.Options{
				Dir: dir, Orgs: demo.OrgIDs(), Orderers: orderers, BasePort: basePort, BatchTimeout: batchTimeout,
				LogSpec: logSpec, ExternalChaincode: external,
				Progress: func(msg string) { fmt.Fprintf(out, "[%6.1fs] %s\n", time.Since(start).Seconds(), msg) },
			}
			if peers != "" {
				for _, p := range strings.Split(peers, ",") {
					if p = strings.TrimSpace(p); p != "" {
						opts.PeerOrgs = append(opts.PeerOrgs, p)
					}
				}
			}
			if chaincodeCmd != "" {
				opts.ChaincodeCommand = strings.Fields(chaincodeCmd)
			}
			if fabricnet.Exists(dir) {
				for _, f := range []string{"orderers", "peers", "base-port", "batch-timeout"} {
					if cmd.Flags().Changed(f) {
						fmt.Fprintf(out, "note: %s already holds a network: --%s is ignored (purge it to change the topology)\n", dir, f)
					}
				}
			}
			n, err := fabricnet.Up(cmd.Context(), opts)
			if err != nil {
				return err
			}
			path := n.GatewayConfigPath()
			fmt.Fprintf(out, "[%6.1fs] network up in %s\n\n", time.Since(start).Seconds(), n.Dir())
			if external {
				fmt.Fprintf(out, "Serve the chaincode yourself:\n  tracegate chaincode --id %s --address %s\n\n", n.PackageID(), n.ChaincodeAddress())
			}
			if printConfig {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				out.Write(b)
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "Gateway ledger configuration: %s\nUse it with:\n  tracegate up --ledger fabric --fabric-config %s\n", path, path)
			fmt.Fprintf(out, "Status: tracegate fabric status --dir %s\nStop:   tracegate fabric down --dir %s [--purge]\n", n.Dir(), n.Dir())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", defaultFabricDir(), "network directory ($TRACEGATE_FABRIC_DIR)")
	f.IntVar(&orderers, "orderers", 1, "etcdraft orderers: 1 or 3")
	f.StringVar(&peers, "peers", strings.Join(fabricnet.DefaultPeerOrgs, ","), "members (MSP IDs) that run a peer, comma-separated")
	f.IntVar(&basePort, "base-port", fabricnet.DefaultBasePort, fmt.Sprintf("first port of the network's block of %d on 127.0.0.1", fabricnet.PortBlockSize))
	f.DurationVar(&batchTimeout, "batch-timeout", fabricnet.DefaultBatchTimeout, "orderer batch timeout (dominates submit latency)")
	f.StringVar(&logSpec, "log-spec", fabricnet.DefaultLogSpec, "FABRIC_LOGGING_SPEC of the orderers and peers (info logs every call)")
	f.StringVar(&chaincodeCmd, "chaincode-cmd", "", `command serving the chaincode, given "--id ID --address ADDR" (default: this executable's "chaincode")`)
	f.BoolVar(&external, "external-chaincode", false, "start no chaincode server: serve it yourself (a debugger, another build)")
	f.BoolVar(&printConfig, "print-config", false, "print the gateway's ledger configuration")
	return cmd
}

func newFabricDownCmd() *cobra.Command {
	var (
		dir   string
		purge bool
	)
	cmd := &cobra.Command{
		Use:   "down [--dir DIR] [--purge]",
		Short: "Stop the network's processes; --purge also deletes its state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			var opts []fabricnet.DownOption
			if purge {
				opts = append(opts, fabricnet.Purge())
			}
			// Stopping must finish even after an interrupt.
			if err := fabricnet.DownDir(context.WithoutCancel(cmd.Context()), dir, opts...); err != nil {
				return err
			}
			what := "stopped"
			if purge {
				what = "stopped and purged"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "network in %s %s (%.1fs)\n", dir, what, time.Since(start).Seconds())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultFabricDir(), "network directory ($TRACEGATE_FABRIC_DIR)")
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the network's state (crypto material, ledgers, logs)")
	return cmd
}

func newFabricStatusCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "status [--dir DIR]",
		Short: "Show the network's processes, ports, channel heights and chaincode package",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := fabricnet.Status(dir)
			if err != nil {
				return err
			}
			io.WriteString(cmd.OutOrStdout(), st.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultFabricDir(), "network directory ($TRACEGATE_FABRIC_DIR)")
	return cmd
}
