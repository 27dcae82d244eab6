package epcis

// This file is tracegate's own port of the reference implementation's
// Digital Link normaliser (dl_normaliser.py), written before edge/epc
// existed. The hash now uses epc.ToDigitalLink; this port stays as an
// independent cross-check of it (TestDigitalLinkPortsAgree).

import (
	"math/rand"
	"slices"
	"testing"

	"errors"
	"fmt"
	"github.com/tracegate/tracegate/edge/epc"
	"regexp"
	"strings"
)

// refNormaliseGS1URI converts a GS1 identifier the way the reference hash
// implementation's Digital Link normaliser does: EPC URNs (instance, class
// and pattern URIs) become canonical https://id.gs1.org/ URIs with computed
// check digits, and Digital Link URIs are canonicalised (numeric AIs, the
// id.gs1.org domain, GTIN-14, no CPV, no query, only the finest key level).
// It reports false for anything else, which the hash then uses as written.
func refNormaliseGS1URI(s string) (string, bool) {
	// The reference gives up on values without a dot before trying anything.
	if !strings.Contains(s, ".") {
		return "", false
	}
	if strings.HasPrefix(s, "urn:epc:") {
		dl, err := urnToDigitalLink(s)
		if err == nil && dl != s {
			return dl, true
		}
		return "", false
	}
	return normaliseDigitalLink(s)
}

// dlShape is the reference's test for "a Digital Link URI": http(s), an
// authority, a path with a primary key AI (or its short name) followed by a
// value of at least five characters (or a 10-letter compressed path).
var dlShape = regexp.MustCompile(`^https?:(//((([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?))?((([^?#]*)(/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)/)(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(/[A-Za-z_-]{10}$))`)

// dlCanonicalRoot is a Digital Link already rooted at id.gs1.org (the dots
// match any character, as in the reference).
var dlCanonicalRoot = regexp.MustCompile(`^(?:https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/\d{4}[^/]+|/[A-Za-z_-]{10}$)`)

// dlShortNameOrder maps key and qualifier short names to numeric AIs, in
// the order the reference replaces them.
var dlShortNameOrder = [][2]string{
	{"/gtin/", "/01/"}, {"/itip/", "/8006/"}, {"/cpid/", "/8010/"}, {"/gln/", "/414/"},
	{"/party/", "/417/"}, {"/gsrnp/", "/8017/"}, {"/gsrn/", "/8018/"}, {"/gcn/", "/255/"},
	{"/sscc/", "/00/"}, {"/gdti/", "/253/"}, {"/ginc/", "/401/"}, {"/gsin/", "/402/"},
	{"/grai/", "/8003/"}, {"/giai/", "/8004/"}, {"/cpv/", "/22/"}, {"/lot/", "/10/"},
	{"/ser/", "/21/"},
}

// dlRerootOrder is the order in which the reference looks for a primary
// key to re-root a foreign-domain Digital Link on id.gs1.org.
var dlRerootOrder = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/",
	"/417/", "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}

// dlChar is the character set the reference allows in Digital Link values.
const dlChar = `[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]`

var (
	dlGTIN13  = regexp.MustCompile(`^https://id.gs1.org/01/\d{13}`)
	dlGTIN14  = regexp.MustCompile(`^https://id.gs1.org/01/\d{14}`)
	dlGTIN12  = regexp.MustCompile(`^https://id.gs1.org/01/\d{12}`)
	dlGTIN8   = regexp.MustCompile(`^https://id.gs1.org/01/\d{8}`)
	dlCPVLast = regexp.MustCompile(`^https://id.gs1.org/(8006/\d{18}|01/\d{14})/22/` + dlChar + `{0,20}$`)
	dlCPVMid  = regexp.MustCompile(`^https://id.gs1.org/(8006/\d{18}|01/\d{14})/22/[\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20}$`)
	dlLotSer  = regexp.MustCompile(`^https://id.gs1.org/(8006/\d{18}|01/\d{14})/10/` + dlChar + `{0,20}/21/` + dlChar + `{0,20}$`)
	dlValid   = regexp.MustCompile(`^https://id.gs1.org/(` +
		`00/\d{18}` +
		`|01/\d{14}(/21/` + dlChar + `{0,20}|/10/` + dlChar + `{0,20}|/235/` + dlChar + `{0,28})?` +
		`|253/\d{13}` + dlChar + `{0,17}` +
		`|255/\d{13}\d{0,12}` +
		`|401/` + dlChar + `{0,30}` +
		`|402/\d{17}` +
		`|414/\d{13}(/254/` + dlChar + `{0,20})?` +
		`|417/\d{13}` +
		`|8003/\d{14}` + dlChar + `{0,16}` +
		`|8004/` + dlChar + `{0,30}` +
		`|8006/\d{18}(/21/` + dlChar + `{0,20}|/10/` + dlChar + `{0,20})?` +
		`|8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}(/8011/\d{0,12})?` +
		`|8017/\d{18}` +
		`|8018/\d{18}` +
		`)$`)
)

// normaliseDigitalLink canonicalises a GS1 Digital Link URI.
func normaliseDigitalLink(uri string) (string, bool) {
	if !dlShape.MatchString(uri) {
		return "", false
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	for _, r := range dlShortNameOrder {
		uri = strings.ReplaceAll(uri, r[0], r[1])
	}
	if !dlCanonicalRoot.MatchString(uri) {
		for _, ai := range dlRerootOrder {
			if i := strings.Index(uri, ai); i >= 0 {
				uri = "https://id.gs1.org" + uri[i:]
				break
			}
		}
	}
	// GTIN-8, -12 and -13 are padded to 14 digits (every "/01/" in the URI
	// gets the zeros, as in the reference).
	if !dlGTIN14.MatchString(uri) {
		switch {
		case dlGTIN13.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/0")
		case dlGTIN12.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/00")
		case dlGTIN8.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/000000")
		}
	}
	// Drop a consumer product variant, alone or before other qualifiers.
	if dlCPVLast.MatchString(uri) {
		uri = uri[:strings.Index(uri, "/22/")]
	} else if dlCPVMid.MatchString(uri) {
		i := strings.Index(uri, "/22/")
		rest := uri[i+4:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			uri = uri[:i] + rest[j:]
		} else {
			uri = uri[:i] + rest[len(rest)-1:]
		}
	}
	// Keep only the finest identification level: a serial makes the lot go.
	if dlLotSer.MatchString(uri) {
		i := strings.Index(uri, "/10/")
		rest := uri[i+4:]
		uri = uri[:i] + rest[strings.IndexByte(rest, '/'):]
	}
	if dlValid.MatchString(uri) {
		return uri, true
	}
	return "", false
}

// errNotConvertible reports an EPC URN the reference does not convert.
var errNotConvertible = errors.New("epcis: EPC URN has no Digital Link form")

// urnRule is one EPC URN scheme: its syntax and how its GS1 key is built.
type urnRule struct {
	re    *regexp.Regexp
	build func(uri string, dot int) string
}

// Syntax building blocks of the reference's EPC URN patterns.
const (
	// xc is one character of a TDS "GS3A3" component: a safe character or
	// one of the allowed percent escapes.
	xc = `(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])`
	// cpc is one character of a CPI component reference.
	cpc = `(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])`
)

// gcpSplit is the alternation "company prefix '.' reference" for company
// prefixes of 6 to 12 digits and a reference of total-n digits. With
// doubleDot, a 12-digit company prefix is followed by two dots (an empty
// reference plus the separator, as the reference's GRAI/GDTI patterns read).
func gcpSplit(total int, doubleDot bool) string {
	alts := make([]string, 0, 7)
	for n := 6; n <= 12; n++ {
		if n == 12 && doubleDot {
			alts = append(alts, `\d{12}\.\.`)
			continue
		}
		alts = append(alts, fmt.Sprintf(`\d{%d}\.\d{%d}`, n, total-n))
	}
	return "(?:" + strings.Join(alts, "|") + ")"
}

// gcpVar is the alternation "company prefix '.' chars" whose total length
// stays within max characters (GIAI, GINC, CPI).
func gcpVar(max int, char string) string {
	alts := make([]string, 0, 7)
	for n := 6; n <= 12; n++ {
		alts = append(alts, fmt.Sprintf(`\d{%d}\.%s{1,%d}`, n, char, max-n))
	}
	return "(?:" + strings.Join(alts, "|") + ")"
}

var urnRules = []urnRule{
	{rx(`urn:epc:id:sgtin:` + gcpSplit(13, false) + `\.` + xc + `{1,20}$`), func(u string, d int) string {
		return dlGTIN(u, 17, d) + "/21/" + dlEscape(u[32:])
	}},
	{rx(`urn:epc:id:sscc:` + gcpSplit(17, false) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/00/" + withCheckDigit(u[d+1:d+2]+u[16:d]+u[d+2:])
	}},
	{rx(`urn:epc:id:sgln:` + gcpSplit(12, false) + `\.` + xc + `{1,20}$`), func(u string, d int) string {
		gln := "https://id.gs1.org/414/" + withCheckDigit(u[16:d]+u[d+1:d+1+12-(d-16)])
		if ext := u[30:]; ext != "0" {
			return gln + "/254/" + dlEscape(ext)
		}
		return gln
	}},
	{rx(`urn:epc:id:grai:` + gcpSplit(12, true) + `\.` + xc + `{1,16}$`), func(u string, d int) string {
		return "https://id.gs1.org/8003/" + withCheckDigit("0"+u[16:d]+u[d+1:d+1+12-(d-16)]) + dlEscape(u[30:])
	}},
	{rx(`urn:epc:id:giai:` + gcpVar(30, xc) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/8004/" + u[16:d] + dlEscape(u[d+1:])
	}},
	{rx(`urn:epc:id:gsrn:` + gcpSplit(17, false) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/8018/" + withCheckDigit(u[16:d]+u[d+1:])
	}},
	{rx(`urn:epc:id:gsrnp:` + gcpSplit(17, false) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/8017/" + withCheckDigit(u[17:d]+u[d+1:])
	}},
	{rx(`urn:epc:id:gdti:` + gcpSplit(12, true) + xc + `{1,20}$`), func(u string, d int) string {
		return "https://id.gs1.org/253/" + withCheckDigit(u[16:d]+u[d+1:d+1+12-(d-16)]) + dlEscape(u[30:])
	}},
	{rx(`urn:epc:id:cpi:` + gcpVar(30, cpc) + `\.\d{1,12}$`), func(u string, d int) string {
		sep := strings.LastIndexByte(u, '.')
		return "https://id.gs1.org/8010/" + dlEscape(u[15:d]+u[d+1:sep]) + "/8011/" + u[sep+1:]
	}},
	{rx(`urn:epc:id:sgcn:` + gcpSplit(12, false) + `\.\d{1,12}$`), func(u string, d int) string {
		return "https://id.gs1.org/255/" + withCheckDigit(u[16:d]+u[d+1:d+1+12-(d-16)]) + u[30:]
	}},
	{rx(`urn:epc:id:ginc:` + gcpVar(30, xc) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/401/" + u[16:d] + dlEscape(u[d+1:])
	}},
	{rx(`urn:epc:id:gsin:` + gcpSplit(16, false) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/402/" + withCheckDigit(u[16:d]+u[d+1:])
	}},
	{rx(`urn:epc:id:itip:` + gcpSplit(13, false) + `\.\d{2}\.\d{2}\.` + xc + `{1,20}$`), func(u string, d int) string {
		return "https://id.gs1.org/8006/" + gtinDigits(u, 16, d) + u[31:33] + u[34:36] + "/21/" + dlEscape(u[37:])
	}},
	{rx(`urn:epc:id:upui:` + gcpSplit(13, false) + `\.` + xc + `{1,28}$`), func(u string, d int) string {
		return dlGTIN(u, 16, d) + "/235/" + dlEscape(u[31:])
	}},
	{rx(`urn:epc:id:pgln:` + gcpSplit(12, false) + `$`), func(u string, d int) string {
		return "https://id.gs1.org/417/" + withCheckDigit(u[16:d]+u[d+1:d+1+12-(d-16)])
	}},
	{rx(`urn:epc:class:lgtin:` + gcpSplit(13, false) + `\.` + xc + `{1,20}$`), func(u string, d int) string {
		return dlGTIN(u, 20, d) + "/10/" + dlEscape(u[35:])
	}},
	{rx(`urn:epc:idpat:sgtin:` + gcpSplit(13, false) + `\.\*$`), func(u string, d int) string {
		return dlGTIN(u, 20, d)
	}},
	{rx(`urn:epc:idpat:grai:` + gcpSplit(12, true) + `\.\*$`), func(u string, d int) string {
		return "https://id.gs1.org/8003/" + withCheckDigit("0"+u[19:d]+u[d+1:d+1+12-(d-19)])
	}},
	{rx(`urn:epc:idpat:gdti:` + gcpSplit(12, true) + `\.\*$`), func(u string, d int) string {
		return "https://id.gs1.org/253/" + withCheckDigit(u[19:d]+u[d+1:d+1+12-(d-19)])
	}},
	{rx(`urn:epc:idpat:sgcn:` + gcpSplit(12, true) + `\.\*$`), func(u string, d int) string {
		return "https://id.gs1.org/255/" + withCheckDigit(u[19:d]+u[d+1:d+1+12-(d-19)])
	}},
	{rx(`urn:epc:idpat:cpi:` + gcpVar(30, cpc) + `\.\*$`), func(u string, d int) string {
		sep := strings.LastIndexByte(u, '.')
		return "https://id.gs1.org/8010/" + dlEscape(u[18:d]+u[d+1:sep])
	}},
	{rx(`urn:epc:idpat:itip:` + gcpSplit(13, false) + `\.\d{2}\.\d{2}\.\*$`), func(u string, d int) string {
		return "https://id.gs1.org/8006/" + gtinDigits(u, 19, d) + u[34:36] + u[37:39]
	}},
	{rx(`urn:epc:idpat:upui:` + gcpSplit(13, false) + `\.\*$`), func(u string, d int) string {
		return dlGTIN(u, 19, d)
	}},
}

func rx(s string) *regexp.Regexp { return regexp.MustCompile("^" + s) }

// urnToDigitalLink converts the EPC URNs the reference converts; other
// strings come back unchanged, and EPC URNs it cannot convert give
// errNotConvertible.
func urnToDigitalLink(uri string) (string, error) {
	if !strings.HasPrefix(uri, "urn:epc:") {
		return uri, nil
	}
	dot := strings.IndexByte(uri, '.')
	if dot < 0 {
		return "", errNotConvertible
	}
	for _, r := range urnRules {
		if r.re.MatchString(uri) {
			return r.build(uri, dot), nil
		}
	}
	return "", errNotConvertible
}

// gtinDigits rebuilds the GTIN-14 (with check digit) of a URN whose company
// prefix starts at start and ends at the first dot: indicator digit,
// company prefix, item reference.
func gtinDigits(u string, start, dot int) string {
	gcp := u[start:dot]
	item := u[dot+1 : dot+1+13-len(gcp)]
	return withCheckDigit(item[:1] + gcp + item[1:])
}

func dlGTIN(u string, start, dot int) string {
	return "https://id.gs1.org/01/" + gtinDigits(u, start, dot)
}

// withCheckDigit appends the GS1 mod-10 check digit to a digit string.
func withCheckDigit(digits string) string {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return digits + string(rune('0'+(10-sum%10)%10))
}

// dlEscape percent-encodes the characters GS1 Digital Link requires
// encoded that EPC URIs may carry unencoded.
var dlEscape = strings.NewReplacer(
	"!", "%21", "(", "%28", ")", "%29", "*", "%2A", "+", "%2B", ",", "%2C", ":", "%3A",
).Replace

// TestDigitalLinkPortsAgree checks epc.ToDigitalLink, which the hash uses,
// against this package's own port of the reference normaliser on the
// identifiers of the reference vectors and on generated variants of them.
func TestDigitalLinkPortsAgree(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	inputs := slices.Clone(genIDs)
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.Intn(10))
		}
		return string(b)
	}
	serials := []string{"1", "A(b)*c", "%2F1", "x.y", "a:b", "'q'", "ABCDEFGHIJKLMNOPQRST", "ABCDEFGHIJKLMNOPQRSTU", "0", "!+,", ""}
	for i := 0; i < 5000; i++ {
		n := 5 + r.Intn(9)
		gcp := digits(n)
		var s string
		switch r.Intn(12) {
		case 0:
			s = "urn:epc:id:sgtin:" + gcp + "." + digits(13-n) + "." + pick(r, serials...)
		case 1:
			s = "urn:epc:id:sscc:" + gcp + "." + digits(17-n+r.Intn(2))
		case 2:
			s = "urn:epc:id:sgln:" + gcp + "." + digits(max(0, 12-n)) + "." + pick(r, serials...)
		case 3:
			s = "urn:epc:id:grai:" + gcp + "." + digits(max(0, 12-n)) + "." + pick(r, serials...)
		case 4:
			s = "urn:epc:id:" + pick(r, "gsrn", "gsrnp", "gsin", "pgln", "gdti", "sgcn") + ":" + gcp + "." + digits(max(0, 12-n+r.Intn(6))) + pick(r, "", ".1", ".12345")
		case 5:
			s = "urn:epc:id:" + pick(r, "giai", "ginc", "cpi", "upui", "itip") + ":" + gcp + "." + pick(r, serials...) + pick(r, "", ".01.02.5", ".123")
		case 6:
			s = "urn:epc:class:lgtin:" + gcp + "." + digits(13-n) + "." + pick(r, serials...)
		case 7:
			s = "urn:epc:idpat:" + pick(r, "sgtin", "grai", "gdti", "sgcn", "cpi", "itip", "upui") + ":" + gcp + "." + digits(max(0, 13-n-r.Intn(2))) + pick(r, ".*", ".01.02.*", "..*")
		case 8:
			s = pick(r, "https://id.gs1.org", "http://example.com/x", "https://a.b") + pick(r, "/01/", "/gtin/", "/00/", "/sscc/", "/414/", "/gln/", "/8004/", "/253/", "/8006/", "/8010/", "/417/") +
				digits(pick(r, 8, 12, 13, 14, 18)) + pick(r, "", "/21/"+pick(r, serials...), "/10/L1/21/S", "/22/V", "/22/V/10/L", "/254/"+pick(r, serials...), "/8011/12") + pick(r, "", "?a=b", "/")
		case 9:
			s = "https://x.example/" + pick(r, "lot", "ser", "cpv") + "/01/" + digits(14)
		default:
			s = pick(r, genIDs...)
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		want := in
		if dl, ok := refNormaliseGS1URI(in); ok {
			want = dl
		}
		got, _ := epc.ToDigitalLink(in)
		if got != want {
			t.Errorf("%q: epc.ToDigitalLink %q, reference port %q", in, got, want)
		}
	}
}
