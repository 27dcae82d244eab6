// Package proof is tracegate's proof document, the stable format third
// parties verify (docs/proof-format.md), and its verification: event hash,
// audit path, header signature, the edge key registered on the ledger, the
// header chain and the anchor on the ledger.
package proof

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

// Document is a proof that one event was sealed by a registered edge in a
// batch anchored on the ledger.
type Document struct {
	EventID   string          `json:"eventID"`
	Event     json.RawMessage `json:"event"`
	LeafIndex uint64          `json:"leafIndex"`
	TreeSize  uint64          `json:"treeSize"`
	AuditPath []string        `json:"auditPath"`
	Header    batch.Header    `json:"header"`
	Signature string          `json:"signature"`
	EdgeKey   string          `json:"edgeKey"`
	Anchor    *Anchor         `json:"anchor"`
}

// Anchor says where the batch root sits on the ledger. It is null in a
// proof whose batch is not anchored yet.
type Anchor struct {
	Ledger  string `json:"ledger"`
	Channel string `json:"channel"`
	TxID    string `json:"txID"`
	Block   uint64 `json:"block"`
}

// Parse reads a proof document.
func Parse(b []byte) (*Document, error) {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("not a tracegate proof document: %w", err)
	}
	if d.EventID == "" || len(d.Event) == 0 {
		return nil, errors.New("not a tracegate proof document: eventID and event are required")
	}
	return &d, nil
}

// Check names one verification step.
type Check string

// The verification steps, in order.
const (
	CheckEventHash  Check = "event hash"
	CheckAuditPath  Check = "audit path"
	CheckSignature  Check = "header signature"
	CheckEdgeKey    Check = "edge key registered on the ledger"
	CheckChain      Check = "header chain"
	CheckAnchor     Check = "anchor on the ledger"
	CheckAnchorTx   Check = "anchor transaction"
	CheckHeaderForm Check = "header format"
)

// Step is the outcome of one check.
type Step struct {
	Check  Check  `json:"check"`
	OK     bool   `json:"ok"`
	Skip   bool   `json:"skipped,omitempty"`
	Detail string `json:"detail"`
}

// Result is a whole verification.
type Result struct {
	EventID string `json:"eventID"`
	Steps   []Step `json:"steps"`
	// Verified is true when every step ran and passed.
	Verified bool `json:"verified"`
	// Pending is true when everything offline passed but the batch is not
	// anchored yet.
	Pending bool `json:"pending,omitempty"`
}

// Err returns the first failed or skipped step as an error, nil when the
// proof verified.
func (r Result) Err() error {
	for _, s := range r.Steps {
		if !s.OK {
			if s.Skip {
				return fmt.Errorf("%s not checked: %s", s.Check, s.Detail)
			}
			return fmt.Errorf("%s failed: %s", s.Check, s.Detail)
		}
	}
	if !r.Verified {
		return errors.New("proof not verified")
	}
	return nil
}

// Ledger is what verification needs from the ledger.
type Ledger interface {
	Device(ctx context.Context, edge string) (ledger.Device, error)
	Anchor(ctx context.Context, edge string, seq uint64) (ledger.Anchor, error)
	Transaction(ctx context.Context, txID string) (ledger.TxInfo, error)
	Info() ledger.Info
}

// Verify checks d. With l nil only the offline checks run (event hash,
// audit path, signature) and the result is not Verified.
func Verify(ctx context.Context, d *Document, l Ledger) Result {
	res := Result{EventID: d.EventID}
	add := func(c Check, err error, okDetail string) bool {
		s := Step{Check: c, OK: err == nil, Detail: okDetail}
		if err != nil {
			s.Detail = err.Error()
		}
		res.Steps = append(res.Steps, s)
		return err == nil
	}
	skip := func(c Check, why string) {
		res.Steps = append(res.Steps, Step{Check: c, Skip: true, Detail: why})
	}

	// 1. The event hashes to its eventID (the CBV 2.0 hash, which covers
	// every field but eventID, recordTime and errorDeclaration).
	hash, err := eventHash(d)
	if !add(CheckEventHash, err, "CBV 2.0 hash of the event equals "+d.EventID) {
		return res
	}
	// 2. Header well-formed, audit path leads from the leaf to its root.
	if !add(CheckHeaderForm, d.Header.Validate(), "batch "+d.Header.Edge+" #"+fmt.Sprint(d.Header.Seq)+" header well-formed") {
		return res
	}
	if d.TreeSize != d.Header.Count {
		add(CheckAuditPath, fmt.Errorf("treeSize %d differs from the header's count %d", d.TreeSize, d.Header.Count), "")
		return res
	}
	path := make([][]byte, len(d.AuditPath))
	for i, p := range d.AuditPath {
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != 32 {
			add(CheckAuditPath, fmt.Errorf("auditPath[%d] is not 32 bytes of lowercase hex", i), "")
			return res
		}
		path[i] = b
	}
	if !add(CheckAuditPath, batch.VerifyInclusion(hash, d.LeafIndex, d.TreeSize, path, d.Header.Root),
		fmt.Sprintf("leaf %d of %d leads to root %s", d.LeafIndex, d.TreeSize, short(d.Header.Root))) {
		return res
	}
	// 3. The edge signed the header.
	key, err := base64.StdEncoding.DecodeString(d.EdgeKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		add(CheckSignature, fmt.Errorf("edgeKey is not a base64 32-byte Ed25519 key"), "")
		return res
	}
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil {
		add(CheckSignature, fmt.Errorf("signature is not base64: %v", err), "")
		return res
	}
	if !add(CheckSignature, d.Header.Verify(key, sig), "Ed25519 signature of edge "+d.Header.Edge+" over the header's JCS bytes") {
		return res
	}
	if l == nil {
		skip(CheckEdgeKey, "no ledger to check against (offline)")
		return res
	}
	// 4. The key is the one registered for this edge on the ledger.
	dev, err := l.Device(ctx, d.Header.Edge)
	if err != nil {
		add(CheckEdgeKey, fmt.Errorf("edge %s on the ledger: %w", d.Header.Edge, err), "")
		return res
	}
	if dev.PublicKey != d.EdgeKey {
		add(CheckEdgeKey, fmt.Errorf("the proof's edge key %s is not the key %s registered for edge %s (org %s)", short(d.EdgeKey), short(dev.PublicKey), dev.ID, dev.Org), "")
		return res
	}
	add(CheckEdgeKey, nil, "edge "+dev.ID+" of "+dev.Org+" registered with this key")
	// 5. The anchor on the ledger names this exact header.
	hh, err := d.Header.Hash()
	if err != nil {
		add(CheckAnchor, err, "")
		return res
	}
	anc, err := l.Anchor(ctx, d.Header.Edge, d.Header.Seq)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			res.Pending = d.Anchor == nil
			add(CheckAnchor, fmt.Errorf("batch %s #%d is not anchored on the ledger yet", d.Header.Edge, d.Header.Seq), "")
			return res
		}
		add(CheckAnchor, err, "")
		return res
	}
	if anc.HeaderHash != hh || anc.Root != d.Header.Root {
		add(CheckAnchor, fmt.Errorf("the ledger anchors header %s with root %s for %s #%d, the proof's header hashes to %s with root %s",
			short(anc.HeaderHash), short(anc.Root), d.Header.Edge, d.Header.Seq, short(hh), short(d.Header.Root)), "")
		return res
	}
	// The contract accepted the anchor only after the previous one, and
	// only if prev named it: the ledger's record of prev is the chain.
	if anc.Prev != d.Header.Prev {
		add(CheckChain, fmt.Errorf("ledger anchor names prev %s, the header %s", short(anc.Prev), short(d.Header.Prev)), "")
		return res
	}
	if d.Header.Seq > 0 {
		prev, err := l.Anchor(ctx, d.Header.Edge, d.Header.Seq-1)
		if err != nil {
			add(CheckChain, fmt.Errorf("previous anchor %s #%d: %w", d.Header.Edge, d.Header.Seq-1, err), "")
			return res
		}
		if prev.HeaderHash != d.Header.Prev {
			add(CheckChain, fmt.Errorf("header names prev %s but the ledger anchors %s for #%d", short(d.Header.Prev), short(prev.HeaderHash), d.Header.Seq-1), "")
			return res
		}
		add(CheckChain, nil, fmt.Sprintf("prev is the anchored header of #%d", d.Header.Seq-1))
	} else {
		add(CheckChain, nil, "first batch of the edge (prev empty)")
	}
	info := l.Info()
	if d.Anchor == nil {
		add(CheckAnchor, errors.New("the proof has no anchor, but the ledger has one: fetch the proof again"), "")
		return res
	}
	if d.Anchor.TxID != anc.TxID {
		add(CheckAnchor, fmt.Errorf("proof names transaction %s, the ledger's anchor was written by %s", d.Anchor.TxID, anc.TxID), "")
		return res
	}
	if d.Anchor.Ledger != info.Kind {
		add(CheckAnchor, fmt.Errorf("proof names a %q ledger, checked against a %q ledger", d.Anchor.Ledger, info.Kind), "")
		return res
	}
	add(CheckAnchor, nil, fmt.Sprintf("anchored on the %s ledger by %s at %s", info.Kind, anc.Org, anc.AnchoredAt))
	tx, err := l.Transaction(ctx, anc.TxID)
	if err != nil {
		add(CheckAnchorTx, fmt.Errorf("transaction %s: %w", anc.TxID, err), "")
		return res
	}
	if !tx.Valid {
		add(CheckAnchorTx, fmt.Errorf("transaction %s in block %d is marked invalid", tx.TxID, tx.Block), "")
		return res
	}
	if tx.Block != d.Anchor.Block {
		add(CheckAnchorTx, fmt.Errorf("proof names block %d, transaction %s is in block %d", d.Anchor.Block, tx.TxID, tx.Block), "")
		return res
	}
	add(CheckAnchorTx, nil, fmt.Sprintf("valid transaction in block %d", tx.Block))
	res.Verified = true
	return res
}

func eventHash(d *Document) ([32]byte, error) {
	want, err := epcis.ParseEventID(d.EventID)
	if err != nil {
		return want, fmt.Errorf("eventID: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(d.Event))
	dec.UseNumber()
	var ev epcis.Event
	if err := dec.Decode(&ev); err != nil {
		return want, fmt.Errorf("event is not a JSON object: %w", err)
	}
	got, err := epcis.Hash(ev, nil)
	if err != nil {
		return want, fmt.Errorf("hash event: %w", err)
	}
	if got != want {
		return want, fmt.Errorf("the event hashes to %s, not to the proof's eventID %s: the event was changed", epcis.EventID(got), d.EventID)
	}
	if id, ok := ev["eventID"].(string); ok && id != "" {
		if h, err := epcis.ParseEventID(id); err != nil || h != want {
			return want, fmt.Errorf("the event's own eventID %s differs from the proof's %s", id, d.EventID)
		}
	}
	return want, nil
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
