package spec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withNamespaces gives the container a mount namespace of its own, joins
// the pod's network, IPC and UTS namespaces, and a PID namespace of its own
// unless the pod shares one. The host* fields leave a namespace out, so the
// container stays in the node's.
func withNamespaces(c *Container, s *specs.Spec) error {
	ps := &c.Pod.Spec
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if !ps.HostNetwork {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: c.Paths.NetNS})
		// The node's network comes with the node's hostname, as with
		// containerd: the UTS namespace is shared with the host too.
		ns = append(ns, specs.LinuxNamespace{Type: specs.UTSNamespace, Path: c.Paths.UTSNS})
	}
	if !ps.HostIPC {
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: c.Paths.IPCNS})
	}
	if !ps.HostPID {
		pid := specs.LinuxNamespace{Type: specs.PIDNamespace}
		if ps.ShareProcessNamespace != nil && *ps.ShareProcessNamespace {
			pid.Path = c.Paths.PIDNS
		}
		ns = append(ns, pid)
	}
	if c.userNS() {
		r := c.Paths.UserNS
		if r == nil || r.Size == 0 {
			return fmt.Errorf("%s: the runtime gave the pod no range of host IDs for its user namespace", field.NewPath("spec", "hostUsers"))
		}
		// The pod sandbox's user namespace, which owns the pod's other
		// namespaces; the mapping is the one it was made with, and
		// libcontainer checks that they agree.
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace, Path: c.Paths.UserNSPath})
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: r.HostID, Size: r.Size}}
		s.Linux.UIDMappings, s.Linux.GIDMappings = m, append([]specs.LinuxIDMapping{}, m...)
	}
	s.Linux.Namespaces = ns
	return nil
}

// userNS reports whether the pod runs in a user namespace of its own
// (spec.hostUsers: false).
func (c *Container) userNS() bool {
	h := c.Pod.Spec.HostUsers
	return h != nil && !*h
}

// withHostname sets the pod's name as hostname (or spec.hostname, and
// spec.subdomain as the kubelet does), except with hostNetwork, where the
// container keeps the node's.
func withHostname(c *Container, s *specs.Spec) error {
	if c.Pod.Spec.HostNetwork {
		return nil
	}
	s.Hostname = c.hostname()
	return nil
}

// hostname is the name the pod's processes see.
func (c *Container) hostname() string {
	if c.Pod.Spec.HostNetwork {
		return c.Options.NodeName
	}
	return PodHostname(c.Pod)
}

// PodHostname is the hostname of a pod with a UTS namespace of its own:
// spec.hostname, else its name, cut to the 63 bytes sethostname takes.
func PodHostname(pod *corev1.Pod) string {
	ps := &pod.Spec
	name := pod.Name
	if ps.Hostname != "" {
		name = ps.Hostname
	}
	if len(name) > 63 {
		// The kubelet truncates, and so must we: sethostname refuses more.
		name = name[:63]
	}
	return name
}
