package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// containerd is a containerd started by a test with its own root, state,
// socket and runc root under a temporary directory, the CRI plugin off.
type containerd struct {
	t       *testing.T
	dir     string
	sock    string
	runcDir string
}

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	require(t, "containerd", "ctr", "script")
	cleanHostDirs(t, "/sys/fs/cgroup/*/default", "/run/containerd")
	// Short paths: a unix socket's path has a 108-byte limit.
	dir, err := os.MkdirTemp("", "ctd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{t: t, dir: dir, sock: filepath.Join(dir, "ctd.sock"), runcDir: filepath.Join(dir, "runc")}
	config := `version = 2
root = "` + dir + `/root"
state = "` + dir + `/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "` + c.sock + `"
[ttrpc]
  address = "` + c.sock + `.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "` + dir + `/opt"
`
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Containers first (a test that failed half way), then the daemon
		// we started, by its pid, then whatever it mounted.
		out, _ := c.ctr("containers", "list", "-q")
		for _, id := range strings.Fields(out) {
			c.ctr("tasks", "kill", "-s", "KILL", id)
			time.Sleep(100 * time.Millisecond)
			c.ctr("tasks", "delete", id)
			c.ctr("containers", "delete", id)
		}
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		log.Close()
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing containerd's directory: %v", err)
		}
	})
	for i := 0; ; i++ {
		if _, code := c.ctr("version"); code == 0 {
			break
		}
		if i == 100 {
			b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("containerd did not start:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, code := c.ctr("images", "import", imageTar); code != 0 {
		t.Fatalf("ctr images import: %s", out)
	}
	return c
}

func (c *containerd) ctr(args ...string) (string, int) {
	c.t.Helper()
	return runCmd(c.t, nil, "ctr", append([]string{"--address", c.sock}, args...)...)
}

// runArgs are ctr run's arguments to run image with the runtime rt.
func (c *containerd) runArgs(rt string, flags ...string) []string {
	return append([]string{"run", "--rm", "--runc-binary", rt, "--runc-root", c.runcDir, "--fifo-dir", filepath.Join(c.dir, "fifo")}, flags...)
}

// TestContainerd runs containers from containerd's runc shim with
// podsec-runtime as its runc (ctr run --runc-binary): the process's
// identity and capability masks, a terminal (ctr run -t: the console
// socket), and the node policy refusing a privileged container.
func TestContainerd(t *testing.T) {
	c := startContainerd(t)

	args := append(c.runArgs(runtimeBin), "localhost/busybox:latest", "ctr-id", "sh", "-c", "id; grep Cap /proc/self/status")
	out, code := c.ctr(args...)
	if code != 0 || !strings.Contains(out, "uid=0(root) gid=0(root) groups=0(root),10(wheel)") {
		t.Fatalf("ctr run id: exit %d, %q", code, out)
	}
	// containerd's default set: the 14 capabilities of Docker's.
	if got := capEff(out); got != "00000000a80425fb" {
		t.Errorf("ctr run: CapEff %s, want 00000000a80425fb\n%s", got, out)
	}

	// -t: the shim hands podsec-runtime a console socket.
	line := "ctr --address " + c.sock + " " + strings.Join(c.runArgs(runtimeBin, "-t"), " ") +
		" localhost/busybox:latest ctr-tty sh -c 'tty; test -t 0 && echo stdin-is-a-tty'"
	out, code = inTerminal(t, nil, line)
	if code != 0 || !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "stdin-is-a-tty") {
		t.Errorf("ctr run -t: exit %d, %q; want a pty", code, out)
	}

	// The node policy: baseline runs a container with containerd's
	// default seccomp profile and refuses a privileged one.
	// containerd 1.6's default profile allows io_uring and socket(2) of
	// every family, which podsec's RuntimeDefault refuses: the node
	// accepts them by name.
	baseline := policyWrapper(t, "baseline", "allowedSyscalls: [io_uring_enter, io_uring_register, io_uring_setup, socket]")
	out, code = c.ctr(append(c.runArgs(baseline, "--seccomp"), "localhost/busybox:latest", "ctr-base", "true")...)
	if code != 0 {
		t.Errorf("ctr run --seccomp under baseline: exit %d, %q", code, out)
	}
	out, code = c.ctr(append(c.runArgs(baseline, "--privileged"), "localhost/busybox:latest", "ctr-priv", "true")...)
	t.Logf("ctr run --privileged under baseline:\n%s", out)
	for _, want := range []string{
		"ctr: failed to create shim task: OCI runtime create failed: podsec-runtime create failed: process.capabilities.bounding: ",
		"CAP_SYS_ADMIN",
		`not allowed by the node policy "baseline": non-default capabilities`,
		`linux.devices: `,
		`mounts[5]: "/sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`,
	} {
		if code == 0 || !strings.Contains(out, want) {
			t.Errorf("ctr run --privileged under baseline: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	// Without --seccomp, ctr runs unconfined: refused too.
	out, code = c.ctr(append(c.runArgs(baseline), "localhost/busybox:latest", "ctr-noseccomp", "true")...)
	if code == 0 || !strings.Contains(out, `linux.seccomp: unset (unconfined) is not allowed by the node policy "baseline": seccompProfile`) {
		t.Errorf("ctr run without --seccomp under baseline: exit %d, %q", code, out)
	}
	if out, _ := c.ctr("containers", "list", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left: %q", out)
	}
}
