package admission

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/admission/admissiontest"
	"github.com/podsec/podsec/policy/rbac"
)

// seedDefaultPolicy is the policy of section 13.3.1 of the seed chapter
// (testdata/policies/seed-default-psp.yaml).
var seedDefaultPolicy = readTestdata("../../testdata/policies/seed-default-psp.yaml")

// The fixtures' helpers, under the names this package's tests use.
var (
	anyPolicy      = admissiontest.AnyPolicy
	policy         = admissiontest.Policy
	useRole        = admissiontest.UseRole
	clusterBinding = admissiontest.ClusterBinding
	roleBinding    = admissiontest.RoleBinding
	user           = admissiontest.User
	group          = admissiontest.Group
	serviceAccount = admissiontest.ServiceAccount
)

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
