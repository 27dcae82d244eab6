package embedded_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/embedded"
	"github.com/tracegate/tracegate/ledger/ledgertest"
)

// Example opens a two-member ledger, registers a manufacturer and its edge,
// anchors a signed batch header and checks the ledger's integrity.
func Example() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	keys, err := embedded.LoadOrCreateKeys(dir+"/identities", []string{"MakerMSP", "ClinicMSP"})
	if err != nil {
		log.Fatal(err)
	}
	l, err := embedded.Open(dir+"/chain", embedded.Config{Members: embedded.MembersOf(keys), Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx := context.Background()
	c := ledger.Client{L: l}
	maker := ledger.Identity{Org: "MakerMSP", User: ledger.AdminUser}
	if _, err := c.RegisterOrg(ctx, maker, ledger.Org{ID: "MakerMSP", Name: "Maker", Kind: ledger.OrgManufacturer}); err != nil {
		log.Fatal(err)
	}
	edge := ledgertest.NewEdge("line-1")
	if _, err := c.RegisterDevice(ctx, maker, edge.Device("MakerMSP")); err != nil {
		log.Fatal(err)
	}
	h := edge.Header(0, "", 42)
	a, res, err := c.AnchorBatch(ctx, maker, h, edge.Sign(h))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("anchored", a.Edge, "seq", a.Seq, "in block", res.Block)

	rep, err := l.Verify(ctx)
	fmt.Println("verify:", rep.Blocks, "blocks,", rep.Txs, "transactions, error:", err)
	// Output:
	// anchored line-1 seq 0 in block 3
	// verify: 4 blocks, 3 transactions, error: <nil>
}
