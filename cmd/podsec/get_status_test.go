package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGetPodsHostPortRejected: a pod refused because its hostPort is held
// is listed as kubectl lists a pod the kubelet rejected for it: STATUS
// NodePorts, phase Failed, the message naming the holder.
func TestGetPodsHostPortRejected(t *testing.T) {
	n := newNode(t)
	podsec := func(args ...string) (string, error) {
		full := append([]string{"--root", n.root, "--cni-conf-dir", filepath.Join(n.root, "net.d")}, args...)
		out, err := exec.Command(n.bin, full...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { podsec("delete", "pod", "--all") })
	pod := func(name string) string {
		f := filepath.Join(n.root, name+".yaml")
		os.WriteFile(f, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: "+name+"}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: localhost/busybox:latest\n    command: [httpd, -f, -p, '80']\n    ports: [{containerPort: 80, hostPort: 9470}]\n"), 0o600)
		return f
	}
	if out, err := podsec("run", "-d", "-f", pod("hp-a")); err != nil {
		t.Fatalf("run -d hp-a: %v: %s", err, out)
	}
	out, err := podsec("run", "-d", "-f", pod("hp-b"))
	if err == nil || !strings.Contains(out, "hostPort 9470/TCP is already held by pod default/hp-a") {
		t.Fatalf("run -d hp-b on a held hostPort: %v: %s", err, out)
	}
	out, _ = podsec("get", "pods")
	var row []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "hp-b" {
			row = f
		}
	}
	if len(row) < 3 || row[1] != "0/1" || row[2] != "NodePorts" {
		t.Errorf("get pods: hp-b's row is %q, want READY 0/1 STATUS NodePorts:\n%s", row, out)
	}
	p := n.pod("hp-b")
	if p.Status.Phase != "Failed" || p.Status.Reason != "NodePorts" || !strings.Contains(p.Status.Message, "Pod was rejected: ") || !strings.Contains(p.Status.Message, "default/hp-a") {
		t.Errorf("hp-b's status: phase %s reason %s message %q", p.Status.Phase, p.Status.Reason, p.Status.Message)
	}
}

// TestDeleteMixedFile: delete -f of a manifest with a pod, its ConfigMap
// and a NetworkPolicy deletes the pod and the stored policy, as kubectl
// delete -f deletes every object of the file.
func TestDeleteMixedFile(t *testing.T) {
	n := newNode(t)
	podDoc := `apiVersion: v1
kind: Pod
metadata: {name: mixed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sleep, "600"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes: [{name: cfg, configMap: {name: cfg}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {x: "1"}
`
	npDoc := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: mixed-deny}
spec: {podSelector: {}}
`
	write := func(name, body string) string {
		f := filepath.Join(n.root, name)
		os.WriteFile(f, []byte(body), 0o600)
		return f
	}
	n.must("run", "-d", "-f", write("pod.yaml", podDoc))
	n.must("apply", "-f", write("np.yaml", npDoc))
	out := n.must("delete", "-f", write("all.yaml", podDoc+"---\n"+npDoc))
	for _, want := range []string{`pod "mixed" deleted`, `networkpolicy.networking.k8s.io "mixed-deny" deleted`} {
		if !strings.Contains(out, want) {
			t.Errorf("delete -f: %q missing from:\n%s", want, out)
		}
	}
	if out, _ := n.podsec("get", "pods"); strings.Contains(out, "mixed") {
		t.Errorf("the pod is still listed:\n%s", out)
	}
	if out, _ := n.podsec("get", "networkpolicies"); strings.Contains(out, "mixed-deny") {
		t.Errorf("the policy is still stored:\n%s", out)
	}
}
