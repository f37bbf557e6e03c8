package ocispec

import "sort"

// safeSysctls are the namespaced sysctls baseline allows
// (pod-security-admission's list at its latest version).
var safeSysctls = set(
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
	"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",
)

// checkSysctls: sysctls beyond the safe subset are disallowed.
//
// Spec: linux.sysctl (keys in dotted form; slashes are read as dots).
// Allowed: the safe set above.
func checkSysctls(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var bad []string
	for k := range in.linux().Sysctl {
		if !safeSysctls[dotted(k)] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return []Violation{violation("linux.sysctl", bad, "forbidden sysctls")}
}

// dotted turns net/ipv4/ip_forward into net.ipv4.ip_forward.
func dotted(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c == '/' {
			b[i] = '.'
		}
	}
	return string(b)
}
