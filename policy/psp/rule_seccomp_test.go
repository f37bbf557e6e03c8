package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func seccompAnnotations(defaultProfile, allowed string) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Annotations = map[string]string{}
		if defaultProfile != "" {
			p.Annotations[SeccompDefaultProfileAnnotation] = defaultProfile
		}
		if allowed != "" {
			p.Annotations[SeccompAllowedProfilesAnnotation] = allowed
		}
	}
}

func TestRuleSeccomp(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "the default profile goes to the pod's field",
			policy: seccompAnnotations("runtime/default", "runtime/default"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				sc := pod.Spec.SecurityContext
				if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("Default() pod securityContext = %+v, want seccompProfile RuntimeDefault", sc)
				}
				if len(pod.Annotations) != 0 {
					t.Errorf("Default() annotations = %v, want none", pod.Annotations)
				}
			},
		},
		{
			name:   "a localhost default",
			policy: seccompAnnotations("localhost/audit.json", "localhost/audit.json"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				sp := pod.Spec.SecurityContext.SeccompProfile
				if sp.Type != corev1.SeccompProfileTypeLocalhost || *sp.LocalhostProfile != "audit.json" {
					t.Errorf("Default() seccompProfile = %+v, want Localhost audit.json", sp)
				}
			},
		},
		{
			name:   "a set profile is kept and checked",
			policy: seccompAnnotations("runtime/default", "runtime/default"),
			pod:    `{securityContext: {seccompProfile: {type: Unconfined}}, containers: [{name: c, image: busybox}]}`,
			want: []string{
				"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default",
				"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/c]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default",
			},
		},
		{
			name:   "the container's profile overrides the pod's",
			policy: seccompAnnotations("", "runtime/default,localhost/a.json"),
			pod:    `{securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: ok, image: busybox, securityContext: {seccompProfile: {type: Localhost, localhostProfile: a.json}}}, {name: bad, image: busybox, securityContext: {seccompProfile: {type: Localhost, localhostProfile: b.json}}}]}`,
			want: []string{
				"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/bad]: Forbidden: localhost/b.json is not an allowed seccomp profile. Valid values are runtime/default,localhost/a.json",
			},
		},
		{
			name:   "docker/default allows RuntimeDefault",
			policy: seccompAnnotations("", "docker/default"),
			pod:    `{securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "* allows any profile",
			policy: seccompAnnotations("", "*"),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {seccompProfile: {type: Unconfined}}}]}`,
		},
		{
			name:   "a profile set without allowed profiles",
			policy: seccompAnnotations("", ""),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {seccompProfile: {type: RuntimeDefault}}}]}`,
			want: []string{
				"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/c]: Forbidden: seccomp may not be set",
			},
		},
		{
			name:   "allowed profiles require one to be set",
			policy: seccompAnnotations("", "runtime/default"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			want: []string{
				"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default",
				"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/c]: Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default",
			},
		},
	})
}
