package ocispec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkUserNamespaceMappings: a user namespace whose mappings reach the
// node's root user or group gives the container the node's root (an
// identity mapping is as good as no user namespace); Kubernetes maps a
// pod with hostUsers: false to IDs of its own.
//
// Spec: linux.uidMappings and linux.gidMappings. Allowed: ranges that do
// not cover host ID 0.
func checkUserNamespaceMappings(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	l := in.linux()
	var vs []Violation
	for _, f := range []struct {
		name string
		ms   []specs.LinuxIDMapping
	}{{"linux.uidMappings", l.UIDMappings}, {"linux.gidMappings", l.GIDMappings}} {
		for i, m := range f.ms {
			// uint64: hostID+size overflows uint32 for a range at the top.
			if m.HostID == 0 && m.Size > 0 || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
				vs = append(vs, Violation{Field: fmt.Sprintf("%s[%d]", f.name, i),
					What:   fmt.Sprintf("container ID %d -> host ID %d (size %d), covering host ID 0", m.ContainerID, m.HostID, m.Size),
					Reason: "user namespaces mapped to the node's root"})
			}
		}
	}
	return vs
}
