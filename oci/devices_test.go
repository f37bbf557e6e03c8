package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// podDevices copies the device whitelist it sees (its own cgroup's, bound
// at /sys/fs/cgroup/devices) to /tmp/list, makes device nodes with mknod
// and opens them, printing "NAME ok", "NAME EPERM" or the shell's error
// for each to /tmp/out.
const podDevices = `apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command:
    - /bin/sh
    - -c
    - |
      rm -f /tmp/fuse /tmp/mem /tmp/loop /tmp/null /tmp/out
      cat /sys/fs/cgroup/devices/devices.list >/tmp/list
      {
      mknod /tmp/fuse c 10 229 && mknod /tmp/mem c 1 1 && mknod /tmp/loop b 7 0 && mknod /tmp/null c 1 3 && echo mknod ok
      try() {
        if (eval "exec 3$2/tmp/$1") 2>/tmp/err; then echo "$1$2 ok"
        else case "$(cat /tmp/err)" in *"Operation not permitted") echo "$1$2 EPERM" ;; *) echo "$1$2 $(cat /tmp/err)" ;; esac
        fi
      }
      try fuse '<'; try fuse '>'; try mem '<'; try loop '<'; try null '>'
      } >/tmp/out 2>&1
    securityContext:
      runAsUser: 0
`

func i64(n int64) *int64 { return &n }

// TestDevicesInListedOrder: on a cgroup v1 devices controller the
// container's whitelist lists the spec's allow rules first, in the
// spec's order (runtime-tools' linux_cgroups_devices), with
// libcontainer's defaults after them, read from the node and from inside
// the container, after create and start and after run; and the rules
// enforce what they did before: from inside the container, a node made
// with mknod opens only as the rules allow (EPERM otherwise).
func TestDevicesInListedOrder(t *testing.T) {
	e := newEnv(t)
	if _, err := os.Stat("/sys/fs/cgroup/devices/devices.list"); err != nil {
		t.Fatalf("this test needs a cgroup v1 devices controller (the nodes podsec runs on have one): %v", err)
	}
	b := bundle(t, podDevices, "devorder", func(s *specs.Spec) {
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(10), Minor: i64(229), Access: "r"},
			{Allow: true, Type: "b", Major: i64(8), Minor: i64(20), Access: "rw"},
			{Allow: true, Type: "b", Major: i64(10), Minor: i64(200), Access: "r"},
		}
	})
	for _, a := range []string{"mknod", "rm"} {
		if err := symlinkApplet(b, a); err != nil {
			t.Fatal(err)
		}
	}
	// The spec's three rules, then runc 1.5's defaults as libcontainer
	// sorts them: the set libcontainer applies, in the spec's order.
	want := strings.Join([]string{
		"c 10:229 r", "b 8:20 rw", "b 10:200 r",
		"b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
		"c 5:0 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm",
	}, "\n") + "\n"

	e.must("create", "--bundle", b, "devorder")
	defer e.run("delete", "--force", "devorder")
	dir := cgroupDir(t, e.state("devorder").Pid, "devices")
	got, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/devices", dir, "devices.list"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("devices.list of %s =\n%s\nwant\n%s", dir, got, want)
	}
	e.must("start", "devorder")
	e.waitStatus("devorder", "stopped")
	checkDevicesInside(t, b, "create and start", want)
	e.must("delete", "devorder")

	e.must("run", "--bundle", b, "devorder-run")
	checkDevicesInside(t, b, "run", want)
}

// checkDevicesInside checks what podDevices saw in bundle b.
func checkDevicesInside(t *testing.T, b, verb, wantList string) {
	t.Helper()
	list, err := os.ReadFile(filepath.Join(b, "rootfs", "tmp", "list"))
	if err != nil {
		t.Fatal(err)
	}
	if string(list) != wantList {
		t.Errorf("after %s, devices.list inside the container =\n%s\nwant\n%s", verb, list, wantList)
	}
	out, err := os.ReadFile(filepath.Join(b, "rootfs", "tmp", "out"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"mknod ok",
		"fuse< ok", // c 10:229 r
		"fuse> EPERM",
		"mem< EPERM",  // c 1:1: no rule
		"loop< EPERM", // b 7:0: no rule
		"null> ok",    // c 1:3 rwm, libcontainer's default
	}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("after %s, inside the container:\n%s\nwant\n%s", verb, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// cgroupDir is the path of pid's cgroup of a v1 controller, below its
// mount.
func cgroupDir(t *testing.T, pid int, controller string) string {
	t.Helper()
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(cg), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && f[1] == controller {
			return f[2]
		}
	}
	t.Fatalf("pid %d has no %s cgroup:\n%s", pid, controller, cg)
	return ""
}

// symlinkApplet adds a busybox applet to a bundle's rootfs.
func symlinkApplet(bundle, name string) error {
	return os.Symlink("busybox", filepath.Join(bundle, "rootfs", "bin", name))
}
