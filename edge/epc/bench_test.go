package epc

import (
	"encoding/hex"
	"testing"
)

// BenchmarkDecodeHex measures reader-EPC decoding, the edge's per-read
// cost, in reads per second. The hex-only case (encoding/hex on the same
// input) is the floor to compare with in the same run.
func BenchmarkDecodeHex(b *testing.B) {
	cases := []struct{ name, hex string }{
		{"sgtin-96", "3074257BF7194E4000001A85"},
		{"sscc-96", "3174257BF4499602D2000000"},
		{"sgtin-198", "3674257BF6B7A659B2C2BF100000000000000000000000000000"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := DecodeHex(c.hex); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reads/s")
		})
	}
	b.Run("baseline-hex-only", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if _, err := hex.DecodeString(cases[0].hex); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reads/s")
	})
}

// BenchmarkToDigitalLink measures the identifier canonicalisation the CBV
// 2.0 event hash does for every EPC of an event.
func BenchmarkToDigitalLink(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"sgtin-urn", "urn:epc:id:sgtin:0614141.812345.6789"},
		{"digital-link", "https://example.com/gtin/9506000134352/lot/ABC/ser/1?17=261231"},
		{"not-an-id", "https://ref.gs1.org/cbv/BizStep-receiving"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				ToDigitalLink(c.in)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ids/s")
		})
	}
}
