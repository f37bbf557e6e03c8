package oci

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/system"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// parseSignal reads a signal by number (9), name (KILL) or full name
// (SIGKILL), in any case.
func parseSignal(s string) (unix.Signal, error) {
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
func (s *signals) forward(p *libcontainer.Process, t *stdio) (int, error) {
	pid, err := p.Pid()
	if err != nil {
		return -1, err
	}
	t.resize()
	for sig := range s.ch {
		switch sig {
		case unix.SIGWINCH:
			t.resize()
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
