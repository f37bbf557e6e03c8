package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

func newListCommand(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list the containers under --root",
		Args:  exactArgs(0, "none"),
		RunE: func(_ *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("%w: invalid --format %q: want table or json", ErrUsage, format)
			}
			states, err := oci.List(g.root, func(id string, err error) {
				fmt.Fprintf(os.Stderr, "container %s: %v\n", id, err)
			})
			if err != nil {
				return err
			}
			if quiet {
				for _, s := range states {
					fmt.Println(s.ID)
				}
				return nil
			}
			if format == "json" {
				if states == nil {
					states = []oci.State{}
				}
				return json.NewEncoder(os.Stdout).Encode(states)
			}
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
					s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "select one of: table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "display only container IDs")
	return cmd
}
