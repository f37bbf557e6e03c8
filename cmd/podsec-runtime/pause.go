package main

import "github.com/spf13/cobra"

func newPauseCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pause ID",
		Short: "suspend every process of the container (cgroup freezer)",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			return c.Pause()
		},
	}
}

func newResumeCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume ID",
		Short: "resume the processes of a paused container",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			return c.Resume()
		},
	}
}
