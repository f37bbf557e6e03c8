package node

import (
	"os"
	goruntime "runtime"

	// Device rules for the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	// nsenter runs before the Go runtime starts when the program is
	// re-executed as a container's init process.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"

	"github.com/podsec/podsec/runtime"
)

// Init turns the process into a container's init when libcontainer
// re-executes the program as "PROGRAM init", or into a pod sandbox for
// "PROGRAM sandbox-init" (runtime.SandboxArg), or into the helper that
// makes a container's early seccomp program for "PROGRAM seccomp-export"
// (runtime.SeccompExportArg); none returns. Every
// program that runs pods calls it first thing, from an init function,
// before flag parsing:
//
//	func init() { node.Init() }
//
// Init also keeps the main goroutine on the main thread: libcontainer
// joins a container's mount namespace on a locked thread that the Go
// runtime ends afterwards, unless it is the main thread, which would then
// stay in the container's namespace (and pin its mounts) for good.
func Init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.GOMAXPROCS(1)
		goruntime.LockOSThread()
		runtime.ContainerInit()
	}
	if len(os.Args) > 1 && os.Args[1] == runtime.SandboxArg {
		runtime.SandboxMain()
	}
	if len(os.Args) > 1 && os.Args[1] == runtime.SeccompExportArg {
		runtime.SeccompExportMain()
	}
	goruntime.LockOSThread()
}
