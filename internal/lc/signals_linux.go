package lc

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/system"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// ParseSignal reads a signal by number (9), name (KILL) or full name
// (SIGKILL), in any case.
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("unknown signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", s)
	}
	return sig, nil
}

// signals catches every signal for a foreground process: they are
// forwarded to it, SIGCHLD reaps, SIGWINCH resizes its terminal. Catching
// starts before the process does, so nothing sent meanwhile is lost.
type signals struct {
	ch chan os.Signal
}

func catchSignals(subreaper bool) *signals {
	if subreaper {
		// Orphans of the container's processes are ours to reap, not
		// the node's init's.
		if err := system.SetSubreaper(1); err != nil {
			logrus.Warn(err)
		}
	}
	s := &signals{ch: make(chan os.Signal, 2048)}
	signal.Notify(s.ch)
	return s
}

// forward relays signals to p until it exits and returns its exit status
// (128+N for a signal, as a shell says).
func (s *signals) forward(p *libcontainer.Process, t *Stdio) (int, error) {
	pid, err := p.Pid()
	if err != nil {
		return -1, err
	}
	t.Resize()
	for sig := range s.ch {
		switch sig {
		case unix.SIGWINCH:
			t.Resize()
		case unix.SIGCHLD:
			for {
				var ws unix.WaitStatus
				wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
				if err != nil || wpid <= 0 {
					break
				}
				if wpid == pid {
					_, _ = p.Wait()
					return utils.ExitStatus(ws), nil
				}
			}
		case unix.SIGURG:
			// The Go runtime's preemption signal, not the user's.
		default:
			if err := p.Signal(sig); err != nil {
				logrus.Debugf("forwarding %v: %v", sig, err)
			}
		}
	}
	return -1, nil
}

// stop ends the catching.
func (s *signals) stop() { signal.Stop(s.ch) }

// KillAll signals every process of the container. A container that no
// longer runs is not an error: the processes are gone already.
func KillAll(c *libcontainer.Container, sig unix.Signal) error {
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

// Kill kills the container's processes, waits for its init to
// go (10s at most), then destroys it.
func Kill(c *libcontainer.Container) error {
	if st, err := c.Status(); err == nil && st == libcontainer.Paused {
		_ = KillAll(c, unix.SIGKILL)
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

// Terminate kills p and reaps it: a process started for nothing.
func Terminate(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}
