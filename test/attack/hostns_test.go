package attack

import (
	"fmt"
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
	n := newNode(t)
	marker, secret := nodeMarker(t)
	ns := func(name, level string) {
		out, err := n.podsec("apply", "-f", n.manifest(fmt.Sprintf(`apiVersion: v1
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
	out, err := n.run(pod("guarded"))
	if err == nil {
		t.Fatalf("a hostPID pod ran in a baseline namespace:\n%s", out)
	}
	expectNoText(t, out, secret)
	expectLine(t, out, "violates PodSecurity \"baseline:latest\"")
	for _, want := range []string{"host namespaces", "non-default capabilities"} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal does not name %q:\n%s", want, out)
		}
	}

	out = n.mustRun(pod("open"))
	expectLine(t, out, "[main] "+secret)
}
