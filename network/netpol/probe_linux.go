package netpol

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/policy/netpol"
)

// Target is a pod that Probe connects from and to.
type Target struct {
	Pod *netpol.Pod
	// NetNS is the path of the pod's network namespace; "" is the node's
	// (a hostNetwork pod).
	NetNS string
}

// DefaultProbeTimeout bounds each probe.
const DefaultProbeTimeout = time.Second

// probeParallel bounds the probes in flight: each waits in poll on a
// thread of its own.
const probeParallel = 128

// Probe tries every connection between the targets for real, each from
// inside the source's network namespace to the destination's pod IP on a
// port, and returns the observed matrix. A connection is reachable when
// the destination answers, including with a refusal (TCP RST, ICMP port
// unreachable for UDP): the packets crossed the network. It is blocked when
// nothing comes back within timeout (DefaultProbeTimeout when zero), as the
// dataplane drops what policies deny. UDP probes send a datagram and wait
// for any reply, so a UDP server that does not answer looks blocked.
func Probe(ctx context.Context, targets []Target, port int32, proto corev1.Protocol, timeout time.Duration) (*netpol.Matrix, error) {
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	pods := make([]*netpol.Pod, len(targets))
	byPod := map[*netpol.Pod]Target{}
	for i, t := range targets {
		pods[i] = t.Pod
		byPod[t.Pod] = t
	}
	m := netpol.NewMatrix(pods, port, proto)
	typ := unix.SOCK_STREAM
	switch m.Protocol {
	case corev1.ProtocolUDP:
		typ = unix.SOCK_DGRAM
	case corev1.ProtocolSCTP:
		return nil, fmt.Errorf("probing SCTP is not supported")
	}
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i, from := range m.Pods {
		src := byPod[from]
		fds, err := sockets(src.NetNS, typ, len(m.Pods))
		if err != nil {
			return nil, fmt.Errorf("probing from %s: %w", from.Key(), err)
		}
		for j, to := range m.Pods {
			fd := fds[j]
			if !to.IP.Is4() {
				unix.Close(fd)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer unix.Close(fd)
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-sem }()
				ok, err := probeFD(fd, typ, to.IP, port, timeout)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("probing %s -> %s: %w", from.Key(), to.Key(), err))
				}
				m.Allowed[i][j] = ok
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m, errors.Join(errs...)
}

// sockets makes n non-blocking sockets in a network namespace ("" is the
// caller's). A socket stays in the namespace it was made in, wherever it
// is used later.
func sockets(nsPath string, typ, n int) ([]int, error) {
	mk := func() ([]int, error) {
		fds := make([]int, 0, n)
		for range n {
			fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				for _, f := range fds {
					unix.Close(f)
				}
				return nil, fmt.Errorf("socket: %w", err)
			}
			fds = append(fds, fd)
		}
		return fds, nil
	}
	if nsPath == "" {
		return mk()
	}
	type result struct {
		fds []int
		err error
	}
	res := make(chan result, 1)
	go func() {
		// The thread changes namespace and is never unlocked: it ends
		// with this goroutine.
		runtime.LockOSThread()
		h, err := netns.GetFromPath(nsPath)
		if err != nil {
			res <- result{err: fmt.Errorf("opening network namespace %s: %w", nsPath, err)}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			res <- result{err: fmt.Errorf("entering network namespace %s: %w", nsPath, err)}
			return
		}
		fds, err := mk()
		res <- result{fds, err}
	}()
	r := <-res
	return r.fds, r.err
}

// probeFD connects a socket to ip:port and reports whether the peer
// answered (accepting or refusing) within timeout.
func probeFD(fd, typ int, ip netip.Addr, port int32, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	sa := &unix.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	err := unix.Connect(fd, sa)
	if typ == unix.SOCK_STREAM {
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.ECONNREFUSED):
			return true, nil
		case !errors.Is(err, unix.EINPROGRESS):
			return false, nil // unreachable: no route, no neighbour
		}
		if !wait(fd, unix.POLLOUT, deadline) {
			return false, nil
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return false, err
		}
		return soerr == 0 || unix.Errno(soerr) == unix.ECONNREFUSED, nil
	}
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	if _, err := unix.Write(fd, []byte("podsec-probe")); err != nil {
		return errors.Is(err, unix.ECONNREFUSED), nil
	}
	if !wait(fd, unix.POLLIN, deadline) {
		return false, nil
	}
	buf := make([]byte, 64)
	_, err = unix.Read(fd, buf)
	return err == nil || errors.Is(err, unix.ECONNREFUSED), nil
}

// wait polls fd for events until the deadline; it reports whether fd
// became ready (or failed).
func wait(fd int, events int16, deadline time.Time) bool {
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false
		}
		if n > 0 {
			return true
		}
	}
}
