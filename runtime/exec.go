package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/internal/lc"
)

// ErrNotRunning: the container has no running process to join.
var ErrNotRunning = errors.New("container is not running")

// ExecOptions is a process to run in a running container.
type ExecOptions struct {
	Args []string
	// Context, when it ends first, kills the process (a probe's timeout).
	Context context.Context
	// Tty gives the process a terminal; Stdin, Stdout carry it.
	Tty    bool
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Resize, when Tty, is called with the terminal once it exists, so the
	// caller can follow its own terminal's size.
	Resize func(console.Console)
}

// Exec runs a process in a running container of a pod, as kubectl exec
// does: in the container's namespaces and cgroup, with the container's
// user, groups, capabilities, seccomp profile, no_new_privs, environment
// and working directory. It returns the process's exit code.
func (l Layout) Exec(namespace, pod, name string, opts ExecOptions) (int, error) {
	if len(opts.Args) == 0 {
		return 0, fmt.Errorf("exec: a command is needed")
	}
	b, err := os.ReadFile(filepath.Join(l.ContainerDir(namespace, pod, name), "config.json"))
	if err != nil {
		return 0, fmt.Errorf("%w: %s in pod %s/%s", ErrNotRunning, name, namespace, pod)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, fmt.Errorf("exec: reading the container's spec: %w", err)
	}
	c, err := libcontainer.Load(filepath.Join(l.Root, "libcontainer"), namespace+"_"+pod+"_"+name)
	if err != nil {
		return 0, fmt.Errorf("%w: %s in pod %s/%s", ErrNotRunning, name, namespace, pod)
	}
	if st, err := c.Status(); err != nil || st != libcontainer.Running {
		return 0, fmt.Errorf("%w: %s in pod %s/%s", ErrNotRunning, name, namespace, pod)
	}
	proc, err := lc.NewProcess(s.Process, false)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	proc.Args = opts.Args
	var parent *os.File
	if opts.Tty {
		var child *os.File
		if parent, child, err = lc.ConsolePair(); err != nil {
			return 0, fmt.Errorf("exec: %w", err)
		}
		defer parent.Close()
		defer child.Close()
		proc.ConsoleSocket = child
	} else {
		proc.Stdin, proc.Stdout, proc.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	}
	early, err := execEarlyFilter(l.Root, c, &s)
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", name, err)
	}
	if early != nil {
		// The process's init refuses to go on without it
		// (ContainerInit): a setns process execs at once, so the count
		// below comes too late to keep it from running.
		defer early.Close()
		askEarly(proc, early)
	}
	if err := c.Run(proc); err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", name, err)
	}
	if early != nil {
		early.Close()
		pid, err := proc.Pid()
		if err == nil {
			err = checkSeccompFilters(pid)
		}
		if err != nil {
			_ = proc.Signal(syscall.SIGKILL)
			_, _ = proc.Wait()
			return 0, fmt.Errorf("exec in container %s: seccomp: %w", name, err)
		}
	}
	copied := func() {}
	if opts.Tty {
		if copied, err = attachConsole(parent, opts); err != nil {
			lc.Terminate(proc)
			return 0, err
		}
	}
	if opts.Context != nil {
		stop := context.AfterFunc(opts.Context, func() { proc.Signal(syscall.SIGKILL) })
		defer stop()
	}
	st, err := proc.Wait()
	copied()
	if st == nil {
		return 0, fmt.Errorf("exec in container %s: %w", name, err)
	}
	return lc.ExitCode(st), nil
}

// attachConsole receives the process's terminal and copies it to and from
// the caller's streams; the function it returns waits for the output.
func attachConsole(socket *os.File, opts ExecOptions) (func(), error) {
	cons, err := lc.ReceiveConsole(socket)
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	if opts.Resize != nil {
		opts.Resize(cons)
	}
	if opts.Stdin != nil {
		go io.Copy(cons, opts.Stdin)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		out := opts.Stdout
		if out == nil {
			out = io.Discard
		}
		// Ends with EIO once the process and its children have closed the
		// terminal.
		io.Copy(out, cons)
		cons.Close()
	}()
	return func() { <-done }, nil
}

// execEarlyFilter returns the early seccomp filter a process run in c
// needs, or nil when c's profile was not split at its start: the profile
// is split again from the container's spec, and a container whose
// libcontainer profile is neither the spec's nor its late part is
// refused rather than left under the late filter alone.
func execEarlyFilter(root string, c *libcontainer.Container, s *specs.Spec) (*os.File, error) {
	stored := c.Config().Seccomp
	if stored == nil {
		return nil, nil
	}
	var full *configs.Seccomp
	if s.Linux != nil && s.Linux.Seccomp != nil {
		var err error
		if full, err = specconv.SetupSeccomp(s.Linux.Seccomp); err != nil {
			return nil, fmt.Errorf("seccomp: %w", err)
		}
	}
	same := func(a, b *configs.Seccomp) bool {
		ja, erra := json.Marshal(a)
		jb, errb := json.Marshal(b)
		return erra == nil && errb == nil && bytes.Equal(ja, jb)
	}
	if same(stored, full) {
		return nil, nil
	}
	split := splitSeccomp(full)
	if split == nil || !same(stored, split.late) {
		return nil, errors.New("seccomp: the container's profile is not its spec's")
	}
	f, err := earlyFilter(root, split)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	return f, nil
}
