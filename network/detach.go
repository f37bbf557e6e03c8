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
// last pod of the state directory also takes the bridge (when no other
// root's pod is on it) and the root's FORWARD rules with it, at the same
// time, instead of leaving Close to delete them afterwards: the state
// lock and the node lock are then held until the bridge is gone, so no
// Setup, of this root or another, puts a veth on a bridge being deleted.
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
	// A pending record may be a Teardown's that was killed before the
	// tables were refilled without the pod: they are refilled whatever
	// the record says, or the pod's hostPort DNAT would stay, to an
	// address handed out again.
	sync := cur != nil && cur.ContainerID == a.ContainerID
	if sync && !cur.Pending {
		cur.Pending = true
		if err := m.writeRecord(cur); err != nil {
			return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
		}
	}
	last, err := m.onlyRecord(a.Pod)
	if err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	links := m.unplug(a.HostIf, last)
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
	// Not when the address is another pod's already (a teardown run
	// again after the release): the flows are that pod's. It cannot
	// become another's before the release below.
	if len(a.Ports) > 0 && a.IP.To4() != nil && errors.Join(errs...) == nil && !m.ipam().takenByOther(a.ContainerID, a.IP) {
		end := trace.Step("conntrack")
		errs = append(errs, forgetFlows(a.IP))
		end()
	}
	errs = append(errs, links())
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

// unplug starts the deletion of the host veth hostIf and, for the state
// root's last pod, of the bridge and the root's FORWARD rules; the
// function returned waits for them. The last pod's holds the node lock
// until then: another root's Setup waits, rather than put a veth on the
// bridge being deleted, and no other root's pod is on it once it is
// found idle. Its forks overlap the bridge's wait.
func (m *Manager) unplug(hostIf string, last bool) func() error {
	if !last {
		end := trace.Step("veth")
		return async(func() error {
			defer end()
			return m.deleteLinks(hostIf, nil)
		})
	}
	end := trace.Step("veth and bridge")
	nl, err := lockNode()
	if err != nil {
		end()
		return func() error { return err }
	}
	del, err := idleBridge(m.cfg.Bridge, hostIf)
	if err != nil {
		end()
		nl.unlock()
		return func() error { return err }
	}
	links := async(func() error {
		defer end()
		return m.deleteLinks(hostIf, del)
	})
	// Gone or going: no pod of any root is left on the bridge.
	gone := len(del) > 0 || !bridgeExists(m.cfg.Bridge)
	forward := async(func() error { return m.closeForward(context.Background(), gone) })
	return func() error {
		defer nl.unlock()
		return errors.Join(links(), forward())
	}
}

// deleteLinks deletes the host veth hostIf (the pod's eth0 goes with it)
// and bridge, the links idleBridge gave (the veth among them when it is
// on the bridge). Links already gone are no error.
func (m *Manager) deleteLinks(hostIf string, bridge []netlink.Link) error {
	if len(bridge) > 0 {
		if err := deleteTogether(bridge...); err != nil {
			return fmt.Errorf("deleting bridge %s: %w", m.cfg.Bridge, err)
		}
		if len(bridge) > 1 {
			return nil
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
		all, err := redump(netlink.LinkList)
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
