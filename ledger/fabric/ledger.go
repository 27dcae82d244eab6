package fabric

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/chaincode"
)

// Ledger is the Fabric backend of ledger.Ledger: a fabric-gateway client
// with one gRPC connection per configured peer and one gateway per
// configured identity. It is safe for concurrent use.
//
// Reads are consistent with this process's own writes on every peer it
// uses: Submit returns once the transaction committed on the submitting
// identity's peer, and waits a bounded time (WithPeerSync) for the other
// configured peers to commit it too, so that an identity of another org
// reading through its own peer right after sees the write, as on the
// embedded backend.
type Ledger struct {
	cfg Config
	log *slog.Logger

	peerSync               time.Duration
	backoffMin, backoffMax time.Duration
	readerKey              *ledger.Identity

	peers   []*peerConn
	signers map[ledger.Identity]*signer
	names   []string // "user@org" of every identity, for errors
	reader  *signer

	ctx     context.Context // ends at Close; bounds the event streams
	cancel  context.CancelFunc
	streams sync.WaitGroup
	closed  atomic.Bool
	once    sync.Once
}

var _ ledger.Ledger = (*Ledger)(nil)

// peerConn is the connection to one gateway peer.
type peerConn struct {
	Peer
	conn *grpc.ClientConn
	// sync is a gateway on this connection used only as a transport for
	// commit-status requests another identity signed (WithPeerSync).
	sync *client.Gateway
	// syncBadUntil (unix nanoseconds) skips a peer whose commit-status
	// wait failed, so that one peer being down does not slow every
	// submit down by the whole sync timeout.
	syncBadUntil atomic.Int64
}

// redial makes a connection in reconnect backoff dial again at once, so
// that a retry reaches a peer that came back.
func (pc *peerConn) redial() { pc.conn.ResetConnectBackoff() }

// signer is one configured identity and its gateway.
type signer struct {
	id       Identity
	gw       *client.Gateway
	network  *client.Network
	contract *client.Contract
	qscc     *client.Contract
	peer     *peerConn
}

// Option configures a Ledger, the way fabric-gateway's client.Connect
// takes options; an option returns an error for a bad value, so New fails
// at once.
type Option func(*Ledger) error

// WithLogger sets the logger (default: discard).
func WithLogger(log *slog.Logger) Option {
	return func(l *Ledger) error {
		if log == nil {
			return errors.New("WithLogger: nil logger")
		}
		l.log = log
		return nil
	}
}

// WithPeerSync bounds how long Submit waits, after the commit on the
// submitting identity's peer, for the other configured peers to commit the
// transaction (default 5s; 0 disables the wait). A peer that misses it is
// skipped for 30 seconds.
func WithPeerSync(timeout time.Duration) Option {
	return func(l *Ledger) error {
		if timeout < 0 {
			return fmt.Errorf("WithPeerSync: negative timeout %v", timeout)
		}
		l.peerSync = timeout
		return nil
	}
}

// WithRetryBackoff sets the first and the longest pause between retries of
// transient failures (default 200ms and 3s; each retry doubles it, with jitter).
func WithRetryBackoff(first, max time.Duration) Option {
	return func(l *Ledger) error {
		if first <= 0 || max < first {
			return fmt.Errorf("WithRetryBackoff: want 0 < first (%v) <= max (%v)", first, max)
		}
		l.backoffMin, l.backoffMax = first, max
		return nil
	}
}

// WithReader names the configured identity that reads events and queries
// the qscc system chaincode (Events, Transaction). Default: the first
// configured identity.
func WithReader(id ledger.Identity) Option {
	return func(l *Ledger) error {
		l.readerKey = &id
		return nil
	}
}

// Defaults of the options.
const (
	DefaultPeerSync   = 5 * time.Second
	defaultBackoffMin = 200 * time.Millisecond
	defaultBackoffMax = 3 * time.Second
	syncPenalty       = 30 * time.Second
)

// New connects to the Fabric network of cfg. It reads every identity's
// certificate and key (cryptogen's EC P-256 PKCS #8 `priv_sk` and others
// fabric-gateway reads) and every peer's TLS CA now, so a bad file fails
// here; the peers themselves are dialled on first use.
func New(cfg Config, opts ...Option) (*Ledger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fabric: config: %w", err)
	}
	l := &Ledger{
		cfg: cfg, log: slog.New(slog.DiscardHandler), peerSync: DefaultPeerSync,
		backoffMin: defaultBackoffMin, backoffMax: defaultBackoffMax,
		signers: map[ledger.Identity]*signer{},
	}
	for _, o := range opts {
		if err := o(l); err != nil {
			return nil, fmt.Errorf("fabric: %w", err)
		}
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if err := l.connect(); err != nil {
		l.Close()
		return nil, fmt.Errorf("fabric: %w", err)
	}
	return l, nil
}

func (l *Ledger) connect() error {
	for i, p := range l.cfg.Peers {
		pc, err := dialPeer(p)
		if err != nil {
			return fmt.Errorf("peers[%d] %s: %w", i, p.Endpoint, err)
		}
		l.peers = append(l.peers, pc)
	}
	type loaded struct {
		id   *identity.X509Identity
		sign identity.Sign
	}
	var creds []loaded
	for i, c := range l.cfg.Identities {
		key := ledger.Identity{Org: c.Org, User: c.User}
		if _, dup := l.signers[key]; dup {
			return fmt.Errorf("identities[%d]: %s is configured twice", i, key)
		}
		id, sign, err := loadIdentity(c)
		if err != nil {
			return fmt.Errorf("identities[%d] %s: %w", i, key, err)
		}
		pc := l.peerFor(c.Org)
		gw, err := client.Connect(id, client.WithSign(sign), client.WithHash(hash.SHA256), client.WithClientConnection(pc.conn))
		if err != nil {
			return fmt.Errorf("identities[%d] %s: gateway: %w", i, key, err)
		}
		network := gw.GetNetwork(l.cfg.Channel)
		s := &signer{id: c, gw: gw, network: network, contract: network.GetContract(l.cfg.Chaincode), qscc: network.GetContract("qscc"), peer: pc}
		l.signers[key] = s
		l.names = append(l.names, key.String())
		creds = append(creds, loaded{id, sign})
		if l.reader == nil && (l.readerKey == nil || *l.readerKey == key) {
			l.reader = s
		}
	}
	sort.Strings(l.names)
	if l.reader == nil {
		return fmt.Errorf("WithReader: %s is not a configured identity (configured: %s)", *l.readerKey, strings.Join(l.names, ", "))
	}
	readerCreds := creds[0]
	for i, c := range l.cfg.Identities {
		if c.Org == l.reader.id.Org && c.User == l.reader.id.User {
			readerCreds = creds[i]
		}
	}
	for _, pc := range l.peers {
		gw, err := client.Connect(readerCreds.id, client.WithSign(readerCreds.sign), client.WithHash(hash.SHA256), client.WithClientConnection(pc.conn))
		if err != nil {
			return fmt.Errorf("peer %s: gateway: %w", pc.Endpoint, err)
		}
		pc.sync = gw
	}
	return nil
}

// peerFor returns the peer an identity of org uses: its own org's first
// peer, else the first peer.
func (l *Ledger) peerFor(org string) *peerConn {
	for _, pc := range l.peers {
		if pc.Org == org {
			return pc
		}
	}
	return l.peers[0]
}

// dialPeer sets up the (lazy) TLS connection to a gateway peer.
func dialPeer(p Peer) (*peerConn, error) {
	caPEM, err := os.ReadFile(p.TLSCACert)
	if err != nil {
		return nil, fmt.Errorf("read TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("TLS CA %s holds no PEM certificate", p.TLSCACert)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: p.ServerName}
	// Redial a restarted peer soon: gRPC's default reconnect backoff (1s,
	// growing to 2 minutes) would fail calls fast with the last dial error
	// long after the peer is back, using up Submit's retries.
	conn, err := grpc.NewClient(p.Endpoint, grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 200 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}))
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	return &peerConn{Peer: p, conn: conn}, nil
}

// loadIdentity reads an identity's certificate and key, checks that they
// belong together and that the contract will see the configured user.
func loadIdentity(c Identity) (*identity.X509Identity, identity.Sign, error) {
	certPEM, err := os.ReadFile(c.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("read certificate: %w", err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %w", c.Cert, err)
	}
	keyPEM, err := os.ReadFile(c.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("read key: %w", err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", c.Key, err)
	}
	if !publicKeyMatches(key, cert) {
		return nil, nil, fmt.Errorf("key %s does not belong to certificate %s", c.Key, c.Cert)
	}
	caller, err := chaincode.CallerOf(c.Org, cert)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %w", c.Cert, err)
	}
	if caller.User != c.User {
		return nil, nil, fmt.Errorf("certificate %s (CN %q, OU %v) acts as user %q in the contract, not %q: fix the user name or the files",
			c.Cert, cert.Subject.CommonName, cert.Subject.OrganizationalUnit, caller.User, c.User)
	}
	id, err := identity.NewX509Identity(c.Org, cert)
	if err != nil {
		return nil, nil, err
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", c.Key, err)
	}
	return id, sign, nil
}

func publicKeyMatches(key crypto.PrivateKey, cert *x509.Certificate) bool {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k.PublicKey.Equal(cert.PublicKey)
	case ed25519.PrivateKey:
		return k.Public().(ed25519.PublicKey).Equal(cert.PublicKey)
	}
	return true // fabric-gateway refuses other key types itself
}

// signerFor returns the gateway of id; an identity this process does not
// hold is Forbidden, with the ones it does.
func (l *Ledger) signerFor(id ledger.Identity) (*signer, error) {
	if l.closed.Load() {
		return nil, errClosed()
	}
	s, ok := l.signers[id]
	if !ok {
		return nil, ledger.Errorf(ledger.Forbidden, "this process holds no Fabric identity for %s (configured: %s)", id, strings.Join(l.names, ", "))
	}
	return s, nil
}

func errClosed() error { return ledger.Errorf(ledger.Unavailable, "fabric ledger is closed") }

// Info implements ledger.Ledger.
func (l *Ledger) Info() ledger.Info {
	return ledger.Info{Kind: ledger.KindFabric, Channel: l.cfg.Channel, Chaincode: l.cfg.Chaincode}
}

// Close ends the event streams and closes the gateways and connections.
func (l *Ledger) Close() error {
	var errs []error
	l.once.Do(func() {
		l.closed.Store(true)
		if l.cancel != nil {
			l.cancel()
		}
		l.streams.Wait()
		for _, s := range l.signers {
			s.gw.Close()
		}
		for _, pc := range l.peers {
			if pc.sync != nil {
				pc.sync.Close()
			}
			if err := pc.conn.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close connection to %s: %w", pc.Endpoint, err))
			}
		}
	})
	return errors.Join(errs...)
}
