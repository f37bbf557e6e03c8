package spec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidatePodSysctls(t *testing.T) {
	set := func(sysctls ...corev1.Sysctl) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.SecurityContext.Sysctls = sysctls }
	}
	// hostNamespaces leaves the user namespace, which cannot go with them.
	hostNamespaces := func(net, ipc bool, sysctls ...corev1.Sysctl) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = nil
			p.Spec.HostNetwork, p.Spec.HostIPC = net, ipc
			if net {
				for i := range p.Spec.Containers[0].Ports {
					p.Spec.Containers[0].Ports[i].HostPort = p.Spec.Containers[0].Ports[i].ContainerPort
				}
			}
			p.Spec.SecurityContext.Sysctls = sysctls
		}
	}
	s := func(name string) corev1.Sysctl { return corev1.Sysctl{Name: name, Value: "1"} }
	name := func(i string) string { return "spec.securityContext.sysctls[" + i + "].name" }
	runValidateCases(t, []validateCase{
		{"namespaced", nil, set(s("kernel.shmmax"), s("kernel.msgmax"), s("kernel.sem"), s("fs.mqueue.queues_max"),
			s("net.ipv4.conf.eth0-1.forwarding"), s("net/ipv4/conf/eth0.100/forwarding")), nil},
		{"no name", nil, set(s("")), []wantErr{{name("0"), field.ErrorTypeRequired}}},
		{"no value", nil, set(corev1.Sysctl{Name: "net.core.somaxconn"}), []wantErr{{"spec.securityContext.sysctls[0].value", field.ErrorTypeRequired}}},
		{"bad name", nil, set(s("net.ipv4..ip_forward")), []wantErr{{name("0"), field.ErrorTypeInvalid}}},
		{"uppercase name", nil, set(s("net.ipv4.conf.ETH0.forwarding")), []wantErr{{name("0"), field.ErrorTypeInvalid}}},
		{"name too long", nil, set(s("net." + strings.Repeat("a", 250))), []wantErr{{name("0"), field.ErrorTypeInvalid}}},
		{"duplicate", nil, set(s("net.core.somaxconn"), s("net.ipv4.ip_forward"), s("net.core.somaxconn")), []wantErr{{name("2"), field.ErrorTypeDuplicate}}},
		{"duplicate in slashed form", nil, set(s("net.ipv4.ip_forward"), s("net/ipv4/ip_forward")), []wantErr{{name("1"), field.ErrorTypeDuplicate}}},
		{"not namespaced", nil, set(s("vm.swappiness"), s("kernel.domainname"), s("fs.file-max"), s("kernel.semx")), []wantErr{
			{name("0"), field.ErrorTypeForbidden},
			{name("1"), field.ErrorTypeForbidden},
			{name("2"), field.ErrorTypeForbidden},
			{name("3"), field.ErrorTypeForbidden},
		}},
		{"net with hostNetwork", nil, hostNamespaces(true, false, s("net.core.somaxconn"), s("kernel.shmmni")), []wantErr{{name("0"), field.ErrorTypeForbidden}}},
		{"ipc with hostIPC", nil, hostNamespaces(false, true, s("net.core.somaxconn"), s("kernel.shmmni"), s("kernel.msgmax"), s("kernel.sem"), s("fs/mqueue/msg_max")), []wantErr{
			{name("1"), field.ErrorTypeForbidden},
			{name("2"), field.ErrorTypeForbidden},
			{name("3"), field.ErrorTypeForbidden},
			{name("4"), field.ErrorTypeForbidden},
		}},
	})
}

func TestNormalizeSysctlName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"net.ipv4.ip_forward", "net.ipv4.ip_forward"},
		{"net/ipv4/ip_forward", "net.ipv4.ip_forward"},
		{"net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding"},
		{"net.ipv4.conf.eth0/100.forwarding", "net.ipv4.conf.eth0/100.forwarding"},
		{"kernel", "kernel"},
	} {
		if got := normalizeSysctlName(tc.in); got != tc.want {
			t.Errorf("normalizeSysctlName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
