package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newFabricCmd is replaced by the local Fabric network tooling.
func newFabricCmd() *cobra.Command {
	return &cobra.Command{Use: "fabric", Short: "Local Hyperledger Fabric network (not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}
