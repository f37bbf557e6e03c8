package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The values the OCI runtime spec defines, plus SECCOMP_FILTER_FLAG_TSYNC,
// which runc accepts (and always sets itself).
var (
	knownActions = set(specs.ActKill, specs.ActKillProcess, specs.ActKillThread,
		specs.ActTrap, specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog,
		specs.ActNotify)
	knownOperators = set(specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual)
	knownArches = set(specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM,
		specs.ArchAARCH64, specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32,
		specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC,
		specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X,
		specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64,
		specs.ArchLOONGARCH64, specs.ArchM68K, specs.ArchSH, specs.ArchSHEB)
	knownFlags = set(specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow,
		specs.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_TSYNC")
)

func set[T comparable](values ...T) map[T]bool {
	m := make(map[T]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

const (
	maxArgs      = 6      // a syscall has at most six arguments
	maxErrno     = 4095   // MAX_ERRNO; the kernel clamps larger values
	maxTraceData = 0x7fff // runc passes errnoRet to libseccomp as an int16
)

// validate checks p against the OCI runtime spec and what runc can load,
// naming the offending field.
func validate(p *specs.LinuxSeccomp) error {
	if p.DefaultAction == "" {
		return invalidf("defaultAction: missing")
	}
	if err := validateAction("defaultAction", p.DefaultAction); err != nil {
		return err
	}
	if p.DefaultAction == specs.ActNotify {
		return invalidf("defaultAction: %s cannot be the default action", specs.ActNotify)
	}
	if err := validateErrno("defaultErrnoRet", p.DefaultAction, p.DefaultErrnoRet); err != nil {
		return err
	}
	if err := validateArches("architectures", p.Architectures); err != nil {
		return err
	}
	for i, f := range p.Flags {
		if !knownFlags[f] {
			return invalidf("flags[%d]: unknown flag %q", i, f)
		}
	}
	for i, r := range p.Syscalls {
		if err := validateRule(fmt.Sprintf("syscalls[%d]", i), r, p.ListenerPath); err != nil {
			return err
		}
	}
	return nil
}

func validateRule(field string, r specs.LinuxSyscall, listenerPath string) error {
	if len(r.Names) == 0 {
		return invalidf("%s.names: no syscall named", field)
	}
	for j, n := range r.Names {
		if n == "" {
			return invalidf("%s.names[%d]: empty syscall name", field, j)
		}
		// runc must write to its parent after loading the filter.
		if n == "write" && r.Action == specs.ActNotify {
			return invalidf("%s: %s cannot be used for write", field, specs.ActNotify)
		}
	}
	if r.Action == "" {
		return invalidf("%s.action: missing", field)
	}
	if err := validateAction(field+".action", r.Action); err != nil {
		return err
	}
	if r.Action == specs.ActNotify && listenerPath == "" {
		return invalidf("%s.action: %s needs the profile's listenerPath", field, specs.ActNotify)
	}
	if err := validateErrno(field+".errnoRet", r.Action, r.ErrnoRet); err != nil {
		return err
	}
	if len(r.Args) > maxArgs {
		return invalidf("%s.args: %d conditions, at most %d", field, len(r.Args), maxArgs)
	}
	for j, a := range r.Args {
		if a.Index >= maxArgs {
			return invalidf("%s.args[%d].index: %d, must be less than %d", field, j, a.Index, maxArgs)
		}
		if !knownOperators[a.Op] {
			return invalidf("%s.args[%d].op: unknown operator %q", field, j, a.Op)
		}
	}
	return nil
}

func validateAction(field string, a specs.LinuxSeccompAction) error {
	if !knownActions[a] {
		return invalidf("%s: unknown action %q", field, a)
	}
	return nil
}

// validateErrno allows errnoRet only with the actions that return it.
func validateErrno(field string, a specs.LinuxSeccompAction, errno *uint) error {
	switch {
	case errno == nil:
		return nil
	case a == specs.ActErrno && *errno > maxErrno:
		return invalidf("%s: %d, must be at most %d", field, *errno, maxErrno)
	case a == specs.ActTrace && *errno > maxTraceData:
		return invalidf("%s: %d, must be at most %d", field, *errno, maxTraceData)
	case a != specs.ActErrno && a != specs.ActTrace:
		return invalidf("%s: set, but action %s returns no errno", field, a)
	}
	return nil
}

func validateArches(field string, arches []specs.Arch) error {
	for i, a := range arches {
		if !knownArches[a] {
			return invalidf("%s[%d]: unknown architecture %q", field, i, a)
		}
	}
	return nil
}
