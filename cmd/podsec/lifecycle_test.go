package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
)

// The lifecycle tests drive the real binary: a detached pod's supervisor
// is podsec re-executed, which the test binary cannot stand in for.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func podsecBinary(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("lifecycle tests need root on CI")
		}
		t.Skip("lifecycle tests need root")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "podsec-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "podsec")
		out, err := exec.Command("go", "build", "-tags", "seccomp", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v: %s", err, out)
			return
		}
		// Its detached pods' monitor, next to it as make build puts it.
		mon := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "podsec-monitor"), "../podsec-monitor")
		mon.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := mon.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build podsec-monitor: %v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// testNode is a podsec state root with the test images, driven through the
// binary.
type testNode struct {
	t    *testing.T
	bin  string
	root string
	env  []string
}

func newNode(t *testing.T) *testNode {
	t.Helper()
	n := &testNode{t: t, bin: podsecBinary(t)}
	root, err := os.MkdirTemp("", "podsec-node-")
	if err != nil {
		t.Fatal(err)
	}
	n.root = root
	// The test images, as make images builds them.
	mk := exec.Command("go", "run", "-tags", "seccomp", "./image/internal/mktestimages", "--root", root)
	mk.Dir = "../.."
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("building test images: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		c := n.with(t)
		c.env = nil
		c.podsec("delete", "pod", "--all")
		out, _ := c.podsec("gc")
		c.assertClean(out)
		// Never through a mount left behind.
		if mi, _ := os.ReadFile("/proc/self/mountinfo"); !strings.Contains(string(mi), root+"/") {
			os.RemoveAll(root)
		}
	})
	return n
}

// with is the node as seen from another (sub)test.
func (n *testNode) with(t *testing.T) *testNode {
	c := *n
	c.t = t
	return &c
}

// podsec runs the binary with the node's root; pods get no pod network
// unless the arguments say otherwise, and restarts back off 300 ms.
func (n *testNode) podsec(args ...string) (string, error) {
	// The CNI configuration stays in the node's root: none is written to
	// the machine's /etc/cni/net.d.
	full := append([]string{"--root", n.root, "--cni-conf-dir", filepath.Join(n.root, "net.d"), "--restart-backoff", "300ms"}, args...)
	if args[0] == "run" {
		full = append(full, "--network", "none")
	}
	cmd := exec.Command(n.bin, full...)
	cmd.Env = append(os.Environ(), n.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (n *testNode) must(args ...string) string {
	n.t.Helper()
	out, err := n.podsec(args...)
	if err != nil {
		n.t.Fatalf("podsec %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runD starts a detached pod from a manifest.
func (n *testNode) runD(manifest string) (string, error) {
	f := filepath.Join(n.root, fmt.Sprintf("pod-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		n.t.Fatal(err)
	}
	return n.podsec("run", "-d", "-f", f)
}

// pod reads a pod as `podsec get pod -o json` prints it.
func (n *testNode) pod(name string) corev1.Pod {
	n.t.Helper()
	var p corev1.Pod
	out := n.must("get", "pod", name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		n.t.Fatalf("get pod -o json: %v\n%s", err, out)
	}
	return p
}

// eventually polls cond for at most 20 s.
func (n *testNode) eventually(what string, cond func() bool) {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.t.Fatalf("%s: not within 20 s", what)
}

// assertClean checks that nothing of any pod is left on the node.
func (n *testNode) assertClean(gcOut string) {
	n.t.Helper()
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), n.root+"/") {
		n.t.Errorf("mounts left below %s (gc said %q)", n.root, gcOut)
	}
	for _, d := range []string{"pods/default", "libcontainer"} {
		if ents, _ := os.ReadDir(filepath.Join(n.root, d)); len(ents) > 0 {
			n.t.Errorf("%s left: %v", d, ents)
		}
	}
	if left, _ := filepath.Glob("/sys/fs/cgroup/*" + pipeline.CgroupParent(n.root) + "/default_lc-*"); len(left) > 0 {
		n.t.Errorf("cgroups left: %v", left)
	}
}

func status(p corev1.Pod, name string) corev1.ContainerStatus {
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == name {
			return s
		}
	}
	return corev1.ContainerStatus{}
}

func TestDetachedPod(t *testing.T) {
	n := newNode(t)
	out, err := n.runD(`
apiVersion: v1
kind: Pod
metadata: {name: lc-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo started; grep -E '^(Cap(Prm|Eff|Bnd)|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status; exec sleep 600"]
    securityContext: {runAsUser: 405, allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}
  - name: crasher
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo attempt; exit 3"]
`)
	if err != nil || !strings.Contains(out, "pod/lc-web created") {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	// A duplicate name is refused.
	if out, err := n.runD("apiVersion: v1\nkind: Pod\nmetadata: {name: lc-web}\nspec: {containers: [{name: c, image: localhost/busybox:latest, command: [\"true\"]}]}\n"); err == nil || !strings.Contains(out, `pods "lc-web" already exists`) {
		t.Errorf("second run -d of lc-web: %v: %s", err, out)
	}
	// Restarts with back-off, seen as CrashLoopBackOff between them.
	sawBackOff := false
	n.eventually("crasher restarted twice", func() bool {
		p := n.pod("lc-web")
		s := status(p, "crasher")
		if s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff" {
			sawBackOff = true
		}
		return s.RestartCount >= 2 && p.Status.Phase == corev1.PodRunning
	})
	if !sawBackOff {
		out := n.must("get", "pods")
		if !strings.Contains(out, "CrashLoopBackOff") && !strings.Contains(n.must("describe", "pod", "lc-web"), "BackOff") {
			t.Errorf("no back-off seen: %s", out)
		}
	}
	table := n.must("get", "pods")
	if !strings.Contains(table, "lc-web") || !strings.Contains(table, "1/2") {
		t.Errorf("get pods:\n%s", table)
	}
	// Logs, of this start and of the previous one.
	if out := n.must("logs", "lc-web"); !strings.Contains(out, "started") {
		t.Errorf("logs lc-web: %q", out)
	}
	if out := n.must("logs", "lc-web", "-c", "crasher", "--previous", "--timestamps"); !strings.Contains(out, "Z attempt") {
		t.Errorf("logs --previous --timestamps: %q", out)
	}
	// exec runs as the container's process does: compare the masks.
	logged := n.must("logs", "lc-web")
	execd := n.must("exec", "lc-web", "-c", "main", "--", "grep", "-E", "^(Cap(Prm|Eff|Bnd)|NoNewPrivs|Seccomp|Seccomp_filters):", "/proc/self/status")
	for _, line := range strings.Split(strings.TrimSpace(execd), "\n") {
		if !strings.Contains(logged, line) {
			t.Errorf("exec's %q differs from the container's own:\n%s", line, logged)
		}
	}
	if id := n.must("exec", "lc-web", "--", "id"); !strings.HasPrefix(id, "uid=405(guest)") {
		t.Errorf("exec id: %q", id)
	}
	if out := n.must("exec", "-t", "lc-web", "--", "sh", "-c", "test -t 0 && test -t 1 && echo on-a-terminal"); !strings.Contains(out, "on-a-terminal") {
		t.Errorf("exec -t: %q", out)
	}
	if out, err := n.podsec("exec", "lc-web", "--", "sh", "-c", "exit 7"); err == nil {
		t.Errorf("exec exit 7: no error: %s", out)
	}
	// describe shows states and events.
	if d := n.must("describe", "pod", "lc-web"); !strings.Contains(d, "Restart Count:") || !strings.Contains(d, "BackOff") {
		t.Errorf("describe pod:\n%s", d)
	}
	if out := n.must("delete", "pod", "lc-web"); !strings.Contains(out, `pod "lc-web" deleted`) {
		t.Errorf("delete pod: %q", out)
	}
}

func TestPhasesAndReasons(t *testing.T) {
	n := newNode(t)
	for _, tc := range []struct {
		name, manifest, status string
		phase                  corev1.PodPhase
	}{
		{"lc-done", "apiVersion: v1\nkind: Pod\nmetadata: {name: lc-done}\nspec: {restartPolicy: Never, containers: [{name: c, image: localhost/busybox:latest, command: [\"true\"]}]}\n", "Completed", corev1.PodSucceeded},
		{"lc-fail", "apiVersion: v1\nkind: Pod\nmetadata: {name: lc-fail}\nspec: {restartPolicy: Never, containers: [{name: c, image: localhost/busybox:latest, command: [sh, -c, exit 4]}]}\n", "Error", corev1.PodFailed},
		{"lc-oom", `
apiVersion: v1
kind: Pod
metadata: {name: lc-oom}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: localhost/busybox:latest
    command: ["sh", "-c", "head -c 200m /dev/zero | tail"]
    resources: {limits: {memory: 16Mi}}
`, "OOMKilled", corev1.PodFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := n.with(t)
			if out, err := n.runD(tc.manifest); err != nil {
				t.Fatalf("run -d: %v: %s", err, out)
			}
			n.eventually("the pod ends", func() bool { return n.pod(tc.name).Status.Phase == tc.phase })
			if out := n.must("get", "pods", tc.name); !strings.Contains(out, tc.status) {
				t.Errorf("get pods %s: want STATUS %s:\n%s", tc.name, tc.status, out)
			}
		})
	}
}

func TestLivenessProbeRestarts(t *testing.T) {
	n := newNode(t)
	if out, err := n.runD(`
apiVersion: v1
kind: Pod
metadata: {name: lc-live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 600"]
    livenessProbe:
      exec: {command: ["test", "-f", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1
`); err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	n.eventually("a liveness failure restarts the container", func() bool { return status(n.pod("lc-live"), "main").RestartCount >= 1 })
	if d := n.must("describe", "pod", "lc-live"); !strings.Contains(d, "Liveness probe failed") || !strings.Contains(d, "will be restarted") {
		t.Errorf("describe pod lc-live: no liveness events:\n%s", d)
	}
}

// TestCrashRecovery kills podsec with SIGKILL at each step of starting and
// stopping a pod; the next command must report the pod as it is, and gc
// must leave nothing.
func TestCrashRecovery(t *testing.T) {
	n := newNode(t)
	manifest := `
apiVersion: v1
kind: Pod
metadata: {name: lc-crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sleep", "600"]
    volumeMounts: [{name: v, mountPath: /v}]
  volumes: [{name: v, emptyDir: {medium: Memory}}]
`
	for _, step := range []string{runtime.StepSandbox, runtime.StepVolumes, runtime.StepRootfs, runtime.StepCreated, runtime.StepStarted, runtime.StepStopping, runtime.StepCleanedUp} {
		t.Run(step, func(t *testing.T) {
			n := n.with(t)
			n.env = []string{runtime.FailpointEnv + "=" + step}
			out, err := n.runD(manifest)
			start := step != runtime.StepStopping && step != runtime.StepCleanedUp
			if start && err == nil {
				t.Fatalf("run -d with the supervisor killed at %s: no error: %s", step, out)
			}
			if !start {
				if err != nil {
					t.Fatalf("run -d: %v: %s", err, out)
				}
				n.must("stop", "lc-crash")
			}
			n.env = nil
			// Killed after its containers ended, the pod is what it was:
			// stopped. Killed before, its end is not known.
			want, wantAfter := "Unknown", "SupervisorLost"
			if step == runtime.StepCleanedUp {
				want, wantAfter = "Error", "Error"
			}
			if out := n.must("get", "pods"); !strings.Contains(out, want) {
				t.Errorf("get pods after the supervisor died at %s: want %s:\n%s", step, want, out)
			}
			gc := n.must("gc")
			n.assertClean(gc)
			if out := n.must("get", "pods"); !strings.Contains(out, wantAfter) {
				t.Errorf("get pods after gc: want %s:\n%s", wantAfter, out)
			}
			n.must("delete", "pod", "lc-crash")
		})
	}
	// The foreground run, killed while its container runs.
	t.Run("foreground", func(t *testing.T) {
		n := n.with(t)
		n.env = []string{runtime.FailpointEnv + "=" + runtime.StepStarted}
		f := filepath.Join(n.root, "fg.yaml")
		os.WriteFile(f, []byte(manifest), 0o600)
		if out, err := n.podsec("run", "-f", f); err == nil {
			t.Fatalf("run killed at started: no error: %s", out)
		}
		n.env = nil
		n.assertClean(n.must("gc"))
	})
}

func TestFiftyPodsInParallel(t *testing.T) {
	n := newNode(t)
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := n.runD(fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: lc-p%02d}\nspec: {terminationGracePeriodSeconds: 1, containers: [{name: c, image: localhost/busybox:latest, command: [sleep, '600']}]}\n", i))
			if err != nil {
				errs <- out
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("run -d: %s", e)
	}
	out := n.must("get", "pods")
	if c := strings.Count(out, "Running"); c != 50 {
		t.Errorf("get pods: %d Running, want 50:\n%s", c, out)
	}
	n.must("delete", "pod", "--all")
	n.assertClean(n.must("gc"))
}

// TestSandboxLostBeforeExec: the first container's init starts while the
// sandbox finishes its set-up; a sandbox that fails it (a failpoint)
// fails the pod, the container's process is never executed, and the pod
// leaves nothing behind.
func TestSandboxLostBeforeExec(t *testing.T) {
	n := newNode(t)
	dir := t.TempDir()
	f := filepath.Join(n.root, "lost.yaml")
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: lc-lost}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: localhost/busybox:latest, command: [sh, -c, "touch /h/ran"], volumeMounts: [{name: h, mountPath: /h}]}
  volumes: [{name: h, hostPath: {path: %s, type: Directory}}]
`, dir)
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	n.env = []string{runtime.FailpointEnv + "=" + runtime.StepSandboxLost}
	out, err := n.podsec("run", "-f", f)
	n.env = nil
	if err == nil || !strings.Contains(out, "starting pod sandbox: usage") {
		t.Fatalf("run with the sandbox killed: %v, want the sandbox's end named:\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Errorf("the container's process ran without its sandbox")
	}
	n.assertClean(n.must("gc"))
	// The same pod, its sandbox left alone, runs.
	n.must("run", "-f", f)
	if _, err := os.Stat(filepath.Join(dir, "ran")); err != nil {
		t.Errorf("the pod's process did not run: %v", err)
	}
}

// TestSysctlValueRefused: a sysctl value the kernel refuses (Kubernetes
// validates only the name) fails the pod with the field's path, and
// leaves nothing behind.
func TestSysctlValueRefused(t *testing.T) {
	n := newNode(t)
	f := filepath.Join(n.root, "sysctl.yaml")
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: lc-sysctl}
spec:
  restartPolicy: Never
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "99999999"}]
  containers:
  - {name: main, image: localhost/busybox:latest, command: ["true"]}
`
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := n.podsec("run", "-f", f)
	want := `spec.securityContext.sysctls[0].value: Invalid value: "99999999": the node's kernel refused it: invalid argument`
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("run: %v, want %q:\n%s", err, want, out)
	}
	n.assertClean(n.must("gc"))
}
