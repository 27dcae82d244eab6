package batch

import (
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for the RFC 6962 hasher
	"encoding/hex"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Hasher is the RFC 6962 SHA-256 hasher: leaf = SHA-256(0x00 ‖ data),
// node = SHA-256(0x01 ‖ left ‖ right).
var Hasher = rfc6962.New(crypto.SHA256)

// LeafHash returns the RFC 6962 leaf hash of a 32-byte event hash.
func LeafHash(eventHash [32]byte) []byte { return Hasher.HashLeaf(eventHash[:]) }

// Root computes the RFC 6962 Merkle root over the event hashes, in order.
func Root(eventHashes [][32]byte) ([32]byte, error) {
	var out [32]byte
	if len(eventHashes) == 0 {
		return out, fmt.Errorf("%w: a batch has at least one event", ErrMalformed)
	}
	leaves := make([][]byte, len(eventHashes))
	for i := range eventHashes {
		leaves[i] = LeafHash(eventHashes[i])
	}
	r := rangeFactory.NewEmptyRange(0)
	for _, l := range leaves {
		if err := r.Append(l, nil); err != nil {
			return out, fmt.Errorf("merkle append: %w", err)
		}
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return out, fmt.Errorf("merkle root: %w", err)
	}
	copy(out[:], root)
	return out, nil
}

var rangeFactory = compact.RangeFactory{Hash: Hasher.HashChildren}

// perfectRoot hashes leaves[begin:end], a perfect subtree (end-begin is a
// power of two), the only kind of node an RFC 6962 audit path names.
func perfectRoot(leafHashes [][]byte, begin, end uint64) []byte {
	if end-begin == 1 {
		return leafHashes[begin]
	}
	mid := begin + (end-begin)/2
	return Hasher.HashChildren(perfectRoot(leafHashes, begin, mid), perfectRoot(leafHashes, mid, end))
}

// InclusionProof returns the RFC 6962 audit path for leaf index in the tree
// over eventHashes.
func InclusionProof(eventHashes [][32]byte, index uint64) ([][]byte, error) {
	size := uint64(len(eventHashes))
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof for %d of %d: %w", index, size, err)
	}
	leaves := make([][]byte, size)
	for i := range eventHashes {
		leaves[i] = LeafHash(eventHashes[i])
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		b, e := id.Coverage()
		if e > size {
			return nil, fmt.Errorf("inclusion proof node %v beyond tree size %d", id, size)
		}
		hashes[i] = perfectRoot(leaves, b, e)
	}
	return nodes.Rehash(hashes, Hasher.HashChildren)
}

// VerifyInclusion checks that eventHash is leaf index of a tree of size
// whose root is rootHex, given the audit path.
func VerifyInclusion(eventHash [32]byte, index, size uint64, path [][]byte, rootHex string) error {
	root, err := hex.DecodeString(rootHex)
	if err != nil || len(root) != 32 {
		return fmt.Errorf("%w: root %q is not 32 bytes of hex", ErrMalformed, rootHex)
	}
	if err := proof.VerifyInclusion(Hasher, index, size, LeafHash(eventHash), path, root); err != nil {
		return fmt.Errorf("%w: %v", ErrInclusion, err)
	}
	return nil
}
