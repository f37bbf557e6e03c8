package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/test/harness"
)

// runAs runs the program at path with args as the node's user uid:gid (no
// supplementary groups) and returns what it printed; a refused exec is
// an output without "euid".
func runAs(t *testing.T, path string, uid, gid uint32, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	return fmt.Sprintf("%s(%v)", out, err)
}

// setuidFiles walks dir (as the node's root) for regular files with the
// setuid or setgid bit, not crossing into the containers' root
// filesystems.
func setuidFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "rootfs" || d.Name() == "lower") {
			return filepath.SkipDir
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRedteamUserNSPodFileSetuidRoot: root in a pod copies a program over
// every file of its own it can write (the pod's /etc/hosts, /etc/hostname,
// /etc/resolv.conf, its termination log, its /dev/shm, an emptyDir) and
// makes it setuid. The node keeps those files in the pod's directory; no
// user of the node, neither an unprivileged one (nobody) nor, with
// hostUsers: false, the pod's own range root escaped from its container,
// may run one of them as the node's root. Before, the pod's files were
// bound idmapped as the node's root's (container root is on-disk root)
// in a directory every node user can walk (the pod directory is 0711,
// its etc 0755): `nobody` ran the pod's copy as euid 0. A pod of the
// node's users (hostUsers: true) planted the same file.
func TestRedteamUserNSPodFileSetuidRoot(t *testing.T) {
	for _, hostUsers := range []bool{false, true} {
		t.Run(fmt.Sprintf("hostUsers=%v", hostUsers), func(t *testing.T) {
			n := harness.NewNode(t)
			name := fmt.Sprintf("rt-suid-%v", hostUsers)
			n.RunDetached(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostUsers: %v
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 0}
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'stat -c "owner %%n %%u:%%g" /etc/hosts /etc/hostname /etc/resolv.conf /dev/termination-log; for f in /etc/hosts /etc/hostname /etc/resolv.conf /dev/termination-log /dev/shm/x /scratch/x; do cat /attacker/attacker > $f && chmod 6755 $f && echo "planted $f"; done; echo ready; exec sleep 600']
    volumeMounts:
    - {name: attacker, mountPath: /attacker, readOnly: true}
    - {name: scratch, mountPath: /scratch}
  volumes:
  - name: attacker
    hostPath: {path: "{{ATTACKER}}", type: Directory}
  - {name: scratch, emptyDir: {}}
`, name, hostUsers))
			out := n.WaitLog(name, "main", "ready", 20*time.Second)
			for _, f := range []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/dev/termination-log"} {
				// Inside, the files stay root's, writable by the pod's root.
				harness.ExpectLine(t, out, "owner "+f+" 0:0")
				harness.ExpectLine(t, out, "planted "+f)
			}
			users := [][2]uint32{{65534, 65534}}
			if !hostUsers {
				base, ok := userNSRanges(t, n.Root)[name]
				if !ok {
					t.Fatalf("no range recorded for the pod")
				}
				users = append(users, [2]uint32{base, base})
			}
			pod := filepath.Join(n.Root, "pods", "default", name)
			files := setuidFiles(t, pod)
			for _, want := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", "containers/main/termination-log"} {
				found := false
				for _, f := range files {
					found = found || f == filepath.Join(pod, want)
				}
				if !found {
					t.Errorf("the pod's setuid copy at %s is not on the node: the attack did not run (%v)", want, files)
				}
			}
			for _, f := range files {
				for _, u := range users {
					got := runAs(t, f, u[0], u[1], "euid")
					if strings.Contains(got, "euid 0 ") || strings.Contains(got, "egid 0\n") {
						t.Errorf("node user %d:%d ran the pod's setuid copy %s as the node's root: %s", u[0], u[1], strings.TrimPrefix(f, pod+"/"), got)
					}
				}
			}
			n.MustPodsec("delete", "pod", name)
		})
	}
}

// writeRangeRecord plants a range record, as another podsec would have
// written it, at host ID hostID.
func writeRangeRecord(t *testing.T, root, name string, hostID uint32, owner runtime.Owner) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"namespace": "default", "name": name, "owner": owner, "hostID": hostID, "size": 65536})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "userns")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, fmt.Sprintf("%d.json", hostID))
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// deadOwner is a podsec that ran and exited: a process that is gone.
func deadOwner(t *testing.T) runtime.Owner {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return runtime.Owner{PID: cmd.Process.Pid, StartTime: 1}
}

// TestRedteamUserNSAllocationRace: four pods with hostUsers: false
// started at once by four podsec processes, while the node's records hold
// the preferred slot of one pod for a dead podsec (a stale record) and
// the preferred slot of another for a live process (this test), get four
// ranges that overlap neither each other nor the live one; the stale
// record is freed (its owner is dead, its pod gone) and gc keeps the live
// owner's. Held on main: the allocation is made and recorded under the
// node's lock, and a record's slot stays taken until gc proves its owner
// dead.
func TestRedteamUserNSAllocationRace(t *testing.T) {
	n := harness.NewNode(t)
	names := []string{"rt-alloc-a", "rt-alloc-b", "rt-alloc-c", "rt-alloc-d"}
	stale := pipeline.UserNSRange("default", names[0], 0).HostID
	live := pipeline.UserNSRange("default", names[1], 0).HostID
	self, err := runtime.SelfOwner()
	if err != nil {
		t.Fatal(err)
	}
	staleFile := writeRangeRecord(t, n.Root, "ghost", stale, deadOwner(t))
	liveFile := writeRangeRecord(t, n.Root, "other", live, self)
	t.Cleanup(func() { os.Remove(liveFile) })
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	outs := make([]string, len(names))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = n.Podsec("run", "-d", "--network", "none", "-f", n.Manifest(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'cat /proc/self/uid_map; echo ready; exec sleep 600']
`, name)))
		}()
	}
	wg.Wait()
	for i := range names {
		if errs[i] != nil {
			t.Fatalf("podsec run -d %s: %v\n%s", names[i], errs[i], outs[i])
		}
	}
	ranges := userNSRanges(t, n.Root)
	// The stale range is free: podsec run's own gc proved its owner dead
	// and its pod gone before allocating.
	seen := map[uint32]string{live: "other (live owner)"}
	for _, name := range names {
		r, ok := ranges[name]
		if !ok {
			t.Fatalf("no range recorded for %s: %v", name, ranges)
		}
		if other, dup := seen[r]; dup {
			t.Errorf("%s got the range at %d, already held by %s", name, r, other)
		}
		seen[r] = name
		harness.ExpectLine(t, squeeze(n.WaitLog(name, "main", "ready", 20*time.Second)), fmt.Sprintf("0 %d 65536", r))
	}
	if b, err := os.ReadFile(staleFile); err == nil && strings.Contains(string(b), `"ghost"`) {
		t.Errorf("the range of a dead podsec whose pod is gone is still held (%s)", staleFile)
	}
	n.MustPodsec("gc")
	if _, err := os.Stat(liveFile); err != nil {
		t.Errorf("gc freed the range of a live owner: %v", err)
	}
	if r := userNSRanges(t, n.Root); len(r) != len(names)+1 {
		t.Errorf("after gc: ranges %v, want the four pods' and the live owner's", r)
	}
	n.MustPodsec("delete", "pod", "--all")
}

// TestRedteamUserNSBaseEdges: --userns-base values that would put a
// pod's range on the node's own IDs (below 65536, or not aligned so that
// a range straddles them), past 2^31, or past 2^32, are refused with the
// flag named and nothing left on the node; 0 is the default. Held on
// main.
func TestRedteamUserNSBaseEdges(t *testing.T) {
	n := harness.NewNode(t)
	manifest := n.Manifest(`apiVersion: v1
kind: Pod
metadata: {name: rt-base}
spec:
  hostUsers: false
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [cat, /proc/self/uid_map]
`)
	for _, tc := range []struct{ base, want string }{
		{"1", "user namespace base 1: must be a multiple of 65536"},
		{"65535", "user namespace base 65535: must be a multiple of 65536"},
		{"98304", "user namespace base 98304: must be a multiple of 65536"},
		{"2147483648", "user namespace base 2147483648: leaves no range"},
		{"4294901760", "user namespace base 4294901760: leaves no range"},
		{"4294967296", `invalid argument "4294967296" for "--userns-base"`},
		{"-65536", `invalid argument "-65536" for "--userns-base"`},
	} {
		out, err := n.Podsec("run", "--network", "none", "--userns-base", tc.base, "-f", manifest)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("run --userns-base %s: %v, %q; want refused with %q", tc.base, err, out, tc.want)
		}
		harness.ExpectNoText(t, out, "Started")
		if r := userNSRanges(t, n.Root); len(r) != 0 {
			t.Errorf("--userns-base %s left ranges %v", tc.base, r)
		}
	}
	out, err := n.Podsec("run", "--network", "none", "--userns-base", "0", "-f", manifest)
	if err != nil {
		t.Fatalf("run --userns-base 0: %v\n%s", err, out)
	}
	var host, size uint32
	for _, l := range strings.Split(squeeze(out), "\n") {
		if _, err := fmt.Sscanf(l, "[main] 0 %d %d", &host, &size); err == nil {
			break
		}
	}
	if host < 65536 || host%65536 != 0 || size != 65536 {
		t.Errorf("run --userns-base 0: uid_map %d %d, want a range of 65536 above the node's IDs:\n%s", host, size, out)
	}
}

// TestRedteamUserNSNestedNamespaces: root in a pod with hostUsers: false,
// seccomp Unconfined, procMount Unmasked and SYS_ADMIN, MKNOD,
// SYS_MODULE, DAC_OVERRIDE, rewrites its own ID maps, then makes a user
// namespace of its own (unshare -Urmnpf) and tries, as root there, what
// would reach the node: device nodes, a sysfs of its own written, the
// node's core_pattern through an unmasked /proc, module loading. The
// nested namespace itself works (tmpfs and overlay mounts succeed: the
// control); nothing of the node does. Held on main.
func TestRedteamUserNSNestedNamespaces(t *testing.T) {
	n := harness.NewNode(t)
	nested := `mkdir -p /tmp/m; cat /proc/self/uid_map; ` +
		`mount -t tmpfs t /tmp/m && echo MOUNTED tmpfs; ` +
		`mknod /tmp/m/null c 1 3 && echo ALLOWED nested mknod; ` +
		`mkdir -p /tmp/m/o/l /tmp/m/o/u /tmp/m/o/w /tmp/m/o/m /tmp/m/s; ` +
		`mount -t overlay o -o lowerdir=/tmp/m/o/l,upperdir=/tmp/m/o/u,workdir=/tmp/m/o/w /tmp/m/o/m && echo MOUNTED overlay; ` +
		`mount -t sysfs s /tmp/m/s && echo 1 > /tmp/m/s/kernel/uevent_helper && echo ALLOWED sysfs uevent_helper; ` +
		`echo "|/tmp/pwn" > /proc/sys/kernel/core_pattern && echo ALLOWED nested core_pattern; ` +
		`echo 1 > /proc/sys/vm/drop_caches && echo ALLOWED nested drop_caches; ` +
		`echo 0 > /proc/sys/kernel/randomize_va_space && echo ALLOWED nested aslr; echo nested done`
	out, err := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rt-nested}
spec:
  hostUsers: false
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'echo "0 0 65536" > /proc/self/uid_map && echo ALLOWED uid_map; echo "0 0 65536" > /proc/self/gid_map && echo ALLOWED gid_map; echo deny > /proc/self/setgroups && echo ALLOWED setgroups deny; echo 1 > /proc/sys/vm/drop_caches && echo ALLOWED drop_caches; echo "|/tmp/pwn" > /proc/sys/kernel/core_pattern && echo ALLOWED core_pattern; cat /proc/timer_list >/dev/null && echo ALLOWED timer_list; unshare -Urmnpf --mount-proc sh -c %q']
    securityContext:
      runAsUser: 0
      procMount: Unmasked
      seccompProfile: {type: Unconfined}
      capabilities: {add: [SYS_ADMIN, MKNOD, SYS_MODULE, DAC_OVERRIDE]}
`, nested))
	if err != nil {
		t.Fatalf("podsec run: %v\n%s", err, out)
	}
	harness.ExpectLine(t, out, "[main] nested done")
	// The nested namespace is real: its root is the pod's root.
	harness.ExpectLine(t, squeeze(out), "[main] 0 0 1")
	harness.ExpectLine(t, out, "[main] MOUNTED tmpfs")
	harness.ExpectLine(t, out, "[main] MOUNTED overlay")
	harness.ExpectNoText(t, out, "ALLOWED")
}

// TestRedteamUserNSSubPathSymlink: the subPath symlink escape
// (CVE-2017-1002101) through an idmapped emptyDir of a pod with
// hostUsers: false: an init container as the pod's root plants a link to
// a node directory (absolute, relative and "/") and the next container
// mounts it as a subPath. The mount is refused and the node's file is
// never read. Held on main: subPaths are resolved beneath the volume.
func TestRedteamUserNSSubPathSymlink(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	dir := marker[:strings.LastIndex(marker, "/")]
	for _, target := range []string{dir, "../../../../../../../../../.." + dir, "/"} {
		out, err := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rt-subpath}
spec:
  hostUsers: false
  restartPolicy: Never
  initContainers:
  - name: plant
    image: localhost/busybox:latest
    command: [ln, -s, %q, /vol/evil]
    volumeMounts: [{name: vol, mountPath: /vol}]
  containers:
  - name: read
    image: localhost/busybox:latest
    command: [sh, -c, "cat /mnt/secret; ls /mnt"]
    volumeMounts: [{name: vol, mountPath: /mnt, subPath: evil}]
  volumes:
  - {name: vol, emptyDir: {}}
`, target))
		harness.ExpectNoText(t, out, secret)
		if err == nil {
			t.Errorf("symlink to %s: the subPath mount was not refused:\n%s", target, out)
		}
		if r := userNSRanges(t, n.Root); len(r) != 0 {
			t.Errorf("symlink to %s: ranges left after the pod failed: %v", target, r)
		}
	}
}

// TestRedteamUserNSExec: a process that podsec exec starts in a pod with
// hostUsers: false (as root, and as another user) is in the pod's user
// namespace, with the range's IDs on the node, never the node's root.
// Held on main.
func TestRedteamUserNSExec(t *testing.T) {
	n := harness.NewNode(t)
	n.RunDetached(`apiVersion: v1
kind: Pod
metadata: {name: rt-exec}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, 'echo ready; exec sleep 600']
    securityContext: {runAsUser: 0}
`)
	n.WaitLog("rt-exec", "main", "ready", 20*time.Second)
	base, ok := userNSRanges(t, n.Root)["rt-exec"]
	if !ok {
		t.Fatal("no range recorded for the pod")
	}
	out := n.MustPodsec("exec", "rt-exec", "--", "sh", "-c", "cat /proc/self/uid_map; grep -E '^(Uid|Gid):' /proc/self/status; touch /proc/sysrq-trigger 2>&1 || true; echo 1 > /proc/sys/kernel/core_pattern || echo denied core_pattern")
	harness.ExpectLine(t, squeeze(out), fmt.Sprintf("0 %d 65536", base))
	harness.ExpectLine(t, out, "denied core_pattern")
	// From the node: the exec'd process runs as the range's root.
	marker := fmt.Sprintf("6%08d", os.Getpid())
	done := make(chan string, 1)
	go func() { o, _ := n.Podsec("exec", "rt-exec", "--", "sleep", marker); done <- o }()
	pid := procByMarker(t, marker)
	ids := statusIDs(t, pid)
	if want := fmt.Sprintf("%d %d %d %d", base, base, base, base); ids["Uid"] != want {
		t.Errorf("podsec exec's process on the node: Uid %q, want %q", ids["Uid"], want)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	<-done
	n.MustPodsec("delete", "pod", "rt-exec")
}
