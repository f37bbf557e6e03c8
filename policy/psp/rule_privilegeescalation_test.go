package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func wantEscalation(want *bool) func(t *testing.T, pod *corev1.Pod) {
	return func(t *testing.T, pod *corev1.Pod) {
		t.Helper()
		var got *bool
		if sc := pod.Spec.Containers[0].SecurityContext; sc != nil {
			got = sc.AllowPrivilegeEscalation
		}
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("Default() allowPrivilegeEscalation = %v, want %v", fmtBool(got), fmtBool(want))
		}
	}
}

func fmtBool(b *bool) string {
	if b == nil {
		return "unset"
	}
	if *b {
		return "true"
	}
	return "false"
}

func TestRulePrivilegeEscalation(t *testing.T) {
	noEscalation := func(p *PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = ptrTo(false) }
	runRuleCases(t, []ruleCase{
		{
			name:   "a policy without escalation defaults it to false",
			policy: noEscalation,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check:  wantEscalation(ptrTo(false)),
		},
		{
			name:   "and refuses a container that allows it",
			policy: noEscalation,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {allowPrivilegeEscalation: true}}]}`,
			want:   []string{"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: true: Allowing privilege escalation for containers is not allowed"},
		},
		{
			name:   "and an unset field, without defaults",
			policy: noEscalation,
			pod:    `{containers: [{name: c, image: busybox}]}`,
			raw:    true,
			want:   []string{"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: null: Allowing privilege escalation for containers is not allowed"},
		},
		{
			name:   "defaultAllowPrivilegeEscalation fills an unset field",
			policy: func(p *PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = ptrTo(false) },
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check:  wantEscalation(ptrTo(false)),
		},
		{
			name:   "but not a set one",
			policy: func(p *PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = ptrTo(false) },
			pod:    `{containers: [{name: c, image: busybox, securityContext: {allowPrivilegeEscalation: true}}]}`,
			check:  wantEscalation(ptrTo(true)),
		},
		{
			name:  "unset allowPrivilegeEscalation is true and defaults nothing",
			pod:   `{containers: [{name: c, image: busybox}]}`,
			check: wantEscalation(nil),
		},
	})
}
