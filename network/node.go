package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/trace"
)

// isNetNS reports whether path is a network namespace file (nsfs), such as
// a sandbox's bind mount that is still in place.
func isNetNS(path string) bool {
	if path == "" {
		return false
	}
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// loopbackUp brings lo up in the pod's namespace; the pod sandbox does it
// too, but a caller with its own namespace need not.
func loopbackUp(path string) error {
	h, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer nh.Close()
	lo, err := nh.LinkByName("lo")
	if err == nil {
		err = nh.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bringing lo up in %s: %w", path, err)
	}
	return nil
}

// checkSubnet refuses a pod subnet that overlaps a route of the node on
// another interface than the bridge: pods would shadow, or be shadowed by,
// a network the node already reaches.
func checkSubnet(subnet, bridge string) error {
	_, sn, err := net.ParseCIDR(subnet)
	if err != nil {
		return fmt.Errorf("%w: pod subnet %q: %v", ErrInvalid, subnet, err)
	}
	routes, err := redump(func() ([]netlink.Route, error) { return netlink.RouteList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("listing the node's routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			continue // the default route overlaps everything
		}
		if !r.Dst.Contains(sn.IP) && !sn.Contains(r.Dst.IP) {
			continue
		}
		name := fmt.Sprintf("link %d", r.LinkIndex)
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
			name = l.Attrs().Name
		}
		if name != bridge {
			return fmt.Errorf("%w: %s overlaps the route to %s on %s; choose another pod subnet", ErrSubnetOverlap, subnet, r.Dst, name)
		}
	}
	return nil
}

// Close gives back what pod networking holds on the node once no pod of
// this state directory is attached: the bridge (when no interface is on it
// any longer), the root's FORWARD rules, the host-local IPAM data, and
// CNI's node-wide iptables chains when no CNI attachment of any runtime
// uses them. With attachments left, it changes nothing. The Manager
// stays usable: a later Setup makes them again.
func (m *Manager) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	l, err := m.lockState()
	if err != nil {
		return err
	}
	defer l.unlock()
	recs, err := m.records()
	if err != nil || len(recs) > 0 {
		return err
	}
	var errs []error
	if err := m.unregisterRoot(); err != nil {
		errs = append(errs, err)
	}
	end := trace.Step("guard and NAT tables")
	if err := m.syncGuardLocked(); err != nil {
		errs = append(errs, err)
	}
	end()
	// The bridge and the FORWARD rules are every state root's: another
	// root's Setup may be putting a veth on the bridge.
	nl, err := lockNode()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer nl.unlock()
	end = trace.Step("bridge")
	_, err = deleteBridge(m.cfg.Bridge, "")
	if err != nil {
		errs = append(errs, err)
	}
	end()
	// The conflist may be another state root's too (/etc/cni/net.d is
	// shared), and host-local then keeps that root's allocations here:
	// removing them would give a running pod's address to the next pod.
	// Another root's Setup may be allocating in it right now, without
	// the node lock: removeIdle leaves a directory whose lock is held.
	if err := m.ipam().removeIdle(); err != nil {
		errs = append(errs, err)
	}
	if m.inProcess {
		// CNI's shared chains are the plugins': a podsec running them
		// removes them at its own Close.
		defer trace.Step("FORWARD")()
		gone := err == nil && !bridgeExists(m.cfg.Bridge)
		if err := m.closeForward(ctx, gone); err != nil {
			errs = append(errs, fmt.Errorf("removing the FORWARD rules: %w", err))
		}
		return errors.Join(errs...)
	}
	if err := removeSharedChains(ctx); err != nil {
		errs = append(errs, fmt.Errorf("removing CNI iptables chains: %w", err))
	}
	return errors.Join(errs...)
}

// bridgeExists tells whether a link of that name exists; one that cannot
// be looked up is taken to exist.
func bridgeExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return !errors.As(err, new(netlink.LinkNotFoundError))
}

// holdsAllocations tells whether a host-local data directory holds an
// allocated address (a file named by the address); an unreadable one is
// taken to hold some.
func holdsAllocations(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	for _, e := range ents {
		if net.ParseIP(e.Name()) != nil {
			return true
		}
	}
	return false
}

// deleteBridge deletes the bridge unless it is missing, not a bridge, or
// still has interfaces on it other than the veth going, which is then
// deleted with it (done). The caller holds the node lock.
func deleteBridge(name, going string) (done bool, err error) {
	del, err := idleBridge(name, going)
	if err != nil || len(del) == 0 {
		return false, err
	}
	if err := deleteTogether(del...); err != nil {
		return false, fmt.Errorf("deleting bridge %s: %w", name, err)
	}
	return len(del) > 1, nil
}

// idleBridge gives the links to delete with the bridge: the bridge, and
// the veth going when it is on it; none when the bridge is missing, not a
// bridge, or another interface is on it.
func idleBridge(name, going string) ([]netlink.Link, error) {
	br, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, fmt.Errorf("finding bridge %s: %w", name, err)
	}
	if _, ok := br.(*netlink.Bridge); !ok {
		return nil, nil
	}
	links, err := redump(netlink.LinkList)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	del := []netlink.Link{br}
	for _, l := range links {
		if l.Attrs().MasterIndex != br.Attrs().Index {
			continue
		}
		if l.Attrs().Name != going || going == "" {
			return nil, nil
		}
		del = append(del, l)
	}
	return del, nil
}
