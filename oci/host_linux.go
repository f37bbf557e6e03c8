package oci

import (
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/ocispec"
)

// hostOptions are the facts of this host the checks need.
func hostOptions() ocispec.Options {
	return ocispec.Options{HostNamespace: isOwnNamespace, AppArmor: appArmorEnabled(), RealPath: resolvePath}
}

// resolvePath is the node path the kernel reaches through p, as it will
// when libcontainer mounts p: the kernel resolves it (symlinks and ".."
// in order, so "dir/link/.." is the parent of link's target) and names
// what it opened. Magic links (/proc/PID/root, cwd, fd/N) are refused:
// their text is a path in another process's mount namespace, not the
// place they lead to, so filepath.EvalSymlinks judged
// /proc/PID/root/ALLOWED as ALLOWED of the node while the kernel went
// into another container's root and followed its symlinks from the
// node's /.
func resolvePath(p string) (string, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return "", &os.PathError{Op: "resolving", Path: p, Err: err}
	}
	defer unix.Close(fd)
	return os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
}

// nsFiles are the /proc/self/ns names of the namespace types.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.NetworkNamespace: "net", specs.PIDNamespace: "pid", specs.IPCNamespace: "ipc",
	specs.UTSNamespace: "uts", specs.MountNamespace: "mnt", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// isOwnNamespace reports whether path is the runtime's own namespace of
// its type, or the node's (PID 1's): joining it is sharing the host's. A
// path that cannot be read is left to libcontainer, which will fail to
// join it.
func isOwnNamespace(typ specs.LinuxNamespaceType, path string) bool {
	name, ok := nsFiles[typ]
	if !ok {
		return false
	}
	var other unix.Stat_t
	if unix.Stat(path, &other) != nil {
		return false
	}
	for _, host := range []string{"/proc/self/ns/" + name, "/proc/1/ns/" + name} {
		var st unix.Stat_t
		if unix.Stat(host, &st) == nil && st.Dev == other.Dev && st.Ino == other.Ino {
			return true
		}
	}
	return false
}

// appArmorEnabled reports whether AppArmor confines processes here.
func appArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}
