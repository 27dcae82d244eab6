package sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// scannerGen is a handheld scanner at receiving and picking: each cycle an
// EPCIS 2.0 ObjectEvent (OBSERVE) of the next few items.
type scannerGen struct {
	cfg    ScannerConfig
	rng    *rand.Rand
	cursor *itemCursor
}

func newScannerGen(d Device, cat *catalog, rng *rand.Rand) *scannerGen {
	return &scannerGen{cfg: *d.Scanner, rng: rng, cursor: newItemCursor(cat, cat.selected(d.Scanner.Lots))}
}

func (g *scannerGen) next(now time.Time) ([][]byte, error) {
	bizStep := "receiving"
	if g.rng.Float64() < g.cfg.PickingChance {
		bizStep = "picking"
	}
	epcs, err := g.cursor.take(1 + g.rng.IntN(g.cfg.ItemsPerScan))
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	ev := ObjectEvent{
		Context:             []string{EPCISContext},
		Type:                "ObjectEvent",
		EventTime:           Timestamp(now),
		EventTimeZoneOffset: g.cfg.TimeZoneOffset,
		EPCList:             epcs,
		Action:              "OBSERVE",
		BizStep:             bizStep,
		Disposition:         "in_progress",
		ReadPoint:           &Location{ID: g.cfg.ReadPoint},
		BizLocation:         &Location{ID: g.cfg.BizLocation},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return [][]byte{b}, nil
}
