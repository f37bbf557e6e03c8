package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedteamSandboxDescriptorsAndTERM: a container with SYS_PTRACE in a
// pod with a shared PID namespace takes every descriptor of the sandbox
// (PID 1) with pidfd_getfd and reads its environment and command line.
// What it gets is worth nothing: /dev/null, the read end of the pipe by
// which the sandbox learns that podsec went, and the Go runtime's epoll
// and eventfd; no directory or file of the node, no secret in the
// environment. Then it sends SIGTERM to PID 1 (SIGKILL from inside the
// namespace is ignored for its init): the sandbox ends, the kernel kills
// the pod's processes, and podsec reports the container's end and removes
// the pod, leaving nothing half made.
func TestRedteamSandboxDescriptorsAndTERM(t *testing.T) {
	n := harness.NewNode(t)
	script := "/attacker/attacker rt2-sandbox-fds 1; /attacker/attacker rt2-proc-read 1 environ; " +
		"/attacker/attacker rt2-proc-read 1 cmdline; kill -KILL 1; echo KILLED $?; sleep 1; kill -TERM 1; sleep 5; echo SURVIVED"
	out, _ := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rt2fds}
spec:
  shareProcessNamespace: true
  restartPolicy: Never
  containers:
  - name: c
    image: localhost/busybox:latest
    command: [sh, -c, %q]
    securityContext:
      capabilities: {add: [SYS_PTRACE]}%s%s
`, script, harness.AttackerMount, harness.AttackerVolume))
	harness.ExpectLine(t, out, "[c] OK rt2-sandbox-fds") // the control: pidfd_getfd works
	allowed := []string{"/dev/null", "pipe:[", "anon_inode:[eventpoll]", "anon_inode:[eventfd]"}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(strings.TrimPrefix(l, "[c] "))
		if len(f) != 3 || f[0] != "FD" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(f[2], a)
		}
		if !ok {
			t.Errorf("the pod took descriptor %s of the sandbox: %s", f[1], f[2])
		}
	}
	harness.ExpectLine(t, out, "[c] environ: PATH=/nonexistent GODEBUG=containermaxprocs=0,updatemaxprocs=0")
	harness.ExpectLine(t, out, "[c] cmdline: /proc/self/fd/5 sandbox-init rt2fds")
	harness.ExpectLine(t, out, "[c] KILLED 0") // sent, and ignored
	harness.ExpectNoText(t, out, "SURVIVED")   // SIGTERM ends the sandbox, and the pod with it
	harness.ExpectLine(t, out, "container c exited with code 137")
	if got, _ := n.Podsec("get", "pods"); !strings.Contains(got, "No resources found") {
		t.Errorf("the pod is still listed after its sandbox ended:\n%s", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(n.Root, "pods", "default")); len(ents) > 0 {
		t.Errorf("podsec left the pod's directory: %v", ents)
	}
}
