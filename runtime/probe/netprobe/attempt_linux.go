package netprobe

import (
	"bufio"
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Attempt connects to addr (an IP address and port) within timeout:
// Success if it opens. With a request (an httpGet probe's, Connection:
// close), it writes it and reads the status line: Success for 2xx,
// Failure for 4xx and 5xx, and redirect for 3xx, which the kubelet
// follows to the same host (Attempt does not: it is the supervisor's).
// Timeouts, refusals and malformed answers are Failure; an address that
// does not parse is Unknown.
//
// The socket goes through the runtime's poller (a non-blocking
// descriptor in an os.File), so a probe neither blocks a thread nor
// needs the net package; SO_LINGER is 1 s, as the kubelet's ProbeDialer
// sets, so frequent probes end with a reset and leave no TIME_WAIT.
func Attempt(addr string, request []byte, timeout time.Duration) (res Result, redirect bool) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Unknown, false
	}
	ip := ap.Addr().Unmap()
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip.Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16(), ZoneId: zone(ip.Zone())}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return Unknown, false
	}
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 1})
	// Registered with the poller before connecting: no readiness is missed.
	f := os.NewFile(uintptr(fd), "probe")
	defer f.Close()
	if err := f.SetDeadline(time.Now().Add(timeout)); err != nil {
		return Unknown, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return Unknown, false
	}
	var cerr error
	if err := rc.Write(func(fd uintptr) bool {
		// Linux answers a connect again with its progress or its outcome.
		switch e := unix.Connect(int(fd), sa); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		case nil, unix.EISCONN:
			cerr = nil
		default:
			cerr = e
		}
		return true
	}); err != nil || cerr != nil {
		return Failure, false
	}
	if len(request) == 0 {
		return Success, false
	}
	if _, err := f.Write(request); err != nil {
		return Failure, false
	}
	code, ok := statusCode(bufio.NewReaderSize(f, 512))
	switch {
	case !ok:
		return Failure, false
	case code >= 200 && code < 300:
		return Success, false
	case code >= 300 && code < 400:
		return Unknown, true
	}
	return Failure, false
}

// statusCode reads an HTTP/1.x status line's code.
func statusCode(r *bufio.Reader) (int, bool) {
	line, err := r.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, false
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.")) || len(line) < 12 || line[8] != ' ' {
		return 0, false
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 100 {
		return 0, false
	}
	return code, true
}

func zone(z string) uint32 {
	if z == "" {
		return 0
	}
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n)
	}
	return 0
}
