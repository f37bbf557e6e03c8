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
// under /sys, only read-only: with "ro" (or "rro") that no later "rw" (or
// "rrw") undoes, since libcontainer applies options in order; bind mounts
// of the host's /sys (the source resolved, see checkBindMounts) likewise.
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
		if sysfs && !readOnly(m.Options) {
			vs = append(vs, Violation{Field: fmt.Sprintf("mounts[%d]", i),
				What: fmt.Sprintf("%q mounted read-write", m.Destination), Reason: "writable /sys"})
		}
	}
	return vs
}

// readOnly reports whether options leave a mount read-only as
// libcontainer applies them: in order, the last of "ro" and "rw" winning
// (["ro", "rw"] is read-write), and the recursive "rro" and "rrw" counted
// alike, so "rrw" after "ro" is read-write too.
func readOnly(options []string) bool {
	ro := false
	for _, o := range options {
		switch o {
		case "ro", "rro":
			ro = true
		case "rw", "rrw":
			ro = false
		}
	}
	return ro
}

func isBind(typ string, options []string) bool {
	return typ == "bind" || slices.Contains(options, "bind") || slices.Contains(options, "rbind")
}
