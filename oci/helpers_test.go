package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Binaries the tests run, built once by TestMain.
var (
	runtimeBin string // podsec-runtime
	podsecBin  string // podsec, for `podsec spec --bundle-dir` (or $PODSEC_BIN)
	buildErr   error
)

// cgroupParent holds the test containers' cgroups; TestMain removes it.
const cgroupParent = "/podsec-oci-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podsec-oci-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Geteuid() == 0 {
		runtimeBin, podsecBin, buildErr = buildBinaries(dir)
	}
	code := m.Run()
	os.RemoveAll(dir)
	removeCgroupParent()
	os.Exit(code)
}

// buildBinaries builds podsec-runtime and podsec from this module.
func buildBinaries(dir string) (string, string, error) {
	rt := filepath.Join(dir, "podsec-runtime")
	if err := goBuild(rt, "../cmd/podsec-runtime"); err != nil {
		return "", "", err
	}
	ps := os.Getenv("PODSEC_BIN")
	if ps == "" {
		ps = filepath.Join(dir, "podsec")
		if err := goBuild(ps, "../cmd/podsec"); err != nil {
			return "", "", err
		}
	}
	return rt, ps, nil
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-tags", "seccomp", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func removeCgroupParent() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + cgroupParent)
	more, _ := filepath.Glob("/sys/fs/cgroup/*/*" + cgroupParent) // e.g. memory under a nested cgroup
	for _, d := range append(dirs, more...) {
		os.Remove(d)
	}
}

// requireRoot skips without root, except on CI, where it fails: the
// tests run real containers.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("these tests run containers and need root; CI must run them as root")
		}
		t.Skip("needs root: runs containers")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// env is one --root of podsec-runtime and the flags given to every call.
type env struct {
	t     *testing.T
	root  string
	flags []string
}

func newEnv(t *testing.T, flags ...string) *env {
	t.Helper()
	requireRoot(t)
	e := &env{t: t, root: t.TempDir(), flags: flags}
	t.Cleanup(func() {
		// Anything a failed test left: kill and delete it.
		out, _, _ := e.run("list", "-q")
		for _, id := range strings.Fields(out) {
			e.run("delete", "--force", id)
		}
	})
	return e
}

// run runs podsec-runtime and returns its stdout, stderr and exit code.
func (e *env) run(args ...string) (string, string, int) {
	e.t.Helper()
	return e.runIn("", nil, args...)
}

func (e *env) runIn(dir string, stdin []byte, args ...string) (string, string, int) {
	e.t.Helper()
	all := append(append([]string{"--root", e.root}, e.flags...), args...)
	cmd := exec.Command(runtimeBin, all...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// Files, not pipes: a detached container keeps the runtime's stdio,
	// and exec.Cmd would wait for a pipe's last writer.
	outf, errf := tempFile(e.t), tempFile(e.t)
	cmd.Stdout, cmd.Stderr = outf, errf
	err := cmd.Run()
	out, errb := readBack(e.t, outf), readBack(e.t, errf)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running %v: %v", all, err)
	}
	return out, errb, code
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readBack(t *testing.T, f *os.File) string {
	t.Helper()
	defer f.Close()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// must runs podsec-runtime and fails the test unless it exits 0.
func (e *env) must(args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("podsec-runtime %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// state is the container's state from `state ID`.
func (e *env) state(id string) State {
	e.t.Helper()
	var s State
	if err := json.Unmarshal([]byte(e.must("state", id)), &s); err != nil {
		e.t.Fatalf("state %s: %v", id, err)
	}
	return s
}

// waitStatus waits until the container reaches status.
func (e *env) waitStatus(id, status string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.state(id)
		if s.Status == status {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %q, want %q", id, s.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitTrapped waits until podSleep's shell in bundle b has set its USR1
// trap: the shell is PID 1 of its PID namespace, and the kernel drops a
// signal sent to such a process before it has a handler for it.
func waitTrapped(t *testing.T, b string) {
	t.Helper()
	p := filepath.Join(b, "rootfs", "tmp", "trapped")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container's shell did not set its trap within 10 s (%s)", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pods the bundles are made from.
const (
	podSleep = `apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["/bin/sh", "-c", "trap 'echo got-usr1 > /tmp/usr1; exit 42' USR1; : >/tmp/trapped; while true; do sleep 0.05; done"]
    securityContext:
      runAsUser: 405
`
	podPrivileged = `apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["/bin/sh", "-c", "grep Cap /proc/self/status"]
    securityContext:
      privileged: true
`
)

// bundle writes a bundle with `podsec spec --bundle-dir` from a pod (NAME
// replaced by name) and makes it runnable outside a podsec pod: a busybox
// rootfs in the bundle, new namespaces instead of the pod sandbox's, the
// bind mounts' sources created, and a cgroup under cgroupParent. It
// returns the bundle directory.
func bundle(t *testing.T, pod, name string, edit func(*specs.Spec)) string {
	t.Helper()
	dir := t.TempDir()
	manifest := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(manifest, []byte(strings.ReplaceAll(pod, "NAME", name)), 0o644); err != nil {
		t.Fatal(err)
	}
	psroot := filepath.Join(dir, "podsec")
	out, err := exec.Command(podsecBin, "--root", psroot, "spec", "-f", manifest, "--bundle-dir", filepath.Join(dir, "bundles")).CombinedOutput()
	if err != nil {
		t.Fatalf("podsec spec --bundle-dir: %v\n%s", err, out)
	}
	b := filepath.Join(dir, "bundles", "main")
	path := filepath.Join(b, "config.json")
	var s specs.Spec
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Root.Path = "rootfs"
	makeRootfs(t, filepath.Join(b, "rootfs"))
	var nss []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		ns.Path = ""
		nss = append(nss, ns)
	}
	s.Linux.Namespaces = nss
	for _, m := range s.Mounts {
		if m.Type != "bind" || strings.HasPrefix(m.Source, "/dev") || strings.HasPrefix(m.Source, "/sys") {
			continue
		}
		if _, err := os.Stat(m.Source); err == nil {
			continue
		}
		switch filepath.Base(m.Destination) {
		case "hosts", "hostname", "resolv.conf", "termination-log":
			mkfile(t, m.Source, "")
		default:
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Linux.CgroupsPath = cgroupParent + "/" + name
	if edit != nil {
		edit(&s)
	}
	data, err = json.MarshalIndent(&s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mkfile(t, path, string(data))
	return b
}

// makeRootfs copies the static busybox into dir with its applets and a
// user database (the test image's, see image/internal/testimages).
func makeRootfs(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{"bin", "dev", "etc", "proc", "sys", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static is needed (scripts/setup installs it): %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "id", "cat", "echo", "sleep", "true", "grep", "ls", "test", "touch", "kill", "ps", "tty", "env"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	mkfile(t, filepath.Join(dir, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nguest:x:405:100:guest:/dev/null:/sbin/nologin\n")
	mkfile(t, filepath.Join(dir, "etc", "group"), "root:x:0:root\nusers:x:100:guest\n")
}

func mkfile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hookScript writes a hook that appends its name and the status it was
// given (on stdin) to log, as a host shell script.
func hookScript(t *testing.T, dir, log string) string {
	t.Helper()
	p := filepath.Join(dir, "hook.sh")
	mkfile(t, p, "#!/bin/sh\nstatus=$(sed -n 's/.*\"status\": *\"\\([a-z]*\\)\".*/\\1/p')\necho \"$1 $status\" >> "+log+"\n")
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
