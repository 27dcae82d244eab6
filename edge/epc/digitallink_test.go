package epc

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
)

func TestParseDigitalLink(t *testing.T) {
	tests := []struct {
		in   string
		want DigitalLink
		path string
	}{
		{"https://id.gs1.org/01/09506000134352/10/ABC", DigitalLink{GTIN: "09506000134352", Lot: "ABC"}, "/01/09506000134352/10/ABC"},
		{"/01/09506000134352/21/A%2FB", DigitalLink{GTIN: "09506000134352", Serial: "A/B"}, "/01/09506000134352/21/A%2FB"},
		{"https://example.com/shop/gtin/9506000134352/lot/ABC/ser/1?17=261231&linkType=gs1:pip#x",
			DigitalLink{GTIN: "09506000134352", Lot: "ABC", Serial: "1", Query: url.Values{"17": {"261231"}, "linkType": {"gs1:pip"}}},
			"/01/09506000134352/10/ABC/21/1"},
		{"HTTP://Example.COM/01/96385074/", DigitalLink{GTIN: "00000096385074"}, "/01/00000096385074"},
		{"/01/036000291452", DigitalLink{GTIN: "00036000291452"}, "/01/00036000291452"},
		{"/gtin/09506000134352/cpv/2A/lot/L%2B1/ser/X", DigitalLink{GTIN: "09506000134352", CPV: "2A", Lot: "L+1", Serial: "X"}, "/01/09506000134352/22/2A/10/L%2B1/21/X"},
		{"/01/09506000134352/235/TPX%2B1", DigitalLink{GTIN: "09506000134352", TPX: "TPX+1"}, ""},
		{"/00/106141412345678908", DigitalLink{SSCC: "106141412345678908"}, ""},
		{"/sscc/106141412345678908", DigitalLink{SSCC: "106141412345678908"}, "/00/106141412345678908"},
		{"/414/0614141123452/254/5678", DigitalLink{GLN: "0614141123452", GLNExtension: "5678"}, ""},
		{"/gln/0614141123452", DigitalLink{GLN: "0614141123452"}, "/414/0614141123452"},
		{"/417/4000001000005", DigitalLink{PGLN: "4000001000005"}, ""},
		{"/8003/006141411234525678", DigitalLink{GRAI: "006141411234525678"}, ""},
		{"/8003/00614141123452", DigitalLink{GRAI: "00614141123452"}, ""},
		{"/8004/0614141A%2FB", DigitalLink{GIAI: "0614141A/B"}, ""},
		{"/8018/401234500000067657/8019/12", DigitalLink{GSRN: "401234500000067657", SRIN: "12"}, ""},
		{"/8017/401234500000000074", DigitalLink{GSRNP: "401234500000000074"}, ""},
		{"/253/4012345000092PO-4711", DigitalLink{GDTI: "4012345000092PO-4711"}, ""},
		{"/255/401234567890104711", DigitalLink{GCN: "401234567890104711"}, ""},
		{"/401/0614141xyz47%2F11", DigitalLink{GINC: "0614141xyz47/11"}, ""},
		{"/402/40123452223334442", DigitalLink{GSIN: "40123452223334442"}, ""},
		{"/8006/040123451111180102/21/987", DigitalLink{ITIP: "040123451111180102", Serial: "987"}, ""},
		{"/8010/061414111111111111111-A%23%2F/8011/1234", DigitalLink{CPID: "061414111111111111111-A#/", CPSerial: "1234"}, ""},
		{"/a/01/b/01/09506000134352", DigitalLink{GTIN: "09506000134352"}, "/01/09506000134352"},
		{"/01/09506000134352?", DigitalLink{GTIN: "09506000134352"}, "/01/09506000134352"},
	}
	for _, tt := range tests {
		d, err := ParseDigitalLink(tt.in)
		if err != nil || !reflect.DeepEqual(d, tt.want) {
			t.Errorf("ParseDigitalLink(%s) = %+v, %v; want %+v", tt.in, d, err, tt.want)
			continue
		}
		want := tt.path
		if want == "" {
			want = tt.in
		}
		if got := d.Path(); got != want {
			t.Errorf("Path(%s) = %s, want %s", tt.in, got, want)
		}
		again, err := ParseDigitalLink(d.URI("https://resolver.example/"))
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Errorf("re-parse of %s = %+v, %v", d.URI(""), again, err)
		}
	}
}

func TestParseDigitalLinkErrors(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		msg  string
	}{
		{"/01/09506000134353", ErrCheckDigit, "GTIN 09506000134353 has check digit 3; it should be 2"},
		{"/00/106141412345678909", ErrCheckDigit, "should be 8"},
		{"/414/0614141123453", ErrCheckDigit, ""},
		{"/8003/00614141123453", ErrCheckDigit, ""},
		{"/8006/040123451111190102", ErrCheckDigit, ""},
		{"/253/4012345000093", ErrCheckDigit, ""},
		{"/01/123456789", ErrLength, "a GTIN has 8, 12, 13 or 14"},
		{"/01/095060001343520", ErrLength, ""},
		{"/01/0950600013435A", ErrCharset, ""},
		{"/00/10614141234567890", ErrLength, ""},
		{"/01/09506000134352/10/123456789012345678901", ErrLength, "at most 20"},
		{"/01/09506000134352/21/A%23B", ErrCharset, "contains '#'"},
		{"/01/09506000134352/21/A B", ErrCharset, "contains ' '"},
		{"/01/09506000134352/21/A%2", ErrSyntax, "malformed"},
		{"/01/09506000134352/21/ABC/10/LOT", ErrSyntax, "out of order"},
		{"/01/09506000134352/10/A/10/B", ErrSyntax, "out of order or repeated"},
		{"/01/09506000134352/254/ABC", ErrSyntax, "is not a qualifier of /01/"},
		{"/01/09506000134352/99/ABC", ErrSyntax, "not a GS1 Digital Link key qualifier"},
		{"/01/09506000134352/21/A/235/B", ErrSyntax, ""},
		{"/01/09506000134352/21", ErrSyntax, "pairs"},
		{"/01//09506000134352", ErrSyntax, "empty segment"},
		{"/8003/106141411234525678", ErrSyntax, "must start with the digit 0"},
		{"/8003/0061414112345256789012345678901", ErrLength, ""},
		{"/8010/abc", ErrCharset, ""},
		{"/01/09506000134352?a=%zz", ErrSyntax, "query"},
		{"https://example.com/about", ErrSyntax, "no GS1 primary key"},
		{"https://example.com", ErrSyntax, "no path"},
		{"https:///01/09506000134352", ErrSyntax, "no host"},
		{"ftp://example.com/01/09506000134352", ErrSyntax, "not a Digital Link"},
		{"urn:epc:id:sgtin:0614141.812345.6789", ErrSyntax, ""},
		{"", ErrSyntax, ""},
	}
	for _, tt := range tests {
		_, err := ParseDigitalLink(tt.in)
		checkErr(t, tt.in, err, tt.kind, tt.msg)
	}
}

func TestDigitalLinkToEPC(t *testing.T) {
	tests := []struct {
		dl   string
		gcp  int
		want string
	}{
		{"https://id.gs1.org/01/80614141123458/21/6789", 7, "urn:epc:id:sgtin:0614141.812345.6789"},
		{"https://id.gs1.org/01/80614141123458/10/L1/21/6789", 7, "urn:epc:id:sgtin:0614141.812345.6789"},
		{"https://id.gs1.org/01/04012345123456/10/Lot987", 7, "urn:epc:class:lgtin:4012345.012345.Lot987"},
		{"https://id.gs1.org/01/01234567987651/235/51qIgY%29", 7, "urn:epc:id:upui:1234567.098765.51qIgY)"},
		{"https://id.gs1.org/00/106141412345678908", 7, "urn:epc:id:sscc:0614141.1234567890"},
		{"https://id.gs1.org/414/0614141123452", 7, "urn:epc:id:sgln:0614141.12345.0"},
		{"https://id.gs1.org/414/0614141123452/254/400", 7, "urn:epc:id:sgln:0614141.12345.400"},
		{"https://id.gs1.org/414/0614111234560/254/01", 12, "urn:epc:id:sgln:061411123456..01"},
		{"https://id.gs1.org/417/4000001000005", 7, "urn:epc:id:pgln:4000001.00000"},
		{"https://id.gs1.org/8003/04012345000221334455", 7, "urn:epc:id:grai:4012345.00022.334455"},
		{"https://id.gs1.org/8004/4012345ABC345", 7, "urn:epc:id:giai:4012345.ABC345"},
		{"https://id.gs1.org/8018/401234500000067657", 7, "urn:epc:id:gsrn:4012345.0000006765"},
		{"https://id.gs1.org/8017/401234500000000074", 7, "urn:epc:id:gsrnp:4012345.0000000007"},
		{"https://id.gs1.org/253/4012345000092PO-4711", 7, "urn:epc:id:gdti:4012345.00009.PO-4711"},
		{"https://id.gs1.org/255/401234567890104711", 7, "urn:epc:id:sgcn:4012345.67890.04711"},
		{"https://id.gs1.org/401/0614141xyz47%2F11", 7, "urn:epc:id:ginc:0614141.xyz47%2F11"},
		{"https://id.gs1.org/402/40123452223334442", 7, "urn:epc:id:gsin:4012345.222333444"},
		{"https://id.gs1.org/8006/040123451111180102/21/987", 7, "urn:epc:id:itip:4012345.011111.01.02.987"},
		{"https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234", 7, "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234"},
	}
	for _, tt := range tests {
		d, err := ParseDigitalLink(tt.dl)
		if err != nil {
			t.Fatalf("ParseDigitalLink(%s): %v", tt.dl, err)
		}
		e, err := FromDigitalLink(d, tt.gcp)
		if err != nil || e.URI() != tt.want {
			t.Errorf("FromDigitalLink(%s, %d) = %s, %v; want %s", tt.dl, tt.gcp, e.URI(), err, tt.want)
		}
		if _, err := d.EPCURI(); !errors.Is(err, ErrUnsupported) {
			t.Errorf("EPCURI without a prefix length: %v", err)
		}
		d.CompanyPrefixLength = tt.gcp
		if got, err := d.EPCURI(); err != nil || got != tt.want {
			t.Errorf("EPCURI(%s) = %s, %v", tt.dl, got, err)
		}
	}

	errs := []struct {
		dl   string
		gcp  int
		kind Kind
	}{
		{"/01/09506000134352", 7, ErrUnsupported},
		{"/01/09506000134352/21/1", 5, ErrPartition},
		{"/01/09506000134352/21/1", 13, ErrPartition},
		{"/8003/00614141123452", 7, ErrUnsupported},
		{"/253/4012345000092", 7, ErrUnsupported},
		{"/8010/0614141AB", 7, ErrUnsupported},
		{"/8004/061A", 7, ErrSyntax},
		{"/8004/0614141", 7, ErrSyntax},
		{"/8006/040123451111180102", 7, ErrUnsupported},
	}
	for _, tt := range errs {
		d, err := ParseDigitalLink(tt.dl)
		if err != nil {
			t.Fatalf("ParseDigitalLink(%s): %v", tt.dl, err)
		}
		_, err = FromDigitalLink(d, tt.gcp)
		checkErr(t, tt.dl, err, tt.kind, "")
	}
	if _, err := FromDigitalLink(DigitalLink{}, 7); !errors.Is(err, ErrSyntax) {
		t.Errorf("empty Digital Link: %v", err)
	}
}

func TestCompanyPrefixLengths(t *testing.T) {
	table := CompanyPrefixLengths{"0": 7, "061": 7, "09506": 7, "4012345": 7, "95": 11}
	if n, ok := table.Lookup("950600013435"); !ok || n != 11 {
		t.Errorf("Lookup = %d, %v", n, ok)
	}
	if _, ok := table.Lookup("3"); ok {
		t.Error("Lookup(3) found a length")
	}
	d, _ := ParseDigitalLink("/01/09506000134352/21/123456789")
	e, err := table.EPC(d)
	if err != nil || e.URI() != "urn:epc:id:sgtin:95060001343.05.123456789" {
		t.Errorf("EPC = %s, %v", e.URI(), err)
	}
	d, _ = ParseDigitalLink("/00/106141412345678908")
	if e, err := table.EPC(d); err != nil || e.URI() != "urn:epc:id:sscc:0614141.1234567890" {
		t.Errorf("EPC = %s, %v", e.URI(), err)
	}
	d, _ = ParseDigitalLink("/414/3014141123457")
	if _, err := table.EPC(d); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown prefix: %v", err)
	}
	if _, err := table.EPC(DigitalLink{}); !errors.Is(err, ErrSyntax) {
		t.Errorf("empty: %v", err)
	}
}

func TestDigitalLinkValidate(t *testing.T) {
	bad := []struct {
		d    DigitalLink
		kind Kind
	}{
		{DigitalLink{}, ErrSyntax},
		{DigitalLink{GTIN: "1"}, ErrLength},
		{DigitalLink{GTIN: "9506000134352", Serial: "1"}, ErrLength}, // not normalised to 14
		{DigitalLink{GTIN: "09506000134353", Serial: "1"}, ErrCheckDigit},
		{DigitalLink{GTIN: "09506000134352", SSCC: "106141412345678908"}, ErrSyntax},
		{DigitalLink{GTIN: "09506000134352", GLNExtension: "1"}, ErrSyntax},
		{DigitalLink{GTIN: "09506000134352", Serial: "a b"}, ErrCharset},
		{DigitalLink{GTIN: "09506000134352", Serial: "1", TPX: "2"}, ErrSyntax},
		{DigitalLink{ITIP: "0401234511111801"}, ErrLength},
		{DigitalLink{GRAI: "0"}, ErrLength},
		{DigitalLink{GDTI: "12"}, ErrLength},
		{DigitalLink{CPID: "0614141", CPSerial: "x"}, ErrCharset},
	}
	for _, tt := range bad {
		err := tt.d.Validate()
		checkErr(t, tt.d.Path(), err, tt.kind, "")
		for n := 6; n <= 12; n++ {
			if _, err := FromDigitalLink(tt.d, n); err == nil {
				t.Errorf("FromDigitalLink(%+v, %d) accepted an invalid link", tt.d, n)
			}
		}
		if _, err := (CompanyPrefixLengths{"0": 7}).EPC(tt.d); err == nil {
			t.Errorf("CompanyPrefixLengths.EPC(%+v) accepted an invalid link", tt.d)
		}
	}
	d, _ := ParseDigitalLink("/01/09506000134352/22/A/10/B/21/C?x=1")
	if err := d.Validate(); err != nil {
		t.Errorf("Validate(parsed): %v", err)
	}
}
