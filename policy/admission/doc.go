// Package admission decides whether a pod may be created or updated, the
// way the admission chain of a Kubernetes 1.24 API server did with the
// PodSecurityPolicy and PodSecurity plugins enabled:
//
//  1. mutating phase: PodSecurityPolicy picks a policy the requester or the
//     pod's service account may use, applies its defaults and annotates the
//     pod with kubernetes.io/psp (package psp, authorization by package
//     rbac);
//  2. validating phase: the Pod Security Standards of the pod's namespace
//     (package pss) on the mutated pod, then PodSecurityPolicy again, which
//     now requires a usable policy that admits the pod unchanged, the one
//     named by kubernetes.io/psp tried first.
//
// On UPDATE, PodSecurityPolicy only validates (1.24 never mutated an
// existing pod) and ignores updates that change nothing but
// ownerReferences and finalizers; PodSecurity evaluates only updates that
// can change what the pod runs (containers, images, seccomp annotations).
// An update of the ephemeralcontainers subresource ("kubectl debug") is
// evaluated as an update of the whole pod, its ephemeral containers checked
// as containers are; other subresources (status, binding) are admitted.
//
// PodSecurityPolicy admission is on when at least one policy is given; with
// none it admits every pod unchanged. (A 1.24 API server with the plugin
// enabled and no policy refused every pod; podsec treats "no policy stored"
// as "plugin off".)
//
// Admit runs both phases, as "podsec admit" and "podsec run" need; a
// webhook runs one phase per call (Request.Phase). Patch gives the JSON
// Patch of a mutation, for admission.k8s.io/v1 responses.
//
// Objects.Indexed makes once what every admission needs of the objects:
// the policies sorted and checked, the RBAC bindings indexed by subject.
// A caller that admits many requests with one store generation indexes it
// once; Admit indexes objects that are not indexed on every call.
//
// The package is pure: callers hand it the objects (store.Snapshot).
package admission
