package ocispec

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/seccomp"
)

// refusing are the seccomp actions that keep a syscall from running. LOG
// and TRACE run it (TRACE without a tracer fails it, but a tracer decides
// otherwise), NOTIFY hands the decision to a userspace agent the policy
// cannot see: all three count as allowing.
var refusing = set(string(specs.ActKill), string(specs.ActKillProcess), string(specs.ActKillThread),
	string(specs.ActTrap), string(specs.ActErrno))

// checkSeccompBaseline: an unconfined seccomp profile is disallowed, and
// under a runtime "confined" means at least as strict as RuntimeDefault:
// the profile is compared with seccomp.RuntimeDefault for the process's
// capabilities, not counted.
//
// Spec: linux.seccomp. Allowed: a default action that refuses (kill,
// errno, trap), no flag SECCOMP_FILTER_FLAG_SPEC_ALLOW, and every rule
// whose action lets the syscall run (allow, log, trace, notify) allowed by
// RuntimeDefault too: unconditionally there, or with conditions that
// include one of RuntimeDefault's rules for it (the same conditions or
// more), or named in Policy.AllowedSyscalls. Under a runtime there is no runtime default to fall back to, so
// an unset linux.seccomp is unconfined and refused, at baseline as at
// restricted (pod-security-admission's baseline allows an unset profile
// because the runtime default then applies).
func checkSeccompBaseline(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	sc := in.linux().Seccomp
	if sc == nil {
		return []Violation{{Field: "linux.seccomp", What: "unset (unconfined)", Reason: "seccompProfile"}}
	}
	var vs []Violation
	if !refusing[string(sc.DefaultAction)] {
		what := string(sc.DefaultAction)
		if sc.DefaultAction == specs.ActAllow && len(sc.Syscalls) == 0 {
			what += " with no syscall rules (unconfined)"
		} else {
			what += " (lets every syscall it does not name run)"
		}
		vs = append(vs, Violation{Field: "linux.seccomp.defaultAction", What: what, Reason: "seccompProfile weaker than RuntimeDefault"})
	}
	if slices.Contains(sc.Flags, specs.LinuxSeccompFlagSpecAllow) {
		vs = append(vs, Violation{Field: "linux.seccomp.flags", What: string(specs.LinuxSeccompFlagSpecAllow),
			Reason: "seccompProfile weaker than RuntimeDefault"})
	}
	ref := allowedRules(seccomp.RuntimeDefault(processCapabilities(in.proc)))
	for _, name := range in.pol.AllowedSyscalls {
		ref[name] = append(ref[name], nil) // no condition: any rule is covered
	}
	for i, r := range sc.Syscalls {
		if refusing[string(r.Action)] {
			continue
		}
		var bad []string
		for _, name := range r.Names {
			for _, conds := range conditionSets(r.Args) {
				if !covered(ref[name], conds) {
					bad = append(bad, name)
					break
				}
			}
		}
		if len(bad) > 0 {
			v := violation(fmt.Sprintf("linux.seccomp.syscalls[%d]", i), sortedUnique(bad), "seccompProfile weaker than RuntimeDefault")
			v.What = fmt.Sprintf("%s %s", r.Action, v.What)
			if len(r.Args) > 0 {
				v.What += " (with its argument conditions)"
			}
			vs = append(vs, v)
		}
	}
	return vs
}

// allowedRules are, per syscall, the condition sets under which p allows
// it (an empty set: unconditionally). A syscall p names in an
// unconditional refusing rule is not allowed, whatever else p says.
func allowedRules(p *specs.LinuxSeccomp) map[string][][]specs.LinuxSeccompArg {
	out := map[string][][]specs.LinuxSeccompArg{}
	denied := map[string]bool{}
	for _, r := range p.Syscalls {
		for _, name := range r.Names {
			if r.Action != specs.ActAllow {
				if len(r.Args) == 0 && refusing[string(r.Action)] {
					denied[name] = true
				}
				continue
			}
			out[name] = append(out[name], conditionSets(r.Args)...)
		}
	}
	for name := range denied {
		delete(out, name)
	}
	return out
}

// conditionSets are the rules runc makes of one rule's conditions: all of
// them together, or, when two name the same argument, each on its own
// (libcontainer/seccomp adds them as separate rules, which libseccomp
// ORs).
func conditionSets(args []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	seen := map[uint]bool{}
	for _, a := range args {
		if seen[a.Index] {
			out := make([][]specs.LinuxSeccompArg, len(args))
			for i, a := range args {
				out[i] = []specs.LinuxSeccompArg{a}
			}
			return out
		}
		seen[a.Index] = true
	}
	return [][]specs.LinuxSeccompArg{args}
}

// covered reports whether a rule with the conditions conds allows no more
// than one of the reference's rules: it holds every condition of one of
// them (conditions are ANDed, so more conditions allow less).
func covered(ref [][]specs.LinuxSeccompArg, conds []specs.LinuxSeccompArg) bool {
	for _, r := range ref {
		all := true
		for _, c := range r {
			if !slices.Contains(conds, c) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// processCapabilities are every capability the process holds in any set,
// spelled CAP_X: RuntimeDefault allows the syscalls they guard. Unset
// capabilities are every one (refused by the capabilities check anyway).
func processCapabilities(p *specs.Process) []string {
	if p == nil || p.Capabilities == nil {
		return allCapabilities
	}
	var caps []string
	for _, s := range capabilitySets(p.Capabilities) {
		for _, c := range s.caps {
			caps = append(caps, normalizeCapability(c))
		}
	}
	return sortedUnique(caps)
}

// allCapabilities stand for unset capabilities: RuntimeDefault with every
// capability guarding a syscall.
var allCapabilities = []string{
	"CAP_BPF", "CAP_DAC_READ_SEARCH", "CAP_PERFMON", "CAP_SYSLOG", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_MODULE", "CAP_SYS_NICE", "CAP_SYS_PACCT", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_WAKE_ALARM",
}
