package attack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/test/harness"
)

// userNSRanges reads the node's range records (<root>/userns/*.json):
// the first host ID of each range, by pod name.
func userNSRanges(t *testing.T, root string) map[string]uint32 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "userns", "*.json"))
	out := map[string]uint32{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			Name   string `json:"name"`
			HostID uint32 `json:"hostID"`
			Size   uint32 `json:"size"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rec.Size != 65536 || rec.HostID%65536 != 0 || rec.HostID < 65536 {
			t.Fatalf("%s: range %d+%d: want a multiple of 65536 above the node's first 65536, 65536 long", f, rec.HostID, rec.Size)
		}
		out[rec.Name] = rec.HostID
	}
	return out
}

// waitOwnersGone waits until the podsec processes named by the node's
// range records have exited.
func waitOwnersGone(t *testing.T, root string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "userns", "*.json"))
	deadline := time.Now().Add(10 * time.Second)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var rec struct {
			Owner runtime.Owner `json:"owner"`
		}
		if json.Unmarshal(b, &rec) != nil {
			continue
		}
		for rec.Owner.Alive() {
			if time.Now().After(deadline) {
				t.Fatalf("podsec %d still runs 10s after it was killed", rec.Owner.PID)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// procByMarker finds the node's PID of the process whose command line
// holds marker, waiting for it a few seconds.
func procByMarker(t *testing.T, marker string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if strings.Contains(string(b), marker) && !strings.Contains(string(b), "podsec") {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no process with %q in its command line", marker)
	return 0
}

// statusIDs reads a process's Uid, Gid and Groups lines as the node sees them.
func statusIDs(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"Uid", "Gid", "Groups"} {
			if v, ok := strings.CutPrefix(l, k+":"); ok {
				out[k] = strings.Join(strings.Fields(v), " ")
			}
		}
	}
	return out
}

// ownerUserNS is the inode of the user namespace that owns the namespace
// at path (NS_GET_USERNS).
func ownerUserNS(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_USERNS)
	if err != nil {
		t.Fatalf("NS_GET_USERNS %s: %v", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// squeeze gives each line of out its fields separated by one space.
func squeeze(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	return b.String()
}

// countLines counts the lines of out that are line.
func countLines(out, line string) int {
	c := 0
	for _, l := range strings.Split(out, "\n") {
		if l == line {
			c++
		}
	}
	return c
}

func ownerOf(t *testing.T, p string) (uint32, uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

// TestUserNSIdentity runs the seed chapter's identities (runAsUser 405,
// fsGroup 555 with supplementalGroups) in a pod with hostUsers: false and
// checks, inside and from the node, that the pod's IDs are its own range:
// the uid_map, the IDs of the container's process on the node, and the
// owners of what it writes: on its rootfs the node sees range IDs; through
// the idmapped emptyDir, Memory emptyDir, subPath and hostPath volumes the
// files keep the pod's container IDs on disk, as the kubelet's idmapped
// volumes do, and read-only volumes podsec writes as the node's root show
// root and the fsGroup inside.
func TestUserNSIdentity(t *testing.T) {
	n := harness.NewNode(t)
	host, err := os.MkdirTemp("", "podsec-userns-host-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(host) })
	if err := os.Chmod(host, 0o777); err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("7%08d", os.Getpid())
	n.RunDetached(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: userns-id, labels: {app: userns}}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 405
    runAsGroup: 100
    fsGroup: 555
    supplementalGroups: [666, 777]
  initContainers:
  - name: init
    image: localhost/busybox:latest
    command: [sh, -c, "mkdir /scratch/sub && chmod a+w /scratch/sub"]
    securityContext: {runAsUser: 0}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'cat /proc/self/uid_map /proc/self/gid_map; id; for d in /scratch /mem /sub /host; do echo w > $d/by-pod || echo "cannot write $d"; done; echo w > /tmp/rootfile; ls -ln /labels/labels /scratch /host/by-pod; ls -lnL /secret/key; cat /secret/key; echo; echo ready; exec sleep %[2]s']
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: scratch, mountPath: /sub, subPath: sub}
    - {name: mem, mountPath: /mem}
    - {name: host, mountPath: /host}
    - {name: labels, mountPath: /labels}
    - {name: secret, mountPath: /secret}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: host, hostPath: {path: %[1]q, type: Directory}}
  - name: labels
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
  - {name: secret, secret: {secretName: userns-secret, defaultMode: 0400}}
---
apiVersion: v1
kind: Secret
metadata: {name: userns-secret}
stringData: {key: secret-for-the-pod-only}
`, host, marker))
	out := n.WaitLog("userns-id", "main", "ready", 20*time.Second)
	ranges := userNSRanges(t, n.Root)
	base, ok := ranges["userns-id"]
	if !ok {
		t.Fatalf("no range recorded for the pod: %v", ranges)
	}
	harness.ExpectNoText(t, out, "cannot write")
	if c := countLines(squeeze(out), fmt.Sprintf("0 %d 65536", base)); c != 2 {
		t.Errorf("uid_map and gid_map: %d lines \"0 %d 65536\", want 2:\n%s", c, base, out)
	}
	// id inside: the seed's answer, as with the node's users.
	harness.ExpectLine(t, out, "uid=405(guest) gid=100(users) groups=100(users),555,666,777")
	// ls -ln inside: root and the fsGroup on the downwardAPI file, the
	// pod's own IDs on what it wrote.
	harness.ExpectLine(t, squeeze(out), "1 0 555")
	harness.ExpectLine(t, squeeze(out), "1 405 555")
	// The secret, 0400 with fsGroup's read bit, as the node's root wrote
	// it: root's and the fsGroup's inside, readable by the pod's user 405.
	harness.ExpectLine(t, squeeze(out), "-r--r----- 1 0 555")
	harness.ExpectLine(t, out, "secret-for-the-pod-only")
	pid := procByMarker(t, marker)
	ids := statusIDs(t, pid)
	u, g := base+405, base+100
	if want := fmt.Sprintf("%d %d %d %d", u, u, u, u); ids["Uid"] != want {
		t.Errorf("container process on the node: Uid %q, want %q", ids["Uid"], want)
	}
	if want := fmt.Sprintf("%d %d %d %d", g, g, g, g); ids["Gid"] != want {
		t.Errorf("container process on the node: Gid %q, want %q", ids["Gid"], want)
	}
	if want := fmt.Sprintf("%d %d %d %d", base+100, base+555, base+666, base+777); ids["Groups"] != want {
		t.Errorf("container process on the node: Groups %q, want %q", ids["Groups"], want)
	}
	pod := filepath.Join(n.Root, "pods", "default", "userns-id")
	// The sandbox's network, IPC and UTS namespaces belong to the pod's
	// user namespace (root of the pod is root over them, not the node).
	var userns syscall.Stat_t
	if err := syscall.Stat(filepath.Join(pod, "ns", "user"), &userns); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"net", "ipc", "uts"} {
		if ino := ownerUserNS(t, filepath.Join(pod, "ns", kind)); ino != userns.Ino {
			t.Errorf("the pod's %s namespace belongs to user namespace %d, not the pod's (%d)", kind, ino, userns.Ino)
		}
	}
	for _, c := range []struct {
		path     string
		uid, gid uint32
	}{
		// The rootfs is the pod's: the node sees its range.
		{filepath.Join(pod, "containers", "main", "upper", "tmp", "rootfile"), base + 405, base + 100},
		// Idmapped volumes: the pod's IDs, on disk as inside.
		{filepath.Join(pod, "volumes", "scratch", "by-pod"), 405, 555},
		{filepath.Join(pod, "volumes", "scratch", "sub", "by-pod"), 405, 555},
		{filepath.Join(pod, "volumes", "mem", "by-pod"), 405, 555},
		{filepath.Join(host, "by-pod"), 405, 100},
	} {
		if uid, gid := ownerOf(t, c.path); uid != c.uid || gid != c.gid {
			t.Errorf("%s is %d:%d on the node, want %d:%d", c.path, uid, gid, c.uid, c.gid)
		}
	}
	n.MustPodsec("delete", "pod", "userns-id")
	if r := userNSRanges(t, n.Root); len(r) != 0 {
		t.Errorf("ranges left after the pod was deleted: %v", r)
	}
}

// TestUserNSNodePowers: root in a pod with hostUsers: false, with the
// capabilities and the unconfined seccomp and unmasked /proc that would
// let the node's root through, still cannot make a device node, chown to
// an ID outside its range, load a module or write a kernel sysctl of the
// node. The same attack in a pod of the node's users gets through the
// node's powers (the control: each check can fail).
func TestUserNSNodePowers(t *testing.T) {
	n := harness.NewNode(t)
	pod := func(name, hostUsers, procMount string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostUsers: %s
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'echo "proc submounts: $(grep -c " /proc/" /proc/self/mountinfo)"; /attacker/attacker nodepowers']
    securityContext:
      runAsUser: 0
      procMount: %s
      seccompProfile: {type: Unconfined}
      capabilities: {add: [SYS_ADMIN, SYS_MODULE, SYS_PACCT, MKNOD, CHOWN, DAC_OVERRIDE]}%s%s
`, name, hostUsers, procMount, harness.AttackerMount, harness.AttackerVolume)
	}
	out, err := n.Run(pod("userns-powers", "false", "Unmasked"))
	for _, what := range []string{"mknod c 1:3", "chown 70000:70000", "acct", "write /proc/sys/kernel/core_pattern"} {
		harness.ExpectLine(t, out, "denied "+what)
	}
	if !strings.Contains(out, "n/a init_module") {
		harness.ExpectLine(t, out, "denied init_module")
	}
	if err != nil {
		t.Fatalf("podsec run: %v\n%s", err, out)
	}
	harness.ExpectLine(t, out, "[main] OK nodepowers")
	// procMount: Unmasked: nothing masks or covers a path of /proc.
	harness.ExpectLine(t, out, "[main] proc submounts: 0")

	ctl, _ := n.Run(pod("userns-powers-control", "true", "Default"))
	for _, what := range []string{"mknod c 1:3", "chown 70000:70000", "acct"} {
		harness.ExpectLine(t, ctl, "ALLOWED "+what)
	}
	if !strings.Contains(ctl, "n/a init_module") {
		harness.ExpectLine(t, ctl, "ALLOWED init_module")
	}
	harness.ExpectNoText(t, ctl, "proc submounts: 0")
}

// TestUserNSDisjointRanges: two pods with hostUsers: false at once get
// ranges that do not overlap, each a multiple of 65536 above the node's
// own IDs, and each sees its own in its uid_map.
func TestUserNSDisjointRanges(t *testing.T) {
	n := harness.NewNode(t)
	for _, name := range []string{"userns-a", "userns-b"} {
		n.RunDetached(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'cat /proc/self/uid_map; echo ready; exec sleep 600']
`, name))
	}
	// gc leaves the ranges of running pods alone.
	n.MustPodsec("gc")
	ranges := userNSRanges(t, n.Root)
	a, b := ranges["userns-a"], ranges["userns-b"]
	if len(ranges) != 2 || a == 0 || b == 0 {
		t.Fatalf("ranges: %v, want one for each pod", ranges)
	}
	if a == b {
		t.Fatalf("both pods got the range at %d", a)
	}
	harness.ExpectLine(t, squeeze(n.WaitLog("userns-a", "main", "ready", 20*time.Second)), fmt.Sprintf("0 %d 65536", a))
	harness.ExpectLine(t, squeeze(n.WaitLog("userns-b", "main", "ready", 20*time.Second)), fmt.Sprintf("0 %d 65536", b))
	n.MustPodsec("delete", "pod", "--all")
	if r := userNSRanges(t, n.Root); len(r) != 0 {
		t.Errorf("ranges left after the pods were deleted: %v", r)
	}
}

// TestUserNSCrashFreesRange kills podsec with SIGKILL at each step of
// starting and stopping a pod with hostUsers: false; gc must then free
// the pod's range and leave nothing mounted.
func TestUserNSCrashFreesRange(t *testing.T) {
	n := harness.NewNode(t)
	manifest := n.Manifest(`apiVersion: v1
kind: Pod
metadata: {name: userns-crash}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sleep, "600"]
    volumeMounts: [{name: v, mountPath: /v}]
  volumes: [{name: v, emptyDir: {medium: Memory}}]
`)
	podsec := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(n.Bin, append([]string{"--root", n.Root, "--cni-conf-dir", filepath.Join(n.Root, "net.d")}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	check := func(t *testing.T, step string) {
		t.Helper()
		// SIGKILL is asynchronous: podsec gc rightly leaves alone a pod
		// whose podsec has not finished dying.
		waitOwnersGone(t, n.Root)
		if out, err := podsec(nil, "gc"); err != nil {
			t.Fatalf("gc after a crash at %s: %v\n%s", step, err, out)
		}
		if r := userNSRanges(t, n.Root); len(r) != 0 {
			t.Errorf("range left after a crash at %s and gc: %v", step, r)
		}
		mi, _ := os.ReadFile("/proc/self/mountinfo")
		if strings.Contains(string(mi), filepath.Join(n.Root, "pods")+"/") {
			t.Errorf("mounts left after a crash at %s and gc", step)
		}
		podsec(nil, "delete", "pod", "userns-crash")
	}
	for _, step := range []string{runtime.StepSandbox, runtime.StepVolumes, runtime.StepRootfs, runtime.StepCreated, runtime.StepStarted, runtime.StepStopping, runtime.StepCleanedUp} {
		t.Run(step, func(t *testing.T) {
			env := []string{runtime.FailpointEnv + "=" + step}
			out, err := podsec(env, "run", "-d", "--network", "none", "-f", manifest)
			start := step != runtime.StepStopping && step != runtime.StepCleanedUp
			if start && err == nil {
				t.Fatalf("run -d with the supervisor killed at %s: no error: %s", step, out)
			}
			// The crash left the range held: gc is what frees it.
			if r := userNSRanges(t, n.Root); len(r) != 1 {
				t.Fatalf("after a crash at %s: ranges %v, want the pod's (%s)", step, r, out)
			}
			if !start {
				if err != nil {
					t.Fatalf("run -d: %v: %s", err, out)
				}
				podsec(nil, "stop", "userns-crash")
			}
			check(t, step)
		})
	}
	t.Run("foreground", func(t *testing.T) {
		if out, err := podsec([]string{runtime.FailpointEnv + "=" + runtime.StepStarted}, "run", "--network", "none", "-f", manifest); err == nil {
			t.Fatalf("run killed at started: no error: %s", out)
		}
		if r := userNSRanges(t, n.Root); len(r) != 1 {
			t.Fatalf("after a crash of the foreground run: ranges %v, want the pod's", r)
		}
		check(t, "started (foreground)")
	})
}

// TestUserNSSeedFSGroup is the seed chapter's shared volume (section
// 13.2.7) with hostUsers: false: two users of the pod share the volume
// through fsGroup 555 as they do without a user namespace.
func TestUserNSSeedFSGroup(t *testing.T) {
	n := harness.NewNode(t)
	b, err := os.ReadFile(filepath.Join("../..", "testdata/pods/pod-with-shared-volume-fsgroup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "spec:\n", "spec:\n  hostUsers: false\n  restartPolicy: Never\n", 1)
	y = strings.Replace(y, `command: ["/bin/sleep", "999999"]`, `command: [sh, -c, 'id; echo foo > /volume/foo; ls -ld /volume; ls -ln /volume/foo']`, 1)
	y = strings.Replace(y, `command: ["/bin/sleep", "999999"]`, `command: [sh, -c, 'sleep 1; id; cat /volume/foo && echo bar > /volume/bar && ls -ln /volume/bar']`, 1)
	out := n.MustRun(y)
	harness.ExpectLine(t, out, "[first] uid=1111 gid=0(root) groups=0(root),555,666,777")
	harness.ExpectLine(t, out, "[first] drwxrwsrwx")
	harness.ExpectLine(t, squeeze(out), "1 1111 555")
	harness.ExpectLine(t, out, "[second] uid=2222 gid=0(root) groups=0(root),555,666,777")
	harness.ExpectLine(t, squeeze(out), "[second] -rw-r--r-- 1 2222 555")
}

// TestUserNSSandbox runs the sandbox attacks in a pod with hostUsers:
// false, where the sandbox now makes the pod's user namespace: with a
// shared PID namespace and CAP_SYS_PTRACE, /proc/1/root leads to no node
// file, /proc/1/exe is not the node's podsec and cannot be written, and
// system calls injected into the sandbox meet its own filter and keyring.
func TestUserNSSandbox(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	desc, keySecret := sessionKey(t)
	var st syscall.Stat_t
	if err := syscall.Stat(n.Bin, &st); err != nil {
		t.Fatal(err)
	}
	out, err := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: userns-sandbox}
spec:
  hostUsers: false
  shareProcessNamespace: true
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, "cat /proc/1/uid_map; /attacker/attacker procroot %[1]s; /attacker/attacker procexe 1; /attacker/attacker rt-inject 1 %[2]s"]
    securityContext:
      capabilities: {add: [SYS_PTRACE, DAC_READ_SEARCH]}%[3]s%[4]s
`, marker, desc, harness.AttackerMount, harness.AttackerVolume))
	harness.ExpectNoText(t, out, secret)
	harness.ExpectNoText(t, out, keySecret)
	if _, serr := os.Stat(marker + ".pwned"); serr == nil {
		t.Fatalf("a pod created %s.pwned on the node:\n%s", marker, out)
	}
	if err == nil {
		t.Fatalf("podsec run: want the failed injection to fail the pod:\n%s", out)
	}
	// The sandbox is PID 1 of the pod, in the pod's user namespace.
	var mapped bool
	for _, l := range strings.Split(squeeze(out), "\n") {
		var host, size uint32
		if _, err := fmt.Sscanf(l, "[main] 0 %d %d", &host, &size); err == nil && host >= 65536 && host%65536 == 0 && size == 65536 {
			mapped = true
		}
	}
	if !mapped {
		t.Fatalf("the sandbox (PID 1) is not in a user namespace of the pod's range:\n%s", out)
	}
	harness.ExpectLine(t, out, "[main] pid 1: root is readable")
	harness.ExpectLine(t, out, "[main] OK procroot")
	harness.ExpectNoText(t, out, fmt.Sprintf("exe dev:ino %d:%d\n", st.Dev, st.Ino))
	harness.ExpectNoText(t, out, "exe writable")
	harness.ExpectLine(t, out, "[main] OK procexe")
	harness.ExpectLine(t, out, "[main] injected getpid = 1 (<nil>)")
	harness.ExpectLine(t, out, "[main] FAIL rt-inject: injected keyctl: operation not permitted")
}

// TestUserNSVolumeCannotIdmap: a hostPath on a filesystem that cannot be
// idmapped (sysfs) fails the pod before any container starts, naming the
// volume, the filesystem and the reason, and frees the pod's range.
func TestUserNSVolumeCannotIdmap(t *testing.T) {
	n := harness.NewNode(t)
	out, err := n.Run(`apiVersion: v1
kind: Pod
metadata: {name: userns-sysfs}
spec:
  hostUsers: false
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["true"]
    volumeMounts: [{name: sys, mountPath: /hostsys, readOnly: true}]
  volumes: [{name: sys, hostPath: {path: /sys/kernel, type: Directory}}]
`)
	if err == nil {
		t.Fatalf("podsec run with a sysfs hostPath in a user namespace: no error:\n%s", out)
	}
	harness.ExpectLine(t, out, `spec.volumes[0]: volume "sys": /sys/kernel cannot be idmapped for the pod's user namespace: its filesystem (sysfs) does not support idmapped mounts`)
	harness.ExpectNoText(t, out, "Started")
	if r := userNSRanges(t, n.Root); len(r) != 0 {
		t.Errorf("ranges left after the pod failed: %v", r)
	}
}
