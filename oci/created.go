package oci

import (
	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/internal/lc"
)

// AfterCreate applies what libcontainer leaves undone on a created
// container, before its process runs: linux.resources.memory.kernelTCP
// (ApplyKernelTCP) and the spec's order of linux.resources.devices
// (lc.OrderDevices). An error fails the create, and the caller destroys
// the container.
func AfterCreate(c *libcontainer.Container, s *specs.Spec) error {
	if err := ApplyKernelTCP(c, s); err != nil {
		return err
	}
	if s.Linux == nil || s.Linux.Resources == nil {
		return nil
	}
	return lc.OrderDevices(c, s.Linux.Resources.Devices)
}
