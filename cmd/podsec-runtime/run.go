package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newRunCommand(g *globals) *cobra.Command {
	f := &createFlags{}
	cmd := &cobra.Command{
		Use:   "run [flags] ID",
		Short: "create and start a container, and wait for it unless --detach",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			err := g.startContainer(args[0], f, false)
			var ec exitCode
			if err != nil && !errors.As(err, &ec) {
				return fmt.Errorf("%s run failed: %w", g.name, err)
			}
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&f.detach, "detach", "d", false, "detach from the container's process")
	cmd.Flags().BoolVar(&f.keep, "keep", false, "do not delete the container after it exits")
	cmd.Flags().BoolVar(&f.noSubreaper, "no-subreaper", false, "disable the use of the subreaper used to reap reparented processes")
	return cmd
}
