package epcis

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tracegate/tracegate/edge/epc"
)

// This file holds the value canonicalisation of the CBV 2.0 event hash as
// GS1's reference implementation (RalphTro/epcis-event-hash-generator)
// performs it. Its quirks are kept on purpose: the hash must come out the
// same, so "what Python does" is the specification here.

// canonValue runs a (stripped) value through every canonicalisation the
// reference applies to a non-time value: legacy CBV URNs become web
// vocabulary IRIs, numeric strings are normalised, GS1 identifiers become
// canonical Digital Link URIs.
func canonValue(s string) string {
	return string(appendCanonValue(nil, s))
}

// appendCanonValue appends canonValue(s) to dst.
func appendCanonValue(dst []byte, s string) []byte {
	if strings.Contains(s, "urn:epcglobal:cbv:") {
		s = webVocabulary(s)
	}
	if isPyReprFloat(s) {
		return append(dst, s...) // pyNumeric(s) is s
	}
	if f, ok := pyParseFloat(s); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		// pyNumeric's output is a number, which toDigitalLink leaves as
		// it is (it converts only urn:epc: and http(s): values).
		if f == math.Trunc(f) {
			return appendPyIntOfFloat(dst, f)
		}
		return appendPyFloatRepr(dst, f)
	}
	return epc.AppendCanonicalForm(dst, s) // toDigitalLink(s)
}

// toDigitalLink is the one place the hash canonicalises GS1 identifiers
// (EPC URNs and Digital Link URIs): epc.CanonicalForm is the string
// epc.ToDigitalLink returns, which is what the reference hashes whatever
// the error says.
func toDigitalLink(s string) string {
	return epc.CanonicalForm(s)
}

// webVocabulary rewrites the legacy CBV URN prefixes wherever they occur.
var webVocabulary = strings.NewReplacer(
	"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
	"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-",
	"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-",
	"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-",
	"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-",
).Replace

// pyStrip trims what Python's str.strip() trims: Unicode whitespace in
// Python's sense, which includes the information separators U+001C..U+001F.
func pyStrip(s string) string {
	// Printable ASCII at both ends: nothing to trim.
	if n := len(s); n > 0 && s[0] > ' ' && s[0] < 0x80 && s[n-1] > ' ' && s[n-1] < 0x80 {
		return s
	}
	return strings.TrimFunc(s, isPySpace)
}

func isPySpace(r rune) bool {
	if r >= 0x1c && r <= 0x1f {
		return true
	}
	return unicode.IsSpace(r) || r == 0x1680 || r == 0x2028 || r == 0x2029
}

// pyNumeric normalises a numeric-looking string the way the reference does
// (float(text), integral values printed as Python ints, others as Python's
// repr of the float): "0042" → "42", "+1.50" → "1.5", "1e-5" → "1e-05".
// Strings Python's float() rejects stay as they are, and so do NaN and the
// infinities (the reference crashes on "inf"; keeping the text is ours).
func pyNumeric(s string) string {
	f, ok := pyParseFloat(s)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return s
	}
	if f == math.Trunc(f) {
		return pyIntOfFloat(f)
	}
	return pyFloatRepr(f)
}

// pyParseFloat accepts exactly the ASCII syntax of Python's float(): an
// optional sign, digits with single underscores between them, an optional
// fraction and exponent, or nan/inf/infinity in any case, surrounded by
// optional whitespace. (Python also accepts non-ASCII Unicode digits; GS1
// data has none and tracegate does not.)
func pyParseFloat(s string) (float64, bool) {
	s = pyStrip(s)
	if s == "" {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if body == "" {
		return 0, false
	}
	if c := body[0]; !(c >= '0' && c <= '9') && c != '.' {
		// Not a decimal number: only nan, inf and infinity remain. (A
		// non-ASCII letter may lower-case to an ASCII one, so those take
		// the general comparison too.)
		if c == 'n' || c == 'N' || c == 'i' || c == 'I' || c >= 0x80 {
			switch strings.ToLower(body) {
			case "nan", "inf", "infinity":
				f, err := strconv.ParseFloat(s, 64)
				return f, err == nil || math.IsInf(f, 0)
			}
		}
		return 0, false
	}
	i := 0
	underscores := false
	digits := func() bool { // digitpart: digit (["_"] digit)*
		start := i
		for i < len(body) {
			c := body[i]
			if c >= '0' && c <= '9' {
				i++
				continue
			}
			if c == '_' && i > start && i+1 < len(body) && body[i+1] >= '0' && body[i+1] <= '9' {
				underscores = true
				i++
				continue
			}
			break
		}
		return i > start
	}
	intPart := digits()
	fracPart := false
	if i < len(body) && body[i] == '.' {
		i++
		fracPart = digits()
	}
	if !intPart && !fracPart {
		return 0, false
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	if i != len(body) {
		return 0, false
	}
	// s is now sign, digits, '.', 'e'/'E' and exponent sign only, which
	// strconv reads as Python does; the underscores Python allows between
	// digits are dropped first.
	num := s
	if underscores {
		num = strings.ReplaceAll(s, "_", "")
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil && !math.IsInf(f, 0) {
		// Out-of-range exponents: Python yields inf or 0.0 like Go does.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

// isPyReprFloat reports whether s is a decimal number with a fraction
// that Python's repr prints unchanged: repr(float(s)) == s, so
// pyNumeric(s) == pyFloatRepr(float(s)) == s. That holds for
// -?(0|[1-9][0-9]*)\.[0-9]*[1-9] with at most 15 significant digits (no
// two such decimals name the same float64, so s is the shortest decimal
// that round-trips, and its value is not an integer) and with the decimal
// point where repr puts it: at most 15 integer digits, and at most three
// zeros after "0." (repr(0.00001) is "1e-05"). encoding/json writes most
// float64 values of sensors so.
func isPyReprFloat(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	sig := 0
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			sig++
		}
	default:
		return false
	}
	if i >= len(s) || s[i] != '.' {
		return false
	}
	i++
	frac := s[i:]
	if frac == "" || frac[len(frac)-1] == '0' {
		return false
	}
	for j := 0; j < len(frac); j++ {
		if frac[j] < '0' || frac[j] > '9' {
			return false
		}
	}
	if sig == 0 {
		z := 0
		for frac[z] == '0' {
			z++
		}
		if z > 3 {
			return false
		}
		return len(frac)-z <= 15
	}
	return sig+len(frac) <= 15
}

// pyIntOfFloat prints the exact integer value of an integral float64, as
// Python's str(int(f)) does ("1e20" → "100000000000000000000").
func pyIntOfFloat(f float64) string {
	return string(appendPyIntOfFloat(nil, f))
}

func appendPyIntOfFloat(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // int(-0.0) is 0
	}
	if math.Abs(f) < 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	bi, _ := new(big.Float).SetFloat64(f).Int(nil)
	return bi.Append(dst, 10)
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits,
// positional when the decimal exponent is in [-4, 16), scientific with a
// sign and at least two exponent digits otherwise.
func pyFloatRepr(f float64) string {
	var buf [40]byte
	return string(appendPyFloatRepr(buf[:0], f))
}

func appendPyFloatRepr(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	var ebuf [32]byte
	e := strconv.AppendFloat(ebuf[:0], f, 'e', -1, 64) // -d.ddde±XX
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	k := bytes.IndexByte(e, 'e')
	mant, expStr := e[:k], e[k+1:]
	exp := 0
	for _, c := range expStr[1:] {
		exp = exp*10 + int(c-'0')
	}
	if expStr[0] == '-' {
		exp = -exp
	}
	var dbuf [32]byte
	digits := append(dbuf[:0], mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...) // mant is d or d.ddd
	}
	decpt := exp + 1
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			dst = append(dst, "0."...)
			for range -decpt {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		case decpt >= len(digits):
			dst = append(dst, digits...)
			for range decpt - len(digits) {
				dst = append(dst, '0')
			}
			return append(dst, ".0"...)
		default:
			dst = append(dst, digits[:decpt]...)
			dst = append(dst, '.')
			return append(dst, digits[decpt:]...)
		}
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}

// canonTime converts a timestamp to UTC with exactly three fractional
// digits ("2005-04-05T02:33:31.116Z"): fractions beyond microseconds are
// cut (as dateutil does), microseconds round half-to-even to milliseconds.
// A value that is not a timestamp is returned unchanged, as the reference
// does. Timestamps without a zone are taken as UTC (the reference uses the
// machine's local zone, which is UTC on GS1's and tracegate's machines).
func canonTime(s string) string {
	if _, _, _, ok := parseTimestampParts(s); !ok {
		return s
	}
	return string(appendCanonTime(nil, s))
}

// appendCanonTime appends canonTime(s) to dst.
func appendCanonTime(dst []byte, s string) []byte {
	civil, off, _, ok := parseTimestampParts(s)
	if !ok {
		return append(dst, s...)
	}
	if off == 0 && len(s) == len("2006-01-02T15:04:05.000Z") && s[10] == 'T' && s[19] == '.' && s[23] == 'Z' {
		// Already UTC with exactly three fractional digits (as NewObjectEvent
		// writes times): nothing to round, and the digits come out as read.
		return append(dst, s...)
	}
	// The instant civil time s names: its wall clock minus its offset.
	return appendMillisUTC(dst, civil.Add(-time.Duration(off)*time.Second))
}

// formatMillisUTC formats t in UTC with exactly three fractional digits,
// after rounding its microseconds half-to-even to milliseconds.
func formatMillisUTC(t time.Time) string {
	return string(appendMillisUTC(nil, t))
}

func appendMillisUTC(dst []byte, t time.Time) []byte {
	t = t.UTC()
	us := t.Nanosecond() / 1000
	ms := us / 1000
	rem := us % 1000
	if rem > 500 || (rem == 500 && ms%2 == 1) {
		ms++
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).
		Add(time.Duration(ms) * time.Millisecond)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	}
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z')
}

// appendDigits appends the n low decimal digits of v (v >= 0), zero-padded.
func appendDigits(dst []byte, v, n int) []byte {
	var b [8]byte
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:n]...)
}

// parseTimestamp reads an ISO 8601 / RFC 3339 date-time: YYYY-MM-DD, "T" or
// a space, hh:mm[:ss[.fraction]], then "Z", ±hh:mm, ±hhmm, ±hh or nothing.
func parseTimestamp(s string) (time.Time, bool) {
	civil, off, zoned, ok := parseTimestampParts(s)
	if !ok {
		return time.Time{}, false
	}
	if !zoned {
		return civil, true
	}
	return time.Date(civil.Year(), civil.Month(), civil.Day(), civil.Hour(), civil.Minute(), civil.Second(),
		civil.Nanosecond(), time.FixedZone("", off)), true
}

// parseTimestampParts is parseTimestamp without building a location: it
// returns the wall clock as a UTC time, the offset in seconds, and whether
// the offset was written as ±hh[[:]mm] (rather than "Z" or nothing).
func parseTimestampParts(s string) (civil time.Time, off int, zoned, ok bool) {
	p := tsParser{s: s}
	year, ok1 := p.num(4)
	ok2 := p.lit('-')
	month, ok3 := p.num(2)
	ok4 := p.lit('-')
	day, ok5 := p.num(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, 0, false, false
	}
	if !p.lit('T') && !p.lit('t') && !p.lit(' ') {
		return time.Time{}, 0, false, false
	}
	hour, ok1 := p.num(2)
	ok2 = p.lit(':')
	minute, ok3 := p.num(2)
	if !(ok1 && ok2 && ok3) {
		return time.Time{}, 0, false, false
	}
	sec, nanos := 0, 0
	if p.lit(':') {
		var ok bool
		if sec, ok = p.num(2); !ok {
			return time.Time{}, 0, false, false
		}
		if p.lit('.') || p.lit(',') {
			n := 0
			digits := 0
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				if digits < 6 {
					n = n*10 + int(p.s[p.i]-'0')
				}
				digits++
				p.i++
			}
			if digits == 0 {
				return time.Time{}, 0, false, false
			}
			for d := digits; d < 6; d++ {
				n *= 10
			}
			nanos = n * 1000
		}
	}
	if p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case 'Z', 'z':
			p.i++
		case '+', '-':
			p.i++
			oh, ok := p.num(2)
			if !ok {
				return time.Time{}, 0, false, false
			}
			om := 0
			if p.lit(':') {
				if om, ok = p.num(2); !ok {
					return time.Time{}, 0, false, false
				}
			} else if p.i < len(p.s) {
				if om, ok = p.num(2); !ok {
					return time.Time{}, 0, false, false
				}
			}
			if oh > 23 || om > 59 {
				return time.Time{}, 0, false, false
			}
			off = oh*3600 + om*60
			if c == '-' {
				off = -off
			}
			zoned = true
		default:
			return time.Time{}, 0, false, false
		}
	}
	if p.i != len(p.s) {
		return time.Time{}, 0, false, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, 0, false, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC), off, zoned, true
}

type tsParser struct {
	s string
	i int
}

func (p *tsParser) num(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for k := 0; k < n; k++ {
		c := p.s[p.i+k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

func (p *tsParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
