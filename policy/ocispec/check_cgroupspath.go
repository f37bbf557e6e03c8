package ocispec

import (
	"fmt"
	"path"
	"strings"
)

// checkCgroupsPath: a container's cgroup is its own; the node's root
// cgroup would put the container's limits and device rules on the whole
// node.
//
// Spec: linux.cgroupsPath. Allowed: unset (the runtime makes one) or a
// path that is not the root cgroup once cleaned.
func checkCgroupsPath(in *input) []Violation {
	p := in.linux().CgroupsPath
	if in.spec == nil || p == "" || strings.Contains(p, ":") { // systemd's slice:prefix:name
		return nil
	}
	if path.Clean("/"+p) != "/" {
		return nil
	}
	return []Violation{{Field: "linux.cgroupsPath", What: fmt.Sprintf("%q (the root cgroup)", p), Reason: "the node's cgroup"}}
}
