package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
)

// containerState is the runtime spec's state of a container, with runc's
// additions (rootfs, created, owner) that containerd and podman read.
type containerState struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// state reads a container's state. A container whose create is still
// running has no libcontainer state yet: it is reported as creating.
func (g *globals) state(id string) (*containerState, error) {
	c, err := g.load(id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		if side, serr := readSidecar(g.root, id); serr == nil {
			return &containerState{Version: specs.Version, ID: id, Status: string(specs.StateCreating),
				Bundle: side.Bundle, Annotations: side.Annotations}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	st, err := c.Status()
	if err != nil {
		return nil, err
	}
	s, err := c.State()
	if err != nil {
		return nil, err
	}
	pid := s.BaseState.InitProcessPid
	if st == libcontainer.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(s.Config.Labels)
	return &containerState{
		Version:     s.BaseState.Config.Version,
		ID:          s.BaseState.ID,
		Pid:         pid,
		Status:      st.String(),
		Bundle:      bundle,
		Rootfs:      s.BaseState.Config.Rootfs,
		Created:     s.BaseState.Created,
		Annotations: annotations,
	}, nil
}

func newStateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "state ID",
		Short: "print the state of a container (the runtime spec's state JSON)",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := g.state(args[0])
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(append(b, '\n'))
			return err
		},
	}
}

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
			states, err := g.list()
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
					states = []containerState{}
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

// list reads the state of every container under the root, sorted by ID.
func (g *globals) list() ([]containerState, error) {
	ents, err := os.ReadDir(g.root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []containerState
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		s, err := g.state(e.Name())
		if err != nil {
			fmt.Fprintf(os.Stderr, "container %s: %v\n", e.Name(), err)
			continue
		}
		s.Owner = owner(filepath.Join(g.root, e.Name()))
		out = append(out, *s)
	}
	return out, nil
}

// owner names the user owning a container's state directory.
func owner(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid))
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}

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
