package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newStopCommand(g *globals) *cobra.Command {
	var ns string
	cmd := &cobra.Command{
		Use:     "stop POD...",
		Short:   "stop pods: SIGTERM, their grace period, then SIGKILL; their records stay",
		Example: "  podsec stop web",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ns == "" {
				ns = "default"
			}
			n, err := openNode(cmd, g)
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				if err := n.StopPod(ns, name, 30*time.Second); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pod/%s stopped\n", name)
			}
			return errors.Join(errs...)
		},
	}
	addNamespaceFlag(cmd, &ns)
	return cmd
}
