// Package admissiontest holds the admission fixtures that more than one
// package measures and tests with: a store of 50 PodSecurityPolicies and
// 200 RBAC bindings as a cluster of ten teams has it, and three requests
// against it with the policy each must come to. policy/admission
// benchmarks Admit with them; webhook benchmarks the webhook end to end
// with the same objects stored on disk.
package admissiontest
