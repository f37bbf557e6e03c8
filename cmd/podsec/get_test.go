package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	c := newCLI(t)
	c.ok(pspManifest, "apply", "-f", "-")
	c.ok("", "create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default")
	c.ok("", "create", "clusterrolebinding", "psp-devs", "--clusterrole=psp-default", "--group=devs", "--user=bob", "--serviceaccount=team:builder")
	c.ok("", "create", "rolebinding", "psp-sa", "-n", "team", "--clusterrole=psp-default", "--serviceaccount=team:a", "--serviceaccount=other:b")
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n", "apply", "-f", "-")

	pspTable := "NAME         PRIV    CAPS   SELINUX    RUNASUSER   FSGROUP     SUPGROUP   READONLYROOTFS   VOLUMES\n" +
		"default      false          RunAsAny   RunAsAny    RunAsAny    RunAsAny   true             *\n" +
		"privileged   true    *      RunAsAny   RunAsAny    MustRunAs   RunAsAny   false            emptyDir,hostPath\n"
	for _, kind := range []string{"psp", "podsecuritypolicies", "podsecuritypolicy", "podsecuritypolicies.policy", "PodSecurityPolicy"} {
		if got := c.ok("", "get", kind); got != pspTable {
			t.Errorf("podsec get %s:\n%s\nwant:\n%s", kind, got, pspTable)
		}
	}
	if got, want := c.ok("", "get", "psp", "-o", "name"), "podsecuritypolicy.policy/default\npodsecuritypolicy.policy/privileged\n"; got != want {
		t.Errorf("podsec get psp -o name = %q, want %q", got, want)
	}
	if got := c.ok("", "get", "clusterrolebindings", "-o", "wide"); !strings.Contains(got, "NAME       ROLE                      AGE   USERS   GROUPS   SERVICEACCOUNTS\npsp-devs   ClusterRole/psp-default   ") ||
		!strings.Contains(got, "bob     devs     team/builder\n") {
		t.Errorf("podsec get clusterrolebindings -o wide:\n%s", got)
	}
	if got := c.ok("", "get", "rolebindings", "-A", "-o", "wide"); !strings.HasPrefix(got, "NAMESPACE   NAME     ROLE                      AGE   USERS   GROUPS   SERVICEACCOUNTS\nteam        psp-sa   ClusterRole/psp-default") ||
		!strings.Contains(got, "team/a, other/b\n") {
		t.Errorf("podsec get rolebindings -A -o wide:\n%s", got)
	}
	if got := c.ok("", "get", "ns"); !strings.HasPrefix(got, "NAME   STATUS   AGE\nteam   Active   ") {
		t.Errorf("podsec get ns:\n%s", got)
	}
	if got := c.ok("", "get", "clusterrole"); !strings.HasPrefix(got, "NAME          CREATED AT\npsp-default   20") {
		t.Errorf("podsec get clusterrole:\n%s", got)
	}

	yamlOut := c.ok("", "get", "clusterrole", "psp-default", "-o", "yaml")
	for _, w := range []string{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n", "  - policy\n", "  - podsecuritypolicies\n", "  resourceNames:\n  - default\n", "  - use\n"} {
		if !strings.Contains(yamlOut, w) {
			t.Errorf("podsec get clusterrole psp-default -o yaml lacks %q:\n%s", w, yamlOut)
		}
	}
	var list struct {
		Kind  string
		Items []struct{ Metadata struct{ Name string } }
	}
	if err := json.Unmarshal([]byte(c.ok("", "get", "psp", "-o", "json")), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 {
		t.Errorf("podsec get psp -o json: %+v, %v", list, err)
	}

	empty := []struct {
		args []string
		want string
	}{
		{[]string{"get", "roles"}, "No resources found in default namespace.\n"},
		{[]string{"get", "roles", "-n", "team"}, "No resources found in team namespace.\n"},
		{[]string{"get", "roles", "-A"}, "No resources found\n"},
		{[]string{"get", "sa"}, "No resources found in default namespace.\n"},
	}
	for _, tc := range empty {
		code, out, errs := c.run("", tc.args...)
		if code != 0 || out != "" || errs != tc.want {
			t.Errorf("podsec %v: exit %d, stdout %q, stderr %q; want stderr %q", tc.args, code, out, errs, tc.want)
		}
	}

	failures := []struct {
		args []string
		want string
	}{
		{[]string{"get", "psp", "nope"}, `error: podsecuritypolicies.policy "nope" not found`},
		{[]string{"get", "crb"}, `error: the server doesn't have a resource type "crb"`},
		{[]string{"get", "psp", "-o", "table"}, `unable to match a printer suitable for the output format "table"`},
		{[]string{"get", "clusterrole", "../../x"}, `metadata.name: Invalid value: "../../x"`},
	}
	for _, tc := range failures {
		code, _, errs := c.run("", tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("podsec %v: exit %d, stderr %q; want %q", tc.args, code, errs, tc.want)
		}
	}
}
