package sim

import (
	"fmt"
	"strconv"

	"github.com/tracegate/tracegate/edge/epc"
)

// The scenarios' shared topology: the demo consortium's sites, each with
// a GLN under one of GS1's example company prefixes (check digits computed
// with edge/epc), and the products they handle.

// Organisation MSP IDs of the demo consortium (gateway/demo has the same;
// the simulator does not import the gateway).
const (
	OrgManufacturer = "MeridianMSP"
	OrgWarehouse    = "NorthWarehouseMSP"
	OrgCharity      = "HelpingHandsMSP"
	OrgHospital     = "CityHospitalMSP"
	OrgInsurer      = "SafeCoverMSP"
	OrgRegulator    = "RegulatorMSP"
	// OrgClinic is a second hospital, beyond the demo consortium (the
	// donations-2020 scenario registers it: Scenario.Orgs).
	OrgClinic = "RiversideClinicMSP"
)

// Topic site IDs of the scenarios' sites.
const (
	SitePlant    = "plant"    // Meridian plant, Hamburg
	SiteWH1      = "wh1"      // North Warehouse, Hanover
	SiteWH2      = "wh2"      // North distribution centre, Munich
	SiteDepot    = "depot"    // Helping Hands depot, Berlin
	SiteHospital = "hospital" // City General Hospital, Berlin
	SiteReefer   = "reefer7"  // North's reefer truck REEFER7
	SiteClinic   = "clinic"   // Riverside Clinic, Berlin
)

// Scenario product GTINs (company prefix 0614141, check digits computed).
var (
	ScenarioMaskGTIN    = gtin("0614141", "10001") // the demo N95 box
	ScenarioVaccineGTIN = gtin("0614141", "20001")
	ScenarioRBCGTIN     = gtin("0614141", "30001") // red blood cells
	// ScenarioMaskCartonGTIN is a carton of 100 N95 respirators (the
	// donations-2020 story counts masks by the hundred).
	ScenarioMaskCartonGTIN = gtin("0614141", "10002")
)

// ReeferGIAI is the reefer truck as an EPC (an individual asset of North).
const ReeferGIAI = "urn:epc:id:giai:4012345.REEFER7"

// gtin returns the GTIN-14 of an item reference under a company prefix
// (indicator digit 0).
func gtin(prefix, itemRef string) string {
	return withCD("0" + prefix + itemRef)
}

// withCD appends the GS1 check digit.
func withCD(digits string) string {
	cd, err := epc.CheckDigit(digits)
	if err != nil {
		panic(fmt.Sprintf("sim: check digit of %q: %v", digits, err))
	}
	return digits + string(cd)
}

// GLN returns the 13-digit GLN of a location reference under a company
// prefix.
func GLN(prefix, locRef string) string { return withCD(prefix + locRef) }

// SGLN returns the SGLN pure-identity URI of a location with an extension
// ("0" for the whole site).
func SGLN(prefix, locRef, ext string) string {
	return "urn:epc:id:sgln:" + prefix + "." + locRef + "." + ext
}

// SSCC returns the 18-digit SSCC of an extension digit, company prefix and
// serial reference (padded to fill 17 digits).
func SSCC(ext byte, prefix string, serialRef uint64) string {
	n := 16 - len(prefix)
	s := strconv.FormatUint(serialRef, 10)
	for len(s) < n {
		s = "0" + s
	}
	return withCD(string(ext) + prefix + s)
}

// SSCCURI returns the SSCC pure-identity URI of an 18-digit SSCC whose
// company prefix has prefixLen digits.
func SSCCURI(sscc string, prefixLen int) (string, error) {
	e, err := epc.FromDigitalLink(epc.DigitalLink{SSCC: sscc}, prefixLen)
	if err != nil {
		return "", err
	}
	return e.URI(), nil
}

// SGTINURI returns the SGTIN pure-identity URI of a serialised item.
func SGTINURI(gtin string, prefixLen int, serial uint64) (string, error) {
	e, err := epc.FromDigitalLink(epc.DigitalLink{GTIN: gtin, Serial: strconv.FormatUint(serial, 10)}, prefixLen)
	if err != nil {
		return "", err
	}
	return e.URI(), nil
}

// uriHex returns the 96-bit tag encoding of an SGTIN, SSCC or SGLN URI.
func uriHex(uri string, filter int) (string, error) {
	e, err := epc.ParseURI(uri)
	if err != nil {
		return "", err
	}
	return e.EncodeHex96(filter)
}

// hexURI decodes a tag's hex EPC to its pure-identity URI.
func hexURI(hex string) (string, error) {
	e, err := epc.DecodeHex(hex)
	if err != nil {
		return "", err
	}
	return e.URI(), nil
}

func fp(v float64) *float64 { return &v }

// scenarioProducts returns the three products of the scenarios with their
// storage profiles.
func scenarioProducts() []ScenarioProduct {
	return []ScenarioProduct{
		{GTIN: ScenarioMaskGTIN, PrefixLength: 7, Name: "N95 respirator, box of 20", Kind: "ppe", Org: OrgManufacturer,
			MinC: fp(-20), MaxC: fp(40), MaxHumidity: fp(80)},
		{GTIN: ScenarioMaskCartonGTIN, PrefixLength: 7, Name: "N95 respirator, carton of 100", Kind: "ppe", Org: OrgManufacturer,
			MinC: fp(-20), MaxC: fp(40), MaxHumidity: fp(80)},
		{GTIN: ScenarioVaccineGTIN, PrefixLength: 7, Name: "Vaccine, carton of 10 vials (2–8 °C)", Kind: "vaccine", Org: OrgManufacturer,
			MinC: fp(2), MaxC: fp(8), MaxSingleExcursionMin: fp(30), MaxCumulativeExcursionMin: fp(120), MKTMaxC: fp(8)},
		{GTIN: ScenarioRBCGTIN, PrefixLength: 7, Name: "Red blood cells, unit (2–6 °C)", Kind: "blood", Org: OrgManufacturer,
			MinC: fp(2), MaxC: fp(6), MaxSingleExcursionMin: fp(30), MaxCumulativeExcursionMin: fp(60)},
	}
}

// Sub-location keys (custody steps inside a site: "hospital/ward3").
const (
	SubDockIn     = "dockin"
	SubDockOut    = "dockout"
	SubColdRoom   = "coldroom"
	SubPacking    = "packing"
	SubStorage    = "storage"
	SubPharmacy   = "pharmacy"
	SubWard3      = "ward3"
	SubReceiving  = "receiving"
	SubCargo      = "cargo"
	SubOutpatient = "outpatients"
)

// site builds a site with its sub-locations; ext names become SGLN
// extensions in upper case.
func newSite(id, org, name, kind, address, country string, lat, lon float64, prefix, locRef string, subs ...SubLocation) Site {
	s := Site{ID: id, Org: org, Name: name, Kind: kind, Address: address, Country: country, Lat: lat, Lon: lon,
		GLN: GLN(prefix, locRef), Location: SGLN(prefix, locRef, "0"),
		Readers: map[string]ReaderMap{}, Sensors: map[string]SensorMap{}}
	for _, sub := range subs {
		sub.ID = SGLN(prefix, locRef, upper(sub.Key))
		s.Locations = append(s.Locations, sub)
	}
	return s
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// allSites returns the shared topology (readers and sensors are added by
// each scenario for the devices it uses).
func allSites() map[string]Site {
	return map[string]Site{
		SitePlant: newSite(SitePlant, OrgManufacturer, "Meridian plant Hamburg", "manufacturing-plant", "Billstraße 80, 20539 Hamburg", "DE", 53.55, 9.99, "0614141", "00009",
			SubLocation{Key: SubPacking, Name: "Packing station", Kind: "packing"},
			SubLocation{Key: SubDockOut, Name: "Dock door out", Kind: "dock"}),
		SiteWH1: newSite(SiteWH1, OrgWarehouse, "North Warehouse Hanover", "warehouse", "Expo Plaza 1, 30539 Hannover", "DE", 52.37, 9.73, "4012345", "00001",
			SubLocation{Key: SubDockIn, Name: "Dock door in", Kind: "dock"},
			SubLocation{Key: SubDockOut, Name: "Dock door out", Kind: "dock"},
			SubLocation{Key: SubColdRoom, Name: "Cold room 1 (2–8 °C)", Kind: "cold-room"},
			SubLocation{Key: SubStorage, Name: "Ambient storage", Kind: "storage"},
			SubLocation{Key: SubPacking, Name: "Packing station", Kind: "packing"}),
		SiteWH2: newSite(SiteWH2, OrgWarehouse, "North distribution centre Munich", "distribution-centre", "Landsberger Str. 300, 80687 München", "DE", 48.14, 11.58, "4012345", "00002",
			SubLocation{Key: SubDockIn, Name: "Dock door in", Kind: "dock"},
			SubLocation{Key: SubStorage, Name: "Storage", Kind: "storage"}),
		SiteDepot: newSite(SiteDepot, OrgCharity, "Helping Hands depot Berlin", "depot", "Am Juliusturm 10, 13599 Berlin", "DE", 52.53, 13.20, "4000001", "00001",
			SubLocation{Key: SubDockIn, Name: "Dock door", Kind: "dock"},
			SubLocation{Key: SubStorage, Name: "Donations store", Kind: "storage"}),
		SiteHospital: newSite(SiteHospital, OrgHospital, "City General Hospital Berlin", "hospital", "Alexanderplatz 5, 10178 Berlin", "DE", 52.52, 13.40, "4000002", "00001",
			SubLocation{Key: SubReceiving, Name: "Receiving dock", Kind: "dock"},
			SubLocation{Key: SubPharmacy, Name: "Pharmacy cold room", Kind: "pharmacy"},
			SubLocation{Key: SubWard3, Name: "Ward 3 (fever)", Kind: "ward"}),
		SiteClinic: newSite(SiteClinic, OrgClinic, "Riverside Clinic Berlin", "hospital", "Uferstraße 8, 13357 Berlin", "DE", 52.55, 13.37, "4000004", "00001",
			SubLocation{Key: SubReceiving, Name: "Receiving", Kind: "dock"},
			SubLocation{Key: SubOutpatient, Name: "Outpatient clinic", Kind: "ward"}),
		SiteReefer: newSite(SiteReefer, OrgWarehouse, "Reefer truck REEFER7", "vehicle", "", "DE", 52.37, 9.73, "4012345", "00007",
			SubLocation{Key: SubCargo, Name: "Cargo space", Kind: "vehicle"}),
	}
}

// sub returns the SGLN URI of a site's sub-location by key.
func (s Site) sub(key string) string {
	for _, l := range s.Locations {
		if l.Key == key {
			return l.ID
		}
	}
	panic("sim: site " + s.ID + " has no sub-location " + key)
}
