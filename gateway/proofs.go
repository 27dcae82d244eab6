package gateway

import (
	"context"
	"encoding/base64"
	"encoding/hex"

	"github.com/tracegate/tracegate/gateway/proof"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

// Proof builds the proof document of an event: the event, its audit path in
// its batch, the signed header, the edge key registered on the ledger and,
// once anchored, where the anchor is. A pending batch gives a proof with a
// null anchor.
func (s *Service) Proof(ctx context.Context, eventID string) (*proof.Document, error) {
	r, err := s.EventByID(ctx, eventID)
	if err != nil {
		s.m.proofs.WithLabelValues("not-found").Inc()
		return nil, err
	}
	b, err := s.st.Batch(r.Edge, r.Seq)
	if err != nil {
		s.m.proofs.WithLabelValues("error").Inc()
		return nil, errf(KindUnavailable, "batch missing", "event %s names batch %s #%d, which the store does not hold: run tracegate fsck", r.EventID, r.Edge, r.Seq)
	}
	path, err := batch.InclusionProof(b.EventHashes(), r.Leaf)
	if err != nil {
		s.m.proofs.WithLabelValues("error").Inc()
		return nil, errf(KindUnavailable, "cannot build audit path", "%w", err)
	}
	dev, err := s.keys.Get(ctx, r.Edge)
	if err != nil {
		s.m.proofs.WithLabelValues("error").Inc()
		return nil, fromLedger("cannot read the edge key from the ledger", err)
	}
	d := &proof.Document{
		EventID: r.EventID, Event: r.Event, LeafIndex: r.Leaf, TreeSize: b.Header.Count,
		AuditPath: make([]string, len(path)), Header: b.Header,
		Signature: base64.StdEncoding.EncodeToString(b.Signature), EdgeKey: dev.PublicKey,
	}
	for i, p := range path {
		d.AuditPath[i] = hex.EncodeToString(p)
	}
	if a, err := s.st.Anchor(r.Edge, r.Seq); err == nil {
		d.Anchor = &proof.Anchor{Ledger: a.Ledger, Channel: a.Channel, TxID: a.TxID, Block: a.Block}
		s.m.proofs.WithLabelValues("anchored").Inc()
	} else {
		s.m.proofs.WithLabelValues("pending").Inc()
	}
	return d, nil
}

// LedgerView is the ledger as proof verification reads it, through this
// gateway's ledger connection.
func (s *Service) LedgerView() proof.Ledger { return ledgerView{c: s.led, id: s.cfg.Reader} }

type ledgerView struct {
	c  ledger.Client
	id ledger.Identity
}

func (v ledgerView) Device(ctx context.Context, edge string) (ledger.Device, error) {
	return v.c.Device(ctx, v.id, edge)
}

func (v ledgerView) Anchor(ctx context.Context, edge string, seq uint64) (ledger.Anchor, error) {
	return v.c.Anchor(ctx, v.id, edge, seq)
}

func (v ledgerView) Transaction(ctx context.Context, txID string) (ledger.TxInfo, error) {
	return v.c.L.Transaction(ctx, txID)
}

func (v ledgerView) Info() ledger.Info { return v.c.L.Info() }

// VerifyProof verifies a proof document against this gateway's ledger.
func (s *Service) VerifyProof(ctx context.Context, d *proof.Document) proof.Result {
	return proof.Verify(ctx, d, s.LedgerView())
}
