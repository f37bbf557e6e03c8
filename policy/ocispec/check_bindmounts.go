package ocispec

import (
	"fmt"
)

// checkBindMounts: hostPath volumes are disallowed. In a spec every
// volume, /etc/hosts and /dev/shm alike, is a bind mount; what tells the
// engine's own files from the node's is where the source is: a bind
// source must be in the bundle or below a directory of the engines' state
// (Policy.AllowedBindSources, default DefaultBindSources).
//
// Spec: mounts[*].source of bind mounts (type bind, or a "bind" or
// "rbind" option whatever the type). The source is made absolute against
// the bundle, cleaned ("..") and resolved by Options.RealPath before the
// comparison, which is on whole path components. The runtime must resolve
// symlinks (the runtime's side, oci/): this package does no I/O.
func checkBindMounts(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var vs []Violation
	dirs := in.pol.bindSources()
	for i, m := range in.spec.Mounts {
		if !isBind(m.Type, m.Options) {
			continue
		}
		np := in.nodePath(m.Source)
		if np.real == "/" || !in.allowed(np, dirs) {
			vs = append(vs, Violation{Field: fmt.Sprintf("mounts[%d].source", i),
				What:   np.describe(m.Source) + " at " + fmt.Sprintf("%q", m.Destination),
				Reason: "hostPath volumes (bind sources outside the bundle and allowedBindSources)"})
		}
	}
	return vs
}
