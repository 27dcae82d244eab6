package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/backend"
	"github.com/tracegate/tracegate/ledger/fabricnet"
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
	cmd.AddCommand(newBenchAnchorsCmd(), newBenchTraceCmd())
	return cmd
}

// newBenchTraceCmd measures trace forward over a large index.
func newBenchTraceCmd() *cobra.Command {
	o := load.DefaultTraceOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trace [--events N]",
		Short: "Index a synthetic supply chain of N events through the gateway and time trace forward of a lot against one walk over the lot's events",
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			r, err := load.Trace(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				b, _ := json.MarshalIndent(r, "", "  ")
				fmt.Fprintln(w, string(b))
				return nil
			}
			fmt.Fprintf(w, `
tracegate bench trace (%s)

index: %d events (%d lots × %d packs, %d events per lot) through the gateway's
ingest path in %.0f s (%.0f events/s), store %.0f MB

trace forward of one lot (where are all %d packs now, who holds them), %d lots
  trace forward                         p50 %7.2f ms   p99 %7.2f ms   (%d holdings per lot)
  baseline: walk the lot's %d events    p50 %7.2f ms
  ratio trace / baseline                %.2f
  lot custody timeline                  p50 %7.2f ms
`, time.Since(start).Round(time.Second), r.Events, r.Lots, o.LotSize, r.LotEvents, r.LoadSeconds, r.IndexPerSec, float64(r.StoreBytes)/(1<<20),
				o.LotSize, o.Samples, r.TraceP50ms, r.TraceP99ms, r.Holdings, r.LotEvents, r.WalkP50ms, r.Ratio, r.LotCustodyP50)
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Events, "events", o.Events, "events to index")
	cmd.Flags().IntVar(&o.LotSize, "lot-size", o.LotSize, "packs per lot")
	cmd.Flags().IntVar(&o.Samples, "samples", o.Samples, "lots to trace")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "working directory (default: temporary, removed after)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// newBenchAnchorsCmd measures anchoring on the embedded ledger and, with
// --fabric-config, on a Fabric network.
func newBenchAnchorsCmd() *cobra.Command {
	o := load.AnchorOptions{Edges: 8, Batches: 40, Org: demo.Warehouse}
	var fabricConfig, fabricDir, dir string
	cmd := &cobra.Command{
		Use:   "anchors [--fabric-dir DIR | --fabric-config FILE]",
		Short: "Measure anchoring latency (p50/p99) and batches per second on the embedded ledger and on Fabric",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.ErrOrStderr()
			if dir == "" {
				d, err := os.MkdirTemp("", "tracegate-bench-anchors-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d
			}
			lcfg := backend.Config{Kind: ledger.KindEmbedded, Orgs: demo.OrgIDs(), Collections: demo.Collections()}
			if err := lcfg.Validate(dir); err != nil {
				return err
			}
			var reports []load.AnchorReport
			run := func(lc backend.Config) error {
				l, err := backend.Open(lc, slog.Default())
				if err != nil {
					return err
				}
				defer l.Close()
				if _, err := (ledger.Client{L: l}).RegisterOrg(ctx, ledger.Identity{Org: o.Org, User: ledger.AdminUser}, orgByID(o.Org)); err != nil {
					return fmt.Errorf("register %s: %w", o.Org, err)
				}
				fmt.Fprintf(out, "bench: anchoring on the %s ledger: %d edges × %d batches …\n", l.Info().Kind, o.Edges, o.Batches)
				r, err := load.Anchors(ctx, l, o, out)
				if err != nil {
					return err
				}
				reports = append(reports, r)
				return nil
			}
			if err := run(lcfg); err != nil {
				return err
			}
			if fabricDir != "" && fabricConfig == "" {
				fabricConfig = filepath.Join(fabricDir, "gateway-fabric.yaml")
			}
			if fabricConfig != "" {
				fc, err := loadLedgerFile(fabricConfig)
				if err != nil {
					return err
				}
				if err := run(fc); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "\nanchoring (submit → committed), %d edges × %d batches\n", o.Edges, o.Batches)
			fmt.Fprintf(w, "  %-9s %10s %10s %10s %14s %16s\n", "ledger", "p50", "p99", "max", "batches/s", "one edge: p50")
			for _, r := range reports {
				fmt.Fprintf(w, "  %-9s %8.0f ms %8.0f ms %8.0f ms %14.1f %13.0f ms\n", r.Ledger, r.P50ms, r.P99ms, r.Maxms, r.PerSecond, r.SeqP50ms)
			}
			if fabricDir != "" {
				st, err := fabricnet.Status(fabricDir)
				if err != nil {
					return err
				}
				var total int64
				fmt.Fprintf(w, "\npeak memory of the Fabric processes (VmHWM)\n")
				for _, nd := range st.Nodes {
					if nd.PID == 0 {
						continue
					}
					hwm := peakRSS(nd.PID)
					total += hwm
					fmt.Fprintf(w, "  %-28s %6.0f MB\n", nd.Name, float64(hwm)/(1<<20))
				}
				fmt.Fprintf(w, "  %-28s %6.0f MB\n", "total", float64(total)/(1<<20))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Edges, "edges", o.Edges, "edges anchoring in parallel")
	cmd.Flags().IntVar(&o.Batches, "batches", o.Batches, "batches per edge")
	cmd.Flags().StringVar(&fabricConfig, "fabric-config", "", "also measure the Fabric network this gateway config (ledger: {kind: fabric, …}) describes")
	cmd.Flags().StringVar(&fabricDir, "fabric-dir", "", "also measure the network tracegate fabric up runs in DIR, and report its processes' peak memory")
	cmd.Flags().StringVar(&dir, "dir", "", "working directory for the embedded ledger (default: temporary)")
	return cmd
}

func orgByID(id string) ledger.Org {
	for _, o := range demo.Orgs {
		if o.ID == id {
			return o
		}
	}
	return ledger.Org{ID: id, Name: id, Kind: ledger.OrgWarehouse}
}

// loadLedgerFile reads the ledger section of a gateway config file.
func loadLedgerFile(path string) (backend.Config, error) {
	var f struct {
		Ledger backend.Config `yaml:"ledger"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return f.Ledger, err
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return f.Ledger, fmt.Errorf("parse %s: %w", path, err)
	}
	return f.Ledger, f.Ledger.Validate(filepath.Dir(path))
}

// peakRSS reads a process's peak resident memory (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
