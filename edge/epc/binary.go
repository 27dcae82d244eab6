package epc

import (
	"fmt"
	"strconv"
	"strings"
)

// partition is one row of a TDS partition table: how many bits and digits
// the GS1 Company Prefix and the reference that follows it get.
type partition struct{ gcpBits, gcpDigits, refBits, refDigits int }

// Partition tables, TDS 2.x §14.5. The row index is the partition value;
// value 7 is undefined for every scheme.
var (
	// SGTIN-96, SGTIN-198 (Table 14-2): company prefix + indicator/item
	// reference, 44 bits, 13 digits.
	sgtinParts = [7]partition{{40, 12, 4, 1}, {37, 11, 7, 2}, {34, 10, 10, 3}, {30, 9, 14, 4}, {27, 8, 17, 5}, {24, 7, 20, 6}, {20, 6, 24, 7}}
	// SSCC-96 (Table 14-5): company prefix + extension/serial reference,
	// 58 bits, 17 digits.
	ssccParts = [7]partition{{40, 12, 18, 5}, {37, 11, 21, 6}, {34, 10, 24, 7}, {30, 9, 28, 8}, {27, 8, 31, 9}, {24, 7, 34, 10}, {20, 6, 38, 11}}
	// SGLN-96, SGLN-195 (Table 14-8): company prefix + location reference,
	// 41 bits, 12 digits.
	sglnParts = [7]partition{{40, 12, 1, 0}, {37, 11, 4, 1}, {34, 10, 7, 2}, {30, 9, 11, 3}, {27, 8, 14, 4}, {24, 7, 17, 5}, {20, 6, 21, 6}}
	// GRAI-96, GRAI-170 (Table 14-11): company prefix + asset type, 44
	// bits, 12 digits.
	graiParts = [7]partition{{40, 12, 4, 0}, {37, 11, 7, 1}, {34, 10, 10, 2}, {30, 9, 14, 3}, {27, 8, 17, 4}, {24, 7, 20, 5}, {20, 6, 24, 6}}
	// GIAI-96 (Table 14-14): company prefix + numeric asset reference, 82
	// bits; refDigits is the most digits the reference can have.
	giai96Parts = [7]partition{{40, 12, 42, 13}, {37, 11, 45, 14}, {34, 10, 48, 15}, {30, 9, 52, 16}, {27, 8, 55, 17}, {24, 7, 58, 18}, {20, 6, 62, 19}}
	// GIAI-202 (Table 14-15): company prefix + alphanumeric asset
	// reference, 188 bits; refDigits is the most characters.
	giai202Parts = [7]partition{{40, 12, 148, 18}, {37, 11, 151, 19}, {34, 10, 154, 20}, {30, 9, 158, 21}, {27, 8, 161, 22}, {24, 7, 164, 23}, {20, 6, 168, 24}}
)

type refKind uint8

const (
	refPadded refKind = iota // integer, zero-padded to refDigits, into Reference
	refNumber                // integer without padding, into Serial (GIAI-96)
	refString                // 7-bit string, into Serial (GIAI-202)
)

type binTail uint8

const (
	binTailNone     binTail = iota
	binTailInt              // serial as an integer: no leading zeros
	binTailString           // serial as 7-bit characters, zero padded
	binTailReserved         // bits that must be zero (SSCC-96)
)

// encoding describes one EPC binary encoding (TDS 2.x §14.6).
type encoding struct {
	name     string // as in tag URIs: "sgtin-96"
	label    string // for messages: "SGTIN-96"
	header   byte
	bits     int
	scheme   Scheme
	parts    *[7]partition
	ref      refKind
	tail     binTail
	tailBits int
}

var encodings = []*encoding{
	{name: "sgtin-96", label: "SGTIN-96", header: 0x30, bits: 96, scheme: SGTIN, parts: &sgtinParts, ref: refPadded, tail: binTailInt, tailBits: 38},
	{name: "sscc-96", label: "SSCC-96", header: 0x31, bits: 96, scheme: SSCC, parts: &ssccParts, ref: refPadded, tail: binTailReserved, tailBits: 24},
	{name: "sgln-96", label: "SGLN-96", header: 0x32, bits: 96, scheme: SGLN, parts: &sglnParts, ref: refPadded, tail: binTailInt, tailBits: 41},
	{name: "grai-96", label: "GRAI-96", header: 0x33, bits: 96, scheme: GRAI, parts: &graiParts, ref: refPadded, tail: binTailInt, tailBits: 38},
	{name: "giai-96", label: "GIAI-96", header: 0x34, bits: 96, scheme: GIAI, parts: &giai96Parts, ref: refNumber},
	{name: "sgtin-198", label: "SGTIN-198", header: 0x36, bits: 198, scheme: SGTIN, parts: &sgtinParts, ref: refPadded, tail: binTailString, tailBits: 140},
	{name: "grai-170", label: "GRAI-170", header: 0x37, bits: 170, scheme: GRAI, parts: &graiParts, ref: refPadded, tail: binTailString, tailBits: 112},
	{name: "giai-202", label: "GIAI-202", header: 0x38, bits: 202, scheme: GIAI, parts: &giai202Parts, ref: refString},
	{name: "sgln-195", label: "SGLN-195", header: 0x39, bits: 195, scheme: SGLN, parts: &sglnParts, ref: refPadded, tail: binTailString, tailBits: 140},
}

// otherHeaders names the TDS 2.x headers (Table 14-1) this package does not
// decode, so the error can say what the tag holds.
var otherHeaders = map[byte]string{
	0x00: "no EPC (unprogrammed tag)",
	0x2C: "GDTI-96", 0x2D: "GSRN-96", 0x2E: "GSRNP-96", 0x2F: "USDOD-96",
	0x35: "GID-96", 0x3A: "GDTI-113", 0x3B: "ADI-var", 0x3C: "CPI-96", 0x3D: "CPI-var",
	0x3E: "GDTI-174", 0x3F: "SGCN-96", 0x40: "ITIP-110", 0x41: "ITIP-212",
	0xE6: "CPI++", 0xE7: "GSRN++", 0xE8: "GSRNP++", 0xE9: "SGLN++", 0xEA: "GDTI++",
	0xEB: "GRAI++", 0xEC: "SGCN++", 0xED: "ITIP++", 0xEE: "GIAI++", 0xEF: "SSCC++",
	0xF0: "CPI+", 0xF1: "GRAI+", 0xF2: "SGLN+", 0xF3: "ITIP+", 0xF4: "GSRN+", 0xF5: "GSRNP+",
	0xF6: "GDTI+", 0xF7: "SGTIN+", 0xF8: "SGCN+", 0xF9: "SSCC+", 0xFA: "GIAI+", 0xFB: "DSGTIN+",
	0xFC: "DSGTIN++", 0xFD: "SGTIN++",
}

var encodingByHeader [256]*encoding

func init() {
	for _, e := range encodings {
		encodingByHeader[e.header] = e
	}
}

func encodingByName(name string) *encoding {
	for _, e := range encodings {
		if e.name == name {
			return e
		}
	}
	return nil
}

func encodingNames() string {
	names := make([]string, len(encodings))
	for i, e := range encodings {
		names[i] = e.name
	}
	return strings.Join(names, ", ")
}

// encodingsFor lists a scheme's encodings, shortest first.
func encodingsFor(s Scheme) []*encoding {
	var out []*encoding
	for _, e := range encodings {
		if e.scheme == s {
			out = append(out, e)
		}
	}
	return out
}

// maxHexDigits is the EPC bank's largest EPC (31 words, 496 bits). Readers
// may report trailing zero words; longer input is refused.
const maxHexDigits = 124

var pow10 = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// bitBuf is a big-endian bit string.
type bitBuf []byte

func (b bitBuf) bit(i int) uint64 { return uint64(b[i>>3]>>(7-uint(i&7))) & 1 }

func (b bitBuf) uint(off, n int) uint64 {
	var v uint64
	for i := off; i < off+n; i++ {
		v = v<<1 | b.bit(i)
	}
	return v
}

func (b bitBuf) put(off, n int, v uint64) {
	for i := n - 1; i >= 0; i-- {
		if v&1 != 0 {
			p := off + i
			b[p>>3] |= 1 << (7 - uint(p&7))
		}
		v >>= 1
	}
}

func (b bitBuf) zeroFrom(from, to int) bool {
	for i := from; i < to; i++ {
		if b.bit(i) != 0 {
			return false
		}
	}
	return true
}

// DecodeHex decodes the hex EPC an RFID reader reports (the EPC bank from
// bit 20h, as Impinj's epcHex or Zebra's idHex carry it). It accepts
// SGTIN-96 (header 30), SSCC-96 (31), SGLN-96 (32), GRAI-96 (33), GIAI-96
// (34), SGTIN-198 (36), GRAI-170 (37), GIAI-202 (38) and SGLN-195 (39).
// Hex is case-insensitive; surrounding white space and a leading "0x" are
// ignored; trailing zero padding (to a 16-bit word, or a longer EPC bank)
// is accepted, anything else after the encoding is an error.
//
// The returned EPC has Filter set from the tag. Bits TDS reserves must be
// zero: SSCC-96's 24 reserved bits (TDS Table 14-6 and GS1's Tag Data
// Translation definition both give them as zeros) and the padding after a
// 7-bit string field.
func DecodeHex(hex string) (EPC, error) {
	e, _, err := decodeHex(hex)
	return e, err
}

func decodeHex(in string) (EPC, *encoding, error) {
	s := strings.TrimSpace(in)
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) < 2 {
		return EPC{}, nil, errf(ErrLength, in, "hex EPC has %d digits; it needs at least a 2-digit header", len(s))
	}
	if len(s) > maxHexDigits {
		return EPC{}, nil, errf(ErrLength, in, "hex EPC has %d digits; an EPC bank holds at most %d", len(s), maxHexDigits)
	}
	var store [maxHexDigits / 2]byte
	buf := bitBuf(store[:(len(s)+1)/2])
	for i := 0; i < len(s); i++ {
		v, ok := unhex(s[i])
		if !ok {
			return EPC{}, nil, errf(ErrSyntax, in, "%q at position %d is not a hex digit", s[i], i+1)
		}
		buf[i/2] |= v << (4 * uint(1-i%2))
	}
	enc := encodingByHeader[buf[0]]
	if enc == nil {
		if name, ok := otherHeaders[buf[0]]; ok {
			return EPC{}, nil, errf(ErrHeader, in, "header 0x%02X is %s, which this decoder does not support (supported: %s)", buf[0], name, encodingNames())
		}
		return EPC{}, nil, errf(ErrHeader, in, "header 0x%02X is not an EPC header defined by the Tag Data Standard", buf[0])
	}
	nbits := 4 * len(s)
	if nbits < enc.bits {
		return EPC{}, nil, errf(ErrLength, in, "%s needs %d hex digits (%d bits), got %d", enc.label, (enc.bits+3)/4, enc.bits, len(s))
	}
	if !buf.zeroFrom(enc.bits, nbits) {
		return EPC{}, nil, errf(ErrLength, in, "hex EPC has %d digits; %s uses %d bits and the digits after them are not zero padding",
			len(s), enc.label, enc.bits)
	}
	e, err := enc.decode(buf, in)
	if err != nil {
		return EPC{}, nil, err
	}
	return e, enc, nil
}

func (enc *encoding) decode(b bitBuf, in string) (EPC, error) {
	filter := int(b.uint(8, 3))
	p := int(b.uint(11, 3))
	if p > 6 {
		return EPC{}, errf(ErrPartition, in, "%s partition %d is not defined (valid: 0–6)", enc.label, p)
	}
	pt := enc.parts[p]
	off := 14
	gcpV := b.uint(off, pt.gcpBits)
	off += pt.gcpBits
	if gcpV >= pow10[pt.gcpDigits] {
		return EPC{}, errf(ErrRange, in, "%s company prefix field holds %d, more than the %d digits partition %d allows",
			enc.label, gcpV, pt.gcpDigits, p)
	}
	e := EPC{Scheme: enc.scheme, Filter: filter, CompanyPrefix: padNum(gcpV, pt.gcpDigits)}
	switch enc.ref {
	case refPadded:
		v := b.uint(off, pt.refBits)
		if v >= pow10[pt.refDigits] {
			return EPC{}, errf(ErrRange, in, "%s %s field holds %d, more than the %d digits partition %d allows",
				enc.label, specs[enc.scheme].refName, v, pt.refDigits, p)
		}
		e.Reference = padNum(v, pt.refDigits)
	case refNumber:
		e.Serial = strconv.FormatUint(b.uint(off, pt.refBits), 10)
	case refString:
		s, err := readString(b, off, pt.refBits, pt.refDigits, enc.label, "asset reference", in)
		if err != nil {
			return EPC{}, err
		}
		e.Serial = s
	}
	off += pt.refBits
	switch enc.tail {
	case binTailInt:
		e.Serial = strconv.FormatUint(b.uint(off, enc.tailBits), 10)
	case binTailString:
		s, err := readString(b, off, enc.tailBits, enc.tailBits/7, enc.label, specs[enc.scheme].tailName, in)
		if err != nil {
			return EPC{}, err
		}
		e.Serial = s
	case binTailReserved:
		if !b.zeroFrom(off, off+enc.tailBits) {
			return EPC{}, errf(ErrReserved, in, "%s reserved bits (the last %d) must be zero", enc.label, enc.tailBits)
		}
	}
	if err := specs[enc.scheme].validate(&e, in); err != nil {
		return EPC{}, err
	}
	return e, nil
}

func padNum(v uint64, digits int) string {
	if digits == 0 {
		return ""
	}
	s := strconv.FormatUint(v, 10)
	if len(s) < digits {
		s = strings.Repeat("0", digits-len(s)) + s
	}
	return s
}

// readString decodes a TDS "String" field: 7-bit characters, ended by the
// first all-zero character, the rest zeros.
func readString(b bitBuf, off, bits, maxChars int, label, what, in string) (string, error) {
	var out [32]byte
	n := 0
	for n < bits/7 {
		c := byte(b.uint(off+7*n, 7))
		if c == 0 {
			break
		}
		if !cset82[c] {
			return "", errf(ErrCharset, in, "%s %s character %d is 0x%02X, which is not in GS1 character set 82", label, what, n+1, c)
		}
		if n == maxChars {
			return "", errf(ErrLength, in, "%s %s has more than %d characters", label, what, maxChars)
		}
		out[n] = c
		n++
	}
	if n == 0 {
		return "", errf(ErrLength, in, "%s %s is empty", label, what)
	}
	if !b.zeroFrom(off+7*n, off+bits) {
		return "", errf(ErrReserved, in, "%s %s: the bits after its end must be zero", label, what)
	}
	return string(out[:n]), nil
}

// encode writes e in this encoding; the result is padded with zero bits to
// a whole 16-bit word, as the EPC bank stores it.
func (enc *encoding) encode(e *EPC, filter int, in string) (bitBuf, error) {
	if filter < 0 || filter > 7 {
		return nil, errf(ErrRange, in, "filter value %d is not valid (valid: 0–7)", filter)
	}
	if e.Scheme != enc.scheme {
		return nil, errf(ErrUnsupported, in, "%s cannot hold a %s EPC", enc.label, e.Scheme)
	}
	if err := specs[e.Scheme].validate(e, in); err != nil {
		return nil, err
	}
	p := 12 - len(e.CompanyPrefix) // every table has 12 digits in row 0, 6 in row 6
	pt := enc.parts[p]
	b := bitBuf(make([]byte, (enc.bits+15)/16*2))
	b.put(0, 8, uint64(enc.header))
	b.put(8, 3, uint64(filter))
	b.put(11, 3, uint64(p))
	gcp, _ := strconv.ParseUint(e.CompanyPrefix, 10, 64)
	off := 14
	b.put(off, pt.gcpBits, gcp)
	off += pt.gcpBits
	switch enc.ref {
	case refPadded:
		var v uint64
		if e.Reference != "" {
			v, _ = strconv.ParseUint(e.Reference, 10, 64)
		}
		b.put(off, pt.refBits, v)
	case refNumber:
		v, err := numericField(e.Serial, pt.refBits, enc.label, "asset reference", in)
		if err != nil {
			return nil, err
		}
		b.put(off, pt.refBits, v)
	case refString:
		if len(e.Serial) > pt.refDigits {
			return nil, errf(ErrLength, in, "%s holds an asset reference of at most %d characters with a %d-digit company prefix; %q has %d",
				enc.label, pt.refDigits, len(e.CompanyPrefix), e.Serial, len(e.Serial))
		}
		putString(b, off, e.Serial)
	}
	off += pt.refBits
	switch enc.tail {
	case binTailInt:
		v, err := numericField(e.Serial, enc.tailBits, enc.label, specs[e.Scheme].tailName, in)
		if err != nil {
			return nil, err
		}
		b.put(off, enc.tailBits, v)
	case binTailString:
		if max := enc.tailBits / 7; len(e.Serial) > max {
			return nil, errf(ErrLength, in, "%s holds at most %d characters; %q has %d", enc.label, max, e.Serial, len(e.Serial))
		}
		putString(b, off, e.Serial)
	}
	return b, nil
}

func putString(b bitBuf, off int, s string) {
	for i := 0; i < len(s); i++ {
		b.put(off+7*i, 7, uint64(s[i]))
	}
}

// numericField checks that v can be an integer field of the given width
// and come back unchanged: decimal digits, no leading zero, < 2^bits.
func numericField(v string, bits int, label, what, in string) (uint64, error) {
	if v == "" || !allDigits(v) {
		return 0, errf(ErrCharset, in, "%s can only hold a numeric %s; %q is not numeric", label, what, v)
	}
	if len(v) > 1 && v[0] == '0' {
		return 0, errf(ErrSyntax, in, "%s cannot hold the %s %q: a leading zero would be lost", label, what, v)
	}
	max := uint64(1)<<uint(bits) - 1
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > max {
		return 0, errf(ErrRange, in, "%s %s %s is too big (at most %d)", label, what, v, max)
	}
	return n, nil
}

func (b bitBuf) hex() string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&15]
	}
	return string(out)
}

// EncodeHex96 encodes e as a 96-bit EPC (SGTIN-96, SSCC-96, SGLN-96,
// GRAI-96 or GIAI-96) with the given filter value (0–7) and returns 24
// upper-case hex digits. It fails when a value does not fit 96 bits: the
// SGTIN/GRAI serial or the SGLN extension must be a decimal number without
// leading zeros below 2^38 (2^41 for SGLN), a GIAI asset reference a number
// below 2^(82 − company prefix bits).
func (e EPC) EncodeHex96(filter int) (string, error) {
	for _, enc := range encodingsFor(e.Scheme) {
		if enc.bits == 96 {
			b, err := enc.encode(&e, filter, e.URI())
			if err != nil {
				return "", err
			}
			return b.hex(), nil
		}
	}
	return "", errf(ErrUnsupported, e.URI(), "no 96-bit encoding for %q EPCs is supported", e.Scheme)
}

// EncodeHex encodes e in the shortest supported encoding its values fit:
// the 96-bit one when possible, else SGTIN-198, SGLN-195, GRAI-170 or
// GIAI-202. The hex is padded with zeros to a whole 16-bit word, as the tag
// stores it (52 digits for SGTIN-198).
func (e EPC) EncodeHex(filter int) (string, error) {
	_, b, err := e.encodeShortest(filter)
	if err != nil {
		return "", err
	}
	return b.hex(), nil
}

func (e EPC) encodeShortest(filter int) (*encoding, bitBuf, error) {
	encs := encodingsFor(e.Scheme)
	if len(encs) == 0 {
		return nil, nil, errf(ErrUnsupported, e.URI(), "no binary encoding for %q EPCs is supported", e.Scheme)
	}
	var err error
	for _, enc := range encs {
		var b bitBuf
		if b, err = enc.encode(&e, filter, e.URI()); err == nil {
			return enc, b, nil
		}
	}
	return nil, nil, err
}

func (enc *encoding) String() string { return fmt.Sprintf("%s (header 0x%02X)", enc.label, enc.header) }
