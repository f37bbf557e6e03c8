// Package psp is the PodSecurityPolicy admission engine as Kubernetes 1.24
// implemented it (plugin/pkg/admission/security/podsecuritypolicy and
// pkg/security/podsecuritypolicy), rewritten against the v1 Pod types that
// podsec runs.
//
// A PodSecurityPolicy is decoded by the caller (apiVersion policy/v1beta1 or
// extensions/v1beta1, kind PodSecurityPolicy) into the types of this package
// and checked with ValidatePolicy, as the API server checked it on create.
// Default fills in the fields a policy defaults on a pod, Validate lists
// what the pod then violates, and Admit picks among several policies the way
// the admission plugin did: by name, preferring one that admits the pod
// unchanged.
//
// Every check lives in its own rule_<name>.go file and is registered in the
// ordered table of rules.go. Error texts and field paths are those of
// Kubernetes 1.24, including its quirks (seccomp and AppArmor errors point at
// the legacy pod annotations, host namespace errors at
// spec.securityContext); the places where podsec departs from 1.24 are named
// in the doc comments of the rules concerned.
//
// The package is pure: no host I/O, no system calls, no processes.
package psp
