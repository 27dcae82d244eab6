package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracegate/tracegate/edge/epcis"
	"github.com/tracegate/tracegate/gateway/proof"
)

func newVerifyCmd() *cobra.Command {
	var gatewayURL string
	var offline, asJSON bool
	cmd := &cobra.Command{
		Use:   "verify PROOF...",
		Short: "Check proofs: event hash, audit path, header signature, edge key, header chain and anchor on the ledger",
		Long: `verify checks tracegate proof documents (docs/proof-format.md).

PROOF is a file, "-" for standard input, a proof URL
(http://HOST/api/v1/events/{eventID}/proof), or an eventID together with
--gateway. The ledger checks (edge key registered for the device, header
chain, anchor transaction) read the ledger through the gateway named by
--gateway or taken from the proof URL. With --offline only the event hash,
audit path and signature are checked, and the exit status says so.

Exit status: 0 verified; 1 a check failed; 2 not anchored yet (pending);
3 only offline checks ran.`,
		Example: `  tracegate verify proof.json --gateway http://127.0.0.1:8080
  tracegate verify http://127.0.0.1:8080/api/v1/events/ni%3A%2F%2F%2Fsha-256%3B...%3Fver%3DCBV2.0/proof
  curl -s $URL | tracegate verify - --gateway http://127.0.0.1:8080`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			worst := 0
			for _, src := range args {
				code, err := verifyOne(ctx, cmd.OutOrStdout(), cmd.InOrStdin(), src, gatewayURL, offline, asJSON)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				worst = max(worst, code)
			}
			if worst != 0 {
				return &exitError{code: worst}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&gatewayURL, "gateway", "", "gateway base URL whose ledger API to check against (default: from a proof URL)")
	cmd.Flags().BoolVar(&offline, "offline", false, "check only what needs no ledger (event hash, audit path, signature)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func verifyOne(ctx context.Context, out io.Writer, in io.Reader, src, gw string, offline, asJSON bool) (int, error) {
	if gw == "" {
		gw = proof.GatewayBase(src)
	}
	if _, err := epcis.ParseEventID(src); err == nil {
		if _, serr := os.Stat(src); serr != nil {
			// An eventID: fetch its proof from the gateway.
			if gw == "" {
				return 1, fmt.Errorf("%s is an eventID: give --gateway URL to fetch its proof", src)
			}
			src = strings.TrimRight(gw, "/") + "/api/v1/events/" + url.PathEscape(src) + "/proof"
		}
	}
	raw, err := proof.Fetch(ctx, src, in, os.ReadFile)
	if err != nil {
		return 1, fmt.Errorf("%s: %w", src, err)
	}
	doc, err := proof.Parse(raw)
	if err != nil {
		return 1, fmt.Errorf("%s: %w", src, err)
	}
	var l proof.Ledger
	if !offline {
		if gw == "" {
			return 1, fmt.Errorf("%s: no ledger to check against: give --gateway URL (or --offline for the cryptographic checks only)", src)
		}
		hl, err := proof.NewHTTPLedger(ctx, gw)
		if err != nil {
			return 1, fmt.Errorf("%s: %w (is the gateway running? use --offline to skip the ledger checks)", src, err)
		}
		l = hl
	}
	res := proof.Verify(ctx, doc, l)
	code := 0
	switch {
	case res.Verified:
	case res.Pending:
		code = 2
	case offline && res.Err() != nil && allOK(res):
		code = 3
	default:
		code = 1
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return code, enc.Encode(res)
	}
	fmt.Fprintf(out, "%s\n", res.EventID)
	for _, s := range res.Steps {
		mark := "✔"
		if s.Skip {
			mark = "–"
		} else if !s.OK {
			mark = "✘"
		}
		fmt.Fprintf(out, "  %s %-34s %s\n", mark, s.Check, s.Detail)
	}
	switch code {
	case 0:
		fmt.Fprintln(out, "VERIFIED: the event is sealed by its registered edge and anchored on the ledger")
	case 2:
		fmt.Fprintln(out, "PENDING: the proof checks out so far, but its batch is not anchored yet; try again in a few seconds")
	case 3:
		fmt.Fprintln(out, "OFFLINE: event hash, audit path and signature check out; the ledger was not consulted")
	default:
		fmt.Fprintf(out, "FAILED: %v\n", res.Err())
	}
	return code, nil
}

// allOK reports whether every step that ran passed.
func allOK(r proof.Result) bool {
	for _, s := range r.Steps {
		if !s.OK && !s.Skip {
			return false
		}
	}
	return true
}
