package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tracegate/tracegate/edge/epc"
	"github.com/tracegate/tracegate/ledger"
)

// Cold-chain excursions:
//
//	excursion/{id}                 ledger.Excursion
//	excursionlot/{gtin}/{lot}/{id} the ID, an index by lot (the ID is 32 hex: the key parses from the end)
//	excursiontotal/{gtin}/{lot}    excursionTotal, the lot's running total
const (
	excursionPrefix      = "excursion/"
	excursionLotPrefix   = "excursionlot/"
	excursionTotalPrefix = "excursiontotal/"
)

func excursionKey(id string) string { return excursionPrefix + id }
func excursionLotKey(gtin, lot, id string) string {
	return excursionLotPrefix + gtin + "/" + lot + "/" + id
}
func excursionTotalKey(gtin, lot string) string { return excursionTotalPrefix + gtin + "/" + lot }

// excursionTotal is a lot's running excursion total, so recording one
// excursion reads one key instead of all the lot's excursions.
type excursionTotal struct {
	Count         int     `json:"count"`
	CumulativeMin float64 `json:"cumulativeMin"`
	// Windows are the recorded excursions' [start, start+duration) spans;
	// the cumulative time of a class (temperature or humidity) is the
	// length of their union, so overlapping excursions seen by several
	// sensors are not counted twice.
	Windows []excursionWindow `json:"windows,omitempty"`
}

type excursionWindow struct {
	Class string    `json:"class"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

func excursionClass(kind string) string {
	if kind == ledger.ExcursionHumidityHigh {
		return "humidity"
	}
	return "temperature"
}

// unionMinutes is the length in minutes of the union of the windows of
// one class.
func unionMinutes(ws []excursionWindow, class string) float64 {
	var spans []excursionWindow
	for _, w := range ws {
		if w.Class == class && w.To.After(w.From) {
			spans = append(spans, w)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].From.Before(spans[j].From) })
	var total time.Duration
	var cur excursionWindow
	for i, w := range spans {
		if i == 0 || w.From.After(cur.To) {
			if i > 0 {
				total += cur.To.Sub(cur.From)
			}
			cur = w
			continue
		}
		if w.To.After(cur.To) {
			cur.To = w.To
		}
	}
	if len(spans) > 0 {
		total += cur.To.Sub(cur.From)
	}
	return math.Round(total.Minutes()*1000) / 1000
}

var excursionFunctions = []function{
	{name: ledger.FnRecordExcursion, minArgs: 1, maxArgs: 1, run: recordExcursion},
	{name: ledger.FnGetExcursion, readOnly: true, minArgs: 1, maxArgs: 1, run: getExcursion},
	{name: ledger.FnListExcursions, readOnly: true, minArgs: 0, maxArgs: 2, run: listExcursions},
}

// ExcursionID is an excursion's ID: the lowercase hex of
// SHA-256(gtin 0x00 lot 0x00 kind 0x00 sensor 0x00 start), start in RFC 3339
// with nanoseconds in UTC, truncated to 32 hex digits. The same excursion
// reported twice (by a retry, or by two gateways) gets the same ID.
func ExcursionID(e ledger.Excursion) string {
	h := sha256.New()
	for _, part := range []string{e.GTIN, e.Lot, e.Kind, e.Sensor} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write([]byte(e.Start.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Bounds of an excursion record.
const (
	maxEvidence      = 200
	maxReadings      = 10_000_000
	clockSkewMinutes = 5.0 // how far a reported time may lie after the transaction time
)

// excursionLocationSchemes are the EPC schemes a measurement location may
// use: a location (SGLN) or a container: a logistic unit (SSCC), a
// returnable asset (GRAI) or an individual asset such as a reefer (GIAI).
var excursionLocationSchemes = []epc.Scheme{epc.SGLN, epc.SSCC, epc.GRAI, epc.GIAI}

func checkEventID(id string) error {
	const pre, post = "ni:///sha-256;", "?ver=CBV2.0"
	h, ok := strings.CutPrefix(id, pre)
	if ok {
		h, ok = strings.CutSuffix(h, post)
	}
	if ok && len(h) == 64 && strings.Trim(h, "0123456789abcdef") == "" {
		return nil
	}
	return invalid("evidence eventID %q is not ni:///sha-256;<64 lowercase hex>?ver=CBV2.0", truncate(id, 100))
}

func checkExcursionLocation(loc string) error {
	if loc == "" {
		return invalid("excursion location is required: the SGLN or container EPC URI where the sensor measured")
	}
	e, err := epc.ParseURI(loc)
	if err != nil {
		return invalid("excursion location %q is not an EPC URI: %v", truncate(loc, 80), err)
	}
	if e.Filter >= 0 || !strings.HasPrefix(loc, "urn:epc:id:") {
		return invalid("excursion location %q must be an EPC pure identity URI (urn:epc:id:…)", truncate(loc, 80))
	}
	ok := false
	for _, s := range excursionLocationSchemes {
		ok = ok || e.Scheme == s
	}
	if !ok {
		return invalid("excursion location %q is a %s EPC; use an sgln, sscc, grai or giai URI", truncate(loc, 80), e.Scheme)
	}
	if canon := e.URI(); canon != loc {
		return invalid("excursion location %q is not in canonical form; write it as %s", truncate(loc, 80), canon)
	}
	return nil
}

// checkExcursion checks the fields the client sets; now is the
// transaction time.
func checkExcursion(x ledger.Excursion, now time.Time) error {
	if err := checkGTIN(x.GTIN); err != nil {
		return err
	}
	if err := checkLotNumber(x.Lot); err != nil {
		return err
	}
	if err := oneOf("excursion kind", x.Kind, ledger.ExcursionKinds); err != nil {
		return err
	}
	if err := checkText("excursion sensor", x.Sensor, 200, true); err != nil {
		return err
	}
	if err := checkExcursionLocation(x.Location); err != nil {
		return err
	}
	if x.Start.IsZero() || x.End.IsZero() {
		return invalid("excursion start and end are required: the times of the first and last out-of-range readings")
	}
	if x.End.Before(x.Start) {
		return invalid("excursion end %s is before its start %s", x.End.UTC().Format(timeLayout), x.Start.UTC().Format(timeLayout))
	}
	if x.End.Sub(now).Minutes() > clockSkewMinutes {
		return invalid("excursion end %s is after the transaction time %s: an excursion is recorded once observed", x.End.UTC().Format(timeLayout), now.Format(timeLayout))
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"durationMin", x.DurationMin}, {"peakValue", x.PeakValue}, {"limitValue", x.LimitValue}} {
		if err := finite("excursion "+v.name, &v.v); err != nil {
			return err
		}
	}
	if x.DurationMin < 0 {
		return invalid("excursion durationMin %g is negative", x.DurationMin)
	}
	if elapsed := now.Sub(x.Start).Minutes() + clockSkewMinutes; x.DurationMin > elapsed {
		return invalid("excursion durationMin %g is longer than the %.1f minutes from its start to the transaction time", x.DurationMin, elapsed)
	}
	switch x.Kind {
	case ledger.ExcursionTempHigh, ledger.ExcursionTempLow:
		if x.Unit != ledger.UnitCelsius {
			return invalid("a %s excursion is in %q (°C), not %q", x.Kind, ledger.UnitCelsius, truncate(x.Unit, 16))
		}
		for _, v := range []struct {
			name string
			v    float64
		}{{"peakValue", x.PeakValue}, {"limitValue", x.LimitValue}} {
			if v.v < absoluteZeroC || v.v > maxPlausibleC {
				return invalid("excursion %s %g °C is outside %g to %g", v.name, v.v, absoluteZeroC, maxPlausibleC)
			}
		}
	case ledger.ExcursionHumidityHigh:
		if x.Unit != ledger.UnitPercentRH {
			return invalid("a %s excursion is in %q (%%RH), not %q", x.Kind, ledger.UnitPercentRH, truncate(x.Unit, 16))
		}
		if x.PeakValue < 0 || x.PeakValue > 100 || x.LimitValue < 0 || x.LimitValue > 100 {
			return invalid("excursion peakValue %g and limitValue %g must be in [0, 100] %%RH", x.PeakValue, x.LimitValue)
		}
	}
	if x.Kind == ledger.ExcursionTempLow {
		if !(x.PeakValue < x.LimitValue) {
			return invalid("a %s excursion's peakValue %g must be below its limitValue %g", x.Kind, x.PeakValue, x.LimitValue)
		}
	} else if !(x.PeakValue > x.LimitValue) {
		return invalid("a %s excursion's peakValue %g must be above its limitValue %g", x.Kind, x.PeakValue, x.LimitValue)
	}
	if err := finite("excursion mktC", x.MKTC); err != nil {
		return err
	}
	if x.MKTC != nil && (*x.MKTC < absoluteZeroC || *x.MKTC > maxPlausibleC) {
		return invalid("excursion mktC %g °C is outside %g to %g", *x.MKTC, absoluteZeroC, maxPlausibleC)
	}
	if err := finite("excursion lotMktC", x.LotMKTC); err != nil {
		return err
	}
	if x.LotMKTC != nil && (*x.LotMKTC < absoluteZeroC || *x.LotMKTC > maxPlausibleC) {
		return invalid("excursion lotMktC %g °C is outside %g to %g", *x.LotMKTC, absoluteZeroC, maxPlausibleC)
	}
	if x.Readings < 1 || x.Readings > maxReadings {
		return invalid("excursion readings %d is not between 1 and %d", x.Readings, maxReadings)
	}
	if len(x.Evidence) > maxEvidence {
		return invalid("excursion has %d evidence references, more than %d; keep the first and last out-of-range readings and the peak", len(x.Evidence), maxEvidence)
	}
	seen := make(map[string]bool, len(x.Evidence))
	for _, ev := range x.Evidence {
		if err := checkEventID(ev.EventID); err != nil {
			return err
		}
		if seen[ev.EventID] {
			return invalid("evidence event %s is listed twice", ev.EventID)
		}
		seen[ev.EventID] = true
		if err := checkID("evidence edge", ev.Edge); err != nil {
			return err
		}
	}
	if x.Org != "" {
		if err := checkID("excursion org", x.Org); err != nil {
			return err
		}
	}
	if x.ID != "" {
		if want := ExcursionID(x); x.ID != want {
			return invalid("excursion id %q does not match its gtin, lot, kind, sensor and start (%s); leave it empty and the contract computes it", truncate(x.ID, 40), want)
		}
	}
	return nil
}

// clearExcursionSet zeroes the fields the contract sets.
func clearExcursionSet(x *ledger.Excursion) {
	x.ID, x.Org, x.RecordedBy, x.RecordedAt, x.TxID = "", "", "", time.Time{}, ""
	x.CumulativeMin, x.Breach, x.BreachReason = 0, false, ""
}

// breach judges an excursion against the product's storage profile and
// returns why it breaches it, "" when it does not.
func breach(x ledger.Excursion, p *ledger.StorageProfile) string {
	var why []string
	if p.MaxSingleExcursionMin != nil && x.DurationMin > *p.MaxSingleExcursionMin {
		why = append(why, fmt.Sprintf("single excursion of %g min exceeds the profile's maxSingleExcursionMin %g min", x.DurationMin, *p.MaxSingleExcursionMin))
	}
	if p.MaxCumulativeExcursionMin != nil && x.CumulativeMin > *p.MaxCumulativeExcursionMin {
		why = append(why, fmt.Sprintf("cumulative excursion time of %g min exceeds the profile's maxCumulativeExcursionMin %g min", x.CumulativeMin, *p.MaxCumulativeExcursionMin))
	}
	if x.LotMKTC != nil && p.MKTMaxC != nil && *x.LotMKTC > *p.MKTMaxC {
		why = append(why, fmt.Sprintf("the lot's mean kinetic temperature %g °C exceeds the profile's mktMaxC %g °C", *x.LotMKTC, *p.MKTMaxC))
	}
	return strings.Join(why, "; ")
}

// recordExcursion records a cold-chain excursion of a registered lot whose
// product has a storage profile, judges it against the profile, and moves
// the lot's status: a breach quarantines the lot, any other excursion
// marks an ok lot "excursion"; a recalled lot stays recalled. Recording
// the same excursion again returns the stored record.
func recordExcursion(c *call, args []string) ([]byte, error) {
	var in ledger.Excursion
	if err := decodeArg(args[0], "excursion", &in); err != nil {
		return nil, err
	}
	in.Start, in.End = in.Start.UTC(), in.End.UTC()
	now, err := c.now()
	if err != nil {
		return nil, err
	}
	if err := checkExcursion(in, now); err != nil {
		return nil, err
	}
	cl, err := c.who()
	if err != nil {
		return nil, err
	}
	if in.Org == "" {
		in.Org = cl.Org
	}
	action := "record an excursion of lot " + in.Lot + " of " + in.GTIN
	if _, err := c.requireRole(in.Org, action, ledger.RoleOrgAdmin, ledger.RoleOperator, ledger.RoleQuality); err != nil {
		return nil, err
	}
	if _, err := c.requireOrg(in.Org); errors.Is(err, ledger.ErrNotFound) {
		return nil, forbidden("%s: org %s is not registered", action, in.Org)
	} else if err != nil {
		return nil, err
	}
	lk := lotKey(in.GTIN, in.Lot)
	var lot ledger.Lot
	found, err := c.get(lk, &lot)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("lot %s of %s is not registered; its manufacturer registers it first", in.Lot, in.GTIN)
	}
	var p ledger.Product
	if found, err := c.get(productKey(in.GTIN), &p); err != nil {
		return nil, err
	} else if !found {
		return nil, notFound("product %s is not registered", in.GTIN)
	}
	if p.Profile == nil {
		return nil, invalid("product %s has no storage profile, so an excursion cannot be judged; its manufacturer registers it with one", in.GTIN)
	}

	in.ID = ExcursionID(in)
	key := excursionKey(in.ID)
	var cur ledger.Excursion
	found, err = c.get(key, &cur)
	if err != nil {
		return nil, err
	}
	if found {
		if sameContent(cur, in, clearExcursionSet) {
			return marshal(cur)
		}
		return nil, conflict("excursion %s (%s of lot %s of %s from sensor %s starting %s) is recorded with different figures, by org %s in transaction %s; a corrected excursion is not supported", in.ID, in.Kind, in.Lot, in.GTIN, in.Sensor, in.Start.UTC().Format(timeLayout), cur.Org, cur.TxID)
	}

	tk := excursionTotalKey(in.GTIN, in.Lot)
	var total excursionTotal
	if _, err := c.get(tk, &total); err != nil {
		return nil, err
	}
	total.Count++
	total.Windows = append(total.Windows, excursionWindow{Class: excursionClass(in.Kind), From: in.Start.UTC(),
		To: in.Start.UTC().Add(time.Duration(in.DurationMin * float64(time.Minute)))})
	total.CumulativeMin = unionMinutes(total.Windows, excursionClass(in.Kind))

	in.RecordedBy, in.RecordedAt, in.TxID = cl.User, now, c.s.TxID()
	in.CumulativeMin = total.CumulativeMin
	in.BreachReason = breach(in, p.Profile)
	in.Breach = in.BreachReason != ""

	next := lot.Status
	switch {
	case lot.Status == ledger.LotRecalled:
	case in.Breach:
		next = ledger.LotQuarantined
	case lot.Status == ledger.LotOK:
		next = ledger.LotExcursion
	}
	if next != lot.Status {
		reason := fmt.Sprintf("%s excursion %s at %s, peak %g %s", in.Kind, in.ID, in.Location, in.PeakValue, in.Unit)
		if in.Breach {
			reason += ": " + in.BreachReason
		}
		lot.Status, lot.StatusReason, lot.StatusAt = next, truncate(reason, 1000), now
		if _, err := c.put(lk, lot); err != nil {
			return nil, err
		}
	}
	if _, err := c.put(tk, total); err != nil {
		return nil, err
	}
	if err := c.s.PutState(excursionLotKey(in.GTIN, in.Lot, in.ID), []byte(in.ID)); err != nil {
		return nil, stateErr("write excursion index", err)
	}
	return c.putAndEmit(key, ledger.EvExcursionRecorded, in)
}

func checkExcursionID(id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return invalid("excursion id %q is not 32 lowercase hex digits", truncate(id, 40))
	}
	return nil
}

func getExcursion(c *call, args []string) ([]byte, error) {
	id := args[0]
	if err := checkExcursionID(id); err != nil {
		return nil, err
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	raw, err := c.getRaw(excursionKey(id))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, notFound("excursion %s is not recorded", id)
	}
	return raw, nil
}

// listExcursions lists the excursions of a lot (gtin, lot), of every lot
// of a product (gtin, ""), or all (no arguments, or "", ""), sorted by
// start, then ID.
func listExcursions(c *call, args []string) ([]byte, error) {
	var gtin, lot string
	if len(args) > 0 {
		gtin = args[0]
	}
	if len(args) > 1 {
		lot = args[1]
	}
	if gtin != "" {
		if err := checkGTIN(gtin); err != nil {
			return nil, err
		}
	}
	if lot != "" {
		if gtin == "" {
			return nil, invalid("listing the excursions of lot %q needs its GTIN", truncate(lot, 32))
		}
		if err := checkLotNumber(lot); err != nil {
			return nil, err
		}
	}
	if _, err := c.requireMember(); err != nil {
		return nil, err
	}
	var out []ledger.Excursion
	if gtin == "" {
		all, err := list[ledger.Excursion](c, excursionPrefix, nil)
		if err != nil {
			return nil, err
		}
		out = all
	} else {
		prefix := excursionLotPrefix + gtin + "/"
		if lot != "" {
			prefix += lot + "/"
		}
		out = []ledger.Excursion{}
		var ids []string
		err := c.scan(prefix, prefixEnd(prefix), func(kv ledger.KV) (bool, error) {
			ids = append(ids, string(kv.Value))
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			var x ledger.Excursion
			found, err := c.get(excursionKey(id), &x)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, ledger.Errorf(ledger.Unavailable, "excursion index names %s, which is not stored", id)
			}
			// A lot number may contain "/": lot "A" must not list lot "A/B".
			if lot == "" || x.Lot == lot {
				out = append(out, x)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return marshal(out)
}
