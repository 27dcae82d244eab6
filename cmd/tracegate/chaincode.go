package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newChaincodeCmd is replaced by the chaincode-as-a-service command.
func newChaincodeCmd() *cobra.Command {
	return &cobra.Command{Use: "chaincode", Short: "Serve the contract as Fabric chaincode (not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}
