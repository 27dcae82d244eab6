package fabric

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// cryptoDir writes cryptogen-style material: per org a CA, an admin
// (OU admin) and users (OU client) with EC P-256 PKCS #8 keys.
type cryptoDir struct {
	t   *testing.T
	dir string
}

func newCryptoDir(t *testing.T) *cryptoDir { return &cryptoDir{t: t, dir: t.TempDir()} }

func (c *cryptoDir) write(name string, blockType string, der []byte) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// identity writes a certificate for cn with NodeOU ou and its key, and
// returns the config entry for it as (org, user).
func (c *cryptoDir) identity(org, user, cn, ou string) Identity {
	c.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		c.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		c.t.Fatal(err)
	}
	base := strings.ReplaceAll(org+"-"+cn, "@", "_")
	return Identity{Org: org, User: user, Cert: c.write(base+"-cert.pem", "CERTIFICATE", der), Key: c.write(base+"-priv_sk", "PRIVATE KEY", keyDER)}
}

// config returns a valid Config: two peers (nothing listens: connections
// are lazy) and the admin and User1 of Org1MSP, Org2MSP and Org3MSP.
func (c *cryptoDir) config() Config {
	ca := c.identity("CA", "ca", "ca.example.com", "ca")
	cfg := Config{Channel: "ch", Chaincode: "tracegate",
		Peers:       []Peer{{Org: "Org1MSP", Endpoint: "127.0.0.1:1", TLSCACert: ca.Cert}, {Org: "Org2MSP", Endpoint: "127.0.0.1:2", TLSCACert: ca.Cert}},
		Collections: map[string][]string{"col": {"Org1MSP", "Org2MSP"}},
	}
	for _, org := range []string{"Org1MSP", "Org2MSP", "Org3MSP"} {
		dom := strings.ToLower(strings.TrimSuffix(org, "MSP")) + ".example.com"
		cfg.Identities = append(cfg.Identities, c.identity(org, "admin", "Admin@"+dom, "admin"), c.identity(org, "User1", "User1@"+dom, "client"))
	}
	return cfg
}

func TestNewChecksIdentities(t *testing.T) {
	c := newCryptoDir(t)
	base := c.config()
	for _, tc := range []struct {
		what string
		edit func(*Config)
		opts []Option
		want string
	}{
		{"missing certificate", func(cfg *Config) { cfg.Identities[1].Cert = filepath.Join(c.dir, "nope.pem") }, nil, "identities[1] User1@Org1MSP: read certificate"},
		{"key of another identity", func(cfg *Config) { cfg.Identities[1].Key = cfg.Identities[3].Key }, nil, "does not belong to certificate"},
		{"user name not the certificate's", func(cfg *Config) { cfg.Identities[1].User = "User2" }, nil, `acts as user "User1" in the contract, not "User2"`},
		{"admin with a client certificate", func(cfg *Config) { cfg.Identities = cfg.Identities[1:]; cfg.Identities[0].User = "admin" }, nil, `acts as user "User1" in the contract, not "admin"`},
		{"same identity twice", func(cfg *Config) { cfg.Identities = append(cfg.Identities, cfg.Identities[0]) }, nil, "admin@Org1MSP is configured twice"},
		{"peer TLS CA missing", func(cfg *Config) { cfg.Peers[1].TLSCACert = filepath.Join(c.dir, "nope.crt") }, nil, "peers[1] 127.0.0.1:2: read TLS CA"},
		{"peer TLS CA not PEM", func(cfg *Config) {
			cfg.Peers[0].TLSCACert = cfg.Identities[0].Key + "x"
			os.WriteFile(cfg.Peers[0].TLSCACert, []byte("junk"), 0o600)
		}, nil, "holds no PEM certificate"},
		{"unknown reader", nil, []Option{WithReader(ledger.Identity{Org: "Org9MSP", User: "admin"})}, "WithReader: admin@Org9MSP is not a configured identity (configured: User1@Org1MSP, User1@Org2MSP"},
		{"bad option", nil, []Option{WithPeerSync(-time.Second)}, "WithPeerSync: negative timeout"},
		{"bad backoff", nil, []Option{WithRetryBackoff(time.Second, time.Millisecond)}, "WithRetryBackoff"},
		{"nil logger", nil, []Option{WithLogger(nil)}, "WithLogger: nil logger"},
		{"empty config", func(cfg *Config) { *cfg = Config{} }, nil, "fabric.channel is empty"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			cfg := base
			cfg.Identities = append([]Identity(nil), base.Identities...)
			cfg.Peers = append([]Peer(nil), base.Peers...)
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			l, err := New(cfg, tc.opts...)
			if err == nil {
				l.Close()
				t.Fatalf("New succeeded, want an error with %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v\nwant it to say %q", err, tc.want)
			}
		})
	}
}

func TestNewLazyAndIdentities(t *testing.T) {
	cfg := newCryptoDir(t).config()
	l, err := New(cfg, WithReader(ledger.Identity{Org: "Org2MSP", User: "User1"}))
	if err != nil {
		t.Fatalf("New with no peer listening: %v", err)
	}
	if info := l.Info(); info != (ledger.Info{Kind: ledger.KindFabric, Channel: "ch", Chaincode: "tracegate"}) {
		t.Errorf("Info = %+v", info)
	}
	// Each identity uses its own org's peer, else the first.
	for id, want := range map[ledger.Identity]string{
		{Org: "Org1MSP", User: "admin"}: "127.0.0.1:1",
		{Org: "Org2MSP", User: "User1"}: "127.0.0.1:2",
		{Org: "Org3MSP", User: "admin"}: "127.0.0.1:1",
	} {
		if got := l.signers[id].peer.Endpoint; got != want {
			t.Errorf("%s uses %s, want %s", id, got, want)
		}
	}
	if l.reader.id.Org != "Org2MSP" {
		t.Errorf("reader %+v", l.reader.id)
	}

	ctx := context.Background()
	_, err = l.Submit(ctx, ledger.Identity{Org: "Org1MSP", User: "User7"}, ledger.FnWhoami)
	var le *ledger.Error
	if !errors.As(err, &le) || le.Code != ledger.Forbidden ||
		le.Msg != "this process holds no Fabric identity for User7@Org1MSP (configured: User1@Org1MSP, User1@Org2MSP, User1@Org3MSP, admin@Org1MSP, admin@Org2MSP, admin@Org3MSP)" {
		t.Errorf("unknown identity: %v", err)
	}
	_, err = l.Evaluate(ctx, ledger.Identity{Org: "Org1MSP", User: "admin"}, "tracegate:Whoami")
	if !errors.As(err, &le) || le.Code != ledger.Invalid || le.Msg != `unknown contract function "tracegate:Whoami"` {
		t.Errorf("qualified function name: %v", err)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Submit(ctx, ledger.Identity{Org: "Org1MSP", User: "admin"}, ledger.FnWhoami); ledger.CodeOf(err) != ledger.Unavailable {
		t.Errorf("Submit after Close: %v", err)
	}
	if _, err := l.Events(ctx, ledger.Checkpoint{}); ledger.CodeOf(err) != ledger.Unavailable {
		t.Errorf("Events after Close: %v", err)
	}
	if _, err := l.Transaction(ctx, "x"); ledger.CodeOf(err) != ledger.Unavailable {
		t.Errorf("Transaction after Close: %v", err)
	}
}

// TestUnreachablePeerIsUnavailable submits to a peer that is not there:
// retried, then Unavailable with the cause, within the context.
func TestUnreachablePeerIsUnavailable(t *testing.T) {
	cfg := newCryptoDir(t).config()
	cfg.Retries = 2
	l, err := New(cfg, WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := l.Submit(ctx, ledger.Identity{Org: "Org1MSP", User: "admin"}, ledger.FnWhoami)
	var le *ledger.Error
	if !errors.As(err, &le) || le.Code != ledger.Unavailable || !strings.Contains(le.Msg, "gave up after 3 attempts") || !strings.Contains(le.Msg, "endorse Whoami") {
		t.Fatalf("unreachable peer: %v", err)
	}
	if res.TxID == "" {
		t.Error("no transaction ID in the result of a failed submit")
	}
	// With retries to spare, the caller's context bounds the call.
	cfg.Retries = 1000
	l2, err := New(cfg, WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = l2.Evaluate(short, ledger.Identity{Org: "Org2MSP", User: "admin"}, ledger.FnWhoami)
	if ledger.CodeOf(err) != ledger.Unavailable || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("evaluate bounded by ctx: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("evaluate took %v past its context", d)
	}
}
