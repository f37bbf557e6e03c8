// Package pss applies the Pod Security Standards to pods the way the API
// server's PodSecurity admission plugin does, with the checks of
// k8s.io/pod-security-admission/policy (the same code the API server runs)
// and the namespace labels of k8s.io/pod-security-admission/api.
//
// A namespace chooses a level (privileged, baseline, restricted) and a
// version (latest or v1.N) for each of three modes with its labels
// pod-security.kubernetes.io/{enforce,audit,warn}[-version]. A missing label
// means privileged at latest, PodSecurity's default configuration. An
// invalid level label is read as restricted for enforce (fail closed) and
// as privileged for audit and warn (fail open), and an invalid version as
// latest, as pod-security-admission does; the parse errors are reported in
// the audit annotation "error". A namespace with invalid labels is refused
// when it is created (ValidateNamespaceLabels).
//
// Exemptions by user, namespace or runtime class are not configured: podsec
// has no admission configuration file.
//
// The package is pure.
package pss
