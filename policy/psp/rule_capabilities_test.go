package psp

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// seedCapabilities is the capability part of the seed chapter's policy.
func seedCapabilities(p *PodSecurityPolicy) {
	p.Spec.AllowedCapabilities = []corev1.Capability{"SYS_TIME"}
	p.Spec.DefaultAddCapabilities = []corev1.Capability{"CHOWN"}
	p.Spec.RequiredDropCapabilities = []corev1.Capability{"SYS_ADMIN", "SYS_MODULE"}
}

func wantCaps(add, drop []corev1.Capability) func(t *testing.T, pod *corev1.Pod) {
	return func(t *testing.T, pod *corev1.Pod) {
		t.Helper()
		sc := pod.Spec.Containers[0].SecurityContext
		if sc == nil || sc.Capabilities == nil {
			t.Fatalf("Default() securityContext = %+v, want capabilities", sc)
		}
		if !slices.Equal(sc.Capabilities.Add, add) || !slices.Equal(sc.Capabilities.Drop, drop) {
			t.Errorf("Default() capabilities = add %v drop %v, want add %v drop %v", sc.Capabilities.Add, sc.Capabilities.Drop, add, drop)
		}
	}
}

func TestRuleCapabilities(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "defaults add CHOWN and drop the required",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check:  wantCaps([]corev1.Capability{"CHOWN"}, []corev1.Capability{"SYS_ADMIN", "SYS_MODULE"}),
		},
		{
			name:   "an allowed capability may be added, lists come out sorted",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [SYS_TIME], drop: [NET_RAW]}}}]}`,
			check:  wantCaps([]corev1.Capability{"CHOWN", "SYS_TIME"}, []corev1.Capability{"NET_RAW", "SYS_ADMIN", "SYS_MODULE"}),
		},
		{
			name:   "a default the container drops is not added",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {capabilities: {drop: [chown]}}}]}`,
			check:  wantCaps(nil, []corev1.Capability{"SYS_ADMIN", "SYS_MODULE", "chown"}),
		},
		{
			name:   "names compare in any spelling; with nothing to add the lists stay as they are",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [CAP_SYS_TIME, CAP_CHOWN], drop: [cap_sys_admin, CAP_SYS_MODULE]}}}]}`,
			check:  wantCaps([]corev1.Capability{"CAP_SYS_TIME", "CAP_CHOWN"}, []corev1.Capability{"cap_sys_admin", "CAP_SYS_MODULE"}),
		},
		{
			name:   "a capability neither allowed nor default may not be added",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [NET_ADMIN, SYS_ADMIN]}}}]}`,
			want: []string{
				`spec.containers[0].securityContext.capabilities.add: Invalid value: "NET_ADMIN": capability may not be added`,
				`spec.containers[0].securityContext.capabilities.add: Invalid value: "SYS_ADMIN": capability may not be added`,
			},
		},
		{
			name:   "without defaults the required drops are missing",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [CHOWN], drop: [ALL]}}}]}`,
			raw:    true,
			want: []string{
				`spec.containers[0].securityContext.capabilities.drop: Invalid value: ["ALL"]: SYS_ADMIN is required to be dropped but was not found`,
				`spec.containers[0].securityContext.capabilities.drop: Invalid value: ["ALL"]: SYS_MODULE is required to be dropped but was not found`,
			},
		},
		{
			name:   "without defaults no capabilities at all",
			policy: seedCapabilities,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.containers[0].securityContext.capabilities: Invalid value: null: required capabilities are not set on the securityContext"},
		},
		{
			name:   "nothing allowed refuses any add",
			policy: func(p *PodSecurityPolicy) { p.Spec.AllowedCapabilities = nil },
			pod:    `{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}}]}`,
			want:   []string{`spec.containers[0].securityContext.capabilities.add: Invalid value: "NET_BIND_SERVICE": capability may not be added`},
		},
		{
			name: "* allows any add",
			pod:  `{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]}`,
		},
	})
}
