package pipeline

import (
	"errors"
	"slices"
	"strings"

	"github.com/podsec/podsec/policy/admission"
	"github.com/podsec/podsec/policy/rbac"
)

// Admit is podsec's admission, the one answer of podsec admit, the webhook
// and run for the same pod and requester: PodSecurityPolicy with RBAC,
// then the Pod Security Standards of the namespace. It does not validate
// (an API server validates before admission; callers call Validate) and
// does not apply the node's checks (CheckNode), which are no cluster's
// decision.
func Admit(req admission.Request, objs admission.Objects) admission.Result {
	return admission.Admit(req, objs)
}

// Requester is who asks, as the API server's impersonation filter makes it
// from kubectl's --as and --as-group: a service account user name gets its
// groups when no group is given, and every user but system:anonymous is in
// system:authenticated. Without --as it is self (the Unix user running
// podsec) in system:authenticated.
func Requester(self, as string, asGroups []string) (rbac.UserInfo, error) {
	if as == "" {
		if len(asGroups) > 0 {
			return rbac.UserInfo{}, errors.New("requesting groups without impersonating a user: --as-group needs --as")
		}
		return rbac.UserInfo{Name: self, Groups: []string{rbac.AllAuthenticated}}, nil
	}
	groups := slices.Clone(asGroups)
	if ns, _, ok := splitServiceAccount(as); ok && len(groups) == 0 {
		groups = []string{rbac.AllServiceAccounts, rbac.AllServiceAccounts + ":" + ns}
	}
	const anonymous, unauthenticated = "system:anonymous", "system:unauthenticated"
	switch {
	case as == anonymous:
		if !slices.Contains(groups, unauthenticated) {
			groups = append(groups, unauthenticated)
		}
	case !slices.Contains(groups, rbac.AllAuthenticated) && !slices.Contains(groups, unauthenticated):
		groups = append(groups, rbac.AllAuthenticated)
	}
	return rbac.UserInfo{Name: as, Groups: groups}, nil
}

// splitServiceAccount splits "system:serviceaccount:NS:NAME".
func splitServiceAccount(name string) (namespace, sa string, ok bool) {
	rest, found := strings.CutPrefix(name, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	namespace, sa, ok = strings.Cut(rest, ":")
	return namespace, sa, ok && namespace != "" && sa != "" && !strings.Contains(sa, ":")
}
