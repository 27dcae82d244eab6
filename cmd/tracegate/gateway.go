package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/tracegate/tracegate/gateway"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/backend"
	"github.com/tracegate/tracegate/web"
)

// gatewayFile is the file `tracegate gateway --config` reads
// (configs/gateway.yaml is a commented example).
type gatewayFile struct {
	Listen    string         `yaml:"listen"`
	PublicURL string         `yaml:"publicURL"`
	DataDir   string         `yaml:"dataDir"`
	Gateway   gateway.Config `yaml:"gateway"`
	Ledger    backend.Config `yaml:"ledger"`
	// Admin, when set, makes sure this portal user exists (org-admin of
	// the gateway's reader org); its password is not changed once set.
	Admin struct {
		User     string `yaml:"user"`
		Password string `yaml:"password"`
	} `yaml:"admin"`
	CookieSecure bool `yaml:"cookieSecure"`
	// CaptureTokens, when set, are the bearer tokens POST /epcis/capture
	// and POST /epcis/events accept (a signed-in session with its CSRF
	// token works too); empty leaves capture open.
	CaptureTokens []string `yaml:"captureTokens"`
	// Alerts are published on tracegate/{site}/alerts of this broker.
	Alerts gateway.AlertsMQTTConfig `yaml:"alerts"`
	// SiteTopics maps site GLNs to their topic site keys (tracegate/{site}/…).
	SiteTopics map[string]string `yaml:"siteTopics"`
}

func loadGatewayFile(path string) (gatewayFile, error) {
	var f gatewayFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("read gateway config: %w", err)
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("parse gateway config %s: %w", path, err)
	}
	if v, ok := os.LookupEnv("TRACEGATE_GATEWAY_LISTEN"); ok {
		f.Listen = v
	}
	if v, ok := os.LookupEnv("TRACEGATE_GATEWAY_DATA_DIR"); ok {
		f.DataDir = v
	}
	if f.Listen == "" {
		f.Listen = "127.0.0.1:8080"
	}
	if f.DataDir == "" {
		f.DataDir = "data"
	}
	if f.PublicURL == "" {
		f.PublicURL = "http://" + f.Listen
	}
	if f.Gateway.DataDir == "" {
		f.Gateway.DataDir = f.DataDir + "/gateway"
	}
	f.Gateway.PublicURL = f.PublicURL
	if err := f.Ledger.Validate(f.DataDir); err != nil {
		return f, err
	}
	return f, f.Gateway.Validate()
}

func newGatewayCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "gateway --config FILE",
		Short: "Run the gateway and web portal: batch ingest, EPCIS 2.0 API, Digital Link resolver, proofs, anchoring",
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := loadGatewayFile(cfgPath)
			if err != nil {
				return err
			}
			log := slog.Default()
			led, err := backend.Open(f.Ledger, log)
			if err != nil {
				return err
			}
			defer led.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			gopts := []gateway.Option{gateway.WithLogger(log), gateway.WithRegistry(reg), gateway.WithSiteTopics(f.SiteTopics)}
			if f.Alerts.Broker != "" {
				pub, err := gateway.NewMQTTAlerts(f.Alerts, log)
				if err != nil {
					return err
				}
				defer pub.Close()
				gopts = append(gopts, gateway.WithAlertPublisher(pub))
			}
			svc, err := gateway.New(f.Gateway, led, gopts...)
			if err != nil {
				return err
			}
			defer svc.Close()
			app, err := web.New(svc, web.Config{PublicURL: f.PublicURL, Registry: reg, CookieSecure: f.CookieSecure, CaptureTokens: f.CaptureTokens})
			if err != nil {
				return err
			}
			if f.Admin.User != "" {
				if err := app.EnsureUser(f.Admin.User, f.Admin.Password, f.Gateway.Reader.Org, ledger.RoleOrgAdmin); err != nil {
					return err
				}
			}
			capID, _ := svc.CaptureDevice()
			if err := svc.EnsureCaptureDevice(cmd.Context()); err != nil {
				// The gateway still serves and ingests; captured events wait
				// (sealed, queued) until the device is registered.
				log.Error("capture device not registered: captured events cannot be anchored until it is", "err", err)
			}
			if err := svc.EnsureAccessLogDevice(cmd.Context()); err != nil {
				// Reads of shared data are still logged and sealed; the
				// batches wait for their anchor until the device is registered.
				log.Error("access-log device not registered: access-log batches cannot be anchored until it is", "err", err)
			}
			log.Info("gateway starting", "listen", f.Listen, "ledger", led.Info().Kind, "captureDevice", capID)
			g, ctx := errgroup.WithContext(cmd.Context())
			g.Go(func() error { return svc.Run(ctx) })
			g.Go(func() error { return app.Run(ctx, f.Listen) })
			err = g.Wait()
			if cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway configuration file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
