package contract

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxIDBytes bounds org, user, device and collection IDs.
const maxIDBytes = 128

// validID checks an identifier that becomes part of a key: 1 to 128 bytes
// of UTF-8 with no "/", no white space and no control characters.
func validID(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty")
	case len(s) > maxIDBytes:
		return fmt.Errorf("%q is longer than %d bytes", truncate(s, 32), maxIDBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range s {
		if r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("%q contains %q, not allowed in an ID", truncate(s, 32), r)
		}
	}
	return nil
}

// checkID returns an Invalid error naming the field when s is not an ID.
func checkID(field, s string) error {
	if err := validID(s); err != nil {
		return invalid("%s: %v", field, err)
	}
	return nil
}

// checkText checks a free-text field: at most max bytes of UTF-8 without
// control characters (except newline and tab in long texts), and not blank
// when required.
func checkText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid("%s is required", field)
	}
	if len(s) > max {
		return invalid("%s is longer than %d bytes", field, max)
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\n' && r != '\t' {
			return invalid("%s contains the control character %q", field, r)
		}
	}
	return nil
}

// gs1CheckDigitOK reports whether s is all digits and its last digit is
// the GS1 mod-10 check digit of the others (GTIN, GLN, SSCC).
func gs1CheckDigitOK(s string) bool {
	if s == "" {
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	// Weights 3,1,3,… from the rightmost data digit leftwards.
	for i, w := len(s)-2, 3; i >= 0; i, w = i-1, 4-w {
		sum += int(s[i]-'0') * w
	}
	return int(s[len(s)-1]-'0') == (10-sum%10)%10
}

// checkGTIN checks a GTIN-14 with its check digit.
func checkGTIN(s string) error {
	if len(s) != 14 {
		return invalid("GTIN %q is not 14 digits", truncate(s, 32))
	}
	if !gs1CheckDigitOK(s) {
		return invalid("GTIN %s: not digits or wrong check digit", s)
	}
	return nil
}

// checkGLN checks a 13-digit GLN with its check digit.
func checkGLN(s string) error {
	if len(s) != 13 || !gs1CheckDigitOK(s) {
		return invalid("GLN %q is not 13 digits with a valid check digit", truncate(s, 32))
	}
	return nil
}

// checkCountry checks an ISO 3166-1 alpha-2 code (two capital letters).
func checkCountry(s string) error {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return invalid("country %q is not an ISO 3166-1 alpha-2 code", truncate(s, 16))
	}
	return nil
}

// gs1CSet82 is GS1's character set 82, the characters a lot number (AI 10)
// may use.
const gs1CSet82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`

// checkLotNumber checks a GS1 AI (10) batch/lot number: 1 to 20 characters
// of character set 82.
func checkLotNumber(s string) error {
	if s == "" || len(s) > 20 {
		return invalid("lot %q is not 1 to 20 characters", truncate(s, 32))
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(gs1CSet82, rune(s[i])) {
			return invalid("lot %q contains %q, outside GS1 character set 82", s, s[i])
		}
	}
	return nil
}

// dateLayout is the layout of lot dates.
const dateLayout = "2006-01-02"

// checkDate parses a "YYYY-MM-DD" date.
func checkDate(field, s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Format(dateLayout) != s {
		return time.Time{}, invalid("%s %q is not a YYYY-MM-DD date", field, truncate(s, 32))
	}
	return t, nil
}

// checkToken checks a short lowercase token such as a product kind.
func checkToken(field, s string) error {
	if s == "" || len(s) > 32 {
		return invalid("%s %q is not 1 to 32 characters", field, truncate(s, 40))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return invalid("%s %q may use only a-z, 0-9 and -", field, s)
		}
	}
	return nil
}

func oneOf(field, s string, allowed []string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return invalid("%s %q is not one of %v", field, truncate(s, 40), allowed)
}

// finite checks an optional number.
func finite(field string, v *float64) error {
	if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
		return invalid("%s is not a finite number", field)
	}
	return nil
}
