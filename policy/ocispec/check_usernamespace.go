package ocispec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkUserNamespaceMappings: no ID mapping may reach the node's root
// user or group. A user namespace mapped onto host ID 0 gives the
// container the node's root (an identity mapping is as good as no user
// namespace: capabilities in it override the permissions of the node's
// root-owned files); an idmapped mount mapping an ID onto host ID 0 makes
// files of an ordinary on-disk owner the node root's, setuid binaries
// included. Kubernetes maps a pod with hostUsers: false, and its volumes,
// to a range of its own.
//
// An idmapped mount's mapping may give on-disk ID 0 only to the
// container's root (diskRootMappings).
//
// Spec: linux.uidMappings and linux.gidMappings (the container's user
// namespace), mounts[*].uidMappings and mounts[*].gidMappings (idmapped
// mounts; an idmap or ridmap option without them takes the user
// namespace's). Allowed: ranges that do not cover host ID 0, and mount
// ranges whose on-disk ID 0 is the container's root. A user
// namespace joined by path is judged on the mappings the runtime reads
// from it (CheckJoinedUserNamespace).
func checkUserNamespaceMappings(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	l := in.linux()
	vs := rootMappings("linux.uidMappings", l.UIDMappings)
	vs = append(vs, rootMappings("linux.gidMappings", l.GIDMappings)...)
	uidRoot, gidRoot := containerRoot(l.UIDMappings), containerRoot(l.GIDMappings)
	for i, m := range in.spec.Mounts {
		vs = append(vs, rootMappings(fmt.Sprintf("mounts[%d].uidMappings", i), m.UIDMappings)...)
		vs = append(vs, rootMappings(fmt.Sprintf("mounts[%d].gidMappings", i), m.GIDMappings)...)
		vs = append(vs, diskRootMappings(fmt.Sprintf("mounts[%d].uidMappings", i), m.UIDMappings, uidRoot)...)
		vs = append(vs, diskRootMappings(fmt.Sprintf("mounts[%d].gidMappings", i), m.GIDMappings, gidRoot)...)
	}
	return vs
}

// containerRoot is the host ID of container ID 0 in the user namespace
// mapped by ms; nil without one.
func containerRoot(ms []specs.LinuxIDMapping) *uint32 {
	for _, m := range ms {
		if m.ContainerID == 0 && m.Size > 0 {
			return &m.HostID
		}
	}
	return nil
}

// diskRootMappings are the violations of an idmapped mount's mappings ms
// of field that give on-disk ID 0 (the mapping's container side) to a
// host ID other than root, the container's root in its user namespace
// (nil without one): through the mount, processes of that host ID own
// and create the node root's files, setuid programs included, which any
// node user who reaches the source directory then runs as the node's
// root. The container's own root being on-disk root is Kubernetes'
// choice for idmapped volumes (KEP-127), what containerd and podman ask.
func diskRootMappings(field string, ms []specs.LinuxIDMapping, root *uint32) []Violation {
	var vs []Violation
	for i, m := range ms {
		if !(m.ContainerID == 0 && m.Size > 0 || uint64(m.ContainerID)+uint64(m.Size) > 1<<32) || len(rootMappings("", ms[i:i+1])) > 0 {
			continue // on-disk 0 not mapped, or refused as onto the node's root
		}
		host := m.HostID - m.ContainerID // on-disk 0, past a wrap round 2^32
		if root != nil && *root == host {
			continue
		}
		vs = append(vs, Violation{Field: fmt.Sprintf("%s[%d]", field, i),
			What:   fmt.Sprintf("container ID %d -> host ID %d (size %d), giving on-disk ID 0 to host ID %d, not the container's root", m.ContainerID, m.HostID, m.Size, host),
			Reason: "idmapped mounts making another user the node's root on disk"})
	}
	return vs
}

// rootMappings are the violations of the mappings ms of field: each one
// whose host range covers ID 0, or wraps around to it.
func rootMappings(field string, ms []specs.LinuxIDMapping) []Violation {
	var vs []Violation
	for i, m := range ms {
		// uint64: hostID+size overflows uint32 for a range at the top.
		if m.HostID == 0 && m.Size > 0 || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
			vs = append(vs, Violation{Field: fmt.Sprintf("%s[%d]", field, i),
				What:   fmt.Sprintf("container ID %d -> host ID %d (size %d), covering host ID 0", m.ContainerID, m.HostID, m.Size),
				Reason: "ID mappings onto the node's root"})
		}
	}
	return vs
}

// CheckJoinedUserNamespace holds the mappings of a user namespace a spec
// joins by path (linux.namespaces[index].path) to the policy, as the
// runtime read them from the namespace: a spec may join one without
// stating its mappings, or state mappings the runtime then checks against
// the namespace's own. It returns nil or a *RefusedError naming the
// namespace's path.
func (p Policy) CheckJoinedUserNamespace(index int, path string, uid, gid []specs.LinuxIDMapping) error {
	if p.Level.rank() < Baseline.rank() {
		return nil
	}
	field := fmt.Sprintf("linux.namespaces[%d].path", index)
	var vs []Violation
	for _, v := range append(rootMappings("uid_map", uid), rootMappings("gid_map", gid)...) {
		v.Check = "userNamespaceMappings"
		v.What = fmt.Sprintf("%q (a user namespace whose %s: %s)", path, v.Field, v.What)
		v.Field = field
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		return nil
	}
	return &RefusedError{Level: p.Level, Violations: vs}
}
