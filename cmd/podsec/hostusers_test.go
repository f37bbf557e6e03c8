package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostUsersRefusedCLI: podsec validate and podsec spec refuse what the
// API server refuses with hostUsers: false, exit non-zero, name every
// field as kubectl would show it, and write no bundle.
func TestHostUsersRefusedCLI(t *testing.T) {
	const manifest = `apiVersion: v1
kind: Pod
metadata: {name: userns}
spec:
  hostUsers: false
  hostNetwork: true
  hostPID: true
  hostIPC: true
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["/bin/true"]
`
	wantIn := []string{
		"spec.hostNetwork: Forbidden: when `pod.Spec.HostUsers` is false",
		"spec.HostPID: Forbidden: when `pod.Spec.HostUsers` is false",
		"spec.HostIPC: Forbidden: when `pod.Spec.HostUsers` is false",
	}
	bundles := filepath.Join(t.TempDir(), "bundles")
	for _, args := range [][]string{
		{"validate", "-f", "-"},
		{"spec", "-f", "-", "--bundle-dir", bundles},
	} {
		code, _, errs := podsec(t, manifest, args...)
		if code == 0 {
			t.Errorf("podsec %v: exit 0, want non-zero", args)
		}
		for _, w := range wantIn {
			if !strings.Contains(errs, w) {
				t.Errorf("podsec %v: stderr %q does not contain %q", args, errs, w)
			}
		}
		if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
			t.Errorf("podsec %v: stderr has a Go stack trace: %s", args, errs)
		}
	}
	if _, err := os.Stat(bundles); !os.IsNotExist(err) {
		t.Errorf("podsec spec of a refused pod created %s", bundles)
	}

	// procMount: Unmasked only in a user namespace.
	unmasked := pods + "user-namespace-procmount.yaml"
	data, err := os.ReadFile(unmasked)
	if err != nil {
		t.Fatal(err)
	}
	hostUsers := strings.Replace(string(data), "\n  hostUsers: false\n", "\n  hostUsers: true\n", 1)
	code, _, errs := podsec(t, hostUsers, "validate", "-f", "-")
	want := "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`"
	if code == 0 || !strings.Contains(errs, want) {
		t.Errorf("podsec validate of procMount Unmasked with hostUsers: true: exit %d, stderr %q, want %q", code, errs, want)
	}
	if code, out, errs := podsec(t, "", "validate", "-f", unmasked); code != 0 || out != "pod/user-namespace-procmount valid\n" {
		t.Errorf("podsec validate %s: exit %d, stdout %q, stderr %q", unmasked, code, out, errs)
	}
}
