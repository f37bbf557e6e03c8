package admissiontest

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/psp"
)

// TB is the part of testing.TB the fixtures fail with, so that this
// package does not import testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// AnyPolicy is a policy that admits most pods unchanged: the strategies
// are RunAsAny and the host and capability switches open.
func AnyPolicy(name string) string {
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

// Policy decodes a PodSecurityPolicy strictly and fails if it is not
// valid.
func Policy(t TB, doc string) *psp.PodSecurityPolicy {
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

// UseRole is a ClusterRole allowing "use" of the named policies (section
// 13.3.5 of the seed chapter).
func UseRole(name string, policies ...string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{
		Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: policies,
	}}}
}

// ClusterBinding binds the ClusterRole role to subjects cluster-wide.
func ClusterBinding(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

// RoleBinding binds the ClusterRole role to subjects in namespace ns.
func RoleBinding(ns, name, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

// User, Group and ServiceAccount are RBAC subjects.
func User(name string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.UserKind, Name: name} }

// Group is a group subject.
func Group(name string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: name} }

// ServiceAccount is a service account subject; ns "" is the binding's
// namespace.
func ServiceAccount(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}
