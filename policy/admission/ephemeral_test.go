package admission

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
)

// TestAdmitEphemeralContainers is "kubectl debug": an UPDATE of the
// pods/ephemeralcontainers subresource whose object is the whole pod with
// one more (ephemeral) container. It is checked as 1.24's
// PodSecurityPolicy and pod-security-admission did; other subresources are
// admitted unchanged.
func TestAdmitEphemeralContainers(t *testing.T) {
	// The running pod, as the seed policy admitted it.
	created := Admit(Request{Pod: podWith(t, plainSpec), User: alice},
		Objects{PodSecurityPolicies: []*psp.PodSecurityPolicy{policy(t, seedDefaultPolicy)}, RBAC: everyoneMayUse("default")})
	if !created.Allowed {
		t.Fatalf("Admit(create) = %v", created.Err)
	}
	old := created.Pod
	debug := func(sc string) *corev1.Pod {
		p := old.DeepCopy()
		// The kubectl debug shape: an image, a terminal, a target.
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, podWith(t,
			`{containers: [{name: x, image: x}], ephemeralContainers: [{name: debugger-abcde, image: busybox, stdin: true, tty: true, targetContainerName: main`+sc+`}]}`).Spec.EphemeralContainers...)
		return p
	}
	const privileged = `, securityContext: {privileged: true}`
	const readOnly = `, securityContext: {readOnlyRootFilesystem: true}`
	pspObjs := Objects{PodSecurityPolicies: []*psp.PodSecurityPolicy{policy(t, seedDefaultPolicy)}, RBAC: everyoneMayUse("default")}
	pssObjs := Objects{NamespaceLabels: map[string]map[string]string{"team": {"pod-security.kubernetes.io/enforce": "baseline"}}}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		sub     string
		objs    Objects
		phase   Phase
		wantErr string
	}{
		{"psp: privileged debug container", debug(privileged), SubResourceEphemeralContainers, pspObjs, Validating,
			`pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: [spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`},
		{"psp: unprivileged debug container", debug(readOnly), SubResourceEphemeralContainers, pspObjs, Validating, ""},
		// 1.24 never mutated an update: a container the policy would have
		// to default is refused, not changed.
		{"psp: debug container the policy would change", debug(""), SubResourceEphemeralContainers, pspObjs, Validating, "unable to validate pod"},
		{"psp: the mutating phase leaves updates alone", debug(privileged), SubResourceEphemeralContainers, pspObjs, Mutating, ""},
		{"psp: all phases", debug(privileged), SubResourceEphemeralContainers, pspObjs, AllPhases, "Privileged containers are not allowed"},
		{"pss baseline: privileged debug container", debug(privileged), SubResourceEphemeralContainers, pssObjs, Validating,
			`pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "debugger-abcde" must not set securityContext.privileged=true)`},
		{"pss baseline: unprivileged debug container", debug(""), SubResourceEphemeralContainers, pssObjs, Validating, ""},
		{"status is not evaluated", debug(privileged), "status", pspObjs, Validating, ""},
		{"binding is not evaluated", debug(privileged), "binding", pssObjs, Validating, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Admit(Request{Pod: tc.pod, OldPod: old, User: alice, Operation: Update, Phase: tc.phase, SubResource: tc.sub}, tc.objs)
			switch {
			case tc.wantErr == "" && !res.Allowed:
				t.Errorf("Admit(%s) = %v, want allowed", tc.name, res.Err)
			case tc.wantErr != "" && (res.Allowed || !strings.Contains(errText(res.Err), tc.wantErr)):
				t.Errorf("Admit(%s) = allowed %v, %v; want an error with %q", tc.name, res.Allowed, res.Err, tc.wantErr)
			}
		})
	}
	// Someone who may use no policy may not add an ephemeral container
	// either.
	res := Admit(Request{Pod: debug(readOnly), OldPod: old, User: rbac.UserInfo{Name: "mallory"}, Operation: Update, SubResource: SubResourceEphemeralContainers},
		Objects{PodSecurityPolicies: pspObjs.PodSecurityPolicies, RBAC: rbac.Objects{ClusterRoles: []*rbacv1.ClusterRole{useRole("none", "other")}}})
	if res.Allowed {
		t.Error("Admit(ephemeral container by a user who may use no policy) allowed, want refused")
	}
}
