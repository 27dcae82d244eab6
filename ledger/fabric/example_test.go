package fabric_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/fabric"
)

// Connect to a network with a Manufacturer and a Warehouse peer, sign as
// the Manufacturer's users, and follow the contract's events.
func Example() {
	crypto := "/srv/fabric/crypto/peerOrganizations/"
	cfg := fabric.Config{
		Channel:   "tracegate",
		Chaincode: "tracegate",
		Peers: []fabric.Peer{
			{Org: "ManufacturerMSP", Endpoint: "127.0.0.1:7051", TLSCACert: crypto + "manufacturer.example.com/peers/peer0.manufacturer.example.com/tls/ca.crt"},
			{Org: "WarehouseMSP", Endpoint: "127.0.0.1:9051", TLSCACert: crypto + "warehouse.example.com/peers/peer0.warehouse.example.com/tls/ca.crt"},
		},
		Identities: []fabric.Identity{
			{Org: "ManufacturerMSP", User: "admin", // the admin OU certificate
				Cert: crypto + "manufacturer.example.com/users/Admin@manufacturer.example.com/msp/signcerts/Admin@manufacturer.example.com-cert.pem",
				Key:  crypto + "manufacturer.example.com/users/Admin@manufacturer.example.com/msp/keystore/priv_sk"},
			{Org: "ManufacturerMSP", User: "User1", // CN User1@manufacturer.example.com
				Cert: crypto + "manufacturer.example.com/users/User1@manufacturer.example.com/msp/signcerts/User1@manufacturer.example.com-cert.pem",
				Key:  crypto + "manufacturer.example.com/users/User1@manufacturer.example.com/msp/keystore/priv_sk"},
		},
		Collections: map[string][]string{"mfrWarehouse": {"ManufacturerMSP", "WarehouseMSP"}},
	}
	l, err := fabric.New(cfg, fabric.WithLogger(slog.Default()), fabric.WithPeerSync(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx := context.Background()
	c := ledger.Client{L: l}
	res, err := c.RegisterOrg(ctx, ledger.Identity{Org: "ManufacturerMSP", User: ledger.AdminUser},
		ledger.Org{ID: "ManufacturerMSP", Name: "Acme Masks", Kind: ledger.OrgManufacturer})
	var ge *fabric.GatewayError
	switch {
	case errors.Is(err, ledger.ErrForbidden) && errors.As(err, &ge):
		log.Fatalf("refused by %v: %v", ge.Peers, err) // the contract's refusal, and which peers said so
	case errors.Is(err, ledger.ErrUnavailable):
		log.Fatalf("try again later (transaction %s may still commit): %v", res.TxID, err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("committed in block", res.Block)

	// Everything after that transaction, then live events.
	events, err := l.Events(ctx, ledger.Checkpoint{Block: res.Block, TxID: res.TxID})
	if err != nil {
		log.Fatal(err)
	}
	for ev := range events {
		fmt.Println(ev.Block, ev.Name)
	}
}
