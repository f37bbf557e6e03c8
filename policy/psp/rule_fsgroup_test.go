package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func fsGroup(rule FSGroupStrategyType, ranges ...IDRange) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) { p.Spec.FSGroup = FSGroupStrategyOptions{Rule: rule, Ranges: ranges} }
}

func TestRuleFSGroup(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "MustRunAs defaults the first range's min",
			policy: fsGroup(FSGroupStrategyMustRunAs, IDRange{Min: 2000, Max: 3000}, IDRange{Min: 1, Max: 1}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.SecurityContext; sc == nil || sc.FSGroup == nil || *sc.FSGroup != 2000 {
					t.Errorf("Default() pod securityContext = %+v, want fsGroup 2000", sc)
				}
			},
		},
		{
			name:   "MustRunAs refuses a group outside the ranges",
			policy: fsGroup(FSGroupStrategyMustRunAs, IDRange{Min: 2000, Max: 3000}),
			pod:    `{securityContext: {fsGroup: 0}, containers: [{name: c, image: busybox}]}`,
			want:   []string{"spec.securityContext.fsGroup: Invalid value: [0]: group 0 must be in the ranges: [{2000 3000}]"},
		},
		{
			name:   "MustRunAs without defaults requires a group",
			policy: fsGroup(FSGroupStrategyMustRunAs, IDRange{Min: 2000, Max: 3000}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.securityContext.fsGroup: Invalid value: null: unable to validate empty groups against required ranges"},
		},
		{
			name:   "MayRunAs leaves an unset group unset",
			policy: fsGroup(FSGroupStrategyMayRunAs, IDRange{Min: 2000, Max: 3000}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.SecurityContext != nil {
					t.Errorf("Default() pod securityContext = %+v, want none", pod.Spec.SecurityContext)
				}
			},
		},
		{
			name:   "MayRunAs checks a set group",
			policy: fsGroup(FSGroupStrategyMayRunAs, IDRange{Min: 2000, Max: 3000}),
			pod:    `{securityContext: {fsGroup: 1}, containers: [{name: c, image: busybox}]}`,
			want:   []string{"spec.securityContext.fsGroup: Invalid value: [1]: group 1 must be in the ranges: [{2000 3000}]"},
		},
		{
			name: "RunAsAny allows group 0",
			pod:  `{securityContext: {fsGroup: 0}, containers: [{name: c, image: busybox}]}`,
		},
	})
}
