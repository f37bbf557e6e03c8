package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// subIDRange is the subordinate range the test gives podman's automatic
// user namespaces: above any account, away from the oci tests' 1<<30.
const (
	subIDStart = 1 << 31
	subIDCount = 1 << 20
)

// addSubIDs appends "name:start:count" to /etc/subuid and /etc/subgid
// (podman's --userns=auto reads only these files, for the user its
// storage.conf names) and removes exactly that line when the test ends,
// creating and removing the files if they did not exist.
func addSubIDs(t *testing.T, name string) {
	t.Helper()
	line := fmt.Sprintf("%s:%d:%d\n", name, subIDStart, subIDCount)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		old, err := os.ReadFile(f)
		existed := err == nil
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		fd, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if len(old) > 0 && old[len(old)-1] != '\n' {
			line = "\n" + line
		}
		_, err = fd.WriteString(line)
		fd.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cur, err := os.ReadFile(f)
			if err != nil {
				t.Errorf("restoring %s: %v", f, err)
				return
			}
			rest := strings.Replace(string(cur), strings.TrimPrefix(line, "\n"), "", 1)
			if !existed && rest == "" {
				os.Remove(f)
				return
			}
			if err := os.WriteFile(f, []byte(rest), 0o644); err != nil {
				t.Errorf("restoring %s: %v", f, err)
			}
		})
	}
}

// TestPodmanAutoNS (a short name: podman refuses a runroot over 50 characters): podman run --userns=auto with
// podsec-runtime, as with runc: podman picks a range from the subordinate
// IDs of the user its storage.conf names (root-auto-userns-user), the
// container's root is the range's first ID, and the baseline node policy
// accepts it (no mapping reaches the node's root). runc runs the same
// container first, for comparison.
func TestPodmanAutoNS(t *testing.T) {
	p := newPodman(t)
	user := fmt.Sprintf("podsec-test-%d", os.Getpid())
	addSubIDs(t, user)
	storageConf := filepath.Join(p.dir, "storage.conf")
	conf := fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n[storage.options]\nroot-auto-userns-user = %q\nauto-userns-min-size = 1024\nauto-userns-max-size = 65536\n",
		filepath.Join(p.dir, "root"), filepath.Join(p.dir, "runroot"), user)
	if err := os.WriteFile(storageConf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p.env = append(p.env, "CONTAINERS_STORAGE_CONF="+storageConf)

	for _, rt := range []struct{ name, bin string }{
		{"runc", "runc"}, // what podsec-runtime must match
		{"podsec-runtime", runtimeBin},
		{"podsec-runtime under baseline", policyWrapper(t, "baseline",
			"allowedBindSources: ["+filepath.Join(p.dir, "runroot")+"]",
			"allowedRootPrefixes: ["+filepath.Join(p.dir, "root")+"]",
			"allowedSyscalls: [clone, clone3, fsconfig, fsmount, fsopen, fspick, get_mempolicy, keyctl, mbind, mount, "+
				"mount_setattr, move_mount, open_tree, pidfd_getfd, pivot_root, readdir, reboot, set_mempolicy, setns, "+
				"sigaction, signal, sigpending, sigsuspend, socket, syscall, syslog, timerfd, umount, umount2, unshare]")},
	} {
		t.Run(rt.name, func(t *testing.T) {
			out, code := p.podman("--runtime", rt.bin, "run", "--rm", "--userns=auto", "localhost/busybox",
				"sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g")
			if code != 0 {
				t.Fatalf("podman run --userns=auto: exit %d, %s", code, out)
			}
			t.Logf("%s: %s", rt.name, out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 4 || lines[2] != "0" || lines[3] != "0" {
				t.Fatalf("podman run --userns=auto printed %q, want two maps and root", out)
			}
			for _, m := range lines[:2] {
				f := strings.Fields(m)
				if len(f) != 3 || f[0] != "0" {
					t.Fatalf("map %q: want container ID 0 first", m)
				}
				host, _ := strconv.ParseUint(f[1], 10, 64)
				size, _ := strconv.ParseUint(f[2], 10, 64)
				if host < subIDStart || host+size > subIDStart+subIDCount || size < 1024 {
					t.Errorf("map %q: want a range of at least 1024 IDs within %s's %d:%d", m, user, subIDStart, subIDCount)
				}
			}
		})
	}
}
