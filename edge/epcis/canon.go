package epcis

import (
	"github.com/tracegate/tracegate/edge/epc"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	return toDigitalLink(pyNumeric(webVocabulary(s)))
}

// toDigitalLink is the one place the hash canonicalises GS1 identifiers
// (EPC URNs and Digital Link URIs); epc.ToDigitalLink returns what the
// reference hashes whatever its error says, so the error is not needed.
func toDigitalLink(s string) string {
	dl, _ := epc.ToDigitalLink(s)
	return dl
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
	switch strings.ToLower(body) {
	case "nan", "inf", "infinity":
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil || math.IsInf(f, 0)
	}
	var b strings.Builder
	if s[0] == '-' {
		b.WriteByte('-')
	}
	i := 0
	digits := func() bool { // digitpart: digit (["_"] digit)*
		start := i
		for i < len(body) {
			c := body[i]
			if c >= '0' && c <= '9' {
				b.WriteByte(c)
				i++
				continue
			}
			if c == '_' && i > start && i+1 < len(body) && body[i+1] >= '0' && body[i+1] <= '9' {
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
		b.WriteByte('.')
		i++
		fracPart = digits()
	}
	if !intPart && !fracPart {
		return 0, false
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		b.WriteByte('e')
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			b.WriteByte(body[i])
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	if i != len(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	if err != nil && !math.IsInf(f, 0) {
		// Out-of-range exponents: Python yields inf or 0.0 like Go does.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

// pyIntOfFloat prints the exact integer value of an integral float64, as
// Python's str(int(f)) does ("1e20" → "100000000000000000000").
func pyIntOfFloat(f float64) string {
	if f == 0 {
		return "0" // int(-0.0) is 0
	}
	if math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	bi, _ := new(big.Float).SetFloat64(f).Int(nil)
	return bi.String()
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits,
// positional when the decimal exponent is in [-4, 16), scientific with a
// sign and at least two exponent digits otherwise.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	neg := strings.HasPrefix(e, "-")
	if neg {
		e = e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	var out string
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			out = "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			out = digits[:decpt] + "." + digits[decpt:]
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		out = m + "e" + sign + es
	}
	if neg {
		return "-" + out
	}
	return out
}

// canonTime converts a timestamp to UTC with exactly three fractional
// digits ("2005-04-05T02:33:31.116Z"): fractions beyond microseconds are
// cut (as dateutil does), microseconds round half-to-even to milliseconds.
// A value that is not a timestamp is returned unchanged, as the reference
// does. Timestamps without a zone are taken as UTC (the reference uses the
// machine's local zone, which is UTC on GS1's and tracegate's machines).
func canonTime(s string) string {
	t, ok := parseTimestamp(s)
	if !ok {
		return s
	}
	return formatMillisUTC(t)
}

// formatMillisUTC formats t in UTC with exactly three fractional digits,
// after rounding its microseconds half-to-even to milliseconds.
func formatMillisUTC(t time.Time) string {
	t = t.UTC()
	us := t.Nanosecond() / 1000
	ms := us / 1000
	rem := us % 1000
	if rem > 500 || (rem == 500 && ms%2 == 1) {
		ms++
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).
		Add(time.Duration(ms) * time.Millisecond)
	return t.Format("2006-01-02T15:04:05.000Z")
}

// parseTimestamp reads an ISO 8601 / RFC 3339 date-time: YYYY-MM-DD, "T" or
// a space, hh:mm[:ss[.fraction]], then "Z", ±hh:mm, ±hhmm, ±hh or nothing.
func parseTimestamp(s string) (time.Time, bool) {
	p := tsParser{s: s}
	year, ok1 := p.num(4)
	ok2 := p.lit('-')
	month, ok3 := p.num(2)
	ok4 := p.lit('-')
	day, ok5 := p.num(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, false
	}
	if !p.lit('T') && !p.lit('t') && !p.lit(' ') {
		return time.Time{}, false
	}
	hour, ok1 := p.num(2)
	ok2 = p.lit(':')
	minute, ok3 := p.num(2)
	if !(ok1 && ok2 && ok3) {
		return time.Time{}, false
	}
	sec, nanos := 0, 0
	if p.lit(':') {
		var ok bool
		if sec, ok = p.num(2); !ok {
			return time.Time{}, false
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
				return time.Time{}, false
			}
			for d := digits; d < 6; d++ {
				n *= 10
			}
			nanos = n * 1000
		}
	}
	loc := time.UTC
	if p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case 'Z', 'z':
			p.i++
		case '+', '-':
			p.i++
			oh, ok := p.num(2)
			if !ok {
				return time.Time{}, false
			}
			om := 0
			if p.lit(':') {
				if om, ok = p.num(2); !ok {
					return time.Time{}, false
				}
			} else if p.i < len(p.s) {
				if om, ok = p.num(2); !ok {
					return time.Time{}, false
				}
			}
			if oh > 23 || om > 59 {
				return time.Time{}, false
			}
			off := oh*3600 + om*60
			if c == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return time.Time{}, false
		}
	}
	if p.i != len(p.s) {
		return time.Time{}, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc), true
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
