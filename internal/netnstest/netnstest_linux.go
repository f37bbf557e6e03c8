// Package netnstest holds the network namespace helpers of the tests of
// network, network/netpol and runtime: a namespace bind-mounted at a path
// as the pod sandbox makes them, running code inside one, servers in one,
// random names and a /24 no route of the node overlaps, and the
// prerequisite check that fails on CI and skips elsewhere. It is imported
// by tests only.
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Require fails the test on CI (CI=true), and skips it elsewhere, when
// something it needs is missing; missing names each absent prerequisite.
func Require(tb testing.TB, missing ...string) {
	tb.Helper()
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("missing prerequisites on CI: %s", strings.Join(missing, ", "))
	}
	tb.Skipf("needs %s", strings.Join(missing, ", "))
}

// Create makes a new network namespace and bind-mounts it at path (a file
// it creates), as the pod sandbox does under the pod's directory.
func Create(path string) error {
	if err := os.WriteFile(path, nil, 0o400); err != nil {
		return err
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
		return fmt.Errorf("making network namespace %s: %w", path, err)
	}
	return nil
}

// Remove drops the mount of a namespace made by Create; with no process
// in it, the kernel then destroys it.
func Remove(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	return nil
}

// Do runs fn on a thread in the network namespace at path. Sockets fn
// makes stay in that namespace wherever they are used later.
func Do(path string, fn func() error) error {
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

// ServeTCP listens on port in the namespace at path and hands each
// connection to handle, which closes it; the listener closes at the end
// of the test.
func ServeTCP(tb testing.TB, path string, port int, handle func(net.Conn)) {
	tb.Helper()
	var ln net.Listener
	if err := Do(path, func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		tb.Fatalf("listening on TCP %d in %s: %v", port, path, err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
}

// ServeUDPEcho echoes datagrams on port in the namespace at path until
// the end of the test.
func ServeUDPEcho(tb testing.TB, path string, port int) {
	tb.Helper()
	var pc net.PacketConn
	if err := Do(path, func() (err error) {
		pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		tb.Fatalf("listening on UDP %d in %s: %v", port, path, err)
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

// RandInt is a random number in [0, n).
func RandInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

// RandomID is n random bytes in hex: unique names of links and tables,
// so that test runs in parallel never clash.
func RandomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Routed reports whether a route of the node overlaps p (the default
// route aside).
func Routed(tb testing.TB, p netip.Prefix) bool {
	tb.Helper()
	routes, err := netlink.RouteList(nil, unix.AF_INET)
	if err != nil {
		tb.Fatalf("listing routes: %v", err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		if ones == 0 {
			continue // the default route
		}
		a, _ := netip.AddrFromSlice(r.Dst.IP.To4())
		if rp := netip.PrefixFrom(a, ones); rp.Overlaps(p) {
			return true
		}
	}
	return false
}

// FreePrefix is a random prefix of the given length in 10.lo.0.0 to
// 10.(hi-1).255.255 that no route of the node overlaps.
func FreePrefix(tb testing.TB, lo, hi int64, bits int) netip.Prefix {
	tb.Helper()
	for range 20 {
		a := netip.AddrFrom4([4]byte{10, byte(lo + RandInt(hi-lo)), byte(RandInt(256)), 0})
		p, err := a.Prefix(bits)
		if err != nil {
			tb.Fatal(err)
		}
		if !Routed(tb, p) {
			return p
		}
	}
	tb.Fatalf("no free /%d in 10.%d.0.0-10.%d.255.255", bits, lo, hi-1)
	return netip.Prefix{}
}

// IPNet is a and its prefix length as a net.IPNet, as netlink takes it.
func IPNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, 32)}
}
