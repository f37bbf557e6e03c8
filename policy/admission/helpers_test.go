package admission

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
)

// seedDefaultPolicy is the policy of section 13.3.1 of the seed chapter
// (testdata/policies/seed-default-psp.yaml).
var seedDefaultPolicy = readTestdata("../../testdata/policies/seed-default-psp.yaml")

// anyPolicy is a policy that admits most pods unchanged: the strategies
// are RunAsAny and the host and capability switches open.
func anyPolicy(name string) string {
	return `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: ` + name + `
spec:
  privileged: true
  allowedCapabilities: ['*']
  hostNetwork: true
  hostPID: true
  hostIPC: true
  hostPorts: [{min: 0, max: 65535}]
  runAsUser: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: ['*']
`
}

func policy(t testing.TB, doc string) *psp.PodSecurityPolicy {
	t.Helper()
	p := &psp.PodSecurityPolicy{}
	if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
		t.Fatalf("decoding policy: %v", err)
	}
	if errs := psp.ValidatePolicy(p); len(errs) > 0 {
		t.Fatalf("ValidatePolicy(%s) = %v", p.Name, errs)
	}
	return p
}

// podWith decodes a pod "web" in namespace "team" whose spec is given in
// flow YAML.
func podWith(t testing.TB, spec string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: team}\nspec: " + spec
	if err := yaml.UnmarshalStrict([]byte(doc), pod); err != nil {
		t.Fatalf("decoding pod %q: %v", spec, err)
	}
	return pod
}

const plainSpec = `{containers: [{name: main, image: kubia}]}`

// The RBAC objects of section 13.3.5: a ClusterRole allowing "use" of
// named policies, bound to subjects.
func useRole(name string, policies ...string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{
		Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: policies,
	}}}
}

func clusterBinding(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

func roleBinding(ns, name, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

func user(name string) rbacv1.Subject  { return rbacv1.Subject{Kind: rbacv1.UserKind, Name: name} }
func group(name string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: name} }
func serviceAccount(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

var alice = rbac.UserInfo{Name: "alice", Groups: []string{"devs", rbac.AllAuthenticated}}

// everyoneMayUse lets every authenticated user use the policies, as the
// seed's `kubectl create clusterrolebinding --group=system:authenticated`.
func everyoneMayUse(policies ...string) rbac.Objects {
	return rbac.Objects{
		ClusterRoles:        []*rbacv1.ClusterRole{useRole("psp-use", policies...)},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{clusterBinding("psp-use", "psp-use", group(rbac.AllAuthenticated))},
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// readTestdata reads a fixture of the repository's testdata, failing the
// test binary at once when it is missing.
func readTestdata(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic("reading test fixture: " + err.Error())
	}
	return string(b)
}
