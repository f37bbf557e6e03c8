package runtime

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/podsec/podsec/spec"
)

func TestPodCgroupFiles(t *testing.T) {
	r := spec.PodResources{MemoryLimit: 64 << 20, CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, Pids: 200}
	want := []cgroupFile{
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"pids", "pids.max", "200"},
	}
	if got := podCgroupFiles(r, false); !reflect.DeepEqual(got, want) {
		t.Errorf("podCgroupFiles(v1) = %v, want %v", got, want)
	}
	want2 := []cgroupFile{{"", "cpu.weight", "59"}, {"", "cpu.max", "50000 100000"}, {"", "memory.max", "67108864"}, {"", "pids.max", "200"}}
	if got := podCgroupFiles(r, true); !reflect.DeepEqual(got, want2) {
		t.Errorf("podCgroupFiles(v2) = %v, want %v", got, want2)
	}
	if got := podCgroupFiles(spec.PodResources{CPUShares: 2}, false); len(got) != 1 {
		t.Errorf("podCgroupFiles(no limits) = %v, want cpu.shares only", got)
	}
}

func TestDiskUsageCountsBlocksOnce(t *testing.T) {
	dir := t.TempDir()
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = 1
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "f"), filepath.Join(dir, "g")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(dir, "root")); err != nil {
		t.Fatal(err)
	}
	got := diskUsage(dir)
	if got < 1<<20 || got > 1<<20+64<<10 {
		t.Errorf("diskUsage(1 MiB file with a hard link and a symlink to /) = %d, want about %d", got, 1<<20)
	}
}
