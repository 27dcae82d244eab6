package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// A Scenario is a named, seeded, repeatable story told by the simulated
// devices: the master data a runner registers (sites, products, lots,
// devices), every MQTT message in publish order with its virtual publish
// time, the ledger actions to perform on the way (a regulator's recall),
// and the outcome the system should reach, written down from the generated
// data itself. The same (name, seed, start) gives byte-identical payloads.
type Scenario struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Story says what happens, in prose, for docs and `tracegate sim --list`.
	Story string `json:"story"`
	Seed  uint64 `json:"seed"`
	// Start is the virtual time of the first message; Duration the span
	// of the story (the last message is at or before Start+Duration).
	Start    time.Time         `json:"start"`
	Duration time.Duration     `json:"duration"`
	Sites    []Site            `json:"sites"`
	Products []ScenarioProduct `json:"products"`
	Lots     []ScenarioLot     `json:"lots"`
	// Devices have ID (also the MQTT username and client ID), Kind, Site
	// and Format set; passwords come from the runner.
	Devices []Device `json:"devices"`
	// Messages in publish order; per device their At never decreases.
	Messages []Message `json:"messages"`
	// Actions are performed once every message with At <= Action.At was
	// published and acknowledged.
	Actions []Action `json:"actions,omitempty"`
	// Orgs are organisations beyond the demo consortium the runner
	// registers first.
	Orgs     []ScenarioOrg `json:"orgs,omitempty"`
	Expected Expected      `json:"expected"`
}

// Site is the master data of one site: the topic site ID, its owner, its
// GLN and SGLN locations, and how the edge maps its readers and sensors.
type Site struct {
	ID        string        `json:"id"` // topic site
	Org       string        `json:"org"`
	Name      string        `json:"name"`
	Kind      string        `json:"kind"`
	Address   string        `json:"address,omitempty"`
	Country   string        `json:"country"`
	Lat       float64       `json:"lat"`
	Lon       float64       `json:"lon"`
	GLN       string        `json:"gln"`      // 13 digits
	Location  string        `json:"location"` // SGLN URI of the whole site (extension 0)
	Locations []SubLocation `json:"locations"`
	// Readers and Sensors are keyed by device ID.
	Readers map[string]ReaderMap `json:"readers,omitempty"`
	Sensors map[string]SensorMap `json:"sensors,omitempty"`
}

// SubLocation is a place inside a site: an SGLN with the site's GLN and
// its own extension.
type SubLocation struct {
	ID   string `json:"id"`  // SGLN URI
	Key  string `json:"key"` // short name, the custody step "site/key"
	Name string `json:"name"`
	Kind string `json:"kind"` // dock, cold-room, storage, packing, pharmacy, ward, vehicle
}

// ReaderMap is how the edge turns an RFID reader's reads into events.
type ReaderMap struct {
	ReadPoint   string `json:"readPoint"`
	BizLocation string `json:"bizLocation"`
	BizStep     string `json:"bizStep"`
	Disposition string `json:"disposition"`
	Format      string `json:"format"`
}

// SensorMap is how the edge turns a logger's samples into events: where
// it is and what it watches (a truck's GIAI, a pallet's SSCC; none for a
// room, whose contents are what is stored there).
type SensorMap struct {
	ReadPoint   string   `json:"readPoint"`
	BizLocation string   `json:"bizLocation"`
	EPCs        []string `json:"epcs,omitempty"`
	DeviceID    string   `json:"deviceID"`
	Unit        string   `json:"unit,omitempty"` // "F" when the logger reports Fahrenheit
}

// ScenarioProduct is a trade item with its storage profile (nil: no limit).
type ScenarioProduct struct {
	GTIN                      string   `json:"gtin"`
	PrefixLength              int      `json:"prefixLength"`
	Name                      string   `json:"name"`
	Kind                      string   `json:"kind"`
	Org                       string   `json:"org"`
	MinC                      *float64 `json:"minC,omitempty"`
	MaxC                      *float64 `json:"maxC,omitempty"`
	MaxHumidity               *float64 `json:"maxHumidity,omitempty"`
	MaxSingleExcursionMin     *float64 `json:"maxSingleExcursionMin,omitempty"`
	MaxCumulativeExcursionMin *float64 `json:"maxCumulativeExcursionMin,omitempty"`
	MKTMaxC                   *float64 `json:"mktMaxC,omitempty"`
}

// ScenarioLot is a production lot; Serials are commissioned by the
// manufacturer's packing station in Messages.
type ScenarioLot struct {
	GTIN     string   `json:"gtin"`
	Lot      string   `json:"lot"`
	Produced string   `json:"produced"` // YYYY-MM-DD
	Expiry   string   `json:"expiry"`   // YYYY-MM-DD
	Serials  []uint64 `json:"serials"`
}

// Message is one MQTT publish.
type Message struct {
	At      time.Time `json:"at"` // virtual publish time
	Device  string    `json:"device"`
	Topic   string    `json:"topic"`
	Payload []byte    `json:"payload"`
	// Note marks deliberate faults and bad input: "duplicate", "burst after
	// offline", "out-of-order", "skew +90s", "counterfeit" …
	Note string `json:"note,omitempty"`
}

// Action kinds: a regulator's recall, and the donation steps of a
// hospital (request), a charity (pledge, pledge-receipt, allocate, ship).
const (
	ActionRecall        = "recall"
	ActionRequest       = "donation-request"
	ActionPledge        = "pledge"
	ActionPledgeReceipt = "pledge-receipt"
	ActionAllocate      = "allocate"
	ActionShip          = "ship"
)

// Action is a ledger action the runner performs once every message up to
// At was published. Org acts (as its admin). Donation actions name their
// records by Ref, and the records they refer to by Refs (an allocation's
// requests; the pledge received; the allocation shipped).
type Action struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Org    string    `json:"org"`
	GTIN   string    `json:"gtin,omitempty"`
	Lot    string    `json:"lot,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Class  string    `json:"class,omitempty"`

	Ref          string            `json:"ref,omitempty"`
	Refs         []string          `json:"refs,omitempty"`
	Hospital     string            `json:"hospital,omitempty"`
	ItemKind     string            `json:"itemKind,omitempty"`
	ItemName     string            `json:"itemName,omitempty"`
	Quantity     int               `json:"quantity,omitempty"`
	Urgency      string            `json:"urgency,omitempty"`
	HospitalRole string            `json:"hospitalRole,omitempty"`
	Pseudonym    string            `json:"pseudonym,omitempty"`
	Donor        map[string]string `json:"donor,omitempty"` // private identity (the charity only)
	ReceiptCode  string            `json:"receiptCode,omitempty"`
	Pallets      []string          `json:"pallets,omitempty"` // SSCC EPC URIs
}

// ScenarioOrg is an organisation a scenario needs beyond the demo
// consortium.
type ScenarioOrg struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
}

// ExpectedDonation is what a hospital's donations come to: requested and
// allocated on the ledger, and how many of the shipped units its receiving
// scans count.
type ExpectedDonation struct {
	Requested int `json:"requested"`
	Allocated int `json:"allocated"`
	Scanned   int `json:"scanned"`
}

// Lot statuses in Expected.LotStatus.
const (
	LotOK          = "ok"
	LotExcursion   = "excursion"
	LotQuarantined = "quarantined"
	LotRecalled    = "recalled"
)

// Suspect reasons.
const (
	SuspectNotCommissioned = "not-commissioned"
	SuspectImpossible      = "impossible-travel"
	SuspectRecalled        = "recalled"
)

// Expected is the outcome the system should reach, computed from the
// generated messages.
type Expected struct {
	Excursions []ExpectedExcursion `json:"excursions"`
	// LotStatus: "gtin/lot" → ok | excursion | quarantined | recalled.
	LotStatus map[string]string `json:"lotStatus"`
	Suspects  []ExpectedSuspect `json:"suspects,omitempty"`
	// RecallHolders: "gtin/lot" → MSP IDs holding packs of it at the recall.
	RecallHolders map[string][]string `json:"recallHolders,omitempty"`
	// SensorFaults: "site/device" of loggers that stick.
	SensorFaults []string `json:"sensorFaults,omitempty"`
	// Custody: an EPC or "gtin/lot" → the custody steps it passes
	// through, in order: site IDs, or "site/key" for a ward or pharmacy
	// it is dispensed to.
	Custody map[string][]string `json:"custody"`
	// DeadLetters: deliberate undecodable inputs by reason.
	DeadLetters map[string]int `json:"deadLetters,omitempty"`
	// Anomalies: EPCs of well-formed events the gateway must flag (an
	// unpacking of a pallet that was never packed).
	Anomalies []string `json:"anomalies,omitempty"`
	// Faults counts the deliberate delivery faults in Messages by note.
	Faults map[string]int `json:"faults,omitempty"`
	// Donations: hospital org → requested, allocated and scanned units.
	Donations map[string]ExpectedDonation `json:"donations,omitempty"`
}

// ExpectedExcursion is one out-of-range episode of one lot on one sensor:
// from the first to the last out-of-range reading the sensor published
// (payload timestamps as published, clock skew included) while the lot
// was in its care.
type ExpectedExcursion struct {
	GTIN   string    `json:"gtin"`
	Lot    string    `json:"lot"`
	Sensor string    `json:"sensor"` // "site/device"
	Kind   string    `json:"kind"`   // temperature-high | temperature-low | humidity-high
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Interval is the sensor's sampling interval.
	Interval time.Duration `json:"interval"`
	// Readings are every published reading of the sensor from Start to End
	// (deduplicated, in time order), in °C (or %RH for humidity-high).
	Readings []ExpReading `json:"readings"`
	// Peak is the highest (lowest for temperature-low) value.
	Peak float64 `json:"peak"`
}

// Minutes is End-Start in minutes.
func (e ExpectedExcursion) Minutes() float64 { return e.End.Sub(e.Start).Minutes() }

// ExpReading is one reading of an expected excursion.
type ExpReading struct {
	At time.Time `json:"at"`
	C  float64   `json:"c"`
}

// ExpectedSuspect is a pack the gateway must flag.
type ExpectedSuspect struct {
	EPC    string `json:"epc"`
	Reason string `json:"reason"`
	Site   string `json:"site"` // where it was flagged
}

// ScenarioInfo names and describes a scenario.
type ScenarioInfo struct {
	Name, Title, Story string
	Duration           time.Duration
}

type scenarioDef struct {
	info  ScenarioInfo
	build func(s *story) error
}

var scenarioDefs = []scenarioDef{
	{ScenarioInfo{Name: "mask-warehouse-day", Title: "A day at North Warehouse Hanover (N95 masks)", Duration: 16 * time.Hour, Story: maskDayStory}, buildMaskDay},
	{ScenarioInfo{Name: "vaccine-reefer-failure", Title: "Reefer compressor failure on the way to City General", Duration: 6 * time.Hour, Story: vaccineStory}, buildVaccine},
	{ScenarioInfo{Name: "counterfeit-distributor", Title: "Counterfeit and recalled N95 packs at the Munich distribution centre", Duration: 11 * time.Hour, Story: counterfeitStory}, buildCounterfeit},
	{ScenarioInfo{Name: "hospital-donated-masks", Title: "Donated N95 masks from Helping Hands to Ward 3", Duration: 9 * time.Hour, Story: donatedStory}, buildDonated},
	{ScenarioInfo{Name: "donations-2020", Title: "16,000 N95 masks for the fever hospital, 3,000 for the clinic", Duration: 10 * time.Hour, Story: donations2020Story}, buildDonations2020},
}

// Scenarios lists the scenarios BuildScenario knows.
func Scenarios() []ScenarioInfo {
	out := make([]ScenarioInfo, len(scenarioDefs))
	for i, d := range scenarioDefs {
		out[i] = d.info
	}
	return out
}

// ScenarioNames lists the scenario names.
func ScenarioNames() []string {
	var out []string
	for _, d := range scenarioDefs {
		out = append(out, d.info.Name)
	}
	return out
}

// ErrUnknownScenario is wrapped by BuildScenario for a name it does not know.
var ErrUnknownScenario = errors.New("unknown scenario")

// BuildScenario generates the named scenario. start is the virtual time of
// its first message (callers pass e.g. now minus the scenario's Duration
// so the story ends about now); it is truncated to the millisecond.
func BuildScenario(name string, seed uint64, start time.Time) (*Scenario, error) {
	i := slices.IndexFunc(scenarioDefs, func(d scenarioDef) bool { return d.info.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w %q: known scenarios are %s", ErrUnknownScenario, name, strings.Join(ScenarioNames(), ", "))
	}
	d := scenarioDefs[i]
	start = start.UTC().Truncate(time.Millisecond)
	h := fnv.New64a()
	h.Write([]byte(name))
	sc := &Scenario{Name: d.info.Name, Title: d.info.Title, Story: d.info.Story, Seed: seed, Start: start, Duration: d.info.Duration}
	s := newStory(sc, rand.New(rand.NewPCG(seed, h.Sum64())))
	if err := d.build(s); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	if err := s.finish(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	return sc, nil
}
