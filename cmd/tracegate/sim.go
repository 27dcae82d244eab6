package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	sim "github.com/tracegate/tracegate/firmware-sim"
)

func newSimCmd() *cobra.Command {
	var cfgPath, brokerAddr, credsPath string
	cmd := &cobra.Command{
		Use:   "sim (--config FILE | --broker HOST:PORT --credentials devices.json)",
		Short: "Run simulated devices (RFID readers, cold-chain loggers, handheld scanners) against an MQTT broker",
		Long: `sim runs a fleet of simulated devices, each its own MQTT client with its
own credentials, publishing realistic traffic on the default topic layout.
With --config it runs the fleet a YAML file describes (see firmware-sim);
with --broker and --credentials it runs the demo warehouse of tracegate up
(<data>/devices.json holds the demo devices' logins).`,
		Example: `  tracegate sim --broker 127.0.0.1:1883 --credentials data/devices.json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg sim.Config
			switch {
			case cfgPath != "":
				b, err := os.ReadFile(cfgPath)
				if err != nil {
					return err
				}
				if cfg, err = sim.ParseConfig(b); err != nil {
					return err
				}
			case brokerAddr != "" && credsPath != "":
				var devs []DeviceCredential
				ok, err := readJSONFile(credsPath, &devs)
				if err != nil || !ok {
					return fmt.Errorf("read %s: %v (it is written by tracegate up in its data directory)", credsPath, err)
				}
				creds := map[string]string{}
				for _, d := range devs {
					creds[d.Username] = d.Password
				}
				cfg = sim.DemoConfig(brokerAddr, creds)
			default:
				return fmt.Errorf("give --config FILE, or --broker and --credentials")
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
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "fleet configuration (YAML)")
	cmd.Flags().StringVar(&brokerAddr, "broker", "", "broker address HOST:PORT")
	cmd.Flags().StringVar(&credsPath, "credentials", "", "device logins (tracegate up writes <data>/devices.json)")
	return cmd
}
