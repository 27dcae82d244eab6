package sim

import "time"

// Device IDs of the scenarios: a physical device keeps its ID in every
// scenario.
const (
	DevPlantPack     = "plant-pack"     // plant: packing station (commissioning, packing)
	DevPlantDockOut  = "plant-dock-out" // plant: dock-out reader
	DevWH1DockIn     = "wh1-dock-in"    // wh1: dock-in reader (impinj)
	DevWH1DockOut    = "wh1-dock-out"   // wh1: dock-out reader (zebra-fx)
	DevWH1ColdRoom   = "wh1-coldroom"   // wh1: cold room logger
	DevWH1Ambient    = "wh1-ambient"    // wh1: ambient logger, Fahrenheit
	DevWH1Humidity   = "wh1-humidity"   // wh1: warehouse humidity logger
	DevWH1Pack       = "wh1-pack"       // wh1: packing station (repacking, loading)
	DevWH1Handheld   = "wh1-handheld"   // wh1: handheld
	DevWH2DockIn     = "wh2-dock-in"    // wh2: dock-in reader
	DevWH2Handheld   = "wh2-handheld"   // wh2: handheld
	DevDepotDock     = "depot-dock"     // depot: dock reader (in and out)
	DevDepotHandheld = "depot-handheld" // depot: handheld
	DevHospDock      = "hosp-dock"      // hospital: receiving dock reader
	DevHospPharmCold = "hosp-pharmacy-cold"
	DevHospHandheld  = "hosp-handheld" // hospital: receiving, pharmacy, Ward 3
	DevReeferLogger  = "reefer7-logger"
	DevPalletLogger  = "pallet-logger-1"
)

// palletLoad is a pallet with its cases and the packs on it.
type palletLoad struct {
	sscc  string
	cases []caseLoad
	loose []string // packs directly on the pallet
}

type caseLoad struct {
	sscc  string
	packs []string
}

func (p palletLoad) caseIDs() []string {
	var out []string
	for _, c := range p.cases {
		out = append(out, c.sscc)
	}
	return out
}

// packs returns every pack on the pallet.
func (p palletLoad) packs() []string {
	var out []string
	for _, c := range p.cases {
		out = append(out, c.packs...)
	}
	return append(out, p.loose...)
}

// tags returns every tag a portal sees: the pallet, its cases, its packs.
func (p palletLoad) tags() []string {
	out := []string{p.sscc}
	for _, c := range p.cases {
		out = append(out, c.sscc)
		out = append(out, c.packs...)
	}
	return append(out, p.loose...)
}

// palletize packs packs into cases of perCase (AggregationEvent ADD,
// packing), then the cases and any remainder into a pallet; SSCCs under
// prefix.
func (s *story) palletize(dev string, at time.Time, prefix string, packs []string, perCase int) palletLoad {
	p := palletLoad{sscc: s.newSSCC('3', prefix)}
	for i, grp := range chunk(packs, perCase) {
		if len(grp) < perCase {
			p.loose = grp
			break
		}
		c := caseLoad{sscc: s.newSSCC('1', prefix), packs: grp}
		s.pack(dev, at.Add(time.Duration(i)*45*time.Second), c.sscc, grp)
		p.cases = append(p.cases, c)
	}
	children := append(p.caseIDs(), p.loose...)
	s.pack(dev, at.Add(time.Duration(len(p.cases))*45*time.Second+20*time.Second), p.sscc, children)
	return p
}

// unpack publishes the unpacking of a pallet and its cases (AggregationEvent
// DELETE, unpacking).
func (s *story) unpack(dev string, at time.Time, p palletLoad, subKey string) {
	s.aggregation(dev, at, "DELETE", p.sscc, append(p.caseIDs(), p.loose...), "unpacking", "in_progress", subKey, "")
	for i, c := range p.cases {
		s.aggregation(dev, at.Add(time.Duration(i+1)*30*time.Second), "DELETE", c.sscc, c.packs, "unpacking", "in_progress", subKey, "")
	}
}

const vaccineStory = `Meridian's Hamburg plant commissions a vaccine lot (48 cartons) and a lot of red blood cells (24 units), packs them in cases onto two pallets and ships them to North Warehouse Hanover, where the dock-in reader (Impinj) receives them and they are put away in cold room 1 (4 °C). A logger rides on the vaccine pallet; its clock runs 90 s fast. About three hours in, the pallets leave through the dock-out reader (Zebra FX) and are loaded into reefer truck REEFER7 (AggregationEvent ADD, parent urn:epc:id:giai:4012345.REEFER7, loading). Forty minutes into the three-hour drive to City General Hospital Berlin the reefer's compressor fails: the cargo air warms towards the 25 °C outside with a time constant of an hour, passing 6 °C (the blood's limit) after a few minutes and 8 °C (the vaccine's) after about a quarter of an hour, and stays above for the rest of the drive. Between one and one and a half hours into the drive the reefer logger loses its link and publishes nothing; on reconnecting it bursts out the buffered readings in order. At the hospital the pallets are unloaded (AggregationEvent DELETE, unloading), read at the receiving dock, unpacked and stored in the pharmacy cold room. Expected: temperature-high excursions of both lots on the reefer logger and of the vaccine on the pallet logger, each far longer than the 30-minute single-excursion limit, so both lots are quarantined.`

func buildVaccine(s *story) error {
	s.site(SitePlant)
	s.site(SiteWH1)
	s.site(SiteHospital)
	s.site(SiteReefer)
	s.scanner(SitePlant, DevPlantPack)
	s.reader(SitePlant, DevPlantDockOut, FormatDefault, SubDockOut, "shipping", "in_transit")
	s.reader(SiteWH1, DevWH1DockIn, FormatImpinj, SubDockIn, "receiving", "in_progress")
	s.reader(SiteWH1, DevWH1DockOut, FormatZebraFX, SubDockOut, "shipping", "in_transit")
	s.logger(SiteWH1, DevWH1ColdRoom, SubColdRoom, nil, "")
	s.scanner(SiteWH1, DevWH1Handheld)
	s.scanner(SiteWH1, DevWH1Pack)
	s.logger(SiteReefer, DevReeferLogger, SubCargo, []string{ReeferGIAI}, "")
	s.reader(SiteHospital, DevHospDock, FormatDefault, SubReceiving, "receiving", "in_progress")
	s.scanner(SiteHospital, DevHospHandheld)
	s.logger(SiteHospital, DevHospPharmCold, SubPharmacy, nil, "")

	vx := s.lot(ScenarioVaccineGTIN, "VX", 48, 540*24*time.Hour)
	rbc := s.lot(ScenarioRBCGTIN, "RBC", 24, 42*24*time.Hour)
	m := func(min float64) time.Time { return s.t(time.Duration(min * float64(time.Minute))) }

	// Plant: commission, pack, ship.
	vxPacks := s.commission(DevPlantPack, m(5), vx, vx.Serials)
	rbcPacks := s.commission(DevPlantPack, m(6), rbc, rbc.Serials)
	pv := s.palletize(DevPlantPack, m(10), "0614141", vxPacks, 12)
	pr := s.palletize(DevPlantPack, m(16), "0614141", rbcPacks, 12)
	// The pallet logger is attached to the vaccine pallet once it exists.
	s.logger(SiteWH1, DevPalletLogger, SubColdRoom, []string{pv.sscc}, "")
	s.rfidPass(DevPlantDockOut, m(20).Add(jit(s, 30)), pv.tags(), "")
	s.rfidPass(DevPlantDockOut, m(22).Add(jit(s, 30)), pr.tags(), "")

	// wh1: receive, store in the cold room.
	s.rfidPass(DevWH1DockIn, m(90).Add(jit(s, 30)), pv.tags(), "")
	s.rfidPass(DevWH1DockIn, m(92).Add(jit(s, 30)), pr.tags(), "")
	s.objectEvent(DevWH1Handheld, m(95), []string{pv.sscc, pr.sscc}, "receiving", "in_progress", SubDockIn, "", "")
	stored := m(100)
	s.objectEvent(DevWH1Handheld, stored, []string{pv.sscc, pr.sscc}, "storing", "in_progress", SubColdRoom, "", "")

	// wh1: ship, load into the reefer.
	s.rfidPass(DevWH1DockOut, m(160).Add(jit(s, 30)), pv.tags(), "")
	s.rfidPass(DevWH1DockOut, m(162).Add(jit(s, 30)), pr.tags(), "")
	load := m(165)
	s.aggregation(DevWH1Pack, load, "ADD", ReeferGIAI, []string{pv.sscc, pr.sscc}, "loading", "in_transit", SubDockOut, "")

	// The drive: compressor fails 40 min in; logger offline 60–90 min in.
	fail := load.Add(40 * time.Minute)
	unload := load.Add(3 * time.Hour)
	coldRoom := s.runLogger(loggerSpec{dev: DevWH1ColdRoom, from: m(0), to: m(180), interval: 5 * time.Minute,
		env:     withDoors(constant(4, 40*time.Minute), 18, []window{{stored.Add(-time.Minute), stored}}),
		initial: 4, noise: 0.1, humidity: 62, battery: 88})
	reefer := s.runLogger(loggerSpec{dev: DevReeferLogger, from: m(140), to: m(360), interval: time.Minute,
		env: func(t time.Time) (float64, time.Duration) {
			if !t.Before(fail) {
				return 25, time.Hour
			}
			return 4, 15 * time.Minute
		},
		initial: 4.5, noise: 0.05, battery: 71,
		offline: []window{{load.Add(60 * time.Minute), load.Add(90 * time.Minute)}}})

	// Hospital: unload, receive, unpack, store in the pharmacy.
	s.aggregation(DevHospHandheld, unload, "DELETE", ReeferGIAI, []string{pv.sscc, pr.sscc}, "unloading", "in_progress", SubReceiving, "")
	s.rfidPass(DevHospDock, unload.Add(2*time.Minute), pv.tags(), "")
	s.rfidPass(DevHospDock, unload.Add(3*time.Minute), pr.tags(), "")
	s.objectEvent(DevHospHandheld, unload.Add(5*time.Minute), []string{pv.sscc, pr.sscc}, "receiving", "in_progress", SubReceiving, "", "")
	s.unpack(DevHospHandheld, unload.Add(6*time.Minute), pv, SubPharmacy)
	s.unpack(DevHospHandheld, unload.Add(9*time.Minute), pr, SubPharmacy)
	inPharmacy := unload.Add(12 * time.Minute)
	s.objectEvent(DevHospHandheld, inPharmacy, append(pv.packs(), pr.packs()...), "storing", "in_progress", SubPharmacy, "", "")
	pharmacy := s.runLogger(loggerSpec{dev: DevHospPharmCold, from: m(300), to: m(360), interval: 5 * time.Minute,
		env: constant(4, 30*time.Minute), initial: 4, noise: 0.1, humidity: 45, battery: 93})

	// The pallet logger follows the air around the pallet, with its own lag.
	s.runLogger(loggerSpec{dev: DevPalletLogger, from: m(12), to: m(358), interval: 2 * time.Minute,
		env: func(t time.Time) (float64, time.Duration) {
			switch {
			case t.Before(stored):
				return 5, 30 * time.Minute // insulated shipper to wh1
			case t.Before(load):
				return coldRoom.at(t), 30 * time.Minute
			case t.Before(unload):
				return reefer.at(t), 30 * time.Minute
			default:
				return pharmacy.at(t), 30 * time.Minute
			}
		},
		initial: 5, noise: 0.1, battery: 64, skew: 90 * time.Second})

	for _, l := range []*ScenarioLot{vx, rbc} {
		s.expose(DevWH1ColdRoom, l, stored, load)
		s.expose(DevReeferLogger, l, load, unload)
		s.expose(DevHospPharmCold, l, inPharmacy, m(360))
		s.custodyKeys = append(s.custodyKeys, s.packs(l, l.Serials[:1])...)
	}
	// The logger rides on the pallet: the cases leave it when the pallet is
	// unpacked at the hospital.
	s.expose(DevPalletLogger, vx, m(12), unload.Add(6*time.Minute))
	return nil
}

// jit returns a random delay of up to sec seconds.
func jit(s *story, sec int) time.Duration { return s.jitter(time.Duration(sec) * time.Second) }
