package netprobe

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Attempt connects to addr (an IP address and port) within timeout:
// Success if it opens. With a request (an httpGet probe's, Connection:
// close), it writes it and reads the status line: Success for 2xx,
// Failure for 1xx, 4xx and 5xx, and redirect for 3xx, which the kubelet
// follows to the same host (Attempt does not: it is the supervisor's).
// Timeouts, refusals and malformed answers are Failure; an address that
// does not parse is Unknown.
//
// It works on a raw non-blocking socket with poll(2): no net package, no
// os.File, and almost no garbage, so a long-lived watcher making an
// attempt every few seconds keeps a steady heap. SO_LINGER is 1 s, as
// the kubelet's ProbeDialer sets, so frequent probes end with a reset
// and leave no TIME_WAIT.
func Attempt(addr string, request []byte, timeout time.Duration) (res Result, redirect bool) {
	sa := resolve(addr)
	if sa == nil {
		return Unknown, false
	}
	return sa.attempt(request, timeout)
}

// sockAddr is a parsed address, kept by a Spec between its attempts.
type sockAddr struct {
	family int
	sa     unix.Sockaddr
}

// resolve parses an IP address and port in the form Spec.Addr has; nil
// if it is not in that form. It does not use net/netip, whose package
// initialisation alone costs a small process like podsec-monitor heap.
func resolve(addr string) *sockAddr {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return nil
	}
	port, err := strconv.ParseUint(addr[i+1:], 10, 16)
	if err != nil {
		return nil
	}
	host := addr[:i]
	if v4, ok := parse4(host); ok {
		return &sockAddr{unix.AF_INET, &unix.SockaddrInet4{Port: int(port), Addr: v4}}
	}
	if len(host) != 2+8*4+7 || host[0] != '[' || host[len(host)-1] != ']' {
		return nil
	}
	var v6 [16]byte
	for g := 0; g < 8; g++ {
		f := host[1+g*5 : 1+g*5+4]
		if g < 7 && host[1+g*5+4] != ':' {
			return nil
		}
		n, err := strconv.ParseUint(f, 16, 16)
		if err != nil {
			return nil
		}
		v6[2*g], v6[2*g+1] = byte(n>>8), byte(n)
	}
	return &sockAddr{unix.AF_INET6, &unix.SockaddrInet6{Port: int(port), Addr: v6}}
}

// parse4 parses a dotted IPv4 address of four decimal bytes.
func parse4(s string) (ip [4]byte, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return ip, false
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return ip, false
		}
		ip[i] = byte(n)
	}
	return ip, true
}

func (a *sockAddr) attempt(request []byte, timeout time.Duration) (res Result, redirect bool) {
	deadline := time.Now().Add(timeout)
	fd, err := unix.Socket(a.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return Unknown, false
	}
	defer unix.Close(fd)
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 1})
	switch err := unix.Connect(fd, a.sa); err {
	case nil:
	case unix.EINPROGRESS, unix.EINTR:
		if !wait(fd, unix.POLLOUT, deadline) {
			return Failure, false
		}
		if e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || e != 0 {
			return Failure, false
		}
	default:
		return Failure, false
	}
	if len(request) == 0 {
		return Success, false
	}
	for off := 0; off < len(request); {
		n, err := unix.Write(fd, request[off:])
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			if !wait(fd, unix.POLLOUT, deadline) {
				return Failure, false
			}
		case err != nil:
			return Failure, false
		default:
			off += n
		}
	}
	var buf [64]byte
	n := 0
	for n < len(buf) && bytes.IndexByte(buf[:n], '\n') < 0 {
		m, err := unix.Read(fd, buf[n:])
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			if !wait(fd, unix.POLLIN, deadline) {
				return Failure, false
			}
		case err != nil:
			return Failure, false
		case m == 0:
			return status(buf[:n])
		default:
			n += m
		}
	}
	return status(buf[:n])
}

// wait polls fd for events until the deadline.
func wait(fd int, events int16, deadline time.Time) bool {
	for {
		ms := time.Until(deadline).Milliseconds()
		if ms <= 0 {
			return false
		}
		fds := [1]unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(fds[:], int(min(ms+1, 1<<30)))
		if err == unix.EINTR {
			continue
		}
		// Readiness or an error condition: the next call tells which.
		return err == nil && n > 0
	}
}

// status judges an HTTP/1.x status line.
func status(line []byte) (Result, bool) {
	if !bytes.HasPrefix(line, []byte("HTTP/1.")) || len(line) < 12 || line[8] != ' ' {
		return Failure, false
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return Failure, false
		}
		code = code*10 + int(c-'0')
	}
	switch {
	case code >= 200 && code < 300:
		return Success, false
	case code >= 300 && code < 400:
		return Unknown, true
	}
	return Failure, false
}
