package runtime

import (
	"os"
	"syscall"
)

// FailpointEnv names the environment variable that makes podsec kill
// itself with SIGKILL at one step of starting or stopping a pod. The crash
// recovery tests use it to prove that podsec gc leaves nothing behind,
// whatever the step; it has no other use.
const FailpointEnv = "PODSEC_FAILPOINT"

// Steps at which a failpoint can fire.
const (
	StepSandbox   = "sandbox"   // the sandbox runs, nothing else is made
	StepNetwork   = "network"   // the pod has its IP and host ports
	StepVolumes   = "volumes"   // volumes are made
	StepRootfs    = "rootfs"    // a container's overlay is mounted
	StepCreated   = "created"   // a container is created, not started
	StepStarted   = "started"   // a container runs
	StepStopping  = "stopping"  // the pod is being stopped
	StepCleanedUp = "cleanedup" // a container is cleaned, the pod not yet
	// StepSandboxLost makes the sandbox, not podsec, fail its set-up
	// (it is started with one argument too many), while the first
	// container's init is being started.
	StepSandboxLost = "sandbox-lost"
)

// sandboxArgs are the sandbox's arguments after the executable: one too
// many when FailpointEnv names StepSandboxLost.
func sandboxArgs(hostname string) []string {
	if os.Getenv(FailpointEnv) == StepSandboxLost {
		return []string{SandboxArg, hostname, StepSandboxLost}
	}
	return []string{SandboxArg, hostname}
}

// failpoint kills this process when FailpointEnv names step.
func failpoint(step string) {
	if os.Getenv(FailpointEnv) == step {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
