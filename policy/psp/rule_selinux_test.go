package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func mustRunAsSELinux(p *PodSecurityPolicy) {
	p.Spec.SELinux = SELinuxStrategyOptions{
		Rule:           SELinuxStrategyMustRunAs,
		SELinuxOptions: &corev1.SELinuxOptions{User: "system_u", Role: "system_r", Type: "container_t", Level: "s0:c1,c2"},
	}
}

func TestRuleSELinux(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "MustRunAs gives the pod the policy's options",
			policy: mustRunAsSELinux,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				sc := pod.Spec.SecurityContext
				if sc == nil || sc.SELinuxOptions == nil || sc.SELinuxOptions.Type != "container_t" {
					t.Errorf("Default() pod securityContext = %+v, want the policy's seLinuxOptions", sc)
				}
				if pod.Spec.Containers[0].SecurityContext != nil {
					t.Errorf("Default() container securityContext = %+v, want none", pod.Spec.Containers[0].SecurityContext)
				}
			},
		},
		{
			name:   "levels compare with categories in any order",
			policy: mustRunAsSELinux,
			pod:    `{securityContext: {seLinuxOptions: {user: system_u, role: system_r, type: container_t, level: "s0:c2,c1"}}, containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "every differing field is reported, for the pod and the container",
			policy: mustRunAsSELinux,
			pod:    `{securityContext: {seLinuxOptions: {user: u, role: r, type: spc_t, level: "s1:c1,c2"}}, containers: [{name: c, image: busybox, securityContext: {seLinuxOptions: {user: system_u, role: system_r, type: spc_t, level: "s0:c1,c2"}}}]}`,
			want: []string{
				`spec.securityContext.seLinuxOptions.level: Invalid value: "s1:c1,c2": must be s0:c1,c2`,
				`spec.securityContext.seLinuxOptions.role: Invalid value: "r": must be system_r`,
				`spec.securityContext.seLinuxOptions.type: Invalid value: "spc_t": must be container_t`,
				`spec.securityContext.seLinuxOptions.user: Invalid value: "u": must be system_u`,
				`spec.containers[0].securityContext.seLinuxOptions.type: Invalid value: "spc_t": must be container_t`,
			},
		},
		{
			name:   "MustRunAs without defaults requires options",
			policy: mustRunAsSELinux,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want: []string{
				"spec.securityContext.seLinuxOptions: Required value",
				"spec.containers[0].securityContext.seLinuxOptions: Required value",
			},
		},
		{
			name: "RunAsAny allows any options",
			pod:  `{containers: [{name: c, image: busybox, securityContext: {seLinuxOptions: {type: spc_t}}}]}`,
		},
	})
}
