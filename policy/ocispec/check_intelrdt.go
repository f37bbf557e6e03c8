package ocispec

// checkIntelRdt: Intel RDT classes of service are the node's (a closID is
// a resctrl group every process in it shares, and its schemata divide the
// node's caches and memory bandwidth); a pod has no such field and the
// engines do not set one, so it is refused below privileged.
//
// Spec: linux.intelRdt. Allowed: unset.
func checkIntelRdt(in *input) []Violation {
	if in.spec == nil || in.linux().IntelRdt == nil {
		return nil
	}
	what := "set"
	if id := in.linux().IntelRdt.ClosID; id != "" {
		what = "closID " + id
	}
	return []Violation{{Field: "linux.intelRdt", What: what, Reason: "classes of service of the node"}}
}
