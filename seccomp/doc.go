// Package seccomp builds the seccomp filters of podsec's containers as OCI
// runtime-spec values (*specs.LinuxSeccomp), ready for runc's libcontainer.
//
// RuntimeDefault returns the profile a Pod gets with seccompProfile type
// RuntimeDefault: moby's current default profile, taken from the maintained
// library github.com/moby/profiles/seccomp (Docker's profile, which
// containerd's follows) rather than from a hand-kept copy, which drifted:
// it allowed the kernel keyring syscalls and AF_ALG sockets. The library
// widens the profile by the capabilities the container holds and by the
// running kernel's version.
//
// Localhost loads the profile a Pod names with type Localhost, the way the
// kubelet does: localhostProfile is a path relative to the node's profile
// root (DefaultProfileRoot). The file may be in the Docker profile format
// (archMap, includes/excludes, name) or be an OCI LinuxSeccomp directly; both
// are converted to *specs.LinuxSeccomp and validated against the OCI enums.
//
// The package imports the standard library, runtime-spec, moby's profile
// library and what that brings: golang.org/x/sys/unix, for the socket
// families' and clone flags' constants and for uname(2). Nothing runs at
// import time. The only system calls are reading a Localhost profile file
// and learning the running kernel's version: uname(2), once, in moby's
// library for RuntimeDefault, and /proc/sys/kernel/osrelease for a
// Localhost profile whose rules depend on minKernel. scripts/lint checks
// this list of imports.
package seccomp
