package oci

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// action is what runner does with its process.
type action int

const (
	actCreate action = iota // start init, leave it waiting for start
	actRun                  // start init and let it run (or an exec'd process)
)

// runner starts one process in a container: the init (create, run) or an
// exec'd one.
type runner struct {
	c             *libcontainer.Container
	action        action
	init          bool
	detach        bool
	destroy       bool // destroy the container when the process ends (run)
	subreaper     bool
	consoleSocket string
	pidFile       string
	preserveFDs   int
	// afterStart runs once the process runs (poststart hooks of run).
	afterStart func()
}

// run starts p and, in the foreground, waits for it and returns its exit
// status.
func (r *runner) run(sp *specs.Process) (status int, err error) {
	defer func() {
		if err != nil && r.destroy {
			r.destroyContainer()
		}
	}()
	detach := r.detach || r.action == actCreate
	if detach && sp.Terminal && r.consoleSocket == "" {
		return -1, errors.New("process.terminal is true but there is no --console-socket to send the terminal to")
	}
	if (!detach || !sp.Terminal) && r.consoleSocket != "" {
		return -1, errors.New("--console-socket is only for a detached process with process.terminal true")
	}
	p, err := newProcess(sp)
	if err != nil {
		return -1, err
	}
	p.Init = r.init
	for i := 3; i < 3+r.preserveFDs; i++ {
		if _, err := unix.FcntlInt(uintptr(i), unix.F_GETFD, 0); err != nil {
			return -1, fmt.Errorf("--preserve-fds: fd %d is not open: %w", i, err)
		}
		p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(i), "preserved-fd-"+strconv.Itoa(i)))
	}
	var sigs *signals
	if !detach {
		sigs = catchSignals(r.subreaper)
		defer sigs.stop()
	}
	t, err := setupIO(p, r.c, sp.Terminal, detach, r.consoleSocket)
	if err != nil {
		return -1, err
	}
	defer t.Close()
	if r.action == actCreate {
		err = r.c.Start(p)
	} else {
		err = r.c.Run(p)
	}
	if err != nil {
		return -1, err
	}
	if err := t.waitConsole(); err != nil {
		terminate(p)
		return -1, err
	}
	t.started()
	if r.pidFile != "" {
		if err := writePidFile(r.pidFile, p); err != nil {
			terminate(p)
			return -1, err
		}
	}
	if r.afterStart != nil {
		r.afterStart()
	}
	if detach {
		return 0, nil
	}
	status, err = sigs.forward(p, t)
	if err != nil {
		terminate(p)
		return -1, err
	}
	if r.destroy {
		r.destroyContainer()
	}
	return status, nil
}

func (r *runner) destroyContainer() {
	if err := r.c.Destroy(); err != nil {
		logrus.Warn(err)
	}
}

func terminate(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}
