package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/tracegate/tracegate/gateway/store"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

// Data sharing: an organisation's data (its receipt records, the sensor
// history and custody of lots while it held them, its alerts) is read by
// another organisation through the gateway only inside a live grant on the
// ledger (contract.CheckGrant decides, from the time of the read). Every
// read of another organisation's data, allowed or refused, is an entry of
// the access log: stored durably before the data is served, sealed into
// signed Merkle batches by the gateway's access-log key and anchored on the
// ledger like an edge's readings (one ledger transaction per batch, not
// per read), so the owner can prove what was read, by whom, and that no
// entry was removed or changed.

// AccessEntry is one access-log entry.
type AccessEntry struct {
	ID       string            `json:"id"`
	At       time.Time         `json:"at"`
	Owner    string            `json:"owner"`   // whose data
	Grantee  string            `json:"grantee"` // the reading org
	User     string            `json:"user"`    // the reading user
	Scope    ledger.GrantScope `json:"scope"`
	Resource string            `json:"resource"` // what was asked for (the API path)
	Outcome  string            `json:"outcome"`  // AccessAllowed or AccessRefused
	GrantID  string            `json:"grantID,omitempty"`
	Purpose  string            `json:"purpose,omitempty"` // the grant's
	Reason   string            `json:"reason,omitempty"`  // why refused
}

// Access outcomes.
const (
	AccessAllowed = "allowed"
	AccessRefused = "refused"
)

// AccessLogEntry is an entry as the owner sees it: with its hash and where
// it was sealed and anchored.
type AccessLogEntry struct {
	AccessEntry
	Seq      uint64 `json:"seq"`
	Hash     string `json:"hash"`
	Sealed   bool   `json:"sealed"`
	Batch    uint64 `json:"batch,omitempty"`
	Index    uint64 `json:"index,omitempty"`
	Anchored bool   `json:"anchored"`
	TxID     string `json:"txID,omitempty"`
	// Verified: the entry hashes to its leaf, and its batch's leaves make
	// the root anchored on the ledger under the access-log device's
	// signature (checked when listed, once per batch).
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
}

// accessLog is the sealer's state.
type accessLog struct {
	mu   sync.Mutex // one sealing pass at a time
	key  ed25519.PrivateKey
	edge string
	wake chan struct{}
	// anchored: every batch below this seq is anchored (under mu).
	anchored uint64
}

// AccessLogInterval is how often pending access-log entries are sealed.
var AccessLogInterval = time.Second

// accessLogMax is the most entries one access-log batch holds.
const accessLogMax = 1000

func openAccessLog(dir, edgeID string) (*accessLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "access-log.key")
	b, err := os.ReadFile(path)
	var key ed25519.PrivateKey
	switch {
	case err == nil:
		seed, derr := base64.StdEncoding.DecodeString(string(b))
		if derr != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("access-log key %s is damaged; restore it from a backup (its public key is on the ledger as device %s)", path, edgeID)
		}
		key = ed25519.NewKeyFromSeed(seed)
	case errors.Is(err, os.ErrNotExist):
		_, k, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		if werr := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k.Seed())), 0o600); werr != nil {
			return nil, werr
		}
		key = k
	default:
		return nil, err
	}
	return &accessLog{key: key, edge: edgeID, wake: make(chan struct{}, 1)}, nil
}

// AccessLogDevice returns the access-log sealer's device ID and public key.
func (s *Service) AccessLogDevice() (string, []byte) {
	return s.axl.edge, s.axl.key.Public().(ed25519.PublicKey)
}

// EnsureAccessLogDevice registers the access-log key on the ledger for the
// capture org (idempotent), like EnsureCaptureDevice.
func (s *Service) EnsureAccessLogDevice(ctx context.Context) error {
	id, key := s.AccessLogDevice()
	return s.ensureOwnDevice(ctx, id, key, ledger.DeviceAccessLog, "gateway access log (reads of shared data)", "access-log")
}

// SharedRead runs read on behalf of caller if caller may read owner's data
// of scope: its own data always (not logged), another org's only inside a
// live grant. Reads of another org's data are logged, allowed or refused;
// an allowed read is logged durably before read runs, and refused if it
// cannot be logged.
func (s *Service) SharedRead(ctx context.Context, caller ledger.Identity, owner string, scope ledger.GrantScope, resource string, read func() error) error {
	if caller.Org == owner {
		return read()
	}
	e := AccessEntry{At: s.now().UTC(), Owner: owner, Grantee: caller.Org, User: caller.User, Scope: scope, Resource: resource}
	g, err := s.led.CheckGrant(ctx, caller, owner, caller.Org, scope, e.At)
	if err != nil {
		if !errors.Is(err, ledger.ErrForbidden) && !errors.Is(err, ledger.ErrNotFound) {
			return fromLedger("cannot check the grant on the ledger", err)
		}
		e.Outcome, e.Reason = AccessRefused, ledgerMsg(err)
		if _, lerr := s.appendAccess(e); lerr != nil {
			s.log.Error("access log: refused read not logged", "owner", owner, "grantee", caller.Org, "err", lerr)
		}
		s.m.sharedReads.WithLabelValues(AccessRefused).Inc()
		return &Error{Kind: KindForbidden, Title: "no live grant", Detail: fmt.Sprintf("org %s has not granted org %s access to its %s now: %s", owner, caller.Org, scopeText(scope), e.Reason)}
	}
	e.Outcome, e.GrantID, e.Purpose = AccessAllowed, g.ID, g.Purpose
	if _, err := s.appendAccess(e); err != nil {
		s.m.sharedReads.WithLabelValues("unlogged").Inc()
		return errf(KindUnavailable, "access log unavailable", "the read was not served because it could not be logged: %w", err)
	}
	s.m.sharedReads.WithLabelValues(AccessAllowed).Inc()
	return read()
}

func scopeText(sc ledger.GrantScope) string {
	t := sc.Kind
	switch {
	case sc.Lot != "":
		t += " of lot " + sc.Lot + " (GTIN " + sc.GTIN + ")"
	case sc.GTIN != "":
		t += " of GTIN " + sc.GTIN
	}
	return t
}

func (s *Service) appendAccess(e AccessEntry) (uint64, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	e.ID = hex.EncodeToString(rnd[:])
	raw, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	canon, err := jcs.Transform(raw)
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256(canon)
	seq, err := s.st.AppendAccess(e.Owner, canon, hex.EncodeToString(sum[:]))
	if err != nil {
		return 0, err
	}
	select {
	case s.axl.wake <- struct{}{}:
	default:
	}
	return seq, nil
}

// runAccessLog seals pending entries and anchors sealed batches.
func (s *Service) runAccessLog(ctx context.Context) error {
	t := time.NewTicker(AccessLogInterval)
	defer t.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.axl.wake:
			// Let reads of one page gather into one batch.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(AccessLogInterval / 4):
			}
		}
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
		}
		if err := s.SealAccessLog(ctx); err != nil {
			s.log.Warn("access log: sealing or anchoring failed; retrying", "err", err)
			backoff = min(max(2*backoff, time.Second), s.cfg.AnchorMaxBackoff)
			continue
		}
		backoff = 0
	}
}

// SealAccessLog seals every pending access-log entry and anchors every
// sealed batch not yet anchored, in order.
func (s *Service) SealAccessLog(ctx context.Context) error {
	s.axl.mu.Lock()
	defer s.axl.mu.Unlock()
	for {
		pending, err := s.st.UnsealedAccess(accessLogMax)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			break
		}
		seq, prev, err := s.accessHead()
		if err != nil {
			return err
		}
		leaves := make([]batch.Leaf, len(pending))
		ab := store.AccessBatch{Seq: seq}
		for i, r := range pending {
			h, err := hex.DecodeString(r.Hash)
			if err != nil || len(h) != 32 {
				return fmt.Errorf("access log entry %d: bad hash", r.Seq)
			}
			var e AccessEntry
			if err := json.Unmarshal(r.Entry, &e); err != nil {
				return fmt.Errorf("access log entry %d: %w", r.Seq, err)
			}
			copy(leaves[i].Hash[:], h)
			leaves[i].JSON, leaves[i].Time = r.Entry, e.At
			ab.Entries = append(ab.Entries, r.Seq)
			ab.Hashes = append(ab.Hashes, r.Hash)
		}
		sealed, err := batch.Seal(s.axl.key, s.axl.edge, seq, prev, leaves)
		if err != nil {
			return err
		}
		if ab.Header, err = json.Marshal(sealed.Header); err != nil {
			return err
		}
		ab.Signature = sealed.Signature
		if err := s.st.SealAccess(ab); err != nil {
			return err
		}
		s.m.accessBatches.WithLabelValues("sealed").Inc()
		if len(pending) < accessLogMax {
			break // what arrives meanwhile waits for the next pass
		}
	}
	// Anchor in order from the first batch not known anchored; stop at
	// the first failure.
	bs, err := s.st.AccessBatches(s.axl.anchored, 0)
	if err != nil {
		return err
	}
	id := ledger.Identity{Org: s.cfg.Capture.Org, User: s.cfg.AnchorUser}
	for _, b := range bs {
		if b.Anchored {
			s.axl.anchored = b.Seq + 1
			continue
		}
		var h batch.Header
		if err := json.Unmarshal(b.Header, &h); err != nil {
			return err
		}
		an, _, err := s.led.AnchorBatch(ctx, id, h, b.Signature)
		if errors.Is(err, ledger.ErrConflict) {
			// Anchored before a crash kept us from noting it: read it back.
			old, rerr := s.led.Anchor(ctx, s.cfg.Reader, h.Edge, h.Seq)
			if rerr == nil && old.Root == h.Root {
				an, err = old, nil
			}
		}
		if err != nil {
			b.LastError = err.Error()
			_ = s.st.PutAccessBatch(b)
			s.m.accessBatches.WithLabelValues("anchor-failed").Inc()
			return fmt.Errorf("anchor access-log batch %d: %w", b.Seq, err)
		}
		b.Anchored, b.TxID, b.LastError = true, an.TxID, ""
		if err := s.st.PutAccessBatch(b); err != nil {
			return err
		}
		s.axl.anchored = b.Seq + 1
		s.m.accessBatches.WithLabelValues("anchored").Inc()
	}
	return nil
}

// accessHead returns the next batch seq and the hash of the last header.
func (s *Service) accessHead() (uint64, string, error) {
	last, ok, err := s.st.LastAccessBatch()
	if err != nil || !ok {
		return 0, "", err
	}
	var h batch.Header
	if err := json.Unmarshal(last.Header, &h); err != nil {
		return 0, "", err
	}
	hash, err := h.Hash()
	return last.Seq + 1, hash, err
}

// AccessLog returns the access log of owner's data, newest first, each
// entry checked against its anchored batch.
func (s *Service) AccessLog(ctx context.Context, owner string, limit int) ([]AccessLogEntry, error) {
	recs, err := s.st.AccessOf(owner, limit)
	if err != nil {
		return nil, errf(KindUnavailable, "cannot read the access log", "%w", err)
	}
	batches := map[uint64]*checkedBatch{}
	out := make([]AccessLogEntry, 0, len(recs))
	for _, r := range recs {
		var e AccessLogEntry
		if err := json.Unmarshal(r.Entry, &e.AccessEntry); err != nil {
			e.Problem = "entry unreadable: " + err.Error()
		}
		e.Seq, e.Hash, e.Sealed, e.Batch, e.Index = r.Seq, r.Hash, r.Sealed, r.Batch, r.Index
		if r.Sealed {
			cb, ok := batches[r.Batch]
			if !ok {
				cb = s.checkAccessBatch(ctx, r.Batch)
				batches[r.Batch] = cb
			}
			if cb.read {
				e.Anchored, e.TxID = cb.b.Anchored, cb.b.TxID
				if cb.b.Anchored {
					if perr := cb.verify(r); perr != nil {
						e.Problem = perr.Error()
					} else {
						e.Verified = true
					}
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// checkedBatch is a sealed access-log batch checked against the ledger
// once, for all of its entries listed.
type checkedBatch struct {
	b      store.AccessBatch
	read   bool
	hashes [][32]byte
	err    error // why the batch itself does not verify
}

// checkAccessBatch reads a batch and, when anchored, checks that its
// leaves make the root anchored on the ledger for the access-log device
// and that the device's registered key signed its header.
func (s *Service) checkAccessBatch(ctx context.Context, seq uint64) *checkedBatch {
	cb := &checkedBatch{}
	b, err := s.st.AccessBatch(seq)
	if err != nil {
		return cb
	}
	cb.b, cb.read = b, true
	if !b.Anchored {
		return cb
	}
	cb.err = func() error {
		var h batch.Header
		if err := json.Unmarshal(b.Header, &h); err != nil {
			return err
		}
		cb.hashes = make([][32]byte, len(b.Hashes))
		for i, x := range b.Hashes {
			v, err := hex.DecodeString(x)
			if err != nil || len(v) != 32 {
				return errors.New("batch leaf hashes unreadable")
			}
			copy(cb.hashes[i][:], v)
		}
		root, err := batch.Root(cb.hashes)
		if err != nil {
			return err
		}
		if hex.EncodeToString(root[:]) != h.Root {
			return errors.New("the batch's entries do not make its sealed root: an entry hash was changed")
		}
		an, err := s.led.Anchor(ctx, s.cfg.Reader, h.Edge, h.Seq)
		if err != nil {
			return fmt.Errorf("anchor on the ledger: %w", err)
		}
		if an.Root != h.Root {
			return errors.New("the batch root differs from the one anchored on the ledger")
		}
		dev, err := s.led.Device(ctx, s.cfg.Reader, h.Edge)
		if err != nil {
			return fmt.Errorf("access-log device: %w", err)
		}
		pub, err := base64.StdEncoding.DecodeString(dev.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return errors.New("access-log device key unreadable")
		}
		return h.Verify(ed25519.PublicKey(pub), b.Signature)
	}()
	return cb
}

// verify checks an entry against its checked batch: its canonical JSON
// hashes to the leaf at its index (the leaves make the anchored root).
func (cb *checkedBatch) verify(r store.AccessRecord) error {
	sum := sha256.Sum256(r.Entry)
	if hex.EncodeToString(sum[:]) != r.Hash {
		return errors.New("the entry does not match its hash: it was changed after logging")
	}
	if cb.err != nil {
		return cb.err
	}
	if r.Index >= uint64(len(cb.hashes)) || cb.hashes[r.Index] != sum {
		return errors.New("the entry is not in its sealed batch")
	}
	return nil
}

// ledgerMsg is the contract's message of a ledger error.
func ledgerMsg(err error) string {
	var le *ledger.Error
	if errors.As(err, &le) && le.Msg != "" {
		return le.Msg
	}
	return err.Error()
}
