package spec

import (
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestSysctlAllowlistValidatePod(t *testing.T) {
	pod := func(hostNet, hostIPC bool, names ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
			HostNetwork: hostNet, HostIPC: hostIPC, SecurityContext: &corev1.PodSecurityContext{},
		}}
		for _, n := range names {
			p.Spec.SecurityContext.Sysctls = append(p.Spec.SecurityContext.Sysctls, corev1.Sysctl{Name: n, Value: "1"})
		}
		return p
	}
	name := func(i string) string { return "spec.securityContext.sysctls[" + i + "].name" }
	forbidden := func(idx ...string) []wantErr {
		var w []wantErr
		for _, i := range idx {
			w = append(w, wantErr{name(i), field.ErrorTypeForbidden})
		}
		return w
	}
	for _, tc := range []struct {
		name   string
		kernel string
		unsafe []string
		pod    *corev1.Pod
		want   []wantErr
	}{
		{"no security context", "6.1.0", nil, &corev1.Pod{}, nil},
		{"safe set", "6.1.0-18-amd64", nil, pod(false, false,
			"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
			"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
			"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
			"net.ipv4.tcp_rmem", "net/ipv4/tcp_wmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"), nil},
		{"route_localnet and other unsafe net sysctls", "6.1.0", nil, pod(false, false,
			"net.ipv4.conf.all.route_localnet", "net.ipv4.conf.eth0.route_localnet", "net/ipv4/conf/eth0/route_localnet",
			"net.core.somaxconn", "net.ipv4.ip_forward", "net.ipv4.ip_unprivileged_port_start"), forbidden("0", "1", "2", "3", "4")},
		{"unsafe ipc sysctls", "6.1.0", nil, pod(false, false, "kernel.shmmax", "kernel.msgmax", "kernel.sem", "fs.mqueue.msg_max", "kernel.shm_rmid_forced"),
			forbidden("0", "1", "2", "3")},
		{"not namespaced, even with a pattern", "6.1.0", []string{"net.*", "kernel.shm*"}, pod(false, false, "vm.swappiness", "kernel.domainname", "kernel.shmmax"),
			forbidden("0", "1")},
		{"prefix pattern", "6.1.0", []string{"net.core.*", "kernel.msg*"}, pod(false, false, "net.core.somaxconn", "kernel.msgmax", "net.ipv4.conf.all.route_localnet", "kernel.shmmax"),
			forbidden("2", "3")},
		{"exact names", "6.1.0", []string{"net.ipv4.conf.eth0.route_localnet", "kernel.sem", "fs/mqueue/msg_max"},
			pod(false, false, "net/ipv4/conf/eth0/route_localnet", "kernel.sem", "fs.mqueue.msg_max", "net.ipv4.conf.all.route_localnet"), forbidden("3")},
		{"old kernel drops gated safe sysctls", "4.4.0", nil, pod(false, false, "net.ipv4.tcp_keepalive_time", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_rmem", "net.ipv4.tcp_syncookies"),
			forbidden("0", "2")},
		{"unknown kernel drops gated safe sysctls", "", nil, pod(false, false, "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_syncookies"), forbidden("0")},
		{"gated sysctl allowed by name on an old kernel", "4.4.0", []string{"net.ipv4.tcp_fin_timeout"}, pod(false, false, "net.ipv4.tcp_fin_timeout"), nil},
		{"hostNetwork refuses net sysctls", "6.1.0", []string{"net.core.*"}, pod(true, false, "net.ipv4.ip_unprivileged_port_start", "net.core.somaxconn", "kernel.shm_rmid_forced"),
			forbidden("0", "1")},
		{"hostIPC refuses ipc sysctls", "6.1.0", []string{"kernel.msg*"}, pod(false, true, "kernel.shm_rmid_forced", "kernel.msgmax", "net.ipv4.tcp_syncookies"),
			forbidden("0", "1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewSysctlAllowlist(tc.kernel, tc.unsafe)
			if err != nil {
				t.Fatalf("NewSysctlAllowlist(%q, %q) = %v", tc.kernel, tc.unsafe, err)
			}
			errs := a.ValidatePod(tc.pod)
			var got, want []string
			for _, e := range errs {
				got = append(got, wantErr{e.Field, e.Type}.String())
			}
			for _, w := range tc.want {
				want = append(want, w.String())
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("ValidatePod(%s) errors:\n  %s\nwant:\n  %s\nfull errors:\n%s", tc.name, strings.Join(got, "\n  "), strings.Join(want, "\n  "), describe(errs))
			}
		})
	}
}

func TestSysctlAllowlistMessage(t *testing.T) {
	a, err := NewSysctlAllowlist("6.1.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.ipv4.conf.all.route_localnet", Value: "1"}}}}}
	errs := a.ValidatePod(p)
	want := `spec.securityContext.sysctls[0].name: Forbidden: unsafe sysctl "net.ipv4.conf.all.route_localnet" is not allowed on this node (--allowed-unsafe-sysctls)`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("ValidatePod(route_localnet) = %v, want %s", errs, want)
	}
}

func TestNewSysctlAllowlistPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		wantErr string // empty: accepted
	}{
		{"net.core.*", ""},
		{"kernel.msg*", ""},
		{"kernel.shm*", ""},
		{"fs.mqueue.*", ""},
		{"net.*", ""},
		{"kernel.sem", ""},
		{"net/ipv4/conf/eth0/route_localnet", ""},
		{"vm.swappiness", "not known to be namespaced"},
		{"kernel.*", "not known to be namespaced"},
		{"kernel.se*", "not known to be namespaced"},
		{"net*", "not known to be namespaced"},
		{"*", "not known to be namespaced"},
		{"net.*.foo", "must have at most"},
		{"net..core", "must have at most"},
		{"Net.core.somaxconn", "must have at most"},
		{"", "must have at most"},
		{"net." + strings.Repeat("a", 250), "must have at most"},
	} {
		_, err := NewSysctlAllowlist("6.1.0", []string{tc.pattern})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("NewSysctlAllowlist(%q) = %v, want no error", tc.pattern, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("NewSysctlAllowlist(%q) = %v, want an error with %q", tc.pattern, err, tc.wantErr)
		case err != nil && !strings.HasPrefix(err.Error(), "--allowed-unsafe-sysctls: Invalid value: "):
			t.Errorf("NewSysctlAllowlist(%q) = %v, want the flag named", tc.pattern, err)
		}
	}
}

func TestParseKernelRelease(t *testing.T) {
	for _, tc := range []struct {
		in           string
		major, minor int
		known        bool
	}{
		{"6.1.0-18-amd64", 6, 1, true},
		{"6.18.3", 6, 18, true},
		{"4.15", 4, 15, true},
		{"5.10rc1", 5, 10, true},
		{"6", 0, 0, false},
		{"", 0, 0, false},
		{"x.y", 0, 0, false},
	} {
		major, minor, known := parseKernelRelease(tc.in)
		if major != tc.major || minor != tc.minor || known != tc.known {
			t.Errorf("parseKernelRelease(%q) = %d, %d, %v, want %d, %d, %v", tc.in, major, minor, known, tc.major, tc.minor, tc.known)
		}
	}
}
