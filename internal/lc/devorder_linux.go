package lc

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/userns"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// OrderDevices makes a created container's cgroup v1 device whitelist
// list the spec's allow rules (linux.resources.devices) first, in the
// spec's order, as the runtime spec asks ("the runtime MUST apply
// entries in the listed order") and as crun does. libcontainer applies
// the same set of rules, but writes them sorted by number and appends
// its defaults, so devices.list starts with its own "b *:* m".
//
// The set stays libcontainer's: OrderDevices reads the whitelist S the
// kernel holds, writes "a" to devices.deny (the list is then empty:
// nothing is allowed while it works), writes each entry of S back to
// devices.allow in the new order, reads the list again and fails unless
// it is S exactly. An entry's access is the kernel's (a rule merged with
// a default keeps the merged access).
//
// Call it after Start and before Exec: the init has finished its setup
// and waits on the exec fifo, so no process opens a device while the
// list is rewritten. It does nothing where there is no cgroup v1 devices
// controller, where libcontainer left devices alone (rootless, a user
// namespace, SkipDevices), where the cgroup is a blacklist (the kernel
// does not show its deny entries, so they could not be written back),
// where the list is already in order, and where the cgroup holds
// anything but the container's init (other processes, child cgroups):
// a deny-all there would be seen by others, and the kernel takes
// entries from child cgroups that it does not give back (libcontainer
// refuses a cgroup with processes at create, and one with children when
// it has to deny all itself; this guards the rest). On an error
// the list holds at most the entries of S written so far: never more
// than libcontainer allowed.
func OrderDevices(c *libcontainer.Container, rules []specs.LinuxDeviceCgroup) error {
	if len(rules) == 0 || cgroups.IsCgroup2UnifiedMode() || userns.RunningInUserNS() {
		return nil
	}
	cfg := c.Config()
	if cfg.RootlessCgroups || cfg.Cgroups == nil || cfg.Cgroups.Resources == nil || cfg.Cgroups.Resources.SkipDevices {
		return nil
	}
	st, err := c.State()
	if err != nil {
		return err
	}
	dir := st.CgroupPaths["devices"]
	if dir == "" {
		return nil
	}
	list, err := readDevList(dir)
	if err != nil {
		return err
	}
	want := orderDevList(list, rules)
	if slices.Equal(want, list) || slices.ContainsFunc(list, func(d devEntry) bool { return d.typ == "a" }) {
		return nil
	}
	if alone, why := onlyInit(dir, st.InitProcessPid); !alone {
		logrus.Debugf("linux.resources.devices: listed in libcontainer's order: %s", why)
		return nil
	}
	if err := rewriteDevList(dir, want); err != nil {
		return fmt.Errorf("linux.resources.devices: applying the rules in the listed order in %s: %w", dir, err)
	}
	after, err := readDevList(dir)
	if err != nil {
		return err
	}
	if !slices.Equal(after, want) {
		if !sameDevSet(after, list) {
			return fmt.Errorf("linux.resources.devices: %s/devices.list changed while ordering it: %s, want the rules libcontainer applied: %s",
				dir, devListString(after), devListString(list))
		}
		return fmt.Errorf("linux.resources.devices: %s/devices.list is %s after ordering, want %s", dir, devListString(after), devListString(want))
	}
	return nil
}

func readDevList(dir string) ([]devEntry, error) {
	text, err := cgroups.ReadFile(dir, "devices.list")
	if err != nil {
		return nil, fmt.Errorf("reading the device whitelist: %w", err)
	}
	return parseDevList(text)
}

// rewriteDevList empties the whitelist of dir, then allows list's
// entries in order.
func rewriteDevList(dir string, list []devEntry) error {
	if err := cgroups.WriteFile(dir, "devices.deny", "a"); err != nil {
		return err
	}
	for _, d := range list {
		if err := cgroups.WriteFile(dir, "devices.allow", d.String()); err != nil {
			return err
		}
	}
	return nil
}

// onlyInit says whether the cgroup dir holds the init pid and nothing
// else: no other process and no child cgroup. Otherwise it says why not.
func onlyInit(dir string, pid int) (bool, string) {
	procs, err := cgroups.ReadFile(dir, "cgroup.procs")
	if err != nil {
		return false, err.Error()
	}
	if f := strings.Fields(procs); len(f) != 1 || f[0] != strconv.Itoa(pid) {
		return false, fmt.Sprintf("the cgroup %s holds processes other than the init (%d): %s", dir, pid, strings.Join(f, " "))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err.Error()
	}
	for _, e := range ents {
		if e.IsDir() {
			return false, fmt.Sprintf("the cgroup %s has a child cgroup %s", dir, e.Name())
		}
	}
	return true, ""
}
