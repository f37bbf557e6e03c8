package network

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestTeardownAfterKilledTeardown: a Teardown killed right after it
// marked the record pending, before the tables were refilled without the
// pod, leaves a pending record and the pod's hostPort DNAT and guard
// entries in the tables. The next Teardown (podsec stop, delete, or a
// restarted podsec) finishes it, and takes the pod out of the tables as
// well. Before, a pending record was taken to be a Setup's that never
// reached the tables: the DNAT stayed, to an address handed out again, and
// so did the guard's entries for the pod's veth name. Root B's pod keeps
// its own rules throughout.
func TestTeardownAfterKilledTeardown(t *testing.T) {
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	port := freePort(t, "TCP")
	for _, last := range []bool{false, true} {
		t.Run(fmt.Sprintf("last pod %v", last), func(t *testing.T) {
			if !last {
				if _, err := e.m.Setup(ctx, ref("stays"), e.newNetNS(), nil); err != nil {
					t.Fatalf("Setup(stays): %v", err)
				}
				defer func() {
					if err := e.m.Teardown(ctx, ref("stays")); err != nil {
						t.Errorf("Teardown(stays): %v", err)
					}
				}()
			}
			att, err := e.m.Setup(ctx, ref("a"), e.newNetNS(), []PortMapping{{HostPort: port, ContainerPort: 8080, Protocol: "TCP"}})
			if err != nil {
				t.Fatalf("Setup(a): %v", err)
			}
			// What the killed Teardown left: the record marked pending,
			// the tables as they were.
			rec, err := e.m.readRecord(ref("a"))
			if err != nil || rec == nil {
				t.Fatalf("readRecord(a) = %v, %v", rec, err)
			}
			rec.Pending = true
			if err := e.m.writeRecord(rec); err != nil {
				t.Fatal(err)
			}
			if err := e.m.Teardown(ctx, ref("a")); err != nil {
				t.Fatalf("Teardown(a) after a killed Teardown: %v", err)
			}
			rules := ruleset(t)
			for _, s := range []string{fmt.Sprintf("dport %d ", port), att.IP.String(), att.HostIf} {
				if strings.Contains(rules, s) {
					t.Errorf("rules naming %q of pod a left after its Teardown:\n%s", s, grep(rules, s))
				}
			}
		})
	}
}

// TestTeardownAgainSparesNewOwner: a Teardown killed after it released
// the pod's address leaves a pending record; meanwhile root B's next pod
// is given the address. The next Teardown of the first pod finishes, and
// leaves the flows of the address alone: they are pod b's now. Before, a
// pod with hostPorts had every flow of its old address forgotten, pod b's
// established connections with them (masqueraded or DNATed ones break).
// Through CNI, the Teardown was killed after CNI DEL, before the record
// went.
func TestTeardownAgainSparesNewOwner(t *testing.T) { eachBackend(t, testTeardownAgainSparesNewOwner) }

func testTeardownAgainSparesNewOwner(t *testing.T, be Backend) {
	a := newEnv(t, be)
	b := a.otherRoot(t)
	ctx := context.Background()
	port := freePort(t, "TCP")
	attA, err := a.m.Setup(ctx, ref("a"), a.newNetNS(), []PortMapping{{HostPort: port, ContainerPort: 8080, Protocol: "TCP"}})
	if err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	killedAfterRelease(t, a.m, attA)
	// Root B's next pod is given the address.
	prev := make(net.IP, 4)
	binary.BigEndian.PutUint32(prev, binary.BigEndian.Uint32(attA.IP.To4())-1)
	if err := os.WriteFile(filepath.Join(a.m.ipam().dir, ipamLastReserved), []byte(prev.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	attB, err := b.m.Setup(ctx, ref("b"), a.newNetNS(), nil)
	if err != nil {
		t.Fatalf("Setup(b) in root B: %v", err)
	}
	if !attB.IP.Equal(attA.IP) {
		t.Fatalf("pod b has %s, want pod a's old address %s", attB.IP, attA.IP)
	}
	r := make([]byte, 2)
	rand.Read(r)
	peer := net.IPv4(10, 253, r[0], r[1]|1).To4()
	t.Cleanup(func() { forgetFlows(peer) })
	flow := &netlink.ConntrackFlow{FamilyType: unix.AF_INET, TimeOut: 60,
		Forward: netlink.IPTuple{SrcIP: peer, DstIP: attB.IP, Protocol: unix.IPPROTO_UDP, SrcPort: 4242, DstPort: 9999},
		Reverse: netlink.IPTuple{SrcIP: attB.IP, DstIP: peer, Protocol: unix.IPPROTO_UDP, SrcPort: 9999, DstPort: 4242}}
	if err := netlink.ConntrackCreate(netlink.ConntrackTable, unix.AF_INET, flow); err != nil {
		t.Fatalf("ConntrackCreate(%v) = %v", flow, err)
	}
	if be == BackendCNI && !forwardHas(t, attB.IP) {
		t.Fatalf("pod b's CNI-FORWARD rules for %s missing after its Setup", attB.IP)
	}
	if err := a.m.Teardown(ctx, ref("a")); err != nil {
		t.Fatalf("Teardown(a) after a killed Teardown: %v", err)
	}
	all, err := netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range all {
		found = found || g.Forward.SrcIP.Equal(peer) && g.Forward.DstIP.Equal(attB.IP) && g.Forward.SrcPort == 4242
	}
	if !found {
		t.Errorf("pod b's flow from %s to %s was forgotten by pod a's second Teardown", peer, attB.IP)
	}
	if be == BackendCNI && !forwardHas(t, attB.IP) {
		t.Errorf("pod b's CNI-FORWARD rules for %s were removed by pod a's second Teardown", attB.IP)
	}
}

// forwardHas tells whether CNI-FORWARD has the firewall plugin's rules
// for ip.
func forwardHas(t *testing.T, ip net.IP) bool {
	t.Helper()
	out, err := iptables(context.Background(), "-S", "CNI-FORWARD")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(out, ip.String()+"/32")
}

// killedAfterRelease leaves what a Teardown of att killed right after
// the release of its address leaves. In-process: the record pending, the
// tables without the pod, no veth, the address free. Through CNI: CNI DEL
// done, the record still there.
func killedAfterRelease(t *testing.T, m *Manager, att *Attachment) {
	t.Helper()
	if !att.InProcess {
		if err := m.cni.DelNetworkList(context.Background(), m.list, att.runtimeConf(att.NetNS)); err != nil {
			t.Fatalf("CNI DEL of %s: %v", att.Pod, err)
		}
		return
	}
	rec, err := m.readRecord(att.Pod)
	if err != nil || rec == nil {
		t.Fatalf("readRecord(%s) = %v, %v", att.Pod, rec, err)
	}
	rec.Pending = true
	if err := m.writeRecord(rec); err != nil {
		t.Fatal(err)
	}
	if err := m.syncGuard(); err != nil {
		t.Fatal(err)
	}
	if l, err := netlink.LinkByName(att.HostIf); err == nil {
		netlink.LinkDel(l)
	}
	if err := m.ipam().release(att.ContainerID, podIfName); err != nil {
		t.Fatal(err)
	}
}
