package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
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
			sig, err := parseSignal(name)
			if err != nil {
				return err
			}
			if all {
				return killAll(c, sig)
			}
			return c.Signal(sig)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the signal to all processes in the container")
	return cmd
}

// killAll signals every process of the container. A container that no
// longer runs is not an error: the processes are gone already.
func killAll(c *libcontainer.Container, sig unix.Signal) error {
	st, err := c.Status()
	if err != nil {
		return err
	}
	if st == libcontainer.Stopped {
		return nil
	}
	pids, err := c.Processes()
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("signalling %d: %w", pid, err))
		}
	}
	return errors.Join(errs...)
}

func newDeleteCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete [--force] ID",
		Short: "delete a stopped (or created) container; --force also a running one",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := g.load(id)
			if err != nil {
				if errors.Is(err, libcontainer.ErrNotExist) {
					// A container whose create died half way: whatever
					// is left of its state goes.
					path := filepath.Join(g.root, id)
					if e := os.RemoveAll(path); e != nil {
						fmt.Fprintf(os.Stderr, "removing %s: %v\n", path, e)
					}
					if force {
						return nil
					}
				}
				return err
			}
			if force {
				return killContainer(c)
			}
			st, err := c.Status()
			if err != nil {
				return err
			}
			switch st {
			case libcontainer.Stopped:
				return c.Destroy()
			case libcontainer.Created:
				return killContainer(c)
			default:
				return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, st)
			}
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "forcibly delete the container if it is still running (uses SIGKILL)")
	return cmd
}

// killContainer kills the container's processes, waits for its init to
// go (10s at most), then destroys it.
func killContainer(c *libcontainer.Container) error {
	if st, err := c.Status(); err == nil && st == libcontainer.Paused {
		_ = killAll(c, unix.SIGKILL)
		_ = c.Resume()
	}
	_ = c.Signal(unix.SIGKILL)
	for range 100 {
		if err := c.Signal(unix.Signal(0)); err != nil {
			return c.Destroy()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("container init still running after SIGKILL")
}
