package sim

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"time"
)

const donations2020Story = `The 2020 story, told so that it can be checked. City General Hospital, the designated fever hospital, asks Helping Hands for 16,000 N95 masks (160 cartons of 100, critical); Riverside Clinic, which takes no fever patients, asks for 3,000 (30 cartons, normal). Meridian pledges 150 cartons and an anonymous donor 40 (the donor's identity is kept by the charity only). Meridian commissions one lot of 190 cartons, packs them on six pallets (four of 40, two of 15) and ships them to the Helping Hands depot, which receives them; the charity confirms both pledges received, allocates 160 cartons to City General and 30 to the clinic, each with its stated reason and the request it answers, and ships the pallets. City General's dock and handheld receive all four pallets and 40 cartons go on to Ward 3 (fever); the clinic receives one of its two pallets (15 cartons): the other never arrives. Expected: requested 160/30, allocated 160/30, scanned 160/15; the hospitals confirm what their scans counted in the portal (City General in full, the clinic 15 short), and every donor's receipt code shows where their cartons went.`

// Device IDs of the donations-2020 story (beside the donated-masks ones).
const (
	DevClinicDock     = "clinic-dock"     // clinic: receiving reader
	DevClinicHandheld = "clinic-handheld" // clinic: handheld
)

// receiptCode derives a donor's receipt code from the scenario's seed and
// the pledge's reference, so that a replay gives the same codes (a real
// charity gives each donor a random one).
func (s *story) receiptCode(ref string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%s", s.sc.Name, s.sc.Seed, ref))
	c := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:10])
	return "TG-" + c[:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
}

func buildDonations2020(s *story) error {
	for _, id := range []string{SitePlant, SiteDepot, SiteHospital, SiteClinic} {
		s.site(id)
	}
	s.sc.Orgs = append(s.sc.Orgs, ScenarioOrg{ID: OrgClinic, Name: "Riverside Clinic", Kind: "hospital", Country: "DE"})
	s.scanner(SitePlant, DevPlantPack)
	s.reader(SitePlant, DevPlantDockOut, FormatDefault, SubDockOut, "shipping", "in_transit")
	s.reader(SiteDepot, DevDepotDock, FormatDefault, SubDockIn, "", "")
	s.scanner(SiteDepot, DevDepotHandheld)
	s.reader(SiteHospital, DevHospDock, FormatDefault, SubReceiving, "receiving", "in_progress")
	s.scanner(SiteHospital, DevHospHandheld)
	s.reader(SiteClinic, DevClinicDock, FormatDefault, SubReceiving, "receiving", "in_progress")
	s.scanner(SiteClinic, DevClinicHandheld)

	m := func(min float64) time.Time { return s.t(time.Duration(min * float64(time.Minute))) }
	const item, itemName = "n95-mask", "N95 respirator, carton of 100"
	act := func(min float64, a Action) {
		a.At = m(min)
		s.sc.Actions = append(s.sc.Actions, a)
	}
	lot := s.lot(ScenarioMaskCartonGTIN, "DN", 190, 5*365*24*time.Hour)

	// The requests and the pledges.
	act(0, Action{Kind: ActionRequest, Org: OrgHospital, Ref: "req-fever", ItemKind: item, ItemName: itemName, GTIN: lot.GTIN, Quantity: 160,
		Urgency: "critical", HospitalRole: "designated-fever-hospital", Reason: "Fever wards run out of N95 masks within three days."})
	act(2, Action{Kind: ActionRequest, Org: OrgClinic, Ref: "req-clinic", ItemKind: item, ItemName: itemName, GTIN: lot.GTIN, Quantity: 30,
		Urgency: "normal", HospitalRole: "general-clinic", Reason: "Stock for outpatient staff."})
	act(4, Action{Kind: ActionPledge, Org: OrgCharity, Ref: "pledge-meridian", Pseudonym: "Meridian Medical", ItemKind: item, ItemName: itemName,
		GTIN: lot.GTIN, Quantity: 150, ReceiptCode: s.receiptCode("pledge-meridian")})
	act(6, Action{Kind: ActionPledge, Org: OrgCharity, Ref: "pledge-anon", Pseudonym: "Anonymous donor 7", ItemKind: item, ItemName: itemName,
		GTIN: lot.GTIN, Quantity: 40, ReceiptCode: s.receiptCode("pledge-anon"),
		Donor: map[string]string{"name": "Erika Mustermann", "email": "erika@example.org"}})

	// The plant makes and ships the cartons.
	cartons := s.commission(DevPlantPack, m(10), lot, lot.Serials)
	var pallets []palletLoad
	for i, grp := range [][]string{cartons[0:40], cartons[40:80], cartons[80:120], cartons[120:160], cartons[160:175], cartons[175:190]} {
		pallets = append(pallets, s.palletize(DevPlantPack, m(15+5*float64(i)), "0614141", grp, 5))
	}
	ssccs := func(ps []palletLoad) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.sscc)
		}
		return out
	}
	var all []string
	for _, p := range pallets {
		all = append(all, p.tags()...)
	}
	s.rfidPass(DevPlantDockOut, m(60).Add(jit(s, 30)), all, "")

	// The depot receives them; the charity confirms the pledges.
	s.rfidPass(DevDepotDock, m(240).Add(jit(s, 30)), all, "")
	s.objectEvent(DevDepotHandheld, m(250), ssccs(pallets), "receiving", "in_progress", SubDockIn, "", "")
	s.objectEvent(DevDepotHandheld, m(255), ssccs(pallets), "storing", "in_progress", SubStorage, "", "")
	act(270, Action{Kind: ActionPledgeReceipt, Org: OrgCharity, Refs: []string{"pledge-meridian"}, Quantity: 150})
	act(272, Action{Kind: ActionPledgeReceipt, Org: OrgCharity, Refs: []string{"pledge-anon"}, Quantity: 40})

	// Allocation with stated reasons, then shipping.
	act(290, Action{Kind: ActionAllocate, Org: OrgCharity, Ref: "alloc-fever", Hospital: OrgHospital, Refs: []string{"req-fever"},
		ItemKind: item, ItemName: itemName, GTIN: lot.GTIN, Quantity: 160,
		Reason: "Designated fever hospital, critical request: its full 160 cartons (16,000 masks) first."})
	act(292, Action{Kind: ActionAllocate, Org: OrgCharity, Ref: "alloc-clinic", Hospital: OrgClinic, Refs: []string{"req-clinic"},
		ItemKind: item, ItemName: itemName, GTIN: lot.GTIN, Quantity: 30,
		Reason: "General clinic, normal urgency: the remaining 30 cartons after the fever hospital."})
	fever, clinic := pallets[:4], pallets[4:]
	s.objectEvent(DevDepotHandheld, m(360), ssccs(fever), "shipping", "in_transit", SubDockIn, "", "")
	s.objectEvent(DevDepotHandheld, m(362), ssccs(clinic), "shipping", "in_transit", SubDockIn, "", "")
	s.rfidPass(DevDepotDock, m(364).Add(jit(s, 30)), all, "")
	act(366, Action{Kind: ActionShip, Org: OrgCharity, Refs: []string{"alloc-fever"}, Pallets: ssccs(fever), GTIN: lot.GTIN, Lot: lot.Lot, Quantity: 160})
	act(367, Action{Kind: ActionShip, Org: OrgCharity, Refs: []string{"alloc-clinic"}, Pallets: ssccs(clinic), GTIN: lot.GTIN, Lot: lot.Lot, Quantity: 30})

	// City General receives all four pallets; 40 cartons go to Ward 3.
	var feverTags []string
	for _, p := range fever {
		feverTags = append(feverTags, p.tags()...)
	}
	s.rfidPass(DevHospDock, m(420).Add(jit(s, 30)), feverTags, "")
	s.objectEvent(DevHospHandheld, m(428), ssccs(fever), "receiving", "in_progress", SubReceiving, "", "")
	for i, p := range fever {
		s.unpack(DevHospHandheld, m(435+5*float64(i)), p, SubReceiving)
	}
	ward := cartons[:40]
	for i, g := range chunk(ward, 10) {
		s.objectEvent(DevHospHandheld, m(480+5*float64(i)), g, "dispensing", "dispensed", SubWard3, SiteHospital+"/"+SubWard3, "")
	}
	// The clinic receives one of its two pallets.
	s.rfidPass(DevClinicDock, m(540).Add(jit(s, 30)), clinic[0].tags(), "")
	s.objectEvent(DevClinicHandheld, m(546), []string{clinic[0].sscc}, "receiving", "in_progress", SubReceiving, "", "")
	s.unpack(DevClinicHandheld, m(550), clinic[0], SubReceiving)
	s.custodyKeys = append(s.custodyKeys, ward[0], cartons[160], cartons[175])

	s.sc.Expected.Donations = map[string]ExpectedDonation{
		OrgHospital: {Requested: 160, Allocated: 160, Scanned: 160},
		OrgClinic:   {Requested: 30, Allocated: 30, Scanned: 15},
	}
	for _, a := range s.sc.Actions {
		if a.Kind == ActionPledge && !strings.HasPrefix(a.ReceiptCode, "TG-") {
			return fmt.Errorf("pledge %s has no receipt code", a.Ref)
		}
	}
	return nil
}
