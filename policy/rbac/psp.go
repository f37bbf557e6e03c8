package rbac

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
	if serviceAccount != "" && a.mayUse(ServiceAccountUser(podNamespace, serviceAccount), podNamespace, policyName) {
		return true
	}
	return a.mayUse(requester, podNamespace, policyName)
}

func (a *Authorizer) mayUse(user UserInfo, namespace, policyName string) bool {
	for _, g := range pspGroups {
		attrs := Attributes{Verb: VerbUse, APIGroup: g, Resource: ResourcePodSecurityPolicies, Name: policyName, Namespace: namespace}
		if ok, _ := a.Authorize(user, attrs); ok {
			return true
		}
	}
	return false
}
