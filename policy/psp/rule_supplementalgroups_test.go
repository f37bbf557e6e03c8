package psp

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func supGroups(rule SupplementalGroupsStrategyType, ranges ...IDRange) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{Rule: rule, Ranges: ranges}
	}
}

func TestRuleSupplementalGroups(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "MustRunAs defaults the first range's min",
			policy: supGroups(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 100, Max: 200}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.SecurityContext; sc == nil || !slices.Equal(sc.SupplementalGroups, []int64{100}) {
					t.Errorf("Default() pod securityContext = %+v, want supplementalGroups [100]", sc)
				}
			},
		},
		{
			name:   "MustRunAs reports each group outside the ranges",
			policy: supGroups(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 100, Max: 200}),
			pod:    `{securityContext: {supplementalGroups: [1, 150, 300]}, containers: [{name: c, image: busybox}]}`,
			want: []string{
				"spec.securityContext.supplementalGroups: Invalid value: [1,150,300]: group 1 must be in the ranges: [{100 200}]",
				"spec.securityContext.supplementalGroups: Invalid value: [1,150,300]: group 300 must be in the ranges: [{100 200}]",
			},
		},
		{
			name:   "MustRunAs does not fill an empty list, and refuses it",
			policy: supGroups(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 100, Max: 200}),
			pod:    `{securityContext: {supplementalGroups: []}, containers: [{name: c, image: busybox}]}`,
			want:   []string{"spec.securityContext.supplementalGroups: Invalid value: []: unable to validate empty groups against required ranges"},
		},
		{
			name:   "MayRunAs allows no groups",
			policy: supGroups(SupplementalGroupsStrategyMayRunAs, IDRange{Min: 100, Max: 200}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "MayRunAs checks the groups set",
			policy: supGroups(SupplementalGroupsStrategyMayRunAs, IDRange{Min: 100, Max: 200}),
			pod:    `{securityContext: {supplementalGroups: [5]}, containers: [{name: c, image: busybox}]}`,
			want:   []string{"spec.securityContext.supplementalGroups: Invalid value: [5]: group 5 must be in the ranges: [{100 200}]"},
		},
		{
			name: "RunAsAny allows any groups",
			pod:  `{securityContext: {supplementalGroups: [0]}, containers: [{name: c, image: busybox}]}`,
		},
	})
}
