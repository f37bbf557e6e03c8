package main

import (
	"strings"
	"testing"
)

// TestAllowedUnsafeSysctls checks the node's sysctl allowlist on the
// commands that decide for this node, and that admission leaves it alone.
func TestAllowedUnsafeSysctls(t *testing.T) {
	pod := func(names ...string) string {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec:\n  securityContext:\n    sysctls:\n")
		for _, n := range names {
			b.WriteString("    - {name: " + n + ", value: '1'}\n")
		}
		b.WriteString("  containers: [{name: c, image: localhost/busybox:latest, command: [\"true\"]}]\n")
		return b.String()
	}
	unsafe := pod("net.ipv4.conf.all.route_localnet", "net.core.somaxconn", "kernel.shm_rmid_forced")
	routeLocalnet := `spec.securityContext.sysctls[0].name: Forbidden: unsafe sysctl "net.ipv4.conf.all.route_localnet" is not allowed on this node (--allowed-unsafe-sysctls)`
	somaxconn := `spec.securityContext.sysctls[1].name: Forbidden: unsafe sysctl "net.core.somaxconn" is not allowed on this node (--allowed-unsafe-sysctls)`
	tests := []struct {
		name      string
		stdin     string
		args      []string
		wantCode  int
		wantErrIn []string
		wantNot   []string
	}{
		{name: "validate refuses unsafe", stdin: unsafe, args: []string{"validate", "-f", "-"}, wantCode: 1, wantErrIn: []string{routeLocalnet, somaxconn}},
		{name: "validate with a prefix", stdin: unsafe, args: []string{"validate", "-f", "-", "--allowed-unsafe-sysctls", "net.core.*"}, wantCode: 1,
			wantErrIn: []string{routeLocalnet}, wantNot: []string{"somaxconn"}},
		{name: "validate with both", stdin: unsafe, args: []string{"validate", "-f", "-", "--allowed-unsafe-sysctls", "net.core.*,net.ipv4.conf.all.route_localnet"}},
		{name: "validate safe", stdin: pod("net.ipv4.ip_unprivileged_port_start", "kernel/shm_rmid_forced"), args: []string{"validate", "-f", "-"}},
		{name: "validate not namespaced pattern", stdin: unsafe, args: []string{"validate", "-f", "-", "--allowed-unsafe-sysctls", "vm.*"}, wantCode: 1,
			wantErrIn: []string{`error: --allowed-unsafe-sysctls: Invalid value: "vm.*": the sysctls are not known to be namespaced`}},
		{name: "validate bad pattern", stdin: unsafe, args: []string{"validate", "-f", "-", "--allowed-unsafe-sysctls", "net.*.x"}, wantCode: 1,
			wantErrIn: []string{`error: --allowed-unsafe-sysctls: Invalid value: "net.*.x"`}},
		{name: "spec refuses unsafe", stdin: unsafe, args: []string{"spec", "-f", "-"}, wantCode: 1, wantErrIn: []string{"error: pod refused by this node:", routeLocalnet}},
		{name: "spec with the flag", stdin: pod("net.core.somaxconn"), args: []string{"spec", "-f", "-", "--allowed-unsafe-sysctls", "net.core.*"}},
		{name: "run refuses unsafe before anything", stdin: unsafe, args: []string{"run", "-f", "-", "--network", "none"}, wantCode: 1, wantErrIn: []string{routeLocalnet}},
		{name: "run -d refuses unsafe", stdin: unsafe, args: []string{"run", "-d", "-f", "-", "--network", "none"}, wantCode: 1, wantErrIn: []string{routeLocalnet}},
		{name: "admit does not apply the node check", stdin: unsafe, args: []string{"admit", "-f", "-"}, wantNot: []string{"--allowed-unsafe-sysctls"}},
		{name: "host network", stdin: strings.Replace(pod("net.core.somaxconn"), "spec:\n", "spec:\n  hostNetwork: true\n", 1),
			args: []string{"validate", "-f", "-", "--allowed-unsafe-sysctls", "net.core.*"}, wantCode: 1,
			wantErrIn: []string{"spec.securityContext.sysctls[0].name: Forbidden: may not be specified when 'hostNetwork' is true"}},
		{name: "not namespaced", stdin: pod("vm.swappiness"), args: []string{"validate", "-f", "-"}, wantCode: 1,
			wantErrIn: []string{`spec.securityContext.sysctls[0].name: Forbidden: sysctl "vm.swappiness" is not known to be namespaced`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := podsec(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Errorf("podsec %v: exit %d, want %d (stderr %q)", tc.args, code, tc.wantCode, errs)
			}
			for _, w := range tc.wantErrIn {
				if !strings.Contains(errs, w) {
					t.Errorf("podsec %v: stderr %q does not contain %q", tc.args, errs, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(errs, w) {
					t.Errorf("podsec %v: stderr %q contains %q", tc.args, errs, w)
				}
			}
		})
	}
}
