package main

import (
	"os"

	"github.com/containerd/console"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/supervisor"
)

func newExecCommand(g *globals) *cobra.Command {
	var ns, container string
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
		Short: "run a command in a running container of a pod",
		Long: `exec runs a process in a running container, as kubectl exec does: in the
container's namespaces and cgroup, with its user, groups, capabilities,
seccomp profile and no_new_privs.`,
		Example: `  podsec exec web -- id
  podsec exec -it web -c main -- sh`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ns == "" {
				ns = "default"
			}
			r, err := supervisor.Open(g.root).Get(ns, args[0])
			if err != nil {
				return err
			}
			name, err := pickContainer(r, container)
			if err != nil {
				return err
			}
			opts := runtime.ExecOptions{Args: args[1:], Tty: tty, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
			if stdin {
				opts.Stdin = cmd.InOrStdin()
			}
			if tty {
				if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
					if err := cur.SetRaw(); err == nil {
						defer cur.Reset()
					}
					opts.Resize = func(c console.Console) { c.ResizeFrom(cur) }
				}
			}
			code, err := runtime.Layout{Root: g.root}.Exec(ns, args[0], name, opts)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	addNamespaceFlag(cmd, &ns)
	cmd.Flags().StringVarP(&container, "container", "c", "", "container to run the command in")
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "pass standard input to the command")
	cmd.Flags().BoolVarP(&tty, "tty", "t", false, "give the command a terminal")
	return cmd
}
