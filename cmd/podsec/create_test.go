package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func readStored(t *testing.T, root, rel string, obj any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "objects", rel))
	if err != nil {
		t.Fatalf("stored object: %v", err)
	}
	if err := json.Unmarshal(data, obj); err != nil {
		t.Fatalf("stored object %s: %v", rel, err)
	}
}

func TestCreateRole(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantOut string
		file    string
		want    []rbacv1.PolicyRule
	}{
		{name: "seed 13.3.5", args: []string{"clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default"},
			wantOut: "clusterrole.rbac.authorization.k8s.io/psp-default created\n", file: "clusterroles/psp-default.json",
			want: []rbacv1.PolicyRule{{Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{"default"}}}},
		{name: "singular, short and grouped names", args: []string{"clusterrole", "c", "--verb=use", "--resource=psp", "--resource=podsecuritypolicy.extensions"},
			wantOut: "clusterrole.rbac.authorization.k8s.io/c created\n", file: "clusterroles/c.json",
			want: []rbacv1.PolicyRule{
				{Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}},
				{Verbs: []string{"use"}, APIGroups: []string{"extensions"}, Resources: []string{"podsecuritypolicies"}},
			}},
		{name: "groups of core, apps and rbac", args: []string{"role", "r", "-n", "team", "--verb=get,list", "--verb", "watch", "--resource=pods,pods/log,deployments,clusterroles", "--resource=secrets"},
			wantOut: "role.rbac.authorization.k8s.io/r created\n", file: "roles/team/r.json",
			want: []rbacv1.PolicyRule{
				{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log", "secrets"}},
				{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}},
				{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}},
			}},
		{name: "role in default namespace", args: []string{"role", "r", "--verb=use", "--resource=podsecuritypolicies.policy", "--resource-name=a,b"},
			wantOut: "role.rbac.authorization.k8s.io/r created\n", file: "roles/default/r.json",
			want: []rbacv1.PolicyRule{{Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{"a", "b"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			if got := c.ok("", append([]string{"create"}, tc.args...)...); got != tc.wantOut {
				t.Errorf("podsec create %v: stdout %q, want %q", tc.args, got, tc.wantOut)
			}
			var role rbacv1.ClusterRole // a Role's JSON reads the same
			readStored(t, c.root, tc.file, &role)
			if !reflect.DeepEqual(role.Rules, tc.want) {
				t.Errorf("podsec create %v: rules %+v, want %+v", tc.args, role.Rules, tc.want)
			}
		})
	}
}

func TestCreateBinding(t *testing.T) {
	c := newCLI(t)
	out := c.ok("", "create", "clusterrolebinding", "psp-devs", "--clusterrole=psp-default", "--group=devs", "--group=ops", "--user=bob", "--serviceaccount=team:builder")
	if out != "clusterrolebinding.rbac.authorization.k8s.io/psp-devs created\n" {
		t.Errorf("podsec create clusterrolebinding: stdout %q", out)
	}
	var crb rbacv1.ClusterRoleBinding
	readStored(t, c.root, "clusterrolebindings/psp-devs.json", &crb)
	wantSubjects := []rbacv1.Subject{
		{Kind: "User", APIGroup: rbacv1.GroupName, Name: "bob"},
		{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "devs"},
		{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "ops"},
		{Kind: "ServiceAccount", Namespace: "team", Name: "builder"},
	}
	if crb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "psp-default"}) || !reflect.DeepEqual(crb.Subjects, wantSubjects) {
		t.Errorf("stored ClusterRoleBinding: roleRef %+v, subjects %+v", crb.RoleRef, crb.Subjects)
	}

	c.ok("", "create", "rolebinding", "rb", "-n", "team", "--role=psp", "--user=alice")
	var rb rbacv1.RoleBinding
	readStored(t, c.root, "rolebindings/team/rb.json", &rb)
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != "psp" || rb.Namespace != "team" || len(rb.Subjects) != 1 {
		t.Errorf("stored RoleBinding: %+v", rb)
	}

	failures := []struct {
		args []string
		want string
	}{
		{[]string{"clusterrolebinding", "psp-devs", "--clusterrole=x"}, `error: clusterrolebindings.rbac.authorization.k8s.io "psp-devs" already exists`},
		{[]string{"clusterrolebinding", "b"}, `required flag(s) "clusterrole" not set`},
		{[]string{"clusterrolebinding", "b", "--clusterrole=x", "--serviceaccount=builder"}, `serviceaccount must be <namespace>:<name>, got "builder"`},
		{[]string{"rolebinding", "b", "--role=r", "--clusterrole=c"}, "exactly one of clusterrole or role must be specified"},
		{[]string{"rolebinding", "b"}, "exactly one of clusterrole or role must be specified"},
		{[]string{"clusterrole", "c", "--resource=pods"}, "at least one verb must be specified"},
		{[]string{"clusterrole", "c", "--verb=use"}, "at least one resource must be specified"},
		{[]string{"clusterrole", "c", "--verb=fly", "--resource=pods"}, "invalid verb: 'fly'"},
		{[]string{"clusterrole", "c", "--verb=get", "--resource=widgets"}, `the server doesn't have a resource type "widgets"`},
		{[]string{"clusterrole", "c", "--verb=get", "--resource=pods.apps"}, `the server doesn't have a resource type "pods" in group "apps"`},
		{[]string{"clusterrole", "../c", "--verb=get", "--resource=pods"}, `metadata.name: Invalid value: "../c"`},
		{[]string{"clusterrole"}, "exactly one NAME is required"},
	}
	for _, tc := range failures {
		code, _, errs := c.run("", append([]string{"create"}, tc.args...)...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("podsec create %v: exit %d, stderr %q; want %q", tc.args, code, errs, tc.want)
		}
	}
}
