package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNetworkPolicySeedPostgres runs the seed's postgres-netpolicy example
// (13.4.2) between real pods on the pod network: only app=webserver
// reaches app=database, and only on 5432. The probed matrix must equal the
// computed one.
func TestNetworkPolicySeedPostgres(t *testing.T) {
	n := newNode(t)
	cni := []string{"--cni-conf-dir", filepath.Join(n.root, "net.d")}
	runCNI := func(manifest string) {
		t.Helper()
		f := filepath.Join(n.root, "p.yaml")
		os.WriteFile(f, []byte(manifest), 0o600)
		cmd := exec.Command(n.bin, append(append([]string{"--root", n.root}, cni...), "run", "-d", "-f", f)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run -d: %v: %s", err, out)
		}
	}
	pod := func(name, app, script string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", labels: {app: " + app + "}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: localhost/busybox:latest\n    command: [sh, -c, '" + script + "']\n"
	}
	runCNI(pod("database", "database", "httpd -p 5432 -h /; exec httpd -f -p 80 -h /"))
	runCNI(pod("webserver", "webserver", "exec httpd -f -p 80 -h /"))
	runCNI(pod("other", "other", "exec httpd -f -p 80 -h /"))
	podsec := func(args ...string) (string, error) {
		out, err := exec.Command(n.bin, append(append([]string{"--root", n.root}, cni...), args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { podsec("delete", "pod", "--all") })
	policy := filepath.Join(n.root, "np.yaml")
	os.WriteFile(policy, []byte(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: postgres-netpolicy
spec:
  podSelector:
    matchLabels:
      app: database
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: webserver
    ports:
    - port: 5432
`), 0o600)
	// Before the policy, every pod reaches the database.
	if out, err := podsec("netpol", "matrix", "--port", "5432", "--probe"); err != nil || denied(out) {
		t.Fatalf("matrix before the policy: %v\n%s", err, out)
	}
	if out, err := podsec("apply", "-f", policy); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	for _, port := range []string{"5432", "80"} {
		out, err := podsec("netpol", "matrix", "--port", port, "--probe")
		if err != nil {
			t.Fatalf("matrix --port %s --probe: the kernel disagrees with the engine: %v\n%s", port, err, out)
		}
		if !denied(out) {
			t.Errorf("matrix --port %s: no connection denied:\n%s", port, out)
		}
	}
	out, _ := podsec("netpol", "explain", "--from", "other", "--to", "database", "--port", "5432")
	if !strings.Contains(out, "postgres-netpolicy") {
		t.Errorf("explain other -> database: %s", out)
	}
	// Removing the policy opens the database again, for new connections.
	if out, err := podsec("delete", "networkpolicy", "postgres-netpolicy"); err != nil {
		t.Fatalf("delete: %v: %s", err, out)
	}
	if out, err := podsec("netpol", "matrix", "--port", "5432", "--probe"); err != nil || denied(out) {
		t.Fatalf("matrix after the policy is gone: %v\n%s", err, out)
	}
}

// denied reports whether a matrix's rows show a denied connection.
func denied(matrix string) bool {
	for _, line := range strings.Split(matrix, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[0] >= "0" && f[0] <= "9" {
			for _, c := range f[2:] {
				if c == "X" || strings.HasPrefix(c, "X") {
					return true
				}
			}
		}
	}
	return false
}
