package epcis

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// epcURNToDigitalLink is the one place the hash converts EPC URNs to GS1
// Digital Link URIs. It is tracegate's own port of the reference hash
// implementation's conversion, kept until edge/epc provides ToDigitalLink.
func epcURNToDigitalLink(uri string) (string, error) {
	return urnToDigitalLink(uri)
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
