package sim

import "time"

// The demo catalogue: one warehouse site and the goods its devices read.
// Goods use GS1's example company prefix 0614141 and the warehouse's
// locations its example prefix 4012345 (both 7 digits), so the identifiers
// are valid GS1 keys that belong to no real company. Other
// components seed the same products, lots and pallets from these values.
const (
	DemoCompanyPrefix       = "0614141"
	DemoCompanyPrefixLength = 7
	DemoSite                = "wh1"
	// DemoWarehousePrefix is the warehouse operator's GS1 company prefix
	// (another of GS1's example prefixes): its locations are its own.
	DemoWarehousePrefix = "4012345"
	// DemoSiteGLN is the GLN of warehouse wh1 (location reference 00001).
	DemoSiteGLN = "4012345000016"
	// DemoBizLocation is wh1 as an EPCIS business location.
	DemoBizLocation = "urn:epc:id:sgln:4012345.00001.0"
)

// GTINs of the demo products.
const (
	// DemoN95GTIN is a box of 20 N95 respirators.
	DemoN95GTIN = "00614141100019"
	// DemoVaccineGTIN is a carton of 10 vaccine vials (2–8 °C).
	DemoVaccineGTIN = "00614141200016"
)

// Lot numbers of the demo lots.
const (
	DemoN95LotA    = "N95-2611-A"
	DemoN95LotB    = "N95-2611-B"
	DemoVaccineLot = "VX-2611-01"
)

// Demo device IDs, all at DemoSite.
const (
	DemoDockIn   = "dock-in-1"  // RFID portal at the receiving dock door
	DemoDockOut  = "dock-out-1" // RFID portal at the shipping dock door
	DemoColdRoom = "coldroom-1" // logger in the vaccine cold room
	DemoReefer   = "reefer-1"   // logger in a refrigerated trailer at the dock
	DemoHandheld = "handheld-1" // handheld scanner at receiving and picking
)

// DemoDeviceIDs lists the demo devices in DemoConfig order.
func DemoDeviceIDs() []string {
	return []string{DemoDockIn, DemoDockOut, DemoColdRoom, DemoReefer, DemoHandheld}
}

// DemoReadPoint returns the SGLN read point of a demo device at wh1.
func DemoReadPoint(deviceID string) string {
	return "urn:epc:id:sgln:4012345.00001." + deviceID
}

// DemoProducts returns the demo products.
func DemoProducts() []Product {
	return []Product{
		{GTIN: DemoN95GTIN, CompanyPrefixLength: DemoCompanyPrefixLength, Name: "N95 respirator, box of 20"},
		{GTIN: DemoVaccineGTIN, CompanyPrefixLength: DemoCompanyPrefixLength, Name: "Vaccine, carton of 10 vials (2–8 °C)"},
	}
}

// DemoLots returns the demo lots with their serial ranges and pallets
// (24 items each, SSCCs with extension digit 3).
func DemoLots() []Lot {
	return []Lot{
		{GTIN: DemoN95GTIN, Lot: DemoN95LotA, Expiry: "2031-10-31", SerialFirst: 1001, SerialLast: 1096, Pallets: []Pallet{
			{SSCC: "306141410000000013", SerialFirst: 1001, SerialLast: 1024},
			{SSCC: "306141410000000020", SerialFirst: 1025, SerialLast: 1048},
			{SSCC: "306141410000000037", SerialFirst: 1049, SerialLast: 1072},
			{SSCC: "306141410000000044", SerialFirst: 1073, SerialLast: 1096},
		}},
		{GTIN: DemoN95GTIN, Lot: DemoN95LotB, Expiry: "2031-11-30", SerialFirst: 2001, SerialLast: 2048, Pallets: []Pallet{
			{SSCC: "306141410000000051", SerialFirst: 2001, SerialLast: 2024},
			{SSCC: "306141410000000068", SerialFirst: 2025, SerialLast: 2048},
		}},
		{GTIN: DemoVaccineGTIN, Lot: DemoVaccineLot, Expiry: "2027-05-31", SerialFirst: 5001, SerialLast: 5048, Pallets: []Pallet{
			{SSCC: "306141410000000075", SerialFirst: 5001, SerialLast: 5024},
			{SSCC: "306141410000000082", SerialFirst: 5025, SerialLast: 5048},
		}},
	}
}

// DemoConfig returns the demo fleet of `tracegate up`: at warehouse wh1,
// RFID portals at the receiving and shipping dock doors (the second
// publishing batched arrays), loggers in the vaccine cold room and in a
// reefer, and a handheld scanner. creds maps device IDs to passwords; the
// username of each device is its ID.
func DemoConfig(brokerAddr string, creds map[string]string) Config {
	dockIn := DefaultRFIDConfig()
	dockOut := DefaultRFIDConfig()
	dockOut.Batch = true
	coldRoom := DefaultSensorConfig()
	coldRoom.Ambient = 18 // the warehouse around it
	reefer := DefaultSensorConfig()
	reefer.Ambient = 30 // a yard in summer
	reefer.TimeConstant = 10 * time.Minute
	reefer.DoorOpenChance = 0.005
	reefer.Humidity = 0 // temperature-only logger
	scanner := DefaultScannerConfig()
	scanner.ReadPoint = DemoReadPoint(DemoHandheld)
	scanner.BizLocation = DemoBizLocation
	dev := func(id, kind string, every time.Duration) Device {
		return Device{ID: id, Kind: kind, Site: DemoSite, Username: id, Password: creds[id], Interval: every}
	}
	in := dev(DemoDockIn, KindRFID, 20*time.Second)
	in.RFID = &dockIn
	out := dev(DemoDockOut, KindRFID, 45*time.Second)
	out.RFID = &dockOut
	cr := dev(DemoColdRoom, KindSensor, 30*time.Second)
	cr.Sensor = &coldRoom
	rf := dev(DemoReefer, KindSensor, time.Minute)
	rf.Sensor = &reefer
	hh := dev(DemoHandheld, KindScanner, 5*time.Second)
	hh.Scanner = &scanner
	return Config{
		Broker:   brokerAddr,
		Seed:     2020,
		Rate:     1,
		Products: DemoProducts(),
		Lots:     DemoLots(),
		Devices:  []Device{in, out, cr, rf, hh},
	}
}
