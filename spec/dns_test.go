package spec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestResolvConf(t *testing.T) {
	node := []byte("# node\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.org lab.example.org\noptions ndots:2 edns0\n")
	two := "2"
	tests := []struct {
		name     string
		policy   corev1.DNSPolicy
		host     bool
		config   *corev1.PodDNSConfig
		want     string
		warnings int
	}{
		{name: "Default", policy: corev1.DNSDefault, want: "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.org lab.example.org\noptions ndots:2 edns0\n"},
		{name: "ClusterFirst falls back with a warning", policy: corev1.DNSClusterFirst, want: "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.org lab.example.org\noptions ndots:2 edns0\n", warnings: 1},
		{name: "ClusterFirst with hostNetwork is Default", policy: corev1.DNSClusterFirst, host: true, want: "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.org lab.example.org\noptions ndots:2 edns0\n"},
		{name: "None takes dnsConfig only", policy: corev1.DNSNone, config: &corev1.PodDNSConfig{Nameservers: []string{"198.51.100.1"}, Searches: []string{"ns.svc"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}}},
			want: "nameserver 198.51.100.1\nsearch ns.svc\noptions ndots:2\n"},
		{name: "dnsConfig appends and merges", policy: corev1.DNSDefault, config: &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.53", "198.51.100.1", "198.51.100.2"}, Searches: []string{"extra"}, Options: []corev1.PodDNSConfigOption{{Name: "edns0"}, {Name: "ndots", Value: &two}, {Name: "single-request"}}},
			want: "nameserver 192.0.2.53\nnameserver 192.0.2.54\nnameserver 198.51.100.1\nsearch example.org lab.example.org extra\noptions ndots:2 edns0 single-request\n", warnings: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{DNSPolicy: tc.policy, HostNetwork: tc.host, DNSConfig: tc.config}}
			got, warns := ResolvConf(pod, node)
			if string(got) != tc.want || len(warns) != tc.warnings {
				t.Errorf("ResolvConf(%s) = %q, %q; want %q with %d warnings", tc.name, got, strings.Join(warns, "; "), tc.want, tc.warnings)
			}
		})
	}
}
