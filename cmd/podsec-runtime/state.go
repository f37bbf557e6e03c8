package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

func newStateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "state ID",
		Short: "print the state of a container (the runtime spec's state JSON)",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := oci.ReadState(g.root, args[0])
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(append(b, '\n'))
			return err
		},
	}
}
