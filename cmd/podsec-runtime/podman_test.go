package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podsec/podsec/oci"
)

// podman is podman with its own storage, run root and configuration
// (CONTAINERS_CONF) under a temporary directory: nothing of the host's
// containers configuration changes.
type podman struct {
	t    *testing.T
	dir  string
	env  []string
	base []string
}

// containersConf keeps podman within this machine's limits: default
// ulimits under the host's hard limits, cgroupfs (no systemd), events in
// a file, and no network (the tests are about the runtime; a bridge would
// leave a cni-podman0 on the host).
const containersConf = `[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "DIR/events.log"
tmp_dir = "DIR/tmp"

[network]
network_config_dir = "DIR/net"
`

func newPodman(t *testing.T) *podman {
	t.Helper()
	require(t, "podman", "conmon", "script")
	// Podman also calls its runtime once without --root (an empty
	// /run/podsec-runtime is left): removed unless it was there.
	cleanHostDirs(t, "/sys/fs/cgroup/*/libpod_parent", "/var/lib/cni", oci.DefaultRoot)
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(containersConf, "DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &podman{t: t, dir: dir, env: []string{"CONTAINERS_CONF=" + conf},
		base: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot")}}
	t.Cleanup(func() {
		p.podman("rm", "--all", "--force")
		p.podman("pod", "rm", "--all", "--force")
		p.podman("system", "reset", "--force")
		unmountUnder(t, dir)
	})
	if out, code := p.podman("load", "-i", imageTar); code != 0 || !strings.Contains(out, "localhost/busybox:latest") {
		t.Fatalf("podman load: exit %d, %s", code, out)
	}
	return p
}

func (p *podman) podman(args ...string) (string, int) {
	p.t.Helper()
	return runCmd(p.t, p.env, "podman", append(append([]string{}, p.base...), args...)...)
}

// TestPodman runs containers from podman with podsec-runtime as its
// runtime: podman run, podman run -t (conmon's console socket), podman
// kube play of a seed pod, and the node policy refusing --privileged.
func TestPodman(t *testing.T) {
	p := newPodman(t)
	out, code := p.podman("--runtime", runtimeBin, "run", "--rm", "localhost/busybox", "id")
	if code != 0 || strings.TrimSpace(out) != "uid=0(root) gid=0(root) groups=0(root),10(wheel)" {
		t.Errorf("podman run --rm localhost/busybox id: exit %d, %q", code, out)
	}
	out, code = p.podman("--runtime", runtimeBin, "run", "--rm", "localhost/busybox", "grep", "Cap", "/proc/self/status")
	// Debian's containers.conf: the 14 default capabilities of Docker's.
	if got := capEff(out); code != 0 || got != "00000000a80425fb" {
		t.Errorf("podman run: CapEff %s (exit %d), want 00000000a80425fb\n%s", got, code, out)
	}

	line := "podman " + strings.Join(p.base, " ") + " --runtime " + runtimeBin + " run --rm -t localhost/busybox sh -c 'tty; test -t 0 && echo stdin-is-a-tty'"
	out, code = inTerminal(t, p.env, line)
	if code != 0 || !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "stdin-is-a-tty") {
		t.Errorf("podman run -t: exit %d, %q; want a pty", code, out)
	}

	// The seed pod (testdata/pods/pod-as-user-guest.yaml) with a command
	// that ends, so its output is there to read. kube play ignores
	// containers.conf's netns: --network none, or it leaves a cni-podman1
	// bridge on the host.
	kube := filepath.Join(p.dir, "pod.yaml")
	pod := `apiVersion: v1
kind: Pod
metadata:
  name: pod-as-user-guest
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["id"]
    securityContext:
      runAsUser: 405
`
	if err := os.WriteFile(kube, []byte(pod), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := p.podman("--runtime", runtimeBin, "kube", "play", "--network", "none", kube); code != 0 {
		t.Fatalf("podman kube play: exit %d, %s", code, out)
	}
	if out, code := p.podman("wait", "pod-as-user-guest-main"); code != 0 || strings.TrimSpace(out) != "0" {
		t.Errorf("podman wait: exit %d, %q", code, out)
	}
	if out, _ := p.podman("logs", "pod-as-user-guest-main"); !strings.Contains(out, "uid=405(guest) gid=100(users)") {
		t.Errorf("podman kube play: the container printed %q, want uid=405(guest)", out)
	}
	if out, code := p.podman("--runtime", runtimeBin, "kube", "down", kube); code != 0 {
		t.Errorf("podman kube down: exit %d, %s", code, out)
	}

	// The node policy: baseline runs podman's default container and
	// refuses --privileged, and podman shows the user why.
	// Its storage is the test's, not /var/lib/containers and
	// /run/containers; podman 4.3's default seccomp profile allows
	// syscalls podsec's RuntimeDefault refuses (keyctl, unshare, mount,
	// socket of every family...): the node accepts them by name.
	baseline := policyWrapper(t, "baseline",
		"allowedBindSources: ["+filepath.Join(p.dir, "runroot")+"]",
		"allowedRootPrefixes: ["+filepath.Join(p.dir, "root")+"]",
		"allowedSyscalls: [clone, clone3, fsconfig, fsmount, fsopen, fspick, get_mempolicy, keyctl, mbind, mount, "+
			"mount_setattr, move_mount, open_tree, pidfd_getfd, pivot_root, readdir, reboot, set_mempolicy, setns, "+
			"sigaction, signal, sigpending, sigsuspend, socket, syscall, syslog, timerfd, umount, umount2, unshare]")
	if out, code := p.podman("--runtime", baseline, "run", "--rm", "localhost/busybox", "true"); code != 0 {
		t.Errorf("podman run under baseline: exit %d, %s", code, out)
	}
	out, code = p.podman("--runtime", baseline, "run", "--rm", "--privileged", "localhost/busybox", "true")
	t.Logf("podman run --privileged under baseline:\n%s", out)
	for _, want := range []string{
		"Error: OCI runtime error: " + baseline + ": podsec-runtime create failed: process.capabilities.bounding: ",
		"CAP_SYS_ADMIN",
		`not allowed by the node policy "baseline": non-default capabilities`,
		`"/sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`,
	} {
		if code == 0 || !strings.Contains(out, want) {
			t.Errorf("podman run --privileged under baseline: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	if out, _ := p.podman("ps", "--all", "--quiet"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left: %q", out)
	}
}
