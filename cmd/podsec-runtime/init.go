package main

import (
	"os"
	goruntime "runtime"

	// Device rules for the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	// nsenter runs before the Go runtime starts when podsec-runtime
	// re-executes itself as a container's init process.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"

	"github.com/podsec/podsec/internal/seccompsplit"
	"github.com/podsec/podsec/oci"
)

// init turns this process into a container's init (or an exec'd
// process's setns helper) when libcontainer re-executes podsec-runtime
// as "podsec-runtime init". It must run before flag parsing.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.GOMAXPROCS(1)
		goruntime.LockOSThread()
		reserveInitHeap()
		// The early seccomp filter podsec-runtime handed the init, if
		// any (oci.EarlySeccomp), first thing.
		if err := seccompsplit.LoadEarly(); err != nil {
			seccompsplit.InitFatal("podsec-runtime init: seccomp: " + err.Error())
		}
		libcontainer.Init()
	}
	// Making an early seccomp program (seccompsplit.EarlyFile).
	if len(os.Args) > 1 && os.Args[1] == seccompsplit.ExportArg {
		seccompsplit.ExportMain()
	}
	// A prestart hook, run through podsec-runtime to see "created".
	if len(os.Args) > 1 && os.Args[1] == oci.HookStateArg {
		oci.HookStateMain(os.Args[2:])
	}
	// Keep the main thread to the main goroutine: libcontainer joins a
	// container's namespaces on a locked thread that the Go runtime ends
	// afterwards, unless it is the main thread, which would then stay in
	// the container's namespaces for good.
	goruntime.LockOSThread()
}
