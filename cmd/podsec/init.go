package main

import (
	"os"
	goruntime "runtime"

	// Device rules for the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	// nsenter runs before the Go runtime starts when podsec re-executes
	// itself as a container's init process.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"

	"github.com/podsec/podsec/runtime"
)

// init turns this process into a container's init when libcontainer
// re-executes podsec as "podsec init", or into a pod sandbox for
// "podsec sandbox-init". It must run before flag parsing.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.GOMAXPROCS(1)
		goruntime.LockOSThread()
		libcontainer.Init()
	}
	if len(os.Args) > 1 && os.Args[1] == runtime.SandboxArg {
		runtime.SandboxMain()
	}
	// Keep the main thread to the main goroutine: libcontainer joins a
	// container's mount namespace on a locked thread that the Go runtime
	// ends afterwards, unless it is the main thread, which would then stay
	// in the container's namespace (and pin its mounts) for good.
	goruntime.LockOSThread()
}
