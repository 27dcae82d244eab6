package epc

import "strings"

// cset82 marks the GS1 AI encodable character set 82 (GS1 General
// Specifications Figure 7.11-1): the characters allowed in serial numbers,
// lots, GLN extensions and other alphanumeric GS1 fields.
var cset82 = func() (t [128]bool) {
	for _, c := range "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz" {
		t[c] = true
	}
	return t
}()

// cset39 marks GS1 AI encodable character set 39, used by the component /
// part reference of a CPID (AI 8010).
var cset39 = func() (t [128]bool) {
	for _, c := range "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		t[c] = true
	}
	return t
}()

func inSet(set *[128]bool, c byte) bool { return c < 128 && set[c] }

// epcMustEscape are the characters an EPC URI writes as %XX (TDS Table
// they have a meaning in URIs.
func epcMustEscape(c byte) bool {
	switch c {
	case '"', '%', '&', '/', '<', '>', '?', '#':
		return true
	}
	return false
}

// dlKeepLiteral are the characters a Digital Link value keeps as they are.
// The rest of CSET 82 is percent-encoded: the characters the EPC URI
// escapes plus ! ( ) * + , : (GS1 Digital Link Table 7-1). This is also
// exactly what the CBV 2.0 reference normaliser produces from a canonical
// EPC URI, so EPC.DigitalLink and ToDigitalLink agree.
func dlKeepLiteral(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '\'', ';', '=':
		return true
	}
	return false
}

const hexUpper = "0123456789ABCDEF"

func escapeWith(s string, keep func(byte) bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

// escapeEPC writes a raw GS1 value in EPC URI form.
func escapeEPC(s string) string {
	return escapeWith(s, func(c byte) bool { return !epcMustEscape(c) && c > ' ' && c < 127 })
}

// escapeDL writes a raw GS1 value as a Digital Link path segment.
func escapeDL(s string) string { return escapeWith(s, dlKeepLiteral) }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeEPC decodes one EPC URI component into its raw value and checks
// it against set. Escapes may be written in either case and may escape any
// character of the set; characters that must be escaped may not appear
// literally. what names the field for error messages.
func unescapeEPC(input, comp, what string, set *[128]bool) (string, error) {
	if strings.IndexByte(comp, '%') < 0 {
		for i := 0; i < len(comp); i++ {
			if c := comp[i]; !inSet(set, c) || epcMustEscape(c) {
				return "", charsetErr(input, what, c)
			}
		}
		return comp, nil
	}
	var b strings.Builder
	b.Grow(len(comp))
	for i := 0; i < len(comp); i++ {
		c := comp[i]
		if c != '%' {
			if !inSet(set, c) || epcMustEscape(c) {
				return "", charsetErr(input, what, c)
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(comp) {
			return "", errf(ErrSyntax, input, "%s has an incomplete %%-escape at the end", what)
		}
		hi, ok1 := unhex(comp[i+1])
		lo, ok2 := unhex(comp[i+2])
		if !ok1 || !ok2 {
			return "", errf(ErrSyntax, input, "%s has a malformed %%-escape %q", what, comp[i:i+3])
		}
		d := hi<<4 | lo
		if !inSet(set, d) {
			return "", errf(ErrCharset, input, "%s escape %q stands for a character that is not allowed there", what, comp[i:i+3])
		}
		b.WriteByte(d)
		i += 2
	}
	return b.String(), nil
}

func charsetErr(input, what string, c byte) error {
	if c < 128 && cset82[c] {
		return errf(ErrCharset, input, "%s contains %q, which must be written as %%%02X in an EPC URI", what, c, c)
	}
	if c >= 0x20 && c < 0x7f {
		return errf(ErrCharset, input, "%s contains %q, which GS1 does not allow there", what, c)
	}
	return errf(ErrCharset, input, "%s contains byte 0x%02X, which GS1 does not allow there", what, c)
}

// checkRaw checks a raw (unescaped) value against set and a length range.
func checkRaw(input, v, what string, set *[128]bool, minLen, maxLen int) error {
	if len(v) < minLen || len(v) > maxLen {
		if minLen == maxLen {
			return errf(ErrLength, input, "%s must have %d characters, has %d", what, minLen, len(v))
		}
		if len(v) == 0 {
			return errf(ErrLength, input, "%s is empty", what)
		}
		return errf(ErrLength, input, "%s has %d characters; at most %d are allowed", what, len(v), maxLen)
	}
	for i := 0; i < len(v); i++ {
		if !inSet(set, v[i]) {
			c := v[i]
			if c >= 0x20 && c < 0x7f {
				return errf(ErrCharset, input, "%s contains %q, which GS1 does not allow there", what, c)
			}
			return errf(ErrCharset, input, "%s contains byte 0x%02X, which GS1 does not allow there", what, c)
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkDigits checks that s is exactly n ASCII digits (n < 0: any number
// from 1 to -n).
func checkDigits(input, s, what string, n int) error {
	if !allDigits(s) {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return errf(ErrCharset, input, "%s must be digits only; %q is not a digit", what, s[i])
			}
		}
	}
	if n >= 0 && len(s) != n {
		return errf(ErrLength, input, "%s must have %d digits, has %d", what, n, len(s))
	}
	if n < 0 && (len(s) == 0 || len(s) > -n) {
		return errf(ErrLength, input, "%s must have 1 to %d digits, has %d", what, -n, len(s))
	}
	return nil
}
