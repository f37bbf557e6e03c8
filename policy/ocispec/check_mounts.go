package ocispec

import (
	"fmt"
	"path"
	"slices"
)

// kernelMountPoints are the kernel filesystems a container gets, each at
// its usual place: elsewhere a second proc or sysfs is a view of the node
// the runtime's masks and read-only paths do not cover (a proc at /p
// leaves /p/sys/kernel/core_pattern writable).
var kernelMountPoints = map[string]string{
	"proc": "/proc", "sysfs": "/sys", "cgroup": "/sys/fs/cgroup", "cgroup2": "/sys/fs/cgroup",
	"mqueue": "/dev/mqueue", "devpts": "/dev/pts",
}

// nodeFilesystems are kernel filesystems that are the node's whatever the
// container's namespaces: tracing, BPF objects, kernel configuration,
// security modules, firmware variables, crash records, binary formats,
// every device node. No pod gets one.
var nodeFilesystems = set(
	"debugfs", "tracefs", "securityfs", "bpf", "configfs", "fusectl", "pstore", "efivarfs",
	"binfmt_misc", "devtmpfs", "selinuxfs", "smackfs", "apparmorfs", "nfsd", "rpc_pipefs",
	"autofs", "nsfs", "resctrl",
)

// checkKernelMounts: a pod's mounts are its volumes (bind mounts, tmpfs)
// and the kernel filesystems every container gets at their usual places;
// anything else reaches the node.
//
// Spec: mounts[*].type and destination (bind mounts are checkBindMounts').
// Allowed: tmpfs anywhere but under /proc; proc at /proc, sysfs at /sys,
// cgroup and cgroup2 at or under /sys/fs/cgroup, mqueue at /dev/mqueue,
// devpts at /dev/pts. Refused: the node's own filesystems above anywhere,
// and any other type (a disk, overlay with node directories in its
// options, ...): it has no pod equivalent.
func checkKernelMounts(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var vs []Violation
	for i, m := range in.spec.Mounts {
		if isBind(m.Type, m.Options) {
			continue
		}
		dst := path.Clean("/" + m.Destination)
		field := fmt.Sprintf("mounts[%d]", i)
		what := fmt.Sprintf("%s at %q", mountType(m.Type), m.Destination)
		want, kernel := kernelMountPoints[m.Type]
		switch {
		case nodeFilesystems[m.Type]:
			vs = append(vs, Violation{Field: field, What: what, Reason: "a filesystem of the node"})
		case kernel && !(dst == want || (m.Type == "cgroup" || m.Type == "cgroup2") && under(dst, want)):
			vs = append(vs, Violation{Field: field, What: what,
				Reason: fmt.Sprintf("kernel filesystems only at their usual place (%s at %s)", m.Type, want)})
		case m.Type == "tmpfs" && dst != "/proc" && under(dst, "/proc"):
			vs = append(vs, Violation{Field: field, What: what, Reason: "mounts over /proc"})
		case !kernel && m.Type != "tmpfs":
			vs = append(vs, Violation{Field: field, What: what, Reason: "mount types without a pod equivalent"})
		}
	}
	return vs
}

// checkMountPropagation: mounts that propagate back to the node
// (Kubernetes' Bidirectional mountPropagation) need a privileged
// container.
//
// Spec: mounts[*].options and linux.rootfsPropagation. Allowed: any
// propagation but shared and rshared.
func checkMountPropagation(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var vs []Violation
	for i, m := range in.spec.Mounts {
		for _, o := range []string{"shared", "rshared"} {
			if slices.Contains(m.Options, o) {
				vs = append(vs, Violation{Field: fmt.Sprintf("mounts[%d].options", i),
					What: fmt.Sprintf("%q on %q", o, m.Destination), Reason: "mount propagation to the node"})
			}
		}
	}
	if p := in.linux().RootfsPropagation; p == "shared" || p == "rshared" {
		vs = append(vs, Violation{Field: "linux.rootfsPropagation", What: fmt.Sprintf("%q", p), Reason: "mount propagation to the node"})
	}
	return vs
}

func mountType(t string) string {
	if t == "" {
		return "a mount without type"
	}
	return t
}
