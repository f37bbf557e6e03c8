package oci

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/ocispec"
)

// DefaultPolicyPath is the node policy read when --policy is not given. A
// node without the file has no policy (privileged), as a cluster without
// PodSecurity labels.
const DefaultPolicyPath = "/etc/podsec/runtime-policy.yaml"

// nodePolicy is the policy in force and where it came from.
type nodePolicy struct {
	ocispec.Policy
	path string
}

// loadPolicy reads --policy, else the default file if it exists. A policy
// file that cannot be read or parsed fails the command: a node policy is
// never silently dropped.
func (g *globals) loadPolicy() (*nodePolicy, error) {
	path := g.policy
	if path == "" {
		if _, err := os.Stat(DefaultPolicyPath); errors.Is(err, os.ErrNotExist) {
			return &nodePolicy{Policy: ocispec.Policy{Level: ocispec.Privileged}}, nil
		}
		path = DefaultPolicyPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the node policy: %w", err)
	}
	p, err := ocispec.ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("node policy %s: %w", path, err)
	}
	return &nodePolicy{Policy: p, path: path}, nil
}

// check holds a spec to the policy with this host's facts. bundle is the
// bundle directory: a relative root.path or bind source is relative to it.
func (p *nodePolicy) check(s *specs.Spec, bundle string) error {
	opts := hostOptions()
	if bundle != "" {
		// The bundle is resolved as the kernel will resolve the paths
		// joined to it: a bundle named through a magic link would grant
		// a node directory its name's text does not say.
		b, err := resolvePath(bundle)
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		opts.BundleDir = b
	}
	return p.wrap(p.Check(s, opts))
}

// checkProcess holds an exec'd process to the policy.
func (p *nodePolicy) checkProcess(proc *specs.Process) error {
	return p.wrap(p.CheckProcess(proc, hostOptions()))
}

func (p *nodePolicy) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w (node policy in %s)", err, p.path)
}

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
