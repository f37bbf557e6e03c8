package ocispec

import "slices"

// Paths a container's /proc and /sys must hide or make read-only: the
// core of the lists containerd, podman, CRI-O and podsec all use.
var (
	requiredMasked   = []string{"/proc/kcore", "/proc/keys", "/proc/sched_debug", "/proc/timer_list", "/sys/firmware"}
	requiredReadonly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// checkProcMount: the default /proc masks are required (procMount
// Unmasked is disallowed).
//
// Spec: linux.maskedPaths and linux.readonlyPaths. Allowed: lists holding
// at least the paths above, in a user namespace too: a spec's user
// namespace may map to the node's root (an identity mapping is as good as
// none), and /proc/keys, /proc/sysrq-trigger or /sys/firmware are the
// node's whatever the namespace.
func checkProcMount(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	l := in.linux()
	var vs []Violation
	if miss := missing(l.MaskedPaths, requiredMasked); len(miss) > 0 {
		v := violation("linux.maskedPaths", miss, "procMount")
		v.What = "unmasked " + v.What
		vs = append(vs, v)
	}
	if miss := missing(l.ReadonlyPaths, requiredReadonly); len(miss) > 0 {
		v := violation("linux.readonlyPaths", miss, "procMount")
		v.What = "writable " + v.What
		vs = append(vs, v)
	}
	return vs
}

func missing(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}
