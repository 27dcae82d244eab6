package web

import (
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/gateway"
)

// The GS1 Web vocabulary: link types are relations in this namespace.
const (
	gs1Voc            = "https://gs1.org/voc/"
	linksetType       = "application/linkset+json"
	linksetContextURL = "https://ref.gs1.org/standards/resolver/linkset-context"
)

// link is one target in an RFC 9264 linkset.
type link struct {
	Href     string   `json:"href"`
	Title    string   `json:"title"`
	Type     string   `json:"type,omitempty"`
	Hreflang []string `json:"hreflang,omitempty"`
}

// linkContext is one linkset entry: an anchor and its links by relation.
type linkContext struct {
	Anchor string
	Links  map[string][]link // relation (full IRI) -> targets
}

// MarshalJSON writes {"anchor": …, "<relation IRI>": [...], …}.
func (l linkContext) MarshalJSON() ([]byte, error) {
	m := map[string]any{"anchor": l.Anchor}
	for rel, ts := range l.Links {
		m[rel] = ts
	}
	return json.Marshal(m)
}

// digitalLinkOf parses the request path as a Digital Link. A malformed one
// is a 400: the resolver standard forbids a 200 with an error page.
func digitalLinkOf(path string) (epc.DigitalLink, error) {
	dl, err := epc.ParseDigitalLink(path)
	if err != nil {
		return dl, &gateway.Error{Kind: gateway.KindInvalid, Title: "malformed GS1 Digital Link", Detail: err.Error(), Err: err}
	}
	if dl.Path() == "" {
		return dl, invalid("malformed GS1 Digital Link", "the path names no GS1 primary key")
	}
	return dl, nil
}

// linkTypeIRI expands a linkType parameter (gs1:pip, a full IRI, or a
// bare term) to its IRI. ok is false for "all"/"linkset".
func linkTypeIRI(lt string) (string, bool) {
	switch lt {
	case "all", "linkset", "gs1:linkset":
		return "", false
	}
	for _, p := range []string{"gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/", "https://ref.gs1.org/voc/", "http://ref.gs1.org/voc/"} {
		if strings.HasPrefix(lt, p) {
			return gs1Voc + strings.TrimPrefix(lt, p), true
		}
	}
	if !strings.Contains(lt, ":") {
		return gs1Voc + lt, true
	}
	return lt, true
}

// linkset builds the links tracegate has for a Digital Link, most specific
// anchor first: the passport page (pip, and the default link: tracegate
// is its own default), EPCIS traceability data, and the same for the
// product when a lot or a serial was asked.
func (a *App) linkset(base string, dl epc.DigitalLink, subject string) []linkContext {
	var out []linkContext
	add := func(d epc.DigitalLink, title, trace string) {
		anchor := base + d.Path()
		page := link{Href: anchor, Title: title, Type: "text/html", Hreflang: []string{"en"}}
		lc := linkContext{Anchor: anchor, Links: map[string][]link{
			gs1Voc + "pip":         {page, {Href: anchor, Title: title + " (JSON)", Type: "application/json", Hreflang: []string{"en"}}},
			gs1Voc + "defaultLink": {page},
		}}
		if trace != "" {
			lc.Links[gs1Voc+"traceability"] = []link{{Href: base + "/epcis/events?" + trace, Title: "EPCIS 2.0 events: " + subject, Type: "application/ld+json"}}
		}
		out = append(out, lc)
	}
	switch {
	case dl.SSCC != "":
		add(dl, "Shipment passport of SSCC "+dl.SSCC, url.Values{"MATCH_anyEPC": {"https://id.gs1.org/00/" + dl.SSCC}}.Encode())
	case dl.GTIN != "" && dl.Serial != "":
		add(dl, "Pack passport: "+subject, url.Values{"MATCH_epc": {"https://id.gs1.org/01/" + dl.GTIN + "/21/" + dl.Serial}}.Encode())
	case dl.GTIN != "" && dl.Lot != "":
		add(dl, "Lot passport: "+subject, url.Values{"gtin": {dl.GTIN}, "lot": {dl.Lot}}.Encode())
	}
	if dl.GTIN != "" {
		add(epc.DigitalLink{GTIN: dl.GTIN}, "Product information: GTIN "+dl.GTIN, "")
	}
	return out
}

// resolve is the GS1 Digital Link resolver: /01/{gtin}[/10/{lot}][/21/{serial}],
// /00/{sscc} and their short-name forms.
func (a *App) resolve(c *fiber.Ctx) error {
	path := c.Path()
	if strings.HasSuffix(path, "/qr.png") {
		return a.passportQR(c, strings.TrimSuffix(path, "/qr.png"))
	}
	dl, err := digitalLinkOf(path)
	if err != nil {
		a.m.resolves.WithLabelValues("invalid").Inc()
		return err
	}
	if dl.GTIN == "" && dl.SSCC == "" {
		a.m.resolves.WithLabelValues("not-found").Inc()
		return notFound("no links for this key", "this resolver serves GTINs (/01/) and SSCCs (/00/)")
	}
	base := a.baseURL(c)
	canonical := base + dl.Path()
	c.Set(fiber.HeaderLink, "<"+canonical+"?linkType=linkset>; rel=\"linkset\"; type=\""+linksetType+"\", "+
		"<"+linksetContextURL+">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\", "+
		"<"+canonical+">; rel=\"canonical\"")
	q := c.Queries()
	lt := q["linkType"]
	wantLinkset := lt == "all" || lt == "linkset" || lt == "gs1:linkset" ||
		(lt == "" && acceptsFirst(c.Get(fiber.HeaderAccept), linksetType))

	p, perr := a.svc.Passport(c.UserContext(), dl)
	if perr == nil && p.Product == nil && len(p.Events) == 0 {
		// gateway.Passport answers a bare GTIN nobody registered with an
		// empty passport; for the resolver that is "nothing known".
		perr = notFound("nothing known", "tracegate knows no product, lot or event for "+dl.Path())
	}
	subject := dl.Path()
	if perr == nil {
		subject = passportSubject(p)
	}
	switch {
	case wantLinkset:
		if perr != nil {
			a.m.resolves.WithLabelValues("not-found").Inc()
			return perr
		}
		a.m.resolves.WithLabelValues("linkset").Inc()
		return sendJSON(c, fiber.StatusOK, linksetType, map[string]any{"linkset": a.linkset(base, dl, subject)})
	case lt != "":
		if perr != nil {
			a.m.resolves.WithLabelValues("not-found").Inc()
			return perr
		}
		iri, _ := linkTypeIRI(lt)
		for _, lc := range a.linkset(base, dl, subject) {
			ts := lc.Links[iri]
			if len(ts) == 0 {
				continue
			}
			target := ts[0].Href
			if iri == gs1Voc+"pip" || iri == gs1Voc+"defaultLink" {
				// The resolver passes the request's other parameters on.
				pass := url.Values{}
				for k, v := range q {
					if k != "linkType" {
						pass.Set(k, v)
					}
				}
				if len(pass) > 0 {
					target += "?" + pass.Encode()
				}
			}
			a.m.resolves.WithLabelValues("redirect").Inc()
			return c.Redirect(target, fiber.StatusTemporaryRedirect)
		}
		a.m.resolves.WithLabelValues("not-found").Inc()
		return notFound("no link of this type", "tracegate has no "+lt+" link for "+dl.Path()+
			"; it offers gs1:pip, gs1:defaultLink and gs1:traceability (see ?linkType=linkset)")
	case acceptsFirst(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON, "application/ld+json"):
		if perr != nil {
			a.m.resolves.WithLabelValues("not-found").Inc()
			return perr
		}
		a.m.resolves.WithLabelValues("json").Inc()
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, p)
	}
	// Browsers: tracegate is its own default link, so the passport page
	// is served here rather than redirected to.
	if perr != nil {
		a.m.resolves.WithLabelValues("not-found").Inc()
		var ge *gateway.Error
		if errors.As(perr, &ge) && ge.Kind == gateway.KindNotFound && a.wantsHTML(c) {
			c.Status(fiber.StatusNotFound)
			return a.renderUnknown(c, dl)
		}
		return perr
	}
	a.m.resolves.WithLabelValues("page").Inc()
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return a.passportPage(c, dl, p, canonical)
}

// acceptsFirst reports whether the Accept header prefers one of types over
// HTML: it names one of them, and either no HTML or HTML with a lower
// quality.
func acceptsFirst(accept string, types ...string) bool {
	best := func(match func(string) bool) float64 {
		q := -1.0
		for _, part := range strings.Split(accept, ",") {
			fields := strings.Split(part, ";")
			mt := strings.TrimSpace(strings.ToLower(fields[0]))
			if !match(mt) {
				continue
			}
			w := 1.0
			for _, f := range fields[1:] {
				f = strings.TrimSpace(f)
				if v, ok := strings.CutPrefix(f, "q="); ok {
					if x, err := strconv.ParseFloat(v, 64); err == nil {
						w = x
					}
				}
			}
			q = max(q, w)
		}
		return q
	}
	want := best(func(mt string) bool {
		for _, t := range types {
			if mt == t {
				return true
			}
		}
		return false
	})
	if want <= 0 {
		return false
	}
	html := best(func(mt string) bool { return mt == "text/html" || mt == "application/xhtml+xml" })
	return want > html
}

// resolverDescription is /.well-known/gs1resolver (GS1-Conformant
// Resolver standard, resolver description file).
func (a *App) resolverDescription(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]any{
		"name":         "tracegate supply-chain passport resolver",
		"resolverRoot": a.baseURL(c),
		"supportedLinkType": []map[string]string{
			{"namespace": gs1Voc, "prefix": "gs1:", "profile": "https://gs1.org/voc/?show=linktypes"},
		},
		"supportedPrimaryKeys":        []string{"01", "00"},
		"linkTypeDefaultCanBeLinkset": false,
		"jsonLdContextLocation":       linksetContextURL,
	})
}

// qr renders a QR code (PNG) of data: /qr?data=…&size=….
func (a *App) qr(c *fiber.Ctx) error {
	data := c.Query("data")
	if data == "" {
		return invalid("nothing to encode", "give the text to encode as ?data=…")
	}
	if len(data) > 1024 {
		return invalid("too much to encode", "QR codes here hold at most 1024 characters")
	}
	return a.sendQR(c, data)
}

// passportQR renders the QR code of a passport's canonical Digital Link.
func (a *App) passportQR(c *fiber.Ctx, path string) error {
	dl, err := digitalLinkOf(path)
	if err != nil {
		return err
	}
	return a.sendQR(c, a.baseURL(c)+dl.Path())
}

func (a *App) sendQR(c *fiber.Ctx, data string) error {
	size := 320
	if s := c.Query("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 64 || n > 2048 {
			return invalid("invalid size", "size is the image width in pixels, 64 to 2048")
		}
		size = n
	}
	png, err := qrcode.Encode(data, qrcode.Medium, size)
	if err != nil {
		return invalid("cannot encode as a QR code", err.Error())
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(png)
}

// lookup takes the "check a product" form (a Digital Link, or GTIN with
// lot or serial) and redirects to the passport.
func (a *App) lookup(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	var dl epc.DigitalLink
	switch {
	case q != "" && (strings.HasPrefix(q, "http") || strings.HasPrefix(q, "/")):
		d, err := digitalLinkOf(q)
		if err != nil {
			return err
		}
		dl = d
	case q != "" && strings.HasPrefix(q, "urn:epc:"):
		s, err := epc.ToDigitalLink(q)
		if err != nil || !strings.HasPrefix(s, "http") {
			return invalid("not an identifier this portal knows", "cannot read "+q+" as an SGTIN, LGTIN or SSCC EPC URI")
		}
		d, err := digitalLinkOf(s)
		if err != nil {
			return err
		}
		dl = d
	default:
		gtin := strings.TrimSpace(c.Query("gtin", q))
		if gtin == "" {
			return invalid("nothing to look up", "enter a GTIN (with a lot or a serial number), an SSCC or a Digital Link")
		}
		p := "/01/" + url.PathEscape(gtin)
		if len(gtin) == 18 {
			p = "/00/" + gtin
		}
		if lot := strings.TrimSpace(c.Query("lot")); lot != "" {
			p += "/10/" + url.PathEscape(lot)
		}
		if ser := strings.TrimSpace(c.Query("serial")); ser != "" {
			p += "/21/" + url.PathEscape(ser)
		}
		d, err := digitalLinkOf(p)
		if err != nil {
			return err
		}
		dl = d
	}
	return c.Redirect(dl.Path(), fiber.StatusSeeOther)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
