package attack

import (
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
