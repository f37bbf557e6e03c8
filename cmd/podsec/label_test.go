package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLabelPodNetworkPolicy relabels running pods and a namespace in place
// and proves, with connections tried from inside the pods (matrix
// --probe), that the NetworkPolicy dataplane follows at once.
func TestLabelPodNetworkPolicy(t *testing.T) {
	n := newNode(t)
	cni := []string{"--cni-conf-dir", filepath.Join(n.root, "net.d")}
	podsec := func(args ...string) (string, error) {
		out, err := exec.Command(n.bin, append(append([]string{"--root", n.root}, cni...), args...)...).CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := podsec(args...)
		if err != nil {
			t.Fatalf("podsec %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	t.Cleanup(func() { podsec("delete", "pod", "--all") })
	pod := func(name, labels, script string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", labels: {" + labels + "}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: localhost/busybox:latest\n    command: [sh, -c, '" + script + "']\n"
	}
	write := func(name, body string) string {
		f := filepath.Join(n.root, name)
		os.WriteFile(f, []byte(body), 0o600)
		return f
	}
	must("run", "-d", "-f", write("db.yaml", pod("db", "app: db", "exec httpd -f -p 5432 -h /")))
	must("run", "-d", "-f", write("web.yaml", pod("web", "tier: web", "exec httpd -f -p 80 -h /")))
	// One pod in the foreground: relabelled as it runs, as a detached one.
	fg := exec.Command(n.bin, append(append([]string{"--root", n.root}, cni...), "run", "-f", write("fg.yaml", pod("fg", "tier: fg", "exec httpd -f -p 80 -h /")))...)
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fg.Process.Signal(os.Interrupt); fg.Wait() })
	n.eventually("the foreground pod in get pods", func() bool {
		out, _ := podsec("get", "pods")
		return strings.Contains(out, "fg ") && strings.Contains(out, "1/1")
	})
	must("apply", "-f", write("np.yaml", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {tier: web}}}]
    ports: [{port: 5432}]
`))
	verdict := func(from string) string {
		t.Helper()
		out := must("netpol", "explain", "--from", from, "--to", "db", "--port", "5432")
		return strings.Fields(out)[0]
	}
	probe := func(when string) {
		t.Helper()
		if out, err := podsec("netpol", "matrix", "--port", "5432", "--probe"); err != nil {
			t.Fatalf("%s: the kernel disagrees with the policies: %v\n%s", when, err, out)
		}
	}
	if v := verdict("web"); v != "ALLOWED" {
		t.Fatalf("web -> db before relabelling: %s", v)
	}
	if v := verdict("fg"); v != "DENIED" {
		t.Fatalf("fg -> db before relabelling: %s", v)
	}
	probe("before relabelling")

	// kubectl's rules: another value needs --overwrite; nothing changes.
	if out, err := podsec("label", "pod", "fg", "tier=web"); err == nil || !strings.Contains(out, "'tier' already has a value (fg), and --overwrite is false") {
		t.Fatalf("label without --overwrite: %v: %s", err, out)
	}
	if out, err := podsec("label", "pod", "fg", "tier=no way"); err == nil || !strings.Contains(out, `metadata.labels: Invalid value: "no way"`) {
		t.Fatalf("label with an invalid value: %v: %s", err, out)
	}
	if out := must("label", "pod", "fg", "tier=web", "--overwrite"); out != "pod/fg labeled\n" {
		t.Fatalf("label --overwrite: %q", out)
	}
	if out := must("label", "pod", "web", "tier-"); out != "pod/web unlabeled\n" {
		t.Fatalf("label tier-: %q", out)
	}
	if v := verdict("fg"); v != "ALLOWED" {
		t.Errorf("fg -> db after tier=web: %s", v)
	}
	if v := verdict("web"); v != "DENIED" {
		t.Errorf("web -> db after losing tier: %s", v)
	}
	probe("after relabelling the pods")
	if out := must("get", "pod", "web", "-o", "json"); strings.Contains(out, `"tier"`) {
		t.Errorf("get pod web still shows the removed label:\n%s", out)
	}

	// A namespace's labels: a policy that admits the pods of namespaces
	// labelled team=a, and the default namespace labelled in place.
	must("apply", "-f", write("np2.yaml", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-team-a}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: a}}}]
    ports: [{port: 5432}]
`))
	if v := verdict("web"); v != "DENIED" {
		t.Errorf("web -> db before the namespace is labelled: %s", v)
	}
	if out := must("label", "ns", "default", "team=a"); out != "namespace/default labeled\n" {
		t.Fatalf("label ns: %q", out)
	}
	if v := verdict("web"); v != "ALLOWED" {
		t.Errorf("web -> db after team=a on its namespace: %s", v)
	}
	probe("after labelling the namespace")
	must("annotate", "pod", "db", "owner=shop")
	if out := must("get", "pod", "db", "-o", "json"); !strings.Contains(out, `"owner": "shop"`) {
		t.Errorf("annotation not shown:\n%s", out)
	}
}
