package runtime

import (
	"os"

	"github.com/opencontainers/runc/libcontainer"

	"github.com/podsec/podsec/internal/seccompsplit"
)

// earlyMemfd makes the early filter's memory file; tests replace it to
// hand an init something else.
var earlyMemfd = sealedMemfd

// errNoEarly is why an init told its profile was split refuses to go on.
const errNoEarly = seccompsplit.NoEarlyMessage

// askEarly hands p the early filter f, as its first extra file, and marks
// p as a process that must not run without it: its init refuses to go on
// unless it loads f (seccompsplit.Ask, LoadEarly).
func askEarly(p *libcontainer.Process, f *os.File) {
	p.ExtraFiles = append([]*os.File{f}, p.ExtraFiles...)
	seccompsplit.Ask(p)
}

// ContainerInit is a container's init process, when libcontainer
// re-executes podsec as "PROGRAM init": it loads the early seccomp filter
// podsec handed it, if any, then runs libcontainer's init, which sets the
// container up, loads the late filter and execs the container's process.
// An init told that its profile was split (askEarly) that finds no early
// filter exits before libcontainer's init runs: the container's process
// is never executed under the late filter alone, whether it is a
// container's init (podsec run) or a process joining one (podsec exec).
// A program that embeds this package calls it from an init function, as
// for SandboxArg. It never returns.
func ContainerInit() {
	if err := seccompsplit.LoadEarly(); err != nil {
		seccompsplit.InitFatal("podsec init: seccomp: " + err.Error())
	}
	libcontainer.Init()
}
