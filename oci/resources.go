package oci

import (
	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ApplyResources sets what r gives on a container's cgroup resources.
func ApplyResources(c *cgroups.Resources, r *specs.LinuxResources) {
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			c.Memory = *m.Limit
			if *m.Limit == -1 && m.Swap == nil {
				c.MemorySwap = -1 // no limit: nor on swap
			}
		}
		if m.Swap != nil {
			c.MemorySwap = *m.Swap
		}
		if m.Reservation != nil {
			c.MemoryReservation = *m.Reservation
		}
	}
	if p := r.CPU; p != nil {
		if p.Shares != nil {
			c.CpuShares = *p.Shares
			c.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*p.Shares)
		}
		if p.Quota != nil {
			c.CpuQuota = *p.Quota
		}
		if p.Period != nil {
			c.CpuPeriod = *p.Period
		}
		if p.Cpus != "" {
			c.CpusetCpus = p.Cpus
		}
		if p.Mems != "" {
			c.CpusetMems = p.Mems
		}
		if p.RealtimePeriod != nil {
			c.CpuRtPeriod = *p.RealtimePeriod
		}
		if p.RealtimeRuntime != nil {
			c.CpuRtRuntime = *p.RealtimeRuntime
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		l := *r.Pids.Limit
		c.PidsLimit = &l
	}
	if b := r.BlockIO; b != nil && b.Weight != nil {
		c.BlkioWeight = *b.Weight
	}
	if r.Unified != nil {
		c.Unified = r.Unified
	}
}
