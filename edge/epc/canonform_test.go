package epc

import (
	"bufio"
	"encoding/json"
	"math/rand"
	"os"
	"testing"
)

// differentialInputs returns the inputs of testdata/cbv-differential.jsonl
// and of the reference's own tests.
func differentialInputs(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/cbv-differential.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var v struct {
			In string `json:"in"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.In)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return append(out,
		"https://ref.gs1.org/cbv/BizStep-receiving", "https://gs1.org/voc/Temperature", "http://a.b/01/1234x", "https://x.y/01/123",
		"https://x.y/gtin/12345/", "https://x.y/ser/12345x", "https://x.y/01/١٢٣٤٥x", "https://x.y?/01/12345x", "http:/01/12345x",
		"https://x.y/01/12345x\n", "https://ümlaut.example/01/09521234543213", "https://x.y/8004/12345%2F", "http://x.y/00000/12345x",
		"https://id.gs1.org/01/09521234543213/21/1234\n", "https:", "http:", "https://", "https://x.y/01", "https://x.y/01/")
}

// mutate returns s with a few characters changed, inserted or removed.
func mutate(r *rand.Rand, s string) string {
	const alphabet = "0123456789./%:?#-_ABCXYZabcxyz!()*+,'\n"
	specials := []string{"١", "٣", "\u00a0", "é", "/01/", "/21/", "/10/", "/22/", "/gtin/", "/lot/", "/ser/", "..", "%2F", "%3c", "https://id.gs1.org"}
	u := []rune(s)
	for n := 1 + r.Intn(3); n > 0; n-- {
		var ins []rune
		if r.Intn(4) == 0 {
			ins = []rune(specials[r.Intn(len(specials))])
		} else {
			ins = []rune{rune(alphabet[r.Intn(len(alphabet))])}
		}
		i := 0
		if len(u) > 0 {
			i = r.Intn(len(u))
		}
		switch r.Intn(3) {
		case 0:
			u = append(u[:i:i], append(ins, u[i:]...)...)
		case 1:
			if len(u) > 0 {
				u = append(u[:i:i], u[i+1:]...)
			}
		default:
			if len(u) > 0 {
				u = append(u[:i:i], append(ins, u[i+1:]...)...)
			}
		}
	}
	return string(u)
}

func checkCanonicalForm(t testing.TB, in string) {
	t.Helper()
	want, werr := legacy_ToDigitalLink(in)
	if got := CanonicalForm(in); got != want {
		t.Fatalf("CanonicalForm(%q) = %q, legacy ToDigitalLink %q", in, got, want)
	}
	if got := AppendCanonicalForm([]byte("prefix:"), in); string(got) != "prefix:"+want {
		t.Fatalf("AppendCanonicalForm(%q) = %q, legacy ToDigitalLink %q", in, got, want)
	}
	got, err := ToDigitalLink(in)
	if got != want || (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
		t.Fatalf("ToDigitalLink(%q) = %q, %v; legacy %q, %v", in, got, err, want, werr)
	}
}

// TestCanonicalFormMatchesLegacy compares CanonicalForm and ToDigitalLink
// with the implementation they replaced (legacycbv_test.go) on the
// differential inputs and mutations of them.
func TestCanonicalFormMatchesLegacy(t *testing.T) {
	ins := differentialInputs(t)
	r := rand.New(rand.NewSource(1))
	n := 5
	if testing.Short() {
		n = 1
	}
	for _, in := range ins {
		checkCanonicalForm(t, in)
		for i := 0; i < n; i++ {
			checkCanonicalForm(t, mutate(r, in))
		}
	}
}

func FuzzCanonicalFormMatchesLegacy(f *testing.F) {
	for _, in := range differentialInputs(f)[:200] {
		f.Add(in)
	}
	f.Add("https://ref.gs1.org/cbv/BizStep-receiving")
	f.Add("urn:epc:id:sgln:4012345.00005.0")
	f.Fuzz(func(t *testing.T, in string) {
		checkCanonicalForm(t, in)
	})
}

// BenchmarkCanonicalForm is BenchmarkToDigitalLink for CanonicalForm, the
// function the event hash calls.
func BenchmarkCanonicalForm(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"sgtin-urn", "urn:epc:id:sgtin:0614141.812345.6789"},
		{"sgln-urn", "urn:epc:id:sgln:4012345.00005.0"},
		{"digital-link", "https://example.com/gtin/9506000134352/lot/ABC/ser/1?17=261231"},
		{"not-an-id", "https://ref.gs1.org/cbv/BizStep-receiving"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				CanonicalForm(c.in)
			}
		})
	}
}

// TestIsGateKey: isGateKey is gateKeys.
func TestIsGateKey(t *testing.T) {
	for k := range gateKeys {
		if !isGateKey(k) {
			t.Errorf("isGateKey(%q) = false", k)
		}
	}
	n := 0
	for _, k := range []string{"01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp", "8018", "gsrn",
		"255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin", "8003", "grai", "8004", "giai",
		"", "0", "1", "21", "10", "22", "ser", "lot", "cpv", "235", "254", "8011", "8019", "GTIN", "01 ", "0100", "gtins"} {
		if isGateKey(k) != gateKeys[k] {
			t.Errorf("isGateKey(%q) = %v, gateKeys says %v", k, isGateKey(k), gateKeys[k])
		}
		if gateKeys[k] {
			n++
		}
	}
	if n != len(gateKeys) {
		t.Errorf("gateKeys has %d keys, the list %d", len(gateKeys), n)
	}
}
