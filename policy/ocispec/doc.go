// Package ocispec holds an OCI runtime spec (config.json) to the node's
// Pod Security Standards level, whatever tool wrote the spec: containerd,
// podman, CRI-O or podsec itself.
//
// The Pod Security Standards are written for pods; this package applies
// their intent to the spec a runtime is handed, where the pod's fields
// have already become namespaces, capability sets, mounts, devices and a
// seccomp filter. Each check lives in its own check_<id>.go file with a
// doc block naming the spec fields it reads and the values it allows; the
// checks run in the order of the table in checks.go.
//
// Where the OCI spec says more than a pod could, the check says what it
// reads into it, for example:
//
//   - an unset linux.seccomp is unconfined (there is no runtime default
//     under the runtime), so baseline refuses it, as it refuses an
//     explicit Unconfined profile;
//   - unset process.capabilities keep every capability of the runtime;
//   - baseline allows the capability sets container runtimes give by
//     default (Docker's and containerd's include CAP_NET_RAW, which
//     pod-security-admission never sees because it checks only
//     capabilities.add);
//   - a namespace missing from linux.namespaces, or joined by a path that
//     is the runtime's own namespace, is the host's;
//   - fields a pod has no equivalent of and that reach the node are
//     refused below privileged: hooks, kernel filesystems away from their
//     usual place (and the node's own: debugfs, bpf, ...), bind mounts
//     from outside the engines' state directories (hostPath volumes),
//     a root.path outside the bundle and the engines' storage, ID
//     mappings covering the node's root, a seccomp profile weaker than
//     RuntimeDefault, real-time scheduling, intelRdt.
//
// A bind mount's source and root.path are node paths: Options.RealPath
// (the runtime's side, which may do I/O) resolves their symlinks before
// they are judged, so that a symlink to / under an allowed directory is
// refused. Whether SELinux or AppArmor are active the caller says in
// Options too.
//
// The package is pure: facts about the host come in Options.
package ocispec
