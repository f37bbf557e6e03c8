package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newPsCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ps [--format table|json] ID [-- ps options]",
		Short: "list the processes of a container",
		Args:  minArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			pids, err := c.Processes()
			if err != nil {
				return err
			}
			switch format {
			case "json":
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(os.Stdout).Encode(pids)
			case "table":
			default:
				return fmt.Errorf("%w: invalid --format %q: want table or json", ErrUsage, format)
			}
			psArgs := args[1:]
			if len(psArgs) == 0 {
				psArgs = []string{"-ef"}
			}
			out, err := exec.Command("ps", psArgs...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("ps: %w: %s", err, out)
			}
			lines := strings.Split(string(out), "\n")
			col := slices.Index(strings.Fields(lines[0]), "PID")
			if col < 0 {
				return errors.New("ps: no PID column in its output")
			}
			fmt.Println(lines[0])
			for _, l := range lines[1:] {
				f := strings.Fields(l)
				if len(f) <= col {
					continue
				}
				if pid, err := strconv.Atoi(f[col]); err == nil && slices.Contains(pids, pid) {
					fmt.Println(l)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "select one of: table or json")
	cmd.Flags().SetInterspersed(false)
	return cmd
}
