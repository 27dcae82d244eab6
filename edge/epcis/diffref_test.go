package epcis

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDiffReference generates random documents and compares every
// pre-hash string with what GS1's reference implementation computes. It
// needs the reference (Python 3 with pyld and dateutil) and runs only when
// asked:
//
//	EPCIS_REFERENCE_DIR=/path/to/epcis-event-hash-generator EPCIS_DIFF_N=3000 \
//	  go test ./edge/epcis -run DiffReference -v
//
// Events the reference cannot hash (it raises on "inf", on times that round
// up to a full second, on non-string @type values …) are counted and
// skipped; bizTransactionList/sourceList/destinationList entries are given
// to it type first (see entryMemberOrder).
func TestDiffReference(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("EPCIS_DIFF_N"), &n)
	refDir := os.Getenv("EPCIS_REFERENCE_DIR")
	if n == 0 || refDir == "" {
		t.Skip("set EPCIS_REFERENCE_DIR and EPCIS_DIFF_N to compare with the reference implementation")
	}
	python := os.Getenv("EPCIS_PYTHON")
	if python == "" {
		python = "python3"
	}
	oracle, _ := filepath.Abs("testdata/refdiff/oracle.py")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	seed := int64(1)
	fmt.Sscan(os.Getenv("EPCIS_DIFF_SEED"), &seed)
	r := rand.New(rand.NewSource(seed))
	docs := make([]map[string]any, n)
	for i := range docs {
		docs[i] = genDoc(r)
	}
	b, _ := json.Marshal(docs)
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, oracle, in, out)
	cmd.Env = append(os.Environ(), "EPCIS_REFERENCE_DIR="+refDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v %s", err, out)
	}
	ob, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Prehashes []*string `json:"prehashes"`
		Error     string    `json:"error"`
	}
	if err := json.Unmarshal(ob, &res); err != nil || len(res) != len(docs) {
		t.Fatalf("oracle output: %v (%d results)", err, len(res))
	}
	bad, errs, single := 0, 0, 0
	for i, d := range docs {
		raw, _ := json.Marshal(d)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc map[string]any
		dec.Decode(&doc)
		_, pres, err := referenceHashes(doc)
		if res[i].Error != "" {
			errs++
			continue
		}
		if err != nil {
			t.Errorf("doc %d: %v", i, err)
			continue
		}
		if len(res[i].Prehashes) == 0 {
			errs++
			continue
		}
		if len(res[i].Prehashes) != len(pres) {
			t.Errorf("doc %d: count %d vs %d", i, len(pres), len(res[i].Prehashes))
			continue
		}
		ctx, _ := ContextOf(doc)
		evs, _ := referenceEvents(doc, ctx)
		for j := range evs {
			if h, err := Hash(evs[j], ctx); err == nil && EventID(h) != EventID(sha256.Sum256([]byte(pres[j]))) {
				single++
			}
		}
		for j := range pres {
			if res[i].Prehashes[j] == nil {
				errs++
				continue
			}
			if pres[j] != *res[i].Prehashes[j] {
				bad++
				if bad <= 5 {
					t.Errorf("doc %d event %d:\n doc %s\n got %s\n exp %s", i, j, raw, pres[j], *res[i].Prehashes[j])
				}
			}
		}
	}
	t.Logf("%d docs, %d mismatches, %d reference errors, %d events whose lone hash differs from the document's", n, bad, errs, single)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

var genIDs = []string{
	"urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:4012345.011111.9876", "urn:epc:id:sgtin:061414112345.1.A(b)*c",
	"urn:epc:id:sgtin:123456.1234567.%2F1", "urn:epc:id:sscc:4012345.0000000111", "urn:epc:id:sscc:061414112345.12345",
	"urn:epc:id:sgln:0012345.11111.400", "urn:epc:id:sgln:0012345.11111.0", "urn:epc:id:sgln:012345678901..x",
	"urn:epc:id:grai:4012345.55555.987", "urn:epc:id:grai:012345678901...5", "urn:epc:id:giai:4000001.111", "urn:epc:id:giai:4000001.A+B",
	"urn:epc:id:gsrn:4012345.0000012345", "urn:epc:id:gsrnp:4012345.0000012345", "urn:epc:id:gdti:0614141.00001.1618034",
	"urn:epc:id:cpi:0614141.123ABC.123456789", "urn:epc:id:sgcn:4012345.67890.04711", "urn:epc:id:ginc:4012345.AB12",
	"urn:epc:id:gsin:4012345.222333444", "urn:epc:id:itip:4012345.012345.01.02.987", "urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB",
	"urn:epc:id:pgln:4012345.00225", "urn:epc:class:lgtin:4012345.012345.998877", "urn:epc:idpat:sgtin:4012345.012345.*",
	"urn:epc:idpat:grai:4012345.55555.*", "urn:epc:idpat:gdti:4012345.55555.*", "urn:epc:idpat:sgcn:4012345.55555.*",
	"urn:epc:idpat:cpi:0614141.123ABC.*", "urn:epc:idpat:itip:4012345.012345.01.02.*", "urn:epc:idpat:upui:1234567.089456.*",
	"urn:epc:id:usdod:2S194.12345678901", "urn:epc:id:sgtin:0614141.107346", "urn:epc:id:bic:CSQU3054383",
	"https://id.gs1.org/01/09521234543213/21/1234", "https://example.com/gtin/9521234543213/lot/A1/ser/77?x=1",
	"https://id.example.org/01/614141999996/22/2A/10/ABC/21/456", "https://id.gs1.org/01/95212345432/10/LOT",
	"http://x.y/414/9521234543213/254/5", "https://id.gs1.de/sscc/106141411234567897", "https://id.gs1.org/8006/952123454321330102/21/a",
	"https://id.gs1.org/8010/0614141ABC/8011/12", "https://id.gs1.org/8004/4000001111", "https://example.org/8004/401234599999",
	"https://id.gs1.org/01/09521234543213/22/CPV", "https://id.gs1.org/00/106141411234567897?linkType=x", "https://id.gs1.org/253/4012345000054987",
	"http://transaction.acme.com/po/12345678", "urn:epcglobal:cbv:bt:0614141073467:1152", "urn:uuid:1c6e6f5c-5a4f-4d44-9bd4-7c0000000000",
	"0042", "42.0", "+3.1400", "1e-7", "1_000", "12345678901234567890", "nan", "inf", "text with space", "", " padded ", "a.b",
}

var genBiz = []string{"receiving", "shipping", "urn:epcglobal:cbv:bizstep:packing", "https://ref.gs1.org/cbv/BizStep-storing",
	"cbv:BizStep-loading", "https://example.com/bizstep/custom", "sensor_reporting", "BizStep-holding", "inspecting"}
var genDisp = []string{"in_progress", "in_transit", "urn:epcglobal:cbv:disp:active", "https://ref.gs1.org/cbv/Disp-damaged", "expired", "unknown"}
var genBTT = []string{"po", "desadv", "urn:epcglobal:cbv:btt:inv", "https://ref.gs1.org/cbv/BTT-bol", "https://example.com/btt/x"}
var genSDT = []string{"location", "owning_party", "urn:epcglobal:cbv:sdt:possessing_party", "https://ref.gs1.org/cbv/SDT-location"}
var genMeas = []string{"Temperature", "gs1:Temperature", "https://gs1.org/voc/RelativeHumidity", "AbsoluteHumidity", "example:someProp", "Mass"}

func genTime(r *rand.Rand) string {
	frac := pick(r, "", ".0", ".1", ".116", ".1415", ".1425", ".999", ".9995", ".123456", ".1234567", ".0005", ".0015", ".9999996")
	off := pick(r, "Z", "+01:00", "-06:00", "+05:30", "+00:00", "+0100")
	return fmt.Sprintf("20%02d-%02d-%02dT%02d:%02d:%02d%s%s", r.Intn(30), 1+r.Intn(12), 1+r.Intn(28), r.Intn(24), r.Intn(60), r.Intn(60), frac, off)
}

func genNumber(r *rand.Rand) any {
	return pick[any](r, json.Number("26.0"), json.Number("12.1"), json.Number("200"), json.Number("0.00001"), json.Number("1e20"),
		json.Number("-0.0"), json.Number("12345678901234567890"), json.Number("3.14159265358979"), json.Number("1E2"), json.Number("-5"))
}

func genScalar(r *rand.Rand) any {
	switch r.Intn(6) {
	case 0:
		return genNumber(r)
	case 1:
		return pick[any](r, true, false, nil)
	case 2:
		return pick(r, genBiz...)
	default:
		return pick(r, genIDs...)
	}
}

func genExt(r *rand.Rand, depth int) any {
	switch {
	case depth < 2 && r.Intn(3) == 0:
		m := map[string]any{}
		for i := r.Intn(4); i >= 0; i-- {
			m[pick(r, "example:", "ext1:", "noslash:", "gs1:", "")+pick(r, "a", "b", "myField", "source", "type", "zList", "childEPCs")] = genExt(r, depth+1)
		}
		return m
	case depth < 2 && r.Intn(4) == 0:
		var l []any
		for i := r.Intn(3); i >= 0; i-- {
			l = append(l, genExt(r, depth+1))
		}
		return l
	}
	return genScalar(r)
}

func genIDList(r *rand.Rand) []any {
	var l []any
	for i := r.Intn(4); i > 0; i-- {
		l = append(l, pick(r, genIDs...))
	}
	return l
}

func genDoc(r *rand.Rand) map[string]any {
	evs := []any{genEvent(r)}
	for r.Intn(3) == 0 {
		evs = append(evs, genEvent(r))
	}
	inline := map[string]any{"example": "https://ns.example.com/epcis/", "ext1": "http://example.com/ext1"}
	if r.Intn(3) == 0 {
		inline["gs1"] = "https://gs1.org/voc/"
	}
	return map[string]any{
		"@context":      []any{StandardContextIRI, inline},
		"type":          "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate":  "2005-07-11T11:30:47.0Z",
		"epcisBody":     map[string]any{"eventList": evs},
	}
}

func genEvent(r *rand.Rand) map[string]any {
	e := map[string]any{
		"type":                pick(r, "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"),
		"eventTime":           genTime(r),
		"eventTimeZoneOffset": pick(r, "+01:00", "-06:00", "+00:00"),
	}
	if e["type"] != "TransformationEvent" || r.Intn(3) == 0 {
		e["action"] = pick(r, "OBSERVE", "ADD", "DELETE")
	}
	maybe := func(p int, k string, v func() any) {
		if r.Intn(p) == 0 {
			e[k] = v()
		}
	}
	maybe(2, "epcList", func() any { return genIDList(r) })
	maybe(4, "childEPCs", func() any { return genIDList(r) })
	maybe(4, "inputEPCList", func() any { return genIDList(r) })
	maybe(4, "outputEPCList", func() any { return genIDList(r) })
	maybe(4, "parentID", func() any { return pick(r, genIDs...) })
	maybe(5, "recordTime", func() any { return genTime(r) })
	maybe(5, "eventID", func() any { return "ni:///sha-256;00?ver=CBV2.0" })
	maybe(5, "certificationInfo", func() any { return pick[any](r, "https://cert.example.com/1", []any{"https://a.example/x", "urn:x:y"}) })
	maybe(3, "bizStep", func() any { return pick(r, genBiz...) })
	maybe(3, "disposition", func() any { return pick(r, genDisp...) })
	maybe(5, "transformationID", func() any { return pick(r, genIDs...) })
	for _, ql := range []string{"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"} {
		maybe(5, ql, func() any {
			var l []any
			for i := r.Intn(3); i >= 0; i-- {
				q := map[string]any{"epcClass": pick(r, genIDs...)}
				if r.Intn(3) > 0 {
					q["quantity"] = genNumber(r)
				}
				if r.Intn(2) == 0 {
					q["uom"] = pick(r, "KGM", "LTR", "EA")
				}
				l = append(l, q)
			}
			return l
		})
	}
	maybe(3, "readPoint", func() any {
		m := map[string]any{"id": pick(r, genIDs...)}
		if r.Intn(4) == 0 {
			m[pick(r, "example:rp", "ext1:rp")] = genScalar(r)
		}
		return m
	})
	maybe(3, "bizLocation", func() any { return map[string]any{"id": pick(r, genIDs...)} })
	maybe(4, "persistentDisposition", func() any {
		return map[string]any{"set": []any{pick(r, genDisp...)}, "unset": []any{pick(r, genDisp...), pick(r, genDisp...)}}
	})
	for _, sl := range [][2]string{{"bizTransactionList", "bizTransaction"}, {"sourceList", "source"}, {"destinationList", "destination"}} {
		maybe(3, sl[0], func() any {
			var l []any
			for i := r.Intn(3); i >= 0; i-- {
				typ := genSDT
				if sl[0] == "bizTransactionList" {
					typ = genBTT
				}
				l = append(l, map[string]any{"type": pick(r, typ...), sl[1]: pick(r, genIDs...)})
			}
			return l
		})
	}
	maybe(3, "sensorElementList", func() any {
		var l []any
		for i := r.Intn(2); i >= 0; i-- {
			se := map[string]any{}
			if r.Intn(2) == 0 {
				md := map[string]any{"time": genTime(r), "deviceID": pick(r, genIDs...)}
				if r.Intn(3) == 0 {
					md["startTime"] = genTime(r)
					md["bizRules"] = pick(r, genIDs...)
				}
				if r.Intn(3) == 0 {
					md[pick(r, "example:m", "ext1:m")] = genScalar(r)
				}
				se["sensorMetadata"] = md
			}
			var reps []any
			for j := r.Intn(3); j >= 0; j-- {
				rep := map[string]any{"type": pick(r, genMeas...)}
				if r.Intn(3) > 0 {
					rep["value"] = genNumber(r)
					rep["uom"] = pick(r, "CEL", "A93", "KMH")
				}
				if r.Intn(4) == 0 {
					rep["exception"] = pick(r, "ALARM_CONDITION", "ERROR_CONDITION")
				}
				if r.Intn(4) == 0 {
					rep["booleanValue"] = r.Intn(2) == 0
				}
				if r.Intn(4) == 0 {
					rep["component"] = pick(r, "x", "example:x", "latitude")
				}
				if r.Intn(4) == 0 {
					rep["time"] = genTime(r)
				}
				if r.Intn(4) == 0 {
					rep["coordinateReferenceSystem"] = "https://epsg.io/4326"
				}
				if r.Intn(4) == 0 {
					rep[pick(r, "example:r", "ext1:r")] = genScalar(r)
				}
				reps = append(reps, rep)
			}
			se["sensorReport"] = reps
			if r.Intn(3) == 0 {
				se[pick(r, "example:e", "ext1:e")] = genExt(r, 0)
			}
			l = append(l, se)
		}
		return l
	})
	maybe(4, "ilmd", func() any {
		return map[string]any{"cbvmda:lotNumber": pick(r, "0042", "LOT1", "2014-02-10"), "example:best": genExt(r, 1)}
	})
	maybe(5, "errorDeclaration", func() any {
		return map[string]any{"declarationTime": genTime(r), "reason": "incorrect_data", "correctiveEventIDs": []any{"ni:///x"}}
	})
	for i := r.Intn(4); i > 0; i-- {
		e[pick(r, "example:", "ext1:", "noslash:", "http://other.example/")+pick(r, "f", "g", "h", "aList")] = genExt(r, 0)
	}
	return e
}
