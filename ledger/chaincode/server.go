package chaincode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// The environment variables Fabric operators set for a chaincode-as-a-
// service process (the names fabric-samples' external chaincodes use).
const (
	EnvID          = "CHAINCODE_ID"
	EnvAddress     = "CHAINCODE_SERVER_ADDRESS"
	EnvTLSDisabled = "CHAINCODE_TLS_DISABLED"
	EnvTLSKey      = "CHAINCODE_TLS_KEY"
	EnvTLSCert     = "CHAINCODE_TLS_CERT"
	EnvClientCA    = "CHAINCODE_CLIENT_CA_CERT"
)

// ServerConfig configures the chaincode server.
type ServerConfig struct {
	// CCID is the package ID of the installed chaincode package
	// ("label:sha256"); the peer refuses a server with another.
	CCID string
	// Address is the host:port to listen on: the address in the package's
	// connection.json.
	Address string
	// TLSKeyFile and TLSCertFile are the server's key and certificate (PEM
	// files). TLS is on when both are set, unless TLSDisabled.
	TLSKeyFile, TLSCertFile string
	// ClientCAFile (PEM) makes the server require and verify a client
	// certificate from the peer signed by one of these CAs.
	ClientCAFile string
	// TLSDisabled turns TLS off even when key and certificate are set.
	TLSDisabled bool
	// Listener, if set, is served instead of listening on Address (tests
	// listen on port 0 first to learn the port).
	Listener net.Listener
	// Logger receives the server's start and stop; nil discards.
	Logger *slog.Logger
}

// ServerConfigFromEnv reads the chaincode server's configuration from the
// environment variables Fabric operators set (EnvID, EnvAddress, …), using
// lookup (os.LookupEnv) to read them. CHAINCODE_TLS_DISABLED defaults to
// true, as in Fabric's samples, unless a key and certificate are given.
func ServerConfigFromEnv(lookup func(string) (string, bool)) (ServerConfig, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	c := ServerConfig{
		CCID:         get(EnvID),
		Address:      get(EnvAddress),
		TLSKeyFile:   get(EnvTLSKey),
		TLSCertFile:  get(EnvTLSCert),
		ClientCAFile: get(EnvClientCA),
	}
	if v, ok := lookup(EnvTLSDisabled); ok && v != "" {
		disabled, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want true or false", EnvTLSDisabled, v)
		}
		c.TLSDisabled = disabled
		if !disabled && (c.TLSKeyFile == "" || c.TLSCertFile == "") {
			return c, fmt.Errorf("%s is false but %s and %s do not both name a file: set them to the server's PEM key and certificate", EnvTLSDisabled, EnvTLSKey, EnvTLSCert)
		}
	}
	return c, nil
}

// TLS reports whether the server will use TLS.
func (c ServerConfig) TLS() bool {
	return !c.TLSDisabled && (c.TLSKeyFile != "" || c.TLSCertFile != "")
}

// Validate checks the configuration.
func (c ServerConfig) Validate() error {
	var errs []error
	if c.CCID == "" {
		errs = append(errs, fmt.Errorf("%s is not set (--id): it is the package ID printed by `peer lifecycle chaincode calculatepackageid` / tracegate fabric up", EnvID))
	}
	if c.Address == "" && c.Listener == nil {
		errs = append(errs, fmt.Errorf("%s is not set (--address): it is the host:port in the chaincode package's connection.json", EnvAddress))
	}
	if c.TLS() && (c.TLSKeyFile == "" || c.TLSCertFile == "") {
		errs = append(errs, fmt.Errorf("TLS needs both a key (%s, --tls-key) and a certificate (%s, --tls-cert)", EnvTLSKey, EnvTLSCert))
	}
	if c.ClientCAFile != "" && !c.TLS() {
		errs = append(errs, fmt.Errorf("a client CA (%s, --client-ca) needs TLS: set the key and certificate too", EnvClientCA))
	}
	return errors.Join(errs...)
}

// tlsConfig loads the server's TLS configuration, following the peer's own
// server defaults as the shim does.
func (c ServerConfig) tlsConfig() (*tls.Config, error) {
	keyPEM, err := os.ReadFile(c.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read TLS key: %w", err)
	}
	certPEM, err := os.ReadFile(c.TLSCertFile)
	if err != nil {
		return nil, fmt.Errorf("read TLS certificate: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("TLS key pair %s, %s: %w", c.TLSCertFile, c.TLSKeyFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, SessionTicketsDisabled: true}
	if c.ClientCAFile != "" {
		caPEM, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", c.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// maxMsgSize matches the shim's and the peer's 100 MiB.
const maxMsgSize = 100 << 20

// stopGrace bounds a graceful stop: peers hold their streams open for good,
// so after it the remaining connections are cut.
const stopGrace = 2 * time.Second

// Serve runs the chaincode as a service until ctx ends: a gRPC server with
// the shim's chaincode service (shim.ChaincodeServer) that the peers dial.
// It returns nil after a stop through ctx, or the error that ended it.
func Serve(ctx context.Context, cfg ServerConfig) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("chaincode server: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cc, err := NewChaincode()
	if err != nil {
		return err
	}
	opts := []grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Minute, PermitWithoutStream: true}),
		grpc.MaxSendMsgSize(maxMsgSize),
		grpc.MaxRecvMsgSize(maxMsgSize),
		grpc.ConnectionTimeout(5 * time.Second),
	}
	if cfg.TLS() {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return fmt.Errorf("chaincode server: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	lis := cfg.Listener
	if lis == nil {
		if lis, err = net.Listen("tcp", cfg.Address); err != nil {
			return fmt.Errorf("chaincode server: listen: %w", err)
		}
	}
	srv := grpc.NewServer(opts...)
	// shim.ChaincodeServer is the chaincode service itself; its Start
	// cannot be stopped, so it is registered on a server Serve controls.
	peer.RegisterChaincodeServer(srv, &shim.ChaincodeServer{CCID: cfg.CCID, Address: lis.Addr().String(), CC: cc})

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	log.Info("chaincode server listening", "component", "ledger/chaincode", "ccid", cfg.CCID, "address", lis.Addr().String(), "tls", cfg.TLS())
	select {
	case err := <-served:
		return fmt.Errorf("chaincode server: %w", err)
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		srv.Stop()
		<-stopped
	}
	<-served
	log.Info("chaincode server stopped", "component", "ledger/chaincode", "ccid", cfg.CCID)
	return nil
}
