package network

import (
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestForgetFlows: forgetFlows deletes the entries with the address in
// any of the four places (original source or destination, reply source
// or destination: a DNATed hostPort flow has the pod's address only in
// its reply) and leaves every other entry alone: through the kernel's
// filtered flush, and through the walk of older kernels.
func TestForgetFlows(t *testing.T) {
	requireNode(t)
	t.Run("flush", func(t *testing.T) {
		testForget(t, func(ip net.IP) error {
			if err := flushFlows(ip.To4()); err != nil {
				t.Logf("this kernel does not delete by filter (%v); forgetFlows walks", err)
			}
			return forgetFlows(ip)
		})
	})
	t.Run("walk", func(t *testing.T) {
		testForget(t, func(ip net.IP) error { return walkFlows(ip.To4()) })
	})
}

func testForget(t *testing.T, forgetFlows func(net.IP) error) {
	b := make([]byte, 2)
	rand.Read(b)
	addr := func(last byte) net.IP { return net.IPv4(10, 253, b[0], b[1]&0xf0|last).To4() }
	pod, peer, other, node := addr(1), addr(2), addr(3), addr(4)
	flow := func(origSrc, origDst, replySrc, replyDst net.IP, sport uint16) *netlink.ConntrackFlow {
		return &netlink.ConntrackFlow{FamilyType: unix.AF_INET, TimeOut: 60,
			Forward: netlink.IPTuple{SrcIP: origSrc, DstIP: origDst, Protocol: unix.IPPROTO_UDP, SrcPort: sport, DstPort: 9999},
			Reverse: netlink.IPTuple{SrcIP: replySrc, DstIP: replyDst, Protocol: unix.IPPROTO_UDP, SrcPort: 9999, DstPort: sport}}
	}
	flows := []struct {
		f    *netlink.ConntrackFlow
		gone bool
	}{
		{flow(peer, pod, pod, peer, 1001), true},    // to the pod
		{flow(pod, peer, peer, pod, 1002), true},    // from the pod
		{flow(peer, node, pod, peer, 1003), true},   // to a hostPort, DNATed to the pod
		{flow(pod, other, other, node, 1004), true}, // from the pod, masqueraded
		{flow(peer, other, other, peer, 1005), false},
	}
	for _, f := range flows {
		if err := netlink.ConntrackCreate(netlink.ConntrackTable, unix.AF_INET, f.f); err != nil {
			t.Fatalf("ConntrackCreate(%v) = %v", f.f, err)
		}
	}
	t.Cleanup(func() {
		for _, ip := range []net.IP{pod, peer, other, node} {
			forgetFlows(ip)
		}
	})
	start := time.Now()
	if err := forgetFlows(pod); err != nil {
		t.Fatalf("forgetFlows(%s) = %v", pod, err)
	}
	t.Logf("forgetFlows took %v", time.Since(start))
	all, err := netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flows {
		found := false
		for _, g := range all {
			found = found || g.Forward.SrcIP.Equal(f.f.Forward.SrcIP) && g.Forward.DstIP.Equal(f.f.Forward.DstIP) &&
				g.Forward.SrcPort == f.f.Forward.SrcPort && g.Forward.Protocol == unix.IPPROTO_UDP
		}
		if found == f.gone {
			t.Errorf("after forgetFlows(%s): entry %v present = %v, want %v", pod, f.f, found, !f.gone)
		}
	}
}
