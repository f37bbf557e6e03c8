package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSmallDeps: what the monitor links is what stays resident per pod.
// Packages whose initialisation or size costs every monitor memory are
// kept out: the net packages (the probes use raw sockets), net/netip's
// unique maps, the Kubernetes types and libcontainer.
func TestSmallDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, bad := range []string{"net", "net/http", "net/netip", "unique", "crypto/tls", "encoding/json"} {
			if p == bad {
				t.Errorf("podsec-monitor depends on %s", p)
			}
		}
		for _, bad := range []string{"k8s.io/", "github.com/opencontainers/"} {
			if strings.HasPrefix(p, bad) {
				t.Errorf("podsec-monitor depends on %s", p)
			}
		}
	}
}
