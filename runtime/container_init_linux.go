package runtime

import (
	"github.com/opencontainers/runc/libcontainer"

	"github.com/podsec/podsec/internal/seccompsplit"
)

// ContainerInit is a container's init process, when libcontainer
// re-executes podsec as "PROGRAM init": it loads the early seccomp filter
// podsec handed it, if any, then runs libcontainer's init, which sets the
// container up, loads the late filter and execs the container's process.
// A program that embeds this package calls it from an init function, as
// for SandboxArg. It never returns.
func ContainerInit() {
	if err := seccompsplit.LoadEarly(); err != nil {
		seccompsplit.InitFatal("podsec init: seccomp: " + err.Error())
	}
	libcontainer.Init()
}
