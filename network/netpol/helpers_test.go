package netpol

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/netpol"
)

// requireNode fails on CI, and skips elsewhere, when the tests cannot run:
// they need root, nft (to check what is left) and br_netfilter.
func requireNode(tb testing.TB) {
	tb.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		missing = append(missing, "nft (Debian package nftables)")
	}
	if err := CheckNode(); err != nil {
		missing = append(missing, err.Error())
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("missing prerequisites on CI: %s", strings.Join(missing, ", "))
	}
	tb.Skipf("needs %s", strings.Join(missing, ", "))
}

// env is one test's node: a bridge of its own with a random /24 whose .1
// is the node's address, fake pods (network namespaces with a veth on the
// bridge), and a dataplane table of its own. Its cleanup removes them all
// and fails the test on anything left.
type env struct {
	tb     testing.TB
	dir    string
	bridge string
	prefix netip.Prefix
	nodeIP netip.Addr
	dp     *Dataplane
	ns     []netpol.Namespace
	pods   []*fakePod
}

// fakePod is a pod: a network namespace with eth0 on the bridge.
type fakePod struct {
	netpol.Pod
	netns string
	veth  string
}

func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	requireNode(tb)
	b := make([]byte, 3)
	rand.Read(b)
	id := hex.EncodeToString(b)
	e := &env{tb: tb, dir: tb.TempDir(), bridge: "pnp" + id}
	var err error
	if e.dp, err = New(Config{Table: "podsec-netpol-test-" + id}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.cleanup)
	// A random /24 that no route of the node overlaps, so that test runs
	// in parallel and the node's own networks are never touched.
	for range 20 {
		p := netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", 150+randInt(50), randInt(256)))
		if !routed(tb, p) {
			e.prefix = p
			break
		}
	}
	if !e.prefix.IsValid() {
		tb.Fatal("no free /24 in 10.150.0.0-10.199.255.255")
	}
	e.nodeIP = e.addr(1)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: e.bridge}}
	if err := netlink.LinkAdd(br); err != nil {
		tb.Fatalf("adding bridge %s: %v", e.bridge, err)
	}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: ipNet(e.nodeIP, 24)}); err != nil {
		tb.Fatalf("addressing bridge %s: %v", e.bridge, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		tb.Fatalf("bringing up %s: %v", e.bridge, err)
	}
	return e
}

func routed(tb testing.TB, p netip.Prefix) bool {
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

// addr is the address with host part n in the test's /24.
func (e *env) addr(n int) netip.Addr {
	a := e.prefix.Addr().As4()
	a[3] = byte(n)
	return netip.AddrFrom4(a)
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, 32)}
}

// addPod makes a pod with host part host in the test's /24 and serves
// TCP and UDP on its ports; the ports keep their names and protocols.
func (e *env) addPod(ns, name string, host int, labels map[string]string, ports ...netpol.ContainerPort) *fakePod {
	tb := e.tb
	tb.Helper()
	p := &fakePod{Pod: netpol.Pod{Namespace: ns, Name: name, Labels: labels, IP: e.addr(host), Ports: ports}}
	p.netns = filepath.Join(e.dir, "netns-"+name+"-"+ns)
	p.veth = fmt.Sprintf("%sv%d", e.bridge, host)
	if err := os.WriteFile(p.netns, nil, 0o400); err != nil {
		tb.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the new namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		errc <- unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), p.netns, "", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		tb.Fatalf("making network namespace for %s: %v", p.Key(), err)
	}
	e.pods = append(e.pods, p)
	br, err := netlink.LinkByName(e.bridge)
	if err != nil {
		tb.Fatal(err)
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: p.veth, MasterIndex: br.Attrs().Index}, PeerName: p.veth + "p"}
	if err := netlink.LinkAdd(veth); err != nil {
		tb.Fatalf("adding veth %s: %v", p.veth, err)
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		tb.Fatal(err)
	}
	peer, err := netlink.LinkByName(p.veth + "p")
	if err != nil {
		tb.Fatal(err)
	}
	h, err := netns.GetFromPath(p.netns)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	if err := netlink.LinkSetNsFd(peer, int(h)); err != nil {
		tb.Fatalf("moving %s into %s: %v", peer.Attrs().Name, p.netns, err)
	}
	if err := inNetNS(p.netns, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return err
		}
		eth, err := netlink.LinkByName(p.veth + "p")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetName(eth, "eth0"); err != nil {
			return err
		}
		if err := netlink.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(p.IP, 24)}); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(eth); err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(e.nodeIP.AsSlice())})
	}); err != nil {
		tb.Fatalf("configuring eth0 of %s: %v", p.Key(), err)
	}
	for _, cp := range ports {
		if cp.Protocol == "UDP" {
			serveUDP(tb, p.netns, int(cp.Port))
		} else {
			serveTCP(tb, p.netns, int(cp.Port))
		}
	}
	return p
}

// inNetNS runs fn on a thread in the network namespace at path.
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

// serveTCP accepts connections on port in a namespace and closes them.
func serveTCP(tb testing.TB, nsPath string, port int) {
	tb.Helper()
	var ln net.Listener
	if err := inNetNS(nsPath, func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		tb.Fatalf("listening on TCP %d in %s: %v", port, nsPath, err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// serveUDP echoes datagrams on port in a namespace.
func serveUDP(tb testing.TB, nsPath string, port int) {
	tb.Helper()
	var pc net.PacketConn
	if err := inNetNS(nsPath, func() (err error) {
		pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		tb.Fatalf("listening on UDP %d in %s: %v", port, nsPath, err)
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

// engine builds the verdict engine over the env's pods and namespaces.
func (e *env) engine(policies string) *netpol.Engine {
	e.tb.Helper()
	in := netpol.Input{Namespaces: e.ns, Policies: parsePolicies(e.tb, policies)}
	for _, p := range e.pods {
		in.Pods = append(in.Pods, p.Pod)
	}
	eng, err := netpol.New(in)
	if err != nil {
		e.tb.Fatalf("netpol.New: %v", err)
	}
	return eng
}

// targets are the env's pods for Probe, as the engine's pods so that the
// matrices of both have the same pods.
func (e *env) targets(eng *netpol.Engine) []Target {
	var ts []Target
	for _, p := range eng.Pods() {
		for _, fp := range e.pods {
			if fp.Key() == p.Key() {
				ts = append(ts, Target{Pod: p, NetNS: fp.netns})
			}
		}
	}
	return ts
}

// forgetConnections deletes the conntrack entries of the test's pods, so
// that a probe never rides on an entry of an earlier probe that reused its
// source port.
func (e *env) forgetConnections() {
	f := &netlink.ConntrackFilter{}
	if err := f.AddIPNet(netlink.ConntrackOrigSrcIP, ipNet(e.prefix.Addr(), 24)); err != nil {
		e.tb.Fatal(err)
	}
	if _, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f); err != nil {
		e.tb.Fatalf("deleting the test's conntrack entries: %v", err)
	}
}

func (e *env) cleanup() {
	tb := e.tb
	if err := e.dp.Remove(); err != nil {
		tb.Errorf("Remove: %v", err)
	}
	for _, p := range e.pods {
		if p.netns == "" {
			continue
		}
		if err := unix.Unmount(p.netns, unix.MNT_DETACH); err != nil {
			tb.Errorf("unmounting %s: %v", p.netns, err)
		}
		if l, err := netlink.LinkByName(p.veth); err == nil {
			netlink.LinkDel(l)
		}
	}
	if l, err := netlink.LinkByName(e.bridge); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			tb.Errorf("deleting bridge %s: %v", e.bridge, err)
		}
	}
	e.forgetConnections()
	out, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		tb.Errorf("nft list tables: %v: %s", err, out)
	}
	if strings.Contains(string(out), e.dp.Table()) {
		tb.Errorf("table %s left after Remove:\n%s", e.dp.Table(), out)
	}
	links, _ := netlink.LinkList()
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, e.bridge) {
			tb.Errorf("link %s left", l.Attrs().Name)
		}
	}
}

// sync compiles the engine and syncs the dataplane.
func (e *env) sync(eng *netpol.Engine) (Stats, time.Duration) {
	e.tb.Helper()
	start := time.Now()
	st, err := e.dp.Sync(eng.Compile())
	if err != nil {
		e.tb.Fatalf("Sync: %v", err)
	}
	return st, time.Since(start)
}

// addNode adds the node itself to the pods probed, as a hostNetwork pod
// at the bridge's address.
func (e *env) addNode() {
	e.pods = append(e.pods, &fakePod{Pod: netpol.Pod{Namespace: "node", Name: "node", IP: e.nodeIP, HostNetwork: true}})
}
