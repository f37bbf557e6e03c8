package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// PodSecurityPolicy "use" as Kubernetes 1.24's PodSecurityPolicy admission
// plugin checks it (plugin/pkg/admission/security/podsecuritypolicy,
// isAuthorizedForPolicy).
const (
	// VerbUse is the verb that grants a PodSecurityPolicy to a pod.
	VerbUse = "use"
	// ResourcePodSecurityPolicies is the resource of PodSecurityPolicies.
	ResourcePodSecurityPolicies = "podsecuritypolicies"
)

// pspGroups are the API groups PodSecurityPolicy was served in: a rule
// naming either grants use.
var pspGroups = []string{"policy", "extensions"}

// CanUsePolicy reports whether a pod in podNamespace may be admitted under
// the PodSecurityPolicy policyName: the requesting user or the pod's
// service account serviceAccount (checked first, as Kubernetes does; empty
// for none) must be allowed verb "use" on podsecuritypolicies/policyName in
// API group policy or extensions, in the pod's namespace, so RoleBindings
// of that namespace count as well as ClusterRoleBindings.
func (a *Authorizer) CanUsePolicy(requester UserInfo, podNamespace, serviceAccount, policyName string) bool {
	u := a.PolicyUse(requester, podNamespace, serviceAccount)
	return u.Allows(policyName)
}

// PolicyUse is CanUsePolicy's answer for one requester, pod namespace and
// service account, for every policy name at once: admission asks it for
// each policy of the store.
type PolicyUse struct {
	all   bool
	names []string
	set   map[string]bool // names, once there are many
}

// Allows reports whether the policy of that name may be used.
func (u *PolicyUse) Allows(policyName string) bool {
	switch {
	case u.all:
		return true
	case u.set != nil:
		return u.set[policyName]
	}
	return slices.Contains(u.names, policyName)
}

// PolicyUse gathers, from the bindings that name the requester or the
// pod's service account (empty for none) in the cluster or podNamespace,
// the policy names their rules grant "use" of. A rule grants it as
// RuleAllows does for verb use, API group policy or extensions, resource
// podsecuritypolicies and the policy's name: with no resourceNames, every
// policy.
func (a *Authorizer) PolicyUse(requester UserInfo, podNamespace, serviceAccount string) PolicyUse {
	var u PolicyUse
	if slices.Contains(requester.Groups, SystemMasters) {
		u.all = true
		return u
	}
	var buf [16][]int32
	lists := buf[:0]
	if serviceAccount != "" {
		lists = a.lists(lists, ServiceAccountUser(podNamespace, serviceAccount), podNamespace)
	}
	lists = a.lists(lists, requester, podNamespace)
	for _, l := range lists {
		for _, i := range l {
			if u.add(a.bindings[i].rules) {
				return u
			}
		}
	}
	if len(u.names) > 8 {
		u.set = make(map[string]bool, len(u.names))
		for _, n := range u.names {
			u.set[n] = true
		}
	}
	return u
}

// add adds the policies the rules grant use of, and reports whether they
// grant every policy.
func (u *PolicyUse) add(rules []rbacv1.PolicyRule) bool {
	for i := range rules {
		r := &rules[i]
		if !matchesOrAll(r.Verbs, VerbUse) || !grantsPSPGroup(r.APIGroups) || !resourceMatches(r.Resources, ResourcePodSecurityPolicies, "") {
			continue
		}
		if len(r.ResourceNames) == 0 {
			u.all = true
			return true
		}
		u.names = append(u.names, r.ResourceNames...)
	}
	return false
}

// grantsPSPGroup reports whether a rule's apiGroups match one of the
// groups PodSecurityPolicy was served in.
func grantsPSPGroup(groups []string) bool {
	for _, g := range pspGroups {
		if matchesOrAll(groups, g) {
			return true
		}
	}
	return false
}
