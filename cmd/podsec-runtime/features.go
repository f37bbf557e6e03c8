package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

func newFeaturesCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "features",
		Short: "print the runtime's features (the runtime spec's features JSON)",
		Args:  exactArgs(0, "none"),
		RunE: func(*cobra.Command, []string) error {
			pol, err := g.loadPolicy()
			if err != nil {
				return err
			}
			f := oci.Features(g.version, pol)
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(f)
		},
	}
}
