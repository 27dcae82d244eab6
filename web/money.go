package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Money in the portal: amounts are integers in the minor unit of their
// ISO 4217 currency on the ledger (cents for EUR); forms take major units.

// maxMinor bounds amounts (minor units) as the contract does: exact in
// any JSON reader.
const maxMinor = 1 << 53

// currencyDigits are the minor-unit digits of currencies that do not have
// two (ISO 4217).
var currencyDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

func minorDigits(cur string) int {
	if d, ok := currencyDigits[cur]; ok {
		return d
	}
	return 2
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}

// fmtMoney renders minor units for people: "€2,500.00", "CHF 80.00".
func fmtMoney(minor int64, cur string) string {
	d := minorDigits(cur)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	unit := int64(math.Pow10(d))
	whole, frac := minor/unit, minor%unit
	s := groupDigits(whole)
	if d > 0 {
		s += "." + fmt.Sprintf("%0*d", d, frac)
	}
	if sym, ok := currencySymbols[cur]; ok {
		s = sym + s
	} else {
		s = cur + " " + s
	}
	if neg {
		s = "−" + s
	}
	return s
}

// majorAmount renders minor units as a plain decimal for a form field.
func majorAmount(minor int64, cur string) string {
	d := minorDigits(cur)
	if d == 0 {
		return strconv.FormatInt(minor, 10)
	}
	unit := int64(math.Pow10(d))
	return fmt.Sprintf("%d.%0*d", minor/unit, d, minor%unit)
}

var moneyPattern = regexp.MustCompile(`^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$`)

// parseMoney reads an amount typed in a form, in major units ("2500",
// "2,500.00"), as minor units of cur.
func parseMoney(field, s, cur string) (int64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return 0, invalid(field+" required", "enter the "+field)
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		return 0, invalid("negative "+field, "the "+field+" cannot be negative")
	}
	if !moneyPattern.MatchString(s) {
		return 0, invalid("invalid "+field, fmt.Sprintf("the %s %q is not an amount such as 2500.00 (use a point for decimals)", field, truncateText(s, 24)))
	}
	whole, frac, _ := strings.Cut(strings.ReplaceAll(s, ",", ""), ".")
	d := minorDigits(cur)
	if len(frac) > d {
		return 0, invalid("invalid "+field, fmt.Sprintf("%s amounts have %d decimal places; %q has more", cur, d, s))
	}
	frac += strings.Repeat("0", d-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || v > maxMinor {
		return 0, invalid(field+" too large", fmt.Sprintf("the %s %s is too large", field, s))
	}
	return v, nil
}

func checkMinor(field string, v int64, zeroOK bool) error {
	if v < 0 {
		return invalid("negative "+field, fmt.Sprintf("%s %d is negative; amounts are whole numbers of minor units ≥ 0 (cents for EUR)", field, v))
	}
	if v == 0 && !zeroOK {
		return invalid(field+" required", fmt.Sprintf("%s is 0; give a whole number of minor units ≥ 1 (cents for EUR)", field))
	}
	if v > maxMinor {
		return invalid(field+" too large", fmt.Sprintf("%s %d is more than %d minor units", field, v, int64(maxMinor)))
	}
	return nil
}

// parsePositiveMoney is parseMoney for amounts that must be more than 0.
func parsePositiveMoney(field, s, cur string) (int64, error) {
	v, err := parseMoney(field, s, cur)
	if err != nil {
		return 0, err
	}
	if v < 1 {
		return 0, invalid(field+" required", "the "+field+" must be more than 0 "+cur)
	}
	return v, nil
}

// groupDigits writes a number with thousands separators.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
