package epc_test

import (
	"errors"
	"fmt"

	"github.com/tracegate/tracegate/edge/epc"
)

func ExampleDecodeHex() {
	e, err := epc.DecodeHex("3074257BF7194E4000001A85") // as an RFID reader reports it
	if err != nil {
		fmt.Println(err)
		return
	}
	gtin, _ := e.GTIN()
	tag, _ := e.TagURI(e.Filter)
	dl, _ := e.DigitalLink("https://id.gs1.org")
	fmt.Println(e.URI())
	fmt.Println(tag)
	fmt.Println(gtin, e.Serial)
	fmt.Println(dl)
	// Output:
	// urn:epc:id:sgtin:0614141.812345.6789
	// urn:epc:tag:sgtin-96:3.0614141.812345.6789
	// 80614141123458 6789
	// https://id.gs1.org/01/80614141123458/21/6789
}

func ExampleDecodeHex_error() {
	_, err := epc.DecodeHex("307C257BF7194E4000001A85")
	fmt.Println(err)
	fmt.Println(errors.Is(err, epc.ErrPartition))
	// Output:
	// epc: SGTIN-96 partition 7 is not defined (valid: 0–6) (input "307C257BF7194E4000001A85")
	// true
}

func ExampleEPC_EncodeHex96() {
	e := epc.EPC{Scheme: epc.SSCC, CompanyPrefix: "0614141", Reference: "1234567890"}
	hex, err := e.EncodeHex96(3)
	fmt.Println(hex, err)
	// Output: 3174257BF4499602D2000000 <nil>
}

func ExampleToDigitalLink() {
	for _, id := range []string{
		"urn:epc:id:sgln:4012345.00005.0",
		"urn:epc:id:sscc:4012345.3111111111",
		"http://example.com/gtin/9780345418913/cpv/344/lot/1223/ser/765tz?abc=1",
		"https://ref.gs1.org/cbv/BizStep-receiving",
	} {
		dl, err := epc.ToDigitalLink(id)
		fmt.Println(dl, err)
	}
	// Output:
	// https://id.gs1.org/414/4012345000054 <nil>
	// https://id.gs1.org/00/340123451111111111 <nil>
	// https://id.gs1.org/01/09780345418913/21/765tz <nil>
	// https://ref.gs1.org/cbv/BizStep-receiving <nil>
}

func ExampleParseDigitalLink() {
	d, err := epc.ParseDigitalLink("https://example.com/gtin/9506000134352/lot/A%2F1?17=261231")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.GTIN, d.Lot, d.Query.Get("17"))
	fmt.Println(d.Path())
	e, _ := epc.FromDigitalLink(d, 7)
	fmt.Println(e.URI())
	// Output:
	// 09506000134352 A/1 261231
	// /01/09506000134352/10/A%2F1
	// urn:epc:class:lgtin:9506000.013435.A%2F1
}
