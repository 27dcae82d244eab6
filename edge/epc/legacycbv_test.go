// Code generated from tracegate commit 8002850 for differential tests; DO NOT EDIT.

// This file is cbv.go (ToDigitalLink and the CBV 2.0 reference normaliser)
// as it was before its performance rework, copied verbatim at commit
// 8002850 with every package-level name given the prefix "legacy_". It is
// the oracle FuzzCanonicalFormMatchesLegacy and
// TestCanonicalFormMatchesLegacy compare the optimised code with. Doc
// comments inside still use the original names.

package epc

import (
	"strings"
	"unicode"
)

// ---- cbv.go ----

// ToDigitalLink canonicalises an identifier the way the CBV 2.0 event hash
// does before hashing it: it returns, byte for byte, what
// normaliser() in GS1's reference implementation
// (github.com/RalphTro/epcis-event-hash-generator,
// epcis_event_hash_generator/dl_normaliser.py, at commit 5d2f1c3, with the
// SSCC check-digit fix of PR #102) returns, and the input itself where
// that function returns None (the reference then hashes the value as
// written).
//
// Covered, as in the reference:
//   - EPC pure identity URIs: sgtin, sscc, sgln, grai, giai, gsrn, gsrnp,
//     gdti, cpi, sgcn, ginc, gsin, itip, upui, pgln;
//   - the EPC class URI lgtin;
//   - EPC ID pattern URIs: idpat sgtin, grai, gdti, sgcn, cpi, itip, upui
//     (the class-level key, e.g. https://id.gs1.org/01/{gtin});
//   - GS1 Digital Link URIs on any host, http or https, with numeric AIs
//     or short names: moved to https://id.gs1.org, GTIN-8/12/13 padded to
//     14 digits, query string and CPV dropped, lot dropped when a serial
//     is present.
//
// To be byte-identical ToDigitalLink keeps the reference's quirks, all
// covered by tests: check digits are computed for EPC URIs but never
// verified in Digital Link input; EPC URI escapes are kept as written and
// ! ( ) * + , : are escaped on top; an SGLN extension "0" gives no /254/;
// a GRAI with a 12-digit company prefix (…:grai:123456789012..5) is not
// converted unless its serial starts with "."; a value without any '.' is never converted (so
// http://localhost/01/… stays as it is); "id.gs1.org" is matched with
// regular-expression dots; \d matches any Unicode decimal digit; a single
// trailing newline is tolerated as Python's $ does. The reference's caller
// strips surrounding white space first; so should ours.
//
// The returned string is always what the reference hashes, so a hash
// computation may use it whatever the error. The error is nil when the
// value was converted, or when it is neither an EPC URI nor a Digital Link
// (ordinary URIs and values come back unchanged). It is an *Error when
// the value looks like an EPC URI or a Digital Link but was not converted:
// the ParseURI/ParseDigitalLink error when it is malformed, ErrUnsupported
// when it is valid but the reference does not handle it (tag URIs,
// upper-case URNs, the GRAI case above), ErrSyntax when the reference
// itself would fail on it.
func legacy_ToDigitalLink(uri string) (string, error) {
	out, res := legacy_cbvNormalise(uri)
	switch res {
	case legacy_cbvConverted:
		return out, nil
	case legacy_cbvFails:
		return uri, errf(ErrSyntax, uri, "the CBV 2.0 reference normaliser raises an error on this value (a trailing newline in a numeric key); it is not canonicalised")
	}
	switch {
	case hasPrefixFold(uri, "urn:epc:"):
		if _, err := ParseURI(uri); err != nil {
			return uri, err
		}
		return uri, errf(ErrUnsupported, uri, "the CBV 2.0 reference normaliser does not convert this EPC URI; it is hashed as written")
	case hasPrefixFold(uri, "http://"), hasPrefixFold(uri, "https://"):
		_, err := ParseDigitalLink(uri)
		if err == nil {
			return uri, errf(ErrUnsupported, uri, "the CBV 2.0 reference normaliser does not convert this Digital Link; it is hashed as written")
		}
		if legacy_cbvGate([]rune(uri)) {
			return uri, err
		}
	}
	return uri, nil
}

type legacy_cbvResult uint8

const (
	legacy_cbvUnchanged legacy_cbvResult = iota // the reference returns None
	legacy_cbvConverted                         // the reference returns a string
	legacy_cbvFails                             // the reference raises an exception
)

// cbvNormalise mirrors normaliser(). The reference is Python: it indexes
// strings by code point and its regular expressions are str patterns, so
// this works on runes and \d is unicode.IsDigit (category Nd).
func legacy_cbvNormalise(s string) (string, legacy_cbvResult) {
	if strings.IndexByte(s, '.') < 0 {
		return "", legacy_cbvUnchanged
	}
	// Every branch of the reference needs one of these prefixes.
	if !strings.HasPrefix(s, "urn:epc:") && !strings.HasPrefix(s, "http:") && !strings.HasPrefix(s, "https:") {
		return "", legacy_cbvUnchanged
	}
	u := []rune(s)
	if legacy_hasPrefixR(u, "urn:epc:") {
		if out, res, ok := legacy_cbvEPC(u); ok {
			return out, res
		}
		return "", legacy_cbvUnchanged
	}
	return legacy_cbvDL(u)
}

// --- small helpers with Python semantics ---------------------------------

func legacy_hasPrefixR(u []rune, p string) bool {
	if len(u) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if u[i] != rune(p[i]) {
			return false
		}
	}
	return true
}

func legacy_indexR(u []rune, p string) int {
	for i := 0; i+len(p) <= len(u); i++ {
		if legacy_hasPrefixR(u[i:], p) {
			return i
		}
	}
	return -1
}

func legacy_lastIndexR(u []rune, c rune) int {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == c {
			return i
		}
	}
	return -1
}

// pySlice is Python's s[a:b].
func legacy_pySlice(u []rune, a, b int) []rune {
	n := len(u)
	norm := func(i int) int {
		if i < 0 {
			i += n
		}
		return max(0, min(i, n))
	}
	a, b = norm(a), norm(b)
	if a >= b {
		return nil
	}
	return u[a:b]
}

func legacy_pyFrom(u []rune, a int) []rune { return legacy_pySlice(u, a, len(u)) }

func legacy_cat(parts ...[]rune) []rune {
	var out []rune
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func legacy_isNd(r rune) bool { return unicode.IsDigit(r) }

// ndValue is Python's int() of one character: the decimal value of a
// Unicode Nd digit. Nd digits come in runs of ten starting at zero.
func legacy_ndValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if !legacy_isNd(r) {
		return 0, false
	}
	for _, rg := range unicode.Digit.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Digit.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}

// pyCheckDigit is the reference's check_digit(); false where int() raises.
func legacy_pyCheckDigit(raw []rune) (rune, bool) {
	sum := 0
	for i := range raw {
		v, ok := legacy_ndValue(raw[len(raw)-1-i])
		if !ok {
			return 0, false
		}
		if i%2 == 0 {
			sum += 3 * v
		} else {
			sum += v
		}
	}
	return rune('0' + (10-sum%10)%10), true
}

// pyDollar drops one trailing newline: the reference's patterns end in $,
// which also matches just before a final "\n", and none of their character
// classes can take the newline itself.
func legacy_pyDollar(u []rune) []rune {
	if n := len(u); n > 0 && u[n-1] == '\n' {
		return u[:n-1]
	}
	return u
}

func legacy_ndRun(u []rune, i int) int {
	n := 0
	for i+n < len(u) && legacy_isNd(u[i+n]) {
		n++
	}
	return n
}

// --- EPC URIs --------------------------------------------------------------

// epcUnit reports the length of one component character of the
// reference's EPC patterns at u[i:] (a literal or a %-escape), 0 if none.
// cpi selects the CPI component/part reference class.
func legacy_epcUnit(u []rune, i int, cpi bool) int {
	if i >= len(u) {
		return 0
	}
	c := u[i]
	if c != '%' {
		if cpi {
			if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-' {
				return 1
			}
			return 0
		}
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strings.ContainsRune("!')(*+,.:;=_-", c) {
			return 1
		}
		return 0
	}
	if i+2 >= len(u) {
		return 0
	}
	h, l := u[i+1], u[i+2]
	in := func(set string) bool { return strings.ContainsRune(set, l) }
	var ok bool
	if cpi {
		switch h {
		case '2':
			ok = in("3dfDF")
		case '3':
			ok = in("0123456789")
		case '4':
			ok = in("123456789ABCDEFabcdef")
		case '5':
			ok = in("0123456789Aa")
		}
	} else {
		switch h {
		case '2':
			ok = in("1256789ABCDEFabcdef")
		case '3':
			ok = in("0123456789ABCDEFabcdef")
		case '4', '6':
			ok = in("123456789ABCDEFabcdef")
		case '5':
			ok = in("0123456789AaFf")
		case '7':
			ok = in("0123456789Aa")
		}
	}
	if ok {
		return 3
	}
	return 0
}

// epcUnits counts component characters from i up to stop (or the end when
// stop is 0); ok is false when something else is found first. end is
// where counting stopped.
func legacy_epcUnits(u []rune, i int, cpi bool, stop rune) (count, end int, ok bool) {
	for i < len(u) {
		if stop != 0 && u[i] == stop {
			return count, i, true
		}
		w := legacy_epcUnit(u, i, cpi)
		if w == 0 {
			return count, i, false
		}
		i += w
		count++
	}
	return count, i, stop == 0
}

// gcpRef matches the reference's (\d{k}\.\d{total-k}) alternatives, k = 6…12,
// at u[i:]; with total 12 the k = 12 alternative is "\d{12}\." or, where
// the reference writes it so, "\d{12}\.\." (dot2). It returns k and the
// index after the match.
func legacy_gcpRef(u []rune, i, total int, dot2 bool) (k, j int, ok bool) {
	k = legacy_ndRun(u, i)
	if k < 6 || k > 12 || i+k >= len(u) || u[i+k] != '.' {
		return 0, 0, false
	}
	ref := total - k
	j = i + k + 1
	if ref > 0 {
		if legacy_ndRun(u, j) < ref {
			return 0, 0, false
		}
		return k, j + ref, true
	}
	if dot2 {
		if j >= len(u) || u[j] != '.' {
			return 0, 0, false
		}
		j++
	}
	return k, j, true
}

func legacy_unitsToEnd(u []rune, i, lo, hi int) bool {
	n, _, ok := legacy_epcUnits(u, i, false, 0)
	return ok && n >= lo && n <= hi
}

func legacy_digitsToEnd(u []rune, i, lo, hi int) bool {
	n := legacy_ndRun(u, i)
	return i+n == len(u) && n >= lo && n <= hi
}

func legacy_litAt(u []rune, i int, s string) bool { return i <= len(u) && legacy_hasPrefixR(u[i:], s) }

// webEscape is the reference's __web_uri_percent_encoder.
func legacy_webEscape(v []rune) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '!', '(', ')', '*', '+', ',', ':':
			b.WriteByte('%')
			b.WriteByte(hexUpper[r>>4])
			b.WriteByte(hexUpper[r&15])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cbvEPC handles the EPC URI, class URI and ID pattern URI branches. ok is
// false when no branch matches.
func legacy_cbvEPC(u []rune) (out string, res legacy_cbvResult, ok bool) {
	m := legacy_pyDollar(u)
	p := legacy_indexR(u, ".")
	const dl = "https://id.gs1.org"
	// key returns the digits the reference takes as a GS1 key and appends
	// the check digit; false where Python's int() would raise.
	var failed bool
	withCD := func(raw []rune) string {
		cd, good := legacy_pyCheckDigit(raw)
		if !good {
			failed = true
			return ""
		}
		return string(raw) + string(cd)
	}
	gtinOf := func(gcpFrom, k int) string { // indicator + company prefix + item reference
		gcp := u[gcpFrom:p]
		item := legacy_pySlice(u, p+1, p+1+13-k)
		return withCD(legacy_cat(legacy_pySlice(item, 0, 1), gcp, legacy_pyFrom(item, 1)))
	}
	glnOf := func(gcpFrom, k int) string {
		return withCD(legacy_cat(u[gcpFrom:p], legacy_pySlice(u, p+1, p+1+12-k)))
	}
	done := func(s string) (string, legacy_cbvResult, bool) {
		if failed {
			return "", legacy_cbvFails, true
		}
		return s, legacy_cbvConverted, true
	}
	switch {
	case legacy_hasPrefixR(m, "urn:epc:id:sgtin:"):
		if k, j, good := legacy_gcpRef(m, 17, 13, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 20) {
			return done(dl + "/01/" + gtinOf(17, k) + "/21/" + legacy_webEscape(legacy_pyFrom(u, 32)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:sscc:"):
		if _, j, good := legacy_gcpRef(m, 16, 17, false); good && j == len(m) {
			raw := legacy_cat(legacy_pySlice(u, p+1, p+2), u[16:p], legacy_pyFrom(u, p+2))
			return done(dl + "/00/" + withCD(raw))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:sgln:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 20) {
			gln := glnOf(16, k)
			ext := legacy_pyFrom(u, 30)
			if string(ext) == "0" {
				return done(dl + "/414/" + gln)
			}
			return done(dl + "/414/" + gln + "/254/" + legacy_webEscape(ext))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:grai:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, true); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 16) {
			raw := legacy_cat([]rune("0"), u[16:p], legacy_pySlice(u, p+1, p+1+12-k))
			return done(dl + "/8003/" + withCD(raw) + legacy_webEscape(legacy_pyFrom(u, 30)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:giai:"), legacy_hasPrefixR(m, "urn:epc:id:ginc:"):
		k := legacy_ndRun(m, 16)
		if k >= 6 && k <= 12 && legacy_litAt(m, 16+k, ".") && legacy_unitsToEnd(m, 17+k, 1, 30-k) {
			ai := "/8004/"
			if legacy_hasPrefixR(m, "urn:epc:id:ginc:") {
				ai = "/401/"
			}
			return done(dl + ai + string(u[16:p]) + legacy_webEscape(legacy_pyFrom(u, p+1)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:gsrn:"), legacy_hasPrefixR(m, "urn:epc:id:gsrnp:"), legacy_hasPrefixR(m, "urn:epc:id:gsin:"):
		from, total, ai := 16, 17, "/8018/"
		if legacy_hasPrefixR(m, "urn:epc:id:gsrnp:") {
			from, ai = 17, "/8017/"
		} else if legacy_hasPrefixR(m, "urn:epc:id:gsin:") {
			total, ai = 16, "/402/"
		}
		if _, j, good := legacy_gcpRef(m, from, total, false); good && j == len(m) {
			return done(dl + ai + withCD(legacy_cat(u[from:p], legacy_pyFrom(u, p+1))))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:gdti:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, true); good && legacy_unitsToEnd(m, j, 1, 20) {
			return done(dl + "/253/" + glnOf(16, k) + legacy_webEscape(legacy_pyFrom(u, 30)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:cpi:"):
		k := legacy_ndRun(m, 15)
		if k >= 6 && k <= 12 && legacy_litAt(m, 15+k, ".") {
			n, end, good := legacy_epcUnits(m, 16+k, true, '.')
			if good && n >= 1 && n <= 30-k && legacy_litAt(m, end, ".") && legacy_digitsToEnd(m, end+1, 1, 12) {
				sep := legacy_lastIndexR(u, '.')
				raw := legacy_cat(u[15:p], legacy_pySlice(u, p+1, sep))
				return done(dl + "/8010/" + legacy_webEscape(raw) + "/8011/" + string(legacy_pyFrom(u, sep+1)))
			}
		}
	case legacy_hasPrefixR(m, "urn:epc:id:sgcn:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, false); good && legacy_litAt(m, j, ".") && legacy_digitsToEnd(m, j+1, 1, 12) {
			return done(dl + "/255/" + glnOf(16, k) + string(legacy_pyFrom(u, 30)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:itip:"):
		if k, j, good := legacy_gcpRef(m, 16, 13, false); good && legacy_litAt(m, j, ".") && legacy_ndRun(m, j+1) >= 2 && legacy_litAt(m, j+3, ".") &&
			legacy_ndRun(m, j+4) >= 2 && legacy_litAt(m, j+6, ".") && legacy_unitsToEnd(m, j+7, 1, 20) {
			return done(dl + "/8006/" + gtinOf(16, k) + string(legacy_pySlice(u, 31, 33)) + string(legacy_pySlice(u, 34, 36)) +
				"/21/" + legacy_webEscape(legacy_pyFrom(u, 37)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:upui:"):
		if k, j, good := legacy_gcpRef(m, 16, 13, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 28) {
			return done(dl + "/01/" + gtinOf(16, k) + "/235/" + legacy_webEscape(legacy_pyFrom(u, 31)))
		}
	case legacy_hasPrefixR(m, "urn:epc:id:pgln:"):
		if k, j, good := legacy_gcpRef(m, 16, 12, false); good && j == len(m) {
			return done(dl + "/417/" + glnOf(16, k))
		}
	case legacy_hasPrefixR(m, "urn:epc:class:lgtin:"):
		if k, j, good := legacy_gcpRef(m, 20, 13, false); good && legacy_litAt(m, j, ".") && legacy_unitsToEnd(m, j+1, 1, 20) {
			return done(dl + "/01/" + gtinOf(20, k) + "/10/" + legacy_webEscape(legacy_pyFrom(u, 35)))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:sgtin:"), legacy_hasPrefixR(m, "urn:epc:idpat:upui:"):
		from := 20
		if legacy_hasPrefixR(m, "urn:epc:idpat:upui:") {
			from = 19
		}
		if k, j, good := legacy_gcpRef(m, from, 13, false); good && string(legacy_pyFrom(m, j)) == ".*" {
			return done(dl + "/01/" + gtinOf(from, k))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:grai:"):
		if k, j, good := legacy_gcpRef(m, 19, 12, true); good && string(legacy_pyFrom(m, j)) == ".*" {
			return done(dl + "/8003/" + withCD(legacy_cat([]rune("0"), u[19:p], legacy_pySlice(u, p+1, p+1+12-k))))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:gdti:"), legacy_hasPrefixR(m, "urn:epc:idpat:sgcn:"):
		ai := "/253/"
		if legacy_hasPrefixR(m, "urn:epc:idpat:sgcn:") {
			ai = "/255/"
		}
		if k, j, good := legacy_gcpRef(m, 19, 12, true); good && string(legacy_pyFrom(m, j)) == ".*" {
			return done(dl + ai + glnOf(19, k))
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:cpi:"):
		k := legacy_ndRun(m, 18)
		if k >= 6 && k <= 12 && legacy_litAt(m, 18+k, ".") {
			n, end, good := legacy_epcUnits(m, 19+k, true, '.')
			if good && n >= 1 && n <= 30-k && string(legacy_pyFrom(m, end)) == ".*" {
				sep := legacy_lastIndexR(u, '.')
				return done(dl + "/8010/" + legacy_webEscape(legacy_cat(u[18:p], legacy_pySlice(u, p+1, sep))))
			}
		}
	case legacy_hasPrefixR(m, "urn:epc:idpat:itip:"):
		if k, j, good := legacy_gcpRef(m, 19, 13, false); good && legacy_litAt(m, j, ".") && legacy_ndRun(m, j+1) >= 2 && legacy_litAt(m, j+3, ".") &&
			legacy_ndRun(m, j+4) >= 2 && string(legacy_pyFrom(m, j+6)) == ".*" {
			return done(dl + "/8006/" + gtinOf(19, k) + string(legacy_pySlice(u, 34, 36)) + string(legacy_pySlice(u, 37, 39)))
		}
	}
	return "", legacy_cbvUnchanged, false
}

// --- Digital Link URIs -----------------------------------------------------

// gateKeys are the key segments the reference's first Digital Link pattern
// accepts.
var legacy_gateKeys = map[string]bool{
	"01": true, "gtin": true, "8006": true, "itip": true, "8010": true, "cpid": true, "414": true, "gln": true,
	"417": true, "party": true, "8017": true, "gsrnp": true, "8018": true, "gsrn": true, "255": true, "gcn": true,
	"00": true, "sscc": true, "253": true, "gdti": true, "401": true, "ginc": true, "402": true, "gsin": true,
	"8003": true, "grai": true, "8004": true, "giai": true,
}

var legacy_canonKeys = map[string]bool{
	"01": true, "8006": true, "8010": true, "414": true, "417": true, "8017": true, "8018": true,
	"255": true, "00": true, "253": true, "401": true, "402": true, "8003": true, "8004": true,
}

// keyThenDigits reports whether u[j:] is "/KEY/" with KEY in keys,
// followed by four Nd digits and one more character that is not '/'.
func legacy_keyThenDigits(u []rune, j int, keys map[string]bool) bool {
	if j >= len(u) || u[j] != '/' {
		return false
	}
	e := j + 1
	for e < len(u) && u[e] != '/' {
		e++
	}
	if e >= len(u) || e-j-1 > 5 {
		return false
	}
	var seg [5]byte
	for i, r := range u[j+1 : e] {
		if r >= 0x80 {
			return false
		}
		seg[i] = byte(r)
	}
	if !keys[string(seg[:e-j-1])] {
		return false
	}
	d := e + 1
	return legacy_ndRun(u, d) >= 4 && d+4 < len(u) && u[d+4] != '/'
}

// cbvGate is the reference's first Digital Link pattern: http(s):, then,
// before any '?' or '#', a key segment followed by four digits and more.
// (Its other alternative, a ten-letter path, never leads to a result.)
func legacy_cbvGate(u []rune) bool {
	i := 0
	switch {
	case legacy_hasPrefixR(u, "https:"):
		i = 6
	case legacy_hasPrefixR(u, "http:"):
		i = 5
	default:
		return false
	}
	for j := i; j < len(u); j++ {
		if u[j] == '?' || u[j] == '#' {
			return false
		}
		if u[j] == '/' && legacy_keyThenDigits(u, j, legacy_gateKeys) {
			return true
		}
	}
	return false
}

// gs1Host matches the reference's https://id.gs1.org, whose dots are
// regular-expression dots (any character but newline), and returns the
// index after it.
func legacy_gs1Host(u []rune) (int, bool) {
	if !legacy_hasPrefixR(u, "https://id") || len(u) < 18 || u[10] == '\n' || u[14] == '\n' ||
		!legacy_hasPrefixR(u[11:], "gs1") || !legacy_hasPrefixR(u[15:], "org") {
		return 0, false
	}
	return 18, true
}

var legacy_shortToAI = [][2]string{
	{"/gtin/", "/01/"}, {"/itip/", "/8006/"}, {"/cpid/", "/8010/"}, {"/gln/", "/414/"}, {"/party/", "/417/"},
	{"/gsrnp/", "/8017/"}, {"/gsrn/", "/8018/"}, {"/gcn/", "/255/"}, {"/sscc/", "/00/"}, {"/gdti/", "/253/"},
	{"/ginc/", "/401/"}, {"/gsin/", "/402/"}, {"/grai/", "/8003/"}, {"/giai/", "/8004/"}, {"/cpv/", "/22/"},
	{"/lot/", "/10/"}, {"/ser/", "/21/"},
}

var legacy_rehomeOrder = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/",
	"/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}

// isCS is the reference's value class in its Digital Link checks:
// " ' - . 0-9 ; < = > ? A-Z _ a-z (narrower than CSET 82: no %).
func legacy_isCS(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		return true
	case r >= ';' && r <= '?':
		return true
	}
	return r == '"' || r == '\'' || r == '-' || r == '.' || r == '_'
}

// csRun counts isCS runes from i (slashes too when slash is set).
func legacy_csRun(u []rune, i int, slash bool) int {
	n := 0
	for i+n < len(u) && (legacy_isCS(u[i+n]) || (slash && u[i+n] == '/')) {
		n++
	}
	return n
}

func legacy_csToEnd(u []rune, i, max int) bool {
	n := legacy_csRun(u, i, false)
	return i+n == len(u) && n <= max
}

// gtinOrITIP matches "/01/" + 14 digits or "/8006/" + 18 digits at u[h:]
// and returns the index after the digits.
func legacy_gtinOrITIP(u []rune, h int) (int, bool) {
	switch {
	case legacy_litAt(u, h, "/01/"):
		if legacy_ndRun(u, h+4) >= 14 {
			return h + 18, true
		}
	case legacy_litAt(u, h, "/8006/"):
		if legacy_ndRun(u, h+6) >= 18 {
			return h + 24, true
		}
	}
	return 0, false
}

func legacy_cbvDL(u []rune) (string, legacy_cbvResult) {
	if !legacy_cbvGate(u) {
		return "", legacy_cbvUnchanged
	}
	if i := legacy_indexR(u, "?"); i >= 0 {
		u = u[:i]
	}
	s := string(u)
	for _, r := range legacy_shortToAI {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	u = []rune(s)

	// Move to the canonical host unless it is (loosely) there already.
	if h, ok := legacy_gs1Host(u); !ok || !legacy_keyThenDigits(u, h, legacy_canonKeys) {
		for _, k := range legacy_rehomeOrder {
			if i := legacy_indexR(u, k); i >= 0 {
				u = legacy_cat([]rune("https://id.gs1.org"), u[i:])
				break
			}
		}
	}

	// Pad GTIN-8/12/13 to 14 digits (every "/01/" in the string, as the
	// reference's str.replace does).
	if h, ok := legacy_gs1Host(u); ok && legacy_litAt(u, h, "/01/") {
		pad := ""
		switch n := legacy_ndRun(u, h+4); {
		case n == 13:
			pad = "0"
		case n == 12:
			pad = "00"
		case n >= 8 && n < 12:
			pad = "000000"
		}
		if pad != "" {
			u = []rune(strings.ReplaceAll(string(u), "/01/", "/01/"+pad))
		}
	}

	// Drop the CPV.
	x := legacy_pyFrom(u, legacy_indexR(u, "/22/")+4)
	cpv := func(slash bool) bool {
		m := legacy_pyDollar(u)
		h, ok := legacy_gs1Host(m)
		if !ok {
			return false
		}
		j, ok := legacy_gtinOrITIP(m, h)
		if !ok || !legacy_litAt(m, j, "/22/") {
			return false
		}
		n := legacy_csRun(m, j+4, slash)
		return j+4+n == len(m) && n <= 20
	}
	if cpv(false) {
		u = legacy_cat(legacy_pySlice(u, 0, legacy_indexR(u, "/22/")), legacy_pySlice(x, legacy_indexR(x, "/"), -1))
	}
	if cpv(true) {
		u = legacy_cat(legacy_pySlice(u, 0, legacy_indexR(u, "/22/")), legacy_pyFrom(x, legacy_indexR(x, "/")))
	}

	// Keep only the finest level: a serial wins over a lot.
	if m := legacy_pyDollar(u); true {
		if h, ok := legacy_gs1Host(m); ok {
			if j, ok := legacy_gtinOrITIP(m, h); ok && legacy_litAt(m, j, "/10/") {
				n := legacy_csRun(m, j+4, false)
				if n <= 20 && legacy_litAt(m, j+4+n, "/21/") && legacy_csToEnd(m, j+8+n, 20) {
					y := legacy_pyFrom(u, legacy_indexR(u, "/10/")+4)
					u = legacy_cat(legacy_pySlice(u, 0, legacy_indexR(u, "/10/")), legacy_pyFrom(y, legacy_indexR(y, "/")))
				}
			}
		}
	}

	if legacy_cbvFinal(legacy_pyDollar(u)) {
		return string(u), legacy_cbvConverted
	}
	return "", legacy_cbvUnchanged
}

func legacy_isCPIChar(r rune) bool {
	return r == '#' || r == '-' || r == '/' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z')
}

// cbvFinal is the reference's closing syntax check of the canonical form.
func legacy_cbvFinal(m []rune) bool {
	h, ok := legacy_gs1Host(m)
	if !ok {
		return false
	}
	nd := func(i, n int) bool { return legacy_ndRun(m, i) >= n }
	ndEnd := func(i, n int) bool { return legacy_ndRun(m, i) == n && i+n == len(m) }
	switch {
	case legacy_litAt(m, h, "/00/"):
		return ndEnd(h+4, 18)
	case legacy_litAt(m, h, "/01/"):
		j := h + 4 + 14
		if !nd(h+4, 14) {
			return false
		}
		switch {
		case j == len(m):
			return true
		case legacy_litAt(m, j, "/21/"), legacy_litAt(m, j, "/10/"):
			return legacy_csToEnd(m, j+4, 20)
		case legacy_litAt(m, j, "/235/"):
			return legacy_csToEnd(m, j+5, 28)
		}
	case legacy_litAt(m, h, "/253/"):
		return nd(h+5, 13) && legacy_csToEnd(m, h+18, 17)
	case legacy_litAt(m, h, "/255/"):
		n := legacy_ndRun(m, h+5)
		return h+5+n == len(m) && n >= 13 && n <= 25
	case legacy_litAt(m, h, "/401/"):
		return legacy_csToEnd(m, h+5, 30)
	case legacy_litAt(m, h, "/402/"):
		return ndEnd(h+5, 17)
	case legacy_litAt(m, h, "/414/"):
		j := h + 5 + 13
		if !nd(h+5, 13) {
			return false
		}
		return j == len(m) || (legacy_litAt(m, j, "/254/") && legacy_csToEnd(m, j+5, 20))
	case legacy_litAt(m, h, "/417/"):
		return ndEnd(h+5, 13)
	case legacy_litAt(m, h, "/8003/"):
		return nd(h+6, 14) && legacy_csToEnd(m, h+20, 16)
	case legacy_litAt(m, h, "/8004/"):
		return legacy_csToEnd(m, h+6, 30)
	case legacy_litAt(m, h, "/8006/"):
		j := h + 6 + 18
		if !nd(h+6, 18) {
			return false
		}
		return j == len(m) || ((legacy_litAt(m, j, "/21/") || legacy_litAt(m, j, "/10/")) && legacy_csToEnd(m, j+4, 20))
	case legacy_litAt(m, h, "/8010/"):
		i := h + 6
		n := 0
		for i+n < len(m) && legacy_isCPIChar(m[i+n]) {
			n++
		}
		if i+n == len(m) && n <= 30 {
			return true
		}
		// CPID then /8011/ and up to 12 digits: the CPID may itself hold
		// "/8011/", so try every split.
		for q := i; q <= i+min(n, 30); q++ {
			if legacy_litAt(m, q, "/8011/") {
				if d := legacy_ndRun(m, q+6); q+6+d == len(m) && d <= 12 {
					return true
				}
			}
		}
	case legacy_litAt(m, h, "/8017/"):
		return ndEnd(h+6, 18)
	case legacy_litAt(m, h, "/8018/"):
		return ndEnd(h+6, 18)
	}
	return false
}
