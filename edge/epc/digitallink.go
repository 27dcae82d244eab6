package epc

import (
	"net/url"
	"strings"
)

// DigitalLink is a parsed GS1 Digital Link URI: its primary key, key
// qualifiers and query. Keys are normalised (GTIN-8/12/13 padded to 14
// digits) and values are raw (percent-decoded). Exactly one primary key
// field is set.
type DigitalLink struct {
	GTIN   string `json:"gtin,omitempty"`   // AI 01, 14 digits
	CPV    string `json:"cpv,omitempty"`    // AI 22, qualifier of 01/8006
	Lot    string `json:"lot,omitempty"`    // AI 10, qualifier of 01/8006
	Serial string `json:"serial,omitempty"` // AI 21, qualifier of 01/8006
	TPX    string `json:"tpx,omitempty"`    // AI 235, qualifier of 01

	SSCC         string `json:"sscc,omitempty"`         // AI 00, 18 digits
	GLN          string `json:"gln,omitempty"`          // AI 414, 13 digits
	GLNExtension string `json:"glnExtension,omitempty"` // AI 254, qualifier of 414
	PGLN         string `json:"pgln,omitempty"`         // AI 417, 13 digits
	GRAI         string `json:"grai,omitempty"`         // AI 8003: "0" + 13 digits + serial
	GIAI         string `json:"giai,omitempty"`         // AI 8004
	GSRN         string `json:"gsrn,omitempty"`         // AI 8018, 18 digits
	SRIN         string `json:"srin,omitempty"`         // AI 8019, qualifier of 8018
	GSRNP        string `json:"gsrnp,omitempty"`        // AI 8017, 18 digits
	GDTI         string `json:"gdti,omitempty"`         // AI 253: 13 digits + serial
	GCN          string `json:"gcn,omitempty"`          // AI 255: 13 digits + serial
	GINC         string `json:"ginc,omitempty"`         // AI 401
	GSIN         string `json:"gsin,omitempty"`         // AI 402, 17 digits
	ITIP         string `json:"itip,omitempty"`         // AI 8006: GTIN + piece + total, 18 digits
	CPID         string `json:"cpid,omitempty"`         // AI 8010
	CPSerial     string `json:"cpSerial,omitempty"`     // AI 8011, qualifier of 8010

	// Query holds the query string (data attributes such as 17=…, and
	// linkType). It is not part of Path.
	Query url.Values `json:"query,omitempty"`

	// CompanyPrefixLength, when set (6–12), tells EPCURI where the GS1
	// Company Prefix ends. ParseDigitalLink leaves it 0: see EPCURI.
	CompanyPrefixLength int `json:"-"`
}

// aiSpec describes one application identifier in a Digital Link path.
type aiSpec struct {
	ai         string
	name       string
	primary    bool
	qualifiers []string // allowed qualifiers of a primary key, in their required order
	field      func(d *DigitalLink) *string
	check      func(input, v string) (string, error)
}

var ais = map[string]*aiSpec{}
var shortNames = map[string]string{
	"gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417",
	"gsrnp": "8017", "gsrn": "8018", "gcn": "255", "sscc": "00", "gdti": "253",
	"ginc": "401", "gsin": "402", "grai": "8003", "giai": "8004",
	"cpv": "22", "lot": "10", "ser": "21",
}

// primaryOrder is the order Path writes keys in (the first set wins).
var primaryOrder = []string{"01", "8006", "00", "414", "417", "8003", "8004", "8018", "8017", "253", "255", "401", "402", "8010"}

func init() {
	add := func(s *aiSpec) { ais[s.ai] = s }
	add(&aiSpec{ai: "01", name: "GTIN", primary: true, qualifiers: []string{"22", "10", "21", "235"},
		field: func(d *DigitalLink) *string { return &d.GTIN }, check: checkGTIN})
	add(&aiSpec{ai: "8006", name: "ITIP", primary: true, qualifiers: []string{"22", "10", "21"},
		field: func(d *DigitalLink) *string { return &d.ITIP }, check: checkITIP})
	add(&aiSpec{ai: "00", name: "SSCC", primary: true,
		field: func(d *DigitalLink) *string { return &d.SSCC }, check: numericKey("SSCC", 18)})
	add(&aiSpec{ai: "414", name: "GLN", primary: true, qualifiers: []string{"254"},
		field: func(d *DigitalLink) *string { return &d.GLN }, check: numericKey("GLN", 13)})
	add(&aiSpec{ai: "417", name: "party GLN", primary: true,
		field: func(d *DigitalLink) *string { return &d.PGLN }, check: numericKey("party GLN", 13)})
	add(&aiSpec{ai: "8003", name: "GRAI", primary: true,
		field: func(d *DigitalLink) *string { return &d.GRAI }, check: checkGRAI})
	add(&aiSpec{ai: "8004", name: "GIAI", primary: true,
		field: func(d *DigitalLink) *string { return &d.GIAI }, check: alnum("GIAI", &cset82, 30)})
	add(&aiSpec{ai: "8018", name: "GSRN", primary: true, qualifiers: []string{"8019"},
		field: func(d *DigitalLink) *string { return &d.GSRN }, check: numericKey("GSRN", 18)})
	add(&aiSpec{ai: "8017", name: "GSRNP", primary: true,
		field: func(d *DigitalLink) *string { return &d.GSRNP }, check: numericKey("GSRNP", 18)})
	add(&aiSpec{ai: "253", name: "GDTI", primary: true,
		field: func(d *DigitalLink) *string { return &d.GDTI }, check: keyWithSerial("GDTI", &cset82, 17)})
	add(&aiSpec{ai: "255", name: "GCN", primary: true,
		field: func(d *DigitalLink) *string { return &d.GCN }, check: keyWithSerial("GCN", nil, 12)})
	add(&aiSpec{ai: "401", name: "GINC", primary: true,
		field: func(d *DigitalLink) *string { return &d.GINC }, check: alnum("GINC", &cset82, 30)})
	add(&aiSpec{ai: "402", name: "GSIN", primary: true,
		field: func(d *DigitalLink) *string { return &d.GSIN }, check: numericKey("GSIN", 17)})
	add(&aiSpec{ai: "8010", name: "CPID", primary: true, qualifiers: []string{"8011"},
		field: func(d *DigitalLink) *string { return &d.CPID }, check: alnum("CPID", &cset39, 30)})

	add(&aiSpec{ai: "22", name: "consumer product variant",
		field: func(d *DigitalLink) *string { return &d.CPV }, check: alnum("consumer product variant (AI 22)", &cset82, 20)})
	add(&aiSpec{ai: "10", name: "lot",
		field: func(d *DigitalLink) *string { return &d.Lot }, check: alnum("lot (AI 10)", &cset82, 20)})
	add(&aiSpec{ai: "21", name: "serial number",
		field: func(d *DigitalLink) *string { return &d.Serial }, check: alnum("serial number (AI 21)", &cset82, 20)})
	add(&aiSpec{ai: "235", name: "third-party controlled serial",
		field: func(d *DigitalLink) *string { return &d.TPX }, check: alnum("TPX (AI 235)", &cset82, 28)})
	add(&aiSpec{ai: "254", name: "GLN extension",
		field: func(d *DigitalLink) *string { return &d.GLNExtension }, check: alnum("GLN extension (AI 254)", &cset82, 20)})
	add(&aiSpec{ai: "8019", name: "service relation instance number",
		field: func(d *DigitalLink) *string { return &d.SRIN }, check: digitsUpTo("SRIN (AI 8019)", 10)})
	add(&aiSpec{ai: "8011", name: "CPID serial number",
		field: func(d *DigitalLink) *string { return &d.CPSerial }, check: digitsUpTo("CPID serial (AI 8011)", 12)})
}

func checkGTIN(input, v string) (string, error) {
	if err := checkDigits(input, v, "GTIN", -14); err != nil {
		return "", err
	}
	switch len(v) {
	case 8, 12, 13, 14:
	default:
		return "", errf(ErrLength, input, "GTIN %q has %d digits; a GTIN has 8, 12, 13 or 14", v, len(v))
	}
	if !ValidCheckDigit(v) {
		return "", checkDigitErr(input, "GTIN", v)
	}
	return strings.Repeat("0", 14-len(v)) + v, nil
}

func checkDigitErr(input, name, v string) error {
	cd, _ := CheckDigit(v[:len(v)-1])
	return errf(ErrCheckDigit, input, "%s %s has check digit %c; it should be %c", name, v, v[len(v)-1], cd)
}

func numericKey(name string, n int) func(string, string) (string, error) {
	return func(input, v string) (string, error) {
		if err := checkDigits(input, v, name, n); err != nil {
			return "", err
		}
		if !ValidCheckDigit(v) {
			return "", checkDigitErr(input, name, v)
		}
		return v, nil
	}
}

func alnum(name string, set *[128]bool, max int) func(string, string) (string, error) {
	return func(input, v string) (string, error) {
		return v, checkRaw(input, v, name, set, 1, max)
	}
}

func digitsUpTo(name string, max int) func(string, string) (string, error) {
	return func(input, v string) (string, error) {
		return v, checkDigits(input, v, name, -max)
	}
}

// keyWithSerial checks a 13-digit key with check digit followed by an
// optional serial (GDTI: CSET 82 up to 17; GCN: digits up to 12).
func keyWithSerial(name string, set *[128]bool, max int) func(string, string) (string, error) {
	return func(input, v string) (string, error) {
		if len(v) < 13 {
			return "", errf(ErrLength, input, "%s %q is shorter than its 13 digits", name, v)
		}
		if _, err := numericKey(name, 13)(input, v[:13]); err != nil {
			return "", err
		}
		serial := v[13:]
		if serial == "" {
			return v, nil
		}
		if set == nil {
			return v, checkDigits(input, serial, name+" serial component", -max)
		}
		return v, checkRaw(input, serial, name+" serial number", set, 1, max)
	}
}

func checkGRAI(input, v string) (string, error) {
	if len(v) < 14 {
		return "", errf(ErrLength, input, "GRAI %q is shorter than its 14 digits", v)
	}
	if v[0] != '0' {
		return "", errf(ErrSyntax, input, "GRAI %q must start with the digit 0 in AI 8003", v)
	}
	if _, err := numericKey("GRAI", 14)(input, v[:14]); err != nil {
		return "", err
	}
	if len(v) > 14 {
		return v, checkRaw(input, v[14:], "GRAI serial number", &cset82, 1, 16)
	}
	return v, nil
}

func checkITIP(input, v string) (string, error) {
	if err := checkDigits(input, v, "ITIP", 18); err != nil {
		return "", err
	}
	if !ValidCheckDigit(v[:14]) {
		return "", checkDigitErr(input, "ITIP GTIN", v[:14])
	}
	return v, nil
}

// ParseDigitalLink parses a GS1 Digital Link URI: a full http(s) URI on
// any host, or a bare path such as "/01/09506000134352/10/ABC". Path
// segments before the primary key are allowed (and ignored); numeric AIs
// and the short names (/gtin/, /lot/, /ser/, /cpv/, /sscc/, /gln/, …) are
// accepted. It checks what a conformant resolver must check: the key's
// length and check digit, which qualifiers a key allows and their order
// (/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}] or /01/{gtin}/235/{tpx};
// /414/{gln}[/254/{ext}]; /8010/{cpid}[/8011/{serial}]; …), the character
// set (CSET 82, CSET 39 for CPID) and length of every value after
// percent-decoding. A trailing slash and a fragment are ignored.
func ParseDigitalLink(uri string) (DigitalLink, error) {
	s := uri
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	rawQuery := ""
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s, rawQuery = s[:i], s[i+1:]
	}
	path := s
	switch {
	case strings.HasPrefix(s, "/"):
	case hasPrefixFold(s, "https://"), hasPrefixFold(s, "http://"):
		rest := s[strings.Index(s, "//")+2:]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return DigitalLink{}, errf(ErrSyntax, uri, "Digital Link has no path after the host")
		}
		if i == 0 {
			return DigitalLink{}, errf(ErrSyntax, uri, "Digital Link has no host")
		}
		path = rest[i:]
	default:
		return DigitalLink{}, errf(ErrSyntax, uri, "not a Digital Link: expected an http(s) URI or a path starting with /")
	}
	segs := strings.Split(path[1:], "/")
	if len(segs) > 0 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	for _, sg := range segs {
		if sg == "" {
			return DigitalLink{}, errf(ErrSyntax, uri, "Digital Link path has an empty segment (//)")
		}
	}
	var firstErr error
	sawKey := false
	for i := range segs {
		spec := aiOf(segs[i])
		if spec == nil || !spec.primary {
			continue
		}
		sawKey = true
		if (len(segs)-i)%2 != 0 {
			continue
		}
		d, err := parseKeyPath(uri, segs[i:])
		if err == nil {
			if rawQuery != "" {
				q, qerr := url.ParseQuery(rawQuery)
				if qerr != nil {
					return DigitalLink{}, errf(ErrSyntax, uri, "Digital Link query string is malformed: %v", qerr)
				}
				if len(q) > 0 {
					d.Query = q
				}
			}
			return d, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return DigitalLink{}, firstErr
	}
	if sawKey {
		return DigitalLink{}, errf(ErrSyntax, uri, "Digital Link path must be pairs of AI and value after the primary key")
	}
	return DigitalLink{}, errf(ErrSyntax, uri, "Digital Link path has no GS1 primary key (/01/, /00/, /414/, /8003/, …)")
}

func aiOf(seg string) *aiSpec {
	if n, ok := shortNames[seg]; ok {
		seg = n
	}
	return ais[seg]
}

func parseKeyPath(uri string, segs []string) (DigitalLink, error) {
	var d DigitalLink
	key := aiOf(segs[0])
	next := 0 // index into key.qualifiers of the earliest qualifier still allowed
	for i := 0; i < len(segs); i += 2 {
		spec := aiOf(segs[i])
		if spec == nil {
			return DigitalLink{}, errf(ErrSyntax, uri, "%q is not a GS1 Digital Link key qualifier", segs[i])
		}
		if i > 0 {
			pos := -1
			for j, q := range key.qualifiers {
				if q == spec.ai {
					pos = j
				}
			}
			switch {
			case pos < 0:
				return DigitalLink{}, errf(ErrSyntax, uri, "/%s/ (%s) is not a qualifier of /%s/ (%s)", spec.ai, spec.name, key.ai, key.name)
			case pos < next:
				return DigitalLink{}, errf(ErrSyntax, uri, "qualifiers of /%s/ are out of order or repeated: /%s/ comes too late (order: /%s/)",
					key.ai, spec.ai, strings.Join(key.qualifiers, "/, /"))
			}
			next = pos + 1
			if spec.ai == "235" && (d.CPV != "" || d.Lot != "" || d.Serial != "") {
				return DigitalLink{}, errf(ErrSyntax, uri, "/235/ (TPX) cannot be combined with /22/, /10/ or /21/")
			}
		}
		raw, err := url.PathUnescape(segs[i+1])
		if err != nil {
			return DigitalLink{}, errf(ErrSyntax, uri, "value after /%s/ has a malformed %%-escape", spec.ai)
		}
		v, err := spec.check(uri, raw)
		if err != nil {
			return DigitalLink{}, err
		}
		*spec.field(&d) = v
	}
	return d, nil
}

// primary returns the primary key's AI and value.
func (d DigitalLink) primary() (*aiSpec, string) {
	for _, ai := range primaryOrder {
		s := ais[ai]
		if v := *s.field(&d); v != "" {
			return s, v
		}
	}
	return nil, ""
}

// Path returns the canonical path: numeric AIs, the primary key then its
// qualifiers in standard order, values percent-encoded as in
// EPC.DigitalLink. It returns "" when no primary key is set.
func (d DigitalLink) Path() string {
	key, v := d.primary()
	if key == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("/" + key.ai + "/" + escapeDL(v))
	for _, q := range key.qualifiers {
		if qv := *ais[q].field(&d); qv != "" {
			b.WriteString("/" + q + "/" + escapeDL(qv))
		}
	}
	return b.String()
}

// URI returns the Digital Link on base (DefaultDigitalLinkBase when empty)
// with the canonical Path and the query, if any.
func (d DigitalLink) URI(base string) string {
	if base == "" {
		base = DefaultDigitalLinkBase
	}
	u := strings.TrimRight(base, "/") + d.Path()
	if len(d.Query) > 0 {
		u += "?" + d.Query.Encode()
	}
	return u
}

// EPCURI returns the EPC URI the Digital Link names: urn:epc:id:sgtin for
// GTIN + serial, urn:epc:class:lgtin for GTIN + lot, urn:epc:id:sscc,
// urn:epc:id:sgln (extension "0" when there is none), and so on.
//
// Limitation: an EPC URI splits the GS1 Company Prefix from the rest of
// the key, and a GS1 key does not say where its prefix ends — that needs
// GS1's GCP length table. EPCURI therefore needs d.CompanyPrefixLength
// (set it, call FromDigitalLink with the length, or look it up with a
// CompanyPrefixLengths table) and fails with ErrUnsupported without it. To
// match identifiers from both worlds, compare canonical Digital Links
// (ToDigitalLink) instead: that needs no prefix length.
func (d DigitalLink) EPCURI() (string, error) {
	if d.CompanyPrefixLength == 0 {
		_, v := d.primary()
		return "", errf(ErrUnsupported, d.Path(), "the GS1 Company Prefix length of %s cannot be derived from the key itself; "+
			"set CompanyPrefixLength or use FromDigitalLink with the length from GS1's GCP length table", v)
	}
	e, err := FromDigitalLink(d, d.CompanyPrefixLength)
	if err != nil {
		return "", err
	}
	return e.URI(), nil
}

// Validate checks a DigitalLink that was not made by ParseDigitalLink:
// exactly one primary key, only qualifiers that key allows, and every
// value as ParseDigitalLink would accept it (keys already normalised to
// their full length).
func (d DigitalLink) Validate() error {
	key, _ := d.primary()
	if key == nil {
		return errf(ErrSyntax, "", "Digital Link has no primary key")
	}
	in := d.Path()
	for _, ai := range primaryOrder {
		s := ais[ai]
		v := *s.field(&d)
		if v == "" {
			continue
		}
		if s != key {
			return errf(ErrSyntax, in, "Digital Link has two primary keys, /%s/ and /%s/", key.ai, s.ai)
		}
		got, err := s.check(in, v)
		if err != nil {
			return err
		}
		if got != v {
			return errf(ErrLength, in, "%s %s must be written with all its digits (%s)", s.name, v, got)
		}
	}
	for ai, s := range ais {
		v := *s.field(&d)
		if s.primary || v == "" {
			continue
		}
		allowed := false
		for _, q := range key.qualifiers {
			allowed = allowed || q == ai
		}
		if !allowed {
			return errf(ErrSyntax, in, "/%s/ (%s) is not a qualifier of /%s/ (%s)", ai, s.name, key.ai, key.name)
		}
		if _, err := s.check(in, v); err != nil {
			return err
		}
	}
	if d.TPX != "" && (d.CPV != "" || d.Lot != "" || d.Serial != "") {
		return errf(ErrSyntax, in, "/235/ (TPX) cannot be combined with /22/, /10/ or /21/")
	}
	return nil
}

// FromDigitalLink converts a Digital Link into an EPC, given the length of
// the GS1 Company Prefix (6–12 digits) at the start of its key. A GTIN
// needs a serial (sgtin), a TPX (upui) or a lot (lgtin); a lot next to a
// serial is dropped, as the EPC names the finer level. GRAI, GDTI, GCN and
// CPID need their serial part; a CPV has no place in an EPC and is dropped.
func FromDigitalLink(d DigitalLink, gcpLen int) (EPC, error) {
	if err := d.Validate(); err != nil {
		return EPC{}, err
	}
	key, v := d.primary()
	in := d.Path()
	if gcpLen < 6 || gcpLen > 12 {
		return EPC{}, errf(ErrPartition, in, "a GS1 Company Prefix of %d digits has no EPC encoding (EPCs take 6 to 12)", gcpLen)
	}
	n := gcpLen
	e := EPC{Filter: -1}
	need := func(what, val string) error {
		if val == "" {
			return errf(ErrUnsupported, in, "a %s without %s has no EPC", key.name, what)
		}
		return nil
	}
	split := func(digits string, from, to int) {
		e.CompanyPrefix, e.Reference = digits[from:from+n], digits[from+n:to]
	}
	switch key.ai {
	case "01":
		e.CompanyPrefix = v[1 : 1+n]
		e.Reference = v[:1] + v[1+n:13]
		switch {
		case d.Serial != "":
			e.Scheme, e.Serial = SGTIN, d.Serial
		case d.TPX != "":
			e.Scheme, e.Serial = UPUI, d.TPX
		case d.Lot != "":
			e.Scheme, e.Lot = LGTIN, d.Lot
		default:
			return EPC{}, errf(ErrUnsupported, in, "a GTIN without serial or lot names a product class, not one EPC")
		}
	case "8006":
		if err := need("serial number", d.Serial); err != nil {
			return EPC{}, err
		}
		e.Scheme = ITIP
		e.CompanyPrefix = v[1 : 1+n]
		e.Reference = v[:1] + v[1+n:13]
		e.Piece, e.Total, e.Serial = v[14:16], v[16:18], d.Serial
	case "00":
		e.Scheme = SSCC
		e.CompanyPrefix = v[1 : 1+n]
		e.Reference = v[:1] + v[1+n:17]
	case "414":
		e.Scheme = SGLN
		split(v, 0, 12)
		e.Serial = d.GLNExtension
		if e.Serial == "" {
			e.Serial = "0"
		}
	case "417":
		e.Scheme = PGLN
		split(v, 0, 12)
	case "8003":
		if err := need("serial number", v[14:]); err != nil {
			return EPC{}, err
		}
		e.Scheme = GRAI
		split(v, 1, 13)
		e.Serial = v[14:]
	case "8018", "8017":
		e.Scheme = GSRN
		if key.ai == "8017" {
			e.Scheme = GSRNP
		}
		split(v, 0, 17)
	case "253", "255":
		if err := need("serial", v[13:]); err != nil {
			return EPC{}, err
		}
		e.Scheme = GDTI
		if key.ai == "255" {
			e.Scheme = SGCN
		}
		split(v, 0, 12)
		e.Serial = v[13:]
	case "402":
		e.Scheme = GSIN
		split(v, 0, 16)
	case "8004", "401", "8010":
		if len(v) <= n || !allDigits(v[:n]) {
			return EPC{}, errf(ErrSyntax, in, "%s %q does not start with a %d-digit GS1 Company Prefix followed by a reference", key.name, v, n)
		}
		e.CompanyPrefix = v[:n]
		switch key.ai {
		case "8004":
			e.Scheme, e.Serial = GIAI, v[n:]
		case "401":
			e.Scheme, e.Serial = GINC, v[n:]
		default:
			if err := need("serial (AI 8011)", d.CPSerial); err != nil {
				return EPC{}, err
			}
			e.Scheme, e.Reference, e.Serial = CPI, v[n:], d.CPSerial
		}
	}
	if err := specs[e.Scheme].validate(&e, in); err != nil {
		return EPC{}, err
	}
	return e, nil
}

// CompanyPrefixLengths maps leading digits of GS1 keys (a GS1 prefix or a
// whole company prefix) to the length of the GS1 Company Prefix that starts
// with them, as in GS1's published GCP length table. Lookup uses the
// longest matching entry. Load it from whatever copy of the table the
// deployment has; the package ships none.
type CompanyPrefixLengths map[string]int

// Lookup returns the company prefix length for digits, the key's digits
// starting where the company prefix starts.
func (t CompanyPrefixLengths) Lookup(digits string) (int, bool) {
	for i := len(digits); i > 0; i-- {
		if n, ok := t[digits[:i]]; ok {
			return n, true
		}
	}
	return 0, false
}

// EPC converts d with the company prefix length found in t.
func (t CompanyPrefixLengths) EPC(d DigitalLink) (EPC, error) {
	if err := d.Validate(); err != nil {
		return EPC{}, err
	}
	key, v := d.primary()
	switch key.ai {
	case "01", "8006", "00", "8003": // indicator, extension digit or leading 0 first
		v = v[1:]
	}
	n, ok := t.Lookup(v)
	if !ok {
		return EPC{}, errf(ErrUnsupported, d.Path(), "no GS1 Company Prefix length known for %s", v)
	}
	return FromDigitalLink(d, n)
}

// String returns the canonical Digital Link on the default base.
func (d DigitalLink) String() string { return d.URI("") }
