package lc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices" // cgroups.DevicesSetV1
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// BenchmarkDeviceWhitelist measures what ordering the device whitelist
// adds to a create, beside its anchor: libcontainer writing the same
// whitelist into a new cgroup v1 (from allow-all, as at create). Both on
// one cgroup of their own, with runtime-tools' linux_cgroups_devices
// rules and libcontainer's defaults. Needs root and a cgroup v1 devices
// controller:
//
//	go test -tags seccomp -run '^$' -bench DeviceWhitelist ./internal/lc
func BenchmarkDeviceWhitelist(b *testing.B) {
	root := "/sys/fs/cgroup/devices"
	if _, err := os.Stat(filepath.Join(root, "devices.list")); err != nil || os.Geteuid() != 0 {
		b.Skip("needs root and a cgroup v1 devices controller")
	}
	dir := filepath.Join(root, fmt.Sprintf("podsec-bench-devorder-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(dir)
	rules := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: num(10), Minor: num(229), Access: "rwm"},
		{Allow: true, Type: "b", Major: num(8), Minor: num(20), Access: "rw"},
		{Allow: true, Type: "b", Major: num(10), Minor: num(200), Access: "r"},
	}
	res := &cgroups.Resources{Devices: []*devices.Rule{
		{Type: 'a', Major: -1, Minor: -1, Permissions: "rwm", Allow: false},
		{Type: 'c', Major: 10, Minor: 229, Permissions: "rwm", Allow: true},
		{Type: 'b', Major: 8, Minor: 20, Permissions: "rw", Allow: true},
		{Type: 'b', Major: 10, Minor: 200, Permissions: "r", Allow: true},
	}}
	for _, d := range specconv.AllowedDevices {
		res.Devices = append(res.Devices, &d.Rule)
	}
	setLibcontainer := func() {
		if err := cgroups.WriteFile(dir, "devices.allow", "a"); err != nil {
			b.Fatal(err)
		}
		if err := cgroups.DevicesSetV1(dir, res); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("libcontainer", func(b *testing.B) {
		for b.Loop() {
			setLibcontainer()
		}
	})
	setLibcontainer()
	b.Run("order", func(b *testing.B) {
		for b.Loop() {
			list, err := readDevList(dir)
			if err != nil {
				b.Fatal(err)
			}
			want := orderDevList(list, rules)
			if err := rewriteDevList(dir, want); err != nil {
				b.Fatal(err)
			}
			if after, err := readDevList(dir); err != nil || !slices.Equal(after, want) {
				b.Fatalf("devices.list after ordering: %s, %v; want %s", devListString(after), err, devListString(want))
			}
		}
	})
}
