package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/store"
)

// moduleRoot is the repository root, relative to this package.
const moduleRoot = "../.."

// TestEmbedAsExternalModule builds the example in a module of its own that
// requires podsec (replaced by this tree), as a program outside the
// repository would, and runs pods with it against a state root holding
// the test images: the pod's output and its ConfigMap arrive, the
// "localhost/" image is not pulled, admission (with the root's stored
// namespace labels) is part of Run, and nothing of the pods is left.
func TestEmbedAsExternalModule(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the embedding test runs pods: it needs root on CI")
		}
		t.Skip("the embedding test runs pods: it needs root")
	}
	mod, err := filepath.Abs(moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := buildExternal(t, mod, filepath.Join(tmp, "consumer"))
	// Not a TempDir: it is removed only when no mount is left below it.
	root, err := os.MkdirTemp("", "podsec-embed-")
	if err != nil {
		t.Fatal(err)
	}
	mk := filepath.Join(tmp, "mktestimages")
	goBuild(t, mod, nil, "-o", mk, "./image/internal/mktestimages")
	if out, err := exec.Command(mk, "--root", root).CombinedOutput(); err != nil {
		t.Fatalf("loading test images: %v\n%s", err, out)
	}
	t.Cleanup(func() { assertClean(t, root) })

	// A ":latest" image of the node's own registry: Always (the API
	// server's default) must not ask https://localhost/ for it.
	ok := write(t, tmp, "ok.yaml", `apiVersion: v1
kind: Pod
metadata: {name: embedded}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'echo hello from uid $(id -u); cat /etc/cfg/greeting']
    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
  volumes: [{name: cfg, configMap: {name: greet}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: greet}
data: {greeting: greetings from a configmap}
`)
	out, err := exec.Command(bin, "--root", root, "-f", ok).CombinedOutput()
	if err != nil {
		t.Fatalf("embed -f ok.yaml: %v\n%s", err, out)
	}
	for _, want := range []string{"[main] hello from uid 0", "[main] greetings from a configmap", "container main exited with code 0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("embed -f ok.yaml: no %q in\n%s", want, out)
		}
	}
	if audit, err := os.ReadFile(filepath.Join(root, "audit.log")); err != nil || !strings.Contains(string(audit), `"pod":"embedded","allowed":true`) {
		t.Errorf("audit.log after embed -f ok.yaml: %v\n%s", err, audit)
	}

	// The same pod as root in a namespace that enforces the restricted
	// standard: refused by admission, before anything runs.
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: "locked", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	if _, _, err := st.Apply(ns); err != nil {
		t.Fatal(err)
	}
	refused := write(t, tmp, "refused.yaml", `apiVersion: v1
kind: Pod
metadata: {name: embedded, namespace: locked}
spec:
  restartPolicy: Never
  containers: [{name: main, image: localhost/busybox:latest, command: [sh, -c, 'echo ran']}]
`)
	out, err = exec.Command(bin, "--root", root, "-f", refused).CombinedOutput()
	if err == nil || strings.Contains(string(out), "[main] ran") || !strings.Contains(string(out), `violates PodSecurity "restricted:latest"`) {
		t.Errorf("embed -f refused.yaml: %v, want a refusal by the restricted standard\n%s", err, out)
	}
}

// buildExternal writes a module of its own at dir holding the example's
// main.go, requiring podsec replaced by mod, and builds it.
func buildExternal(t *testing.T, mod, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/embedder\n\ngo 1.26.0\n\nrequire github.com/podsec/podsec v0.0.0-00010101000000-000000000000\n\nreplace github.com/podsec/podsec => " + mod + "\n"
	for name, data := range map[string][]byte{"main.go": src, "go.sum": sum, "go.mod": []byte(gomod)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "embed")
	// -mod=mod completes the consumer's requirements from podsec's go.mod
	// and go.sum, from the module cache.
	goBuild(t, dir, []string{"GOFLAGS=-mod=mod", "GOWORK=off"}, "-o", bin, ".")
	return bin
}

func goBuild(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"build", "-tags", "seccomp"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertClean checks that no pod left mounts or state below root, and
// removes root when no mount is left.
func assertClean(t *testing.T, root string) {
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), root+"/") {
		t.Errorf("mounts left below %s", root)
		return // never remove through a mount
	}
	for _, d := range []string{"pods/default", "pods/locked", "libcontainer"} {
		if ents, _ := os.ReadDir(filepath.Join(root, d)); len(ents) > 0 {
			t.Errorf("%s left after the pods ended: %v", d, ents)
		}
	}
	os.RemoveAll(root)
}
