package sim

import (
	"fmt"
	"strconv"

	"github.com/tracegate/tracegate/edge/epc"
)

// The simulator takes EPC encoding from edge/epc (GS1 Tag Data Standard);
// these three functions are the only places that call it.

// itemEPC returns the SGTIN of one serialised item of product p.
func itemEPC(p Product, serial uint64) (epc.EPC, error) {
	return epc.FromDigitalLink(epc.DigitalLink{GTIN: p.GTIN, Serial: strconv.FormatUint(serial, 10)}, p.CompanyPrefixLength)
}

// itemHex returns the SGTIN-96 hex EPC an RFID tag on the item reports.
func itemHex(p Product, serial uint64, filter int) (string, error) {
	e, err := itemEPC(p, serial)
	if err != nil {
		return "", err
	}
	return e.EncodeHex96(filter)
}

// palletHex returns the SSCC-96 hex EPC of a pallet's tag.
func palletHex(sscc string, companyPrefixLength, filter int) (string, error) {
	e, err := epc.FromDigitalLink(epc.DigitalLink{SSCC: sscc}, companyPrefixLength)
	if err != nil {
		return "", err
	}
	return e.EncodeHex96(filter)
}

// passGroup is what passes a portal together: a pallet's SSCC (or none)
// and the items on it.
type passGroup struct {
	product Product
	sscc    string
	serials []uint64
}

// catalog resolves lot numbers to products and pass groups.
type catalog struct {
	products map[string]Product
	lots     map[string]Lot
	order    []string // lot numbers in configuration order
}

func newCatalog(c Config) *catalog {
	cat := &catalog{products: map[string]Product{}, lots: map[string]Lot{}}
	for _, p := range c.Products {
		cat.products[p.GTIN] = p
	}
	for _, l := range c.Lots {
		cat.lots[l.Lot] = l
		cat.order = append(cat.order, l.Lot)
	}
	return cat
}

// selected returns the named lots, or all lots for none.
func (cat *catalog) selected(names []string) []Lot {
	if len(names) == 0 {
		names = cat.order
	}
	out := make([]Lot, 0, len(names))
	for _, n := range names {
		out = append(out, cat.lots[n])
	}
	return out
}

// groups returns the pass groups of lots: each pallet, capped at max items
// per group (a pallet with more items passes as several groups), or runs of
// max serials for a lot without pallets.
func (cat *catalog) groups(lots []Lot, max int) []passGroup {
	var out []passGroup
	add := func(p Product, sscc string, first, last uint64) {
		for s := first; ; {
			n := min(uint64(max), last-s+1)
			g := passGroup{product: p, sscc: sscc}
			for i := uint64(0); i < n; i++ {
				g.serials = append(g.serials, s+i)
			}
			out = append(out, g)
			if last-s < uint64(max) {
				return
			}
			s += uint64(max)
		}
	}
	for _, l := range lots {
		p := cat.products[l.GTIN]
		if len(l.Pallets) == 0 {
			add(p, "", l.SerialFirst, l.SerialLast)
			continue
		}
		for _, pl := range l.Pallets {
			add(p, pl.SSCC, pl.SerialFirst, pl.SerialLast)
		}
	}
	return out
}

// itemCursor walks the serials of lots in order, round and round, for the
// scanner's scans.
type itemCursor struct {
	cat  *catalog
	lots []Lot
	lot  int
	next uint64
}

func newItemCursor(cat *catalog, lots []Lot) *itemCursor {
	return &itemCursor{cat: cat, lots: lots, next: lots[0].SerialFirst}
}

// take returns up to n item URIs of the current lot.
func (c *itemCursor) take(n int) ([]string, error) {
	l := c.lots[c.lot]
	p := c.cat.products[l.GTIN]
	var out []string
	for len(out) < n && c.next <= l.SerialLast {
		e, err := itemEPC(p, c.next)
		if err != nil {
			return nil, fmt.Errorf("item %s/%d: %w", p.GTIN, c.next, err)
		}
		out = append(out, e.URI())
		c.next++
	}
	if c.next > l.SerialLast || c.next < l.SerialFirst { // also guards wrap-around at MaxUint64
		c.lot = (c.lot + 1) % len(c.lots)
		c.next = c.lots[c.lot].SerialFirst
	}
	return out, nil
}
