package psp

import "testing"

func TestRulePrivileged(t *testing.T) {
	unprivileged := func(p *PodSecurityPolicy) { p.Spec.Privileged = false }
	runRuleCases(t, []ruleCase{
		{
			name:   "a privileged container is refused",
			policy: unprivileged,
			pod:    `{containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}`,
			want:   []string{"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"},
		},
		{
			name:   "ephemeral containers are checked too",
			policy: unprivileged,
			pod:    `{containers: [{name: c, image: busybox}], ephemeralContainers: [{name: debug, image: busybox, securityContext: {privileged: true}}]}`,
			want:   []string{"spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"},
		},
		{
			name:   "privileged false and unset are allowed",
			policy: unprivileged,
			pod:    `{containers: [{name: a, image: busybox, securityContext: {privileged: false}}, {name: b, image: busybox}]}`,
		},
		{
			name: "a privileged policy allows it",
			pod:  `{containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}`,
		},
	})
}
