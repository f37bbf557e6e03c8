package oci

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
	"github.com/sirupsen/logrus"
)

// StreamEvents prints stats every interval and OOM events until the
// container's cgroup goes.
func StreamEvents(c *libcontainer.Container, enc *json.Encoder, interval time.Duration) error {
	oom, err := c.NotifyOOM()
	if err != nil {
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				return nil // the cgroup is gone
			}
			if err := enc.Encode(types.Event{Type: "oom", ID: c.ID()}); err != nil {
				return err
			}
		case <-tick.C:
			s, err := c.Stats()
			if err != nil {
				if errors.Is(err, libcontainer.ErrNotRunning) {
					return nil
				}
				logrus.Error(err)
				continue
			}
			if err := enc.Encode(types.Event{Type: "stats", ID: c.ID(), Data: ConvertStats(s)}); err != nil {
				return err
			}
		}
	}
}

// ConvertStats is libcontainer's stats in runc's events form (CPU,
// memory, pids, block I/O, hugetlb), the form containerd reads.
func ConvertStats(ls *libcontainer.Stats) *types.Stats {
	cg := ls.CgroupStats
	if cg == nil {
		return nil
	}
	var s types.Stats
	s.Pids.Current, s.Pids.Limit = cg.PidsStats.Current, cg.PidsStats.Limit
	u := cg.CpuStats.CpuUsage
	s.CPU.Usage = types.CpuUsage{Kernel: u.UsageInKernelmode, User: u.UsageInUsermode, Total: u.TotalUsage,
		Percpu: u.PercpuUsage, PercpuKernel: u.PercpuUsageInKernelmode, PercpuUser: u.PercpuUsageInUsermode}
	t := cg.CpuStats.ThrottlingData
	s.CPU.Throttling = types.Throttling{Periods: t.Periods, ThrottledPeriods: t.ThrottledPeriods, ThrottledTime: t.ThrottledTime}
	s.CPUSet = types.CPUSet(cg.CPUSetStats)
	m := cg.MemoryStats
	s.Memory.Cache, s.Memory.Raw = m.Cache, m.Stats
	s.Memory.Usage, s.Memory.Swap = memoryEntry(m.Usage), memoryEntry(m.SwapUsage)
	s.Memory.Kernel, s.Memory.KernelTCP = memoryEntry(m.KernelUsage), memoryEntry(m.KernelTCPUsage)
	b := cg.BlkioStats
	s.Blkio.IoServiceBytesRecursive = blkioEntries(b.IoServiceBytesRecursive)
	s.Blkio.IoServicedRecursive = blkioEntries(b.IoServicedRecursive)
	s.Hugetlb = map[string]types.Hugetlb{}
	for k, v := range cg.HugetlbStats {
		s.Hugetlb[k] = types.Hugetlb{Usage: v.Usage, Max: v.MaxUsage, Failcnt: v.Failcnt}
	}
	s.NetworkInterfaces = ls.Interfaces
	return &s
}

func memoryEntry(d cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []types.BlkioEntry {
	out := make([]types.BlkioEntry, 0, len(in))
	for _, e := range in {
		out = append(out, types.BlkioEntry(e))
	}
	return out
}
