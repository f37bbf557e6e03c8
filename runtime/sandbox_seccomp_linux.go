//go:build seccomp

package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	goruntime "runtime"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/seccompsplit"
	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/seccomp"
)

// sandboxFilterVersion names how sandboxFilter makes its program; it is
// part of the cache key, so a podsec that makes it otherwise never loads
// an older one's program.
const sandboxFilterVersion = "podsec sandbox RuntimeDefault, libseccomp export with TSYNC, v1"

// sandboxFilter returns the program that puts the sandbox under
// RuntimeDefault for no capabilities, as a pod's own processes are: from
// the seccomp cache under root when it holds it, else compiled and
// cached. Rules are added as libcontainer adds them (same actions,
// conditions split the same way), so the sandbox is held to what its
// pod's containers are held to. The key covers the profile as
// libcontainer reads it, libseccomp's version, the architecture and how
// the program is made.
func sandboxFilter(root string) ([]byte, error) {
	cfg, err := specconv.SetupSeccomp(seccomp.RuntimeDefault(nil))
	if err != nil {
		return nil, fmt.Errorf("converting the profile: %w", err)
	}
	profile, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the profile: %w", err)
	}
	major, minor, micro := libseccomp.GetLibraryVersion()
	key := seccompsplit.Key([]byte(sandboxFilterVersion), []byte(goruntime.GOARCH),
		fmt.Appendf(nil, "libseccomp %d.%d.%d", major, minor, micro), profile)
	cache := seccompsplit.NewCache(root)
	if prog := cache.Get(key); prog != nil {
		return prog, nil
	}
	defer trace.Step("seccomp compile")()
	prog, err := compileSandboxFilter(cfg)
	if err != nil {
		return nil, err
	}
	// The cache only saves time: a pod starts as well without it.
	_ = cache.Put(key, prog)
	return prog, nil
}

// compileSandboxFilter makes the program with libseccomp, with TSYNC
// (libseccomp-golang's default) as loading it directly would.
func compileSandboxFilter(cfg *configs.Seccomp) ([]byte, error) {
	def, err := scmpAction(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("creating the filter: %w", err)
	}
	defer f.Release()
	for _, name := range cfg.Architectures {
		arch, err := libseccomp.GetArchFromString(name)
		if err != nil {
			return nil, fmt.Errorf("architecture %q: %w", name, err)
		}
		if err := f.AddArch(arch); err != nil {
			return nil, fmt.Errorf("adding architecture %q: %w", name, err)
		}
	}
	for _, call := range cfg.Syscalls {
		if err := addSandboxRule(f, call, def); err != nil {
			return nil, err
		}
	}
	fd, err := unix.MemfdCreate("podsec-seccomp-export", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("exporting the filter: %w", err)
	}
	mf := os.NewFile(uintptr(fd), "podsec-seccomp-export")
	defer mf.Close()
	if err := f.ExportBPF(mf); err != nil {
		return nil, fmt.Errorf("exporting the filter: %w", err)
	}
	prog, err := io.ReadAll(io.NewSectionReader(mf, 0, bpfMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("exporting the filter: %w", err)
	}
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog) > bpfMaxBytes {
		return nil, fmt.Errorf("exporting the filter: a program of %d bytes", len(prog))
	}
	return prog, nil
}

// addSandboxRule adds one rule as libcontainer's matchCall does: a rule
// with the default action is redundant, a syscall this libseccomp does not
// know is skipped, and conditions on the same argument become rules of
// their own.
func addSandboxRule(f *libseccomp.ScmpFilter, call *configs.Syscall, def libseccomp.ScmpAction) error {
	act, err := scmpAction(call.Action, call.ErrnoRet)
	if err != nil {
		return fmt.Errorf("syscall %s: %w", call.Name, err)
	}
	if act == def {
		return nil
	}
	nr, err := libseccomp.GetSyscallFromName(call.Name)
	if err != nil {
		return nil
	}
	if len(call.Args) == 0 {
		if err := f.AddRule(nr, act); err != nil {
			return fmt.Errorf("adding a rule for %s: %w", call.Name, err)
		}
		return nil
	}
	var conds []libseccomp.ScmpCondition
	seen := map[uint]bool{}
	split := false
	for _, a := range call.Args {
		op, ok := scmpOps[a.Op]
		if !ok {
			return fmt.Errorf("syscall %s: operator %v", call.Name, a.Op)
		}
		c, err := libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		if err != nil {
			return fmt.Errorf("syscall %s: %w", call.Name, err)
		}
		split = split || seen[a.Index]
		seen[a.Index] = true
		conds = append(conds, c)
	}
	groups := [][]libseccomp.ScmpCondition{conds}
	if split {
		groups = groups[:0]
		for _, c := range conds {
			groups = append(groups, []libseccomp.ScmpCondition{c})
		}
	}
	for _, g := range groups {
		if err := f.AddRuleConditional(nr, act, g); err != nil {
			return fmt.Errorf("adding a rule for %s: %w", call.Name, err)
		}
	}
	return nil
}

var scmpOps = map[configs.Operator]libseccomp.ScmpCompareOp{
	configs.EqualTo:              libseccomp.CompareEqual,
	configs.NotEqualTo:           libseccomp.CompareNotEqual,
	configs.GreaterThan:          libseccomp.CompareGreater,
	configs.GreaterThanOrEqualTo: libseccomp.CompareGreaterEqual,
	configs.LessThan:             libseccomp.CompareLess,
	configs.LessThanOrEqualTo:    libseccomp.CompareLessOrEqual,
	configs.MaskEqualTo:          libseccomp.CompareMaskedEqual,
}

// scmpAction is libcontainer's getAction for the actions RuntimeDefault
// uses; any other is an error.
func scmpAction(a configs.Action, errno *uint) (libseccomp.ScmpAction, error) {
	switch a {
	case configs.Allow:
		return libseccomp.ActAllow, nil
	case configs.Errno:
		ret := uint(unix.EPERM)
		if errno != nil {
			ret = *errno
		}
		return libseccomp.ActErrno.SetReturnCode(int16(ret)), nil
	case configs.KillProcess:
		return libseccomp.ActKillProcess, nil
	case configs.Kill, configs.KillThread:
		return libseccomp.ActKillThread, nil
	}
	return libseccomp.ActInvalid, fmt.Errorf("seccomp action %v is not used by RuntimeDefault", a)
}
