package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/internal/lc"
	"github.com/podsec/podsec/oci"
)

type execFlags struct {
	process       string
	detach        bool
	pidFile       string
	tty           bool
	consoleSocket string
	cwd           string
	env           []string
	user          string
	gids          []int64
	caps          []string
	noNewPrivs    bool
	ignorePaused  bool
	preserveFDs   int
}

func newExecCommand(g *globals) *cobra.Command {
	f := &execFlags{}
	cmd := &cobra.Command{
		Use:   "exec [flags] ID COMMAND [ARG...] | exec [flags] --process process.json ID",
		Short: "run a new process in a running container",
		Long: `exec runs a process in a running container: COMMAND with the rest of the
container's process (user, env, capabilities), or the process of a
process.json (--process). The process is held to the node policy first.`,
		Args: minArgs(1, "the container ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			status, err := g.exec(cmd, args, f)
			if err != nil {
				return &failure{err: fmt.Errorf("exec failed: %w", err), code: 255}
			}
			if status != 0 {
				return exitCode(status)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.process, "process", "p", "", "path to the process.json")
	fs.BoolVarP(&f.detach, "detach", "d", false, "detach from the container's process")
	fs.StringVar(&f.pidFile, "pid-file", "", "specify the file to write the process id to")
	fs.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-TTY")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	fs.StringVar(&f.cwd, "cwd", "", "current working directory in the container")
	fs.StringArrayVarP(&f.env, "env", "e", nil, "set environment variables")
	fs.StringVarP(&f.user, "user", "u", "", "UID (format: <uid>[:<gid>])")
	fs.Int64SliceVarP(&f.gids, "additional-gids", "g", nil, "additional gids")
	fs.StringArrayVarP(&f.caps, "cap", "c", nil, "add a capability to the bounding set for the process")
	fs.BoolVar(&f.noNewPrivs, "no-new-privs", false, "set the no new privileges value for the process")
	fs.BoolVar(&f.ignorePaused, "ignore-paused", false, "allow exec in a paused container")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass N additional file descriptors to the process")
	fs.SetInterspersed(false) // COMMAND's own flags are its own
	return cmd
}

func (g *globals) exec(cmd *cobra.Command, args []string, f *execFlags) (int, error) {
	c, err := g.load(args[0])
	if err != nil {
		return -1, err
	}
	st, err := c.Status()
	if err != nil {
		return -1, err
	}
	switch {
	case st == libcontainer.Stopped:
		return -1, errors.New("cannot exec in a stopped container")
	case st == libcontainer.Paused && !f.ignorePaused:
		return -1, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	p, err := execProcess(cmd, c, args, f)
	if err != nil {
		return -1, err
	}
	pol, err := g.loadPolicy()
	if err != nil {
		return -1, err
	}
	if err := pol.CheckExec(p); err != nil {
		return -1, err
	}
	pidFile := f.pidFile
	if pidFile != "" {
		if pidFile, err = filepath.Abs(pidFile); err != nil {
			return -1, err
		}
	}
	early, err := oci.ExecSeccomp(g.root, c)
	if err != nil {
		return -1, err
	}
	r := &lc.Runner{C: c, Detach: f.detach, ConsoleSocket: f.consoleSocket,
		PidFile: pidFile, PreserveFDs: f.preserveFDs, Prepare: early.Prepare, AfterCreate: early.Check}
	return r.Run(p)
}

// execProcess is the process to exec: --process's, or the container's own
// with COMMAND and the flags.
func execProcess(cmd *cobra.Command, c *libcontainer.Container, args []string, f *execFlags) (*specs.Process, error) {
	if f.process != "" {
		b, err := os.ReadFile(f.process)
		if err != nil {
			return nil, err
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", f.process, err)
		}
		return &p, lc.ValidateProcess(&p)
	}
	bundle, ok := utils.SearchLabels(c.Config().Labels, "bundle")
	if !ok {
		return nil, errors.New("the container has no bundle label")
	}
	s, err := oci.LoadSpec(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	p := s.Process
	if len(args) < 2 {
		return nil, fmt.Errorf("%w: exec needs a COMMAND or --process", ErrUsage)
	}
	p.Args = args[1:]
	if f.cwd != "" {
		p.Cwd = f.cwd
	}
	for _, name := range f.caps {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		pc := p.Capabilities
		pc.Bounding = append(pc.Bounding, name)
		pc.Effective = append(pc.Effective, name)
		pc.Permitted = append(pc.Permitted, name)
		if pc.Inheritable != nil {
			pc.Ambient = append(pc.Ambient, name)
		}
	}
	p.Env = append(p.Env, f.env...)
	p.Terminal = f.tty
	if cmd.Flags().Changed("no-new-privs") {
		p.NoNewPrivileges = f.noNewPrivs
	}
	if f.user != "" {
		uid, gid, hasGID := strings.Cut(f.user, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user: bad uid %q", uid)
		}
		p.User.UID = uint32(n)
		if hasGID {
			n, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user: bad gid %q", gid)
			}
			p.User.GID = uint32(n)
		}
	}
	for _, gid := range f.gids {
		if gid < 0 || gid > 1<<32-1 {
			return nil, fmt.Errorf("--additional-gids: %d is out of range", gid)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	return p, lc.ValidateProcess(p)
}
