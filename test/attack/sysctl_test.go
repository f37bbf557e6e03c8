package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sysctlPod is a pod whose one container prints the sysctls it was given,
// read back from /proc/sys inside the container.
func sysctlPod(name string, sysctls map[string]string) string {
	var set, show strings.Builder
	for k, v := range sysctls {
		fmt.Fprintf(&set, "\n    - {name: %s, value: %q}", k, v)
		fmt.Fprintf(&show, "echo %s=$(cat /proc/sys/%s); ", k, strings.ReplaceAll(k, ".", "/"))
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  securityContext:
    sysctls:%s
  containers:
  - name: c
    image: localhost/busybox:latest
    command: [sh, -c, %q]
`, name, set.String(), show.String())
}

// TestSysctlUnsafeRefused is the CVE-2020-8558 class: a pod asks for
// net.ipv4.conf.*.route_localnet=1, which routes 127.0.0.0/8 to and from
// its interfaces, or for another net.* or IPC sysctl outside the kubelet's
// safe set. podsec accepted any namespaced sysctl; the node now refuses it
// as the kubelet does (SysctlForbidden) unless --allowed-unsafe-sysctls
// names it, before anything of the pod is made.
func TestSysctlUnsafeRefused(t *testing.T) {
	n := harness.NewNode(t)
	for _, tc := range []struct {
		name, sysctl, value string
		args                []string
	}{
		{"route-localnet-all", "net.ipv4.conf.all.route_localnet", "1", nil},
		// eth0 exists only on the pod network.
		{"route-localnet-eth0", "net.ipv4.conf.eth0.route_localnet", "1", []string{"--network", "cni"}},
		{"somaxconn", "net.core.somaxconn", "1024", nil},
		{"ip-forward", "net.ipv4.ip_forward", "1", nil},
		{"shmmax", "kernel.shmmax", "4096", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := n.Run(sysctlPod(tc.name, map[string]string{tc.sysctl: tc.value}), tc.args...)
			if err == nil {
				t.Fatalf("podsec run with sysctl %s=%s: exit 0, want a refusal:\n%s", tc.sysctl, tc.value, out)
			}
			harness.ExpectLine(t, out, fmt.Sprintf(`spec.securityContext.sysctls[0].name: Forbidden: unsafe sysctl %q is not allowed on this node (--allowed-unsafe-sysctls)`, tc.sysctl))
			harness.ExpectNoText(t, out, "[c] ")
			if ents, _ := os.ReadDir(filepath.Join(n.Root, "pods", "default")); len(ents) > 0 {
				t.Fatalf("the refused pod left %v", ents)
			}
		})
	}
}

// TestSysctlSafeAndAllowed is the control: the kubelet's safe sysctls,
// and an unsafe one the node allows with --allowed-unsafe-sysctls, are set
// in the pod's namespaces and seen from inside the container.
func TestSysctlSafeAndAllowed(t *testing.T) {
	n := harness.NewNode(t)
	out := n.MustRun(sysctlPod("safe", map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1"}))
	harness.ExpectLine(t, out, "[c] net.ipv4.ip_unprivileged_port_start=0")
	harness.ExpectLine(t, out, "[c] kernel.shm_rmid_forced=1")

	out = n.MustRun(sysctlPod("allowed", map[string]string{"net.core.somaxconn": "1234"}), "--allowed-unsafe-sysctls", "net.core.*")
	harness.ExpectLine(t, out, "[c] net.core.somaxconn=1234")

	// The prefix allows net.core.* and nothing else.
	out, err := n.Run(sysctlPod("not-allowed", map[string]string{"net.ipv4.conf.all.route_localnet": "1"}), "--allowed-unsafe-sysctls", "net.core.*")
	if err == nil {
		t.Fatalf("route_localnet with --allowed-unsafe-sysctls net.core.*: exit 0:\n%s", out)
	}
	harness.ExpectLine(t, out, `unsafe sysctl "net.ipv4.conf.all.route_localnet" is not allowed on this node`)
}
