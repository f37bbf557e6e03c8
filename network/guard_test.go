package network

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestGuard checks what Setup does against address spoofing: the pod's
// eth0 has no IPv6 address, the guard table holds the pod's host veth to
// its MAC and IP, a datagram with another pod's source address is dropped
// while one with the sender's own goes through, and the table goes with
// the last pod.
func TestGuard(t *testing.T) { eachBackend(t, testGuard) }

func testGuard(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	nsA, nsB := e.newNetNS(), e.newNetNS()
	a, err := e.m.Setup(ctx, ref("a"), nsA, nil)
	if err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	b, err := e.m.Setup(ctx, ref("b"), nsB, nil)
	if err != nil {
		t.Fatalf("Setup(b): %v", err)
	}
	for _, att := range []*Attachment{a, b} {
		if att.HostIf == "" || att.MAC == "" {
			t.Fatalf("Setup(%s) recorded host veth %q, MAC %q; want both", att.Pod, att.HostIf, att.MAC)
		}
	}
	ns := map[*Attachment]string{a: nsA, b: nsB}
	for _, att := range []*Attachment{a, b} {
		if got := ipv6Addrs(t, ns[att]); len(got) > 0 {
			t.Errorf("eth0 of %s has IPv6 addresses %v, want none", att.Pod, got)
		}
	}
	table := e.m.GuardTable()
	out, err := exec.Command("nft", "list", "table", "bridge", table).CombinedOutput()
	if err != nil {
		t.Errorf("nft list table bridge %s: %v: %s", table, err, out)
	}
	for _, want := range []string{a.HostIf, b.HostIf, a.IP.String(), b.IP.String(), a.MAC, b.MAC} {
		if !strings.Contains(string(out), want) {
			t.Errorf("guard table has no %q:\n%s", want, out)
		}
	}

	// b receives; a sends once from its own address, once from b's
	// gateway's (an address of the subnet that is not a's).
	got := make(chan string, 8)
	var pc net.PacketConn
	if err := inNetNS(nsB, func() (err error) {
		pc, err = net.ListenPacket("udp4", ":7777")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			got <- fmt.Sprintf("%s from %s", buf[:n], from.(*net.UDPAddr).IP)
		}
	}()
	send := func(src net.IP, msg string) {
		t.Helper()
		if err := inNetNS(nsA, func() error { return sendRawUDP(src, b.IP, 7777, msg) }); err != nil {
			t.Fatalf("sending from %s: %v", src, err)
		}
	}
	send(a.Gateway, "spoofed")
	send(a.IP, "honest")
	deadline := time.After(ioTimeout)
	var seen []string
	for len(seen) < 2 {
		select {
		case s := <-got:
			seen = append(seen, s)
			if strings.HasPrefix(s, "spoofed") {
				t.Errorf("b received a datagram with a forged source: %s", s)
			}
		case <-deadline:
			if len(seen) == 0 || !strings.HasPrefix(seen[0], "honest") {
				t.Errorf("b received %v; want the honest datagram", seen)
			}
			seen = append(seen, "", "")
		}
	}

	for _, att := range []*Attachment{a, b} {
		if err := e.m.Teardown(ctx, att.Pod); err != nil {
			t.Fatalf("Teardown(%s): %v", att.Pod, err)
		}
	}
	if out, err := exec.Command("nft", "list", "table", "bridge", table).CombinedOutput(); err == nil {
		t.Errorf("guard table %s left after the last Teardown:\n%s", table, out)
	}
}

// ipv6Addrs gives the IPv6 addresses of eth0 in a namespace.
func ipv6Addrs(tb testing.TB, nsPath string) []netlink.Addr {
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
		tb.Fatal(err)
	}
	addrs, err := nh.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		tb.Fatal(err)
	}
	return addrs
}

// sendRawUDP sends a UDP datagram with any IPv4 source address through a
// raw socket (IP_HDRINCL), as a pod with CAP_NET_RAW can.
func sendRawUDP(src, dst net.IP, port int, msg string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	pkt := make([]byte, 28+len(msg))
	pkt[0], pkt[8], pkt[9] = 0x45, 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	copy(pkt[12:], src.To4())
	copy(pkt[16:], dst.To4())
	binary.BigEndian.PutUint16(pkt[20:], 40000)
	binary.BigEndian.PutUint16(pkt[22:], uint16(port))
	binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(msg)))
	copy(pkt[28:], msg) // UDP checksum 0: none
	var sa unix.SockaddrInet4
	copy(sa.Addr[:], dst.To4())
	return unix.Sendto(fd, pkt, 0, &sa)
}

// TestGuardOldRecord: a pod attached by a podsec that recorded no host
// veth is guarded by the next sync, which finds the veth through the
// pod's namespace and records it.
func TestGuardOldRecord(t *testing.T) { eachBackend(t, testGuardOldRecord) }

func testGuardOldRecord(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	a, err := e.m.Setup(ctx, ref("old"), e.newNetNS(), nil)
	if err != nil {
		t.Fatalf("Setup(old): %v", err)
	}
	hostIf, mac := a.HostIf, a.MAC
	a.HostIf, a.MAC = "", ""
	if err := e.m.writeRecord(a); err != nil {
		t.Fatal(err)
	}
	if err := e.m.syncGuard(); err != nil {
		t.Fatalf("syncGuard: %v", err)
	}
	got, err := e.m.Get(a.Pod)
	if err != nil || got.HostIf != hostIf || got.MAC != mac {
		t.Fatalf("Get(%s) after syncGuard = %+v, %v; want host veth %s, MAC %s", a.Pod, got, err, hostIf, mac)
	}
	out, err := exec.Command("nft", "list", "table", "bridge", e.m.GuardTable()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), hostIf) {
		t.Errorf("guard table after syncGuard: %v\n%s", err, out)
	}
	if err := e.m.Teardown(ctx, a.Pod); err != nil {
		t.Fatalf("Teardown(%s): %v", a.Pod, err)
	}
}
