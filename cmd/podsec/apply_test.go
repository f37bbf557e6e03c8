package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pspManifest = `apiVersion: extensions/v1beta1
kind: PodSecurityPolicy
metadata:
  name: default
spec:
  privileged: false
  readOnlyRootFilesystem: true
  runAsUser: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: ['*']
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: privileged
spec:
  privileged: true
  allowedCapabilities: ['*']
  runAsUser: {rule: RunAsAny}
  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 10}]}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: [emptyDir, hostPath]
`

// cli runs podsec commands against one state root.
type cli struct {
	t    *testing.T
	root string
}

func newCLI(t *testing.T) *cli { return &cli{t: t, root: t.TempDir()} }

func (c *cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	code, out, errs := podsec(c.t, stdin, append([]string{"--root", c.root}, args...)...)
	if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
		c.t.Errorf("podsec %v: stderr has a Go stack trace: %s", args, errs)
	}
	return code, out, errs
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("podsec %v: exit %d, stderr %q", args, code, errs)
	}
	return out
}

func TestApply(t *testing.T) {
	c := newCLI(t)
	if got, want := c.ok(pspManifest, "apply", "-f", "-"), "podsecuritypolicy.extensions/default created\npodsecuritypolicy.policy/privileged created\n"; got != want {
		t.Errorf("podsec apply: stdout %q, want %q", got, want)
	}
	if got, want := c.ok(pspManifest, "apply", "-f", "-"), "podsecuritypolicy.extensions/default unchanged\npodsecuritypolicy.policy/privileged unchanged\n"; got != want {
		t.Errorf("podsec apply again: stdout %q, want %q", got, want)
	}
	changed := strings.Replace(pspManifest, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", 1)
	if got, want := c.ok(changed, "apply", "-f", "-"), "podsecuritypolicy.extensions/default configured\npodsecuritypolicy.policy/privileged unchanged\n"; got != want {
		t.Errorf("podsec apply changed: stdout %q, want %q", got, want)
	}
	data, err := os.ReadFile(filepath.Join(c.root, "objects/podsecuritypolicies/default.json"))
	if err != nil || !strings.Contains(string(data), `"apiVersion": "policy/v1beta1"`) {
		t.Errorf("stored PodSecurityPolicy: %s, %v", data, err)
	}

	file := filepath.Join(t.TempDir(), "rbac.yaml")
	rbac := "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\n" +
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]\n"
	if err := os.WriteFile(file, []byte(rbac), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := c.ok("", "apply", "-f", file, "-n", "team"), "namespace/team created\nrolebinding.rbac.authorization.k8s.io/b created\n"; got != want {
		t.Errorf("podsec apply -n team: stdout %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(c.root, "objects/rolebindings/team/b.json")); err != nil {
		t.Errorf("RoleBinding not stored in namespace team: %v", err)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name      string
		stdin     string
		args      []string
		wantOut   string
		wantErrIn []string
	}{
		{name: "pod", stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n",
			wantErrIn: []string{`error: <stdin>: document 1: pods are not stored objects: run a pod with "podsec run -f FILE"`}},
		{name: "unknown kind", stdin: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
			wantErrIn: []string{`document 1: no matches for kind "Service" in version "v1"`}},
		{name: "unknown field", stdin: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{verb: [get]}]\n",
			wantErrIn: []string{"document 1: rules[0].verb: unknown field"}},
		{name: "invalid and valid", stdin: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: [''], resources: [pods]}]\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n",
			wantOut:   "serviceaccount/sa created\n",
			wantErrIn: []string{`document 1: The ClusterRole "r" is invalid:`, "* rules[0].verbs: Required value: verbs must contain at least one value"}},
		{name: "path name", stdin: "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: ../x}\n",
			wantErrIn: []string{`metadata.name: Invalid value: "../x"`}},
		{name: "namespace mismatch", stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: a}\n", args: []string{"-n", "b"},
			wantErrIn: []string{`the namespace from the provided object "a" does not match the namespace "b"`}},
		{name: "empty", stdin: "# nothing\n", wantErrIn: []string{"no objects passed to apply"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			code, out, errs := c.run(tc.stdin, append([]string{"apply", "-f", "-"}, tc.args...)...)
			if code != 1 {
				t.Errorf("podsec apply: exit %d, want 1", code)
			}
			if out != tc.wantOut {
				t.Errorf("podsec apply: stdout %q, want %q", out, tc.wantOut)
			}
			for _, w := range tc.wantErrIn {
				if !strings.Contains(errs, w) {
					t.Errorf("podsec apply: stderr %q does not contain %q", errs, w)
				}
			}
		})
	}
}
