package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestCanUsePolicy(t *testing.T) {
	usePSP := func(group string, names ...string) *rbacv1.ClusterRole {
		return clusterRole("psp-"+group, rule(l("use"), l(group), l("podsecuritypolicies"), names))
	}
	useRole := func(ns string, names ...string) *rbacv1.Role {
		return role(ns, "psp", rule(l("use"), l("policy"), l("podsecuritypolicies"), names))
	}
	tests := []struct {
		name      string
		objs      Objects
		requester UserInfo
		sa        string
		want      bool
	}{
		{name: "no bindings", objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}}, requester: alice, sa: "default"},
		{name: "requester by clusterrolebinding", requester: alice, sa: "default", want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy", "restricted")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-policy", userSubject("alice"))}}},
		{name: "extensions group", requester: alice, sa: "default", want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("extensions", "restricted")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-extensions", userSubject("alice"))}}},
		{name: "other group", requester: alice, sa: "default",
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("apps", "restricted")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-apps", userSubject("alice"))}}},
		{name: "other policy name", requester: alice, sa: "default",
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy", "privileged")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-policy", userSubject("alice"))}}},
		{name: "service account by rolebinding in pod namespace", requester: bob, sa: "builder", want: true,
			objs: Objects{Roles: []*rbacv1.Role{useRole("ns1", "restricted")}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "Role", "psp", saSubject("", "builder"))}}},
		{name: "service account by rolebinding in another namespace", requester: bob, sa: "builder",
			objs: Objects{Roles: []*rbacv1.Role{useRole("ns2", "restricted")}, RoleBindings: []*rbacv1.RoleBinding{rb("ns2", "b", "Role", "psp", saSubject("ns1", "builder"))}}},
		{name: "requester by rolebinding in pod namespace", requester: alice, sa: "default", want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "psp-policy", userSubject("alice"))}}},
		{name: "requester by rolebinding in another namespace", requester: alice, sa: "default",
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}, RoleBindings: []*rbacv1.RoleBinding{rb("ns2", "b", "ClusterRole", "psp-policy", userSubject("alice"))}}},
		{name: "all service accounts group", requester: bob, sa: "default", want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-policy", groupSubject(AllServiceAccounts))}}},
		{name: "namespace service accounts group", requester: bob, sa: "default", want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}, RoleBindings: []*rbacv1.RoleBinding{rb("ns1", "b", "ClusterRole", "psp-policy", groupSubject("system:serviceaccounts:ns1"))}}},
		{name: "authenticated group via service account", requester: UserInfo{Name: "anon"}, sa: "default", want: true,
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-policy", groupSubject(AllAuthenticated))}}},
		{name: "no service account, requester not allowed", requester: bob, sa: "",
			objs: Objects{ClusterRoles: []*rbacv1.ClusterRole{usePSP("policy")}, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{crb("b", "psp-policy", groupSubject(AllServiceAccounts))}}},
		{name: "superuser requester", requester: UserInfo{Name: "admin", Groups: []string{SystemMasters}}, sa: "", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewAuthorizer(tc.objs).CanUsePolicy(tc.requester, "ns1", tc.sa, "restricted"); got != tc.want {
				t.Errorf("CanUsePolicy(%v, ns1, %q, restricted) = %v, want %v", tc.requester, tc.sa, got, tc.want)
			}
		})
	}
}
