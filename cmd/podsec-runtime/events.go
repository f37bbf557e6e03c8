package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

func newEventsCommand(g *globals) *cobra.Command {
	var stats bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "events [--stats] [--interval D] ID",
		Short: "print the container's stats and OOM events as JSON lines",
		Long: `events prints the container's resource usage every --interval, and an event
each time it runs out of memory, as runc's events do (one JSON object a
line: {"type":"stats"|"oom","id":ID,"data":...}). With --stats it prints the
usage once and exits.`,
		Args: exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			if interval <= 0 {
				return fmt.Errorf("%w: --interval must be greater than 0", ErrUsage)
			}
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			st, err := c.Status()
			if err != nil {
				return err
			}
			if st == libcontainer.Stopped {
				return fmt.Errorf("container %s is not running", c.ID())
			}
			enc := json.NewEncoder(os.Stdout)
			if stats {
				s, err := c.Stats()
				if err != nil {
					return err
				}
				return enc.Encode(types.Event{Type: "stats", ID: c.ID(), Data: oci.ConvertStats(s)})
			}
			return oci.StreamEvents(c, enc, interval)
		},
	}
	cmd.Flags().BoolVar(&stats, "stats", false, "display the container's stats then exit")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "set the stats collection interval")
	return cmd
}
