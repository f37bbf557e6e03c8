package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestKernelTCP: linux.resources.memory.kernelTCP lands on the created
// container's cgroup v1 memory controller, as crun sets it.
// Where the node has no such file, the create still succeeds and says
// the value is ignored.
func TestKernelTCP(t *testing.T) {
	e := newEnv(t)
	limit := int64(3 << 20)
	b := bundle(t, podSleep, "ktcp", func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: &limit}} //nolint:staticcheck // what the suite sets
	})
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes"); err != nil {
		_, errs, code := e.run("create", "--bundle", b, "ktcp")
		defer e.run("delete", "--force", "ktcp")
		if code != 0 || !strings.Contains(errs, "linux.resources.memory.kernelTCP: ignored") {
			t.Fatalf("create with kernelTCP and no kmem.tcp file: exit %d, %q; want it created with a warning", code, errs)
		}
		return
	}
	e.must("create", "--bundle", b, "ktcp")
	defer e.run("delete", "--force", "ktcp")
	dir := cgroupDir(t, e.state("ktcp").Pid, "memory")
	got, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/memory", dir, "memory.kmem.tcp.limit_in_bytes"))
	if err != nil || strings.TrimSpace(string(got)) != "3145728" {
		t.Errorf("memory.kmem.tcp.limit_in_bytes of %s = %q (%v), want 3145728", dir, got, err)
	}
}

// TestUnknownCapabilityRefused: create refuses CAP_TEST, naming the
// field, and leaves no container.
func TestUnknownCapabilityRefused(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "captest", func(s *specs.Spec) {
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_TEST")
	})
	_, errs, code := e.run("create", "--bundle", b, "captest")
	if code == 0 || !strings.Contains(errs, `process.capabilities.bounding[`) || !strings.Contains(errs, `"CAP_TEST": not a Linux capability`) {
		t.Fatalf("create with CAP_TEST: exit %d: %s", code, errs)
	}
	if out := e.must("list", "-q"); out != "" {
		t.Errorf("list after the refused create = %q", out)
	}
}
