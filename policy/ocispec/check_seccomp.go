package ocispec

import specs "github.com/opencontainers/runtime-spec/specs-go"

// checkSeccompBaseline: an unconfined seccomp profile is disallowed.
//
// Spec: linux.seccomp. Allowed: a profile that is not allow-all. Under a
// runtime there is no runtime default to fall back to, so an unset
// linux.seccomp is unconfined and refused, at baseline as at restricted
// (pod-security-admission's baseline allows an unset profile because the
// runtime default then applies).
func checkSeccompBaseline(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	sc := in.linux().Seccomp
	switch {
	case sc == nil:
		return []Violation{{Field: "linux.seccomp", What: "unset (unconfined)", Reason: "seccompProfile"}}
	case sc.DefaultAction == specs.ActAllow && len(sc.Syscalls) == 0:
		return []Violation{{Field: "linux.seccomp.defaultAction",
			What: "SCMP_ACT_ALLOW with no syscall rules (unconfined)", Reason: "seccompProfile"}}
	}
	return nil
}
