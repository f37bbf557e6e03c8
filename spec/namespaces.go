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

// withUserNSIDs refuses a process identity outside the pod's user
// namespace: only container IDs 0 to the range's size minus one exist
// there, and the kernel would refuse the others at the container's start
// with an error naming neither the field nor the range.
func withUserNSIDs(c *Container, s *specs.Spec) error {
	r := c.Paths.UserNS
	if !c.userNS() || r == nil || s.Process == nil {
		return nil
	}
	u := s.Process.User
	check := func(kind string, id uint32, from *int64, path *field.Path) error {
		if id < r.Size {
			return nil
		}
		if from == nil || *from != int64(id) {
			path = c.Path.Child("image")
		}
		return field.Invalid(path, id, fmt.Sprintf("%s %d is outside the pod's user namespace (spec.hostUsers: false gives container IDs 0-%d)", kind, id, r.Size-1))
	}
	sc, psc := c.sc(), c.psc()
	uidFrom, uidPath := psc.RunAsUser, field.NewPath("spec", "securityContext", "runAsUser")
	if sc.RunAsUser != nil {
		uidFrom, uidPath = sc.RunAsUser, c.Path.Child("securityContext", "runAsUser")
	}
	gidFrom, gidPath := psc.RunAsGroup, field.NewPath("spec", "securityContext", "runAsGroup")
	if sc.RunAsGroup != nil {
		gidFrom, gidPath = sc.RunAsGroup, c.Path.Child("securityContext", "runAsGroup")
	}
	if err := check("user ID", u.UID, uidFrom, uidPath); err != nil {
		return err
	}
	if err := check("group ID", u.GID, gidFrom, gidPath); err != nil {
		return err
	}
	for _, g := range u.AdditionalGids {
		from, path := psc.FSGroup, field.NewPath("spec", "securityContext", "fsGroup")
		for i, sg := range psc.SupplementalGroups {
			if sg == int64(g) {
				from, path = &psc.SupplementalGroups[i], field.NewPath("spec", "securityContext", "supplementalGroups").Index(i)
			}
		}
		if err := check("group ID", g, from, path); err != nil {
			return err
		}
	}
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
