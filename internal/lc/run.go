package lc

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/internal/trace"
)

// Runner starts one process in a container as runc's command line does:
// the init (create, run) or an exec'd one, with its stdio, terminal,
// preserved file descriptors, pid file and, in the foreground, the
// signals relayed until it exits.
type Runner struct {
	C *libcontainer.Container
	// CreateOnly starts the init and leaves it waiting for start
	// (libcontainer's Start); otherwise the process runs (Run).
	CreateOnly bool
	// Init says the process is the container's init.
	Init   bool
	Detach bool
	// Destroy destroys the container when the process ends, or when
	// starting it failed.
	Destroy       bool
	Subreaper     bool
	ConsoleSocket string
	PidFile       string
	PreserveFDs   int
	// Prepare, when set, completes the process once its preserved
	// descriptors are in place (podsec-runtime's early seccomp filter).
	Prepare func(p *libcontainer.Process)
	// AfterCreate runs once p is started (libcontainer's Start: the
	// init is set up and waits, an exec'd process runs), before the
	// init's process runs: what libcontainer does not set on the
	// container, checks of p. p is killed if it fails.
	AfterCreate func(p *libcontainer.Process) error
	// AfterStart runs once the process runs (poststart hooks of run).
	AfterStart func()
}

// Run starts sp and, in the foreground, waits for it and returns its exit
// status.
func (r *Runner) Run(sp *specs.Process) (status int, err error) {
	defer func() {
		if err != nil && r.Destroy {
			r.destroyContainer()
		}
	}()
	detach := r.Detach || r.CreateOnly
	if detach && sp.Terminal && r.ConsoleSocket == "" {
		return -1, errors.New("process.terminal is true but there is no --console-socket to send the terminal to")
	}
	if (!detach || !sp.Terminal) && r.ConsoleSocket != "" {
		return -1, errors.New("--console-socket is only for a detached process with process.terminal true")
	}
	p, err := NewProcess(sp, r.Init)
	if err != nil {
		return -1, err
	}
	for i := 3; i < 3+r.PreserveFDs; i++ {
		if _, err := unix.FcntlInt(uintptr(i), unix.F_GETFD, 0); err != nil {
			return -1, fmt.Errorf("--preserve-fds: fd %d is not open: %w", i, err)
		}
		p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(i), "preserved-fd-"+strconv.Itoa(i)))
	}
	if r.Prepare != nil {
		r.Prepare(p)
	}
	var sigs *signals
	if !detach {
		sigs = catchSignals(r.Subreaper)
		defer sigs.stop()
	}
	t, err := SetupIO(p, r.C, sp.Terminal, detach, r.ConsoleSocket)
	if err != nil {
		return -1, err
	}
	defer t.Close()
	// libcontainer's Run of an init is Start, then Exec.
	end := trace.Step("start")
	err = r.C.Start(p)
	end()
	if err == nil && r.AfterCreate != nil {
		end := trace.Step("after create")
		if err = r.AfterCreate(p); err != nil {
			Terminate(p)
		}
		end()
	}
	if err == nil && !r.CreateOnly && r.Init {
		end := trace.Step("exec")
		err = r.C.Exec()
		end()
	}
	if err != nil {
		return -1, err
	}
	if err := t.WaitConsole(); err != nil {
		Terminate(p)
		return -1, err
	}
	t.Started()
	if r.PidFile != "" {
		if err := writePidFile(r.PidFile, p); err != nil {
			Terminate(p)
			return -1, err
		}
	}
	if r.AfterStart != nil {
		r.AfterStart()
	}
	if detach {
		return 0, nil
	}
	end = trace.Step("wait")
	status, err = sigs.forward(p, t)
	end()
	if err != nil {
		Terminate(p)
		return -1, err
	}
	if r.Destroy {
		defer trace.Step("destroy")()
		r.destroyContainer()
	}
	return status, nil
}

func (r *Runner) destroyContainer() {
	if err := r.C.Destroy(); err != nil {
		logrus.Warn(err)
	}
}

// writePidFile writes the process's pid to path atomically, so that a
// reader (containerd's shim, conmon) never sees a partial file.
func writePidFile(path string, p *libcontainer.Process) error {
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("writing the pid file: %w", err)
	}
	return nil
}
