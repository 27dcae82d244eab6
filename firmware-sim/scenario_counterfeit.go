package sim

import "time"

const counterfeitStory = `Meridian commissions a genuine N95 lot (48 boxes) and a second N95 lot (78 boxes) that will turn out to be substandard. The plant ships one pallet of the first lot and three pallets of the second to North Warehouse Hanover (dock-in reader, Impinj); wh1 forwards one pallet of the second lot to City General Hospital and one to its Munich distribution centre wh2, about 490 km away, and keeps the third. Six more boxes of the second lot leave the plant without any recorded shipment. Late in the day wh1 counts its stock of the genuine lot (handheld, cycle counting). Ten minutes later a case from an unknown distributor arrives at wh2's dock: six boxes whose serials Meridian never commissioned, six clones of genuine boxes wh1 counted minutes before (impossible travel), and six boxes of the diverted batch of the second lot. Then the regulator recalls the second lot (an Action for the runner) while wh1, wh2 and the hospital hold boxes of it; wh2 inspects the suspicious case after the recall. Expected: the never-commissioned boxes, the clones and the recalled boxes seen after the recall are suspects; the second lot is recalled and its holders are alerted.`

func buildCounterfeit(s *story) error {
	for _, id := range []string{SitePlant, SiteWH1, SiteWH2, SiteHospital} {
		s.site(id)
	}
	s.scanner(SitePlant, DevPlantPack)
	s.reader(SitePlant, DevPlantDockOut, FormatDefault, SubDockOut, "shipping", "in_transit")
	s.reader(SiteWH1, DevWH1DockIn, FormatImpinj, SubDockIn, "receiving", "in_progress")
	s.reader(SiteWH1, DevWH1DockOut, FormatZebraFX, SubDockOut, "shipping", "in_transit")
	s.scanner(SiteWH1, DevWH1Handheld)
	s.reader(SiteWH2, DevWH2DockIn, FormatDefault, SubDockIn, "receiving", "in_progress")
	s.scanner(SiteWH2, DevWH2Handheld)
	s.reader(SiteHospital, DevHospDock, FormatDefault, SubReceiving, "receiving", "in_progress")
	s.scanner(SiteHospital, DevHospHandheld)

	m := func(min float64) time.Time { return s.t(time.Duration(min * float64(time.Minute))) }
	good := s.lot(ScenarioMaskGTIN, "NA", 48, 5*365*24*time.Hour)
	bad := s.lot(ScenarioMaskGTIN, "NR", 78, 5*365*24*time.Hour)
	goodPacks := s.commission(DevPlantPack, m(5), good, good.Serials)
	badPacks := s.commission(DevPlantPack, m(6), bad, bad.Serials)
	pa := s.palletize(DevPlantPack, m(10), "0614141", goodPacks, 12)
	pr1 := s.palletize(DevPlantPack, m(14), "0614141", badPacks[:24], 12)
	pr2 := s.palletize(DevPlantPack, m(18), "0614141", badPacks[24:48], 12)
	pr3 := s.palletize(DevPlantPack, m(22), "0614141", badPacks[48:72], 12)
	diverted := badPacks[72:] // commissioned, never shipped on record
	for i, p := range []palletLoad{pa, pr1, pr2, pr3} {
		s.rfidPass(DevPlantDockOut, m(30+2*float64(i)).Add(jit(s, 30)), p.tags(), "")
	}
	// wh1 receives all four pallets.
	for i, p := range []palletLoad{pa, pr1, pr2, pr3} {
		s.rfidPass(DevWH1DockIn, m(150+2*float64(i)).Add(jit(s, 30)), p.tags(), "")
	}
	s.objectEvent(DevWH1Handheld, m(160), []string{pa.sscc, pr1.sscc, pr2.sscc, pr3.sscc}, "receiving", "in_progress", SubDockIn, "", "")
	// wh1 forwards pr3 to the hospital and pr2 to wh2.
	s.rfidPass(DevWH1DockOut, m(180).Add(jit(s, 30)), pr3.tags(), "")
	s.rfidPass(DevWH1DockOut, m(183).Add(jit(s, 30)), pr2.tags(), "")
	s.rfidPass(DevHospDock, m(360).Add(jit(s, 60)), pr3.tags(), "")
	s.objectEvent(DevHospHandheld, m(365), []string{pr3.sscc}, "receiving", "in_progress", SubReceiving, "", "")
	s.rfidPass(DevWH2DockIn, m(540).Add(jit(s, 60)), pr2.tags(), "")
	s.objectEvent(DevWH2Handheld, m(545), []string{pr2.sscc}, "receiving", "in_progress", SubDockIn, "", "")

	// wh1 counts the genuine lot.
	count := m(580)
	s.objectEvent(DevWH1Handheld, count, pa.packs(), "cycle_counting", "in_progress", SubStorage, "", "")

	// The suspicious case at wh2, ten minutes later.
	var fakeSerials []uint64
	for i := 0; i < 6; i++ {
		fakeSerials = append(fakeSerials, good.Serials[len(good.Serials)-1]+1000+uint64(7*i+s.rng.IntN(7)))
	}
	fakes := s.packs(good, fakeSerials)
	perm := s.rng.Perm(len(goodPacks))
	var clones []string
	for _, i := range perm[:6] {
		clones = append(clones, goodPacks[i])
	}
	recalledOnes := diverted[:6]
	var contents []string
	for i := 0; i < 6; i++ {
		contents = append(contents, fakes[i], clones[i], recalledOnes[i])
	}
	caseID := s.newSSCC('1', "0614141") // a label never packed by Meridian
	arrive := m(590)
	s.rfidPass(DevWH2DockIn, arrive, append([]string{caseID}, contents...), "counterfeit")
	s.objectEvent(DevWH2Handheld, arrive.Add(4*time.Minute), []string{caseID}, "receiving", "in_progress", SubDockIn, "", "counterfeit")

	// The regulator recalls the second lot.
	recallAt := m(600)
	s.recall(recallAt, bad, "Filtration efficiency below EN 149 FFP2 in batch testing", "II")
	s.objectEvent(DevWH2Handheld, m(615), contents, "inspecting", "in_progress", SubStorage, "", "counterfeit")

	s.custodyKeys = append(s.custodyKeys, goodPacks[0], pr3.packs()[0], pr2.packs()[0], clones[0])
	return nil
}
