// Package spec decodes, defaults and validates Kubernetes Pods and translates
// each of their containers into an OCI runtime spec.
//
// The package is pure: it does no host I/O, makes no system calls and starts
// no processes. Everything it needs from the node (the rootfs path, the pod's
// namespace paths, volume sources, the image's config and user database, the
// seccomp profiles of the node) is handed to it by the caller in an Input, so
// that the whole translation can be tested with tables and golden files.
package spec
