package main

import (
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

func newDeleteCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete [--force] ID",
		Short: "delete a stopped (or created) container; --force also a running one",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			return oci.Delete(g.root, args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "forcibly delete the container if it is still running (uses SIGKILL)")
	return cmd
}
