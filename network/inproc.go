package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/podsec/podsec/internal/trace"
)

// The in-process network does what podsec's default conflist asks of the
// bridge, host-local and portmap plugins (and firewall's, on a node whose
// FORWARD policy is DROP), with netlink and nftables and without a fork:
//
//	bridge     Config.Bridge with the gateway (the subnet's first address),
//	           up; net.ipv4.ip_forward=1 (isGateway)
//	veth       "veth" + 8 hex digits on the bridge, hairpin mode on; its
//	           peer is born as eth0 in the pod's namespace, with the pod's
//	           address and a default route through the gateway
//	IPAM       host-local's files under <StateDir>/ipam/<network>
//	hostPorts  DNAT in the NAT table (nat.go); route_localnet on the
//	           bridge for those reached on 127.0.0.0/8
//	ipMasq     masquerade of the subnet's traffic leaving it (nat.go)
//
// The NAT and guard tables are rebuilt from the records in one nftables
// transaction. The node lock (held for microseconds, as no plugin runs)
// covers the bridge's making and deletion, the veths' arrival on it and
// the FORWARD rules, which every state root of the node shares.

// inProcessFailpoint, set by tests, fails an in-process attachment once
// the pod has its address, veth and route.
var inProcessFailpoint func() error

// newHostIfName is a host veth name as the bridge plugin makes them.
func newHostIfName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "veth" + hex.EncodeToString(b)
}

// attachInProcess gives the pod (whose record, with a.HostIf, is written
// and pending) its address and veth. What it made is undone by
// detachInProcess from the record alone.
func (m *Manager) attachInProcess(a *Attachment, netnsPath string) error {
	_, sn, _ := net.ParseCIDR(m.cfg.Subnet) // checked by setDefaults
	gw := gatewayOf(sn)
	ones, _ := sn.Mask.Size()
	end := trace.Step("IPAM")
	ip, err := m.ipam().allocate(a.ContainerID, a.IfName, sn)
	if err != nil {
		return err
	}
	// The walk of the conntrack table overlaps the rest of the attachment.
	a.forgot = forgetFlowsAsync(ip) // waited for by commit
	end()
	if err := prepareNetNS(netnsPath); err != nil {
		return err
	}
	h, err := netns.GetFromPath(netnsPath)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", netnsPath, err)
	}
	defer h.Close()
	br, host, err := m.plugIn(a, h, &net.IPNet{IP: gw, Mask: sn.Mask})
	if err != nil {
		return err
	}
	end = trace.Step("address and route")
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", netnsPath, err)
	}
	defer nh.Close()
	pod, err := nh.LinkByName(a.IfName)
	if err != nil {
		return fmt.Errorf("finding the pod's %s: %w", a.IfName, err)
	}
	addr := &net.IPNet{IP: ip, Mask: sn.Mask}
	if err := nh.AddrAdd(pod, &netlink.Addr{IPNet: addr}); err != nil {
		return fmt.Errorf("adding %s to the pod's %s: %w", addr, a.IfName, err)
	}
	if err := nh.LinkSetUp(pod); err != nil {
		return fmt.Errorf("bringing the pod's %s up: %w", a.IfName, err)
	}
	def := &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
	if err := nh.RouteAdd(&netlink.Route{LinkIndex: pod.Attrs().Index, Dst: def, Gw: gw}); err != nil {
		return fmt.Errorf("adding the pod's default route via %s: %w", gw, err)
	}
	end()
	if inProcessFailpoint != nil {
		if err := inProcessFailpoint(); err != nil {
			return err
		}
	}
	a.IP, a.Gateway, a.Subnet = ip, gw, fmt.Sprintf("%s/%d", ip, ones)
	a.MAC = pod.Attrs().HardwareAddr.String()
	res := &types100.Result{
		CNIVersion: types100.ImplementedSpecVersion,
		Interfaces: []*types100.Interface{
			{Name: m.cfg.Bridge, Mac: br.Attrs().HardwareAddr.String()},
			{Name: a.HostIf, Mac: host.Attrs().HardwareAddr.String()},
			{Name: a.IfName, Mac: a.MAC, Sandbox: netnsPath},
		},
		IPs:    []*types100.IPConfig{{Interface: types100.Int(2), Address: *addr, Gateway: gw}},
		Routes: nil,
	}
	if a.Result, err = json.Marshal(res); err != nil {
		return fmt.Errorf("encoding the result of pod %s: %w", a.Pod, err)
	}
	return nil
}

// plugIn puts the pod's veth (its peer born as a.IfName in the namespace
// h) on the bridge, made if need be with the gateway gw, and this root's
// FORWARD rules in place. It holds the node lock throughout: another
// state root's last pod deletes the bridge under that lock when nothing
// else is on it, and must not do so between the bridge's lookup and the
// veth's arrival on it.
func (m *Manager) plugIn(a *Attachment, h netns.NsHandle, gw *net.IPNet) (br, host netlink.Link, err error) {
	end := trace.Step("node lock")
	nl, err := lockNode()
	if err != nil {
		return nil, nil, err
	}
	defer nl.unlock()
	end()
	end = trace.Step("bridge")
	br, err = ensureBridge(m.cfg.Bridge, gw)
	if err != nil {
		return nil, nil, err
	}
	end()
	end = trace.Step("sysctls and FORWARD")
	if err := writeSysctl("/proc/sys/net/ipv4/ip_forward", "1"); err != nil {
		return nil, nil, err
	}
	if err := m.openForward(context.Background()); err != nil {
		return nil, nil, err
	}
	if len(a.Ports) > 0 {
		// portmap's: a hostPort reached on 127.0.0.1 is routed out of
		// the bridge; the guard keeps pods' own packets to 127/8 out.
		if err := writeSysctl("/proc/sys/net/ipv4/conf/"+m.cfg.Bridge+"/route_localnet", "1"); err != nil {
			return nil, nil, err
		}
	}
	end()
	end = trace.Step("veth")
	la := netlink.NewLinkAttrs()
	la.Name = a.HostIf
	la.MasterIndex = br.Attrs().Index
	la.Flags = net.FlagUp
	veth := &netlink.Veth{LinkAttrs: la, PeerName: a.IfName, PeerNamespace: netlink.NsFd(h), PeerTxQLen: -1}
	if err := netlink.LinkAdd(veth); err != nil {
		return nil, nil, fmt.Errorf("creating veth %s for the pod's %s: %w", a.HostIf, a.IfName, err)
	}
	host, err = netlink.LinkByName(a.HostIf)
	if err != nil {
		return nil, nil, fmt.Errorf("finding veth %s: %w", a.HostIf, err)
	}
	if err := netlink.LinkSetHairpin(host, true); err != nil {
		return nil, nil, fmt.Errorf("setting hairpin mode on %s: %w", a.HostIf, err)
	}
	end()
	return br, host, nil
}

// addrAssignSet is NET_ADDR_SET of /sys/class/net/*/addr_assign_type: the
// address was given, not derived.
const addrAssignSet = "3"

// randomMAC is a random unicast, locally administered MAC address.
func randomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	_, _ = rand.Read(mac) // never fails (crypto/rand)
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}

// ensureBridge finds or makes the bridge, with the gateway's address, up.
// Two podsec processes may make it at once: the loser takes the winner's.
func ensureBridge(name string, gw *net.IPNet) (netlink.Link, error) {
	br, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return nil, fmt.Errorf("finding bridge %s: %w", name, err)
		}
		la := netlink.NewLinkAttrs()
		la.Name = name
		la.HardwareAddr = randomMAC()
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		if br, err = netlink.LinkByName(name); err != nil {
			return nil, fmt.Errorf("finding bridge %s: %w", name, err)
		}
	}
	if _, ok := br.(*netlink.Bridge); !ok {
		return nil, fmt.Errorf("%w: %s is a %s, not a bridge", ErrInvalid, name, br.Type())
	}
	// A bridge whose address was never set takes the lowest of its
	// ports': the gateway's MAC then changes when a pod leaves, and the
	// other pods' ARP entries point nowhere until they expire (half a
	// minute without traffic to the node). An address set stays; an older
	// podsec's bridge gets its own pinned.
	if b, err := os.ReadFile("/sys/class/net/" + name + "/addr_assign_type"); err == nil && strings.TrimSpace(string(b)) != addrAssignSet {
		if err := netlink.LinkSetHardwareAddr(br, br.Attrs().HardwareAddr); err != nil {
			return nil, fmt.Errorf("setting the address of bridge %s: %w", name, err)
		}
	}
	addrs, err := redump(func() ([]netlink.Addr, error) { return netlink.AddrList(br, netlink.FAMILY_V4) })
	if err != nil {
		return nil, fmt.Errorf("listing addresses of bridge %s: %w", name, err)
	}
	has := false
	for _, ad := range addrs {
		has = has || ad.IPNet.String() == gw.String()
	}
	if !has {
		if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: gw}); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("adding %s to bridge %s: %w", gw, name, err)
		}
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("bringing bridge %s up: %w", name, err)
		}
	}
	return br, nil
}

// checkInProcess tells whether the attachment is still what Setup made:
// the pod's interface with its address, the host veth on the bridge, and
// the address held by the attachment in the IPAM data.
func (m *Manager) checkInProcess(a *Attachment) error {
	hostIf, mac, err := hostSide(a.NetNS, a.IfName)
	if err != nil {
		return err
	}
	if hostIf != a.HostIf || mac != a.MAC {
		return fmt.Errorf("the pod's %s is %s on %s, recorded %s on %s", a.IfName, mac, hostIf, a.MAC, a.HostIf)
	}
	host, err := netlink.LinkByName(hostIf)
	if err != nil {
		return fmt.Errorf("finding veth %s: %w", hostIf, err)
	}
	br, err := netlink.LinkByName(m.cfg.Bridge)
	if err != nil || host.Attrs().MasterIndex != br.Attrs().Index {
		return fmt.Errorf("veth %s is not on bridge %s", hostIf, m.cfg.Bridge)
	}
	h, err := netns.GetFromPath(a.NetNS)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", a.NetNS, err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", a.NetNS, err)
	}
	defer nh.Close()
	pod, err := nh.LinkByName(a.IfName)
	if err != nil {
		return fmt.Errorf("finding the pod's %s: %w", a.IfName, err)
	}
	addrs, err := redump(func() ([]netlink.Addr, error) { return nh.AddrList(pod, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("listing the pod's addresses: %w", err)
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != a.Subnet {
		return fmt.Errorf("the pod's %s has %v, want %s", a.IfName, addrs, a.Subnet)
	}
	if got := m.allocatedIP(a.ContainerID); !got.Equal(a.IP) {
		return fmt.Errorf("IPAM holds %v for container %s, want %s", got, a.ContainerID, a.IP)
	}
	return nil
}

func writeSysctl(path, value string) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == value+"\n" {
		return nil
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("setting %s: %w", path, err)
	}
	return nil
}
