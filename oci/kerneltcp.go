package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// ApplyKernelTCP sets linux.resources.memory.kernelTCP on a created
// container's memory cgroup, as crun does: libcontainer ignores it. On
// cgroup v1 it is memory.kmem.tcp.limit_in_bytes; cgroup v2 has no such
// limit (TCP buffers count in memory.max), and the value is ignored with
// a warning, as crun and runc do there. Call it before the container's
// process runs.
func ApplyKernelTCP(c *libcontainer.Container, s *specs.Spec) error {
	if s.Linux == nil || s.Linux.Resources == nil || s.Linux.Resources.Memory == nil {
		return nil
	}
	limit := s.Linux.Resources.Memory.KernelTCP //nolint:staticcheck // deprecated in the spec, still in the suite and crun
	if limit == nil {
		return nil
	}
	st, err := c.State()
	if err != nil {
		return err
	}
	dir := st.CgroupPaths["memory"]
	if cgroups.IsCgroup2UnifiedMode() || dir == "" {
		logrus.Warnf("linux.resources.memory.kernelTCP: ignored: no cgroup v1 memory controller")
		return nil
	}
	file := filepath.Join(dir, "memory.kmem.tcp.limit_in_bytes")
	if _, err := os.Stat(file); err != nil {
		logrus.Warnf("linux.resources.memory.kernelTCP: ignored: this kernel has no %s", filepath.Base(file))
		return nil
	}
	if err := os.WriteFile(file, []byte(strconv.FormatInt(*limit, 10)), 0); err != nil {
		return fmt.Errorf("linux.resources.memory.kernelTCP: %w", err)
	}
	return nil
}
