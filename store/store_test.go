package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/podsec/podsec/spec"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatalf("Open(%q) = %v", root, err)
	}
	return s, root
}

// decodeYAML reads one object from YAML.
func decodeYAML(t *testing.T, s *Store, manifest string) Object {
	t.Helper()
	docs, err := spec.SplitDocuments(strings.NewReader(manifest))
	if err != nil || len(docs) != 1 {
		t.Fatalf("SplitDocuments = %d docs, %v", len(docs), err)
	}
	obj, _, err := s.Decode(docs[0])
	if err != nil {
		t.Fatalf("Decode(%s) = %v", manifest, err)
	}
	return obj
}

func apply(t *testing.T, s *Store, manifest string) Result {
	t.Helper()
	res, _, err := s.Apply(decodeYAML(t, s, manifest))
	if err != nil {
		t.Fatalf("Apply(%s) = %v", manifest, err)
	}
	return res
}

const pspYAML = `apiVersion: extensions/v1beta1
kind: PodSecurityPolicy
metadata: {name: default}
spec:
  privileged: false
  runAsUser: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: ['*']
`

func TestApplyResults(t *testing.T) {
	s, root := openTest(t)
	steps := []struct {
		manifest string
		want     Result
	}{
		{pspYAML, Created},
		{pspYAML, Unchanged},
		{strings.Replace(pspYAML, "privileged: false", "privileged: true", 1), Configured},
		{strings.Replace(strings.Replace(pspYAML, "privileged: false", "privileged: true", 1), "extensions/v1beta1", "policy/v1beta1", 1), Unchanged},
	}
	for i, st := range steps {
		if got := apply(t, s, st.manifest); got != st.want {
			t.Errorf("step %d: Apply = %q, want %q", i, got, st.want)
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "objects/podsecuritypolicies/default.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"apiVersion": "policy/v1beta1"`, `"privileged": true`, `"uid": "`, `"creationTimestamp": "`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("stored PodSecurityPolicy %s lacks %s", data, want)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(root, "objects/podsecuritypolicies/.*")); len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}

func TestApplyDefaults(t *testing.T) {
	s, root := openTest(t)
	apply(t, s, "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {a: b}}\n")
	apply(t, s, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder}\n")
	apply(t, s, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b, namespace: ignored}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: Group, name: g}]\n")

	obj, err := s.Get("namespaces", "", "team")
	if err != nil {
		t.Fatal(err)
	}
	ns := obj.(*corev1.Namespace)
	if ns.Labels["kubernetes.io/metadata.name"] != "team" || ns.Labels["a"] != "b" || ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("Namespace after Apply: labels %v, phase %q", ns.Labels, ns.Status.Phase)
	}
	if _, err := os.Stat(filepath.Join(root, "objects/serviceaccounts/default/builder.json")); err != nil {
		t.Errorf("ServiceAccount without namespace not stored in default: %v", err)
	}
	obj, err = s.Get("clusterrolebindings", "whatever", "b")
	if err != nil {
		t.Fatal(err)
	}
	b := obj.(*rbacv1.ClusterRoleBinding)
	if b.Namespace != "" || b.RoleRef.APIGroup != rbacv1.GroupName || b.Subjects[0].APIGroup != rbacv1.GroupName {
		t.Errorf("ClusterRoleBinding after Apply: namespace %q, roleRef %+v, subjects %+v", b.Namespace, b.RoleRef, b.Subjects)
	}
}

func TestApplyInvalid(t *testing.T) {
	s, _ := openTest(t)
	tests := []struct {
		name     string
		manifest string
		want     []string
	}{
		{"role without verbs", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: [policy], resources: [podsecuritypolicies]}, {verbs: [get]}]\n",
			[]string{`The ClusterRole "r" is invalid:`, "* rules[0].verbs: Required value: verbs must contain at least one value",
				"* rules[1].apiGroups: Required value", "* rules[1].resources: Required value"}},
		{"namespaced role with URLs", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{verbs: [get], nonResourceURLs: [/x]}]\n",
			[]string{"rules[0].nonResourceURLs: Invalid value"}},
		{"binding to Role from cluster", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r, apiGroup: x}\nsubjects: [{kind: ServiceAccount, name: sa}, {kind: Robot, name: r}]\n",
			[]string{`roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"`, `roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`,
				"subjects[0].namespace: Required value", `subjects[1].kind: Unsupported value: "Robot"`}},
		{"rolebinding without role name", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role}\n",
			[]string{"roleRef.name: Required value"}},
		{"path in name", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ../x}\n",
			[]string{`metadata.name: Invalid value: "../x": may not contain '/'`}},
		{"dot dot name", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ..}\n",
			[]string{`metadata.name: Invalid value: "..": may not be '..'`}},
		{"psp name", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: Bad_Name}\n",
			[]string{`metadata.name: Invalid value: "Bad_Name"`}},
		{"namespace path", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ../etc}\n",
			[]string{`metadata.namespace: Invalid value: "../etc"`}},
		{"no name", "apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}\n",
			[]string{"metadata.name: Required value"}},
		{"long name", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: " + strings.Repeat("a", 251) + "}\n",
			[]string{"metadata.name: Too long"}},
		{"invalid pod security label", "apiVersion: v1\nkind: Namespace\nmetadata: {name: nsx, labels: {pod-security.kubernetes.io/enforce: strict}}\n",
			[]string{`metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`}},
		{"bad label", "apiVersion: v1\nkind: Namespace\nmetadata: {name: nsx, labels: {'a b': c}}\n",
			[]string{`metadata.labels: Invalid value: "a b"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Apply(decodeYAML(t, s, tc.manifest))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Apply = %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Apply error %q lacks %q", err, w)
				}
			}
		})
	}
	kinds, _ := os.ReadDir(s.dir)
	for _, k := range kinds {
		if k.IsDir() {
			files, _ := filepath.Glob(filepath.Join(s.dir, k.Name(), "*"))
			if len(files) > 0 {
				t.Errorf("invalid objects were stored: %v", files)
			}
		}
	}
}

func TestGetListDelete(t *testing.T) {
	s, _ := openTest(t)
	for _, m := range []string{
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: b, namespace: ns2}\nrules: []\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: a, namespace: ns2}\nrules: []\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: 'psp:x', namespace: ns1}\nrules: []\n",
	} {
		apply(t, s, m)
	}
	names := func(objs []Object) string {
		var n []string
		for _, o := range objs {
			n = append(n, o.GetNamespace()+"/"+o.GetName())
		}
		return strings.Join(n, " ")
	}
	if objs, err := s.List("roles", ""); err != nil || names(objs) != "ns1/psp:x ns2/a ns2/b" {
		t.Errorf("List(roles, all) = %q, %v", names(objs), err)
	}
	if objs, err := s.List("roles", "ns2"); err != nil || names(objs) != "ns2/a ns2/b" {
		t.Errorf("List(roles, ns2) = %q, %v", names(objs), err)
	}
	if objs, err := s.List("roles", "none"); err != nil || len(objs) != 0 {
		t.Errorf("List(roles, none) = %q, %v", names(objs), err)
	}
	if objs, err := s.List("clusterroles", ""); err != nil || len(objs) != 0 {
		t.Errorf("List(clusterroles) = %q, %v", names(objs), err)
	}
	if _, err := s.List("roles", "../x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("List(roles, ../x) = %v, want ErrInvalid", err)
	}
	if _, err := s.Get("roles", "ns1", "psp:x"); err != nil {
		t.Errorf("Get(roles, ns1, psp:x) = %v", err)
	}
	_, err := s.Get("roles", "ns1", "a")
	if !errors.Is(err, ErrNotFound) || err.Error() != `roles.rbac.authorization.k8s.io "a" not found` {
		t.Errorf("Get(roles, ns1, a) = %v, want not found", err)
	}
	for _, bad := range []string{"../ns2/a", "", "."} {
		if _, err := s.Get("roles", "ns1", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(roles, ns1, %q) = %v, want ErrInvalid", bad, err)
		}
		if err := s.Delete("roles", "ns1", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Delete(roles, ns1, %q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.Get("widgets", "", "a"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("Get(widgets) = %v, want ErrUnknownKind", err)
	}
	if err := s.Delete("roles", "ns2", "a"); err != nil {
		t.Errorf("Delete(roles, ns2, a) = %v", err)
	}
	if err := s.Delete("roles", "ns2", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete(roles, ns2, a) = %v, want ErrNotFound", err)
	}
	if objs, _ := s.List("roles", "ns2"); names(objs) != "ns2/b" {
		t.Errorf("List(roles, ns2) after Delete = %q", names(objs))
	}
}

func TestSnapshot(t *testing.T) {
	s, _ := openTest(t)
	for _, m := range []string{
		pspYAML,
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1, labels: {pod-security.kubernetes.io/enforce: baseline}}\n",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ns1}\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [use], apiGroups: [policy], resources: [podsecuritypolicies], resourceNames: [default]}]\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: User, name: u}]\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ns1}\nrules: []\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: ns1}\nroleRef: {kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]\n",
	} {
		apply(t, s, m)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("ns=%d sa=%d cr=%d crb=%d r=%d rb=%d psp=%d", len(snap.Namespaces), len(snap.ServiceAccounts), len(snap.RBAC.ClusterRoles),
		len(snap.RBAC.ClusterRoleBindings), len(snap.RBAC.Roles), len(snap.RBAC.RoleBindings), len(snap.PodSecurityPolicies))
	if want := "ns=1 sa=1 cr=1 crb=1 r=1 rb=1 psp=1"; got != want {
		t.Errorf("Snapshot() = %s, want %s", got, want)
	}
	if snap.Namespaces["ns1"].Labels["pod-security.kubernetes.io/enforce"] != "baseline" {
		t.Errorf("Snapshot namespace labels = %v", snap.Namespaces["ns1"].Labels)
	}
}

// TestConcurrentApply has many writers, each with its own Store as
// separate podsec processes would, change one object and add their own.
func TestConcurrentApply(t *testing.T) {
	root := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			s, err := Open(root)
			if err != nil {
				errs <- err
				return
			}
			for _, m := range []string{
				fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: shared, labels: {writer: w%d}}\n", i),
				fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns%d}\n", i),
			} {
				docs, _ := spec.SplitDocuments(strings.NewReader(m))
				obj, _, err := s.Decode(docs[0])
				if err == nil {
					_, _, err = s.Apply(obj)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, _ := Open(root)
	objs, err := s.List("namespaces", "")
	if err != nil || len(objs) != 21 {
		t.Errorf("List(namespaces) after concurrent Apply = %d objects, %v; want 21", len(objs), err)
	}
}

func TestResolve(t *testing.T) {
	s, _ := openTest(t)
	for name, want := range map[string]string{
		"psp": "podsecuritypolicies", "podsecuritypolicy": "podsecuritypolicies", "PodSecurityPolicies": "podsecuritypolicies",
		"podsecuritypolicies.policy": "podsecuritypolicies", "psp.extensions": "podsecuritypolicies",
		"ns": "namespaces", "namespace": "namespaces", "sa": "serviceaccounts", "clusterrole": "clusterroles",
		"clusterroles.rbac.authorization.k8s.io": "clusterroles", "rolebinding": "rolebindings", "RoleBinding": "rolebindings",
	} {
		k, err := s.Resolve(name)
		if err != nil || k.Plural != want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", name, k, err, want)
		}
	}
	for _, bad := range []string{"crb", "pods", "psp.apps", "roles.policy"} {
		if _, err := s.Resolve(bad); !errors.Is(err, ErrUnknownKind) {
			t.Errorf("Resolve(%q) = %v, want ErrUnknownKind", bad, err)
		}
	}
}

func TestOpenKindsRefusesDuplicates(t *testing.T) {
	kinds := append(Kinds(), Kind{Kind: "Widget", Plural: "widgets", ShortNames: []string{"psp"}, APIVersions: []string{"x/v1"}, New: Kinds()[0].New})
	if _, err := OpenKinds(t.TempDir(), kinds); err == nil || !strings.Contains(err.Error(), `"psp"`) {
		t.Errorf("OpenKinds with a repeated short name = %v", err)
	}
}

func TestCreate(t *testing.T) {
	s, _ := openTest(t)
	m := "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"
	if _, err := s.Create(decodeYAML(t, s, m)); err != nil {
		t.Fatalf("Create = %v", err)
	}
	_, err := s.Create(decodeYAML(t, s, m))
	if !errors.Is(err, ErrAlreadyExists) || err.Error() != `namespaces "team" already exists` {
		t.Errorf("second Create = %v, want already exists", err)
	}
}

func TestApplyValidatesPodSecurityPolicy(t *testing.T) {
	s, _ := openTest(t)
	m := "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: Bad_Name}\nspec: {runAsUser: {rule: Sometimes}}\n"
	_, _, err := s.Apply(decodeYAML(t, s, m))
	if !errors.Is(err, ErrInvalid) || strings.Count(err.Error(), "metadata.name: Invalid value") != 1 || !strings.Contains(err.Error(), `spec.runAsUser.rule: Unsupported value: "Sometimes"`) {
		t.Errorf("Apply(invalid PodSecurityPolicy) = %v", err)
	}
}
