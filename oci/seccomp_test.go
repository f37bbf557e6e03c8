package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompProbe prints the process's seccomp filters, tries a call the
// late filter holds back (unshare, RuntimeDefault without CAP_SYS_ADMIN)
// and names its descriptor 3.
const seccompProbe = "grep Seccomp_filters /proc/self/status; unshare -U true 2>/dev/null || echo unshare-refused; readlink /proc/self/fd/3 || echo no-fd-3"

// TestSplitSeccomp: a container of a RuntimeDefault bundle runs under the
// split profile's two filters, its init taking the early one from the
// seccomp cache under --root (which list does not take for a
// container); a process exec'd in it too, with a preserved descriptor
// keeping its number; and an exec whose early filter is lost is refused
// and killed rather than left under the late filter alone.
func TestSplitSeccomp(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "split", func(s *specs.Spec) {
		if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
			t.Fatalf("podsec spec gave seccomp %+v, want RuntimeDefault", s.Linux.Seccomp)
		}
		s.Process.Args = []string{"sh", "-c", seccompProbe}
	})
	want := "Seccomp_filters:\t2\nunshare-refused\nno-fd-3\n"
	for i := range 2 { // compiled, then from the cache
		if out := e.must("run", "--bundle", b, "split"); out != want {
			t.Errorf("run %d: output %q, want %q", i, out, want)
		}
	}
	progs, err := os.ReadDir(filepath.Join(e.root, cacheDir, "seccomp-cache"))
	if err != nil || len(progs) != 1 {
		t.Errorf("seccomp cache: %v, %v; want one program", progs, err)
	}
	if out := e.must("list", "-q"); out != "" {
		t.Errorf("list -q = %q, want no container", out)
	}

	b = bundle(t, podSleep, "split-exec", func(s *specs.Spec) {
		s.Annotations = map[string]string{"example.com/a": "b"}
	})
	e.must("run", "-d", "--bundle", b, "x")
	// The split's mark is not one of the bundle's annotations (state,
	// and the hooks' stdin, show the bundle's own).
	if got := e.state("x").Annotations; len(got) != 1 || got["example.com/a"] != "b" {
		t.Errorf("state annotations %v, want the bundle's own: map[example.com/a:b]", got)
	}
	preserved := filepath.Join(t.TempDir(), "preserved")
	mkfile(t, preserved, "")
	out, errs, err := e.execFd3(preserved, "exec", "--preserve-fds", "1", "x", "sh", "-c", seccompProbe)
	if want := "Seccomp_filters:\t2\nunshare-refused\n" + preserved + "\n"; err != nil || out != want {
		t.Errorf("exec --preserve-fds 1: %v, %q, stderr %q; want %q", err, out, errs, want)
	}

	// The sidecar without the early profile: the exec is refused before
	// anything runs.
	side := filepath.Join(e.root, "x", sidecarFile)
	data, err := os.ReadFile(side)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m["earlySeccomp"] == nil {
		t.Fatalf("sidecar %s: %v, no earlySeccomp", data, err)
	}
	delete(m, "earlySeccomp")
	data, _ = json.Marshal(m)
	mkfile(t, side, string(data))
	out, errs, code := e.run("exec", "x", "sh", "-c", "echo ran")
	if code == 0 || out != "" || !strings.Contains(errs, "its early filter is missing") {
		t.Errorf("exec without the early filter: exit %d, stdout %q, stderr %q; want refused for its filters", code, out, errs)
	}
	e.must("delete", "--force", "x")
}

// execFd3 runs podsec-runtime with path open as its descriptor 3.
func (e *env) execFd3(path string, args ...string) (string, string, error) {
	e.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(runtimeBin, append([]string{"--root", e.root}, args...)...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = &out, &errs, []*os.File{f}
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = errors.New(ee.String())
	}
	return out.String(), errs.String(), err
}

// TestSplitSeccompInitThreads: a bundle's profile that refuses rseq (as
// runtime-tools' old default profile does) is still split, and its
// containers start every time: the Go runtime of the init starts threads
// under the early filter, and glibc aborted the init ("rseq registration
// failed", procReady not received) when the early filter refused rseq.
// The container's process runs under both filters all the same.
func TestSplitSeccompInitThreads(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "rseq", func(s *specs.Spec) {
		for i := range s.Linux.Seccomp.Syscalls {
			s.Linux.Seccomp.Syscalls[i].Names = slices.DeleteFunc(s.Linux.Seccomp.Syscalls[i].Names, func(n string) bool { return n == "rseq" })
		}
		s.Process.Args = []string{"sh", "-c", "grep Seccomp_filters /proc/self/status"}
		// On one CPU, as the suite's linux_cgroups_cpus has it, the
		// runtime starts its threads later, under the early filter.
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "0"}
	})
	for i := range 8 {
		if out, errs, code := e.run("run", "--bundle", b, "rseq"); code != 0 || out != "Seccomp_filters:\t2\n" {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q; want Seccomp_filters: 2", i, code, out, errs)
		}
	}
}
