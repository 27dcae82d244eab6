package ledgertest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"

	"github.com/tracegate/tracegate/ledger"
)

// newGTIN returns a random GTIN-14 with a valid check digit.
func newGTIN() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1e13))
	if err != nil {
		panic(err)
	}
	body := fmt.Sprintf("%013d", n)
	return body + string(rune('0'+checkDigit(body)))
}

// checkDigit is the GS1 mod-10 check digit of body.
func checkDigit(body string) int {
	sum := 0
	for i, w := len(body)-1, 3; i >= 0; i, w = i-1, 4-w {
		sum += int(body[i]-'0') * w
	}
	return (10 - sum%10) % 10
}

// withBadCheckDigit returns gtin with a wrong check digit.
func withBadCheckDigit(gtin string) string {
	d := gtin[13] - '0'
	return gtin[:13] + string(rune('0'+(d+1)%10))
}

func f(v float64) *float64 { return &v }

func newKey() (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return pub, priv
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func testDevices(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	pub, _ := newKey()
	d := ledger.Device{ID: s.id("edge"), Org: mfr, PublicKey: b64(pub), Kind: ledger.DeviceEdge, Site: "Plant 1", Description: "packing line"}

	s.refused("warehouse registers a device for the manufacturer", ledger.Forbidden)(s.c.RegisterDevice(s.ctx(), admin(fx.Warehouse), d))
	s.refused("quality role registers a device", ledger.Forbidden)(s.c.RegisterDevice(s.ctx(), s.quality(mfr), d))
	bad := d
	bad.PublicKey = b64(pub[:31])
	s.refused("31-byte key", ledger.Invalid)(s.c.RegisterDevice(s.ctx(), s.operator(mfr), bad))
	bad.PublicKey = "not base64!"
	s.refused("key not base64", ledger.Invalid)(s.c.RegisterDevice(s.ctx(), s.operator(mfr), bad))
	bad = d
	bad.Kind = "phone"
	s.refused("unknown device kind", ledger.Invalid)(s.c.RegisterDevice(s.ctx(), s.operator(mfr), bad))
	bad = d
	bad.ID = "edge/1"
	s.refused("device id with slash", ledger.Invalid)(s.c.RegisterDevice(s.ctx(), s.operator(mfr), bad))
	if fx.Outsider != "" {
		out := d
		out.Org = fx.Outsider
		s.refused("unregistered org registers a device", ledger.NotFound)(s.c.RegisterDevice(s.ctx(), admin(fx.Outsider), out))
	}

	res := s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), d))
	first := got[ledger.Device](s, "GetDevice")(s.c.Device(s.ctx(), admin(fx.Regulator), d.ID))
	if first.PublicKey != d.PublicKey || first.Org != mfr || first.RegisteredAt.IsZero() {
		t.Fatalf("GetDevice = %+v", first)
	}
	if len(res.Payload) == 0 {
		t.Errorf("RegisterDevice returned no payload")
	}
	s.must(s.c.RegisterDevice(s.ctx(), admin(mfr), d)) // idempotent
	again := got[ledger.Device](s, "GetDevice")(s.c.Device(s.ctx(), admin(fx.Regulator), d.ID))
	if !again.RegisteredAt.Equal(first.RegisteredAt) {
		t.Errorf("idempotent re-registration changed the record: %+v → %+v", first, again)
	}

	other, _ := newKey()
	bad = d
	bad.PublicKey = b64(other)
	s.refused("different key for a registered device", ledger.Conflict)(s.c.RegisterDevice(s.ctx(), s.operator(mfr), bad))
	bad = d
	bad.Org = fx.Warehouse
	s.refused("another org claims the device ID", ledger.Conflict)(s.c.RegisterDevice(s.ctx(), s.operator(fx.Warehouse), bad))
	bad = d
	bad.Kind = ledger.DeviceCapture
	s.refused("kind change", ledger.Conflict)(s.c.RegisterDevice(s.ctx(), s.operator(mfr), bad))

	moved := d
	moved.Site = "Plant 2"
	s.must(s.c.RegisterDevice(s.ctx(), s.operator(mfr), moved))
	if got := got[ledger.Device](s, "GetDevice")(s.c.Device(s.ctx(), admin(fx.Hospital), d.ID)); got.Site != "Plant 2" || got.PublicKey != d.PublicKey {
		t.Errorf("after site change: %+v", got)
	}

	pub2, _ := newKey()
	wd := ledger.Device{ID: s.id("portal"), Org: fx.Warehouse, PublicKey: b64(pub2), Kind: ledger.DeviceCapture}
	s.must(s.c.RegisterDevice(s.ctx(), s.operator(fx.Warehouse), wd))
	mine := got[[]ledger.Device](s, "ListDevices(org)")(s.c.Devices(s.ctx(), admin(fx.Regulator), fx.Warehouse))
	if !slices.ContainsFunc(mine, func(x ledger.Device) bool { return x.ID == wd.ID }) || slices.ContainsFunc(mine, func(x ledger.Device) bool { return x.Org != fx.Warehouse }) {
		t.Errorf("ListDevices(%s) = %+v", fx.Warehouse, mine)
	}
	all := got[[]ledger.Device](s, "ListDevices")(s.c.Devices(s.ctx(), admin(fx.Regulator), ""))
	var ids []string
	for _, x := range all {
		ids = append(ids, x.ID)
	}
	if !slices.Contains(ids, d.ID) || !slices.Contains(ids, wd.ID) || !slices.IsSorted(ids) {
		t.Errorf("ListDevices = %v", ids)
	}
	denied[ledger.Device](s, "unknown device", ledger.NotFound)(s.c.Device(s.ctx(), admin(mfr), s.id("nosuch")))
	if fx.Outsider != "" {
		denied[ledger.Device](s, "outsider reads a device", ledger.Forbidden)(s.c.Device(s.ctx(), admin(fx.Outsider), d.ID))
	}
}

func (s *suite) product() ledger.Product {
	return ledger.Product{GTIN: newGTIN(), Name: "FFP2 mask " + s.run, Org: s.fx.Manufacturer, Kind: "ppe",
		Profile: &ledger.StorageProfile{MinC: f(2), MaxC: f(8), MaxHumidity: f(70), MaxSingleExcursionMin: f(30), MaxCumulativeExcursionMin: f(120), MKTMaxC: f(6)}}
}

func testProducts(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	p := s.product()

	wp := p
	wp.Org = fx.Warehouse
	s.refused("a warehouse registers a product", ledger.Forbidden)(s.c.RegisterProduct(s.ctx(), admin(fx.Warehouse), wp))
	s.refused("warehouse registers the manufacturer's product", ledger.Forbidden)(s.c.RegisterProduct(s.ctx(), admin(fx.Warehouse), p))
	s.refused("hospital-receiver role registers a product", ledger.Forbidden)(s.c.RegisterProduct(s.ctx(), s.other(mfr), p))
	bad := p
	bad.GTIN = withBadCheckDigit(p.GTIN)
	s.refused("GTIN check digit", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))
	bad.GTIN = p.GTIN[:13]
	s.refused("13-digit GTIN", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))
	bad = p
	bad.Profile = &ledger.StorageProfile{MinC: f(8), MaxC: f(2)}
	s.refused("minC above maxC", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))
	bad.Profile = &ledger.StorageProfile{MinC: f(5), MaxC: f(5)}
	s.refused("minC equals maxC", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))
	bad.Profile = &ledger.StorageProfile{MaxHumidity: f(140)}
	s.refused("humidity above 100", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))
	bad.Profile = &ledger.StorageProfile{MaxSingleExcursionMin: f(-1)}
	s.refused("negative excursion", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))
	bad = p
	bad.Kind = "PPE!"
	s.refused("product kind", ledger.Invalid)(s.c.RegisterProduct(s.ctx(), s.quality(mfr), bad))

	s.must(s.c.RegisterProduct(s.ctx(), s.quality(mfr), p))
	s.must(s.c.RegisterProduct(s.ctx(), s.operator(mfr), p)) // idempotent
	changed := p
	changed.Name = "Other name"
	s.refused("changed product", ledger.Conflict)(s.c.RegisterProduct(s.ctx(), admin(mfr), changed))

	back := got[ledger.Product](s, "GetProduct")(s.c.Product(s.ctx(), s.other(fx.Hospital), p.GTIN))
	if back.GTIN != p.GTIN || back.Org != mfr || back.Profile == nil || back.Profile.MaxC == nil || *back.Profile.MaxC != 8 || back.RegisteredAt.IsZero() {
		t.Errorf("GetProduct = %+v", back)
	}
	list := got[[]ledger.Product](s, "ListProducts")(s.c.Products(s.ctx(), admin(fx.Regulator)))
	if !slices.ContainsFunc(list, func(x ledger.Product) bool { return x.GTIN == p.GTIN }) {
		t.Errorf("ListProducts lacks %s", p.GTIN)
	}
	denied[ledger.Product](s, "unknown product", ledger.NotFound)(s.c.Product(s.ctx(), admin(mfr), newGTIN()))
	denied[ledger.Product](s, "bad GTIN query", ledger.Invalid)(s.c.Product(s.ctx(), admin(mfr), "123"))
}

func testLots(s *suite) {
	fx, t := s.fx, s.t
	mfr := fx.Manufacturer
	p := s.product()
	s.must(s.c.RegisterProduct(s.ctx(), admin(mfr), p))
	lot := ledger.Lot{GTIN: p.GTIN, Lot: "L" + s.run, Quantity: 5000, ProducedAt: "2026-11-01", Expiry: "2029-10-31"}

	s.refused("lot of an unknown product", ledger.NotFound)(s.c.RegisterLot(s.ctx(), s.operator(mfr), ledger.Lot{GTIN: newGTIN(), Lot: "X1", Quantity: 1, ProducedAt: "2026-11-01", Expiry: "2027-11-01"}))
	s.refused("warehouse registers a lot", ledger.Forbidden)(s.c.RegisterLot(s.ctx(), admin(fx.Warehouse), lot))
	s.refused("hospital-receiver role registers a lot", ledger.Forbidden)(s.c.RegisterLot(s.ctx(), s.other(mfr), lot))
	bad := lot
	bad.Quantity = 0
	s.refused("zero quantity", ledger.Invalid)(s.c.RegisterLot(s.ctx(), s.operator(mfr), bad))
	bad = lot
	bad.Expiry = "2026-10-01"
	s.refused("expiry before production", ledger.Invalid)(s.c.RegisterLot(s.ctx(), s.operator(mfr), bad))
	bad = lot
	bad.ProducedAt = "2026-13-01"
	s.refused("bad date", ledger.Invalid)(s.c.RegisterLot(s.ctx(), s.operator(mfr), bad))
	bad = lot
	bad.Lot = "lot with spaces"
	s.refused("lot outside GS1 CSET 82", ledger.Invalid)(s.c.RegisterLot(s.ctx(), s.operator(mfr), bad))
	bad = lot
	bad.Status = "recalled"
	s.refused("new lot with a status", ledger.Invalid)(s.c.RegisterLot(s.ctx(), s.operator(mfr), bad))

	s.must(s.c.RegisterLot(s.ctx(), s.operator(mfr), lot))
	s.must(s.c.RegisterLot(s.ctx(), s.quality(mfr), lot)) // idempotent
	changed := lot
	changed.Quantity = 4000
	s.refused("changed lot", ledger.Conflict)(s.c.RegisterLot(s.ctx(), s.operator(mfr), changed))

	slashLot := lot
	slashLot.Lot = "A/" + s.run // "/" is in GS1 CSET 82
	s.must(s.c.RegisterLot(s.ctx(), s.operator(mfr), slashLot))

	back := got[ledger.Lot](s, "GetLot")(s.c.Lot(s.ctx(), admin(fx.Regulator), p.GTIN, lot.Lot))
	if back.Org != mfr || back.Status != ledger.LotOK || back.Quantity != 5000 || back.RegisteredAt.IsZero() {
		t.Errorf("GetLot = %+v", back)
	}
	got[ledger.Lot](s, "GetLot with slash")(s.c.Lot(s.ctx(), admin(fx.Regulator), p.GTIN, slashLot.Lot))
	lots := got[[]ledger.Lot](s, "ListLots")(s.c.Lots(s.ctx(), admin(fx.Hospital), p.GTIN))
	if len(lots) != 2 || lots[0].Lot != slashLot.Lot || lots[1].Lot != lot.Lot {
		t.Errorf("ListLots = %+v", lots)
	}
	denied[ledger.Lot](s, "unknown lot", ledger.NotFound)(s.c.Lot(s.ctx(), admin(fx.Regulator), p.GTIN, "NOPE"))
}
