package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sessionKey stores a secret in the session keyring of the test, which
// podsec and whatever it starts without a keyring of their own inherit,
// as a node agent or an administrator's shell that starts podsec might
// keep one. It is revoked and unlinked when the test ends.
func sessionKey(t *testing.T) (desc, secret string) {
	t.Helper()
	// Keyrings are per thread: the key is added, the pod started and the
	// key removed from one thread, which is never given back (the
	// goroutine ends locked, so an anonymous session keyring a test joined
	// dies with the thread instead of changing what another test's
	// thread possesses). Cleanups run on the test's goroutine.
	runtime.LockOSThread()
	stamp := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	desc, secret = "podsec-redteam-"+stamp, "session-secret-"+stamp
	id, err := unix.AddKey("user", desc, []byte(secret), unix.KEY_SPEC_SESSION_KEYRING)
	if err != nil {
		t.Fatalf("add_key(user, %s, session keyring): %v", desc, err)
	}
	t.Cleanup(func() {
		// Unlinking removes the key from the keyring, which is what
		// matters; a revoke that fails (it does at random, EPERM) only
		// leaves the unlinked key to the kernel's garbage collector.
		if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0); err != nil {
			t.Logf("keyctl(KEYCTL_REVOKE, %d): %v", id, err)
		}
		if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_SESSION_KEYRING, 0, 0); err != nil {
			t.Errorf("keyctl(KEYCTL_UNLINK, %d, session keyring): %v", id, err)
		}
	})
	return desc, secret
}

// TestRedteamSandboxKeyringThroughPtrace: the pod sandbox, PID 1 of a pod
// with a shared PID namespace, had no seccomp filter. A container with
// CAP_SYS_PTRACE, whose own keyctl(2) fails with EPERM under
// RuntimeDefault, attaches to it and makes it run keyctl; the sandbox
// kept the session keyring of whoever started podsec, so it read a
// secret stored there. The sandbox now has an empty session keyring of
// its own and runs under RuntimeDefault on every thread: the injected
// keyctl and unshare(CLONE_NEWUSER) fail with EPERM, as in the pod. The
// control (an injected getpid returns 1) shows the injection itself
// works, so the test does not pass because ptrace failed.
func TestRedteamSandboxKeyringThroughPtrace(t *testing.T) {
	n := harness.NewNode(t)
	desc, secret := sessionKey(t)
	out, _ := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rtinject}
spec:
  shareProcessNamespace: true
  restartPolicy: Never
  containers:
  - name: c
    image: localhost/busybox:latest
    command: [sh, -c, "/attacker/attacker keyring-syscalls; /attacker/attacker rt-inject 1 %s"]
    securityContext:
      capabilities: {add: [SYS_PTRACE]}%s%s
`, desc, harness.AttackerMount, harness.AttackerVolume))
	harness.ExpectLine(t, out, "[c] keyctl: EPERM") // the pod's own filter
	harness.ExpectNoText(t, out, secret)
	harness.ExpectLine(t, out, "[c] injected getpid = 1 (<nil>)")
	harness.ExpectLine(t, out, "[c] injected unshare(CLONE_NEWUSER): operation not permitted")
	harness.ExpectLine(t, out, "[c] FAIL rt-inject: injected keyctl: operation not permitted")
}
