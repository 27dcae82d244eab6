package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// rfidGen simulates a dock-door portal: each cycle the next pass group
// (a pallet and its items) goes through, and each tag is read ReadsMin to
// ReadsMax times within about a second on one or two adjacent antennas.
type rfidGen struct {
	cfg      RFIDConfig
	rng      *rand.Rand
	groups   []passGroup
	cursor   int
	format   string
	host     string
	eventNum int // Zebra: per reader, increasing
}

func newRFIDGen(d Device, cat *catalog, rng *rand.Rand) *rfidGen {
	return &rfidGen{cfg: *d.RFID, rng: rng, groups: cat.groups(cat.selected(d.RFID.Lots), d.RFID.TagsPerPass),
		format: d.Format, host: "impinj-" + d.ID + "." + d.Site + ".example"}
}

func (g *rfidGen) next(now time.Time) ([][]byte, error) {
	grp := g.groups[g.cursor]
	g.cursor = (g.cursor + 1) % len(g.groups)

	var tags []string
	if grp.sscc != "" {
		h, err := palletHex(grp.sscc, grp.product.CompanyPrefixLength, g.cfg.PalletFilter)
		if err != nil {
			return nil, fmt.Errorf("pallet %s: %w", grp.sscc, err)
		}
		tags = append(tags, h)
	}
	for _, s := range grp.serials {
		h, err := itemHex(grp.product, s, g.cfg.ItemFilter)
		if err != nil {
			return nil, fmt.Errorf("item %s/%d: %w", grp.product.GTIN, s, err)
		}
		tags = append(tags, h)
	}

	type read struct {
		at time.Duration
		RFIDRead
	}
	var reads []read
	for _, tag := range tags {
		// Where the tag sits on the pallet decides how well each antenna
		// sees it; it crosses the field within the second after now.
		base := -45 - 25*g.rng.Float64()
		first := 1 + g.rng.IntN(g.cfg.Antennas)
		second := first
		if g.cfg.Antennas > 1 && g.rng.IntN(2) == 0 {
			second = first%g.cfg.Antennas + 1
		}
		enter := time.Duration(g.rng.IntN(300)) * time.Millisecond
		n := g.cfg.ReadsMin + g.rng.IntN(g.cfg.ReadsMax-g.cfg.ReadsMin+1)
		// A tag answers at most once per inventory round: its reads have
		// distinct times.
		used := map[int]bool{}
		for i := 0; i < n; i++ {
			ant, rssi := first, base
			if i%2 == 1 && second != first {
				ant, rssi = second, base-3
			}
			rssi += 1.5 * g.rng.NormFloat64()
			rssi = max(-90, min(-25, rssi))
			ms := g.rng.IntN(700)
			for used[ms] {
				ms = (ms + 1) % 700
			}
			used[ms] = true
			at := enter + time.Duration(ms)*time.Millisecond
			reads = append(reads, read{at: at, RFIDRead: RFIDRead{EPC: tag, Antenna: ant, RSSI: round(rssi, 1)}})
		}
	}
	// A reader reports in the order it read.
	sort.SliceStable(reads, func(i, j int) bool { return reads[i].at < reads[j].at })
	out := make([]RFIDRead, len(reads))
	for i, r := range reads {
		r.TS = Timestamp(now.Add(r.at))
		out[i] = r.RFIDRead
	}

	switch g.format {
	case FormatImpinj:
		return g.impinj(now, out)
	case FormatZebraFX:
		return g.zebra(out)
	}
	var msgs [][]byte
	if !g.cfg.Batch {
		for _, r := range out {
			b, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, b)
		}
		return msgs, nil
	}
	for len(out) > 0 {
		n := min(len(out), g.cfg.MaxBatch)
		b, err := json.Marshal(out[:n])
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, b)
		out = out[n:]
	}
	return msgs, nil
}

// impinj writes reads as Impinj tagInventory events, one per message,
// after an inventoryStatus event on about one pass in four.
func (g *rfidGen) impinj(now time.Time, reads []RFIDRead) ([][]byte, error) {
	var msgs [][]byte
	if g.rng.IntN(4) == 0 {
		b, err := json.Marshal(ImpinjEvent{Timestamp: ImpinjTime(now), Hostname: g.host, EventType: "inventoryStatus",
			InventoryStatusEvent: &ImpinjInventoryStatus{InventoryStatus: "running"}})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, b)
	}
	for _, r := range reads {
		ts, err := time.Parse(time.RFC3339Nano, r.TS)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(ImpinjEvent{Timestamp: ImpinjTime(ts.Add(2 * time.Millisecond)), Hostname: g.host, EventType: "tagInventory",
			TagInventoryEvent: &ImpinjTagInventory{EPCHex: r.EPC, AntennaPort: r.Antenna, AntennaName: fmt.Sprintf("Antenna %d", r.Antenna),
				PeakRSSICdbm: int(math.Round(r.RSSI * 100)), Frequency: euChannelsKHz[g.rng.IntN(len(euChannelsKHz))],
				TransmitPowerCdbm: 3000, LastSeenTime: ImpinjSeenTime(ts)}})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, b)
	}
	return msgs, nil
}

// zebra writes reads as Zebra FX tag reports (reads 1 each), one object
// per message, or arrays of up to MaxBatch with Batch.
func (g *rfidGen) zebra(reads []RFIDRead) ([][]byte, error) {
	evs := make([]ZebraEvent, len(reads))
	for i, r := range reads {
		ts, err := time.Parse(time.RFC3339Nano, r.TS)
		if err != nil {
			return nil, err
		}
		g.eventNum++
		evs[i] = ZebraEvent{Data: ZebraData{EventNum: g.eventNum, Format: "epc", IDHex: strings.ToLower(r.EPC), Antenna: r.Antenna,
			PeakRSSI: int(math.Round(r.RSSI)), Channel: float64(euChannelsKHz[g.rng.IntN(len(euChannelsKHz))]) / 1000, Reads: 1},
			Timestamp: ZebraTime(ts), Type: "SIMPLE"}
	}
	var msgs [][]byte
	for len(evs) > 0 {
		var b []byte
		var err error
		if !g.cfg.Batch {
			b, err = json.Marshal(evs[0])
			evs = evs[1:]
		} else {
			n := min(len(evs), g.cfg.MaxBatch)
			b, err = json.Marshal(evs[:n])
			evs = evs[n:]
		}
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, b)
	}
	return msgs, nil
}
