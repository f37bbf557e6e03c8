package network

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// forgetFlows deletes the node's conntrack entries of ip, in either
// direction, before or after NAT. A pod's flows must not outlive it: the
// NetworkPolicy dataplane (as every stateful firewall) lets an
// established flow pass before it judges a packet, so an entry of a
// deleted pod's address, kept alive by the peer that opened it, carried
// that peer's datagrams to the next pod given the address, whatever that
// pod's policies said (TestRedteamNetworkConntrackReuse). Calico and
// Cilium delete them too; CNI's bridge plugin does not.
func forgetFlows(ip net.IP) error {
	if ip.To4() == nil {
		return nil
	}
	var filters []netlink.CustomConntrackFilter
	for _, tp := range []netlink.ConntrackFilterType{
		netlink.ConntrackOrigSrcIP, netlink.ConntrackOrigDstIP, netlink.ConntrackReplySrcIP, netlink.ConntrackReplyDstIP,
	} {
		f := &netlink.ConntrackFilter{}
		if err := f.AddIP(tp, ip.To4()); err != nil {
			return fmt.Errorf("deleting conntrack entries of %s: %w", ip, err)
		}
		filters = append(filters, f)
	}
	if _, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, netlink.InetFamily(netlink.FAMILY_V4), filters...); err != nil {
		return fmt.Errorf("deleting conntrack entries of %s: %w", ip, err)
	}
	return nil
}
