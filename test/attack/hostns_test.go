package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"net"
	"os"
	"strings"
	"testing"
)

// TestHostPIDIsForPolicy: hostPID with CAP_SYS_PTRACE reaches the node
// under every runtime (through /proc/PID/root of any node process, here the
// test's own), so only admission can stand in the way. In a namespace that enforces the baseline level the
// pod is refused before anything runs; in a privileged namespace the same
// pod reads the node's file, which shows the attack is real.
func TestHostPIDIsForPolicy(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	ns := func(name, level string) {
		out, err := n.Podsec("apply", "-f", n.Manifest(fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels: {pod-security.kubernetes.io/enforce: %s}
`, name, level)))
		if err != nil {
			t.Fatalf("apply namespace %s: %v\n%s", name, err, out)
		}
	}
	ns("guarded", "baseline")
	ns("open", "privileged")
	pod := func(namespace string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hostpid, namespace: %s}
spec:
  hostPID: true
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [cat, /proc/%d/root%s]
    securityContext:
      capabilities: {add: [SYS_PTRACE]}
`, namespace, os.Getpid(), marker)
	}
	out, err := n.Run(pod("guarded"))
	if err == nil {
		t.Fatalf("a hostPID pod ran in a baseline namespace:\n%s", out)
	}
	harness.ExpectNoText(t, out, secret)
	harness.ExpectLine(t, out, "violates PodSecurity \"baseline:latest\"")
	for _, want := range []string{"host namespaces", "non-default capabilities"} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal does not name %q:\n%s", want, out)
		}
	}

	out = n.MustRun(pod("open"))
	harness.ExpectLine(t, out, "[main] "+secret)
}

// TestHostNetworkAndPrivilegedAreForPolicy: a hostNetwork pod reaches the
// node's loopback services and a privileged pod the node's devices; a pod
// of its own network namespace reaches neither. Baseline refuses both
// before anything runs.
func TestHostNetworkAndPrivilegedAreForPolicy(t *testing.T) {
	n := harness.NewNode(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("node-loopback-service\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, level := range []string{"baseline", "privileged"} {
		out, err := n.Podsec("apply", "-f", n.Manifest(fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: ns-%[1]s
  labels: {pod-security.kubernetes.io/enforce: %[1]s}
`, level)))
		if err != nil {
			t.Fatalf("apply namespace: %v\n%s", err, out)
		}
	}
	pod := func(name, ns, spec, cmd string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  restartPolicy: Never%s
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, %q]
`, name, ns, spec, cmd)
	}
	dial := fmt.Sprintf("nc 127.0.0.1 %d </dev/null || echo unreachable", port)
	devs := "ls /dev/kmsg 2>/dev/null || echo no-kmsg"
	cases := []struct {
		name, spec, cmd, want, wantRefused string
	}{
		{"hostnet", "\n  hostNetwork: true", dial, "node-loopback-service", "host namespaces"},
		{"privileged", "", devs, "/dev/kmsg", "privileged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, cmd := c.spec, c.cmd
			manifest := pod(c.name, "ns-baseline", spec, cmd)
			if c.name == "privileged" {
				manifest += "    securityContext: {privileged: true}\n"
			}
			out, err := n.Run(manifest)
			if err == nil {
				t.Fatalf("ran under baseline:\n%s", out)
			}
			harness.ExpectNoText(t, out, c.want)
			harness.ExpectLine(t, out, c.wantRefused)

			out = n.MustRun(strings.Replace(manifest, "ns-baseline", "ns-privileged", 1))
			harness.ExpectLine(t, out, "[main] "+c.want)

			// The same command in a pod of its own namespaces, no privilege.
			out = n.MustRun(pod(c.name+"-own", "ns-baseline", "", cmd))
			harness.ExpectNoText(t, out, c.want)
		})
	}
}
