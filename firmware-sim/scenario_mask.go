package sim

import (
	"math"
	"time"
)

const maskDayStory = `A day (16 hours) at North Warehouse Hanover. At dawn Meridian's Hamburg plant commissions two N95 lots (96 and 48 boxes), packs them in cases of 12 onto three pallets and ships them. Mid-morning wh1's dock-in reader (Impinj) receives the pallets, with a duplicated delivery; the handheld receives and puts them away. Around midday the handheld picks five cases, the packing station unpacks two pallets and one case and builds a mixed pallet (five cases and six loose boxes, a new SSCC of North's), which leaves through the dock-out reader (Zebra FX) to City General Hospital, whose dock reader and handheld receive it in the afternoon. All day the warehouse's ambient logger reports in Fahrenheit and goes offline for 45 minutes, its buffered readings bursting out of order on reconnect; the humidity logger delivers some readings twice and sticks for two hours (repeating its last value). A box with a damaged tag gives one read the edge must dead-letter (bad_epc). Expected: no excursions, both lots ok, custody plant → wh1 → hospital, the humidity logger flagged as stuck.`

func buildMaskDay(s *story) error {
	for _, id := range []string{SitePlant, SiteWH1, SiteHospital} {
		s.site(id)
	}
	s.scanner(SitePlant, DevPlantPack)
	s.reader(SitePlant, DevPlantDockOut, FormatDefault, SubDockOut, "shipping", "in_transit")
	s.reader(SiteWH1, DevWH1DockIn, FormatImpinj, SubDockIn, "receiving", "in_progress")
	s.reader(SiteWH1, DevWH1DockOut, FormatZebraFX, SubDockOut, "shipping", "in_transit")
	s.logger(SiteWH1, DevWH1Ambient, SubStorage, nil, "F")
	s.logger(SiteWH1, DevWH1Humidity, SubStorage, nil, "")
	s.scanner(SiteWH1, DevWH1Pack)
	s.scanner(SiteWH1, DevWH1Handheld)
	s.reader(SiteHospital, DevHospDock, FormatDefault, SubReceiving, "receiving", "in_progress")
	s.scanner(SiteHospital, DevHospHandheld)

	m := func(min float64) time.Time { return s.t(time.Duration(min * float64(time.Minute))) }
	la := s.lot(ScenarioMaskGTIN, "MA", 96, 5*365*24*time.Hour)
	lb := s.lot(ScenarioMaskGTIN, "MB", 48, 5*365*24*time.Hour)
	pa := s.commission(DevPlantPack, m(10), la, la.Serials)
	pb := s.commission(DevPlantPack, m(11), lb, lb.Serials)
	pa1 := s.palletize(DevPlantPack, m(20), "0614141", pa[:48], 12)
	pa2 := s.palletize(DevPlantPack, m(25), "0614141", pa[48:], 12)
	pb1 := s.palletize(DevPlantPack, m(30), "0614141", pb, 12)
	for i, p := range []palletLoad{pa1, pa2, pb1} {
		s.rfidPass(DevPlantDockOut, m(45+2*float64(i)).Add(jit(s, 30)), p.tags(), "")
	}

	// wh1 receives (one read delivered twice), puts away.
	received := m(180)
	for i, p := range []palletLoad{pa1, pa2, pb1} {
		s.rfidPass(DevWH1DockIn, received.Add(time.Duration(i)*2*time.Minute+jit(s, 30)), p.tags(), "")
		if i == 1 {
			s.duplicateLast(DevWH1DockIn, 2)
		}
	}
	s.objectEvent(DevWH1Handheld, m(190), []string{pa1.sscc, pa2.sscc, pb1.sscc}, "receiving", "in_progress", SubDockIn, "", "")
	s.objectEvent(DevWH1Handheld, m(200), []string{pa1.sscc, pa2.sscc, pb1.sscc}, "storing", "in_progress", SubStorage, "", "")

	// Pick and repack a mixed pallet.
	picked := []caseLoad{pa1.cases[0], pa1.cases[1], pa1.cases[2], pb1.cases[0], pb1.cases[1]}
	var pickedIDs []string
	for _, c := range picked {
		pickedIDs = append(pickedIDs, c.sscc)
	}
	s.objectEvent(DevWH1Handheld, m(360), pickedIDs, "picking", "in_progress", SubStorage, "", "")
	s.aggregation(DevWH1Pack, m(375), "DELETE", pa1.sscc, pa1.caseIDs(), "unpacking", "in_progress", SubPacking, "")
	s.aggregation(DevWH1Pack, m(377), "DELETE", pa1.cases[3].sscc, pa1.cases[3].packs, "unpacking", "in_progress", SubPacking, "")
	s.aggregation(DevWH1Pack, m(380), "DELETE", pb1.sscc, pb1.caseIDs(), "unpacking", "in_progress", SubPacking, "")
	loose := pa1.cases[3].packs[:6]
	mixed := palletLoad{sscc: s.newSSCC('3', "4012345"), cases: picked, loose: loose}
	s.aggregation(DevWH1Pack, m(390), "ADD", mixed.sscc, append(mixed.caseIDs(), loose...), "packing", "in_progress", SubPacking, "")
	shipped := m(420)
	s.rfidPass(DevWH1DockOut, shipped.Add(jit(s, 30)), mixed.tags(), "")

	// Hospital receives.
	s.rfidPass(DevHospDock, m(600).Add(jit(s, 60)), mixed.tags(), "")
	s.objectEvent(DevHospHandheld, m(606), []string{mixed.sscc}, "receiving", "in_progress", SubReceiving, "", "")
	// A box whose tag memory is damaged: one read the edge must dead-letter.
	s.badRead(DevHospDock, m(608), loose[1])

	// Warehouse climate all day: a gentle daily swing.
	day := func(t time.Time) (float64, time.Duration) {
		h := t.Sub(s.sc.Start).Hours()
		return 18 + 3*math.Sin(math.Pi*h/16), time.Hour
	}
	end := m(16 * 60)
	s.runLogger(loggerSpec{dev: DevWH1Ambient, from: m(0), to: end, interval: 10 * time.Minute, env: day, initial: 18,
		noise: 0.2, fahrenheit: true, offline: []window{{m(300), m(345)}}, shuffleBurst: true})
	s.runLogger(loggerSpec{dev: DevWH1Humidity, from: m(0), to: end, interval: 10 * time.Minute, env: day, initial: 18,
		noise: 0.2, humidity: 52, battery: 77, dupChance: 0.06, stick: []window{{m(480), m(600)}}})
	s.sensorFaults = append(s.sensorFaults, SiteWH1+"/"+DevWH1Humidity)
	for _, l := range []*ScenarioLot{la, lb} {
		s.expose(DevWH1Ambient, l, received, end)
		s.expose(DevWH1Humidity, l, received, end)
	}
	s.custodyKeys = append(s.custodyKeys, pa1.cases[0].packs[0], loose[0], pa2.packs()[0])
	return nil
}
