package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/seccomp"
)

// The attacks of this file hand podsec-runtime a bundle, as containerd or
// podman would, whose spec reaches the node through a field a pod has no
// way to set, and check that the node policy refuses it before anything
// runs. Each has a control: the same bundle without the offending field
// runs at that level, and the attacker program inside shows what it saw.

// ociCgroupParent holds the bundles' cgroups; each test removes its own.
const ociCgroupParent = "/podsec-attack-oci"

// defaultCaps are containerd's and Docker's default capabilities (what
// baseline allows).
var defaultCaps = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

// ociBundle is a bundle directory with a busybox rootfs holding the
// attacker at /attacker, and the spec its config.json will hold.
type ociBundle struct {
	t    *testing.T
	dir  string
	id   string
	spec *specs.Spec
}

// newOCIBundle makes a bundle whose spec baseline allows (restricted too
// when restricted is set: uid 1000, no capability but
// NET_BIND_SERVICE, no privilege escalation) and runs args.
func newOCIBundle(t *testing.T, name string, restricted bool, args ...string) *ociBundle {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "dev", "etc", "proc", "sys", "tmp", "host", "p"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "/bin/busybox", filepath.Join(rootfs, "bin", "busybox"))
	for _, a := range []string{"sh", "test", "echo", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join(harness.AttackerDir(t), "attacker"), filepath.Join(rootfs, "attacker"))

	caps, uid, nnp := defaultCaps, uint32(0), false
	if restricted {
		caps, uid, nnp = []string{"CAP_NET_BIND_SERVICE"}, 1000, true
	}
	id := fmt.Sprintf("%s-%d-%d", name, os.Getpid(), time.Now().UnixNano()%1e6)
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{UID: uid, GID: uid}, Args: args, Cwd: "/", NoNewPrivileges: nnp,
			Env:          []string{"PATH=/bin"},
			Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
		},
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: name,
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: ociCgroupParent + "/" + id,
			Namespaces:  []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}},
			Resources:   &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			Seccomp:     seccomp.RuntimeDefault(caps),
			MaskedPaths: []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	b := &ociBundle{t: t, dir: dir, id: id, spec: s}
	t.Cleanup(func() { removeCgroup(ociCgroupParent + "/" + id) })
	return b
}

// run writes the spec and runs the bundle in the foreground under a
// node policy (the lines of its file), returning podsec-runtime's output
// and exit code.
func (b *ociBundle) run(policy ...string) (string, int) {
	t := b.t
	t.Helper()
	data, err := json.MarshalIndent(b.spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte(strings.Join(policy, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	rt := harness.RuntimeBin(t)
	t.Cleanup(func() { _ = exec.Command(rt, "--root", state, "delete", "--force", b.id).Run() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, rt, "--root", state, "--policy", pol, "run", "--bundle", b.dir, b.id).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("podsec-runtime run: %v", err)
	}
	t.Logf("podsec-runtime run %s (%s): exit %d\n%s", b.id, strings.Join(policy, "; "), code, out)
	return string(out), code
}

// expectRefused checks that the policy refused the bundle with want.
func expectRefused(t *testing.T, out string, code int, want, attackOK string) {
	t.Helper()
	if code == 0 || !strings.Contains(out, "podsec-runtime run failed: ") || !strings.Contains(out, want) {
		t.Errorf("run: exit %d, output %q; want refused with %q", code, out, want)
	}
	harness.ExpectNoText(t, out, attackOK)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// removeCgroup removes a bundle's cgroup and the parent, if empty, in
// every hierarchy.
func removeCgroup(path string) {
	for _, pat := range []string{"/sys/fs/cgroup/*" + path, "/sys/fs/cgroup/*" + filepath.Dir(path), "/sys/fs/cgroup" + path, "/sys/fs/cgroup" + filepath.Dir(path)} {
		dirs, _ := filepath.Glob(pat)
		for _, d := range dirs {
			os.Remove(d)
		}
	}
}

// TestOCIHookRunsOnNode: a createRuntime hook is a program the runtime
// runs on the node, as root; restricted refuses it and it never runs.
func TestOCIHookRunsOnNode(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "hook-ran")
	b := newOCIBundle(t, "hook", true, "sh", "-c", "echo ran-in-container")
	b.spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}}}
	out, code := b.run("level: restricted")
	expectRefused(t, out, code, `hooks.createRuntime[0]: "/bin/sh" is not allowed by the node policy "restricted": hooks run on the node`, "ran-in-container")
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the hook ran on the node: %s exists", marker)
	}
	// Control: the bundle without its hook runs at restricted.
	b.spec.Hooks = nil
	if out, code := b.run("level: restricted"); code != 0 || !strings.Contains(out, "ran-in-container") {
		t.Errorf("bundle without a hook at restricted: exit %d, %q; want it run", code, out)
	}
}

// TestOCISecondProc: a second proc mount has none of the masks and
// read-only paths of /proc, so /p/sys/kernel/core_pattern (the node's
// crash handler, run as root) opens for writing. Nothing is written.
func TestOCISecondProc(t *testing.T) {
	b := newOCIBundle(t, "proc2", false, "/attacker", "oci-openwrite", "/p/sys/kernel/core_pattern")
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/p", Type: "proc", Source: "proc"})
	out, code := b.run("level: baseline")
	expectRefused(t, out, code, `proc at "/p" is not allowed by the node policy "baseline": kernel filesystems only at their usual place`, "OK oci-openwrite")
	// Control: without the second proc the container runs, and its
	// /proc/sys is read-only.
	b.spec.Mounts = b.spec.Mounts[:len(b.spec.Mounts)-1]
	b.spec.Process.Args = []string{"/attacker", "oci-openwrite", "/proc/sys/kernel/core_pattern"}
	out, _ = b.run("level: baseline")
	harness.ExpectLine(t, out, "FAIL oci-openwrite: open /proc/sys/kernel/core_pattern for writing: read-only file system")
}

// TestOCIBindNodeRoot: a bind mount of the node's / is a hostPath volume
// of the whole node, read-write.
func TestOCIBindNodeRoot(t *testing.T) {
	b := newOCIBundle(t, "bindroot", false, "/attacker", "oci-openwrite", "/host/etc/hostname")
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/host", Type: "bind", Source: "/", Options: []string{"rbind", "rw"}})
	out, code := b.run("level: baseline")
	expectRefused(t, out, code, `.source: "/" at "/host" is not allowed by the node policy "baseline": hostPath volumes`, "OK oci-openwrite")
	b.spec.Mounts = b.spec.Mounts[:len(b.spec.Mounts)-1]
	out, _ = b.run("level: baseline")
	harness.ExpectLine(t, out, "FAIL oci-openwrite: open /host/etc/hostname for writing: no such file or directory")
}

// TestOCISymlinkBindSource: a bind source below an allowed directory that
// is a symlink to the node's / is the node's /: the runtime resolves it
// before the policy judges it.
func TestOCISymlinkBindSource(t *testing.T) {
	allowed := t.TempDir()
	if err := os.Symlink("/", filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(allowed, "vol")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pol := []string{"level: baseline", "allowedBindSources: [" + allowed + "]"}
	b := newOCIBundle(t, "bindlink", false, "/attacker", "oci-openwrite", "/host/etc/hostname")
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/host", Type: "bind", Source: filepath.Join(allowed, "link"), Options: []string{"rbind", "rw"}})
	out, code := b.run(pol...)
	expectRefused(t, out, code, `(resolves to "/") at "/host" is not allowed by the node policy "baseline": hostPath volumes`, "OK oci-openwrite")
	// Control: a real directory there is a volume like any other.
	b.spec.Mounts[len(b.spec.Mounts)-1].Source = vol
	b.spec.Process.Args = []string{"/attacker", "oci-openwrite", "/host/f"}
	out, code = b.run(pol...)
	if code != 0 {
		t.Errorf("bind of an allowed directory: exit %d", code)
	}
	harness.ExpectLine(t, out, "OK oci-openwrite")
}

// TestOCISeccompAllowAll: a profile that allows everything but acct is
// one rule long, not confined; keyctl reaches the node's keyrings.
func TestOCISeccompAllowAll(t *testing.T) {
	b := newOCIBundle(t, "seccomp", false, "/attacker", "oci-keyctl")
	rd := b.spec.Linux.Seccomp
	b.spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"acct"}, Action: specs.ActErrno}}}
	out, code := b.run("level: baseline")
	expectRefused(t, out, code, `linux.seccomp.defaultAction: SCMP_ACT_ALLOW (lets every syscall it does not name run) is not allowed by the node policy "baseline"`, "OK oci-keyctl")
	b.spec.Linux.Seccomp = rd
	out, _ = b.run("level: baseline")
	harness.ExpectLine(t, out, "FAIL oci-keyctl: keyctl(KEYCTL_GET_KEYRING_ID): operation not permitted")
}

// TestOCIRootIsNode: root.path "/" would make the node's filesystem the
// container's; the node's /etc/os-release is not in the test image.
func TestOCIRootIsNode(t *testing.T) {
	b := newOCIBundle(t, "rootnode", true, "/bin/sh", "-c", "if test -e /etc/os-release; then echo NODE-ROOT; else echo IMAGE-ROOT; fi")
	b.spec.Root.Path = "/"
	// Without the policy, libcontainer happens to fail to jail a process
	// in the node's / (pivot_root: EBUSY; with --no-pivot, MS_MOVE:
	// ELOOP): the policy refuses it before, whatever libcontainer does.
	out, code := b.run("level: restricted")
	expectRefused(t, out, code, `root.path: "/" is not allowed by the node policy "restricted": root filesystems outside the bundle`, "NODE-ROOT")
	b.spec.Root.Path = "rootfs"
	if out, code := b.run("level: restricted"); code != 0 || !strings.Contains(out, "IMAGE-ROOT") {
		t.Errorf("bundle with its own root at restricted: exit %d, %q", code, out)
	}
}

// TestOCIIdentityUserNamespace: a user namespace mapping every ID to
// itself is no user namespace; it used to skip the masked-path check, and
// /proc/timer_list showed the node's timers.
func TestOCIIdentityUserNamespace(t *testing.T) {
	b := newOCIBundle(t, "userns", false, "/attacker", "oci-readnonempty", "/proc/timer_list")
	masked := b.spec.Linux.MaskedPaths
	b.spec.Linux.Namespaces = append(b.spec.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
	b.spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	b.spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	b.spec.Linux.MaskedPaths = nil
	out, code := b.run("level: baseline")
	expectRefused(t, out, code, `linux.maskedPaths: unmasked /proc/kcore`, "OK oci-readnonempty")
	expectRefused(t, out, code, `linux.uidMappings[0]: container ID 0 -> host ID 0 (size 4294967295), covering host ID 0 is not allowed by the node policy "baseline"`, "OK oci-readnonempty")
	// Control: masks, and IDs of the namespace's own, which must reach
	// the rootfs through the test's temporary directories.
	for _, d := range []string{filepath.Dir(b.dir), b.dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.spec.Linux.MaskedPaths = masked
	b.spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
	b.spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
	out, _ = b.run("level: baseline")
	harness.ExpectLine(t, out, "FAIL oci-readnonempty: /proc/timer_list reads empty (masked)")
}
