// Package handover executes another program in the same process and
// hands it chosen descriptors: how a detached pod's supervisor and its
// monitor (cmd/podsec-monitor) take turns in the pod's process. It needs
// only the standard library and x/sys.
package handover

import (
	"fmt"
	"os"
	goruntime "runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// stopSignals are kept blocked across the execve: a stop signalled while
// the process changes image stays pending until the next image has its
// handler (Go programs honour an inherited mask, and os/signal.Notify
// unblocks what it is asked for).
var stopSignals = []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}

// Exec executes path with argv and the process's environment, the
// descriptors keep (and only those, of the process's own) inherited. It
// returns only if the execve failed, with keep closed on exec again and
// the stop signals unblocked.
func Exec(path string, argv []string, keep []int) error {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	var set unix.Sigset_t
	for _, s := range stopSignals {
		set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
		return fmt.Errorf("blocking stop signals: %w", err)
	}
	defer unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	// No process may start while the descriptors are inheritable.
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()
	defer func() {
		for _, fd := range keep {
			unix.CloseOnExec(fd)
		}
	}()
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("keeping descriptor %d: %w", fd, err)
		}
	}
	if err := unix.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("executing %s: %w", path, err)
	}
	return nil
}

// Pipe opens a pipe's read end handed over an execve, closed on exec
// again, through the poller (so read deadlines work on it).
func Pipe(fd int, name string) *os.File {
	unix.CloseOnExec(fd)
	_ = unix.SetNonblock(fd, true)
	return os.NewFile(uintptr(fd), name)
}

// FD is a file's descriptor, read without making it blocking as
// (*os.File).Fd does: the next image reads it through the poller.
func FD(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(u uintptr) { fd = int(u) })
	}
	return fd
}
