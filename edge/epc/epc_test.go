package epc

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestCheckDigit(t *testing.T) {
	// Check digits of published keys (GS1 General Specifications examples
	// and the TDS examples).
	for _, key := range []string{"09506000134352", "80614141123458", "106141412345678908", "0614141123452", "96385074", "036000291452", "401234598765400000"} {
		if !ValidCheckDigit(key) {
			t.Errorf("ValidCheckDigit(%s) = false", key)
		}
		cd, err := CheckDigit(key[:len(key)-1])
		if err != nil || cd != key[len(key)-1] {
			t.Errorf("CheckDigit(%s) = %c, %v", key[:len(key)-1], cd, err)
		}
		bad := key[:len(key)-1] + string('0'+(key[len(key)-1]-'0'+1)%10)
		if ValidCheckDigit(bad) {
			t.Errorf("ValidCheckDigit(%s) = true", bad)
		}
	}
	if _, err := CheckDigit(""); !errors.Is(err, ErrLength) {
		t.Errorf("CheckDigit(\"\"): %v", err)
	}
	if _, err := CheckDigit("12a"); !errors.Is(err, ErrCharset) {
		t.Errorf("CheckDigit(12a): %v", err)
	}
	for _, k := range []string{"", "1", "1x", "x0"} {
		if ValidCheckDigit(k) {
			t.Errorf("ValidCheckDigit(%q) = true", k)
		}
	}
}

func TestParseURIAllSchemes(t *testing.T) {
	tests := []struct {
		uri  string
		want EPC
		dl   string // EPC.DigitalLink on the default base
	}{
		{"urn:epc:id:sgtin:0614141.812345.6789", EPC{Scheme: SGTIN, CompanyPrefix: "0614141", Reference: "812345", Serial: "6789"}, "https://id.gs1.org/01/80614141123458/21/6789"},
		{"urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()", EPC{Scheme: SGTIN, CompanyPrefix: "0614141", Reference: "812345", Serial: `6789/&%"!?()`}, "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29"},
		{"urn:epc:id:sscc:4012345.0000000011", EPC{Scheme: SSCC, CompanyPrefix: "4012345", Reference: "0000000011"}, "https://id.gs1.org/00/040123450000000115"},
		{"urn:epc:id:sgln:4012345.00005.0", EPC{Scheme: SGLN, CompanyPrefix: "4012345", Reference: "00005", Serial: "0"}, "https://id.gs1.org/414/4012345000054"},
		{"urn:epc:id:sgln:061411123456..01", EPC{Scheme: SGLN, CompanyPrefix: "061411123456", Serial: "01"}, "https://id.gs1.org/414/0614111234560/254/01"},
		{"urn:epc:id:grai:4012345.00022.334455", EPC{Scheme: GRAI, CompanyPrefix: "4012345", Reference: "00022", Serial: "334455"}, "https://id.gs1.org/8003/04012345000221334455"},
		{"urn:epc:id:giai:4012345.ABC345", EPC{Scheme: GIAI, CompanyPrefix: "4012345", Serial: "ABC345"}, "https://id.gs1.org/8004/4012345ABC345"},
		{"urn:epc:id:gsrn:4012345.0000006765", EPC{Scheme: GSRN, CompanyPrefix: "4012345", Reference: "0000006765"}, "https://id.gs1.org/8018/401234500000067657"},
		{"urn:epc:id:gsrnp:4012345.0000000007", EPC{Scheme: GSRNP, CompanyPrefix: "4012345", Reference: "0000000007"}, "https://id.gs1.org/8017/401234500000000074"},
		{"urn:epc:id:gdti:4012345.00009.PO-4711", EPC{Scheme: GDTI, CompanyPrefix: "4012345", Reference: "00009", Serial: "PO-4711"}, "https://id.gs1.org/253/4012345000092PO-4711"},
		{"urn:epc:id:gdti:987659999999..9", EPC{Scheme: GDTI, CompanyPrefix: "987659999999", Serial: "9"}, "https://id.gs1.org/253/98765999999929"},
		{"urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234", EPC{Scheme: CPI, CompanyPrefix: "0614141", Reference: "11111111111111-A#/", Serial: "1234"}, "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234"},
		{"urn:epc:id:sgcn:4012345.67890.04711", EPC{Scheme: SGCN, CompanyPrefix: "4012345", Reference: "67890", Serial: "04711"}, "https://id.gs1.org/255/401234567890104711"},
		{"urn:epc:id:ginc:0614141.xyz47%2F11", EPC{Scheme: GINC, CompanyPrefix: "0614141", Serial: "xyz47/11"}, "https://id.gs1.org/401/0614141xyz47%2F11"},
		{"urn:epc:id:gsin:4012345.222333444", EPC{Scheme: GSIN, CompanyPrefix: "4012345", Reference: "222333444"}, "https://id.gs1.org/402/40123452223334442"},
		{"urn:epc:id:itip:4012345.011111.01.02.987", EPC{Scheme: ITIP, CompanyPrefix: "4012345", Reference: "011111", Piece: "01", Total: "02", Serial: "987"}, "https://id.gs1.org/8006/040123451111180102/21/987"},
		{"urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7SDB", EPC{Scheme: UPUI, CompanyPrefix: "1234567", Reference: "098765", Serial: "51qIgY)<&Jp3*j7SDB"}, "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7SDB"},
		{"urn:epc:id:pgln:4000001.00000", EPC{Scheme: PGLN, CompanyPrefix: "4000001", Reference: "00000"}, "https://id.gs1.org/417/4000001000005"},
		{"urn:epc:id:pgln:999999999999.", EPC{Scheme: PGLN, CompanyPrefix: "999999999999"}, "https://id.gs1.org/417/9999999999994"},
		{"urn:epc:class:lgtin:4012345.012345.Lot987", EPC{Scheme: LGTIN, CompanyPrefix: "4012345", Reference: "012345", Lot: "Lot987"}, "https://id.gs1.org/01/04012345123456/10/Lot987"},
	}
	for _, tt := range tests {
		tt.want.Filter = -1
		e, err := ParseURI(tt.uri)
		if err != nil || e != tt.want {
			t.Errorf("ParseURI(%s) = %+v, %v; want %+v", tt.uri, e, err, tt.want)
			continue
		}
		if got := e.URI(); got != tt.uri {
			t.Errorf("URI() = %s, want %s", got, tt.uri)
		}
		if got, err := e.DigitalLink(""); err != nil || got != tt.dl {
			t.Errorf("%s: DigitalLink = %s, %v; want %s", tt.uri, got, err, tt.dl)
		}
		if got, err := e.DigitalLink("https://example.com/"); err != nil || got != strings.Replace(tt.dl, DefaultDigitalLinkBase, "https://example.com", 1) {
			t.Errorf("%s: DigitalLink(example.com) = %s, %v", tt.uri, got, err)
		}
		if got, err := ToDigitalLink(tt.uri); err != nil || got != tt.dl {
			t.Errorf("ToDigitalLink(%s) = %s, %v; want %s", tt.uri, got, err, tt.dl)
		}
	}
}

func TestParseURILenient(t *testing.T) {
	want := EPC{Scheme: SGTIN, Filter: -1, CompanyPrefix: "0614141", Reference: "812345", Serial: "a/b"}
	for _, s := range []string{
		"urn:epc:id:sgtin:0614141.812345.a%2Fb",
		"urn:epc:id:sgtin:0614141.812345.a%2fb",
		"URN:EPC:ID:SGTIN:0614141.812345.a%2Fb",
		" urn:epc:id:sgtin:0614141.812345.%61%2Fb\n",
	} {
		if e, err := ParseURI(s); err != nil || e != want {
			t.Errorf("ParseURI(%q) = %+v, %v", s, e, err)
		}
	}
	if got := want.URI(); got != "urn:epc:id:sgtin:0614141.812345.a%2Fb" {
		t.Errorf("canonical URI %s", got)
	}
}

func TestKeys(t *testing.T) {
	e, _ := ParseURI("urn:epc:id:sgtin:0614141.812345.6789")
	if g, err := e.GTIN(); err != nil || g != "80614141123458" {
		t.Errorf("GTIN = %s, %v", g, err)
	}
	l, _ := ParseURI("urn:epc:class:lgtin:4012345.012345.Lot987")
	if g, err := l.GTIN(); err != nil || g != "04012345123456" {
		t.Errorf("LGTIN GTIN = %s, %v", g, err)
	}
	s, _ := ParseURI("urn:epc:id:sscc:0614141.1234567890")
	if v, err := s.SSCC(); err != nil || v != "106141412345678908" {
		t.Errorf("SSCC = %s, %v", v, err)
	}
	g, _ := ParseURI("urn:epc:id:sgln:0614141.12345.400")
	if v, err := g.GLN(); err != nil || v != "0614141123452" {
		t.Errorf("GLN = %s, %v", v, err)
	}
	if _, err := s.GTIN(); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "a sscc EPC has no GTIN") {
		t.Errorf("SSCC.GTIN: %v", err)
	}
	if _, err := e.SSCC(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SGTIN.SSCC: %v", err)
	}
	if _, err := e.GLN(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SGTIN.GLN: %v", err)
	}
	bad := e
	bad.Reference = "81234"
	if _, err := bad.GTIN(); !errors.Is(err, ErrLength) {
		t.Errorf("invalid EPC GTIN: %v", err)
	}
	if _, err := bad.DigitalLink(""); !errors.Is(err, ErrLength) {
		t.Errorf("invalid EPC DigitalLink: %v", err)
	}
}

// randomEPC returns a valid EPC of the scheme with random values.
func randomEPC(r *rand.Rand, s Scheme) EPC {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	const cset = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	text := func(lo, hi int, set string) string {
		b := make([]byte, lo+r.IntN(hi-lo+1))
		for i := range b {
			b[i] = set[r.IntN(len(set))]
		}
		return string(b)
	}
	number := func(bits int) string { // an integer field value, sometimes the maximum
		if r.IntN(8) == 0 {
			return strconv.FormatUint(1<<uint(bits)-1, 10)
		}
		return strconv.FormatUint(r.Uint64N(1<<uint(bits)), 10)
	}
	k := 6 + r.IntN(7)
	e := EPC{Scheme: s, Filter: -1, CompanyPrefix: digits(k)}
	sp := specs[s]
	if sp.keyDigits > 0 {
		e.Reference = digits(sp.keyDigits - k)
	}
	serialish := func(max int, numericBits int) string {
		if numericBits > 0 && r.IntN(2) == 0 {
			return number(numericBits)
		}
		return text(1, max, cset)
	}
	switch s {
	case SGTIN:
		e.Serial = serialish(20, 38)
	case LGTIN:
		e.Lot = text(1, 20, cset)
	case UPUI:
		e.Serial = text(1, 28, cset)
	case ITIP:
		e.Piece, e.Total, e.Serial = digits(2), digits(2), text(1, 20, cset)
	case SGLN:
		e.Serial = serialish(20, 41)
	case GRAI:
		e.Serial = serialish(16, 38)
	case GDTI:
		e.Serial = text(1, 17, cset)
	case SGCN:
		e.Serial = digits(1 + r.IntN(12))
	case GIAI:
		e.Serial = serialish(30-k, giai96Parts[12-k].refBits)
	case GINC:
		e.Serial = text(1, 30-k, cset)
	case CPI:
		e.Reference = text(1, 30-k, "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
		e.Serial = number(39)
	}
	return e
}

var allSchemes = []Scheme{SGTIN, SSCC, SGLN, GRAI, GIAI, GSRN, GSRNP, GDTI, SGCN, CPI, GINC, GSIN, ITIP, UPUI, PGLN, LGTIN}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	encoded := map[string]int{}
	for i := 0; i < 20000; i++ {
		s := allSchemes[i%len(allSchemes)]
		e := randomEPC(r, s)
		if err := e.Validate(); err != nil {
			t.Fatalf("generated invalid %+v: %v", e, err)
		}
		// URI round trip.
		if p, err := ParseURI(e.URI()); err != nil || p != e {
			t.Fatalf("ParseURI(%s) = %+v, %v; want %+v", e.URI(), p, err, e)
		}
		// Binary round trip through the shortest encoding.
		if len(encodingsFor(s)) > 0 {
			f := r.IntN(8)
			hex, err := e.EncodeHex(f)
			if err != nil {
				t.Fatalf("EncodeHex(%+v): %v", e, err)
			}
			d, enc, err := decodeHex(hex)
			want := e
			want.Filter = f
			if err != nil || d != want {
				t.Fatalf("DecodeHex(%s) = %+v, %v; want %+v", hex, d, err, want)
			}
			encoded[enc.name]++
			tag, err := e.TagURI(f)
			if err != nil || !strings.HasPrefix(tag, prefixTag+enc.name+":") {
				t.Fatalf("TagURI = %s, %v (encoded as %s)", tag, err, enc.name)
			}
			if p, err := ParseURI(tag); err != nil || p != want {
				t.Fatalf("ParseURI(%s) = %+v, %v", tag, p, err)
			}
		}
		// Digital Link round trip, and agreement with the CBV reference
		// behaviour.
		dl, err := e.DigitalLink("")
		if err != nil {
			t.Fatalf("DigitalLink(%+v): %v", e, err)
		}
		d, err := ParseDigitalLink(dl)
		if err != nil {
			t.Fatalf("ParseDigitalLink(%s): %v", dl, err)
		}
		if got := DefaultDigitalLinkBase + d.Path(); got != dl {
			t.Fatalf("Path of %s = %s", dl, got)
		}
		back, err := FromDigitalLink(d, len(e.CompanyPrefix))
		if err != nil || back != e {
			t.Fatalf("FromDigitalLink(%s, %d) = %+v, %v; want %+v", dl, len(e.CompanyPrefix), back, err, e)
		}
		cbv, err := ToDigitalLink(e.URI())
		if s == GRAI && len(e.CompanyPrefix) == 12 && !strings.HasPrefix(e.Serial, ".") {
			// Reference quirk: its GRAI pattern wants a third dot here, so
			// only serials that start with "." get through.
			if cbv != e.URI() || !errors.Is(err, ErrUnsupported) {
				t.Fatalf("ToDigitalLink(%s) = %s, %v; the reference leaves it", e.URI(), cbv, err)
			}
			continue
		}
		if err != nil || cbv != dl {
			t.Fatalf("ToDigitalLink(%s) = %s, %v; DigitalLink gives %s", e.URI(), cbv, err, dl)
		}
	}
	for _, enc := range encodings {
		if encoded[enc.name] == 0 {
			t.Errorf("no random EPC was encoded as %s", enc.name)
		}
	}
}

func TestToDigitalLinkQuirks(t *testing.T) {
	tests := []struct {
		name, in, want string
		kind           Kind // 0: nil error
	}{
		{"sgln extension 0 gives no /254/", "urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054", 0},
		{"sgln extension 00 keeps /254/", "urn:epc:id:sgln:4012345.00005.00", "https://id.gs1.org/414/4012345000054/254/00", 0},
		{"EPC escapes are kept as written", "urn:epc:id:sgtin:0614141.812345.a%2fb%41", "https://id.gs1.org/01/80614141123458/21/a%2fb%41", 0},
		{"grai with a 12-digit prefix is left", "urn:epc:id:grai:123456789012..5", "urn:epc:id:grai:123456789012..5", ErrUnsupported},
		{"grai with three dots is converted", "urn:epc:id:grai:123456789012...5", "https://id.gs1.org/8003/01234567890128.5", 0},
		{"gdti without the separating dot", "urn:epc:id:gdti:0614141.12345400", "https://id.gs1.org/253/061414112345200", 0},
		{"digital link check digit not verified", "https://example.com/01/09506000134353", "https://id.gs1.org/01/09506000134353", 0},
		{"no dot, no conversion", "http://localhost/01/09506000134352", "http://localhost/01/09506000134352", ErrUnsupported},
		{"host dots are regexp dots", "https://idXgs1.org/01/09506000134352", "https://idXgs1.org/01/09506000134352", 0},
		{"unicode digits", "urn:epc:id:sgtin:٠٦١٤١٤١.812345.6789", "https://id.gs1.org/01/8٠٦١٤١٤١123458/21/6789", 0},
		{"trailing newline kept in the serial", "urn:epc:id:sgtin:0614141.812345.6789\n", "https://id.gs1.org/01/80614141123458/21/6789\n", 0},
		{"trailing newline in an SSCC fails the reference", "urn:epc:id:sscc:0614141.1234567890\n", "urn:epc:id:sscc:0614141.1234567890\n", ErrSyntax},
		{"http becomes https, short names numeric", "http://example.com/gtin/9506000134352/lot/A1/ser/S1?x=y", "https://id.gs1.org/01/09506000134352/21/S1", 0},
		{"query-only qualifiers dropped", "https://id.gs1.org/01/09506000134352?10=ABC", "https://id.gs1.org/01/09506000134352", 0},
		{"percent in a digital link value: not converted", "https://id.gs1.org/01/09506000134352/21/A%2FB", "https://id.gs1.org/01/09506000134352/21/A%2FB", ErrUnsupported},
		{"idpat gives the class key", "urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456", 0},
		{"tag URIs are not converted", "urn:epc:tag:sgtin-96:3.0614141.812345.6789", "urn:epc:tag:sgtin-96:3.0614141.812345.6789", ErrUnsupported},
		{"upper-case URN is not converted", "URN:EPC:ID:SGTIN:0614141.812345.6789", "URN:EPC:ID:SGTIN:0614141.812345.6789", ErrUnsupported},
		{"malformed EPC URI", "urn:epc:id:sgtin:0614141.81234.6789", "urn:epc:id:sgtin:0614141.81234.6789", ErrLength},
		{"malformed digital link", "http://example.de/01/97803", "http://example.de/01/97803", ErrLength},
		{"ordinary web URI", "https://example.com/page.html", "https://example.com/page.html", 0},
		{"CBV vocabulary", "https://ref.gs1.org/cbv/BizStep-receiving", "https://ref.gs1.org/cbv/BizStep-receiving", 0},
		{"plain value", "42.5", "42.5", 0},
		{"empty", "", "", 0},
	}
	for _, tt := range tests {
		got, err := ToDigitalLink(tt.in)
		if got != tt.want {
			t.Errorf("%s: ToDigitalLink(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if tt.kind == 0 && err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
		}
		if tt.kind != 0 && !errors.Is(err, tt.kind) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.kind)
		}
	}
}
