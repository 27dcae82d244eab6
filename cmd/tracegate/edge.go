package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/edge"
)

func newEdgeCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "edge --config FILE",
		Short: "Run an edge agent against an MQTT broker (Mosquitto, EMQX, …) and a gateway",
		Long: `edge subscribes to the devices' topics with a persistent QoS 1 session,
makes each message durable in its Badger journal before acknowledging it,
turns readings into EPCIS 2.0 events, seals them into signed batches and
uploads them to the gateway, keeping everything until the gateway
acknowledged it. See docs/edge.md and configs/edge.yaml.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := edge.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			a, err := edge.New(cfg, edge.WithRegistry(reg))
			if err != nil {
				return err
			}
			defer a.Close()
			slog.Info("edge starting", "edge", a.ID(), "publicKey", base64.StdEncoding.EncodeToString(a.PublicKey()),
				"hint", "the edge's public key must be registered on the ledger for this edge ID before the gateway accepts its batches")
			return a.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "edge configuration file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	key := &cobra.Command{
		Use:   "key --config FILE",
		Short: "Print the edge's Ed25519 public key (created on first use), to register it on the ledger",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := edge.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			k, err := edge.LoadOrCreateKey(cfg.KeyFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", cfg.ID, base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)))
			return nil
		},
	}
	key.Flags().StringVar(&cfgPath, "config", "", "edge configuration file (YAML)")
	cmd.AddCommand(key)
	return cmd
}
