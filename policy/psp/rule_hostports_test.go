package psp

import "testing"

func TestRuleHostPorts(t *testing.T) {
	seedPorts := func(p *PodSecurityPolicy) {
		p.Spec.HostPorts = []HostPortRange{{Min: 10000, Max: 11000}, {Min: 13000, Max: 14000}, {Min: 80, Max: 80}}
	}
	runRuleCases(t, []ruleCase{
		{
			name:   "ports in the ranges",
			policy: seedPorts,
			pod:    `{containers: [{name: c, image: busybox, ports: [{containerPort: 8080, hostPort: 10000}, {containerPort: 8081, hostPort: 14000}, {containerPort: 80, hostPort: 80}, {containerPort: 9090}]}]}`,
		},
		{
			name:   "ports outside the ranges, in init containers too",
			policy: seedPorts,
			pod:    `{initContainers: [{name: i, image: busybox, ports: [{containerPort: 1, hostPort: 12000}]}], containers: [{name: c, image: busybox, ports: [{containerPort: 8080, hostPort: 8080}, {containerPort: 9, hostPort: 9999}]}]}`,
			want: []string{
				"spec.initContainers[0].hostPort: Invalid value: 12000: Host port 12000 is not allowed to be used. Allowed ports: [10000-11000,13000-14000,80]",
				"spec.containers[0].hostPort: Invalid value: 8080: Host port 8080 is not allowed to be used. Allowed ports: [10000-11000,13000-14000,80]",
				"spec.containers[0].hostPort: Invalid value: 9999: Host port 9999 is not allowed to be used. Allowed ports: [10000-11000,13000-14000,80]",
			},
		},
		{
			name:   "no ranges allow no host port",
			policy: func(p *PodSecurityPolicy) { p.Spec.HostPorts = nil },
			pod:    `{containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 80}]}]}`,
			want:   []string{"spec.containers[0].hostPort: Invalid value: 80: Host port 80 is not allowed to be used. Allowed ports: []"},
		},
	})
}
