package psp

import "testing"

func TestRuleProcMount(t *testing.T) {
	defaultOnly := func(p *PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = nil }
	runRuleCases(t, []ruleCase{
		{
			name:   "Unmasked needs to be allowed",
			policy: defaultOnly,
			pod:    `{hostUsers: false, containers: [{name: c, image: busybox, securityContext: {procMount: Unmasked}}]}`,
			want:   []string{`spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`},
		},
		{
			name:   "Default is always allowed",
			policy: defaultOnly,
			pod:    `{containers: [{name: a, image: busybox, securityContext: {procMount: Default}}, {name: b, image: busybox}]}`,
		},
		{
			name: "Unmasked when allowed",
			pod:  `{hostUsers: false, containers: [{name: c, image: busybox, securityContext: {procMount: Unmasked}}]}`,
		},
	})
}
