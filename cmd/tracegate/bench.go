package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/test/load"
)

func newBenchCmd() *cobra.Command {
	o := load.DefaultOptions
	var asJSON bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the edge path through Mosquitto against a bare paho subscriber, publish→anchored latency, disk per reading and proof verification",
		Long: `bench starts a real Mosquitto (Debian's package; run make deps first) and
measures, in one run, each figure next to its baseline:

  1. readings/s of a bare paho subscriber (QoS 1, auto-ack) on the broker;
  2. readings/s through the edge agent (publish → decode → durable → sealed),
     alone and with a gateway indexing everything, as ratios to 1;
  3. publish → anchored latency (p50, p99) and PUBACK latency through the
     embedded topology of tracegate up, and bytes on disk per reading;
  4. proof verification time, offline and with the ledger checks, as a
     multiple of one bare Ed25519 verification.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			r, err := load.Run(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				fmt.Fprintln(out, r.JSON())
				return nil
			}
			fmt.Fprintf(out, `
tracegate bench (%s, %s)

edge path through Mosquitto, %d readings
  bare paho subscriber (baseline)     %8.0f readings/s
  edge: decode → durable → sealed     %8.0f readings/s   %.2f × baseline
  edge + gateway indexing             %8.0f readings/s   %.2f × baseline

publish → anchored, %d readings at %d/s (embedded topology)
  p50 %.0f ms   p99 %.0f ms   max %.0f ms   provable within 3 s: %.1f%%
  publish → PUBACK (durable) p99 %.1f ms

disk per reading
  gateway store %.0f B   ledger %.0f B   edge journal at peak backlog %.0f B

proof verification, %d proofs
  offline (hash, path, signature)     %6.0f µs   %.1f × one Ed25519 verify (%.0f µs)
  with ledger checks                  %6.0f µs
`, r.Machine, time.Since(start).Round(time.Second), r.Readings, r.BaselineRS, r.EdgeRS, r.EdgeRatio, r.FullRS, r.FullRatio,
				r.LatencyN, o.LatencyRate, r.LatencyP50ms, r.LatencyP99ms, r.LatencyMaxms, 100*r.Within3s, r.AckP99ms,
				r.GatewayBytes, r.LedgerBytes, r.EdgeBytes,
				r.ProofsVerfied, r.VerifyOffUS, r.VerifyOffX, r.Ed25519US, r.VerifyFullUS)
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Readings, "readings", o.Readings, "readings per throughput run")
	cmd.Flags().IntVar(&o.Inflight, "inflight", o.Inflight, "publisher's QoS 1 window")
	cmd.Flags().IntVar(&o.LatencyRate, "rate", o.LatencyRate, "readings per second in the latency run")
	cmd.Flags().DurationVar(&o.LatencyFor, "duration", o.LatencyFor, "length of the latency run")
	cmd.Flags().IntVar(&o.Proofs, "proofs", o.Proofs, "proofs to verify")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "working directory (default: a temporary one, removed after)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	cmd.Flags().BoolVar(&o.OnlyEdge, "only-edge", false, "measure only the edge path (steps 1 and 2)")
	return cmd
}
