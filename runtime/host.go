package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/sys/devices"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podsec/podsec/spec"
	"golang.org/x/sys/unix"
)

// Capabilities returns the capabilities the running kernel knows, in
// number order, from /proc/sys/kernel/cap_last_cap.
func Capabilities() ([]string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return nil, fmt.Errorf("reading the kernel's last capability: %w", err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("reading the kernel's last capability: %w", err)
	}
	all := spec.AllCapabilities()
	if last+1 < len(all) {
		all = all[:last+1]
	}
	// A container cannot get what podsec itself lacks: "every capability"
	// of a privileged container is podsec's bounding set, as containerd
	// takes its own.
	bnd, err := boundingSet()
	if err != nil {
		return nil, err
	}
	var have []string
	for i, c := range all {
		if bnd&(1<<uint(i)) != 0 {
			have = append(have, c)
		}
	}
	return have, nil
}

// boundingSet reads podsec's capability bounding set.
func boundingSet() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading capabilities: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("reading capabilities: no CapBnd in /proc/self/status")
}

// MemoryBytes returns the node's memory from /proc/meminfo.
func MemoryBytes() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("reading node memory: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading node memory: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("reading node memory: no MemTotal in /proc/meminfo")
}

// HostDevices lists the node's devices under /dev for privileged
// containers, as containerd's WithHostDevices does.
func HostDevices() ([]specs.LinuxDevice, error) {
	devs, err := devices.HostDevices()
	if err != nil {
		return nil, fmt.Errorf("listing host devices: %w", err)
	}
	out := make([]specs.LinuxDevice, 0, len(devs))
	for _, d := range devs {
		mode := d.FileMode
		uid, gid := d.Uid, d.Gid
		out = append(out, specs.LinuxDevice{
			Path: d.Path, Type: string(d.Type), Major: d.Major, Minor: d.Minor,
			FileMode: &mode, UID: &uid, GID: &gid,
		})
	}
	return out, nil
}

// LSMs reports which Linux security modules the node enforces.
func LSMs() (selinux, apparmor bool) {
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		selinux = true
	}
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil {
		apparmor = strings.TrimSpace(string(b)) == "Y"
	}
	return selinux, apparmor
}

// recursiveReadOnlySupported reports whether the kernel has mount_setattr
// (Linux 5.12), which recursive read-only bind mounts need.
func recursiveReadOnlySupported() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 5 || (major == 5 && minor >= 12)
}
