package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/oci"
)

type updateFlags struct {
	resources         string
	memory            string
	memorySwap        string
	memoryReservation string
	cpuShares         uint64
	cpuQuota          int64
	cpuPeriod         uint64
	cpusetCpus        string
	cpusetMems        string
	pidsLimit         int64
	blkioWeight       uint16
}

func newUpdateCommand(g *globals) *cobra.Command {
	f := &updateFlags{}
	cmd := &cobra.Command{
		Use:   "update [--resources FILE | flags] ID",
		Short: "change the cgroup limits of a container",
		Long: `update changes a container's cgroup limits: from --resources, a file (or "-"
for stdin) holding the runtime spec's linux.resources object, as containerd
and podman send it, or from the flags. Only the limits given change.`,
		Args: exactArgs(1, "the container ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			r, err := f.read(cmd)
			if err != nil {
				return err
			}
			cfg := c.Config()
			oci.ApplyResources(cfg.Cgroups.Resources, r)
			// The device rules were set at create; setting them again
			// on a running container would briefly deny its devices.
			cfg.Cgroups.SkipDevices = true
			return c.Set(cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.resources, "resources", "r", "", `path to a file of linux.resources JSON ("-" for stdin); other flags are then ignored`)
	fs.StringVar(&f.memory, "memory", "", "memory limit (in bytes, or with a unit: 64m), -1 for none")
	fs.StringVar(&f.memorySwap, "memory-swap", "", "total memory plus swap limit, -1 for none")
	fs.StringVar(&f.memoryReservation, "memory-reservation", "", "memory reservation (soft limit)")
	fs.Uint64Var(&f.cpuShares, "cpu-share", 0, "CPU shares (relative weight)")
	fs.Int64Var(&f.cpuQuota, "cpu-quota", 0, "CPU CFS quota in microseconds per period")
	fs.Uint64Var(&f.cpuPeriod, "cpu-period", 0, "CPU CFS period in microseconds")
	fs.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs to use (0-3, 0,1)")
	fs.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes to use (0-3, 0,1)")
	fs.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of pids, -1 for none")
	fs.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "block I/O weight (10 to 1000)")
	return cmd
}

// read is the update as linux.resources.
func (f *updateFlags) read(cmd *cobra.Command) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if f.resources != "" {
		var in io.Reader = os.Stdin
		if f.resources != "-" {
			fh, err := os.Open(f.resources)
			if err != nil {
				return nil, err
			}
			defer fh.Close()
			in = fh
		}
		if err := json.NewDecoder(in).Decode(r); err != nil {
			return nil, fmt.Errorf("decoding --resources: %w", err)
		}
		return r, nil
	}
	changed := cmd.Flags().Changed
	mem := &specs.LinuxMemory{}
	for _, m := range []struct {
		flag, val string
		dst       **int64
	}{{"memory", f.memory, &mem.Limit}, {"memory-swap", f.memorySwap, &mem.Swap},
		{"memory-reservation", f.memoryReservation, &mem.Reservation}} {
		if !changed(m.flag) {
			continue
		}
		v := int64(-1)
		if m.val != "-1" {
			n, err := units.RAMInBytes(m.val)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", m.flag, err)
			}
			v = n
		}
		*m.dst = &v
	}
	r.Memory = mem
	cpu := &specs.LinuxCPU{Cpus: f.cpusetCpus, Mems: f.cpusetMems}
	if changed("cpu-share") {
		cpu.Shares = &f.cpuShares
	}
	if changed("cpu-quota") {
		cpu.Quota = &f.cpuQuota
	}
	if changed("cpu-period") {
		cpu.Period = &f.cpuPeriod
	}
	r.CPU = cpu
	if changed("pids-limit") {
		r.Pids = &specs.LinuxPids{Limit: &f.pidsLimit}
	}
	if changed("blkio-weight") {
		r.BlockIO = &specs.LinuxBlockIO{Weight: &f.blkioWeight}
	}
	return r, nil
}
