package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerdUserNS: ctr run --uidmap/--gidmap (containerd 1.6 chowns
// a copy of the snapshot to the range) runs the container in a user
// namespace with podsec-runtime as with runc, also under baseline.
func TestContainerdUserNS(t *testing.T) {
	c := startContainerd(t)
	// The container's root is a range ID: like runc, libcontainer mounts
	// the bundle's rootfs as that ID, so the test's 0700 directory (a
	// node's /run/containerd is 0711) must let it through.
	for _, d := range []string{c.dir, filepath.Join(c.dir, "state")} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	const base = 3 << 30
	m := fmt.Sprintf("0:%d:65536", base)
	baseline := policyWrapper(t, "baseline", "allowedSyscalls: [io_uring_enter, io_uring_register, io_uring_setup, socket]")
	want := fmt.Sprintf("0 %d 65536\n0 %d 65536\n0\n", base, base)
	for i, rt := range []struct{ name, bin string }{{"runc", "runc"}, {"podsec-runtime", runtimeBin}, {"podsec-runtime under baseline", baseline}} {
		t.Run(rt.name, func(t *testing.T) {
			args := append(c.runArgs(rt.bin, "--seccomp", "--uidmap", m, "--gidmap", m), "localhost/busybox:latest", fmt.Sprintf("ctr-userns-%d", i),
				"sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u")
			out, code := c.ctr(args...)
			var got strings.Builder
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				got.WriteString(strings.Join(strings.Fields(line), " ") + "\n")
			}
			if code != 0 || got.String() != want {
				t.Errorf("ctr run --uidmap %s with %s: exit %d, %q; want %q", m, rt.name, code, out, want)
			}
		})
	}
}
