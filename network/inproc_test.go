package network

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/podsec/podsec/internal/netnstest"
)

// TestHostPortThroughNode reaches a pod's hostPort on the node's address
// on the bridge (the gateway): from another pod, and from the pod itself,
// whose packets must then come back through the node (hairpin) rather
// than be answered to itself.
func TestHostPortThroughNode(t *testing.T) { eachBackend(t, testHostPortThroughNode) }

func testHostPortThroughNode(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	nsA, nsB := e.newNetNS(), e.newNetNS()
	port := freePort(t, "TCP")
	a, err := e.m.Setup(ctx, ref("a"), nsA, []PortMapping{{HostPort: port, ContainerPort: 8080}})
	if err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	if _, err := e.m.Setup(ctx, ref("b"), nsB, nil); err != nil {
		t.Fatalf("Setup(b): %v", err)
	}
	serveTCP(t, nsA, 8080, "a")
	addr := net.JoinHostPort(a.Gateway.String(), fmt.Sprint(port))
	for _, tc := range []struct{ name, from string }{{"from another pod", nsB}, {"from the pod itself", nsA}} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := greeting(tc.from, addr); err != nil || got != "hello from a" {
				t.Errorf("greeting(%q) = %q, %v; want %q", addr, got, err, "hello from a")
			}
		})
	}
}

// TestMasquerade checks the conflist's ipMasq: a pod reaching an address
// beyond the node (here a namespace the node routes to, which has no
// route back to the pod subnet) is seen with the node's address.
func TestMasquerade(t *testing.T) { eachBackend(t, testMasquerade) }

func testMasquerade(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	nodeAddr, outAddr, outNS := e.outside(t)
	netnstest.ServeTCP(t, outNS, 8080, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(ioTimeout))
		fmt.Fprintf(c, "%s\n", c.RemoteAddr().(*net.TCPAddr).IP)
		c.Close()
	})
	nsA := e.newNetNS()
	if _, err := e.m.Setup(ctx, ref("a"), nsA, nil); err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	addr := net.JoinHostPort(outAddr.String(), "8080")
	if got, err := greeting(nsA, addr); err != nil || got != nodeAddr.String() {
		t.Errorf("the outside saw the pod as %q (%v), want the node's %s", got, err, nodeAddr)
	}
}

// TestInterruptedSetupAndTeardown leaves what a podsec killed in the
// middle of the in-process Setup, or of Teardown, leaves (a pending record
// with a veth and an address), and checks that GC in a fresh Manager frees
// the address, the veth and the table entries.
func TestInterruptedSetupAndTeardown(t *testing.T) {
	for _, step := range []string{"setup", "teardown"} {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t, BackendInProcess)
			ctx := context.Background()
			ns := e.newNetNS()
			a := &Attachment{Pod: ref("killed"), ContainerID: newContainerID(), NetNS: ns, Network: e.m.list.Name,
				IfName: podIfName, Pending: true, InProcess: true, Masquerade: true, HostIf: newHostIfName(),
				Ports: []PortMapping{{HostPort: freePort(t, "TCP"), ContainerPort: 80, Protocol: "TCP"}}}
			if err := e.m.reserve(a); err != nil {
				t.Fatal(err)
			}
			if err := e.m.attachInProcess(a, ns); err != nil {
				t.Fatal(err)
			}
			if step == "teardown" {
				// Committed, then killed once detachInProcess took the
				// pod out of the tables.
				if err := e.m.commit(a); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(ruleset(t), leftoverMark(BackendInProcess, a)) {
					t.Fatalf("no DNAT to %s after commit: the check below would prove nothing", a.IP)
				}
				a.Pending = true
				if err := e.m.writeRecord(a); err != nil {
					t.Fatal(err)
				}
				if err := e.m.syncGuard(); err != nil {
					t.Fatal(err)
				}
			}
			if got := links(t, ns); strings.Join(got, ",") != "lo,eth0" {
				t.Fatalf("links of the pod's netns = %v, want [lo eth0]: nothing to clean up", got)
			}
			if n := ipamFiles(e); n != 1 {
				t.Fatalf("IPAM allocations = %d, want 1: nothing to clean up", n)
			}
			fresh, err := New(e.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := fresh.GC(ctx, func(PodRef) bool { return false }); err != nil {
				t.Fatalf("GC: %v", err)
			}
			e.checkGone(a)
			if got := links(t, ns); strings.Join(got, ",") != "lo" {
				t.Errorf("links of the pod's netns after GC = %v, want [lo]", got)
			}
			if n := ipamFiles(e); n != 0 {
				t.Errorf("IPAM allocations after GC = %d, want 0", n)
			}
			if _, err := netlink.LinkByName(a.HostIf); err == nil {
				t.Errorf("veth %s left after GC", a.HostIf)
			}
		})
	}
}

// TestIPAMHostLocalFormat runs Debian's host-local plugin on the in-process
// network's IPAM data: it must skip the address podsec allocated (and go
// on after it, from last_reserved_ip), podsec must release what
// host-local allocated, and host-local what podsec did.
func TestIPAMHostLocalFormat(t *testing.T) {
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	a, err := e.m.Setup(ctx, ref("a"), e.newNetNS(), nil)
	if err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	dir := filepath.Join(e.m.ipamData, e.m.list.Name)
	b, err := os.ReadFile(filepath.Join(dir, a.IP.String()))
	if want := a.ContainerID + "\r\n" + podIfName; err != nil || string(b) != want {
		t.Fatalf("IPAM file of %s = %q, %v; want %q", a.IP, b, err, want)
	}
	conf, _ := json.Marshal(map[string]any{"cniVersion": "1.0.0", "name": e.m.list.Name,
		"ipam": map[string]any{"type": "host-local", "dataDir": e.m.ipamData,
			"ranges": [][]map[string]string{{{"subnet": e.cfg.Subnet}}}}})
	hostLocal := func(cmd, id string) string {
		t.Helper()
		c := exec.Command("/usr/lib/cni/host-local")
		c.Env = []string{"CNI_COMMAND=" + cmd, "CNI_CONTAINERID=" + id, "CNI_NETNS=/proc/self/ns/net",
			"CNI_IFNAME=" + podIfName, "CNI_PATH=/usr/lib/cni"}
		c.Stdin = bytes.NewReader(conf)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("host-local %s %s: %v: %s", cmd, id, err, out)
		}
		return string(out)
	}
	out := hostLocal("ADD", "other")
	var res struct{ IPs []struct{ Address string } }
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.IPs) != 1 {
		t.Fatalf("host-local ADD: %v: %s", err, out)
	}
	ip, _, _ := net.ParseCIDR(res.IPs[0].Address)
	want := make(net.IP, 4)
	copy(want, a.IP.To4())
	want[3]++
	if !ip.Equal(want) {
		t.Errorf("host-local ADD after podsec allocated %s gave %s, want %s", a.IP, ip, want)
	}
	if err := e.m.ipam().release("other", podIfName); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ip.String())); err == nil {
		t.Errorf("podsec's release left host-local's allocation %s", ip)
	}
	hostLocal("DEL", a.ContainerID)
	if _, err := os.Stat(filepath.Join(dir, a.IP.String())); err == nil {
		t.Errorf("host-local DEL left podsec's allocation %s", a.IP)
	}
	if err := e.m.Teardown(ctx, a.Pod); err != nil {
		t.Fatalf("Teardown(a) after host-local freed its address: %v", err)
	}
}

// TestTablesOfAnotherLayout finds a guard table of another layout (a set
// of the same name with another type, as an older podsec may leave), and
// checks that Setup rebuilds it rather than fail.
func TestTablesOfAnotherLayout(t *testing.T) {
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	g := e.m.GuardTable()
	for _, c := range [][]string{{"add", "table", "bridge", g}, {"add", "set", "bridge", g, guardPorts, "{ type ipv4_addr; }"}} {
		if out, err := exec.Command("nft", c...).CombinedOutput(); err != nil {
			t.Fatalf("nft %v: %v: %s", c, err, out)
		}
	}
	// The layout now differs, so Setup's refill fails and the table is
	// made anew.
	if _, err := e.m.Setup(ctx, ref("a"), e.newNetNS(), nil); err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	a, err := e.m.Setup(ctx, ref("b"), e.newNetNS(), nil)
	if err != nil {
		t.Fatalf("Setup(b): %v", err)
	}
	out, err := exec.Command("nft", "list", "table", "bridge", g).CombinedOutput()
	if err != nil || !strings.Contains(string(out), a.HostIf) || !strings.Contains(string(out), "type ifname") {
		t.Errorf("guard table after Setup: %v\n%s", err, out)
	}
}
