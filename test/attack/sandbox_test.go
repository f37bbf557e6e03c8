package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nodeMarker writes a secret file on the node for a pod to go after and
// returns its path and content.
func nodeMarker(t *testing.T) (string, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "podsec-attack-marker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	secret := fmt.Sprintf("node-secret-%d", os.Getpid())
	p := filepath.Join(dir, "secret")
	if err := os.WriteFile(p, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, secret
}

// TestSandboxProcRootEscape is the escape through the pod sandbox: with a
// shared PID namespace the sandbox is PID 1 of the pod, and a container
// with CAP_SYS_PTRACE walks "/proc/1/root/../.." (and cwd, and every open
// directory descriptor) to the node's filesystem. A chroot left the node
// one ".." away; the sandbox now pivots into an empty root with the node
// detached. The attack runs as root and as a non-root user, from every
// container, against every other process of the pod.
func TestSandboxProcRootEscape(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	out, err := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: procroot}
spec:
  shareProcessNamespace: true
  restartPolicy: Never
  containers:
  - name: root
    image: localhost/busybox:latest
    command: [/attacker/attacker, procroot, %[1]q]
    securityContext:
      capabilities: {add: [SYS_PTRACE]}%[2]s
  - name: other
    image: localhost/busybox:latest
    command: [sh, -c, "sleep 1; /attacker/attacker procroot %[1]s"]
    securityContext:
      capabilities: {add: [SYS_PTRACE, DAC_READ_SEARCH]}%[2]s%[3]s
`, marker, harness.AttackerMount, harness.AttackerVolume))
	harness.ExpectNoText(t, out, secret)
	if _, serr := os.Stat(marker + ".pwned"); serr == nil {
		t.Fatalf("a pod created %s.pwned on the node:\n%s", marker, out)
	}
	if err != nil {
		t.Fatalf("podsec run: %v\n%s", err, out)
	}
	harness.ExpectLine(t, out, "[root] pid 1: root is readable")
	harness.ExpectLine(t, out, "[root] OK procroot")
	harness.ExpectLine(t, out, "[other] OK procroot")
}

// TestSandboxExecutableSealed: the sandbox's /proc/1/exe, which a pod with
// CAP_SYS_PTRACE and a shared PID namespace can open, is not the node's
// podsec binary (a pod holding it could rewrite it once no podsec runs,
// CVE-2019-5736) and cannot be opened for writing.
func TestSandboxExecutableSealed(t *testing.T) {
	n := harness.NewNode(t)
	var st syscall.Stat_t
	if err := syscall.Stat(n.Bin, &st); err != nil {
		t.Fatal(err)
	}
	out := n.MustRun(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: procexe}
spec:
  shareProcessNamespace: true
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [/attacker/attacker, procexe, "1"]
    securityContext:
      capabilities: {add: [SYS_PTRACE]}%s%s
`, harness.AttackerMount, harness.AttackerVolume))
	harness.ExpectLine(t, out, "[main] exe dev:ino ")
	harness.ExpectNoText(t, out, fmt.Sprintf("exe dev:ino %d:%d\n", st.Dev, st.Ino))
	harness.ExpectNoText(t, out, "exe writable")
	if !strings.Contains(out, "[main] OK procexe") {
		t.Fatalf("the pod could not open /proc/1/exe at all, so the test proves nothing:\n%s", out)
	}
}
