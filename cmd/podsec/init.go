package main

import (
	"os"
	goruntime "runtime"

	"github.com/opencontainers/runc/libcontainer"
	// Device rules for the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	// nsenter runs before the Go runtime starts when podsec re-executes
	// itself as a container's init process.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// init turns this process into a container's init when libcontainer
// re-executes podsec as "podsec init". It must run before flag parsing.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.GOMAXPROCS(1)
		goruntime.LockOSThread()
		libcontainer.Init()
	}
}
