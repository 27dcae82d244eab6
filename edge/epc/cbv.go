package epc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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
func ToDigitalLink(uri string) (string, error) {
	out, res := cbvNormalise(uri)
	switch res {
	case cbvConverted:
		return out, nil
	case cbvFails:
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
		if cbvGate([]rune(uri)) {
			return uri, err
		}
	}
	return uri, nil
}

// CanonicalForm returns the string ToDigitalLink returns for uri without
// working out its error: the form in which the CBV 2.0 event hash hashes
// an identifier (or any other value). It is the cheap choice for callers
// that need only the value; ToDigitalLink explains the rules.
func CanonicalForm(uri string) string {
	if out, res := cbvNormalise(uri); res == cbvConverted {
		return out
	}
	return uri
}

// AppendCanonicalForm appends CanonicalForm(uri) to dst.
func AppendCanonicalForm(dst []byte, uri string) []byte {
	if out, res := cbvAppendNormal(dst, uri); res == cbvConverted {
		return out
	}
	return append(dst, uri...)
}

type cbvResult uint8

const (
	cbvUnchanged cbvResult = iota // the reference returns None
	cbvConverted                  // the reference returns a string
	cbvFails                      // the reference raises an exception
)

// cbvNormalise mirrors normaliser(). The reference is Python: it indexes
// strings by code point and its regular expressions are str patterns, so
// this works on runes and \d is unicode.IsDigit (category Nd).
func cbvNormalise(s string) (string, cbvResult) {
	var buf [128]byte
	out, res := cbvAppendNormal(buf[:0], s)
	if res != cbvConverted {
		return "", res
	}
	return string(out), res
}

// cbvAppendNormal is cbvNormalise appending the converted value to dst
// (and returning dst as it was when there is none).
func cbvAppendNormal(dst []byte, s string) ([]byte, cbvResult) {
	if strings.IndexByte(s, '.') < 0 {
		return dst, cbvUnchanged
	}
	// Every branch of the reference needs one of these prefixes.
	if !strings.HasPrefix(s, "urn:epc:") && !strings.HasPrefix(s, "http:") && !strings.HasPrefix(s, "https:") {
		return dst, cbvUnchanged
	}
	if !strings.HasPrefix(s, "urn:epc:") && isASCII(s) && !cbvGateASCII(s) {
		// cbvDL would stop at its first check (cbvGate); for ASCII input
		// that check can be made on the bytes, without decoding runes.
		return dst, cbvUnchanged
	}
	// []rune(s), on the stack for the usual short identifiers.
	var ubuf [96]rune
	u := ubuf[:0]
	for _, r := range s {
		u = append(u, r)
	}
	if hasPrefixR(u, "urn:epc:") {
		if out, res, ok := cbvEPC(dst, u); ok {
			return out, res
		}
		return dst, cbvUnchanged
	}
	out, res := cbvDL(u)
	if res == cbvConverted {
		dst = append(dst, out...)
	}
	return dst, res
}

// --- small helpers with Python semantics ---------------------------------

func hasPrefixR(u []rune, p string) bool {
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

func indexR(u []rune, p string) int {
	if len(p) == 1 {
		c := rune(p[0])
		for i, r := range u {
			if r == c {
				return i
			}
		}
		return -1
	}
	for i := 0; i+len(p) <= len(u); i++ {
		if hasPrefixR(u[i:], p) {
			return i
		}
	}
	return -1
}

func lastIndexR(u []rune, c rune) int {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == c {
			return i
		}
	}
	return -1
}

// pySlice is Python's s[a:b].
func pySlice(u []rune, a, b int) []rune {
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

func pyFrom(u []rune, a int) []rune { return pySlice(u, a, len(u)) }

func cat(parts ...[]rune) []rune {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]rune, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func isNd(r rune) bool { return unicode.IsDigit(r) }

// ndValue is Python's int() of one character: the decimal value of a
// Unicode Nd digit. Nd digits come in runs of ten starting at zero.
func ndValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if !isNd(r) {
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

// pyCheckDigitParts is the reference's check_digit() of the parts,
// concatenated; false where int() raises.
func pyCheckDigitParts(parts ...[]rune) (rune, bool) {
	sum, i := 0, 0
	for pi := len(parts) - 1; pi >= 0; pi-- {
		raw := parts[pi]
		for j := len(raw) - 1; j >= 0; j-- {
			v, ok := ndValue(raw[j])
			if !ok {
				return 0, false
			}
			if i%2 == 0 {
				sum += 3 * v
			} else {
				sum += v
			}
			i++
		}
	}
	return rune('0' + (10-sum%10)%10), true
}

// pyDollar drops one trailing newline: the reference's patterns end in $,
// which also matches just before a final "\n", and none of their character
// classes can take the newline itself.
func pyDollar(u []rune) []rune {
	if n := len(u); n > 0 && u[n-1] == '\n' {
		return u[:n-1]
	}
	return u
}

func ndRun(u []rune, i int) int {
	n := 0
	for i+n < len(u) && isNd(u[i+n]) {
		n++
	}
	return n
}

// --- EPC URIs --------------------------------------------------------------

// epcUnit reports the length of one component character of the
// reference's EPC patterns at u[i:] (a literal or a %-escape), 0 if none.
// cpi selects the CPI component/part reference class.
func epcUnit(u []rune, i int, cpi bool) int {
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
func epcUnits(u []rune, i int, cpi bool, stop rune) (count, end int, ok bool) {
	for i < len(u) {
		if stop != 0 && u[i] == stop {
			return count, i, true
		}
		w := epcUnit(u, i, cpi)
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
func gcpRef(u []rune, i, total int, dot2 bool) (k, j int, ok bool) {
	k = ndRun(u, i)
	if k < 6 || k > 12 || i+k >= len(u) || u[i+k] != '.' {
		return 0, 0, false
	}
	ref := total - k
	j = i + k + 1
	if ref > 0 {
		if ndRun(u, j) < ref {
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

func unitsToEnd(u []rune, i, lo, hi int) bool {
	n, _, ok := epcUnits(u, i, false, 0)
	return ok && n >= lo && n <= hi
}

func digitsToEnd(u []rune, i, lo, hi int) bool {
	n := ndRun(u, i)
	return i+n == len(u) && n >= lo && n <= hi
}

func litAt(u []rune, i int, s string) bool { return i <= len(u) && hasPrefixR(u[i:], s) }

// appendWebEscape appends the reference's __web_uri_percent_encoder of v.
func appendWebEscape(dst []byte, v []rune) []byte {
	for _, r := range v {
		switch r {
		case '!', '(', ')', '*', '+', ',', ':':
			dst = append(dst, '%', hexUpper[r>>4], hexUpper[r&15])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// appendRunes appends string(part) for each part.
func appendRunes(dst []byte, parts ...[]rune) []byte {
	for _, p := range parts {
		for _, r := range p {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// appendWithCD appends the digits the reference takes as a GS1 key (the
// parts, concatenated) and their check digit; it sets *failed instead
// where Python's int() would raise.
func appendWithCD(dst []byte, failed *bool, parts ...[]rune) []byte {
	cd, good := pyCheckDigitParts(parts...)
	if !good {
		*failed = true
		return dst
	}
	return append(appendRunes(dst, parts...), byte(cd))
}

// appendEsc appends webEscape of the parts, concatenated.
func appendEsc(dst []byte, parts ...[]rune) []byte {
	for _, p := range parts {
		dst = appendWebEscape(dst, p)
	}
	return dst
}

// cbvEPC handles the EPC URI, class URI and ID pattern URI branches,
// appending the converted value to dst. ok is false when no branch
// matches.
func cbvEPC(dst []byte, u []rune) (out []byte, res cbvResult, ok bool) {
	m := pyDollar(u)
	p := indexR(u, ".")
	const dl = "https://id.gs1.org"
	o := append(dst, dl...)
	failed := false
	// gtin and gln append the digits the reference takes as a GS1 key and
	// the check digit.
	gtin := func(gcpFrom, k int) { // indicator + company prefix + item reference
		gcp := u[gcpFrom:p]
		item := pySlice(u, p+1, p+1+13-k)
		o = appendWithCD(o, &failed, pySlice(item, 0, 1), gcp, pyFrom(item, 1))
	}
	gln := func(gcpFrom, k int) {
		o = appendWithCD(o, &failed, u[gcpFrom:p], pySlice(u, p+1, p+1+12-k))
	}
	done := func() ([]byte, cbvResult, bool) {
		if failed {
			return dst, cbvFails, true
		}
		return o, cbvConverted, true
	}
	zero := []rune{'0'}
	switch {
	case hasPrefixR(m, "urn:epc:id:sgtin:"):
		if k, j, good := gcpRef(m, 17, 13, false); good && litAt(m, j, ".") && unitsToEnd(m, j+1, 1, 20) {
			o = append(o, "/01/"...)
			gtin(17, k)
			o = append(o, "/21/"...)
			o = appendEsc(o, pyFrom(u, 32))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:sscc:"):
		if _, j, good := gcpRef(m, 16, 17, false); good && j == len(m) {
			o = append(o, "/00/"...)
			o = appendWithCD(o, &failed, pySlice(u, p+1, p+2), u[16:p], pyFrom(u, p+2))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:sgln:"):
		if k, j, good := gcpRef(m, 16, 12, false); good && litAt(m, j, ".") && unitsToEnd(m, j+1, 1, 20) {
			o = append(o, "/414/"...)
			gln(16, k)
			if ext := pyFrom(u, 30); string(ext) != "0" {
				o = append(o, "/254/"...)
				o = appendEsc(o, ext)
			}
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:grai:"):
		if k, j, good := gcpRef(m, 16, 12, true); good && litAt(m, j, ".") && unitsToEnd(m, j+1, 1, 16) {
			o = append(o, "/8003/"...)
			o = appendWithCD(o, &failed, zero, u[16:p], pySlice(u, p+1, p+1+12-k))
			o = appendEsc(o, pyFrom(u, 30))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:giai:"), hasPrefixR(m, "urn:epc:id:ginc:"):
		k := ndRun(m, 16)
		if k >= 6 && k <= 12 && litAt(m, 16+k, ".") && unitsToEnd(m, 17+k, 1, 30-k) {
			ai := "/8004/"
			if hasPrefixR(m, "urn:epc:id:ginc:") {
				ai = "/401/"
			}
			o = append(o, ai...)
			o = appendRunes(o, u[16:p])
			o = appendEsc(o, pyFrom(u, p+1))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:gsrn:"), hasPrefixR(m, "urn:epc:id:gsrnp:"), hasPrefixR(m, "urn:epc:id:gsin:"):
		from, total, ai := 16, 17, "/8018/"
		if hasPrefixR(m, "urn:epc:id:gsrnp:") {
			from, ai = 17, "/8017/"
		} else if hasPrefixR(m, "urn:epc:id:gsin:") {
			total, ai = 16, "/402/"
		}
		if _, j, good := gcpRef(m, from, total, false); good && j == len(m) {
			o = append(o, ai...)
			o = appendWithCD(o, &failed, u[from:p], pyFrom(u, p+1))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:gdti:"):
		if k, j, good := gcpRef(m, 16, 12, true); good && unitsToEnd(m, j, 1, 20) {
			o = append(o, "/253/"...)
			gln(16, k)
			o = appendEsc(o, pyFrom(u, 30))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:cpi:"):
		k := ndRun(m, 15)
		if k >= 6 && k <= 12 && litAt(m, 15+k, ".") {
			n, end, good := epcUnits(m, 16+k, true, '.')
			if good && n >= 1 && n <= 30-k && litAt(m, end, ".") && digitsToEnd(m, end+1, 1, 12) {
				sep := lastIndexR(u, '.')
				o = append(o, "/8010/"...)
				o = appendEsc(o, u[15:p], pySlice(u, p+1, sep))
				o = append(o, "/8011/"...)
				o = appendRunes(o, pyFrom(u, sep+1))
				return done()
			}
		}
	case hasPrefixR(m, "urn:epc:id:sgcn:"):
		if k, j, good := gcpRef(m, 16, 12, false); good && litAt(m, j, ".") && digitsToEnd(m, j+1, 1, 12) {
			o = append(o, "/255/"...)
			gln(16, k)
			o = appendRunes(o, pyFrom(u, 30))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:itip:"):
		if k, j, good := gcpRef(m, 16, 13, false); good && litAt(m, j, ".") && ndRun(m, j+1) >= 2 && litAt(m, j+3, ".") &&
			ndRun(m, j+4) >= 2 && litAt(m, j+6, ".") && unitsToEnd(m, j+7, 1, 20) {
			o = append(o, "/8006/"...)
			gtin(16, k)
			o = appendRunes(o, pySlice(u, 31, 33), pySlice(u, 34, 36))
			o = append(o, "/21/"...)
			o = appendEsc(o, pyFrom(u, 37))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:upui:"):
		if k, j, good := gcpRef(m, 16, 13, false); good && litAt(m, j, ".") && unitsToEnd(m, j+1, 1, 28) {
			o = append(o, "/01/"...)
			gtin(16, k)
			o = append(o, "/235/"...)
			o = appendEsc(o, pyFrom(u, 31))
			return done()
		}
	case hasPrefixR(m, "urn:epc:id:pgln:"):
		if k, j, good := gcpRef(m, 16, 12, false); good && j == len(m) {
			o = append(o, "/417/"...)
			gln(16, k)
			return done()
		}
	case hasPrefixR(m, "urn:epc:class:lgtin:"):
		if k, j, good := gcpRef(m, 20, 13, false); good && litAt(m, j, ".") && unitsToEnd(m, j+1, 1, 20) {
			o = append(o, "/01/"...)
			gtin(20, k)
			o = append(o, "/10/"...)
			o = appendEsc(o, pyFrom(u, 35))
			return done()
		}
	case hasPrefixR(m, "urn:epc:idpat:sgtin:"), hasPrefixR(m, "urn:epc:idpat:upui:"):
		from := 20
		if hasPrefixR(m, "urn:epc:idpat:upui:") {
			from = 19
		}
		if k, j, good := gcpRef(m, from, 13, false); good && string(pyFrom(m, j)) == ".*" {
			o = append(o, "/01/"...)
			gtin(from, k)
			return done()
		}
	case hasPrefixR(m, "urn:epc:idpat:grai:"):
		if k, j, good := gcpRef(m, 19, 12, true); good && string(pyFrom(m, j)) == ".*" {
			o = append(o, "/8003/"...)
			o = appendWithCD(o, &failed, zero, u[19:p], pySlice(u, p+1, p+1+12-k))
			return done()
		}
	case hasPrefixR(m, "urn:epc:idpat:gdti:"), hasPrefixR(m, "urn:epc:idpat:sgcn:"):
		ai := "/253/"
		if hasPrefixR(m, "urn:epc:idpat:sgcn:") {
			ai = "/255/"
		}
		if k, j, good := gcpRef(m, 19, 12, true); good && string(pyFrom(m, j)) == ".*" {
			o = append(o, ai...)
			gln(19, k)
			return done()
		}
	case hasPrefixR(m, "urn:epc:idpat:cpi:"):
		k := ndRun(m, 18)
		if k >= 6 && k <= 12 && litAt(m, 18+k, ".") {
			n, end, good := epcUnits(m, 19+k, true, '.')
			if good && n >= 1 && n <= 30-k && string(pyFrom(m, end)) == ".*" {
				sep := lastIndexR(u, '.')
				o = append(o, "/8010/"...)
				o = appendEsc(o, u[18:p], pySlice(u, p+1, sep))
				return done()
			}
		}
	case hasPrefixR(m, "urn:epc:idpat:itip:"):
		if k, j, good := gcpRef(m, 19, 13, false); good && litAt(m, j, ".") && ndRun(m, j+1) >= 2 && litAt(m, j+3, ".") &&
			ndRun(m, j+4) >= 2 && string(pyFrom(m, j+6)) == ".*" {
			o = append(o, "/8006/"...)
			gtin(19, k)
			o = appendRunes(o, pySlice(u, 34, 36), pySlice(u, 37, 39))
			return done()
		}
	}
	return dst, cbvUnchanged, false
}

// --- Digital Link URIs -----------------------------------------------------

// gateKeys are the key segments the reference's first Digital Link pattern
// accepts.
var gateKeys = map[string]bool{
	"01": true, "gtin": true, "8006": true, "itip": true, "8010": true, "cpid": true, "414": true, "gln": true,
	"417": true, "party": true, "8017": true, "gsrnp": true, "8018": true, "gsrn": true, "255": true, "gcn": true,
	"00": true, "sscc": true, "253": true, "gdti": true, "401": true, "ginc": true, "402": true, "gsin": true,
	"8003": true, "grai": true, "8004": true, "giai": true,
}

var canonKeys = map[string]bool{
	"01": true, "8006": true, "8010": true, "414": true, "417": true, "8017": true, "8018": true,
	"255": true, "00": true, "253": true, "401": true, "402": true, "8003": true, "8004": true,
}

// keyThenDigits reports whether u[j:] is "/KEY/" with KEY in keys,
// followed by four Nd digits and one more character that is not '/'.
func keyThenDigits(u []rune, j int, keys map[string]bool) bool {
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
	return ndRun(u, d) >= 4 && d+4 < len(u) && u[d+4] != '/'
}

// cbvGate is the reference's first Digital Link pattern: http(s):, then,
// before any '?' or '#', a key segment followed by four digits and more.
// (Its other alternative, a ten-letter path, never leads to a result.)
func cbvGate(u []rune) bool {
	i := 0
	switch {
	case hasPrefixR(u, "https:"):
		i = 6
	case hasPrefixR(u, "http:"):
		i = 5
	default:
		return false
	}
	for j := i; j < len(u); j++ {
		if u[j] == '?' || u[j] == '#' {
			return false
		}
		if u[j] == '/' && keyThenDigits(u, j, gateKeys) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// cbvGateASCII is cbvGate for an ASCII string, where byte and rune
// indexes coincide and \d is [0-9].
func cbvGateASCII(s string) bool {
	i := 0
	switch {
	case strings.HasPrefix(s, "https:"):
		i = 6
	case strings.HasPrefix(s, "http:"):
		i = 5
	default:
		return false
	}
	for j := i; j < len(s); j++ {
		if s[j] == '?' || s[j] == '#' {
			return false
		}
		if s[j] == '/' && keyThenDigitsASCII(s, j) {
			return true
		}
	}
	return false
}

// isGateKey is gateKeys[seg], without hashing.
func isGateKey(seg string) bool {
	switch seg {
	case "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp", "8018", "gsrn",
		"255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin", "8003", "grai", "8004", "giai":
		return true
	}
	return false
}

// keyThenDigitsASCII is keyThenDigits(u, j, gateKeys) for an ASCII
// string.
func keyThenDigitsASCII(s string, j int) bool {
	if j >= len(s) || s[j] != '/' {
		return false
	}
	e := j + 1
	for e < len(s) && s[e] != '/' {
		e++
	}
	if e >= len(s) || e-j-1 > 5 {
		return false
	}
	if !isGateKey(s[j+1 : e]) {
		return false
	}
	d := e + 1
	n := 0
	for d+n < len(s) && s[d+n] >= '0' && s[d+n] <= '9' {
		n++
	}
	return n >= 4 && d+4 < len(s) && s[d+4] != '/'
}

// gs1Host matches the reference's https://id.gs1.org, whose dots are
// regular-expression dots (any character but newline), and returns the
// index after it.
func gs1Host(u []rune) (int, bool) {
	if !hasPrefixR(u, "https://id") || len(u) < 18 || u[10] == '\n' || u[14] == '\n' ||
		!hasPrefixR(u[11:], "gs1") || !hasPrefixR(u[15:], "org") {
		return 0, false
	}
	return 18, true
}

var shortToAI = [][2]string{
	{"/gtin/", "/01/"}, {"/itip/", "/8006/"}, {"/cpid/", "/8010/"}, {"/gln/", "/414/"}, {"/party/", "/417/"},
	{"/gsrnp/", "/8017/"}, {"/gsrn/", "/8018/"}, {"/gcn/", "/255/"}, {"/sscc/", "/00/"}, {"/gdti/", "/253/"},
	{"/ginc/", "/401/"}, {"/gsin/", "/402/"}, {"/grai/", "/8003/"}, {"/giai/", "/8004/"}, {"/cpv/", "/22/"},
	{"/lot/", "/10/"}, {"/ser/", "/21/"},
}

var rehomeOrder = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/",
	"/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}

// isCS is the reference's value class in its Digital Link checks:
// " ' - . 0-9 ; < = > ? A-Z _ a-z (narrower than CSET 82: no %).
func isCS(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		return true
	case r >= ';' && r <= '?':
		return true
	}
	return r == '"' || r == '\'' || r == '-' || r == '.' || r == '_'
}

// csRun counts isCS runes from i (slashes too when slash is set).
func csRun(u []rune, i int, slash bool) int {
	n := 0
	for i+n < len(u) && (isCS(u[i+n]) || (slash && u[i+n] == '/')) {
		n++
	}
	return n
}

func csToEnd(u []rune, i, max int) bool {
	n := csRun(u, i, false)
	return i+n == len(u) && n <= max
}

// gtinOrITIP matches "/01/" + 14 digits or "/8006/" + 18 digits at u[h:]
// and returns the index after the digits.
func gtinOrITIP(u []rune, h int) (int, bool) {
	switch {
	case litAt(u, h, "/01/"):
		if ndRun(u, h+4) >= 14 {
			return h + 18, true
		}
	case litAt(u, h, "/8006/"):
		if ndRun(u, h+6) >= 18 {
			return h + 24, true
		}
	}
	return 0, false
}

func cbvDL(u []rune) (string, cbvResult) {
	if !cbvGate(u) {
		return "", cbvUnchanged
	}
	if i := indexR(u, "?"); i >= 0 {
		u = u[:i]
	}
	s := string(u)
	for _, r := range shortToAI {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	u = []rune(s)

	// Move to the canonical host unless it is (loosely) there already.
	if h, ok := gs1Host(u); !ok || !keyThenDigits(u, h, canonKeys) {
		for _, k := range rehomeOrder {
			if i := indexR(u, k); i >= 0 {
				u = cat([]rune("https://id.gs1.org"), u[i:])
				break
			}
		}
	}

	// Pad GTIN-8/12/13 to 14 digits (every "/01/" in the string, as the
	// reference's str.replace does).
	if h, ok := gs1Host(u); ok && litAt(u, h, "/01/") {
		pad := ""
		switch n := ndRun(u, h+4); {
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
	x := pyFrom(u, indexR(u, "/22/")+4)
	cpv := func(slash bool) bool {
		m := pyDollar(u)
		h, ok := gs1Host(m)
		if !ok {
			return false
		}
		j, ok := gtinOrITIP(m, h)
		if !ok || !litAt(m, j, "/22/") {
			return false
		}
		n := csRun(m, j+4, slash)
		return j+4+n == len(m) && n <= 20
	}
	if cpv(false) {
		u = cat(pySlice(u, 0, indexR(u, "/22/")), pySlice(x, indexR(x, "/"), -1))
	}
	if cpv(true) {
		u = cat(pySlice(u, 0, indexR(u, "/22/")), pyFrom(x, indexR(x, "/")))
	}

	// Keep only the finest level: a serial wins over a lot.
	if m := pyDollar(u); true {
		if h, ok := gs1Host(m); ok {
			if j, ok := gtinOrITIP(m, h); ok && litAt(m, j, "/10/") {
				n := csRun(m, j+4, false)
				if n <= 20 && litAt(m, j+4+n, "/21/") && csToEnd(m, j+8+n, 20) {
					y := pyFrom(u, indexR(u, "/10/")+4)
					u = cat(pySlice(u, 0, indexR(u, "/10/")), pyFrom(y, indexR(y, "/")))
				}
			}
		}
	}

	if cbvFinal(pyDollar(u)) {
		return string(u), cbvConverted
	}
	return "", cbvUnchanged
}

func isCPIChar(r rune) bool {
	return r == '#' || r == '-' || r == '/' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z')
}

// cbvFinal is the reference's closing syntax check of the canonical form.
func cbvFinal(m []rune) bool {
	h, ok := gs1Host(m)
	if !ok {
		return false
	}
	nd := func(i, n int) bool { return ndRun(m, i) >= n }
	ndEnd := func(i, n int) bool { return ndRun(m, i) == n && i+n == len(m) }
	switch {
	case litAt(m, h, "/00/"):
		return ndEnd(h+4, 18)
	case litAt(m, h, "/01/"):
		j := h + 4 + 14
		if !nd(h+4, 14) {
			return false
		}
		switch {
		case j == len(m):
			return true
		case litAt(m, j, "/21/"), litAt(m, j, "/10/"):
			return csToEnd(m, j+4, 20)
		case litAt(m, j, "/235/"):
			return csToEnd(m, j+5, 28)
		}
	case litAt(m, h, "/253/"):
		return nd(h+5, 13) && csToEnd(m, h+18, 17)
	case litAt(m, h, "/255/"):
		n := ndRun(m, h+5)
		return h+5+n == len(m) && n >= 13 && n <= 25
	case litAt(m, h, "/401/"):
		return csToEnd(m, h+5, 30)
	case litAt(m, h, "/402/"):
		return ndEnd(h+5, 17)
	case litAt(m, h, "/414/"):
		j := h + 5 + 13
		if !nd(h+5, 13) {
			return false
		}
		return j == len(m) || (litAt(m, j, "/254/") && csToEnd(m, j+5, 20))
	case litAt(m, h, "/417/"):
		return ndEnd(h+5, 13)
	case litAt(m, h, "/8003/"):
		return nd(h+6, 14) && csToEnd(m, h+20, 16)
	case litAt(m, h, "/8004/"):
		return csToEnd(m, h+6, 30)
	case litAt(m, h, "/8006/"):
		j := h + 6 + 18
		if !nd(h+6, 18) {
			return false
		}
		return j == len(m) || ((litAt(m, j, "/21/") || litAt(m, j, "/10/")) && csToEnd(m, j+4, 20))
	case litAt(m, h, "/8010/"):
		i := h + 6
		n := 0
		for i+n < len(m) && isCPIChar(m[i+n]) {
			n++
		}
		if i+n == len(m) && n <= 30 {
			return true
		}
		// CPID then /8011/ and up to 12 digits: the CPID may itself hold
		// "/8011/", so try every split.
		for q := i; q <= i+min(n, 30); q++ {
			if litAt(m, q, "/8011/") {
				if d := ndRun(m, q+6); q+6+d == len(m) && d <= 12 {
					return true
				}
			}
		}
	case litAt(m, h, "/8017/"):
		return ndEnd(h+6, 18)
	case litAt(m, h, "/8018/"):
		return ndEnd(h+6, 18)
	}
	return false
}
