package chaincode

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

func TestServerConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	c, err := ServerConfigFromEnv(env(map[string]string{EnvID: "tracegate_1.0:abc", EnvAddress: "127.0.0.1:9999"}))
	if err != nil || c.CCID != "tracegate_1.0:abc" || c.Address != "127.0.0.1:9999" || c.TLS() {
		t.Fatalf("plain: %+v, %v", c, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err = ServerConfigFromEnv(env(map[string]string{EnvID: "x:1", EnvAddress: ":1", EnvTLSKey: "k.pem", EnvTLSCert: "c.pem", EnvClientCA: "ca.pem"}))
	if err != nil || !c.TLS() || c.ClientCAFile != "ca.pem" || c.Validate() != nil {
		t.Fatalf("TLS: %+v, %v", c, err)
	}
	c, err = ServerConfigFromEnv(env(map[string]string{EnvID: "x:1", EnvAddress: ":1", EnvTLSKey: "k.pem", EnvTLSCert: "c.pem", EnvTLSDisabled: "true"}))
	if err != nil || c.TLS() {
		t.Fatalf("TLS disabled: %+v, %v", c, err)
	}
	if _, err := ServerConfigFromEnv(env(map[string]string{EnvTLSDisabled: "false"})); err == nil || !strings.Contains(err.Error(), EnvTLSKey) {
		t.Errorf("TLS on without key: %v", err)
	}
	if _, err := ServerConfigFromEnv(env(map[string]string{EnvTLSDisabled: "maybe"})); err == nil {
		t.Error("CHAINCODE_TLS_DISABLED=maybe accepted")
	}

	err = ServerConfig{}.Validate()
	for _, want := range []string{"CHAINCODE_ID is not set (--id): it is the package ID printed by `peer lifecycle chaincode calculatepackageid` / tracegate fabric up", "CHAINCODE_SERVER_ADDRESS is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	if err := (ServerConfig{CCID: "x", Address: ":1", TLSKeyFile: "k"}).Validate(); err == nil {
		t.Error("key without certificate accepted")
	}
	if err := (ServerConfig{CCID: "x", Address: ":1", ClientCAFile: "ca"}).Validate(); err == nil {
		t.Error("client CA without TLS accepted")
	}
}

// serve starts Serve on a free port and returns its address and a stop
// function that checks Serve returned nil.
func serve(t *testing.T, cfg ServerConfig) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listener = lis
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// register dials the server as a peer would and returns the chaincode's
// first message, its REGISTER with the package ID.
func register(t *testing.T, addr string, creds credentials.TransportCredentials) (*peer.ChaincodeID, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := peer.NewChaincodeClient(conn).Connect(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	if msg.GetType() != peer.ChaincodeMessage_REGISTER {
		t.Fatalf("first message %v, want REGISTER", msg.GetType())
	}
	var id peer.ChaincodeID
	if err := proto.Unmarshal(msg.GetPayload(), &id); err != nil {
		t.Fatal(err)
	}
	return &id, nil
}

func TestServePlainStopsWithContext(t *testing.T) {
	addr, stop := serve(t, ServerConfig{CCID: "tracegate_1.0:feed"})
	id, err := register(t, addr, insecure.NewCredentials())
	if err != nil || id.GetName() != "tracegate_1.0:feed" {
		t.Fatalf("REGISTER %v, %v", id, err)
	}
	start := time.Now()
	stop()
	if d := time.Since(start); d > stopGrace+2*time.Second {
		t.Errorf("stop took %v", d)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still listening after the stop")
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	err := Serve(context.Background(), ServerConfig{Address: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "CHAINCODE_ID is not set") {
		t.Fatalf("Serve without CCID: %v", err)
	}
	err = Serve(context.Background(), ServerConfig{CCID: "x:1", Address: "127.0.0.1:0", TLSKeyFile: "/nonexistent/key.pem", TLSCertFile: "/nonexistent/cert.pem"})
	if err == nil || !strings.Contains(err.Error(), "read TLS key") {
		t.Fatalf("Serve with missing key: %v", err)
	}
}

func TestServeTLSWithClientCA(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "tls.example.com")
	writePEM := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverCert, serverKey := issueTLS(t, ca, "chaincode", true)
	clientCert, clientKey := issueTLS(t, ca, "peer0", false)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(serverKey)
	cfg := ServerConfig{
		CCID:         "tracegate_1.0:tls",
		TLSKeyFile:   writePEM("server.key", "PRIVATE KEY", keyDER),
		TLSCertFile:  writePEM("server.crt", "CERTIFICATE", serverCert.Raw),
		ClientCAFile: writePEM("ca.crt", "CERTIFICATE", ca.cert.Raw),
	}
	addr, _ := serve(t, cfg)

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	withCert := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{{Certificate: [][]byte{clientCert.Raw}, PrivateKey: clientKey}}})
	if id, err := register(t, addr, withCert); err != nil || id.GetName() != cfg.CCID {
		t.Fatalf("TLS client with a certificate: %v, %v", id, err)
	}
	if _, err := register(t, addr, credentials.NewTLS(&tls.Config{RootCAs: roots})); err == nil {
		t.Error("a client without a certificate was served")
	}
	if _, err := register(t, addr, insecure.NewCredentials()); err == nil {
		t.Error("a plaintext client was served")
	}
}

// issueTLS issues a TLS server (for 127.0.0.1) or client certificate.
func issueTLS(t *testing.T, ca *testCA, cn string, server bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(ca.key.Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
