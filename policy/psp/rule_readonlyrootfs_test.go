package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestRuleReadOnlyRootFS(t *testing.T) {
	readOnly := func(p *PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true }
	runRuleCases(t, []ruleCase{
		{
			name:   "an unset field defaults to true",
			policy: readOnly,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if sc := pod.Spec.Containers[0].SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					t.Errorf("Default() securityContext = %+v, want readOnlyRootFilesystem: true", sc)
				}
			},
		},
		{
			name:   "false is refused",
			policy: readOnly,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {readOnlyRootFilesystem: false}}]}`,
			want:   []string{"spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true"},
		},
		{
			name:   "unset, without defaults",
			policy: readOnly,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: null: ReadOnlyRootFilesystem may not be nil and must be set to true"},
		},
		{
			name: "not required",
			pod:  `{containers: [{name: c, image: busybox, securityContext: {readOnlyRootFilesystem: false}}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if *pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem {
					t.Error("Default() changed readOnlyRootFilesystem")
				}
			},
		},
	})
}
