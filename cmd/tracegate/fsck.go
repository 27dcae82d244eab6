package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/backend"
	"github.com/tracegate/tracegate/ledger/embedded"
)

func newFsckCmd() *cobra.Command {
	var data, cfgPath string
	cmd := &cobra.Command{
		Use:   "fsck [--data DIR | --config gateway.yaml]",
		Short: "Check a stopped gateway's whole store and ledger: chains, signatures, roots, events, anchors, blocks",
		Long: `fsck walks every batch of every edge (header chain, signature against the
key registered on the ledger, root over the stored leaves, every event
hashing to its leaf, every anchor matching the ledger) and, for the
embedded ledger, every block (hash chain, transaction signatures, state).
Run it on a stopped gateway (the stores are locked while it runs).
Exit status 0 when everything is consistent, 1 otherwise.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.Default()
			var lcfg backend.Config
			var gcfg gateway.Config
			if cfgPath != "" {
				f, err := loadGatewayFile(cfgPath)
				if err != nil {
					return err
				}
				lcfg, gcfg = f.Ledger, f.Gateway
			} else {
				lcfg = backend.Config{Kind: ledger.KindEmbedded, Orgs: demo.OrgIDs(), Collections: demo.Collections()}
				if err := lcfg.Validate(data); err != nil {
					return err
				}
				gcfg = gateway.Config{DataDir: filepath.Join(data, "gateway"), Reader: ledger.Identity{Org: gatewayOrg}}
			}
			lcfg.KeepMembers = true // a check writes nothing
			led, err := backend.Open(lcfg, log)
			if err != nil {
				return fmt.Errorf("%w (is tracegate still running on this data directory? stop it first)", err)
			}
			defer led.Close()
			out := cmd.OutOrStdout()
			ok := true
			if el, isEmb := led.(*embedded.Ledger); isEmb {
				fmt.Fprintln(out, "ledger: checking every block, transaction and state key …")
				rep, err := el.Verify(cmd.Context())
				if err != nil || rep.Problem != nil {
					ok = false
					if rep.Problem != nil {
						fmt.Fprintf(out, "  ✘ %s\n", rep.Problem)
					} else {
						fmt.Fprintf(out, "  ✘ %v\n", err)
					}
				} else {
					fmt.Fprintf(out, "  ✔ %d blocks, %d transactions, %d state keys; head %s\n", rep.Blocks, rep.Txs, rep.StateKeys, rep.HeadHash)
				}
			}
			svc, err := gateway.New(gcfg, led, gateway.WithLogger(log))
			if err != nil {
				return err
			}
			defer svc.Close()
			fmt.Fprintln(out, "gateway: checking every batch, event and anchor …")
			rep, err := svc.Fsck(cmd.Context(), func(edge string, n int) {
				fmt.Fprintf(out, "  edge %s: %d batches checked\n", edge, n)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  %d edges, %d batches, %d events, %d anchored, %d waiting for their anchor\n", rep.Edges, rep.Batches, rep.Events, rep.Anchored, rep.Pending)
			for _, p := range rep.Problems {
				fmt.Fprintf(out, "  ✘ %s\n", p)
			}
			if !rep.OK() || !ok {
				return &exitError{code: 1, err: fmt.Errorf("fsck found %d problem(s)", len(rep.Problems)+map[bool]int{true: 0, false: 1}[ok])}
			}
			fmt.Fprintln(out, "OK: store and ledger are consistent")
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "data", "data directory of tracegate up")
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway configuration file (instead of --data)")
	return cmd
}
