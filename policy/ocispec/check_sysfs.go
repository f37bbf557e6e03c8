package ocispec

import (
	"fmt"
	"path"
	"slices"
)

// checkWritableSysfs: a writable /sys (or cgroup filesystem) lets a
// container reconfigure the host's kernel and devices; only privileged
// containers get one.
//
// Spec: mounts. Allowed: mounts of type sysfs or cgroup, and mounts at or
// under /sys, only with the "ro" option; bind mounts of the host's /sys
// (the source resolved, see checkBindMounts) likewise.
func checkWritableSysfs(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var vs []Violation
	for i, m := range in.spec.Mounts {
		dst := path.Clean("/" + m.Destination)
		bind := isBind(m.Type, m.Options)
		sysfs := m.Type == "sysfs" || m.Type == "cgroup" || m.Type == "cgroup2" ||
			under(dst, "/sys") || (bind && under(in.nodePath(m.Source).real, "/sys"))
		if sysfs && !slices.Contains(m.Options, "ro") {
			vs = append(vs, Violation{Field: fmt.Sprintf("mounts[%d]", i),
				What: fmt.Sprintf("%q mounted read-write", m.Destination), Reason: "writable /sys"})
		}
	}
	return vs
}

func isBind(typ string, options []string) bool {
	return typ == "bind" || slices.Contains(options, "bind") || slices.Contains(options, "rbind")
}
