package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func mustRunAsUser(ranges ...IDRange) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: ranges}
	}
}

func nonRoot(p *PodSecurityPolicy) {
	p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAsNonRoot}
}

func wantUser(i int, uid int64) func(t *testing.T, pod *corev1.Pod) {
	return func(t *testing.T, pod *corev1.Pod) {
		t.Helper()
		sc := pod.Spec.Containers[i].SecurityContext
		if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != uid {
			t.Errorf("Default() containers[%d] securityContext = %+v, want runAsUser %d", i, sc, uid)
		}
	}
}

func TestRuleUser(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "MustRunAs defaults to the first range's min",
			policy: mustRunAsUser(IDRange{Min: 2, Max: 2}, IDRange{Min: 10, Max: 20}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check:  wantUser(0, 2),
		},
		{
			name:   "MustRunAs keeps an allowed user",
			policy: mustRunAsUser(IDRange{Min: 2, Max: 2}, IDRange{Min: 10, Max: 20}),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 15}}]}`,
			check:  wantUser(0, 15),
		},
		{
			name:   "MustRunAs refuses a user outside the ranges",
			policy: mustRunAsUser(IDRange{Min: 2, Max: 2}),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 405}}]}`,
			want:   []string{"spec.containers[0].securityContext.runAsUser: Invalid value: 405: must be in the ranges: [{2 2}]"},
		},
		{
			name:   "MustRunAs takes the pod's runAsUser for the container",
			policy: mustRunAsUser(IDRange{Min: 2, Max: 2}),
			pod:    `{securityContext: {runAsUser: 0}, initContainers: [{name: i, image: busybox}], containers: [{name: c, image: busybox}]}`,
			want: []string{
				"spec.initContainers[0].securityContext.runAsUser: Invalid value: 0: must be in the ranges: [{2 2}]",
				"spec.containers[0].securityContext.runAsUser: Invalid value: 0: must be in the ranges: [{2 2}]",
			},
		},
		{
			name:   "MustRunAs without defaults requires a user",
			policy: mustRunAsUser(IDRange{Min: 2, Max: 2}),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.containers[0].securityContext.runAsUser: Required value"},
		},
		{
			name:   "MustRunAsNonRoot marks a container that sets no user",
			policy: nonRoot,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.Containers[0].SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
					t.Errorf("Default() securityContext = %+v, want runAsNonRoot: true", sc)
				}
			},
		},
		{
			name:   "MustRunAsNonRoot leaves a container with a user alone",
			policy: nonRoot,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 1000}}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.Containers[0].SecurityContext; sc.RunAsNonRoot != nil {
					t.Errorf("Default() runAsNonRoot = %v, want unset", *sc.RunAsNonRoot)
				}
			},
		},
		{
			name:   "MustRunAsNonRoot refuses the root UID",
			policy: nonRoot,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 0}}]}`,
			want:   []string{"spec.containers[0].securityContext.runAsUser: Invalid value: 0: running with the root UID is forbidden"},
		},
		{
			name:   "MustRunAsNonRoot refuses runAsNonRoot false",
			policy: nonRoot,
			pod:    `{securityContext: {runAsNonRoot: false}, containers: [{name: c, image: busybox}]}`,
			want:   []string{"spec.containers[0].securityContext.runAsNonRoot: Invalid value: false: must be true"},
		},
		{
			name:   "MustRunAsNonRoot without defaults requires the marker",
			policy: nonRoot,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.containers[0].securityContext.runAsNonRoot: Required value: must be true"},
		},
		{
			name: "RunAsAny allows root",
			pod:  `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 0}}]}`,
		},
	})
}
