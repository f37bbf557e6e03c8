package network

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/podsec/podsec/internal/netnstest"
)

// newNetNS makes a network namespace bind-mounted in the test's directory,
// as the pod sandbox does under the pod's directory.
func (e *env) newNetNS() string {
	tb := e.tb
	tb.Helper()
	path := filepath.Join(e.dir, fmt.Sprintf("netns-%d", len(e.netnss)))
	if err := netnstest.Create(path); err != nil {
		tb.Fatal(err)
	}
	e.netnss = append(e.netnss, path)
	return path
}

// inNetNS runs fn on a thread in the network namespace at path.
var inNetNS = netnstest.Do

// serveTCP listens on port in a namespace and greets each client with
// "hello from NAME\n".
func serveTCP(tb testing.TB, nsPath string, port int, name string) {
	tb.Helper()
	netnstest.ServeTCP(tb, nsPath, port, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(ioTimeout))
		fmt.Fprintf(c, "hello from %s\n", name)
		c.Close()
	})
}

// serveUDPEcho echoes UDP datagrams on port in a namespace.
var serveUDPEcho = netnstest.ServeUDPEcho

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
var unmountNetNS = netnstest.Remove

// outside makes a namespace beyond the node, as a network the node routes
// to: a veth pair between the node (nodeAddr) and the namespace (outAddr)
// in a free /30. Pods reach it through FORWARD.
func (e *env) outside(t *testing.T) (nodeAddr, outAddr netip.Addr, outNS string) {
	t.Helper()
	p := netnstest.FreePrefix(t, 150, 200, 30)
	nodeAddr, outAddr = p.Addr().Next(), p.Addr().Next().Next()
	outNS = e.newNetNS()
	hostIf := "pso" + netnstest.RandomID(4)
	h, err := netns.GetFromPath(outNS)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	la := netlink.NewLinkAttrs()
	la.Name, la.Flags = hostIf, net.FlagUp
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "out0", PeerNamespace: netlink.NsFd(h)}); err != nil {
		t.Fatalf("creating veth %s: %v", hostIf, err)
	}
	deleteLinkAtEnd(t, hostIf)
	host, err := netlink.LinkByName(hostIf)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.AddrAdd(host, &netlink.Addr{IPNet: netnstest.IPNet(nodeAddr, 30)}); err != nil {
		t.Fatal(err)
	}
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	out, err := nh.LinkByName("out0")
	if err == nil {
		err = nh.AddrAdd(out, &netlink.Addr{IPNet: netnstest.IPNet(outAddr, 30)})
	}
	if err == nil {
		err = nh.LinkSetUp(out)
	}
	if err != nil {
		t.Fatalf("configuring the outside namespace: %v", err)
	}
	return nodeAddr, outAddr, outNS
}
