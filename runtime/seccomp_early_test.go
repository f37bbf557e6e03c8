//go:build seccomp

package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/spec"
)

// markPod is a pod whose container, under RuntimeDefault, runs script
// with the node's directory dir at /mark.
func markPod(name, dir, script string) string {
	return pod(name, busybox, script,
		"securityContext: {seccompProfile: {type: RuntimeDefault}}\nvolumeMounts: [{name: mark, mountPath: /mark}]",
		fmt.Sprintf("restartPolicy: Never\nvolumes: [{name: mark, hostPath: {path: %s, type: Directory}}]", dir))
}

// markShell puts a copy of busybox at dir/sh, for a container to run as
// /mark/sh, and returns a function that reports whether it was opened
// since: an execve opens the file it runs, and the kernel queues the
// inotify event before the open returns, so a process executed even for
// an instant (killed at once by a parent that found it wrong) is seen,
// with no timing involved. Nothing else opens the copy: libcontainer's
// init only stats a command.
func markShell(t *testing.T, dir string) (opened func() bool) {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	sh := filepath.Join(dir, "sh")
	if err := os.WriteFile(sh, bb, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify_init1: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, sh, unix.IN_OPEN); err != nil {
		t.Fatalf("inotify_add_watch(%s): %v", sh, err)
	}
	return func() bool {
		buf := make([]byte, 4096)
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return false
		}
		if err != nil {
			t.Fatalf("reading inotify events: %v", err)
		}
		return n > 0
	}
}

// handNoEarlyFilter makes every early filter handed to a container's init
// a sealed memfd of the right content under another name, as an init
// that did not get its filter would see it, until restore is called or
// the test ends.
func handNoEarlyFilter(t *testing.T) (restore func()) {
	t.Helper()
	earlyMemfd = func(_ string, b []byte) (*os.File, error) { return sealedMemfd("podsec-not-early", b) }
	restore = func() { earlyMemfd = sealedMemfd }
	t.Cleanup(restore)
	return restore
}

// TestEarlyFilterMissingRun: a container whose init is not handed its
// early filter never runs its process (which would leave a file in a
// hostPath), and the pod's start fails naming seccomp, leaving nothing
// behind. Before the init refused, the process ran under the late filter
// alone until the parent counted the filters after Run.
func TestEarlyFilterMissingRun(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	opened := markShell(t, dir)
	handNoEarlyFilter(t)
	manifest := strings.Replace(markPod("early-missing", dir, "touch /mark/ran"), `["sh", "-c"`, `["/mark/sh", "-c"`, 1)
	out, _, _, err := runPod(t, manifest)
	if err == nil || !strings.Contains(err.Error(), "seccomp: "+errNoEarly) {
		t.Errorf("Run(early filter missing) error = %v, want the init's refusal naming seccomp (output %q)", err, out)
	}
	if opened() {
		t.Errorf("the container's command /mark/sh was executed without its early filter (output %q)", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); !os.IsNotExist(err) {
		t.Errorf("the container's process ran without its early filter (Stat = %v; output %q)", err, out)
	}
}

// TestEarlyFilterNotLoaded: an init that never loads the early filter
// (it does not run ContainerInit: init_hook_test.go) is found out by the
// parent's count of filters while it waits on the exec fifo, before the
// container's process exists: that process is never executed, and the
// error names seccomp. Run used to exec it before counting.
func TestEarlyFilterNotLoaded(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	opened := markShell(t, dir)
	earlyMemfd = func(_ string, b []byte) (*os.File, error) { return sealedMemfd(noContainerInitMemfd, b) }
	t.Cleanup(func() { earlyMemfd = sealedMemfd })
	manifest := strings.Replace(markPod("early-not-loaded", dir, "touch /mark/ran"), `["sh", "-c"`, `["/mark/sh", "-c"`, 1)
	out, _, _, err := runPod(t, manifest)
	if err == nil || !strings.Contains(err.Error(), "seccomp: the process runs under 1 seccomp filters, not its profile's 2: the container's process was not executed") {
		t.Errorf("Run(early filter not loaded) error = %v, want one naming seccomp, 1 filter, and the process not executed (output %q)", err, out)
	}
	if opened() {
		t.Errorf("the container's command /mark/sh was executed without its early filter (output %q)", out)
	}
}

// TestEarlyFilterMissingExec: podsec exec in a running container of a
// split profile runs a process under both filters; a process whose init
// is not handed its early filter never runs (it would leave a file in a
// hostPath) and Exec fails naming seccomp. A setns process execs as soon
// as libcontainer's init is done, so only the init's refusal keeps it
// from running.
func TestEarlyFilterMissingExec(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	pods, err := spec.DecodePods(strings.NewReader(markPod("early-missing-exec", dir, "exec sleep 600")))
	if err != nil {
		t.Fatal(err)
	}
	root := testRoot(t)
	rt, err := New(Config{Root: root, Images: testImages{}, Output: &syncBuffer{}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p, err := rt.Start(context.Background(), pods[0])
	t.Cleanup(func() {
		if p != nil {
			p.Stop(0)
			p.Wait()
			if err := p.Cleanup(); err != nil {
				t.Errorf("Cleanup: %v", err)
			}
		}
		assertClean(t, root, pods[0])
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	exec := func(args ...string) (string, int, error) {
		var out bytes.Buffer
		code, err := rt.Layout().Exec(pods[0].Namespace, pods[0].Name, "main",
			ExecOptions{Args: args, Stdout: &out, Stderr: &out})
		return out.String(), code, err
	}
	got, code, err := exec("grep", "Seccomp_filters", "/proc/self/status")
	if err != nil || code != 0 || !strings.Contains(got, "Seccomp_filters:\t2") {
		t.Fatalf("Exec(grep Seccomp_filters) = %q, %d, %v, want Seccomp_filters 2", got, code, err)
	}
	opened := markShell(t, dir)
	restore := handNoEarlyFilter(t)
	// A few times: the parent's count after the start, which was all
	// there was, lost the race to the process's execve only some times.
	for range 5 {
		got, code, err = exec("/mark/sh", "-c", "touch /mark/exec")
		if err == nil || !strings.Contains(err.Error(), "seccomp: "+errNoEarly) {
			t.Errorf("Exec(early filter missing) = %q, %d, %v, want the init's refusal naming seccomp", got, code, err)
		}
		if opened() {
			t.Fatalf("the exec'd command /mark/sh was executed without its early filter (output %q)", got)
		}
	}
	// The watch sees an execution: with its early filter the same
	// command runs, and is seen.
	restore()
	if got, code, err = exec("/mark/sh", "-c", "grep Seccomp_filters /proc/self/status"); err != nil || code != 0 || !strings.Contains(got, "Seccomp_filters:\t2") {
		t.Errorf("Exec(/mark/sh) = %q, %d, %v, want Seccomp_filters 2", got, code, err)
	}
	if !opened() {
		t.Error("the watch did not see /mark/sh executed")
	}
	if _, err := os.Stat(filepath.Join(dir, "exec")); !os.IsNotExist(err) {
		t.Errorf("the exec'd process ran without its early filter (Stat = %v; output %q)", err, got)
	}
}
