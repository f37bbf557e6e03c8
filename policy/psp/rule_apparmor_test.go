package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func appArmorAnnotations(defaultProfile, allowed string) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Annotations = map[string]string{}
		if defaultProfile != "" {
			p.Annotations[AppArmorDefaultProfileAnnotation] = defaultProfile
		}
		if allowed != "" {
			p.Annotations[AppArmorAllowedProfilesAnnotation] = allowed
		}
	}
}

func TestRuleAppArmor(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "the default profile goes to each container's field",
			policy: appArmorAnnotations("runtime/default", "runtime/default"),
			pod:    `{initContainers: [{name: i, image: busybox}], containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
					if sc := c.SecurityContext; sc == nil || sc.AppArmorProfile == nil || sc.AppArmorProfile.Type != corev1.AppArmorProfileTypeRuntimeDefault {
						t.Errorf("Default() container %s securityContext = %+v, want appArmorProfile RuntimeDefault", c.Name, sc)
					}
				}
			},
		},
		{
			name:   "a pod-level profile is kept",
			policy: appArmorAnnotations("runtime/default", "runtime/default,localhost/k8s-nginx"),
			pod:    `{securityContext: {appArmorProfile: {type: Localhost, localhostProfile: k8s-nginx}}, containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.Containers[0].SecurityContext != nil {
					t.Errorf("Default() container securityContext = %+v, want none", pod.Spec.Containers[0].SecurityContext)
				}
			},
		},
		{
			name:   "a profile not allowed",
			policy: appArmorAnnotations("", "runtime/default"),
			pod:    `{containers: [{name: c, image: busybox, securityContext: {appArmorProfile: {type: Unconfined}}}]}`,
			want: []string{
				`pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: Forbidden: unconfined is not an allowed profile. Allowed values: "runtime/default"`,
			},
		},
		{
			name:   "the legacy annotation counts",
			policy: appArmorAnnotations("", "runtime/default"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			annots: map[string]string{"container.apparmor.security.beta.kubernetes.io/c": "localhost/x"},
			want: []string{
				`pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: Forbidden: localhost/x is not an allowed profile. Allowed values: "runtime/default"`,
			},
		},
		{
			name:   "allowed profiles require one to be set",
			policy: appArmorAnnotations("", "runtime/default"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			want: []string{
				"pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: Forbidden: AppArmor profile must be set",
			},
		},
		{
			name: "no allowed profiles allows anything",
			pod:  `{containers: [{name: c, image: busybox, securityContext: {appArmorProfile: {type: Unconfined}}}]}`,
		},
	})
}
