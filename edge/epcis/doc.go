// Package epcis holds tracegate's model of GS1 EPCIS 2.0 events and
// documents: the JSON-LD event model with typed accessors, a builder for
// the events the edge makes from device readings, parsing and validation
// of capture documents against GS1's JSON Schema (embedded, offline), and
// the CBV 2.0 event hash that gives every event its eventID and is the
// Merkle leaf of tracegate's batches.
//
// The hash is byte-for-byte the one GS1's reference implementation
// (RalphTro/epcis-event-hash-generator) computes for JSON-LD input,
// including its quirks; testdata/hashgen holds the reference's own vectors
// and TestConformance checks GS1's example documents against hashes the
// reference computed. The few places where the reference looks beyond one
// event, or at JSON member order a decoded map no longer has, are
// documented on PreHash.
//
// The hash is on the edge's hot path, so its implementation is tuned (see
// scratch.go: pooled arenas, one output buffer, cached contexts; it does
// not allocate for a typical event). The straightforward implementation it
// replaced is kept in legacyhash_test.go, and legacydiff_test.go compares
// the two byte for byte over GS1's examples, tracegate's events and random
// and fuzzed input: keep those tests passing when changing the hash.
//
// Files in standard/ are GS1's schema and context, embedded unchanged.
package epcis
