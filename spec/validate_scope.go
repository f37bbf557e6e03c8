package spec

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Scope is which rules ValidatePod applies.
type Scope int

const (
	// ScopeAll is the API server's rules and this node's: what podsec run
	// applies before a pod runs here.
	ScopeAll Scope = iota
	// ScopeAPIServer is the API server's rules alone, as a cluster's
	// admission sees a pod (the fixtures of pod-security-admission are
	// valid by them).
	ScopeAPIServer
	// ScopeNode is this node's rules alone: volume types podsec cannot
	// mount, subPathExpr, block devices, SELinux and AppArmor without
	// their LSM, the deprecated seccomp annotations podsec does not
	// honor, Windows pods and options, sysctls not known to be namespaced.
	ScopeNode
)

// node keeps errors of a rule of this node's out of the API server's
// scope. Each rule stays beside its field's other rules, so that both
// scopes together give the errors in one order.
func (o ValidateOptions) node(errs ...*field.Error) field.ErrorList {
	if o.Scope == ScopeAPIServer {
		return nil
	}
	return errs
}

// windowsOptions is the API server's rule for a pod that declares itself
// Linux (spec.os.name), and this node's otherwise: the API server accepts
// windowsOptions on a pod of no declared OS, which podsec cannot run.
func (o ValidateOptions) windowsOptions(pod *corev1.Pod, errs ...*field.Error) field.ErrorList {
	if pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Linux {
		return errs
	}
	return o.node(errs...)
}

// nodeOnly is all without the errors of api, each taken once: the node's
// rules are what the full validation finds beyond the API server's.
func nodeOnly(all, api field.ErrorList) field.ErrorList {
	seen := map[string]int{}
	for _, e := range api {
		seen[e.Error()]++
	}
	out := field.ErrorList{}
	for _, e := range all {
		if seen[e.Error()] > 0 {
			seen[e.Error()]--
			continue
		}
		out = append(out, e)
	}
	return out
}
