package network

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/netnstest"
)

// otherRoot is a second state root (--root) beside e's on the node: its
// own state directory and records, the same conf dir, hence the same
// default conflist, bridge, subnet and host-local data, as two roots
// sharing /etc/cni/net.d have. Its pods are torn down and it is closed
// before e's cleanup runs.
func (e *env) otherRoot(t *testing.T) *env {
	t.Helper()
	o := &env{tb: t, dir: t.TempDir(), cfg: e.cfg}
	o.cfg.StateDir = filepath.Join(o.dir, "state")
	var err error
	if o.m, err = New(o.cfg); err != nil {
		t.Fatalf("New(%+v): %v", o.cfg, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := o.m.GC(ctx, func(PodRef) bool { return false }); err != nil {
			t.Errorf("GC of the other root: %v", err)
		}
		if err := o.m.Close(ctx); err != nil {
			t.Errorf("Close of the other root: %v", err)
		}
		if n := o.forwardRules(t); n != 0 {
			t.Errorf("%d FORWARD rules of the other root left after its Close", n)
		}
	})
	return o
}

// TestTwoRootsForward: two state roots share the bridge, and each its
// own FORWARD rules. The administrator drops, in CNI-ADMIN, what pods
// send to port 8080 of a namespace beyond the node. Root A's last pod
// goes and A closes: root B's pod keeps B's jumps to CNI-ADMIN and the
// drop still holds for it. Before, A took out every rule of the bridge,
// B's with them, and B's pod then reached the port. The control: port
// 8081 of the same address, which the drop does not name, is reached
// before and after (it was not, for half a minute, when pod a's veth had
// the lowest MAC of the bridge's ports: the bridge, whose address was
// not set, took another, and pod b's ARP entry for the gateway was
// stale).
func TestTwoRootsForward(t *testing.T) {
	withCNIAdmin(t) // before the envs: its cleanup then runs after theirs
	a := newEnv(t, BackendInProcess)
	_, outAddr, outNS := a.outside(t)
	drop := []string{cniAdminChain, "-d", outAddr.String(), "-p", "tcp", "--dport", "8080",
		"-m", "comment", "--comment", "podsec-test-" + netnstest.RandomID(4), "-j", "DROP"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, drop...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables -I %v: %v: %s", drop, err, out)
	}
	t.Cleanup(func() { exec.Command("iptables", append([]string{"-D"}, drop...)...).Run() })
	for _, port := range []int{8080, 8081} {
		serveTCP(t, outNS, port, "outside")
	}
	b := a.otherRoot(t)
	ctx := context.Background()
	if _, err := a.m.Setup(ctx, ref("a"), a.newNetNS(), nil); err != nil {
		t.Fatalf("Setup(a) in root A: %v", err)
	}
	nsB := a.newNetNS()
	if _, err := b.m.Setup(ctx, ref("b"), nsB, nil); err != nil {
		t.Fatalf("Setup(b) in root B: %v", err)
	}
	check := func(when string) {
		t.Helper()
		if n := b.forwardRules(t); n != 2 {
			t.Errorf("%s: root B has %d FORWARD rules, want its 2 jumps to %s", when, n, cniAdminChain)
		}
		if got, err := greeting(nsB, net.JoinHostPort(outAddr.String(), "8081")); err != nil || got != "hello from outside" {
			t.Errorf("%s: pod b to %s:8081 (allowed) = %q, %v, want the greeting", when, outAddr, got, err)
		}
		if got, err := greeting(nsB, net.JoinHostPort(outAddr.String(), "8080")); err == nil {
			t.Errorf("%s: pod b reached %s:8080 (%q), which CNI-ADMIN drops", when, outAddr, got)
		}
	}
	check("with a pod in each root")
	br, err := netlink.LinkByName(a.cfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.m.Teardown(ctx, ref("a")); err != nil {
		t.Fatalf("Teardown(a), root A's last pod: %v", err)
	}
	if err := a.m.Close(ctx); err != nil {
		t.Fatalf("Close of root A: %v", err)
	}
	after, err := netlink.LinkByName(a.cfg.Bridge)
	if err != nil {
		t.Fatalf("bridge %s after root A's last pod and Close, with root B's pod on it: %v", a.cfg.Bridge, err)
	}
	// The gateway's MAC stays, or pod b's ARP entry for it points nowhere.
	if was, is := br.Attrs().HardwareAddr.String(), after.Attrs().HardwareAddr.String(); was != is {
		t.Errorf("bridge %s changed its MAC from %s to %s when pod a left", a.cfg.Bridge, was, is)
	}
	if n := a.forwardRules(t); n != 0 {
		t.Errorf("root A's %d FORWARD rules left after its Close", n)
	}
	check("after root A's last pod and Close")
}

// TestBridgeDeletionWaitsForSetup: the last pod's Teardown, or Close, of
// one root does not delete the bridge while another root's Setup holds
// the node lock between finding the bridge and putting its veth on it.
// The test plays that Setup: it takes the node lock, makes the bridge as
// Setup does, sees root A block on the lock (in /proc/locks), then puts a
// veth on the bridge and lets go. The bridge and the veth stay.
func TestBridgeDeletionWaitsForSetup(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(e *env) error
	}{
		{"last pod's Teardown", func(e *env) error { return e.m.Teardown(context.Background(), ref("a")) }},
		{"Close", func(e *env) error { return e.m.Close(context.Background()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, BackendInProcess)
			if tc.name != "Close" {
				if _, err := e.m.Setup(context.Background(), ref("a"), e.newNetNS(), nil); err != nil {
					t.Fatalf("Setup(a): %v", err)
				}
			}
			nl, err := lockNode()
			if err != nil {
				t.Fatal(err)
			}
			locked := true
			defer func() {
				if locked {
					nl.unlock()
				}
			}()
			_, sn, _ := net.ParseCIDR(e.cfg.Subnet)
			br, err := ensureBridge(e.cfg.Bridge, &net.IPNet{IP: gatewayOf(sn), Mask: sn.Mask})
			if err != nil {
				t.Fatal(err)
			}
			done := async(func() error { return tc.run(e) })
			waitLockWaiter(t, nodeLockPath)
			veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "psr" + netnstest.RandomID(4), MasterIndex: br.Attrs().Index},
				PeerName: "psq" + netnstest.RandomID(4)}
			if err := netlink.LinkAdd(veth); err != nil {
				t.Fatalf("putting veth %s on bridge %s: %v", veth.Name, e.cfg.Bridge, err)
			}
			deleteLinkAtEnd(t, veth.Name)
			nl.unlock()
			locked = false
			if err := done(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if _, err := netlink.LinkByName(e.cfg.Bridge); err != nil {
				t.Fatalf("bridge %s after %s, with another root's veth on it: %v", e.cfg.Bridge, tc.name, err)
			}
			l, err := netlink.LinkByName(veth.Name)
			if err != nil || l.Attrs().MasterIndex != br.Attrs().Index {
				t.Errorf("veth %s after %s: %v, want it on bridge %s", veth.Name, tc.name, err, e.cfg.Bridge)
			}
		})
	}
}

// waitLockWaiter waits until a thread of this process waits for the
// flock of path, as /proc/locks shows it ("->" before the waiter).
func waitLockWaiter(t *testing.T, path string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	pid := fmt.Sprint(os.Getpid())
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		f, err := os.Open("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// 1: -> FLOCK  ADVISORY  WRITE 1234 00:19:567 0 EOF
			fs := strings.Fields(sc.Text())
			if len(fs) >= 7 && fs[1] == "->" && fs[2] == "FLOCK" && fs[5] == pid && fs[6] == id {
				f.Close()
				return
			}
		}
		f.Close()
	}
	t.Fatalf("no thread of this process waited for the lock %s within 10s", path)
}

// TestBridgeMACStays: the bridge keeps its MAC, the pods' gateway's, when
// a port with a lower MAC comes and goes. A bridge whose address was never
// set takes the lowest of its ports', and the other pods' ARP entries
// then point nowhere for half a minute; that of an older podsec, made
// without one, gets its own pinned at the next Setup.
func TestBridgeMACStays(t *testing.T) {
	for _, older := range []bool{false, true} {
		t.Run(fmt.Sprintf("older podsec's bridge %v", older), func(t *testing.T) {
			e := newEnv(t, BackendInProcess)
			if older {
				if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: e.cfg.Bridge}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.m.Setup(context.Background(), ref("a"), e.newNetNS(), nil); err != nil {
				t.Fatalf("Setup(a): %v", err)
			}
			mac := func() string {
				t.Helper()
				br, err := netlink.LinkByName(e.cfg.Bridge)
				if err != nil {
					t.Fatal(err)
				}
				return br.Attrs().HardwareAddr.String()
			}
			was := mac()
			br, _ := netlink.LinkByName(e.cfg.Bridge)
			low, _ := net.ParseMAC("00:00:00:00:00:01")
			v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "psm" + netnstest.RandomID(4), MasterIndex: br.Attrs().Index, HardwareAddr: low},
				PeerName: "psn" + netnstest.RandomID(4)}
			if err := netlink.LinkAdd(v); err != nil {
				t.Fatalf("putting veth %s on bridge %s: %v", v.Name, e.cfg.Bridge, err)
			}
			deleteLinkAtEnd(t, v.Name)
			if is := mac(); is != was {
				t.Errorf("bridge %s took MAC %s, was %s, when a port of MAC %s came", e.cfg.Bridge, is, was, low)
			}
			if l, err := netlink.LinkByName(v.Name); err == nil {
				netlink.LinkDel(l)
			}
			if is := mac(); is != was {
				t.Errorf("bridge %s has MAC %s, was %s, after that port left", e.cfg.Bridge, is, was)
			}
		})
	}
}

// deleteLinkAtEnd deletes the link name, if it is still there, when the
// test ends.
func deleteLinkAtEnd(t *testing.T, name string) {
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			netlink.LinkDel(l)
		}
	})
}

// TestTwoRootsHostPort: a hostPort held by a pod of one state root is
// refused to a pod of another root (ErrPortConflict), and given once the
// first pod is gone. Before, each root checked only its own records, and
// the DNAT of a port is no listener the probe finds: root B's pod got
// root A's hostPort, both roots' NAT tables sent it to their own pod, and
// the first table the kernel ran took A's pod's traffic (through CNI,
// portmap's chains did the same). The pod answering on the port from the
// node stays A's.
func TestTwoRootsHostPort(t *testing.T) { eachBackend(t, testTwoRootsHostPort) }

func testTwoRootsHostPort(t *testing.T, be Backend) {
	a := newEnv(t, be)
	b := a.otherRoot(t)
	ctx := context.Background()
	port := freePort(t, "TCP")
	pm := []PortMapping{{HostPort: port, ContainerPort: 8080, Protocol: "TCP"}}
	nsA, nsB := a.newNetNS(), a.newNetNS()
	serveTCP(t, nsA, 8080, "a")
	serveTCP(t, nsB, 8080, "b")
	if _, err := a.m.Setup(ctx, ref("a"), nsA, pm); err != nil {
		t.Fatalf("Setup(a) in root A: %v", err)
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	_, err := b.m.Setup(ctx, ref("b"), nsB, []PortMapping{{HostPort: port, ContainerPort: 8080, Protocol: "TCP", HostIP: "127.0.0.1"}})
	if !errors.Is(err, ErrPortConflict) {
		t.Errorf("Setup(b) in root B with root A's hostPort %d: %v, want ErrPortConflict", port, err)
	}
	if err == nil {
		if err := b.m.Teardown(ctx, ref("b")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.m.CheckPorts(ref("b"), pm); !errors.Is(err, ErrPortConflict) {
		t.Errorf("CheckPorts(b) in root B with root A's hostPort %d: %v, want ErrPortConflict", port, err)
	}
	if got, err := greeting("", addr); err != nil || got != "hello from a" {
		t.Errorf("the node to %s: %q, %v, want pod a's greeting", addr, got, err)
	}
	if err := a.m.Teardown(ctx, ref("a")); err != nil {
		t.Fatalf("Teardown(a): %v", err)
	}
	if _, err := b.m.Setup(ctx, ref("b"), nsB, pm); err != nil {
		t.Fatalf("Setup(b) in root B once pod a left: %v", err)
	}
	if got, err := greeting("", addr); err != nil || got != "hello from b" {
		t.Errorf("the node to %s: %q, %v, want pod b's greeting", addr, got, err)
	}
}

// TestStateDirSpellings: one state root reached by two paths (a symbolic
// link, as two --root spellings give) is one root: the pod set up through
// one and torn down through the other leaves no table behind. Before, the
// tables were named by a hash of the path as given: each spelling had
// its own guard and NAT tables, and the first spelling's kept the pod's
// hostPort DNAT to an address the next pod may be given.
func TestStateDirSpellings(t *testing.T) {
	e := newEnv(t, BackendInProcess)
	link := filepath.Join(e.dir, "link")
	if err := os.Symlink(e.cfg.StateDir, link); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.StateDir = link
	other, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	if a, b := e.m.GuardTable(), other.GuardTable(); a != b {
		t.Errorf("guard tables of %s and its link %s: %s and %s, want one", e.cfg.StateDir, link, a, b)
	}
	if a, b := e.m.NATTable(), other.NATTable(); a != b {
		t.Errorf("NAT tables of %s and its link %s: %s and %s, want one", e.cfg.StateDir, link, a, b)
	}
	ctx := context.Background()
	port := freePort(t, "TCP")
	att, err := e.m.Setup(ctx, ref("a"), e.newNetNS(), []PortMapping{{HostPort: port, ContainerPort: 8080, Protocol: "TCP"}})
	if err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	// An older podsec, reached through the link, named its table by the
	// link: the same root's, it goes with the pod.
	legacy := NATTablePrefix + "-" + other.legacyTableHash()
	if out, err := exec.Command("nft", "add", "table", "ip", legacy).CombinedOutput(); err != nil {
		t.Fatalf("nft add table ip %s: %v: %s", legacy, err, out)
	}
	t.Cleanup(func() { exec.Command("nft", "delete", "table", "ip", legacy).Run() })
	if err := other.Teardown(ctx, ref("a")); err != nil {
		t.Fatalf("Teardown(a) through %s: %v", link, err)
	}
	if err := exec.Command("nft", "list", "table", "ip", legacy).Run(); err == nil {
		t.Errorf("the older podsec's table %s of the root is left after its last pod's Teardown", legacy)
	}
	if rules := ruleset(t); strings.Contains(rules, att.IP.String()) {
		t.Errorf("rules naming pod a's address %s left after its Teardown through %s:\n%s", att.IP, link, grep(rules, att.IP.String()))
	}
}
