package psp

import "testing"

func TestRuleSysctls(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "safe sysctls need no allowance",
			policy: func(p *PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = nil },
			pod:    `{securityContext: {sysctls: [{name: net.ipv4.ip_local_port_range, value: "1024 65535"}, {name: kernel.shm_rmid_forced, value: "1"}, {name: net.ipv4.ip_unprivileged_port_start, value: "0"}]}, containers: [{name: c, image: busybox}]}`,
		},
		{
			name: "an unsafe sysctl must be allowed",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedUnsafeSysctls = []string{"kernel.msg*", "net.core.somaxconn"}
			},
			pod:  `{securityContext: {sysctls: [{name: kernel.msgmax, value: "1"}, {name: net.core.somaxconn, value: "1024"}, {name: kernel.sem, value: "1"}]}, containers: [{name: c, image: busybox}]}`,
			want: []string{`pod.spec.securityContext.sysctls[2]: Forbidden: unsafe sysctl "kernel.sem" is not allowed`},
		},
		{
			name: "forbidden wins, even over the safe set",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedUnsafeSysctls = nil
				p.Spec.ForbiddenSysctls = []string{"net.ipv4.*"}
			},
			pod:  `{securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: "1"}]}, containers: [{name: c, image: busybox}]}`,
			want: []string{`pod.spec.securityContext.sysctls[0]: Forbidden: sysctl "net.ipv4.tcp_syncookies" is not allowed`},
		},
		{
			name: "* forbids everything",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedUnsafeSysctls = nil
				p.Spec.ForbiddenSysctls = []string{"*"}
			},
			pod:  `{securityContext: {sysctls: [{name: kernel.shm_rmid_forced, value: "1"}]}, containers: [{name: c, image: busybox}]}`,
			want: []string{`pod.spec.securityContext.sysctls[0]: Forbidden: sysctl "kernel.shm_rmid_forced" is not allowed`},
		},
	})
}
