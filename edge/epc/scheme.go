package epc

// Scheme names an EPC scheme as it appears in pure identity URIs
// (urn:epc:id:<scheme>:…) or, for LGTIN, in the class URI
// (urn:epc:class:lgtin:…).
type Scheme string

// The EPC schemes the package understands.
const (
	SGTIN Scheme = "sgtin" // serialised GTIN
	SSCC  Scheme = "sscc"  // serial shipping container code
	SGLN  Scheme = "sgln"  // GLN of a physical location, with extension
	GRAI  Scheme = "grai"  // returnable asset
	GIAI  Scheme = "giai"  // individual asset
	GSRN  Scheme = "gsrn"  // service relation, recipient
	GSRNP Scheme = "gsrnp" // service relation, provider
	GDTI  Scheme = "gdti"  // document
	SGCN  Scheme = "sgcn"  // serialised coupon
	CPI   Scheme = "cpi"   // component / part
	GINC  Scheme = "ginc"  // consignment
	GSIN  Scheme = "gsin"  // shipment
	ITIP  Scheme = "itip"  // individual trade item piece
	UPUI  Scheme = "upui"  // unit pack identifier (EU tobacco)
	PGLN  Scheme = "pgln"  // GLN of a party
	LGTIN Scheme = "lgtin" // GTIN + lot, a class-level URI
)

// EPC is one decoded EPC identity in pure identity form. Which fields a
// scheme uses, and what they hold (values are raw, not %-escaped):
//
//	sgtin  Reference = indicator digit + item reference, Serial
//	lgtin  Reference = indicator digit + item reference, Lot
//	upui   Reference = indicator digit + item reference, Serial = TPX
//	itip   Reference = indicator digit + item reference, Piece, Total, Serial
//	sscc   Reference = extension digit + serial reference
//	sgln   Reference = location reference, Serial = extension ("0": none)
//	pgln   Reference = party reference
//	grai   Reference = asset type, Serial
//	gdti   Reference = document type, Serial
//	sgcn   Reference = coupon reference, Serial (leading zeros significant)
//	gsrn, gsrnp  Reference = service reference
//	gsin   Reference = shipper reference
//	cpi    Reference = component/part reference, Serial
//	giai   Serial = individual asset reference
//	ginc   Serial = consignment reference
//
// CompanyPrefix is the GS1 Company Prefix with its leading zeros (6 to 12
// digits): EPCs keep it apart from the reference, GS1 keys do not.
type EPC struct {
	Scheme        Scheme
	Filter        int    // from a tag encoding (0–7); -1 when unknown (URI input)
	CompanyPrefix string // digits, length 6..12
	Reference     string
	Serial        string
	Lot           string // LGTIN lot
	Piece, Total  string // ITIP only: two digits each
}

type tailKind uint8

const (
	tailNone      tailKind = iota
	tailGS1                // CSET 82, 1..max characters
	tailDigits             // 1..max digits, leading zeros significant
	tailNumber             // 1..max digits, no leading zero unless "0"
	tailGS1Remain          // CSET 82; GCP + value at most max characters
)

type schemeSpec struct {
	scheme    Scheme
	class     bool   // urn:epc:class: rather than urn:epc:id:
	keyDigits int    // GCP + numeric reference digits; 0: no numeric reference
	refName   string // for messages
	cpiRef    bool   // reference is CSET 39, GCP + reference ≤ 30
	pieces    bool   // ITIP piece and total
	tail      tailKind
	tailMax   int
	tailName  string
}

var specs = map[Scheme]*schemeSpec{
	SGTIN: {scheme: SGTIN, keyDigits: 13, refName: "indicator and item reference", tail: tailGS1, tailMax: 20, tailName: "serial number"},
	LGTIN: {scheme: LGTIN, class: true, keyDigits: 13, refName: "indicator and item reference", tail: tailGS1, tailMax: 20, tailName: "lot"},
	UPUI:  {scheme: UPUI, keyDigits: 13, refName: "indicator and item reference", tail: tailGS1, tailMax: 28, tailName: "third-party controlled serial (TPX)"},
	ITIP:  {scheme: ITIP, keyDigits: 13, refName: "indicator and item reference", pieces: true, tail: tailGS1, tailMax: 20, tailName: "serial number"},
	SSCC:  {scheme: SSCC, keyDigits: 17, refName: "extension digit and serial reference"},
	SGLN:  {scheme: SGLN, keyDigits: 12, refName: "location reference", tail: tailGS1, tailMax: 20, tailName: "GLN extension"},
	PGLN:  {scheme: PGLN, keyDigits: 12, refName: "party reference"},
	GRAI:  {scheme: GRAI, keyDigits: 12, refName: "asset type", tail: tailGS1, tailMax: 16, tailName: "serial number"},
	GDTI:  {scheme: GDTI, keyDigits: 12, refName: "document type", tail: tailGS1, tailMax: 17, tailName: "serial number"},
	SGCN:  {scheme: SGCN, keyDigits: 12, refName: "coupon reference", tail: tailDigits, tailMax: 12, tailName: "serial component"},
	GSRN:  {scheme: GSRN, keyDigits: 17, refName: "service reference"},
	GSRNP: {scheme: GSRNP, keyDigits: 17, refName: "service reference"},
	GSIN:  {scheme: GSIN, keyDigits: 16, refName: "shipper reference"},
	GIAI:  {scheme: GIAI, tail: tailGS1Remain, tailMax: 30, tailName: "individual asset reference"},
	GINC:  {scheme: GINC, tail: tailGS1Remain, tailMax: 30, tailName: "consignment reference"},
	CPI:   {scheme: CPI, refName: "component/part reference", cpiRef: true, tail: tailNumber, tailMax: 12, tailName: "serial number"},
}

// validate checks every field of e against its scheme's rules and returns
// the first problem. input is used for error messages.
func (sp *schemeSpec) validate(e *EPC, input string) error {
	gcp := e.CompanyPrefix
	if err := checkDigits(input, gcp, "GS1 Company Prefix", -12); err != nil {
		return err
	}
	if len(gcp) < 6 {
		return errf(ErrLength, input, "GS1 Company Prefix %q has %d digits; EPCs need 6 to 12", gcp, len(gcp))
	}
	switch {
	case sp.keyDigits > 0:
		want := sp.keyDigits - len(gcp)
		if !allDigits(e.Reference) {
			return checkDigits(input, e.Reference, sp.refName, want)
		}
		if len(e.Reference) != want {
			return errf(ErrLength, input, "%s must have %d digits with a %d-digit company prefix, has %d",
				sp.refName, want, len(gcp), len(e.Reference))
		}
	case sp.cpiRef:
		if err := checkRaw(input, e.Reference, sp.refName, &cset39, 1, 30-len(gcp)); err != nil {
			return err
		}
	default:
		if e.Reference != "" {
			return errf(ErrSyntax, input, "%s EPCs have no reference component", sp.scheme)
		}
	}
	if sp.pieces {
		if err := checkDigits(input, e.Piece, "piece number", 2); err != nil {
			return err
		}
		if err := checkDigits(input, e.Total, "total count", 2); err != nil {
			return err
		}
	} else if e.Piece != "" || e.Total != "" {
		return errf(ErrSyntax, input, "only ITIP EPCs have piece and total")
	}
	tail, other := e.Serial, e.Lot
	if sp.scheme == LGTIN {
		tail, other = e.Lot, e.Serial
	}
	if other != "" {
		if sp.scheme == LGTIN {
			return errf(ErrSyntax, input, "an LGTIN has a lot, not a serial number")
		}
		return errf(ErrSyntax, input, "%s EPCs have no lot", sp.scheme)
	}
	switch sp.tail {
	case tailNone:
		if tail != "" {
			return errf(ErrSyntax, input, "%s EPCs have no serial component", sp.scheme)
		}
	case tailGS1:
		return checkRaw(input, tail, sp.tailName, &cset82, 1, sp.tailMax)
	case tailGS1Remain:
		return checkRaw(input, tail, sp.tailName, &cset82, 1, sp.tailMax-len(gcp))
	case tailDigits:
		return checkDigits(input, tail, sp.tailName, -sp.tailMax)
	case tailNumber:
		if err := checkDigits(input, tail, sp.tailName, -sp.tailMax); err != nil {
			return err
		}
		if len(tail) > 1 && tail[0] == '0' {
			return errf(ErrSyntax, input, "%s %q must not start with 0", sp.tailName, tail)
		}
	}
	return nil
}

// Validate reports whether e is a well-formed EPC of its scheme.
func (e EPC) Validate() error {
	sp, ok := specs[e.Scheme]
	if !ok {
		return errf(ErrUnsupported, string(e.Scheme), "EPC scheme %q is not supported", e.Scheme)
	}
	return sp.validate(&e, e.URI())
}
