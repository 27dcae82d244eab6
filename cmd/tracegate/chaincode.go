package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/ledger/chaincode"
)

// newChaincodeCmd serves the contract as Fabric chaincode (chaincode as a
// service). Flags override the environment variables Fabric operators set.
func newChaincodeCmd() *cobra.Command {
	var flags chaincode.ServerConfig
	cmd := &cobra.Command{
		Use:   "chaincode",
		Short: "Serve the contract as Hyperledger Fabric chaincode (chaincode as a service)",
		Long: `Serve tracegate's contract as Fabric chaincode: a gRPC server that the peers
dial, at the address of the installed chaincode package's connection.json.

Each flag falls back to the environment variable Fabric operators set:
  --id          CHAINCODE_ID               package ID (label:sha256) of the installed package
  --address     CHAINCODE_SERVER_ADDRESS   host:port to listen on
  --tls-key     CHAINCODE_TLS_KEY          server TLS key (PEM file)
  --tls-cert    CHAINCODE_TLS_CERT         server TLS certificate (PEM file)
  --client-ca   CHAINCODE_CLIENT_CA_CERT   CA of the peers' client certificates (PEM file)
  --tls-disabled CHAINCODE_TLS_DISABLED    true: no TLS even with a key and certificate
TLS is on when a key and certificate are given. The server stops on SIGINT/SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := chaincode.ServerConfigFromEnv(os.LookupEnv)
			if err != nil {
				return err
			}
			set := func(name string, dst *string, v string) {
				if cmd.Flags().Changed(name) {
					*dst = v
				}
			}
			set("id", &cfg.CCID, flags.CCID)
			set("address", &cfg.Address, flags.Address)
			set("tls-key", &cfg.TLSKeyFile, flags.TLSKeyFile)
			set("tls-cert", &cfg.TLSCertFile, flags.TLSCertFile)
			set("client-ca", &cfg.ClientCAFile, flags.ClientCAFile)
			if cmd.Flags().Changed("tls-disabled") {
				cfg.TLSDisabled = flags.TLSDisabled
			}
			cfg.Logger = slog.Default()
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("chaincode: %w", err)
			}
			return chaincode.Serve(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&flags.CCID, "id", "", "chaincode package ID (env "+chaincode.EnvID+")")
	f.StringVar(&flags.Address, "address", "", "listen address host:port (env "+chaincode.EnvAddress+")")
	f.StringVar(&flags.TLSKeyFile, "tls-key", "", "TLS key, PEM file (env "+chaincode.EnvTLSKey+")")
	f.StringVar(&flags.TLSCertFile, "tls-cert", "", "TLS certificate, PEM file (env "+chaincode.EnvTLSCert+")")
	f.StringVar(&flags.ClientCAFile, "client-ca", "", "CA certificate(s) of the peers' TLS client certificates, PEM file (env "+chaincode.EnvClientCA+")")
	f.BoolVar(&flags.TLSDisabled, "tls-disabled", false, "serve without TLS even when a key and certificate are set (env "+chaincode.EnvTLSDisabled+")")
	return cmd
}
