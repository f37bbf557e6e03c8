package admission

import (
	"fmt"
	"testing"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
)

// benchObjects are 50 policies and 200 bindings. The requester may use the
// last policy by name only through the last RoleBinding, so every binding
// and every policy is looked at; 49 of the policies restrict user IDs to
// ranges the pod is defaulted into, the last one defaults the pod into the
// restricted Pod Security Standard.
func benchObjects(b *testing.B) Objects {
	objs := Objects{NamespaceLabels: map[string]map[string]string{"team": {"pod-security.kubernetes.io/enforce": "restricted"}}}
	for i := range 49 {
		doc := fmt.Sprintf("%s\n", anyPolicy(fmt.Sprintf("p%02d", i)))
		p := policy(b, doc)
		p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: int64(1000 + i), Max: int64(1000 + i)}}}
		objs.PodSecurityPolicies = append(objs.PodSecurityPolicies, p)
	}
	last := policy(b, restrictedPolicy)
	last.Name = "p49"
	objs.PodSecurityPolicies = append(objs.PodSecurityPolicies, last)

	for i := range 50 {
		objs.RBAC.ClusterRoles = append(objs.RBAC.ClusterRoles, useRole(fmt.Sprintf("use-p%02d", i), fmt.Sprintf("p%02d", i)))
	}
	for i := range 150 {
		objs.RBAC.ClusterRoleBindings = append(objs.RBAC.ClusterRoleBindings,
			clusterBinding(fmt.Sprintf("crb%03d", i), fmt.Sprintf("use-p%02d", i%49), user(fmt.Sprintf("user%03d", i)), group(fmt.Sprintf("group%03d", i))))
	}
	for i := range 49 {
		objs.RBAC.RoleBindings = append(objs.RBAC.RoleBindings,
			roleBinding("team", fmt.Sprintf("rb%02d", i), fmt.Sprintf("use-p%02d", i), serviceAccount("team", fmt.Sprintf("sa%02d", i))))
	}
	objs.RBAC.RoleBindings = append(objs.RBAC.RoleBindings, roleBinding("team", "rb49", "use-p49", user("alice")))
	if n := len(objs.RBAC.ClusterRoleBindings) + len(objs.RBAC.RoleBindings); n != 200 {
		b.Fatalf("%d bindings, want 200", n)
	}
	return objs
}

// BenchmarkAdmit measures admissions per second with 50 policies and 200
// bindings: "psp" is the mutating phase alone (what the mutating webhook
// does), "all" both phases with a restricted namespace (podsec admit).
func BenchmarkAdmit(b *testing.B) {
	objs := benchObjects(b)
	pod := podWith(b, `{containers: [{name: main, image: kubia}, {name: sidecar, image: envoy}]}`)
	user := rbac.UserInfo{Name: "alice", Groups: []string{rbac.AllAuthenticated}}
	for _, bc := range []struct {
		name  string
		phase Phase
	}{{"psp", Mutating}, {"all", AllPhases}} {
		b.Run(bc.name, func(b *testing.B) {
			req := Request{Pod: pod, User: user, Phase: bc.phase}
			if res := Admit(req, objs); !res.Allowed || res.Policy != "p49" {
				b.Fatalf("Admit() = allowed %v, policy %q (%v); want p49", res.Allowed, res.Policy, res.Err)
			}
			b.ReportAllocs()
			for b.Loop() {
				Admit(req, objs)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "admissions/s")
		})
	}
}
