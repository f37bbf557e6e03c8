package network

import (
	"bytes"
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// forgetFlows deletes the node's conntrack entries of ip, in either
// direction, before or after NAT. A pod's flows must not outlive it: the
// NetworkPolicy dataplane (as every stateful firewall) lets an
// established flow pass before it judges a packet, so an entry of a
// deleted pod's address, kept alive by the peer that opened it, carried
// that peer's datagrams to the next pod given the address, whatever that
// pod's policies said (TestRedteamNetworkConntrackReuse). Calico and
// Cilium delete them too; CNI's bridge plugin does not.
//
// Kernels since 2024 (6.18 here) delete by filter themselves: one flush
// per direction (CTA_FILTER in IPCTNL_MSG_CT_DELETE), 0.7 ms of CPU here
// where the walk below took about 21 ms. An older kernel reads the
// request as the deletion of one incomplete tuple and refuses it (never
// as a flush of the table: the tuple is given); then the walk runs.
func forgetFlows(ip net.IP) error {
	ip4 := ip.To4()
	if ip4 == nil {
		return nil
	}
	if flushFlows(ip4) == nil {
		return nil
	}
	return walkFlows(ip4)
}

// flushFlows asks the kernel to delete the entries whose original or
// reply source is ip4.
func flushFlows(ip4 net.IP) error {
	for _, w := range ctWalks {
		req := ctRequest(nl.IPCTNL_MSG_CT_DELETE, unix.NLM_F_ACK)
		addFilter(req, w.dir, w.flags, ip4)
		if _, err := req.Execute(unix.NETLINK_NETFILTER, 0); err != nil {
			return err
		}
	}
	return nil
}

// Two walks find every entry: a flow to the pod has its address as the
// reply's source (DNATed to it or not), a flow from it as the original
// source (masqueraded or not); nothing translates to a pod's address.
var ctWalks = []struct {
	dir   int // CTA_TUPLE_ORIG or CTA_TUPLE_REPLY
	flags int // CTA_FILTER_ORIG_FLAGS or CTA_FILTER_REPLY_FLAGS
}{{nl.CTA_TUPLE_ORIG, ctaFilterOrigFlags}, {nl.CTA_TUPLE_REPLY, ctaFilterReplyFlags}}

// addFilter adds to req the tuple of direction dir with source ip4 and
// the filter that matches on that source alone.
func addFilter(req *nl.NetlinkRequest, dir, flags int, ip4 net.IP) {
	tuple := nl.NewRtAttr(dir|int(nl.NLA_F_NESTED), nil)
	tuple.AddRtAttr(nl.CTA_TUPLE_IP|int(nl.NLA_F_NESTED), nil).AddRtAttr(nl.CTA_IP_V4_SRC, ip4)
	req.AddData(tuple)
	filter := nl.NewRtAttr(ctaFilter|int(nl.NLA_F_NESTED), nil)
	filter.AddRtAttr(flags, nl.Uint32Attr(ctaFilterIPSrc))
	req.AddData(filter)
}

// walkFlows is forgetFlows where the kernel filters the dumps only
// (CTA_FILTER, Linux 5.8): a userspace walk of a busy node's table
// (vishvananda/netlink's ConntrackDeleteFilters) cost 100-200 ms per pod
// with 12k entries here. Each entry is checked again before it is
// deleted, so a kernel that ignored the filter costs time, never another
// address's flows.
func walkFlows(ip4 net.IP) error {
	// The two walks run at once: each walks the whole hash table in the
	// kernel, whatever it finds.
	errc := make(chan error, len(ctWalks))
	for _, w := range ctWalks {
		go func() {
			req := ctRequest(nl.IPCTNL_MSG_CT_GET, unix.NLM_F_DUMP)
			addFilter(req, w.dir, w.flags, ip4)
			msgs, err := req.Execute(unix.NETLINK_NETFILTER, 0)
			if err != nil {
				errc <- err
				return
			}
			var errs []error
			for _, m := range msgs {
				errs = append(errs, deleteFlowOf(m, ip4))
			}
			errc <- errors.Join(errs...)
		}()
	}
	var errs []error
	for range ctWalks {
		errs = append(errs, <-errc)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("deleting conntrack entries of %s: %w", ip4, err)
	}
	return nil
}

// forgetFlowsAsync starts forgetFlows(ip) and returns the function that
// waits for it: the walk of the table overlaps the making of the veth.
func forgetFlowsAsync(ip net.IP) func() error {
	c := make(chan error, 1)
	go func() { c <- forgetFlows(ip) }()
	return func() error { return <-c }
}

// Attributes of ctnetlink's CTA_FILTER (linux/netfilter/nfnetlink_conntrack.h).
const (
	ctaFilter           = 25
	ctaFilterOrigFlags  = 1
	ctaFilterReplyFlags = 2
	ctaFilterIPSrc      = 1 << 0
)

// ctRequest is a ctnetlink request of the IPv4 conntrack table.
func ctRequest(op, flags int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.NFNL_SUBSYS_CTNETLINK<<8|op, flags)
	req.AddData(&nl.Nfgenmsg{NfgenFamily: unix.AF_INET, Version: nl.NFNETLINK_V0})
	return req
}

// deleteFlowOf deletes the entry of a dump message when one of its
// tuples' addresses is ip (the check a kernel that ignored the filter
// needs); an entry gone meanwhile is no error.
func deleteFlowOf(msg []byte, ip net.IP) error {
	if len(msg) < nl.SizeofNfgenmsg {
		return nil
	}
	attrs, err := nl.ParseRouteAttr(msg[nl.SizeofNfgenmsg:])
	if err != nil {
		return err
	}
	var orig, zone []byte
	match := false
	for _, a := range attrs {
		switch a.Attr.Type & nl.NLA_TYPE_MASK {
		case nl.CTA_TUPLE_ORIG:
			orig = a.Value
			match = match || tupleHas(a.Value, ip)
		case nl.CTA_TUPLE_REPLY:
			match = match || tupleHas(a.Value, ip)
		case nl.CTA_ZONE:
			zone = a.Value
		}
	}
	if !match || orig == nil {
		return nil
	}
	req := ctRequest(nl.IPCTNL_MSG_CT_DELETE, unix.NLM_F_ACK)
	req.AddData(nl.NewRtAttr(nl.CTA_TUPLE_ORIG|int(nl.NLA_F_NESTED), orig))
	if zone != nil {
		req.AddData(nl.NewRtAttr(nl.CTA_ZONE, zone))
	}
	if _, err := req.Execute(unix.NETLINK_NETFILTER, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// tupleHas reports whether a CTA_TUPLE_* attribute's IPv4 source or
// destination is ip.
func tupleHas(tuple []byte, ip net.IP) bool {
	attrs, err := nl.ParseRouteAttr(tuple)
	if err != nil {
		return false
	}
	for _, a := range attrs {
		if a.Attr.Type&nl.NLA_TYPE_MASK != nl.CTA_TUPLE_IP {
			continue
		}
		ips, err := nl.ParseRouteAttr(a.Value)
		if err != nil {
			return false
		}
		for _, v := range ips {
			t := v.Attr.Type & nl.NLA_TYPE_MASK
			if (t == nl.CTA_IP_V4_SRC || t == nl.CTA_IP_V4_DST) && bytes.Equal(v.Value, ip) {
				return true
			}
		}
	}
	return false
}
