package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/ledger"
)

// ledgerRecordCommands are the `tracegate ledger` commands for sites,
// recalls, cold-chain excursions and lot status. They share the ledger
// command's --config/--org/--user and its helpers.
func ledgerRecordCommands(
	open func(context.Context) (ledger.Client, func(), error),
	id func() (ledger.Identity, error),
	printJSON func(*cobra.Command, any) error,
	done func(*cobra.Command, string, ledger.Result) error,
) []*cobra.Command {
	// run opens the ledger as the acting identity and runs fn.
	run := func(cmd *cobra.Command, fn func(ctx context.Context, c ledger.Client, who ledger.Identity) error) error {
		who, err := id()
		if err != nil {
			return err
		}
		c, closeFn, err := open(cmd.Context())
		if err != nil {
			return err
		}
		defer closeFn()
		return fn(cmd.Context(), c, who)
	}
	readJSON := func(path, what string, v any) error {
		if path == "" {
			return fmt.Errorf("--file is required: the %s as JSON (see docs/ledger-records.md)", what)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: not a %s JSON object: %w", path, what, err)
		}
		return nil
	}

	var siteFile string
	regSite := &cobra.Command{
		Use:     "register-site --org MSP --file site.json",
		Short:   "Register (or update) a site of the acting organisation: GLN, kind, coordinates, sub-locations",
		Example: `  tracegate ledger register-site --config gateway.yaml --org NorthWarehouseMSP --user olivia --file wh1.json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s ledger.Site
			if err := readJSON(siteFile, "site", &s); err != nil {
				return err
			}
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				if s.Org == "" {
					s.Org = who.Org
				}
				res, err := c.RegisterSite(ctx, who, s)
				if err != nil {
					return err
				}
				return done(cmd, "registered site "+s.GLN, res)
			})
		},
	}
	regSite.Flags().StringVar(&siteFile, "file", "", "the site as JSON")

	var sitesOf string
	sites := &cobra.Command{
		Use:   "sites [--of ORG] | sites GLN",
		Short: "List the registered sites (all, or one org's), or show one by GLN",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				if len(args) == 1 {
					s, err := c.Site(ctx, who, args[0])
					if err != nil {
						return err
					}
					return printJSON(cmd, s)
				}
				list, err := c.Sites(ctx, who, sitesOf)
				if err != nil {
					return err
				}
				return printJSON(cmd, list)
			})
		},
	}
	sites.Flags().StringVar(&sitesOf, "of", "", "only this org's sites")

	var r ledger.Recall
	recall := &cobra.Command{
		Use:     "recall --org REGULATOR_MSP [--user INSPECTOR] --gtin GTIN --lot LOT --class I|II|III --reason TEXT",
		Short:   "Recall a lot (a regulator-inspector, or a regulator org's admin)",
		Example: `  tracegate ledger recall --config gateway.yaml --org HealthAuthorityMSP --user inspector1 --gtin 04012345000010 --lot L2026-11 --class I --reason "filtration below EN 149"`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				stored, _, err := c.RecallLot(ctx, who, r)
				if err != nil {
					return err
				}
				return printJSON(cmd, stored)
			})
		},
	}
	recall.Flags().StringVar(&r.GTIN, "gtin", "", "GTIN-14 of the product")
	recall.Flags().StringVar(&r.Lot, "lot", "", "lot number")
	recall.Flags().StringVar(&r.Class, "class", "", "recall class: I (most serious), II or III")
	recall.Flags().StringVar(&r.Reason, "reason", "", "why (at most 1000 bytes)")

	var gtin, lot string
	recalls := &cobra.Command{
		Use:   "recalls [--gtin GTIN --lot LOT]",
		Short: "List every recall, oldest first, or show one lot's",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				if gtin != "" || lot != "" {
					one, err := c.Recall(ctx, who, gtin, lot)
					if err != nil {
						return err
					}
					return printJSON(cmd, one)
				}
				list, err := c.Recalls(ctx, who)
				if err != nil {
					return err
				}
				return printJSON(cmd, list)
			})
		},
	}
	recalls.Flags().StringVar(&gtin, "gtin", "", "GTIN-14")
	recalls.Flags().StringVar(&lot, "lot", "", "lot number")

	var excFile string
	recordExc := &cobra.Command{
		Use:   "record-excursion --org MSP --file excursion.json",
		Short: "Record a cold-chain excursion of a lot; prints it as stored, judged against the product's storage profile",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var x ledger.Excursion
			if err := readJSON(excFile, "excursion", &x); err != nil {
				return err
			}
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				stored, _, err := c.RecordExcursion(ctx, who, x)
				if err != nil {
					return err
				}
				return printJSON(cmd, stored)
			})
		},
	}
	recordExc.Flags().StringVar(&excFile, "file", "", "the excursion as JSON")

	var excGTIN, excLot string
	excursions := &cobra.Command{
		Use:   "excursions [--gtin GTIN [--lot LOT]] | excursions ID",
		Short: "List cold-chain excursions (all, a product's, a lot's), by start time, or show one by ID",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				if len(args) == 1 {
					x, err := c.Excursion(ctx, who, args[0])
					if err != nil {
						return err
					}
					return printJSON(cmd, x)
				}
				list, err := c.Excursions(ctx, who, excGTIN, excLot)
				if err != nil {
					return err
				}
				return printJSON(cmd, list)
			})
		},
	}
	excursions.Flags().StringVar(&excGTIN, "gtin", "", "only this product's")
	excursions.Flags().StringVar(&excLot, "lot", "", "only this lot's (needs --gtin)")

	var stGTIN, stLot, status, reason string
	lotStatus := &cobra.Command{
		Use:     "lot-status --org MANUFACTURER_MSP --gtin GTIN --lot LOT --status quarantined|ok [--reason TEXT]",
		Short:   "Quarantine a lot, or release it to ok with a reason (the lot's manufacturer: quality or org admin)",
		Example: `  tracegate ledger lot-status --config gateway.yaml --org AcmeMedicalMSP --user quinn --gtin 04012345000010 --lot L2026-11 --status ok --reason "stability data cover the excursion"`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, c ledger.Client, who ledger.Identity) error {
				l, _, err := c.SetLotStatus(ctx, who, stGTIN, stLot, status, reason)
				if err != nil {
					return err
				}
				return printJSON(cmd, l)
			})
		},
	}
	lotStatus.Flags().StringVar(&stGTIN, "gtin", "", "GTIN-14")
	lotStatus.Flags().StringVar(&stLot, "lot", "", "lot number")
	lotStatus.Flags().StringVar(&status, "status", "", "quarantined or ok")
	lotStatus.Flags().StringVar(&reason, "reason", "", "why (required to release)")

	return []*cobra.Command{regSite, sites, recall, recalls, recordExc, excursions, lotStatus}
}
