package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	sim "github.com/tracegate/tracegate/firmware-sim"
)

// simFlags are the flags of tracegate sim.
type simFlags struct {
	cfgPath, brokerAddr, credsPath string
	list                           bool
	scenario                       string
	seed                           uint64
	start                          string
	out, payloads                  string
	creds                          string
	speed                          float64
}

func newSimCmd() *cobra.Command {
	var fl simFlags
	cmd := &cobra.Command{
		Use:   "sim (--config FILE | --broker HOST:PORT --credentials devices.json | --list | --scenario NAME ...)",
		Short: "Run simulated devices (RFID readers, cold-chain loggers, handheld scanners) against an MQTT broker",
		Long: `sim runs simulated devices, each its own MQTT client with its own
credentials, publishing realistic traffic on the default topic layout.

With --config it runs the fleet a YAML file describes (see
docs/simulator.md); with --broker and --credentials it runs the demo
warehouse of tracegate up (<data>/devices.json holds the demo devices'
logins).

With --scenario it builds a named, seeded, repeatable scenario (--list
shows them; docs/scenarios.md describes them): --out writes the whole
scenario (master data, every message, the actions and the expected
outcome) as JSON, and --broker with --creds plays its messages, printing
progress every second. The same --scenario, --seed and --start always give
the same payloads. tracegate sim only announces the scenario's ledger
actions (a recall); a test runner performs them (sim.Play's BeforeAction).`,
		Example: `  tracegate sim --broker 127.0.0.1:1883 --credentials data/devices.json
  tracegate sim --list
  tracegate sim --scenario vaccine-reefer-failure --seed 1 --out vaccine.json
  tracegate sim --scenario counterfeit-distributor --seed 1 --broker 127.0.0.1:1883 --creds creds.json --speed 600`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case fl.list:
				return listScenarios(cmd.OutOrStdout())
			case fl.scenario != "":
				return runScenario(cmd.Context(), cmd, fl)
			}
			return runFleet(cmd, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.cfgPath, "config", "", "fleet configuration (YAML)")
	f.StringVar(&fl.brokerAddr, "broker", "", "broker address HOST:PORT")
	f.StringVar(&fl.credsPath, "credentials", "", "demo device logins (tracegate up writes <data>/devices.json)")
	f.BoolVar(&fl.list, "list", false, "list the scenarios with their stories")
	f.StringVar(&fl.scenario, "scenario", "", "scenario name (see --list)")
	f.Uint64Var(&fl.seed, "seed", 1, "scenario seed")
	f.StringVar(&fl.start, "start", "", "virtual time of the scenario's first message, RFC 3339 (default: now minus the scenario's duration)")
	f.StringVar(&fl.out, "out", "", "write the scenario as JSON to FILE (- for stdout)")
	f.StringVar(&fl.payloads, "payloads", "base64", "payloads in --out: base64 or json")
	f.StringVar(&fl.creds, "creds", "", `device passwords for --scenario: {"device-id": "password"} or tracegate up's devices.json`)
	f.Float64Var(&fl.speed, "speed", 0, "0: publish as fast as the broker acknowledges; N: N× virtual time")
	return cmd
}

func runFleet(cmd *cobra.Command, fl simFlags) error {
	var cfg sim.Config
	switch {
	case fl.cfgPath != "":
		b, err := os.ReadFile(fl.cfgPath)
		if err != nil {
			return err
		}
		if cfg, err = sim.ParseConfig(b); err != nil {
			return err
		}
	case fl.brokerAddr != "" && fl.credsPath != "":
		creds, err := readCreds(fl.credsPath)
		if err != nil {
			return fmt.Errorf("%v (it is written by tracegate up in its data directory)", err)
		}
		cfg = sim.DemoConfig(fl.brokerAddr, creds)
	default:
		return fmt.Errorf("give --config FILE, --broker and --credentials, --scenario NAME or --list")
	}
	fleet, err := sim.New(cfg, sim.WithLogger(slog.Default()))
	if err != nil {
		return err
	}
	slog.Info("devices publishing", "devices", len(fleet.Devices()), "broker", cfg.Broker)
	err = fleet.Run(cmd.Context())
	st, _ := json.Marshal(fleet.Stats())
	slog.Info("devices stopped", "stats", string(st))
	if cmd.Context().Err() != nil {
		return nil
	}
	return err
}

func listScenarios(w io.Writer) error {
	for _, s := range sim.Scenarios() {
		fmt.Fprintf(w, "%s — %s (%s of virtual time)\n", s.Name, s.Title, s.Duration)
		fmt.Fprintf(w, "%s\n\n", wrap(s.Story, 78, "    "))
	}
	return nil
}

// wrap breaks text into lines of at most width characters, indented.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line)
	return b.String()
}

// readCreds reads device passwords: a JSON object {device: password} or
// an array of {username, password} (tracegate up's devices.json).
func readCreds(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err == nil {
		return m, nil
	}
	var devs []DeviceCredential
	if err := json.Unmarshal(b, &devs); err != nil {
		return nil, fmt.Errorf("credentials %s: want {\"device-id\": \"password\", …} or an array of {\"username\", \"password\"}: %v", path, err)
	}
	for _, d := range devs {
		m[d.Username] = d.Password
	}
	return m, nil
}

func runScenario(ctx context.Context, cmd *cobra.Command, fl simFlags) error {
	var info *sim.ScenarioInfo
	for _, s := range sim.Scenarios() {
		if s.Name == fl.scenario {
			info = &s
		}
	}
	if info == nil {
		return fmt.Errorf("unknown scenario %q; the scenarios are: %s (tracegate sim --list tells their stories)", fl.scenario, strings.Join(sim.ScenarioNames(), ", "))
	}
	start := time.Now().Add(-info.Duration)
	if fl.start != "" {
		t, err := time.Parse(time.RFC3339Nano, fl.start)
		if err != nil {
			return fmt.Errorf("--start %q is not an RFC 3339 time (e.g. 2026-11-25T06:00:00Z): %v", fl.start, err)
		}
		start = t
	}
	if fl.payloads != "base64" && fl.payloads != "json" {
		return fmt.Errorf("--payloads %q: give base64 or json", fl.payloads)
	}
	if fl.out == "" && fl.brokerAddr == "" {
		return errors.New("give --out FILE to write the scenario, or --broker ADDR and --creds FILE to play it")
	}
	if fl.brokerAddr != "" && fl.creds == "" {
		return errors.New(`--broker needs --creds FILE with the devices' passwords ({"device-id": "password"}); --out FILE lists the devices`)
	}
	sc, err := sim.BuildScenario(fl.scenario, fl.seed, start)
	if err != nil {
		return err
	}
	if fl.out != "" {
		if err := writeScenario(sc, fl.out, fl.payloads == "json", cmd.OutOrStdout()); err != nil {
			return err
		}
		if fl.out != "-" {
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d devices, %d messages, %d actions, %s..%s\n", fl.out, len(sc.Devices), len(sc.Messages), len(sc.Actions),
				sc.Start.Format(time.RFC3339), sc.Start.Add(sc.Duration).Format(time.RFC3339))
		}
	}
	if fl.brokerAddr == "" {
		return nil
	}
	creds, err := readCreds(fl.creds)
	if err != nil {
		return err
	}
	return playScenario(ctx, cmd.ErrOrStderr(), sc, fl.brokerAddr, creds, fl.speed)
}

// scenarioOut is a Scenario with its payloads inline as JSON.
type scenarioOut struct {
	*sim.Scenario
	Messages []messageOut `json:"messages"`
}

type messageOut struct {
	At      time.Time       `json:"at"`
	Device  string          `json:"device"`
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload"`
	Note    string          `json:"note,omitempty"`
}

func writeScenario(sc *sim.Scenario, path string, inline bool, stdout io.Writer) error {
	var v any = sc
	if inline {
		o := scenarioOut{Scenario: sc}
		for _, m := range sc.Messages {
			o.Messages = append(o.Messages, messageOut{At: m.At, Device: m.Device, Topic: m.Topic, Payload: m.Payload, Note: m.Note})
		}
		v = o
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func playScenario(ctx context.Context, w io.Writer, sc *sim.Scenario, broker string, creds map[string]string, speed float64) error {
	fmt.Fprintf(w, "playing %s (seed %d): %d messages from %d devices to %s, speed %v\n", sc.Name, sc.Seed, len(sc.Messages), len(sc.Devices), broker, speed)
	progress := func(st sim.PlayStats) {
		ids := make([]string, 0, len(st.Devices))
		for id := range st.Devices {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var per []string
		for _, id := range ids {
			d := st.Devices[id]
			per = append(per, fmt.Sprintf("%s %d/%d", id, d.Acked, d.Published))
		}
		fmt.Fprintf(w, "%6.1fs published %d/%d acked %d actions %d | %s\n", st.Elapsed.Seconds(), st.Published, st.Messages, st.Acked, st.Actions, strings.Join(per, " "))
	}
	st, err := sim.Play(ctx, sc, broker, creds, speed,
		sim.WithLogger(slog.Default()),
		sim.OnProgress(time.Second, progress),
		sim.BeforeAction(func(_ context.Context, a sim.Action) error {
			fmt.Fprintf(w, "ACTION (virtual %s): %s by %s of %s lot %s, class %s: %s — perform it on the ledger now (tracegate sim does not)\n",
				a.At.Format(time.RFC3339), a.Kind, a.Org, a.GTIN, a.Lot, a.Class, a.Reason)
			return nil
		}))
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(w, "interrupted: %d of %d messages acknowledged\n", st.Acked, st.Messages)
			return nil
		}
		return err
	}
	fmt.Fprintf(w, "done: %d messages acknowledged in %s\n", st.Acked, st.Elapsed.Round(time.Millisecond))
	return nil
}
