package oci

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestConformanceCompat runs the three specs of the runtime-tools
// validation suite that libcontainer refused where runc 1.1 and crun run
// them (scripts/oci-conformance runs the whole suite).
func TestConformanceCompat(t *testing.T) {
	e := newEnv(t)
	fileMode := func(m os.FileMode) *os.FileMode { return &m }
	cases := []struct {
		name string
		edit func(*specs.Spec)
		cmd  string
		want string
	}{{
		// linux_devices: a FIFO with numbers, which mknod ignores.
		name: "fifo-device",
		edit: func(s *specs.Spec) {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{
				Path: "/dev/test3", Type: "p", Major: 8, Minor: 666, FileMode: fileMode(0o432)})
		},
		cmd:  "test -p /dev/test3 && echo fifo",
		want: "fifo",
	}, {
		// mounts: filesystem data on a bind mount, which the kernel ignores.
		name: "bind-data",
		edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/bind", Type: "bind",
				Source: t.TempDir(), Options: []string{"bind", "mode=755", "size=1k"}})
		},
		cmd:  "grep -q ' /mnt/bind ' /proc/mounts && echo bound",
		want: "bound",
	}, {
		// process_rlimits: RLIMIT_AS at 1 GiB with the pod's seccomp
		// profile, which the init builds after its limits are set.
		name: "rlimit-as",
		edit: func(s *specs.Spec) {
			if s.Linux.Seccomp == nil || len(s.Linux.Seccomp.Syscalls) == 0 {
				t.Fatal("the test pod has no seccomp profile: the init would allocate nothing")
			}
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{
				Type: "RLIMIT_AS", Hard: 2 << 30, Soft: 1 << 30})
		},
		cmd:  "grep 'Max address space' /proc/self/limits",
		want: "Max address space         1073741824           2147483648           bytes",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := bundle(t, podSleep, tc.name, func(s *specs.Spec) {
				tc.edit(s)
				s.Process.Args = []string{"sh", "-c", tc.cmd}
			})
			out, errOut, code := e.run("run", "--bundle", b, tc.name)
			if code != 0 || strings.TrimSpace(out) != tc.want {
				t.Errorf("run %s: exit %d, stdout %q, stderr %q; want 0, %q", tc.name, code, out, errOut, tc.want)
			}
		})
	}
}
