package contract

import (
	"encoding/base64"
	"strconv"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/batch"
)

var anchorFunctions = []function{
	{name: ledger.FnAnchorBatch, minArgs: 2, maxArgs: 2, run: anchorBatch},
	{name: ledger.FnGetAnchor, readOnly: true, minArgs: 2, maxArgs: 2, run: getAnchor},
	{name: ledger.FnLatestAnchor, readOnly: true, minArgs: 1, maxArgs: 1, run: latestAnchor},
	{name: ledger.FnListAnchors, readOnly: true, minArgs: 1, maxArgs: 3, run: listAnchors},
}

// head is the value of head/{edge}: the edge's highest anchored seq.
// Anchors are contiguous from 0, so this is also the next seq minus one.
type head struct {
	Seq uint64 `json:"seq"`
}

// anchorBatch anchors a batch header signed by a registered edge.
//
// Checks, in order: the header is well-formed; the edge is registered
// (NotFound); the caller's org owns it with role org-admin or operator
// (Forbidden); the signature verifies against the registered key (Invalid);
// the same header for an anchored seq is an idempotent success that writes
// nothing, a different one a Conflict; seq N>0 needs seq N-1 anchored first
// (Conflict) and must name its header hash as prev (Invalid).
func anchorBatch(c *call, args []string) ([]byte, error) {
	var h batch.Header
	if err := decodeArg(args[0], "batch header", &h); err != nil {
		return nil, err
	}
	if err := checkID("edge", h.Edge); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, invalid("%v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(args[1])
	if err != nil {
		return nil, invalid("signature is not standard base64: %v", err)
	}
	var dev ledger.Device
	found, err := c.get(deviceKey(h.Edge), &dev)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("edge %s is not registered", h.Edge)
	}
	cl, err := c.requireRole(dev.Org, "anchor a batch of edge "+h.Edge, ledger.RoleOrgAdmin, ledger.RoleOperator)
	if err != nil {
		return nil, err
	}
	pub, err := devicePublicKey(dev.PublicKey)
	if err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "stored key of edge %s: %v", h.Edge, err)
	}
	if err := h.Verify(pub, sig); err != nil {
		return nil, invalid("signature does not verify against the key registered for edge %s (seq %d)", h.Edge, h.Seq)
	}
	hash, err := h.Hash()
	if err != nil {
		return nil, invalid("hash header: %v", err)
	}
	key := anchorKey(h.Edge, h.Seq)
	var cur ledger.Anchor
	found, err = c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if found {
		if cur.HeaderHash == hash {
			return marshal(cur)
		}
		return nil, conflict("edge %s seq %d is already anchored with header %s", h.Edge, h.Seq, cur.HeaderHash)
	}
	if h.Seq > 0 {
		var prev ledger.Anchor
		found, err := c.get(anchorKey(h.Edge, h.Seq-1), &prev)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, conflict("edge %s: anchor seq %d first", h.Edge, h.Seq-1)
		}
		if h.Prev != prev.HeaderHash {
			return nil, invalid("edge %s seq %d names prev %s, but seq %d is anchored with header %s", h.Edge, h.Seq, h.Prev, h.Seq-1, prev.HeaderHash)
		}
	}
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	a := ledger.Anchor{
		Edge: h.Edge, Seq: h.Seq, HeaderHash: hash, Prev: h.Prev, Root: h.Root,
		Count: h.Count, From: h.From, To: h.To,
		Signature: base64.StdEncoding.EncodeToString(sig),
		Org:       cl.Org, TxID: c.s.TxID(), AnchoredAt: now,
	}
	if _, err := c.put(headKey(h.Edge), head{Seq: h.Seq}); err != nil {
		return nil, err
	}
	return c.putAndEmit(key, ledger.EvBatchAnchored, a)
}

func parseSeq(s string) (uint64, error) {
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, invalid("seq %q is not a non-negative integer", truncate(s, 32))
	}
	return seq, nil
}

func getAnchor(c *call, args []string) ([]byte, error) {
	edge := args[0]
	if err := checkID("edge", edge); err != nil {
		return nil, err
	}
	seq, err := parseSeq(args[1])
	if err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(anchorKey(edge, seq))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("edge %s seq %d is not anchored", edge, seq)
	}
	return raw, nil
}

func latestAnchor(c *call, args []string) ([]byte, error) {
	edge := args[0]
	if err := checkID("edge", edge); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	var hd head
	found, err := c.get(headKey(edge), &hd)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("edge %s has no anchors", edge)
	}
	raw, err := c.getRaw(anchorKey(edge, hd.Seq))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, ledger.Errorf(ledger.Unavailable, "edge %s: head names seq %d, which is not stored", edge, hd.Seq)
	}
	return raw, nil
}

// Bounds of ListAnchors' page size.
const (
	defaultAnchorPage = 100
	maxAnchorPage     = 1000
)

// listAnchors lists an edge's anchors in seq order: (edge [, from [, limit]]).
func listAnchors(c *call, args []string) ([]byte, error) {
	edge := args[0]
	if err := checkID("edge", edge); err != nil {
		return nil, err
	}
	var from uint64
	limit := defaultAnchorPage
	if len(args) > 1 {
		var err error
		if from, err = parseSeq(args[1]); err != nil {
			return nil, err
		}
	}
	if len(args) > 2 {
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 0 || n > maxAnchorPage {
			return nil, invalid("limit %q is not between 0 and %d", truncate(args[2], 32), maxAnchorPage)
		}
		if n > 0 {
			limit = n
		}
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	out := []ledger.Anchor{}
	err := c.scan(anchorKey(edge, from), prefixEnd(anchorsPrefix(edge)), func(kv ledger.KV) (bool, error) {
		var a ledger.Anchor
		if err := decodeStored(kv, &a); err != nil {
			return false, err
		}
		out = append(out, a)
		return len(out) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	return marshal(out)
}
