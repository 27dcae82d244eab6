package epc

import (
	"errors"
	"strings"
	"testing"
)

// hexWith builds a 96-bit SGTIN-96-shaped hex with chosen field values, to
// reach values no published example has.
func hexWith(header byte, filter, part int, fields ...[2]uint64) string {
	b := bitBuf(make([]byte, 12))
	b.put(0, 8, uint64(header))
	b.put(8, 3, uint64(filter))
	b.put(11, 3, uint64(part))
	off := 14
	for _, f := range fields {
		b.put(off, int(f[0]), f[1])
		off += int(f[0])
	}
	return b.hex()
}

func sgtin198Hex(serial []byte) string {
	b := bitBuf(make([]byte, 26))
	b.put(0, 8, 0x36)
	b.put(8, 3, 3)
	b.put(11, 3, 5)
	b.put(14, 24, 614141)
	b.put(38, 20, 712345)
	for i, c := range serial {
		b.put(58+7*i, 7, uint64(c))
	}
	return b.hex()
}

func checkErr(t *testing.T, what string, err error, kind Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, kind)
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %q is not %v", what, err, kind)
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != kind {
		t.Errorf("%s: error %T %v, want *Error of kind %v", what, err, err, kind)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: error %q does not say %q", what, err, msg)
	}
}

func TestDecodeHexErrors(t *testing.T) {
	tests := []struct {
		name, hex string
		kind      Kind
		msg       string
	}{
		{"empty", "", ErrLength, "at least a 2-digit header"},
		{"only 0x", "0x", ErrLength, ""},
		{"one digit", "3", ErrLength, ""},
		{"not hex", "3G74257BF7194E4000001A85", ErrSyntax, `'G' at position 2 is not a hex digit`},
		{"inner space", "3074257B F7194E4000001A85", ErrSyntax, "not a hex digit"},
		{"unknown header", "FF74257BF7194E4000001A85", ErrHeader, "header 0xFF is not an EPC header"},
		{"unsupported header", "2D74257BF4499602D2000000", ErrHeader, "GSRN-96"},
		{"unprogrammed", "000000000000000000000000", ErrHeader, "unprogrammed"},
		{"sgtin partition 7", "307C257BF7194E4000001A85", ErrPartition, "SGTIN-96 partition 7 is not defined (valid: 0–6)"},
		{"sscc partition 7", hexWith(0x31, 0, 7), ErrPartition, "SSCC-96 partition 7"},
		{"sgln partition 7", hexWith(0x32, 0, 7), ErrPartition, "SGLN-96 partition 7"},
		{"grai partition 7", hexWith(0x33, 0, 7), ErrPartition, "GRAI-96 partition 7"},
		{"short", "3074257BF7194E4000001A8", ErrLength, "SGTIN-96 needs 24 hex digits"},
		{"short 198", "3674257BF6B7A659B2C2BF10000000000000000000000000", ErrLength, "SGTIN-198 needs 50"},
		{"data after the EPC", "3074257BF7194E4000001A850001", ErrLength, "not zero padding"},
		{"too long", "30" + strings.Repeat("0", 130), ErrLength, "at most 124"},
		{"sscc reserved bits", "3174257BF4499602D2000001", ErrReserved, "SSCC-96 reserved bits"},
		{"company prefix too big", hexWith(0x30, 0, 0, [2]uint64{40, 1<<40 - 1}), ErrRange, "company prefix field holds 1099511627775"},
		{"item reference too big", hexWith(0x30, 0, 6, [2]uint64{20, 123456}, [2]uint64{24, 10000000}), ErrRange, "more than the 7 digits partition 6 allows"},
		{"sgln location too big", hexWith(0x32, 0, 0, [2]uint64{40, 1}, [2]uint64{1, 1}), ErrRange, "location reference"},
		{"sscc serial too big", hexWith(0x31, 0, 0, [2]uint64{40, 1}, [2]uint64{18, 100000}), ErrRange, ""},
		{"198 bad character", sgtin198Hex([]byte("ab#")), ErrCharset, "0x23"},
		{"198 data after end", sgtin198Hex([]byte{'a', 0, 'b'}), ErrReserved, "must be zero"},
		{"198 empty serial", sgtin198Hex(nil), ErrLength, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeHex(tt.hex)
			checkErr(t, tt.hex, err, tt.kind, tt.msg)
			if e != (EPC{}) {
				t.Errorf("failed decode returned %+v", e)
			}
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	long := strings.Repeat("A", 21)
	tests := []struct {
		uri  string
		kind Kind
		msg  string
	}{
		{"", ErrSyntax, "not an EPC URI"},
		{"https://id.gs1.org/01/09506000134352/21/1", ErrSyntax, "not an EPC URI"},
		{"urn:epc:id:sgtin", ErrSyntax, "missing ':'"},
		{"urn:epc:id:sgtin:0614141.812345", ErrSyntax, "needs 3 dot-separated components"},
		{"urn:epc:id:sgtin:0614141.81234.6789", ErrLength, "must have 6 digits with a 7-digit company prefix"},
		{"urn:epc:id:sgtin:06141.8123456.6789", ErrLength, "has 5 digits; EPCs need 6 to 12"},
		{"urn:epc:id:sgtin:0614141234567.8.6789", ErrLength, ""},
		{"urn:epc:id:sgtin:061414A.812345.6789", ErrCharset, "digits only"},
		{"urn:epc:id:sgtin:0614141.8123A5.1", ErrCharset, "digits only"},
		{"urn:epc:id:sgtin:0614141.812345.67%2389", ErrCharset, "%23"},
		{"urn:epc:id:sgtin:0614141.812345.67/89", ErrCharset, "must be written as %2F"},
		{"urn:epc:id:sgtin:0614141.812345.67 89", ErrCharset, ""},
		{"urn:epc:id:sgtin:0614141.812345.6é", ErrCharset, "byte 0xC3"},
		{"urn:epc:id:sgtin:0614141.812345.%2", ErrSyntax, "incomplete"},
		{"urn:epc:id:sgtin:0614141.812345.%G0", ErrSyntax, "malformed"},
		{"urn:epc:id:sgtin:0614141.812345.", ErrLength, "is empty"},
		{"urn:epc:id:sgtin:0614141.812345." + long, ErrLength, "at most 20"},
		{"urn:epc:id:sscc:0614141.123456789", ErrLength, ""},
		{"urn:epc:id:sgln:0614141.12345", ErrSyntax, ""},
		{"urn:epc:id:grai:0614141.12345.12345678901234567", ErrLength, "at most 16"},
		{"urn:epc:id:giai:0614141.12345678901234567890123X", ErrLength, "at most 23"},
		{"urn:epc:id:cpi:0614141.5PQ7%2FZ43.012345", ErrSyntax, "must not start with 0"},
		{"urn:epc:id:cpi:0614141.5pq.1", ErrCharset, ""},
		{"urn:epc:id:sgcn:4012345.67890.0471100000000", ErrLength, "1 to 12 digits"},
		{"urn:epc:id:itip:4012345.012345.1.02.987", ErrLength, "piece number"},
		{"urn:epc:id:foo:1.2", ErrSyntax, "unknown EPC scheme"},
		{"urn:epc:id:gid:95100000.12345.400", ErrUnsupported, "not a GS1 key scheme"},
		{"urn:epc:id:lgtin:4012345.012345.L1", ErrSyntax, "unknown EPC scheme"},
		{"urn:epc:class:sgtin:4012345.012345.L1", ErrUnsupported, ""},
		{"urn:epc:idpat:sgtin:0614141.812345.*", ErrUnsupported, ""},
		{"urn:epc:raw:96.x3074257BF7194E4000001A85", ErrUnsupported, ""},
		{"urn:epc:tag:sgtin-96:8.0614141.812345.6789", ErrRange, "filter value 8"},
		{"urn:epc:tag:sgtin-96:x.0614141.812345.6789", ErrSyntax, "filter"},
		{"urn:epc:tag:sgtin-96:3.0614141.812345.0123", ErrSyntax, "leading zero"},
		{"urn:epc:tag:sgtin-96:3.0614141.812345.274877906944", ErrRange, "at most 274877906943"},
		{"urn:epc:tag:sgtin-96:3.0614141.812345.AB", ErrCharset, "numeric"},
		{"urn:epc:tag:sgln-96:3.0614141.12345.2199023255552", ErrRange, ""},
		{"urn:epc:tag:giai-96:3.0614141.0A", ErrCharset, ""},
		{"urn:epc:tag:giai-202:3.0614141.123456789012345678901234", ErrLength, "at most 23"},
		{"urn:epc:tag:gsrn-96:3.0614141.1234567890", ErrUnsupported, "gsrn-96"},
		{"urn:epc:tag:sscc-96:3.0614141.123456789", ErrLength, ""},
	}
	for _, tt := range tests {
		e, err := ParseURI(tt.uri)
		checkErr(t, tt.uri, err, tt.kind, tt.msg)
		if e != (EPC{}) {
			t.Errorf("%s: failed parse returned %+v", tt.uri, e)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	sgtin := func(serial string) EPC {
		return EPC{Scheme: SGTIN, Filter: -1, CompanyPrefix: "0614141", Reference: "812345", Serial: serial}
	}
	tests := []struct {
		name   string
		e      EPC
		filter int
		kind   Kind
		msg    string
	}{
		{"alphanumeric serial", sgtin("AB12"), 3, ErrCharset, "SGTIN-96 can only hold a numeric serial"},
		{"leading zero", sgtin("0123"), 3, ErrSyntax, "leading zero would be lost"},
		{"serial 2^38", sgtin("274877906944"), 3, ErrRange, "too big"},
		{"serial too long to parse", sgtin("99999999999999999999"), 3, ErrRange, "too big"},
		{"filter 8", sgtin("1"), 8, ErrRange, "filter value 8"},
		{"filter -1", sgtin("1"), -1, ErrRange, "filter value -1"},
		{"short prefix", EPC{Scheme: SGTIN, CompanyPrefix: "61414", Reference: "8123456", Serial: "1"}, 0, ErrLength, "EPCs need 6 to 12"},
		{"no 96-bit GSRN", EPC{Scheme: GSRN, CompanyPrefix: "0614141", Reference: "1234567890"}, 0, ErrUnsupported, "no 96-bit encoding"},
		{"no binary LGTIN", EPC{Scheme: LGTIN, CompanyPrefix: "0614141", Reference: "812345", Lot: "L1"}, 0, ErrUnsupported, ""},
		{"unknown scheme", EPC{Scheme: "nope", CompanyPrefix: "0614141"}, 0, ErrUnsupported, ""},
		{"sgln extension 2^41", EPC{Scheme: SGLN, CompanyPrefix: "0614141", Reference: "12345", Serial: "2199023255552"}, 0, ErrRange, ""},
		{"giai-96 letters", EPC{Scheme: GIAI, CompanyPrefix: "0614141", Serial: "A1"}, 0, ErrCharset, ""},
		{"sgtin with lot", EPC{Scheme: SGTIN, CompanyPrefix: "0614141", Reference: "812345", Serial: "1", Lot: "x"}, 0, ErrSyntax, "no lot"},
	}
	for _, tt := range tests {
		_, err := tt.e.EncodeHex96(tt.filter)
		checkErr(t, tt.name, err, tt.kind, tt.msg)
	}
	// The longer encodings take what 96 bits cannot.
	if got, err := sgtin("AB12").EncodeHex(3); err != nil || !strings.HasPrefix(got, "3674257BF7194E") || len(got) != 52 {
		t.Errorf("EncodeHex(AB12) = %s, %v; want SGTIN-198", got, err)
	}
	if got, err := sgtin("AB12").TagURI(3); err != nil || got != "urn:epc:tag:sgtin-198:3.0614141.812345.AB12" {
		t.Errorf("TagURI = %s, %v", got, err)
	}
	if got, err := sgtin("6789").TagURI(3); err != nil || got != "urn:epc:tag:sgtin-96:3.0614141.812345.6789" {
		t.Errorf("TagURI = %s, %v", got, err)
	}
	if _, err := sgtin(strings.Repeat("A", 21)).EncodeHex(3); !errors.Is(err, ErrLength) {
		t.Errorf("21-character serial: %v", err)
	}
	if _, err := (EPC{Scheme: GSRN, CompanyPrefix: "0614141", Reference: "1234567890"}).TagURI(0); !errors.Is(err, ErrUnsupported) {
		t.Errorf("GSRN TagURI: %v", err)
	}
}

func TestErrorValues(t *testing.T) {
	err := error(&Error{Kind: ErrCheckDigit, Input: strings.Repeat("9", 200), Msg: "GTIN 1 has check digit 1; it should be 2"})
	if !errors.Is(err, ErrCheckDigit) || errors.Is(err, ErrRange) {
		t.Error("errors.Is does not follow Kind")
	}
	var k Kind
	if !errors.As(err, &k) || k != ErrCheckDigit {
		t.Errorf("errors.As(Kind) = %v", k)
	}
	if s := err.Error(); !strings.HasPrefix(s, "epc: GTIN 1 has check digit 1") || len(s) > 200 {
		t.Errorf("message %q (long inputs must be cut)", s)
	}
	if ErrCharset.Error() != "epc: character not allowed" || Kind(99).String() != "Kind(99)" {
		t.Errorf("kind strings: %q %q", ErrCharset.Error(), Kind(99).String())
	}
	if s := (&Error{Kind: ErrSyntax, Msg: "x"}).Error(); s != "epc: x" {
		t.Errorf("no-input message %q", s)
	}
}
