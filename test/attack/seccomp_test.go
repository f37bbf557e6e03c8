package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// seccompPod is a root pod whose one container, with the pod-level
// securityContext secctx (empty for none: the node's default,
// RuntimeDefault), prints its seccomp mode and then runs script, with the
// attacker program at /attacker.
func seccompPod(name, secctx, script string) string {
	if secctx != "" {
		secctx = "\n  securityContext: " + secctx
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never%s
  containers:
  - name: c
    image: localhost/busybox:latest
    command: [sh, -c, %q]%s%s
`, name, secctx, "grep Seccomp: /proc/self/status; "+script, harness.AttackerMount, harness.AttackerVolume)
}

const unconfined = "{seccompProfile: {type: Unconfined}}"

// TestSeccompKeyringSyscallsRefused: RuntimeDefault allowed add_key,
// keyctl and request_key, and kernel keyrings are not namespaced. Under
// moby's profile all three fail with EPERM. The control runs the same
// probe Unconfined, where keyctl reaches the kernel.
func TestSeccompKeyringSyscallsRefused(t *testing.T) {
	n := harness.NewNode(t)
	out := n.MustRun(seccompPod("keyring-default", "", "/attacker/attacker keyring-syscalls"))
	harness.ExpectLine(t, out, "[c] Seccomp:\t2")
	for _, sc := range []string{"keyctl", "add_key", "request_key"} {
		harness.ExpectLine(t, out, "[c] "+sc+": EPERM")
	}
	harness.ExpectLine(t, out, "[c] OK keyring-syscalls")

	out = n.MustRun(seccompPod("keyring-unconfined", unconfined, "/attacker/attacker keyring-syscalls"))
	harness.ExpectLine(t, out, "[c] Seccomp:\t0")
	harness.ExpectLine(t, out, "[c] keyctl: ok")
	harness.ExpectNoText(t, out, "EPERM")
}

// nodeKey stores a secret under a unique description in the keyring of
// the node's root user, as a node agent might, and removes it when the
// test ends. It returns the description and the secret.
func nodeKey(t *testing.T) (desc, secret string) {
	t.Helper()
	// Keyrings are per thread: the key is added, the pod started and the
	// key removed from one thread, which is never given back (the
	// goroutine ends locked, so an anonymous session keyring a test joined
	// dies with the thread instead of changing what another test's
	// thread possesses). Cleanups run on the test's goroutine.
	runtime.LockOSThread()
	stamp := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	desc, secret = "podsec-attack-"+stamp, "node-secret-"+stamp
	id, err := unix.AddKey("user", desc, []byte(secret), unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		t.Fatalf("add_key(user, %s, user keyring): %v", desc, err)
	}
	t.Cleanup(func() {
		if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0); err != nil {
			t.Errorf("keyctl(KEYCTL_REVOKE, %d): %v", id, err)
		}
		if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
			t.Errorf("keyctl(KEYCTL_UNLINK, %d, user keyring): %v", id, err)
		}
	})
	return desc, secret
}

// TestSeccompKeyringSteal is the reproduced attack: a default pod (root,
// RuntimeDefault) linked the node root's user keyring into its session
// keyring, found a secret the node had stored there and read it. Now its
// first keyctl fails with EPERM and the secret never shows. The control
// runs the same attack Unconfined and reads the secret, so the probe is
// real and the test cannot pass by accident.
func TestSeccompKeyringSteal(t *testing.T) {
	n := harness.NewNode(t)
	desc, secret := nodeKey(t)
	steal := "/attacker/attacker keyring-steal " + desc

	out, err := n.Run(seccompPod("steal-default", "", steal))
	if err == nil {
		t.Errorf("podsec run of the keyring attack: exit 0, want the container to fail:\n%s", out)
	}
	harness.ExpectLine(t, out, "[c] Seccomp:\t2")
	harness.ExpectLine(t, out, "[c] FAIL keyring-steal: keyctl(KEYCTL_GET_KEYRING_ID, user keyring): EPERM")
	harness.ExpectNoText(t, out, secret)

	out, err = n.Run(seccompPod("steal-unconfined", unconfined, steal))
	if err != nil {
		t.Fatalf("the attack Unconfined (control): %v\n%s", err, out)
	}
	harness.ExpectLine(t, out, "[c] Seccomp:\t0")
	harness.ExpectLine(t, out, "[c] stolen: "+secret)
}

// TestSeccompSocketFamilies: RuntimeDefault refused socket(2) for AF_VSOCK
// only; moby's profile allows a list of families, without AF_ALG (the
// kernel's crypto API) and AF_VSOCK (host-guest sockets, global by
// default). The families a workload uses still open; Unconfined, AF_ALG
// reaches the kernel.
func TestSeccompSocketFamilies(t *testing.T) {
	n := harness.NewNode(t)
	probe := "/attacker/attacker socket-families AF_ALG AF_VSOCK AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET"
	out := n.MustRun(seccompPod("sockets-default", "", probe))
	harness.ExpectLine(t, out, "[c] Seccomp:\t2")
	harness.ExpectLine(t, out, "[c] AF_ALG: EPERM")
	harness.ExpectLine(t, out, "[c] AF_VSOCK: EPERM")
	for _, f := range []string{"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"} {
		harness.ExpectLine(t, out, "[c] "+f+": ok")
	}

	out = n.MustRun(seccompPod("sockets-unconfined", unconfined, "/attacker/attacker socket-families AF_ALG"))
	harness.ExpectLine(t, out, "[c] Seccomp:\t0")
	harness.ExpectLine(t, out, "[c] AF_ALG: ")
	harness.ExpectNoText(t, out, "AF_ALG: EPERM")
}

// TestSeccompRuntimeDefaultWorkload is the control for the whole profile:
// what a normal workload does still works under RuntimeDefault: files,
// pipes, fork and exec, a TCP server and client on loopback, ps, sleep.
func TestSeccompRuntimeDefaultWorkload(t *testing.T) {
	n := harness.NewNode(t)
	script := strings.Join([]string{
		"echo data > /tmp/f && cat /tmp/f | tr a-z A-Z",
		"mkdir -p /tmp/www && echo served > /tmp/www/index.html",
		"httpd -f -p 127.0.0.1:8080 -h /tmp/www & pid=$!",
		"for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -q -O - http://127.0.0.1:8080/ && break; sleep 0.2; done",
		"ps -o comm | grep -cx httpd | sed 's/^/httpd processes: /'",
		"kill $pid; wait $pid; sleep 0.1",
		"id -u | sed 's/^/uid: /'",
		"echo workload-done",
	}, "; ")
	out := n.MustRun(seccompPod("workload", "", script))
	harness.ExpectLine(t, out, "[c] Seccomp:\t2")
	harness.ExpectLine(t, out, "[c] DATA")
	harness.ExpectLine(t, out, "[c] served")
	harness.ExpectLine(t, out, "[c] httpd processes: 1")
	harness.ExpectLine(t, out, "[c] uid: 0")
	harness.ExpectLine(t, out, "[c] workload-done")
}
