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
//     is the runtime's own namespace, is the host's.
//
// What a spec cannot tell is not checked: whether a bind mount's source is
// a volume or any host path (every container has bind mounts of
// /etc/hosts and /etc/resolv.conf), so restricted's volume types are not
// enforced here; and whether SELinux or AppArmor are active, which the
// caller says in Options.
//
// The package is pure: facts about the host come in Options.
package ocispec
