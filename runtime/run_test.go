package runtime

import (
	"strings"
	"testing"
)

func TestRunAsUserGuest(t *testing.T) {
	out, res, _, err := runPod(t, `
apiVersion: v1
kind: Pod
metadata: {name: pod-as-user-guest}
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["id"]
    securityContext: {runAsUser: 405}
`)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 || !strings.Contains(out, "[main] uid=405(guest) gid=100(users)") {
		t.Fatalf("Run(pod-as-user-guest): exit %d, output %q", res.ExitCode, out)
	}
}
