package epc

import (
	"reflect"
	"strings"
	"testing"
)

func FuzzDecodeHex(f *testing.F) {
	for _, v := range loadTDSVectors(f) {
		f.Add(v.Hex)
	}
	for _, s := range []string{"", "0x", "30", "307C257BF7194E4000001A85", "3174257BF4499602D2000001", " 0x3074257bf7194e4000001a85 ", "3074257BF7194E4000001A850000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, enc, err := decodeHex(in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		// Re-encoding gives back the input, as the tag stores it.
		norm := strings.ToUpper(strings.TrimSpace(in))
		norm = strings.TrimPrefix(norm, "0X")
		b, err := enc.encode(&e, e.Filter, in)
		if err != nil {
			t.Fatalf("decoded %+v from %q does not re-encode: %v", e, in, err)
		}
		if got, want := b.hex(), wordPadded(norm, enc.bits); got != want {
			t.Fatalf("re-encoded %q as %s, want %s", in, got, want)
		}
		// The URI forms parse back to the same EPC.
		want := e
		want.Filter = -1
		if p, err := ParseURI(e.URI()); err != nil || p != want {
			t.Fatalf("ParseURI(%s) = %+v, %v; want %+v", e.URI(), p, err, want)
		}
		if _, err := e.DigitalLink(""); err != nil {
			t.Fatalf("DigitalLink of decoded %+v: %v", e, err)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, v := range loadTDSVectors(f) {
		f.Add(v.ID)
		f.Add(v.Tag)
	}
	for _, s := range []string{
		"urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234", "urn:epc:id:itip:4012345.011111.01.02.987",
		"urn:epc:class:lgtin:4012345.012345.Lot987", "urn:epc:id:pgln:999999999999.", "urn:epc:id:sgcn:4012345.67890.04711",
		"urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7SDB", "urn:epc:id:gdti:987659999999..9", "urn:epc:id:ginc:0614141.xyz47%2F11",
		"urn:epc:id:gsrnp:4012345.0000000007", "urn:epc:id:gsin:4012345.222333444", "URN:EPC:ID:SGTIN:0614141.812345.a%2fb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ToDigitalLink(in)
		if err != nil && out != in {
			t.Fatalf("ToDigitalLink(%q) = %q with error %v; on error it must return the input", in, out, err)
		}
		e, err := ParseURI(in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		pure := e
		pure.Filter = -1
		if p, err := ParseURI(e.URI()); err != nil || p != pure {
			t.Fatalf("ParseURI(%s) = %+v, %v; want %+v", e.URI(), p, err, pure)
		}
		if e.Filter >= 0 {
			if _, err := e.TagURI(e.Filter); err != nil {
				t.Fatalf("TagURI of %+v parsed from a tag URI: %v", e, err)
			}
		}
		dl, err := e.DigitalLink("")
		if err != nil {
			t.Fatalf("DigitalLink(%+v): %v", e, err)
		}
		d, err := ParseDigitalLink(dl)
		if err != nil {
			t.Fatalf("ParseDigitalLink(%s): %v", dl, err)
		}
		if back, err := FromDigitalLink(d, len(e.CompanyPrefix)); err != nil || back != pure {
			t.Fatalf("FromDigitalLink(%s) = %+v, %v; want %+v", dl, back, err, pure)
		}
		// The hash canonicalisation agrees with DigitalLink for canonical
		// URIs, except where the reference has its GRAI quirk.
		cbv, err := ToDigitalLink(e.URI())
		if e.Scheme == GRAI && len(e.CompanyPrefix) == 12 && !strings.HasPrefix(e.Serial, ".") {
			return
		}
		if err != nil || cbv != dl {
			t.Fatalf("ToDigitalLink(%s) = %s, %v; DigitalLink = %s", e.URI(), cbv, err, dl)
		}
	})
}

func FuzzParseDigitalLink(f *testing.F) {
	for _, s := range []string{
		"https://id.gs1.org/01/09506000134352/10/ABC", "/01/09506000134352/21/A%2FB?17=261231",
		"https://example.com/shop/gtin/9506000134352/lot/ABC/ser/1?linkType=all#x", "/00/106141412345678908",
		"/414/0614141123452/254/5678", "/8003/006141411234525678", "/8004/0614141A%2FB", "/8018/401234500000067657/8019/12",
		"/253/4012345000092PO-4711", "/255/401234567890104711", "/401/0614141xyz47%2F11", "/402/40123452223334442",
		"/8006/040123451111180102/21/987", "/8010/061414111111111111111-A%23%2F/8011/1234", "/01/96385074", "/417/4000001000005",
		"/01/09506000134352/235/X", "/01/09506000134352/22/A/10/B/21/C",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ToDigitalLink(in)
		if err != nil && out != in {
			t.Fatalf("ToDigitalLink(%q) = %q with error %v", in, out, err)
		}
		d, err := ParseDigitalLink(in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("parsed %+v does not validate: %v", d, err)
		}
		again, err := ParseDigitalLink(d.URI("https://resolver.example"))
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("re-parse of %s = %+v, %v; want %+v", d.URI("https://resolver.example"), again, err, d)
		}
		bare := d
		bare.Query = nil
		if p, err := ParseDigitalLink(d.Path()); err != nil || !reflect.DeepEqual(p, bare) {
			t.Fatalf("ParseDigitalLink(%s) = %+v, %v", d.Path(), p, err)
		}
		for n := 6; n <= 12; n++ {
			e, err := FromDigitalLink(d, n)
			if err != nil {
				continue
			}
			dl, err := e.DigitalLink("")
			if err != nil {
				t.Fatalf("DigitalLink of %+v: %v", e, err)
			}
			p, err := ParseDigitalLink(dl)
			if err != nil {
				t.Fatalf("ParseDigitalLink(%s): %v", dl, err)
			}
			if back, err := FromDigitalLink(p, n); err != nil || back != e {
				t.Fatalf("FromDigitalLink(%s, %d) = %+v, %v; want %+v", dl, n, back, err, e)
			}
		}
	})
}

func FuzzToDigitalLink(f *testing.F) {
	f.Add("urn:epc:id:sgtin:0614141.812345.6789")
	f.Add("https://example.com/gtin/9780345418913/cpv/344/lot/1223/ser/765tz?abc=211121")
	f.Add("urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234")
	f.Add("urn:epc:idpat:itip:4012345.012345.01.02.*")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ToDigitalLink(in)
		if err != nil && out != in {
			t.Fatalf("ToDigitalLink(%q) = %q with error %v", in, out, err)
		}
		// A canonical form is a fixed point.
		if again, _ := ToDigitalLink(out); again != out {
			t.Fatalf("ToDigitalLink(%q) = %q, but ToDigitalLink of that = %q", in, out, again)
		}
	})
}

// FuzzFromDigitalLink feeds hand-made (possibly invalid) DigitalLink values
// to the conversions: they must fail cleanly, never panic.
func FuzzFromDigitalLink(f *testing.F) {
	f.Add(uint8(0), "09506000134352", "1", uint8(7))
	f.Add(uint8(3), "0614141123452", "400", uint8(7))
	f.Add(uint8(9), "0614141AB", "12", uint8(6))
	f.Fuzz(func(t *testing.T, which uint8, key, qual string, n uint8) {
		var d DigitalLink
		key0 := ais[primaryOrder[int(which)%len(primaryOrder)]]
		*key0.field(&d) = key
		if len(key0.qualifiers) > 0 {
			*ais[key0.qualifiers[int(which/16)%len(key0.qualifiers)]].field(&d) = qual
		}
		d.CompanyPrefixLength = int(n % 16)
		e, err := FromDigitalLink(d, int(n%16))
		if err == nil {
			if verr := e.Validate(); verr != nil {
				t.Fatalf("FromDigitalLink(%+v) = %+v, which is invalid: %v", d, e, verr)
			}
		}
		d.EPCURI()
		CompanyPrefixLengths{key: int(n % 16)}.EPC(d)
		_ = d.Path()
	})
}
