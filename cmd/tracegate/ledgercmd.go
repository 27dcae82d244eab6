package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/edge"
	"github.com/tracegate/tracegate/gateway/demo"
	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/backend"
)

// newLedgerCmd is the operator's door to the contract: register members,
// users, devices, and read what the ledger holds, on any backend, with the
// identities the gateway config names.
func newLedgerCmd() *cobra.Command {
	var cfgPath, org, user string
	root := &cobra.Command{
		Use:   "ledger",
		Short: "Register organisations, users and devices on the ledger, and read records, with the gateway config's identities",
		Long: `ledger runs contract functions on the ledger a gateway config names
(embedded or Fabric), as the identity --org/--user (default: the org's admin).
The contract decides what each identity may do; a refusal is printed with its
reason and exits 1. A running gateway holds the embedded ledger's lock: stop it
first, or use the portal.`,
	}
	root.PersistentFlags().StringVar(&cfgPath, "config", "", "gateway configuration file (its ledger section is used)")
	root.PersistentFlags().StringVar(&org, "org", "", "act as this organisation (MSP ID)")
	root.PersistentFlags().StringVar(&user, "user", ledger.AdminUser, "act as this user of --org")
	_ = root.MarkPersistentFlagRequired("config")

	open := func(ctx context.Context) (ledger.Client, func(), error) {
		lc, err := loadLedgerFile(cfgPath)
		if err != nil {
			return ledger.Client{}, nil, err
		}
		l, err := backend.Open(lc, slog.Default())
		if err != nil {
			return ledger.Client{}, nil, err
		}
		return ledger.Client{L: l}, func() { l.Close() }, nil
	}
	id := func() (ledger.Identity, error) {
		if org == "" {
			return ledger.Identity{}, fmt.Errorf("--org is required: the organisation (MSP ID) to act as")
		}
		return ledger.Identity{Org: org, User: user}, nil
	}
	printJSON := func(cmd *cobra.Command, v any) error {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	done := func(cmd *cobra.Command, what string, res ledger.Result) error {
		fmt.Fprintf(cmd.OutOrStdout(), "%s (tx %s, block %d)\n", what, res.TxID, res.Block)
		return nil
	}

	var o ledger.Org
	regOrg := &cobra.Command{
		Use:   "register-org --org MSP --name NAME --kind KIND [--gln GLN] [--country CC]",
		Short: "Register (or update) the acting organisation itself",
		RunE: func(cmd *cobra.Command, _ []string) error {
			who, err := id()
			if err != nil {
				return err
			}
			c, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			o.ID = org
			res, err := c.RegisterOrg(cmd.Context(), who, o)
			if err != nil {
				return err
			}
			return done(cmd, "registered org "+o.ID, res)
		},
	}
	regOrg.Flags().StringVar(&o.Name, "name", "", "organisation name")
	regOrg.Flags().StringVar(&o.Kind, "kind", "", "manufacturer, warehouse, logistics, charity, hospital, insurer, regulator or distributor")
	regOrg.Flags().StringVar(&o.GLN, "gln", "", "GS1 GLN (13 digits)")
	regOrg.Flags().StringVar(&o.Country, "country", "", "ISO 3166 country code")

	var u ledger.User
	regUser := &cobra.Command{
		Use:   "register-user --org MSP --id USER --role ROLE",
		Short: "Register a user of the acting organisation with a role (org admin only)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			who, err := id()
			if err != nil {
				return err
			}
			c, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			u.Org = org
			res, err := c.RegisterUser(cmd.Context(), who, u)
			if err != nil {
				return err
			}
			return done(cmd, "registered user "+u.ID+" as "+u.Role, res)
		},
	}
	regUser.Flags().StringVar(&u.ID, "id", "", "user name")
	regUser.Flags().StringVar(&u.Role, "role", "", "operator, quality, charity-officer, hospital-receiver, insurer-assessor, regulator-inspector or org-admin")

	var d ledger.Device
	var edgeConfig string
	regDevice := &cobra.Command{
		Use:     "register-device --org MSP (--edge-config edge.yaml | --id ID --key BASE64) [--kind edge|capture] [--site SITE]",
		Short:   "Register an edge's (or capture client's) Ed25519 key for the acting organisation",
		Example: `  tracegate ledger register-device --config gateway.yaml --org NorthWarehouseMSP --edge-config edge.yaml --site wh1`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			who, err := id()
			if err != nil {
				return err
			}
			if edgeConfig != "" {
				ec, err := edge.LoadConfig(edgeConfig)
				if err != nil {
					return err
				}
				k, err := edge.LoadOrCreateKey(ec.KeyFile)
				if err != nil {
					return err
				}
				d.ID = ec.ID
				d.PublicKey = base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
			}
			if d.ID == "" || d.PublicKey == "" {
				return fmt.Errorf("give --edge-config FILE, or --id and --key")
			}
			c, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			d.Org = org
			res, err := c.RegisterDevice(cmd.Context(), who, d)
			if err != nil {
				return err
			}
			return done(cmd, "registered device "+d.ID, res)
		},
	}
	regDevice.Flags().StringVar(&edgeConfig, "edge-config", "", "read the edge ID and key from this edge configuration")
	regDevice.Flags().StringVar(&d.ID, "id", "", "device (edge) ID")
	regDevice.Flags().StringVar(&d.PublicKey, "key", "", "base64 Ed25519 public key (tracegate edge key prints it)")
	regDevice.Flags().StringVar(&d.Kind, "kind", ledger.DeviceEdge, "edge or capture")
	regDevice.Flags().StringVar(&d.Site, "site", "", "site of the device")
	regDevice.Flags().StringVar(&d.Description, "description", "", "free text")

	seed := &cobra.Command{
		Use:   "seed-demo",
		Short: "Register the demo consortium's organisations, products and lots (idempotent; each org acts as itself)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			for _, o := range demo.Orgs {
				if _, err := c.RegisterOrg(cmd.Context(), ledger.Identity{Org: o.ID, User: ledger.AdminUser}, o); err != nil {
					return fmt.Errorf("register %s: %w", o.ID, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "org %s registered\n", o.ID)
			}
			for _, p := range demo.Products {
				a := ledger.Identity{Org: p.Org, User: ledger.AdminUser}
				if _, err := c.RegisterProduct(cmd.Context(), a, p.Product); err != nil {
					return fmt.Errorf("register product %s: %w", p.GTIN, err)
				}
				for _, l := range p.Lots {
					lot := ledger.Lot{GTIN: p.GTIN, Lot: l.ID, Org: p.Org, Quantity: int(l.LastSerial - l.FirstSerial + 1), ProducedAt: l.Produced.Format("2006-01-02"), Expiry: l.Expiry}
					if _, err := c.RegisterLot(cmd.Context(), a, lot); err != nil {
						return fmt.Errorf("register lot %s: %w", l.ID, err)
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "product %s (%s) and %d lots registered\n", p.GTIN, p.Name, len(p.Lots))
			}
			return nil
		},
	}

	show := &cobra.Command{
		Use:   "show (org ID | device ID | product GTIN | lot GTIN LOT | anchor EDGE SEQ | orgs | devices)",
		Short: "Read a record from the ledger",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := id()
			if err != nil {
				return err
			}
			c, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			ctx := cmd.Context()
			need := func(n int) error {
				if len(args) != n+1 {
					return fmt.Errorf("show %s takes %d argument(s)", args[0], n)
				}
				return nil
			}
			var v any
			switch args[0] {
			case "org":
				if err = need(1); err == nil {
					v, err = c.Org(ctx, who, args[1])
				}
			case "orgs":
				v, err = c.Orgs(ctx, who)
			case "device":
				if err = need(1); err == nil {
					v, err = c.Device(ctx, who, args[1])
				}
			case "devices":
				v, err = c.Devices(ctx, who, "")
			case "product":
				if err = need(1); err == nil {
					v, err = c.Product(ctx, who, args[1])
				}
			case "lot":
				if err = need(2); err == nil {
					v, err = c.Lot(ctx, who, args[1], args[2])
				}
			case "anchor":
				if err = need(2); err == nil {
					var seq uint64
					if seq, err = strconv.ParseUint(args[2], 10, 64); err == nil {
						v, err = c.Anchor(ctx, who, args[1], seq)
					}
				}
			default:
				err = fmt.Errorf("unknown record %q", args[0])
			}
			if err != nil {
				return err
			}
			return printJSON(cmd, v)
		},
	}
	root.AddCommand(regOrg, regUser, regDevice, seed, show)
	root.AddCommand(ledgerRecordCommands(open, id, printJSON, done)...)
	return root
}
