package seccomp

import (
	"runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RuntimeDefault returns podsec's RuntimeDefault profile for a container
// whose effective capabilities are caps, in OCI form ("CAP_SYS_ADMIN"): a
// default-deny allowlist equivalent to Docker's and containerd's default
// profile. Unlisted syscalls fail with EPERM; each capability the container
// holds allows the syscalls it guards, and without CAP_SYS_ADMIN clone may
// not create namespaces and clone3 fails with ENOSYS.
//
// The architectures are those of runtime.GOARCH (x86_64, x86 and x32 on
// amd64; aarch64 and arm on arm64). The result is a new value, equal for
// equal inputs, with the names of every rule sorted.
func RuntimeDefault(caps []string) *specs.LinuxSeccomp {
	return runtimeDefault(runtime.GOARCH, caps)
}

// runtimeDefault is RuntimeDefault for the Go architecture goarch.
func runtimeDefault(goarch string, caps []string) *specs.LinuxSeccomp {
	held := make(map[string]bool, len(caps))
	for _, c := range caps {
		held[c] = true
	}
	p := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uintPtr(errnoEPERM),
		Architectures:   slices.Clone(goArches[goarch].arches),
	}
	for _, g := range defaultGroups {
		if g.applies(goarch, held) {
			p.Syscalls = append(p.Syscalls, g.rule())
		}
	}
	return p
}

// applies reports whether the profile for goarch and the capabilities held
// includes g.
func (g ruleGroup) applies(goarch string, held map[string]bool) bool {
	switch {
	case len(g.arches) > 0 && !slices.Contains(g.arches, goarch):
		return false
	case slices.Contains(g.notArches, goarch):
		return false
	case g.cap != "" && !held[g.cap]:
		return false
	case g.notCap != "" && held[g.notCap]:
		return false
	}
	return true
}

// rule converts g to a LinuxSyscall that shares no memory with g.
func (g ruleGroup) rule() specs.LinuxSyscall {
	r := specs.LinuxSyscall{
		Names:  slices.Sorted(slices.Values(g.names)),
		Action: g.action,
		Args:   slices.Clone(g.args),
	}
	if r.Action == "" {
		r.Action = specs.ActAllow
	}
	if r.Action == specs.ActErrno {
		r.ErrnoRet = uintPtr(g.errno)
	}
	return r
}

func uintPtr(v uint) *uint { return &v }
