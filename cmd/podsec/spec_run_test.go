package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecIsWhatRuns runs pods detached (admitted by the seed
// PodSecurityPolicy, which makes the root filesystem read-only; readOnly
// volumes with rro; a hostPath; a sysctl; an init container; a subPath)
// and compares podsec spec, byte for byte, with the spec the runtime
// handed to libcontainer for each container (kept in the pod's specs/
// directory as the bytes of that very spec).
func TestSpecIsWhatRuns(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root")
		}
		t.Skip("needs root")
	}
	n := newNode(t)
	n.must("apply", "-f", "../../testdata/policies/seed-default-psp.yaml")
	n.must("create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default")
	n.must("create", "clusterrolebinding", "psp-all", "--clusterrole=psp-default", "--group=system:authenticated")
	host := t.TempDir()
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: spec-run}
spec:
  securityContext:
    fsGroup: 2000
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "80"}]
  initContainers:
  - {name: init, image: localhost/busybox:latest, command: ["true"], volumeMounts: [{name: cache, mountPath: /cache}]}
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sleep, "600"]
    volumeMounts:
    - {name: cache, mountPath: /cache, readOnly: true}
    - {name: cache, mountPath: /sub, subPath: data}
    - {name: host, mountPath: /host, readOnly: true}
  - {name: side, image: localhost/busybox:nonroot, command: [sleep, "600"]}
  volumes:
  - {name: cache, emptyDir: {}}
  - {name: host, hostPath: {path: ` + host + `, type: Directory}}
`
	f := filepath.Join(n.root, "spec-run.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := n.podsec("run", "-d", "-f", f); err != nil {
		t.Fatalf("podsec run -d: %v\n%s", err, out)
	}
	for _, c := range []string{"init", "main", "side"} {
		got, err := n.podsec("spec", "-f", f, "-c", c)
		if err != nil {
			t.Fatalf("podsec spec -c %s: %v\n%s", c, err, got)
		}
		ran, err := os.ReadFile(filepath.Join(n.root, "pods", "default", "spec-run", "specs", c+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if got != string(ran) {
			t.Errorf("podsec spec -c %s differs from the spec run handed to libcontainer:\n%s\nran:\n%s", c, got, ran)
		}
		if c == "main" && (!strings.Contains(got, `"rro"`) || !strings.Contains(got, `"limit": 4096`)) {
			t.Errorf("podsec spec -c main: no rro mount or pids limit 4096:\n%s", got)
		}
		if !strings.Contains(got, `"readonly": true`) {
			t.Errorf("podsec spec -c %s: no read-only root from the PodSecurityPolicy:\n%s", c, got)
		}
	}
}
