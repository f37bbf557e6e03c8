package network

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/trace"
)

// detachInProcess undoes attachInProcess from the record: the pod is taken
// out of the NAT and guard tables first (its record marked pending), so no
// hostPort leads to its address once another pod may be given it; then the
// address is released. Each step finds nothing to do when it was done
// before: a teardown that was interrupted is run again from the pending
// record.
//
// The kernel's part is mostly waiting: deleting a link or a table's base
// chains waits for RCU grace periods (15-50 ms each here) while using
// little CPU. So the veth is deleted while the tables are rebuilt, and
// the flows of a pod with hostPorts are forgotten while the veth goes. The
// last pod of the state directory also takes the bridge and the FORWARD
// rules with it, at the same time, instead of leaving Close to delete them
// afterwards: the state lock is then held until the bridge is gone, so no
// Setup puts a veth on a bridge being deleted.
func (m *Manager) detachInProcess(a *Attachment) error {
	l, err := m.lockState()
	if err != nil {
		return err
	}
	locked := true
	defer func() {
		if locked {
			l.unlock()
		}
	}()
	cur, err := m.readRecord(a.Pod)
	if err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	sync := cur != nil && cur.ContainerID == a.ContainerID && !cur.Pending
	if sync {
		cur.Pending = true
		if err := m.writeRecord(cur); err != nil {
			return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
		}
	}
	last, err := m.onlyRecord(a.Pod)
	if err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	step := "veth"
	if last {
		step = "veth and bridge"
	}
	endLinks := trace.Step(step)
	links := async(func() error {
		defer endLinks()
		return m.deleteLinks(a.HostIf, last)
	})
	forward := func() error { return nil }
	if last {
		// Its forks overlap the bridge's wait, rather than follow it in
		// Close.
		forward = async(func() error { return m.closeForward(context.Background()) })
	}
	var errs []error
	if sync {
		end := trace.Step("guard and NAT tables")
		errs = append(errs, m.syncGuardLocked())
		end()
	}
	if !last {
		l.unlock()
		locked = false
	}
	// Flows to the pod's hostPorts end with it, as portmap ends them;
	// the next pod given the address forgets all of its flows anyway.
	// Only once the DNAT rules are gone: no new flow reaches the address.
	if len(a.Ports) > 0 && a.IP.To4() != nil && errors.Join(errs...) == nil {
		end := trace.Step("conntrack")
		errs = append(errs, forgetFlows(a.IP))
		end()
	}
	errs = append(errs, links(), forward())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	end := trace.Step("IPAM and record")
	defer end()
	if err := m.ipam().release(a.ContainerID, a.IfName); err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	return m.removeRecord(a.Pod)
}

// onlyRecord tells whether pod's is the only attachment record of the
// state directory. The state lock is held.
func (m *Manager) onlyRecord(pod PodRef) (bool, error) {
	recs, err := m.records()
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		if r.Pod.Namespace != pod.Namespace || r.Pod.Name != pod.Name {
			return false, nil
		}
	}
	return true, nil
}

// deleteLinks deletes the host veth hostIf (the pod's eth0 goes with it)
// and, with bridge, the bridge unless another interface is on it. Links
// already gone are no error.
func (m *Manager) deleteLinks(hostIf string, bridge bool) error {
	if bridge {
		done, err := deleteBridge(m.cfg.Bridge, hostIf)
		if err != nil || done {
			return err
		}
	}
	if hostIf == "" {
		return nil
	}
	link, err := netlink.LinkByName(hostIf)
	if err != nil {
		return nil
	}
	if err := netlink.LinkDel(link); err != nil && !errors.As(err, new(netlink.LinkNotFoundError)) {
		return fmt.Errorf("deleting veth %s: %w", hostIf, err)
	}
	return nil
}

// deleteTogether deletes links in one RTM_DELLINK: the kernel unregisters
// them as one batch, which waits for the RCU grace periods of one link
// instead of one per link (a bridge and a veth on it: 30-45 ms instead of
// 55-65 ms here). The batch is a link group (ip link delete group N) of
// a random number; should any other link of the namespace be in it, they
// are deleted one by one instead.
func deleteTogether(links ...netlink.Link) error {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	group := binary.BigEndian.Uint32(b[:])&0x3fffffff | 0x40000000
	batch := len(links) > 1
	for _, l := range links {
		if !batch {
			break
		}
		batch = netlink.LinkSetGroup(l, int(group)) == nil
	}
	if batch {
		all, err := netlink.LinkList()
		n := 0
		for _, l := range all {
			if uint32(l.Attrs().Group) == group {
				n++
			}
		}
		batch = err == nil && n == len(links)
	}
	if batch {
		req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
		req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
		req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group)))
		if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err == nil {
			return nil
		}
	}
	var errs []error
	for _, l := range links {
		if err := netlink.LinkDel(l); err != nil && !errors.As(err, new(netlink.LinkNotFoundError)) && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", l.Attrs().Name, err))
		}
	}
	return errors.Join(errs...)
}

// async runs fn in a goroutine and returns the function that waits for
// its error.
func async(fn func() error) func() error {
	c := make(chan error, 1)
	go func() { c <- fn() }()
	return func() error { return <-c }
}
