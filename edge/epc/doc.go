// Package epc encodes and decodes GS1 Electronic Product Codes and the GS1
// keys they carry, following the GS1 EPC Tag Data Standard (TDS 2.x) and
// the GS1 Digital Link URI syntax.
//
// It serves four callers: the edge, which decodes the hex EPCs that RFID
// readers report (DecodeHex); the device simulator, which encodes them
// (EncodeHex96, EncodeHex, TagURI); the CBV 2.0 event hash, which
// canonicalises identifiers exactly as GS1's reference implementation does
// (ToDigitalLink, and CanonicalForm/AppendCanonicalForm for its value
// alone); and the portal's GS1 Digital Link resolver
// (ParseDigitalLink).
//
// Binary encodings covered: SGTIN-96, SGTIN-198, SSCC-96, SGLN-96,
// SGLN-195, GRAI-96, GRAI-170, GIAI-96 and GIAI-202. Other TDS headers are
// recognised by name and rejected with ErrHeader.
//
// Pure identity URIs covered (ParseURI, EPC.URI, EPC.DigitalLink): sgtin,
// sscc, sgln, grai, giai, gsrn, gsrnp, gdti, sgcn, cpi, ginc, gsin, itip,
// upui, pgln and the class URI lgtin.
//
// Every function returns an *Error on bad input and never panics; the
// error's Kind says what class of problem it is and can be tested with
// errors.Is(err, epc.ErrCheckDigit) and the like.
package epc
