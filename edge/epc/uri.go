package epc

import (
	"strconv"
	"strings"
)

const (
	prefixID    = "urn:epc:id:"
	prefixClass = "urn:epc:class:"
	prefixTag   = "urn:epc:tag:"
)

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// ParseURI parses an EPC pure identity URI (urn:epc:id:sgtin:0614141.812345.6789
// and the other schemes listed in the package documentation), the LGTIN
// class URI (urn:epc:class:lgtin:4012345.012345.998877) or an EPC tag URI
// (urn:epc:tag:sgtin-96:3.0614141.812345.6789). Components are %-unescaped
// per TDS; the values in the EPC are raw. Surrounding white space is
// ignored and the "urn:epc:…:scheme:" part is case-insensitive.
//
// A tag URI must name a binary encoding this package implements and its
// values must fit that encoding; Filter is then its filter value. For the
// other forms Filter is -1.
func ParseURI(uri string) (EPC, error) {
	s := strings.TrimSpace(uri)
	switch {
	case hasPrefixFold(s, prefixID):
		rest := s[len(prefixID):]
		name, body, ok := strings.Cut(rest, ":")
		if !ok {
			return EPC{}, errf(ErrSyntax, uri, "missing ':' after the EPC scheme name")
		}
		sp, known := specs[Scheme(strings.ToLower(name))]
		if !known || sp.class {
			return EPC{}, unknownScheme(uri, name)
		}
		return parseBody(uri, sp, body, -1)
	case hasPrefixFold(s, prefixClass):
		rest := s[len(prefixClass):]
		name, body, ok := strings.Cut(rest, ":")
		if !ok || !strings.EqualFold(name, string(LGTIN)) {
			return EPC{}, errf(ErrUnsupported, uri, "only the lgtin EPC class URI is supported")
		}
		return parseBody(uri, specs[LGTIN], body, -1)
	case hasPrefixFold(s, prefixTag):
		rest := s[len(prefixTag):]
		name, body, ok := strings.Cut(rest, ":")
		if !ok {
			return EPC{}, errf(ErrSyntax, uri, "missing ':' after the tag encoding name")
		}
		enc := encodingByName(strings.ToLower(name))
		if enc == nil {
			return EPC{}, errf(ErrUnsupported, uri, "tag encoding %q is not supported (supported: %s)", name, encodingNames())
		}
		f, body, ok := strings.Cut(body, ".")
		if !ok || len(f) != 1 || f[0] < '0' || f[0] > '9' {
			return EPC{}, errf(ErrSyntax, uri, "a tag URI starts with a one-digit filter value and a '.'")
		}
		filter := int(f[0] - '0')
		if filter > 7 {
			return EPC{}, errf(ErrRange, uri, "filter value %d is not valid (valid: 0–7)", filter)
		}
		e, err := parseBody(uri, specs[enc.scheme], body, filter)
		if err != nil {
			return EPC{}, err
		}
		if _, err := enc.encode(&e, filter, uri); err != nil {
			return EPC{}, err
		}
		return e, nil
	case hasPrefixFold(s, "urn:epc:idpat:"), hasPrefixFold(s, "urn:epc:raw:"), hasPrefixFold(s, "urn:epc:pat:"):
		return EPC{}, errf(ErrUnsupported, uri, "EPC pattern and raw URIs are not single identities and are not supported")
	}
	return EPC{}, errf(ErrSyntax, uri, "not an EPC URI (expected urn:epc:id:…, urn:epc:class:lgtin:… or urn:epc:tag:…)")
}

func unknownScheme(uri, name string) error {
	switch strings.ToLower(name) {
	case "gid", "usdod", "adi", "bic", "imovn":
		return errf(ErrUnsupported, uri, "EPC scheme %q is not a GS1 key scheme and is not supported", name)
	}
	return errf(ErrSyntax, uri, "unknown EPC scheme %q", name)
}

func parseBody(input string, sp *schemeSpec, body string, filter int) (EPC, error) {
	hasRef := sp.keyDigits > 0 || sp.cpiRef
	n := 1
	names := "company prefix"
	if hasRef {
		n++
		names += ", " + sp.refName
	}
	if sp.pieces {
		n += 2
		names += ", piece, total"
	}
	if sp.tail != tailNone {
		n++
		names += ", " + sp.tailName
	}
	parts := strings.SplitN(body, ".", n)
	if len(parts) != n {
		return EPC{}, errf(ErrSyntax, input, "%s EPC URI needs %d dot-separated components (%s), found %d",
			sp.scheme, n, names, len(parts))
	}
	e := EPC{Scheme: sp.scheme, Filter: filter, CompanyPrefix: parts[0]}
	i := 1
	if hasRef {
		e.Reference = parts[i]
		if sp.cpiRef {
			r, err := unescapeEPC(input, parts[i], sp.refName, &cset39)
			if err != nil {
				return EPC{}, err
			}
			e.Reference = r
		}
		i++
	}
	if sp.pieces {
		e.Piece, e.Total = parts[i], parts[i+1]
		i += 2
	}
	if sp.tail != tailNone {
		t := parts[i]
		if sp.tail == tailGS1 || sp.tail == tailGS1Remain {
			var err error
			if t, err = unescapeEPC(input, t, sp.tailName, &cset82); err != nil {
				return EPC{}, err
			}
		}
		if sp.scheme == LGTIN {
			e.Lot = t
		} else {
			e.Serial = t
		}
	}
	if err := sp.validate(&e, input); err != nil {
		return EPC{}, err
	}
	return e, nil
}

// body writes the scheme-specific part of the URI (after "scheme:").
func (e EPC) body() string {
	var b strings.Builder
	b.WriteString(e.CompanyPrefix)
	sp := specs[e.Scheme]
	if sp == nil {
		// Unknown scheme: write whatever is set, so the URI at least shows it.
		for _, v := range []string{e.Reference, e.Serial, e.Lot} {
			if v != "" {
				b.WriteByte('.')
				b.WriteString(escapeEPC(v))
			}
		}
		return b.String()
	}
	if sp.keyDigits > 0 || sp.cpiRef {
		b.WriteByte('.')
		b.WriteString(escapeEPC(e.Reference))
	}
	if sp.pieces {
		b.WriteByte('.')
		b.WriteString(e.Piece)
		b.WriteByte('.')
		b.WriteString(e.Total)
	}
	if sp.tail != tailNone {
		b.WriteByte('.')
		if sp.scheme == LGTIN {
			b.WriteString(escapeEPC(e.Lot))
		} else {
			b.WriteString(escapeEPC(e.Serial))
		}
	}
	return b.String()
}

// URI returns the pure identity URI, e.g. urn:epc:id:sgtin:0614141.812345.6789,
// or for an LGTIN the class URI urn:epc:class:lgtin:…. Characters are
// %-escaped per TDS (only " % & / < > ? are escaped). URI does not
// validate; use Validate for that.
func (e EPC) URI() string {
	if e.Scheme == LGTIN {
		return prefixClass + string(LGTIN) + ":" + e.body()
	}
	return prefixID + string(e.Scheme) + ":" + e.body()
}

// String returns the pure identity URI.
func (e EPC) String() string { return e.URI() }

// TagURI returns the EPC tag URI for the given filter value (0–7), e.g.
// urn:epc:tag:sgtin-96:3.0614141.812345.6789. The encoding is the one
// EncodeHex would use: the 96-bit one when the values fit in it, else the
// scheme's longer one (sgtin-198, sgln-195, grai-170, giai-202).
func (e EPC) TagURI(filter int) (string, error) {
	enc, _, err := e.encodeShortest(filter)
	if err != nil {
		return "", err
	}
	return prefixTag + enc.name + ":" + strconv.Itoa(filter) + "." + e.body(), nil
}
