package network

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// newNetNS makes a network namespace bind-mounted in the test's directory,
// as the pod sandbox does under the pod's directory.
func (e *env) newNetNS() string {
	tb := e.tb
	tb.Helper()
	path := filepath.Join(e.dir, fmt.Sprintf("netns-%d", len(e.netnss)))
	if err := os.WriteFile(path, nil, 0o400); err != nil {
		tb.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it ends with the goroutine, in the
		// namespace it made.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		errc <- unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		tb.Fatalf("making network namespace %s: %v", path, err)
	}
	e.netnss = append(e.netnss, path)
	return path
}

// inNetNS runs fn on a thread in the network namespace at path. Sockets fn
// makes stay in that namespace wherever they are used later.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with it
		h, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// serveTCP listens on port in a namespace and greets each client with
// "hello from NAME\n".
func serveTCP(tb testing.TB, nsPath string, port int, name string) {
	tb.Helper()
	var ln net.Listener
	if err := inNetNS(nsPath, func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		tb.Fatalf("listening in %s: %v", nsPath, err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(ioTimeout))
			fmt.Fprintf(c, "hello from %s\n", name)
			c.Close()
		}
	}()
}

// serveUDPEcho echoes UDP datagrams on port in a namespace.
func serveUDPEcho(tb testing.TB, nsPath string, port int) {
	tb.Helper()
	var pc net.PacketConn
	if err := inNetNS(nsPath, func() (err error) {
		pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		tb.Fatalf("listening on UDP in %s: %v", nsPath, err)
	}
	tb.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
}

// greeting connects to addr over TCP, from the namespace nsPath ("" is the
// node's), and returns the first line the server sends.
func greeting(nsPath, addr string) (string, error) {
	var c net.Conn
	dial := func() (err error) {
		c, err = net.DialTimeout("tcp4", addr, ioTimeout)
		return err
	}
	var err error
	if nsPath == "" {
		err = dial()
	} else {
		err = inNetNS(nsPath, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	b, err := io.ReadAll(c)
	return strings.TrimSpace(string(b)), err
}

// udpEcho sends a datagram to addr from the node and waits for its echo,
// retrying a few times within ioTimeout (UDP may lose the first one).
func udpEcho(addr, msg string) (string, error) {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	deadline := time.Now().Add(ioTimeout)
	buf := make([]byte, 1500)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n]), nil
		}
	}
	return "", fmt.Errorf("no echo from %s within %s", addr, ioTimeout)
}

// freePort finds a port no process of the node holds for proto.
func freePort(tb testing.TB, proto string) int32 {
	tb.Helper()
	switch proto {
	case "UDP":
		pc, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			tb.Fatal(err)
		}
		defer pc.Close()
		return int32(pc.LocalAddr().(*net.UDPAddr).Port)
	default:
		ln, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			tb.Fatal(err)
		}
		defer ln.Close()
		return int32(ln.Addr().(*net.TCPAddr).Port)
	}
}

// podIPs gives the IPv4 addresses of eth0 in a namespace.
func podIPs(tb testing.TB, nsPath string) []*net.IPNet {
	tb.Helper()
	h, err := netns.GetFromPath(nsPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		tb.Fatal(err)
	}
	defer nh.Close()
	l, err := nh.LinkByName("eth0")
	if err != nil {
		tb.Fatalf("eth0 in %s: %v", nsPath, err)
	}
	addrs, err := nh.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		tb.Fatal(err)
	}
	var out []*net.IPNet
	for _, a := range addrs {
		out = append(out, a.IPNet)
	}
	return out
}

// links gives the names of the links in a namespace.
func links(tb testing.TB, nsPath string) []string {
	tb.Helper()
	h, err := netns.GetFromPath(nsPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		tb.Fatal(err)
	}
	defer nh.Close()
	ls, err := nh.LinkList()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.Attrs().Name)
	}
	return out
}

// unmountNetNS drops the test's mount of a namespace; with no process in
// it, the kernel then destroys it.
func unmountNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	return nil
}
