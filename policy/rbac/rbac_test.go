package rbac

import (
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func role(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func crb(name, roleName string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName}, Subjects: subjects}
}

func rb(ns, name, kind, roleName string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: roleName}, Subjects: subjects}
}

func rule(verbs, groups, resources, names []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

func l(s ...string) []string { return s }

func userSubject(n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
}
func groupSubject(n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
}
func saSubject(ns, n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
}

var (
	alice   = UserInfo{Name: "alice", Groups: []string{"dev", AllAuthenticated}}
	bob     = UserInfo{Name: "bob", Groups: []string{AllAuthenticated}}
	getPods = Attributes{Verb: "get", Resource: "pods", Name: "p", Namespace: "ns1"}
)

func TestAuthorize(t *testing.T) {
	podReader := clusterRole("pod-reader", rule(l("get", "list"), l(""), l("pods"), nil))
	tests := []struct {
		name  string
		objs  Objects
		user  UserInfo
		attrs Attributes
		want  bool
	}{
		{name: "nothing bound", objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}}, user: alice, attrs: getPods},
		{name: "superuser", user: UserInfo{Name: "root", Groups: []string{SystemMasters}}, attrs: Attributes{Verb: "delete", APIGroup: "x", Resource: "y"}, want: true},
		{name: "clusterrolebinding user, namespaced request", user: alice, attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", userSubject("alice"))}}},
		{name: "clusterrolebinding user, cluster-scoped request", user: alice, attrs: Attributes{Verb: "list", Resource: "pods"}, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", userSubject("alice"))}}},
		{name: "clusterrolebinding other user", user: bob, attrs: getPods,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", userSubject("alice"))}}},
		{name: "clusterrolebinding group", user: alice, attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", groupSubject("dev"))}}},
		{name: "clusterrolebinding group not member", user: bob, attrs: getPods,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", groupSubject("dev"))}}},
		{name: "clusterrolebinding service account", user: ServiceAccountUser("ns1", "sa"), attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", saSubject("ns1", "sa"))}}},
		{name: "clusterrolebinding service account of other namespace", user: ServiceAccountUser("ns2", "sa"), attrs: getPods,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", saSubject("ns1", "sa"))}}},
		{name: "clusterrolebinding service account without namespace matches nothing", user: ServiceAccountUser("ns1", "sa"), attrs: getPods,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", saSubject("", "sa"))}}},
		{name: "clusterrolebinding group of namespace's service accounts", user: ServiceAccountUser("ns1", "any"), attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "pod-reader", groupSubject("system:serviceaccounts:ns1"))}}},
		{name: "clusterrolebinding to missing role", user: alice, attrs: getPods,
			objs: Objects{ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "nope", userSubject("alice"))}}},
		{name: "clusterrolebinding referencing a Role grants nothing", user: alice, attrs: getPods,
			objs: Objects{Roles: []*rbacv1.Role{role("ns1", "r", rule(l("*"), l("*"), l("*"), nil))},
				ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"}, Subjects: []rbacv1.Subject{userSubject("alice")}}}}},
		{name: "rolebinding of role in its namespace", user: alice, attrs: getPods, want: true,
			objs: Objects{Roles: []*rbacv1.Role{role("ns1", "r", rule(l("get"), l(""), l("pods"), nil))}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "Role", "r", userSubject("alice"))}}},
		{name: "rolebinding of role, other namespace requested", user: alice, attrs: Attributes{Verb: "get", Resource: "pods", Namespace: "ns2"},
			objs: Objects{Roles: []*rbacv1.Role{role("ns1", "r", rule(l("get"), l(""), l("pods"), nil))}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "Role", "r", userSubject("alice"))}}},
		{name: "rolebinding of role in another namespace grants nothing", user: alice, attrs: getPods,
			objs: Objects{Roles: []*rbacv1.Role{role("ns2", "r", rule(l("get"), l(""), l("pods"), nil))}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "Role", "r", userSubject("alice"))}}},
		{name: "rolebinding of clusterrole grants in its namespace", user: alice, attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "pod-reader", userSubject("alice"))}}},
		{name: "rolebinding of clusterrole, cluster-scoped request", user: alice, attrs: Attributes{Verb: "list", Resource: "pods"},
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "pod-reader", userSubject("alice"))}}},
		{name: "rolebinding service account defaults to binding namespace", user: ServiceAccountUser("ns1", "sa"), attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "pod-reader", saSubject("", "sa"))}}},
		{name: "rolebinding service account of another namespace", user: ServiceAccountUser("ns2", "sa"), attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "pod-reader", saSubject("ns2", "sa"))}}},
		{name: "rolebinding group", user: alice, attrs: getPods, want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{podReader}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "pod-reader", groupSubject(AllAuthenticated))}}},
		{name: "rolebinding to missing role", user: alice, attrs: getPods,
			objs: Objects{RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "Role", "missing", userSubject("alice"))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := NewAuthorizer(tc.objs).Authorize(tc.user, tc.attrs)
			if got != tc.want {
				t.Errorf("Authorize(%v, %s) = %v (%s), want %v", tc.user, tc.attrs, got, reason, tc.want)
			}
			if got != Allowed(tc.objs, tc.user, tc.attrs) {
				t.Errorf("Allowed(%v, %s) differs from Authorize", tc.user, tc.attrs)
			}
		})
	}
}

func TestRuleAllows(t *testing.T) {
	use := Attributes{Verb: "use", APIGroup: "policy", Resource: "podsecuritypolicies", Name: "restricted"}
	logs := Attributes{Verb: "get", Resource: "pods", Subresource: "log", Name: "p", Namespace: "ns"}
	tests := []struct {
		name  string
		rule  rbacv1.PolicyRule
		attrs Attributes
		want  bool
	}{
		{"exact", rule(l("use"), l("policy"), l("podsecuritypolicies"), l("restricted")), use, true},
		{"verb mismatch", rule(l("get"), l("policy"), l("podsecuritypolicies"), nil), use, false},
		{"verb wildcard", rule(l("*"), l("policy"), l("podsecuritypolicies"), nil), use, true},
		{"group mismatch", rule(l("use"), l("extensions"), l("podsecuritypolicies"), nil), use, false},
		{"group empty is core only", rule(l("use"), l(""), l("podsecuritypolicies"), nil), use, false},
		{"group wildcard", rule(l("use"), l("*"), l("podsecuritypolicies"), nil), use, true},
		{"resource mismatch", rule(l("use"), l("policy"), l("pods"), nil), use, false},
		{"resource wildcard", rule(l("use"), l("policy"), l("*"), nil), use, true},
		{"resource singular does not match", rule(l("use"), l("policy"), l("podsecuritypolicy"), nil), use, false},
		{"name mismatch", rule(l("use"), l("policy"), l("podsecuritypolicies"), l("privileged")), use, false},
		{"one of names", rule(l("use"), l("policy"), l("podsecuritypolicies"), l("privileged", "restricted")), use, true},
		{"names given, request without name", rule(l("list"), l("policy"), l("podsecuritypolicies"), l("restricted")), Attributes{Verb: "list", APIGroup: "policy", Resource: "podsecuritypolicies"}, false},
		{"all wildcards", rule(l("*"), l("*"), l("*"), nil), use, true},
		{"subresource exact", rule(l("get"), l(""), l("pods/log"), nil), logs, true},
		{"resource does not cover subresource", rule(l("get"), l(""), l("pods"), nil), logs, false},
		{"star slash subresource", rule(l("get"), l(""), l("*/log"), nil), logs, true},
		{"star slash other subresource", rule(l("get"), l(""), l("*/exec"), nil), logs, false},
		{"star slash subresource needs a subresource", rule(l("get"), l(""), l("*/log"), nil), getPods, false},
		{"star covers subresources", rule(l("get"), l(""), l("*"), nil), logs, true},
		{"no verbs", rule(nil, l("*"), l("*"), nil), use, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RuleAllows(&tc.rule, tc.attrs); got != tc.want {
				t.Errorf("RuleAllows(%+v, %s) = %v, want %v", tc.rule, tc.attrs, got, tc.want)
			}
		})
	}
}

func TestAuthorizeReason(t *testing.T) {
	objs := Objects{
		ClusterRoles:        []*rbacv1.ClusterRole{clusterRole("r", rule(l("get"), l(""), l("pods"), nil))},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "r", userSubject("alice"))},
	}
	_, reason := NewAuthorizer(objs).Authorize(alice, getPods)
	if want := `RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`; reason != want {
		t.Errorf("Authorize reason = %q, want %q", reason, want)
	}
	_, reason = NewAuthorizer(objs).Authorize(bob, getPods)
	if !strings.Contains(reason, `"bob" cannot get pods "p" in namespace "ns1"`) {
		t.Errorf("Authorize denial reason = %q", reason)
	}
}
