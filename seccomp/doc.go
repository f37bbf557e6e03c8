// Package seccomp builds the seccomp filters of podsec's containers as OCI
// runtime-spec values (*specs.LinuxSeccomp), ready for runc's libcontainer.
//
// RuntimeDefault returns the profile a Pod gets with seccompProfile type
// RuntimeDefault: a default-deny allowlist equivalent to the default profile
// of Docker (moby/profiles seccomp/default.json) and containerd
// (contrib/seccomp), widened by the capabilities the container holds.
//
// Localhost loads the profile a Pod names with type Localhost, the way the
// kubelet does: localhostProfile is a path relative to the node's profile
// root (DefaultProfileRoot). The file may be in the Docker profile format
// (archMap, includes/excludes, name) or be an OCI LinuxSeccomp directly; both
// are converted to *specs.LinuxSeccomp and validated against the OCI enums.
//
// The package imports nothing but the standard library and runtime-spec. It
// makes no system calls beyond reading the profile file and, only for a
// Localhost profile whose rules depend on minKernel, the running kernel's
// release from /proc.
package seccomp
