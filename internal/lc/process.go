package lc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// ValidateProcess refuses a process libcontainer could not start, with
// the reason the runtime spec gives.
func ValidateProcess(p *specs.Process) error {
	switch {
	case p == nil:
		return errors.New("process: must be set")
	case p.Cwd == "":
		return errors.New("process.cwd: must be set")
	case !filepath.IsAbs(p.Cwd):
		return fmt.Errorf("process.cwd: %q is not an absolute path", p.Cwd)
	case len(p.Args) == 0:
		return errors.New("process.args: must not be empty")
	}
	return validateCapabilities(p.Capabilities)
}

// knownCapabilities are the capability names libcontainer can map to the
// kernel's numbers.
var knownCapabilities = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, c := range capabilities.KnownCapabilities() {
		m[c] = true
	}
	return m
})

// validateCapabilities refuses a capability name that maps to no kernel
// capability: the runtime spec says such a value MUST cause an error;
// libcontainer (and runc, and crun) only warn and drop it. A known
// capability this kernel lacks is still dropped with libcontainer's
// warning, so specs written for newer kernels run.
func validateCapabilities(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, set := range []struct {
		name  string
		names []string
	}{{"bounding", c.Bounding}, {"effective", c.Effective}, {"inheritable", c.Inheritable}, {"permitted", c.Permitted}, {"ambient", c.Ambient}} {
		for i, n := range set.names {
			if !knownCapabilities()[n] {
				errs = append(errs, fmt.Errorf("process.capabilities.%s[%d]: Unsupported value: %q: not a Linux capability", set.name, i, n))
			}
		}
	}
	return errors.Join(errs...)
}

// NewProcess is the libcontainer form of a spec's process: identity,
// capabilities, rlimits, labels, AppArmor profile, scheduling and
// terminal size. init says whether it is the container's init (create)
// or a process joining it (exec).
func NewProcess(p *specs.Process, init bool) (*libcontainer.Process, error) {
	lp := &libcontainer.Process{
		Args:            p.Args,
		Env:             p.Env,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		Cwd:             p.Cwd,
		Label:           p.SelinuxLabel,
		NoNewPrivileges: &p.NoNewPrivileges,
		AppArmorProfile: p.ApparmorProfile,
		Scheduler:       p.Scheduler,
		IOPriority:      p.IOPriority,
		LogLevel:        strconv.Itoa(int(logrus.GetLevel())),
		Init:            init,
	}
	if p.ConsoleSize != nil {
		lp.ConsoleWidth, lp.ConsoleHeight = uint16(p.ConsoleSize.Width), uint16(p.ConsoleSize.Height)
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{Bounding: c.Bounding, Effective: c.Effective,
			Inheritable: c.Inheritable, Permitted: c.Permitted, Ambient: c.Ambient}
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	for _, r := range p.Rlimits {
		typ, ok := rlimits[r.Type]
		if !ok {
			return nil, fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: typ, Hard: r.Hard, Soft: r.Soft})
	}
	aff, err := configs.ConvertCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, fmt.Errorf("process.execCPUAffinity: %w", err)
	}
	lp.CPUAffinity = aff
	return lp, nil
}

// rlimits are the resource limits by their spec name.
var rlimits = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

// ExitCode is a finished process's exit code as a shell reports it:
// 128+N for a process killed by signal N.
func ExitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}
