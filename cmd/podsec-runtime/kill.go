package main

import (
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/internal/lc"
)

func newKillCommand(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "kill [--all] ID [SIGNAL]",
		Short: "send a signal (default SIGTERM) to the container's init, or with --all to every process",
		Long: `kill sends SIGNAL, by number (9) or name (KILL, SIGKILL), to the container's
init process; with --all to every process of the container's cgroup.`,
		Args: rangeArgs(1, 2, "the container ID and an optional signal"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			name := "SIGTERM"
			if len(args) == 2 {
				name = args[1]
			}
			sig, err := lc.ParseSignal(name)
			if err != nil {
				return err
			}
			if all {
				return lc.KillAll(c, sig)
			}
			return c.Signal(sig)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the signal to all processes in the container")
	return cmd
}
