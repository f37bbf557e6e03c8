package seccomp

import (
	"encoding/json"
	"slices"

	moby "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RuntimeDefault returns podsec's RuntimeDefault profile for a container
// whose capabilities are caps, in OCI form ("CAP_SYS_ADMIN"), as the
// container's bounding set: moby's current default profile
// (github.com/moby/profiles/seccomp, the profile of Docker and the base of
// containerd's), filtered by moby's own rules for the capabilities held,
// runtime.GOARCH and the running kernel.
//
// Unlisted syscalls fail with EPERM. Among them are add_key, keyctl and
// request_key, since kernel keyrings are not namespaced, and socket(2) for
// the address families moby refuses (AF_ALG, AF_VSOCK and others). Each
// capability held allows the syscalls it guards; without CAP_SYS_ADMIN
// clone may not create namespaces and clone3 fails with ENOSYS.
//
// If the running kernel's version cannot be read, rules that need a
// minimum kernel are left out, as for a kernel older than any of them.
// The result is a new value, equal for equal inputs, with the names of
// every rule sorted; the rules keep moby's order.
func RuntimeDefault(caps []string) *specs.LinuxSeccomp {
	rs := &specs.Spec{Process: &specs.Process{
		Capabilities: &specs.LinuxCapabilities{Bounding: slices.Clone(caps)},
	}}
	p, err := mobyDefault(rs)
	if err != nil {
		// moby's library fails only when it cannot learn the kernel's
		// version (uname) for a minKernel rule.
		p = withoutKernel(rs)
	}
	for i := range p.Syscalls {
		slices.Sort(p.Syscalls[i].Names)
	}
	return p
}

// mobyDefault is moby's default profile filtered for rs. Tests replace it
// to see RuntimeDefault on a node whose kernel version is unknown.
var mobyDefault = moby.GetDefaultProfile

// withoutKernel is moby's default profile filtered for rs as on a kernel
// older than every minKernel it names: a rule that needs a newer kernel is
// left out, one excluded on newer kernels is kept. It makes no system call.
func withoutKernel(rs *specs.Spec) *specs.LinuxSeccomp {
	prof := moby.DefaultProfile()
	kept := prof.Syscalls[:0]
	for _, r := range prof.Syscalls {
		if r.Includes != nil && r.Includes.MinKernel != nil {
			continue
		}
		if r.Excludes != nil {
			r.Excludes.MinKernel = nil
		}
		kept = append(kept, r)
	}
	prof.Syscalls = kept
	// The library filters a profile it did not build only from JSON.
	b, err := json.Marshal(prof)
	if err == nil {
		var p *specs.LinuxSeccomp
		if p, err = moby.LoadProfile(string(b), rs); err == nil {
			return p
		}
	}
	// Unreachable with moby's profile; fail closed rather than unconfined.
	return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(1)}
}

func uintPtr(v uint) *uint { return &v }
