package probe

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dialer sets SO_LINGER to 1 s as the kubelet's ProbeDialer does, so that
// frequent probes close with a reset instead of filling the node with
// TIME_WAIT sockets.
func dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				_ = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 1})
			})
		},
	}
}
