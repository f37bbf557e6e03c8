package abuse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/test/harness"
)

// A disk emptyDir written past its sizeLimit evicts the pod with the
// kubelet's message, and the foreground run fails with it (before, the pod
// wrote 200 MB into a 10Mi emptyDir and exited 0).
func TestEmptyDirOverSizeLimitIsEvicted(t *testing.T) {
	n := harness.NewNode(t)
	start := time.Now()
	out, err := n.Run(`
apiVersion: v1
kind: Pod
metadata: {name: emptydir-hog}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - name: hog
    image: localhost/busybox:latest
    command: [sh, -c, "dd if=/dev/zero of=/data/f bs=1M count=30 2>/dev/null; echo wrote; sleep 45; echo survived"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    emptyDir: {sizeLimit: 10Mi}
`)
	if err == nil {
		t.Fatalf("podsec run exited 0 for a pod over its emptyDir sizeLimit:\n%s", out)
	}
	harness.ExpectLine(t, out, `Usage of EmptyDir volume "data" exceeds the limit "10Mi".`)
	harness.ExpectLine(t, out, "Evicted")
	harness.ExpectNoText(t, out, "survived")
	t.Logf("evicted after %v", time.Since(start).Round(time.Second))
}

// Writes into the container's root filesystem count against the pod's
// ephemeral-storage limit.
func TestRootWritesOverEphemeralStorageAreEvicted(t *testing.T) {
	n := harness.NewNode(t)
	out, err := n.Run(`
apiVersion: v1
kind: Pod
metadata: {name: rootfs-hog}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - name: hog
    image: localhost/busybox:latest
    command: [sh, -c, "dd if=/dev/zero of=/tmp/f bs=1M count=40 2>/dev/null; echo wrote; sleep 45; echo survived"]
    resources:
      limits: {ephemeral-storage: 20Mi}
`)
	if err == nil {
		t.Fatalf("podsec run exited 0 for a pod over its ephemeral-storage limit:\n%s", out)
	}
	harness.ExpectLine(t, out, "Pod ephemeral local storage usage exceeds the total limit of containers 20Mi.")
	harness.ExpectNoText(t, out, "survived")
}

// A detached pod whose one container outgrows its own limit (the pod's
// total is not reached) is evicted by its supervisor: no restart, phase
// Failed, reason Evicted in get pods, and a Warning event naming the
// container.
func TestContainerOverEphemeralStorageIsEvictedDetached(t *testing.T) {
	n := harness.NewNode(t)
	n.RunDetached(`
apiVersion: v1
kind: Pod
metadata: {name: ctr-hog}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Always
  containers:
  - name: hog
    image: localhost/busybox:latest
    command: [sh, -c, "dd if=/dev/zero of=/tmp/f bs=1M count=40 2>/dev/null; echo wrote; sleep 300"]
    resources:
      limits: {ephemeral-storage: 20Mi}
  - name: idle
    image: localhost/busybox:latest
    command: [sleep, "300"]
    resources:
      limits: {ephemeral-storage: 100Mi}
`)
	var st corev1.PodStatus
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		st = podStatus(t, n, "ctr-hog")
		if st.Phase == corev1.PodFailed {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if st.Phase != corev1.PodFailed || st.Reason != "Evicted" {
		t.Fatalf("status of a pod over a container's ephemeral-storage limit: phase %q, reason %q, want Failed, Evicted", st.Phase, st.Reason)
	}
	want := `Container hog exceeded its local ephemeral storage limit "20Mi".`
	if !strings.Contains(st.Message, want) {
		t.Errorf("status message %q, want %q", st.Message, want)
	}
	for _, c := range st.ContainerStatuses {
		if c.RestartCount != 0 {
			t.Errorf("container %s of an evicted pod restarted %d times", c.Name, c.RestartCount)
		}
	}
	out, _ := n.Podsec("get", "pods")
	harness.ExpectLine(t, out, "Evicted")
	out, _ = n.Podsec("describe", "pod", "ctr-hog")
	harness.ExpectLine(t, out, want)
}

// A Memory emptyDir without sizeLimit in a 64Mi pod is a tmpfs of 64Mi
// (it was half the node's RAM), the pod's cgroup has the 64Mi limit, and
// writing past it fails (no space, or the OOM killer).
func TestMemoryEmptyDirSizedByPodLimit(t *testing.T) {
	n := harness.NewNode(t)
	n.RunDetached(`
apiVersion: v1
kind: Pod
metadata: {name: tmpfs-hog}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - name: hog
    image: localhost/busybox:latest
    command: [sh, -c, "df -k /cache | tail -1; echo df-done; sleep 2; dd if=/dev/zero of=/cache/f bs=1M count=100; echo dd-exit=$?; sleep 300"]
    resources:
      limits: {memory: 64Mi}
    volumeMounts: [{name: cache, mountPath: /cache}]
  volumes:
  - name: cache
    emptyDir: {medium: Memory}
`)
	out := n.WaitLog("tmpfs-hog", "hog", "df-done", 20*time.Second)
	if f := dfLine(out); len(f) < 2 || f[1] != "65536" {
		t.Errorf("df of the Memory emptyDir in a 64Mi pod: %q, want 65536 1K-blocks\n%s", f, out)
	}
	if got := readCgroup(t, n, "memory", "tmpfs-hog", "memory.limit_in_bytes", "memory.max"); got != strconv.Itoa(64<<20) {
		t.Errorf("pod cgroup memory limit = %q, want %d", got, 64<<20)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, _ = n.Podsec("logs", "tmpfs-hog", "-c", "hog")
		st := podStatus(t, n, "tmpfs-hog")
		if strings.Contains(out, "dd-exit=") || st.Phase == corev1.PodFailed {
			if strings.Contains(out, "dd-exit=0") {
				t.Fatalf("100 MB written into the Memory emptyDir of a 64Mi pod:\n%s", out)
			}
			t.Logf("write past the limit ended: phase %s\n%s", st.Phase, out)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the write into the Memory emptyDir neither failed nor ended:\n%s", out)
}

// Three containers forking 150 processes each share the pod's
// --pod-pids-limit of 200 (before, each container had 4096 and the pod no
// limit: a 3-container pod held 12,285 PIDs).
func TestPodPidsLimitHoldsAcrossContainers(t *testing.T) {
	n := harness.NewNode(t)
	// The containers fork only once all three run: a container started
	// after the others took the pod's PIDs could not be created at all
	// (its runtime init is charged to the pod too).
	forker := func(name string) string {
		return `["sh", "-c", "touch /s/` + name + `; i=0; while [ $(ls /s | wc -l) -lt 3 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; ( i=0; while [ $i -lt 150 ]; do sleep 300 & i=$((i+1)); done ) 2>/dev/null; echo forked; exec sleep 300"]`
	}
	n.RunDetached(`
apiVersion: v1
kind: Pod
metadata: {name: forker}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  volumes: [{name: s, emptyDir: {}}]
  containers:
  - {name: a, image: "localhost/busybox:latest", command: `+forker("a")+`, volumeMounts: [{name: s, mountPath: /s}]}
  - {name: b, image: "localhost/busybox:latest", command: `+forker("b")+`, volumeMounts: [{name: s, mountPath: /s}]}
  - {name: c, image: "localhost/busybox:latest", command: `+forker("c")+`, volumeMounts: [{name: s, mountPath: /s}]}
`, "--pod-pids-limit", "200")
	// Each container's forks end (done or refused) within a few seconds.
	time.Sleep(5 * time.Second)
	cur, err := strconv.Atoi(readCgroup(t, n, "pids", "forker", "pids.current", "pids.current"))
	if err != nil {
		t.Fatal(err)
	}
	if max := readCgroup(t, n, "pids", "forker", "pids.max", "pids.max"); max != "200" {
		t.Errorf("pod cgroup pids.max = %q, want 200", max)
	}
	if cur > 200 {
		t.Fatalf("the pod holds %d processes, over its --pod-pids-limit of 200", cur)
	}
	if cur < 150 {
		t.Errorf("the pod holds only %d processes: the forks did not run", cur)
	}
	t.Logf("pod holds %d processes of the 453 its containers asked for", cur)
}

// A crash-looping container keeps the logs of its current and previous
// starts only (before, every start kept its own log of up to 50 MiB).
func TestCrashLoopKeepsTwoLogGenerations(t *testing.T) {
	n := harness.NewNode(t)
	n.RunDetached(`
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Always
  containers:
  - name: c
    image: localhost/busybox:latest
    command: [sh, -c, "echo started; sleep 0.2; exit 1"]
`, "--restart-backoff", "100ms")
	dir := filepath.Join(n.Root, "supervisor", "default", "crasher", "logs", "c")
	deadline := time.Now().Add(40 * time.Second)
	restarts := 0
	for time.Now().Before(deadline) && restarts < 5 {
		st := podStatus(t, n, "crasher")
		if len(st.ContainerStatuses) == 1 {
			restarts = int(st.ContainerStatuses[0].RestartCount)
		}
		if gens := logGenerations(t, dir); len(gens) > 2 {
			t.Fatalf("after %d restarts, the log directory holds %d generations: %v", restarts, len(gens), gens)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if restarts < 5 {
		t.Fatalf("the container restarted %d times within 40s, want 5", restarts)
	}
	if gens := logGenerations(t, dir); len(gens) > 2 {
		t.Fatalf("after %d restarts, the log directory holds %d generations: %v", restarts, len(gens), gens)
	}
	out, err := n.Podsec("logs", "crasher", "-c", "c", "--previous")
	if err != nil || !strings.Contains(out, "started") {
		t.Errorf("logs --previous after %d restarts: %v\n%s", restarts, err, out)
	}
}

// podStatus reads a detached pod's status as podsec get -o json gives it.
func podStatus(t *testing.T, n *harness.Node, name string) corev1.PodStatus {
	t.Helper()
	out, err := n.Podsec("get", "pod", name, "-o", "json")
	if err != nil {
		t.Fatalf("podsec get pod %s: %v\n%s", name, err, out)
	}
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(out), &pod); err != nil {
		t.Fatalf("podsec get pod %s -o json: %v\n%s", name, err, out)
	}
	return pod.Status
}

// logGenerations are the starts whose log files are in dir.
func logGenerations(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	seen := map[string]bool{}
	var gens []string
	for _, e := range ents {
		g, _, ok := strings.Cut(e.Name(), ".log")
		if ok && !seen[g] {
			seen[g] = true
			gens = append(gens, g)
		}
	}
	return gens
}

// dfLine is the fields of the last line of df output in a log.
func dfLine(out string) []string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "/cache") {
			return strings.Fields(l)
		}
	}
	return nil
}

// readCgroup reads a file of the pod's cgroup (namespace default) in a v1
// controller, or its v2 name in the unified hierarchy.
func readCgroup(t *testing.T, n *harness.Node, controller, pod, v1, v2 string) string {
	t.Helper()
	rel := filepath.Join(pipeline.CgroupParent(n.Root), "default_"+pod)
	p := filepath.Join("/sys/fs/cgroup", controller, rel, v1)
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		p = filepath.Join("/sys/fs/cgroup", rel, v2)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading the pod's cgroup: %v", err)
	}
	return strings.TrimSpace(string(b))
}
