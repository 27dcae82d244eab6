package contract

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// TestExcursionIDVector pins the excursion ID: gateways compute it too.
// The value was computed outside Go (Python hashlib) from the documented
// input "04012345000016\x00L1\x00temperature-high\x00wh1/coldroom-1\x00
// 2026-11-25T10:00:00.5Z".
func TestExcursionIDVector(t *testing.T) {
	start := time.Date(2026, 11, 25, 11, 0, 0, 500_000_000, time.FixedZone("CET", 3600))
	x := ledger.Excursion{GTIN: "04012345000016", Lot: "L1", Kind: ledger.ExcursionTempHigh, Sensor: "wh1/coldroom-1", Start: start}
	if got, want := ExcursionID(x), "577e9f60b40ad2591e95f6c9ef96dfae"; got != want {
		t.Fatalf("ExcursionID = %s, want %s", got, want)
	}
}

const reg = "AgencyMSP"

var regAdmin = ledger.Caller{Org: reg, User: "admin", Admin: true}

// TestRecordsWriteDiscipline: each new function writes what it must, emits
// exactly one event, takes its times from TxTime, and a repeat writes and
// emits nothing.
func TestRecordsWriteDiscipline(t *testing.T) {
	base := seeded(t)
	const gtin = "04012345000023"
	steps := []struct {
		as   ledger.Caller
		fn   string
		args []string
	}{
		{regAdmin, ledger.FnRegisterOrg, []string{mustJSON(ledger.Org{ID: reg, Name: "Agency", Kind: ledger.OrgRegulator})}},
		{mfrAdmin, ledger.FnRegisterProduct, []string{mustJSON(ledger.Product{GTIN: gtin, Name: "Vaccine", Org: mfr, Kind: "vaccine",
			Profile: &ledger.StorageProfile{MinC: ptr(2), MaxC: ptr(8), MaxSingleExcursionMin: ptr(30), MaxCumulativeExcursionMin: ptr(60)}})}},
		{mfrOp, ledger.FnRegisterLot, []string{mustJSON(ledger.Lot{GTIN: gtin, Lot: "V1", Quantity: 10, ProducedAt: "2026-01-01", Expiry: "2027-01-01"})}},
	}
	for i, st := range steps {
		s := base.fork(st.as, "setup-"+string(rune('a'+i)))
		if _, err := Invoke(s, st.fn, st.args); err != nil {
			t.Fatalf("%s: %v", st.fn, err)
		}
		base = s
	}
	// run invokes fn as caller on a fork of base, checks its writes and
	// events, and makes the fork the new base.
	n := 0
	run := func(as ledger.Caller, fn string, writes int, event string, args ...string) []byte {
		t.Helper()
		n++
		s := base.fork(as, "tx-"+string(rune('a'+n)))
		s.now = base.now.Add(time.Duration(n) * time.Minute)
		out, err := Invoke(s, fn, args)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		wantEvents := 1
		if event == "" {
			wantEvents = 0
		}
		if s.writes != writes || s.events != wantEvents || s.event != event {
			t.Fatalf("%s: %d writes, %d events (%q), want %d writes, event %q", fn, s.writes, s.events, s.event, writes, event)
		}
		if event != "" && string(s.payload) != string(out) {
			t.Fatalf("%s: event payload %s differs from the result %s", fn, s.payload, out)
		}
		base = s
		return out
	}
	site := mustJSON(ledger.Site{GLN: "4012345000009", Org: wh, Name: "Store 1", Kind: ledger.SiteWarehouse, Lat: 0, Lon: 0,
		Locations: []ledger.SubLocation{{ID: "urn:epc:id:sgln:4012345.00000.cold1", Name: "Cold room", Kind: "cold-room"}}})
	var st ledger.Site
	mustDecode(t, run(whAdmin, ledger.FnRegisterSite, 1, ledger.EvSiteRegistered, site), &st)
	if !st.RegisteredAt.Equal(base.now) {
		t.Errorf("site registeredAt %v, want the transaction time %v", st.RegisteredAt, base.now)
	}
	run(whAdmin, ledger.FnRegisterSite, 0, "", site)

	x := ledger.Excursion{GTIN: gtin, Lot: "V1", Kind: ledger.ExcursionTempHigh, Sensor: "s1", Location: "urn:epc:id:sgln:4012345.00000.cold1",
		Start: base.now.Add(-time.Hour), End: base.now.Add(-40 * time.Minute), DurationMin: 20, PeakValue: 9, LimitValue: 8, Unit: ledger.UnitCelsius, Readings: 3}
	var rec ledger.Excursion
	// excursion, index, running total, lot status ok → excursion.
	mustDecode(t, run(whAdmin, ledger.FnRecordExcursion, 4, ledger.EvExcursionRecorded, mustJSON(x)), &rec)
	if !rec.RecordedAt.Equal(base.now) || rec.CumulativeMin != 20 || rec.Breach {
		t.Errorf("excursion %+v", rec)
	}
	run(whAdmin, ledger.FnRecordExcursion, 0, "", mustJSON(x))
	x2 := x
	x2.Sensor = "s2"
	x2.Start, x2.End = base.now.Add(-3*time.Hour), base.now.Add(-160*time.Minute)
	// excursion, index, running total; the lot stays "excursion".
	run(whAdmin, ledger.FnRecordExcursion, 3, ledger.EvExcursionRecorded, mustJSON(x2))
	x3 := x
	x3.Sensor, x3.DurationMin = "s3", 25
	x3.Start, x3.End = base.now.Add(-2*time.Hour), base.now.Add(-95*time.Minute)
	mustDecode(t, run(whAdmin, ledger.FnRecordExcursion, 4, ledger.EvExcursionRecorded, mustJSON(x3)), &rec)
	if rec.CumulativeMin != 65 || !rec.Breach || !strings.Contains(rec.BreachReason, "cumulative excursion time of 65 min exceeds the profile's maxCumulativeExcursionMin 60 min") {
		t.Errorf("cumulative breach %+v", rec)
	}
	var lot ledger.Lot
	mustDecode(t, base.kv[lotKey(gtin, "V1")], &lot)
	if lot.Status != ledger.LotQuarantined || !lot.StatusAt.Equal(base.now) {
		t.Errorf("lot %+v", lot)
	}
	mustDecode(t, run(mfrAdmin, ledger.FnSetLotStatus, 1, ledger.EvLotStatusChanged, gtin, "V1", ledger.LotOK, "reviewed"), &lot)
	if lot.Status != ledger.LotOK || !lot.StatusAt.Equal(base.now) {
		t.Errorf("released lot %+v", lot)
	}
	var r ledger.Recall
	mustDecode(t, run(regAdmin, ledger.FnRecallLot, 2, ledger.EvLotRecalled, mustJSON(ledger.Recall{GTIN: gtin, Lot: "V1", Reason: "r", Class: "II"})), &r)
	if !r.IssuedAt.Equal(base.now) || r.TxID != base.txID || r.By != "admin" || r.Org != reg {
		t.Errorf("recall %+v", r)
	}
	// A breach of a recalled lot: the excursion, index and total; the lot stays recalled.
	x4 := x
	x4.Sensor, x4.DurationMin = "s4", 45
	run(whAdmin, ledger.FnRecordExcursion, 3, ledger.EvExcursionRecorded, mustJSON(x4))

	// Reads write nothing and emit nothing.
	for _, q := range []struct {
		fn   string
		args []string
	}{
		{ledger.FnGetSite, []string{"4012345000009"}}, {ledger.FnListSites, nil}, {ledger.FnListSites, []string{wh}},
		{ledger.FnGetRecall, []string{gtin, "V1"}}, {ledger.FnListRecalls, nil},
		{ledger.FnGetExcursion, []string{rec.ID}}, {ledger.FnListExcursions, nil}, {ledger.FnListExcursions, []string{gtin, "V1"}},
	} {
		s := base.fork(mfrOp, "q")
		s.readOnly = true
		if _, err := Invoke(s, q.fn, q.args); err != nil || s.writes != 0 || s.events != 0 {
			t.Errorf("%s%v: %v, %d writes, %d events", q.fn, q.args, err, s.writes, s.events)
		}
	}
}

func ptr(v float64) *float64 { return &v }

func mustDecode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
