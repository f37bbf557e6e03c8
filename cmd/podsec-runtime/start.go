package main

import (
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

func newStartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start ID",
		Short: "run the process of a created container",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			return oci.Start(g.root, c)
		},
	}
}
