package attack

import (
	"encoding/json"
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Fresh variants of the bundles TestOCI* hand podsec-runtime: each spells
// a refused field so that the node policy read it one way and libcontainer
// another.

// TestRedteamOCISysfsReadOnlyUndone: the writable-sysfs check looked for
// "ro" among a sysfs mount's options, but libcontainer applies them in
// order, so ["ro", "rw"] is a read-write /sys of the node's kernel
// (/sys/kernel/mm, /sys/power, uevent_helper where built). Nothing is
// written.
func TestRedteamOCISysfsReadOnlyUndone(t *testing.T) {
	probe := "/sys/kernel/mm/transparent_hugepage/enabled"
	b := newOCIBundle(t, "rtsysrw", false, "/bin/sh", "-c", "/attacker rt-writable-mount /sys/kernel; /attacker oci-openwrite "+probe)
	i := mountIndex(t, b.spec, "sysfs")
	ro := b.spec.Mounts[i].Options
	b.spec.Mounts[i].Options = append(append([]string{}, ro...), "rw")
	out, code := b.run("level: baseline")
	expectRefused(t, out, code, `mounts[5]: "/sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`, "OK rt-writable-mount")
	harness.ExpectNoText(t, out, "OK oci-openwrite")
	// The recursive spelling is refused as well.
	b.spec.Mounts[i].Options = append(append([]string{}, ro...), "rrw")
	out, code = b.run("level: baseline")
	expectRefused(t, out, code, `"/sys" mounted read-write`, "OK rt-writable-mount")
	// Control: "ro" alone runs and /sys is read-only.
	b.spec.Mounts[i].Options = ro
	out, _ = b.run("level: baseline")
	harness.ExpectLine(t, out, "FAIL rt-writable-mount: /sys/kernel is on a read-only mount")
	harness.ExpectLine(t, out, "FAIL oci-openwrite: open "+probe+" for writing: read-only file system")
}

// mountIndex is the index of the spec's mount of type typ.
func mountIndex(t *testing.T, s *specs.Spec, typ string) int {
	t.Helper()
	for i, m := range s.Mounts {
		if m.Type == typ {
			return i
		}
	}
	t.Fatalf("no %s mount in the spec", typ)
	return -1
}

// outsideSecret makes a node directory outside the bundle and every
// allowed bind source, holding "secret", and returns it and the secret.
func outsideSecret(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	secret := fmt.Sprintf("outside-secret-%d", os.Getpid())
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

// TestRedteamOCIBindSymlinkDotDot: the policy cleaned a bind source
// before resolving it, so BUNDLE/link/.. was judged as the bundle; the
// kernel follows link first, and ".." leaves its target: with link ->
// OUTSIDE/sub, the mount is OUTSIDE, a node directory no rule allows.
func TestRedteamOCIBindSymlinkDotDot(t *testing.T) {
	outside, secret := outsideSecret(t)
	b := newOCIBundle(t, "rtdotdot", false, "/attacker", "rt-read", "/host/secret")
	if err := os.Symlink(filepath.Join(outside, "sub"), filepath.Join(b.dir, "link")); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(b.dir, "link") + "/.."
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/host", Type: "bind", Source: src, Options: []string{"rbind", "rw"}})
	out, code := b.run("level: baseline")
	expectRefused(t, out, code, fmt.Sprintf(`(resolves to %q) at "/host" is not allowed by the node policy "baseline": hostPath volumes`, outside), secret)
	// Control: a directory of the bundle with the secret's name is a
	// volume like any other.
	vol := filepath.Join(b.dir, "vol")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "secret"), []byte("bundle-volume"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.spec.Mounts[len(b.spec.Mounts)-1].Source = vol
	out, _ = b.run("level: baseline")
	harness.ExpectLine(t, out, "content: bundle-volume")
}

// TestRedteamOCIBindMagicLink: /proc/PID/root of a container reads "/"
// on the node, so filepath.EvalSymlinks turned /proc/PID/root/ALLOWED
// into ALLOWED, an allowed bind source; the kernel goes into the
// container's root instead, where ALLOWED is the attacker's symlink to
// any node directory (absolute symlinks resolve from the node's /).
func TestRedteamOCIBindMagicLink(t *testing.T) {
	allowed := t.TempDir()
	outside, secret := outsideSecret(t)
	pol := []string{"level: baseline", "allowedBindSources: [" + allowed + "]"}

	// Container A, created and left waiting: its root is the bundle's
	// rootfs, where the allowed directory's path leads outside.
	a := newOCIBundle(t, "rtmagica", false, "/bin/sh", "-c", "true")
	link := filepath.Join(a.dir, "rootfs", allowed)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	pid := createOCI(t, a, pol...)

	b := newOCIBundle(t, "rtmagicb", false, "/attacker", "rt-read", "/host/secret")
	src := fmt.Sprintf("/proc/%d/root%s", pid, allowed)
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/host", Type: "bind", Source: src, Options: []string{"rbind", "rw"}})
	out, code := b.run(pol...)
	expectRefused(t, out, code, fmt.Sprintf(`%q (cannot be resolved) at "/host" is not allowed by the node policy "baseline": hostPath volumes`, src), secret)
	// Control: the allowed directory itself is a volume.
	if err := os.WriteFile(filepath.Join(allowed, "secret"), []byte("allowed-volume"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.spec.Mounts[len(b.spec.Mounts)-1].Source = allowed
	out, _ = b.run(pol...)
	harness.ExpectLine(t, out, "content: allowed-volume")
}

// createOCI creates the bundle's container (its init waits to be started)
// under the node policy and returns the init's PID; the container is
// deleted at the end of the test.
func createOCI(t *testing.T, b *ociBundle, policy ...string) int {
	t.Helper()
	data, err := json.MarshalIndent(b.spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	pol := filepath.Join(tmp, "policy.yaml")
	if err := os.WriteFile(pol, []byte(strings.Join(policy, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tmp, "state")
	rt := harness.RuntimeBin(t)
	t.Cleanup(func() { _ = exec.Command(rt, "--root", state, "delete", "--force", b.id).Run() })
	// The init keeps the output open: a file, not a pipe the test would
	// wait on.
	log, err := os.Create(filepath.Join(tmp, "create.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(rt, "--root", state, "--policy", pol, "create", "--bundle", b.dir, b.id)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(log.Name())
		t.Fatalf("podsec-runtime create: %v\n%s", err, msg)
	}
	st, err := exec.Command(rt, "--root", state, "state", b.id).Output()
	if err != nil {
		t.Fatalf("podsec-runtime state: %v", err)
	}
	var s struct{ Pid int }
	if err := json.Unmarshal(st, &s); err != nil || s.Pid <= 0 {
		t.Fatalf("podsec-runtime state: %q: no pid (%v)", st, err)
	}
	return s.Pid
}
