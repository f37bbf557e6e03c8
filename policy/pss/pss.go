package pss

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Audit annotation keys, with the prefix the API server gives the
// annotations of the PodSecurity admission plugin.
const (
	AnnotationEnforcePolicy   = api.AuditAnnotationPrefix + api.EnforcedPolicyAnnotationKey
	AnnotationAuditViolations = api.AuditAnnotationPrefix + api.AuditViolationsAnnotationKey
	AnnotationError           = api.AuditAnnotationPrefix + "error"
)

// defaultPolicy is PodSecurity's default configuration: privileged at
// latest for every mode.
var defaultPolicy = api.Policy{
	Enforce: api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
	Audit:   api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
	Warn:    api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
}

// PolicyForLabels resolves a namespace's labels to the policy its pods are
// held to. A usable policy is returned even with errors (see the package
// doc for how invalid values are read).
func PolicyForLabels(labels map[string]string) (api.Policy, field.ErrorList) {
	return api.PolicyToEvaluate(labels, defaultPolicy)
}

// ValidateNamespaceLabels returns the errors of a namespace's PodSecurity
// labels, with their paths (metadata.labels[pod-security.kubernetes.io/
// enforce]: Unsupported value...). PodSecurity refuses to create a
// namespace with invalid labels, or to change its labels to invalid ones.
func ValidateNamespaceLabels(labels map[string]string) field.ErrorList {
	_, errs := PolicyForLabels(labels)
	return errs
}

// Decision is the outcome of admitting one pod.
type Decision struct {
	// Allowed is false when the enforce level forbids the pod.
	Allowed bool
	// Err is the API server's refusal when the pod is not allowed:
	// pods "NAME" is forbidden: violates PodSecurity "restricted:latest": ...
	Err error
	// Warnings are the warn mode's messages, given only for an allowed pod:
	// would violate PodSecurity "restricted:latest": ...
	Warnings []string
	// AuditAnnotations are the audit mode's annotations by key
	// (pod-security.kubernetes.io/audit-violations, .../enforce-policy,
	// .../error).
	AuditAnnotations map[string]string
}

// Evaluator admits pods under the Pod Security Standards.
type Evaluator struct {
	ev policy.Evaluator
}

// NewEvaluator builds an evaluator over pod-security-admission's checks.
func NewEvaluator() (*Evaluator, error) {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("building the pod security evaluator: %w", err)
	}
	return &Evaluator{ev: ev}, nil
}

// Check evaluates pod at one level and version.
func (e *Evaluator) Check(lv api.LevelVersion, pod *corev1.Pod) policy.AggregateCheckResult {
	return policy.AggregateCheckResults(e.ev.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec))
}

// Admit decides the creation of pod in a namespace with nsLabels, as
// pod-security-admission's Admission.ValidatePod and EvaluatePod do.
func (e *Evaluator) Admit(nsLabels map[string]string, pod *corev1.Pod) Decision {
	p, errs := PolicyForLabels(nsLabels)
	d := Decision{Allowed: true, AuditAnnotations: map[string]string{}}
	if len(errs) == 0 && p.FullyPrivileged() {
		d.AuditAnnotations[AnnotationEnforcePolicy] = p.Enforce.String()
		return d
	}
	if len(errs) > 0 {
		d.AuditAnnotations[AnnotationError] = fmt.Sprintf("Failed to parse policy: %v", errs.ToAggregate())
	}
	d.AuditAnnotations[AnnotationEnforcePolicy] = p.Enforce.String()

	cache := map[api.LevelVersion]policy.AggregateCheckResult{}
	check := func(lv api.LevelVersion) policy.AggregateCheckResult {
		r, ok := cache[lv]
		if !ok {
			r = e.Check(lv, pod)
			cache[lv] = r
		}
		return r
	}
	if r := check(p.Enforce); !r.Allowed {
		d.Allowed = false
		d.Err = apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, pod.Name,
			fmt.Errorf("violates PodSecurity %q: %s", p.Enforce.String(), r.ForbiddenDetail()))
	}
	if r := check(p.Audit); !r.Allowed {
		d.AuditAnnotations[AnnotationAuditViolations] = fmt.Sprintf("would violate PodSecurity %q: %s", p.Audit.String(), r.ForbiddenDetail())
	}
	// Like the API server, no warnings on a request that is refused.
	if d.Allowed {
		if r := check(p.Warn); !r.Allowed {
			d.Warnings = append(d.Warnings, fmt.Sprintf("would violate PodSecurity %q: %s", p.Warn.String(), r.ForbiddenDetail()))
		}
	}
	return d
}
