package epcis

import (
	"regexp"
	"strings"
)

// normaliseGS1URI converts a GS1 identifier the way the reference hash
// implementation's Digital Link normaliser does: EPC URNs (instance, class
// and pattern URIs) become canonical https://id.gs1.org/ URIs with computed
// check digits, and Digital Link URIs are canonicalised (numeric AIs, the
// id.gs1.org domain, GTIN-14, no CPV, no query, only the finest key level).
// It reports false for anything else, which the hash then uses as written.
func normaliseGS1URI(s string) (string, bool) {
	// The reference gives up on values without a dot before trying anything.
	if !strings.Contains(s, ".") {
		return "", false
	}
	if strings.HasPrefix(s, "urn:epc:") {
		dl, err := epcURNToDigitalLink(s)
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
