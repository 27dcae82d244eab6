package epcis

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// staleReferencePrehashes are the .prehashes lines (1-based) of the
// reference repository that do not hash to the .hashes line beside them:
// the reference's tests check only .hashes, and these lines were not
// regenerated when the documents changed (see testdata/hashgen/README.md).
var staleReferencePrehashes = map[string][]int{
	"epcisDocWithAllGS1Keys":             {1},
	"epcisDocWithCustomSchemaInContext":  {2},
	"epcisDocWithDefaultSchemaInContext": {2},
}

// documentOnlyHashes are the events whose reference hash depends on the
// enclosing document, so Hash (one event) differs from it by design: the
// document's "ignoreFields" list removes members the event carries.
var documentOnlyHashes = map[string][]int{
	"epcisDocHavingEventWithIgnoreFields":      {0},
	"epcisQueryDocHavingEventWithIgnoreFields": {0},
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

func decodeJSONFile(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// TestReferenceVectors checks every event of every JSON-LD example of the
// reference implementation against its expected hash and pre-hash string.
func TestReferenceVectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/hashgen/*.jsonld")
	more, _ := filepath.Glob("testdata/hashgen/*.json")
	files = append(files, more...)
	if len(files) < 20 {
		t.Fatalf("found %d reference examples in testdata/hashgen, want at least 20", len(files))
	}
	total := 0
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(base, func(t *testing.T) {
			doc := decodeJSONFile(t, f)
			want := readLines(t, strings.TrimSuffix(f, filepath.Ext(f))+".hashes")
			wantPre := readLines(t, strings.TrimSuffix(f, filepath.Ext(f))+".prehashes")
			hashes, pres, err := referenceHashes(doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(hashes) != len(want) {
				t.Fatalf("%d events, %d expected hashes", len(hashes), len(want))
			}
			ctx, err := ContextOf(doc)
			if err != nil {
				t.Fatal(err)
			}
			events, _ := referenceEvents(doc, ctx)
			for i, h := range hashes {
				total++
				if got := EventID(h); got != want[i] {
					t.Errorf("event %d: hash %s, want %s\npre-hash: %s", i, got, want[i], pres[i])
				}
				if i < len(wantPre) {
					stale := EventID(sha256.Sum256([]byte(wantPre[i]))) != want[i]
					listed := slices.Contains(staleReferencePrehashes[base], i+1)
					switch {
					case stale != listed:
						t.Errorf("event %d: .prehashes line %d stale=%v but listed as stale=%v", i, i+1, stale, listed)
					case !stale && pres[i] != wantPre[i]:
						t.Errorf("event %d: pre-hash\n got %s\nwant %s", i, pres[i], wantPre[i])
					}
				}
				// The same event alone, as the edge and the proofs hash it.
				single, err := Hash(events[i], ctx)
				if err != nil {
					t.Fatalf("event %d: Hash: %v", i, err)
				}
				docOnly := slices.Contains(documentOnlyHashes[base], i)
				if (single == h) == docOnly {
					t.Errorf("event %d: Hash alone = %s, document hash %s (document-only listed: %v)", i, EventID(single), EventID(h), docOnly)
				}
			}
			for _, line := range staleReferencePrehashes[base] {
				if line > len(hashes) && line > len(wantPre) {
					t.Errorf("stale line %d listed but the file has %d lines", line, len(wantPre))
				}
			}
		})
	}
	t.Logf("%d events of %d JSON-LD reference examples match", total, len(files))
}

// TestReferenceExpectedEqual checks the reference's "expected equal" JSON
// document: all its events are one event written differently.
func TestReferenceExpectedEqual(t *testing.T) {
	files, _ := filepath.Glob("testdata/hashgen/expected_equal/*.json")
	if len(files) == 0 {
		t.Fatal("no expected_equal JSON files")
	}
	for _, f := range files {
		doc := decodeJSONFile(t, f)
		hashes, _, err := referenceHashes(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(hashes) < 2 {
			t.Fatalf("%s: %d events", f, len(hashes))
		}
		for i, h := range hashes {
			if h != hashes[0] {
				t.Errorf("%s: event %d hashes %s, event 0 %s", f, i, EventID(h), EventID(hashes[0]))
			}
		}
	}
}
