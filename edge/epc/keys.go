package epc

import "strings"

// gtin13 returns the 13 GTIN digits before the check digit, for schemes
// whose reference starts with the indicator digit.
func (e EPC) gtin13() string {
	if e.Reference == "" {
		return e.CompanyPrefix
	}
	return e.Reference[:1] + e.CompanyPrefix + e.Reference[1:]
}

func (e EPC) checked(key string, schemes ...Scheme) error {
	for _, s := range schemes {
		if e.Scheme == s {
			return e.Validate()
		}
	}
	names := make([]string, len(schemes))
	for i, s := range schemes {
		names[i] = string(s)
	}
	return errf(ErrUnsupported, e.URI(), "a %s EPC has no %s (only %s EPCs do)", e.Scheme, key, strings.Join(names, ", "))
}

// GTIN returns the 14-digit GTIN, check digit computed, of an sgtin, lgtin,
// upui or itip EPC.
func (e EPC) GTIN() (string, error) {
	if err := e.checked("GTIN", SGTIN, LGTIN, UPUI, ITIP); err != nil {
		return "", err
	}
	return withCheckDigit(e.gtin13()), nil
}

// SSCC returns the 18-digit SSCC, check digit computed, of an sscc EPC.
func (e EPC) SSCC() (string, error) {
	if err := e.checked("SSCC", SSCC); err != nil {
		return "", err
	}
	return withCheckDigit(e.gtin13()), nil
}

// GLN returns the 13-digit GLN, check digit computed, of an sgln or pgln
// EPC. An SGLN's extension is not part of the GLN (it is AI 254).
func (e EPC) GLN() (string, error) {
	if err := e.checked("GLN", SGLN, PGLN); err != nil {
		return "", err
	}
	return withCheckDigit(e.CompanyPrefix + e.Reference), nil
}

// DefaultDigitalLinkBase is the canonical GS1 resolver, used by
// DigitalLink when base is empty and by ToDigitalLink.
const DefaultDigitalLinkBase = "https://id.gs1.org"

// DigitalLink returns the GS1 Digital Link URI of e on base (for example
// "https://id.gs1.org"; empty means that one; a trailing slash is
// ignored). The path is the canonical numeric one:
//
//	sgtin  /01/{gtin}/21/{serial}      lgtin /01/{gtin}/10/{lot}
//	upui   /01/{gtin}/235/{tpx}        itip  /8006/{itip}/21/{serial}
//	sscc   /00/{sscc}                  sgln  /414/{gln}[/254/{extension}]
//	pgln   /417/{gln}                  grai  /8003/0{grai}{serial}
//	giai   /8004/{giai}                gsrn  /8018/{gsrn}
//	gsrnp  /8017/{gsrnp}               gdti  /253/{gdti}{serial}
//	sgcn   /255/{gcn}{serial}          cpi   /8010/{cpid}/8011/{serial}
//	ginc   /401/{ginc}                 gsin  /402/{gsin}
//
// An SGLN extension "0" means "no extension" and gives no /254/. Values are
// percent-encoded except letters, digits and - . _ ' ; = — so for a
// canonical EPC URI the result on the default base is byte-identical to
// ToDigitalLink(e.URI()).
func (e EPC) DigitalLink(base string) (string, error) {
	if err := e.Validate(); err != nil {
		return "", err
	}
	if base == "" {
		base = DefaultDigitalLinkBase
	}
	base = strings.TrimRight(base, "/")
	return base + e.dlPath(), nil
}

func (e EPC) dlPath() string {
	gcp, ref := e.CompanyPrefix, e.Reference
	switch e.Scheme {
	case SGTIN:
		return "/01/" + withCheckDigit(e.gtin13()) + "/21/" + escapeDL(e.Serial)
	case LGTIN:
		return "/01/" + withCheckDigit(e.gtin13()) + "/10/" + escapeDL(e.Lot)
	case UPUI:
		return "/01/" + withCheckDigit(e.gtin13()) + "/235/" + escapeDL(e.Serial)
	case ITIP:
		return "/8006/" + withCheckDigit(e.gtin13()) + e.Piece + e.Total + "/21/" + escapeDL(e.Serial)
	case SSCC:
		return "/00/" + withCheckDigit(e.gtin13())
	case SGLN:
		p := "/414/" + withCheckDigit(gcp+ref)
		if e.Serial != "0" {
			p += "/254/" + escapeDL(e.Serial)
		}
		return p
	case PGLN:
		return "/417/" + withCheckDigit(gcp+ref)
	case GRAI:
		return "/8003/" + withCheckDigit("0"+gcp+ref) + escapeDL(e.Serial)
	case GIAI:
		return "/8004/" + gcp + escapeDL(e.Serial)
	case GSRN:
		return "/8018/" + withCheckDigit(gcp+ref)
	case GSRNP:
		return "/8017/" + withCheckDigit(gcp+ref)
	case GDTI:
		return "/253/" + withCheckDigit(gcp+ref) + escapeDL(e.Serial)
	case SGCN:
		return "/255/" + withCheckDigit(gcp+ref) + e.Serial
	case CPI:
		return "/8010/" + gcp + escapeDL(ref) + "/8011/" + e.Serial
	case GINC:
		return "/401/" + gcp + escapeDL(e.Serial)
	case GSIN:
		return "/402/" + withCheckDigit(gcp+ref)
	}
	return ""
}
