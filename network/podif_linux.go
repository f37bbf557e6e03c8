package network

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// ipv6Off are the sysctls, relative to /proc/sys/net/ipv6/conf, that keep
// IPv6 off the pod's interfaces: "default" before CNI ADD, so that eth0
// (and any link the pod makes later) is born without an fe80:: address,
// and eth0 after it, in case a plugin turned it on. Loopback keeps ::1:
// /etc/hosts names it localhost, and it never leaves the pod.
var ipv6Off = []string{"default"}

// disableIPv6 turns IPv6 off for the pod's interfaces (ifNames, plus the
// default for new ones) in the network namespace at path. The pod network
// is IPv4 only and NetworkPolicy matches IPv4 only: a link-local address
// on the shared bridge would reach every other pod around it. A node
// without IPv6 has nothing to turn off.
func disableIPv6(path string, ifNames ...string) error {
	if _, err := os.Stat("/proc/sys/net/ipv6"); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return doInNetNS(path, func() error {
		for _, c := range append(append([]string{}, ipv6Off...), ifNames...) {
			p := "/proc/sys/net/ipv6/conf/" + c + "/disable_ipv6"
			if err := os.WriteFile(p, []byte("1"), 0o644); err != nil {
				return fmt.Errorf("disabling IPv6 in %s: %w", path, err)
			}
		}
		return nil
	})
}

// doInNetNS runs fn on an OS thread that has joined the network namespace at
// path; sysctls opened there are that namespace's. The thread is never
// unlocked, so it ends with the goroutine instead of going back to the
// scheduler in the wrong namespace.
func doInNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		h, err := netns.GetFromPath(path)
		if err != nil {
			errc <- fmt.Errorf("opening network namespace %s: %w", path, err)
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("joining network namespace %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// hostSide finds the node's end of the pod's interface: eth0 must be a
// veth, whose peer (IFLA_LINK) is in the node's namespace, and the pod's
// MAC is eth0's. Guarding a pod by its host veth needs both; a pod on
// another kind of link (macvlan, ipvlan) cannot be held to its address
// from the bridge, so Setup refuses it rather than run it unguarded.
func hostSide(path, ifName string) (hostIf, mac string, err error) {
	h, err := netns.GetFromPath(path)
	if err != nil {
		return "", "", fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return "", "", fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer nh.Close()
	l, err := nh.LinkByName(ifName)
	if err != nil {
		return "", "", fmt.Errorf("finding the pod's %s: %w", ifName, err)
	}
	if l.Type() != "veth" {
		return "", "", fmt.Errorf("%w: the pod's %s is a %s, not a veth: podsec cannot hold the pod to its address", ErrInvalid, ifName, l.Type())
	}
	peer, err := netlink.LinkByIndex(l.Attrs().ParentIndex)
	if err != nil {
		return "", "", fmt.Errorf("finding the node's end of the pod's %s (index %d): %w", ifName, l.Attrs().ParentIndex, err)
	}
	// The index is the node's only if the peer points back at eth0.
	if peer.Type() != "veth" || peer.Attrs().ParentIndex != l.Attrs().Index {
		return "", "", fmt.Errorf("the pod's %s has no veth peer on the node (index %d is %s, a %s)", ifName, l.Attrs().ParentIndex, peer.Attrs().Name, peer.Type())
	}
	return peer.Attrs().Name, l.Attrs().HardwareAddr.String(), nil
}
