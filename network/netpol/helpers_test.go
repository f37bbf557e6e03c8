package netpol

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/netnstest"
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
	netnstest.Require(tb, missing...)
}

// env is one test's node: a bridge of its own with a random /16 whose .0.1
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

func newEnv(tb testing.TB) *env {
	tb.Helper()
	requireNode(tb)
	id := netnstest.RandomID(3)
	e := &env{tb: tb, dir: tb.TempDir(), bridge: "pnp" + id}
	var err error
	if e.dp, err = New(Config{Table: "podsec-netpol-test-" + id}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.cleanup)
	// A random /16 that no route of the node overlaps, so that test runs
	// in parallel and the node's own networks are never touched.
	e.prefix = netnstest.FreePrefix(tb, 150, 200, 16)
	e.nodeIP = e.addr(0, 1)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: e.bridge}}
	if err := netlink.LinkAdd(br); err != nil {
		tb.Fatalf("adding bridge %s: %v", e.bridge, err)
	}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: netnstest.IPNet(e.nodeIP, 16)}); err != nil {
		tb.Fatalf("addressing bridge %s: %v", e.bridge, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		tb.Fatalf("bringing up %s: %v", e.bridge, err)
	}
	return e
}

// addr is the address with host part c.d in the test's /16.
func (e *env) addr(c, d byte) netip.Addr {
	a := e.prefix.Addr().As4()
	a[2], a[3] = c, d
	return netip.AddrFrom4(a)
}

// addPod makes a pod at ip in the test's /16 and serves TCP and UDP on
// its ports; the ports keep their names and protocols.
func (e *env) addPod(ns, name string, ip netip.Addr, labels map[string]string, ports ...netpol.ContainerPort) *fakePod {
	tb := e.tb
	tb.Helper()
	p := &fakePod{Pod: netpol.Pod{Namespace: ns, Name: name, Labels: labels, IP: ip, Ports: ports}}
	p.netns = filepath.Join(e.dir, "netns-"+name+"-"+ns)
	p.veth = fmt.Sprintf("%sv%d", e.bridge, len(e.pods))
	if err := netnstest.Create(p.netns); err != nil {
		tb.Fatalf("%s: %v", p.Key(), err)
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
	if err := netnstest.Do(p.netns, func() error {
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
		if err := netlink.AddrAdd(eth, &netlink.Addr{IPNet: netnstest.IPNet(p.IP, 16)}); err != nil {
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
			netnstest.ServeUDPEcho(tb, p.netns, int(cp.Port))
		} else {
			netnstest.ServeTCP(tb, p.netns, int(cp.Port), func(c net.Conn) { c.Close() })
		}
	}
	return p
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
	if err := f.AddIPNet(netlink.ConntrackOrigSrcIP, netnstest.IPNet(e.prefix.Addr(), 16)); err != nil {
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
		if err := netnstest.Remove(p.netns); err != nil {
			tb.Error(err)
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
