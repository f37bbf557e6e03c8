package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newGCCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "remove whatever dead pods left on the node and print what was removed",
		Long: `gc finds pods whose podsec process is gone (killed, or the node rebooted) and
removes what they left: container processes and cgroups, mounts and overlays,
network namespaces, links, IP allocations and host ports, state directories.
Pods whose podsec runs are never touched. Records of detached pods whose
supervisor died are marked Failed.`,
		Example: "  podsec gc",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nd, err := openNode(cmd, g)
			if err != nil {
				return err
			}
			if _, err := nd.Network(); err != nil {
				return err
			}
			defer nd.Close(context.Background())
			n := 0
			err = nd.GC(cmd.Context(), func(what string) {
				n++
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", what)
			})
			nd.MarkLost(func(namespace, name string) {
				n++
				fmt.Fprintf(cmd.OutOrStdout(), "pod %s/%s marked Failed: its supervisor is gone\n", namespace, name)
			})
			if n == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to remove")
			}
			// Without pods to isolate, the dataplane's table goes too.
			if g.podNetwork != "none" {
				err = errors.Join(err, nd.SyncNetworkPolicies())
			}
			return err
		},
	}
}
