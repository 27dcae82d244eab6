package epc

// CheckDigit returns the GS1 mod-10 check digit (as an ASCII digit) for
// digits, a GS1 key without its check digit (GTIN, GLN, SSCC, GRAI, GDTI,
// GSRN, GSIN, GCN all use it). Weights 3 and 1 alternate from the right,
// starting with 3 on the rightmost digit (GS1 General Specifications
// §7.9.1).
func CheckDigit(digits string) (byte, error) {
	if digits == "" {
		return 0, errf(ErrLength, digits, "no digits to compute a check digit for")
	}
	sum := 0
	weight := 3
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, errf(ErrCharset, digits, "%q at position %d is not a digit", c, i+1)
		}
		sum += int(c-'0') * weight
		weight = 4 - weight
	}
	return byte('0' + (10-sum%10)%10), nil
}

// ValidCheckDigit reports whether key (all digits, check digit last) has a
// correct GS1 check digit.
func ValidCheckDigit(key string) bool {
	if len(key) < 2 {
		return false
	}
	cd, err := CheckDigit(key[:len(key)-1])
	return err == nil && cd == key[len(key)-1]
}

// withCheckDigit appends the check digit to digits that are known to be
// ASCII digits.
func withCheckDigit(digits string) string {
	cd, err := CheckDigit(digits)
	if err != nil {
		return digits
	}
	return digits + string(cd)
}
