package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func runAsGroup(rule RunAsGroupStrategy, ranges ...IDRange) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: rule, Ranges: ranges}
	}
}

func TestRuleGroup(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "MustRunAs defaults the first range's min",
			policy: runAsGroup(RunAsGroupStrategyMustRunAs, IDRange{Min: 5, Max: 10}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.Containers[0].SecurityContext; sc == nil || sc.RunAsGroup == nil || *sc.RunAsGroup != 5 {
					t.Errorf("Default() securityContext = %+v, want runAsGroup 5", sc)
				}
			},
		},
		{
			name:   "MustRunAs refuses a group outside the ranges, at the securityContext path",
			policy: runAsGroup(RunAsGroupStrategyMustRunAs, IDRange{Min: 5, Max: 10}),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {runAsGroup: 0}}]}`,
			want:   []string{"spec.containers[0].securityContext: Invalid value: [0]: group 0 must be in the ranges: [{5 10}]"},
		},
		{
			name:   "MustRunAs without defaults requires a group",
			policy: runAsGroup(RunAsGroupStrategyMustRunAs, IDRange{Min: 5, Max: 10}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.containers[0].securityContext: Invalid value: null: unable to validate empty groups against required ranges"},
		},
		{
			name:   "MayRunAs does not default",
			policy: runAsGroup(RunAsGroupStrategyMayRunAs, IDRange{Min: 5, Max: 10}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.Containers[0].SecurityContext; sc != nil {
					t.Errorf("Default() securityContext = %+v, want none", sc)
				}
			},
		},
		{
			name:   "MayRunAs checks the pod's group",
			policy: runAsGroup(RunAsGroupStrategyMayRunAs, IDRange{Min: 5, Max: 10}),
			pod:    `{securityContext: {runAsGroup: 11}, containers: [{name: c, image: busybox}]}`,
			want:   []string{"spec.containers[0].securityContext: Invalid value: [11]: group 11 must be in the ranges: [{5 10}]"},
		},
		{
			name:   "RunAsAny allows any group",
			policy: runAsGroup(RunAsGroupStrategyRunAsAny),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {runAsGroup: 0}}]}`,
		},
	})
}
