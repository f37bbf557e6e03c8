package psp

import "testing"

func TestRuleHostNamespaces(t *testing.T) {
	noHost := func(p *PodSecurityPolicy) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = false, false, false }
	runRuleCases(t, []ruleCase{
		{
			name:   "all three refused",
			policy: noHost,
			pod:    `{hostNetwork: true, hostPID: true, hostIPC: true, containers: [{name: c, image: busybox}]}`,
			want: []string{
				"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used",
				"spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used",
				"spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used",
			},
		},
		{
			name:   "pod namespaces are always allowed",
			policy: noHost,
			pod:    `{containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "each is allowed on its own",
			policy: func(p *PodSecurityPolicy) { p.Spec.HostNetwork, p.Spec.HostIPC = false, false },
			pod:    `{hostPID: true, containers: [{name: c, image: busybox}]}`,
		},
	})
}
