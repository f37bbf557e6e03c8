// Package rbac is Kubernetes role-based access control over the
// rbac.authorization.k8s.io/v1 objects podsec stores: ClusterRoles,
// ClusterRoleBindings, Roles and RoleBindings.
//
// It follows the API server's RBAC authorizer
// (plugin/pkg/auth/authorizer/rbac/rbac.go and
// pkg/apis/rbac/v1/evaluation_helpers.go of kubernetes/kubernetes):
//
//   - a rule allows a request when its verbs, apiGroups, resources and
//     resourceNames all match; "*" matches any verb, group or resource, an
//     empty resourceNames list matches any name, and "*/sub" matches the
//     subresource sub of every resource;
//   - a ClusterRoleBinding grants its ClusterRole in every namespace and for
//     cluster-scoped resources; a RoleBinding grants its Role, or the rules
//     of a ClusterRole it references, only in its own namespace;
//   - subjects are Users (by name), Groups (by membership) and
//     ServiceAccounts (user "system:serviceaccount:NS:NAME"; a subject
//     without a namespace takes the RoleBinding's, and matches nothing in a
//     ClusterRoleBinding);
//   - members of the group system:masters are allowed everything, as the API
//     server's superuser authorizer allows them before RBAC is asked.
//
// RBAC only grants: there are no deny rules, so the order of bindings does
// not matter. A binding whose role does not exist grants nothing.
//
// ClusterRole aggregationRule is ignored: podsec has no controller that
// fills an aggregated role's rules from the labelled roles it selects, so
// only the rules written in the role count. Non-resource URLs are not
// authorized here; podsec serves no HTTP paths.
//
// The package is pure: callers hand it the objects.
package rbac
