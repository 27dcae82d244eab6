package sim

import "time"

const donatedStory = `Meridian donates two pallets of N95 masks (96 boxes of one lot) to Helping Hands. The plant ships them to the Helping Hands depot in Berlin, whose dock reader and handheld receive them. Two hours later the depot ships both pallets to City General Hospital, where the receiving dock reader and the handheld receive them and unpack the pallets and their cases. One unpacking names a pallet that was never packed (a mis-scanned label: the event is well-formed, the gateway must flag it). The hospital then dispenses 24 boxes to Ward 3 (fever) and 12 to the pharmacy. Expected: custody plant → depot → hospital → Ward 3, the lot ok, and the never-packed pallet as an anomaly.`

func buildDonated(s *story) error {
	for _, id := range []string{SitePlant, SiteDepot, SiteHospital} {
		s.site(id)
	}
	s.scanner(SitePlant, DevPlantPack)
	s.reader(SitePlant, DevPlantDockOut, FormatDefault, SubDockOut, "shipping", "in_transit")
	// One door, both directions: the reader's reads carry no business
	// step; the handheld says receiving or shipping.
	s.reader(SiteDepot, DevDepotDock, FormatDefault, SubDockIn, "", "")
	s.scanner(SiteDepot, DevDepotHandheld)
	s.reader(SiteHospital, DevHospDock, FormatDefault, SubReceiving, "receiving", "in_progress")
	s.scanner(SiteHospital, DevHospHandheld)

	m := func(min float64) time.Time { return s.t(time.Duration(min * float64(time.Minute))) }
	lot := s.lot(ScenarioMaskGTIN, "ND", 96, 5*365*24*time.Hour)
	packs := s.commission(DevPlantPack, m(5), lot, lot.Serials)
	p1 := s.palletize(DevPlantPack, m(10), "0614141", packs[:48], 12)
	p2 := s.palletize(DevPlantPack, m(15), "0614141", packs[48:], 12)
	s.rfidPass(DevPlantDockOut, m(30).Add(jit(s, 30)), p1.tags(), "")
	s.rfidPass(DevPlantDockOut, m(32).Add(jit(s, 30)), p2.tags(), "")

	// Depot: receive, then ship to the hospital.
	s.rfidPass(DevDepotDock, m(240).Add(jit(s, 30)), p1.tags(), "")
	s.rfidPass(DevDepotDock, m(242).Add(jit(s, 30)), p2.tags(), "")
	s.objectEvent(DevDepotHandheld, m(250), []string{p1.sscc, p2.sscc}, "receiving", "in_progress", SubDockIn, "", "")
	s.objectEvent(DevDepotHandheld, m(255), []string{p1.sscc, p2.sscc}, "storing", "in_progress", SubStorage, "", "")
	s.objectEvent(DevDepotHandheld, m(370), []string{p1.sscc, p2.sscc}, "shipping", "in_transit", SubDockIn, "", "")
	s.rfidPass(DevDepotDock, m(372).Add(jit(s, 30)), p1.tags(), "")
	s.rfidPass(DevDepotDock, m(374).Add(jit(s, 30)), p2.tags(), "")

	// Hospital: receive, unpack (one bad unpack), dispense.
	s.rfidPass(DevHospDock, m(420).Add(jit(s, 30)), p1.tags(), "")
	s.rfidPass(DevHospDock, m(422).Add(jit(s, 30)), p2.tags(), "")
	s.objectEvent(DevHospHandheld, m(428), []string{p1.sscc, p2.sscc}, "receiving", "in_progress", SubReceiving, "", "")
	s.unpack(DevHospHandheld, m(435), p1, SubReceiving)
	ghost := s.newSSCC('3', "4000002") // never packed
	s.aggregation(DevHospHandheld, m(445), "DELETE", ghost, p2.caseIDs(), "unpacking", "in_progress", SubReceiving, "unpack of a pallet never packed")
	s.anomalies = append(s.anomalies, ghost)
	s.unpack(DevHospHandheld, m(450), p2, SubReceiving)
	ward := packs[:24]
	pharm := packs[48:60]
	for i, g := range chunk(ward, 6) {
		s.objectEvent(DevHospHandheld, m(480+5*float64(i)), g, "dispensing", "dispensed", SubWard3, SiteHospital+"/"+SubWard3, "")
	}
	for i, g := range chunk(pharm, 6) {
		s.objectEvent(DevHospHandheld, m(510+5*float64(i)), g, "dispensing", "dispensed", SubPharmacy, SiteHospital+"/"+SubPharmacy, "")
	}
	s.custodyKeys = append(s.custodyKeys, ward[0], pharm[0])
	return nil
}
