package oci

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestLifecycle drives one container through the runtime spec's states:
// create (created), start (running), kill (stopped), delete (gone), and
// checks from inside that it runs as the pod asked (uid 405; gid 0, as the
// image is not in podsec's store when the bundle is written; the default
// capability masks).
func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "lifecycle", nil)
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	e.must("create", "--bundle", b, "--pid-file", pidFile, "lc")

	s := e.state("lc")
	if s.Status != "created" || s.ID != "lc" || s.Bundle != b || s.Pid <= 0 || s.Version != specs.Version {
		t.Errorf("state after create = %+v, want created, id lc, bundle %s, a pid, ociVersion %s", s, b, specs.Version)
	}
	if pid, _ := os.ReadFile(pidFile); strings.TrimSpace(string(pid)) != strconv.Itoa(s.Pid) {
		t.Errorf("--pid-file holds %q, want %d", pid, s.Pid)
	}
	if out := e.must("list", "--format", "json"); !strings.Contains(out, `"id":"lc"`) || !strings.Contains(out, `"status":"created"`) {
		t.Errorf("list --format json = %s, want lc created", out)
	}
	e.must("start", "lc")
	e.waitStatus("lc", "running")
	if _, errs, code := e.run("start", "lc"); code == 0 || !strings.Contains(errs, "cannot start an already running container") {
		t.Errorf("start of a running container: exit %d, %q; want an error", code, errs)
	}
	if _, errs, code := e.run("delete", "lc"); code == 0 || !strings.Contains(errs, "not stopped: running") {
		t.Errorf("delete of a running container: exit %d, %q; want refused", code, errs)
	}

	out := e.must("exec", "lc", "sh", "-c", "id; grep -E '^Cap(Eff|Bnd)' /proc/self/status")
	for _, want := range []string{"uid=405(guest) gid=0(root)", "CapEff:\t0000000000000000", "CapBnd:\t00000000a80425fb"} {
		if !strings.Contains(out, want) {
			t.Errorf("exec lc id = %q, want %q", out, want)
		}
	}
	if _, _, code := e.run("exec", "lc", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exec lc sh -c 'exit 7': exit %d, want 7", code)
	}

	// SIGUSR1 by name: the shell traps it and exits 42.
	waitTrapped(t, b)
	e.must("kill", "lc", "USR1")
	e.waitStatus("lc", "stopped")
	if got, err := os.ReadFile(filepath.Join(b, "rootfs", "tmp", "usr1")); err != nil || string(got) != "got-usr1\n" {
		t.Errorf("after kill lc USR1: /tmp/usr1 = %q, %v; want got-usr1", got, err)
	}
	if s := e.state("lc"); s.Pid != 0 {
		t.Errorf("state of a stopped container: pid %d, want 0", s.Pid)
	}
	if _, errs, code := e.run("start", "lc"); code == 0 || !strings.Contains(errs, "stopped") {
		t.Errorf("start of a stopped container: exit %d, %q; want an error", code, errs)
	}
	if _, errs, code := e.run("exec", "lc", "true"); code != 255 || !strings.Contains(errs, "cannot exec in a stopped container") {
		t.Errorf("exec in a stopped container: exit %d, %q; want 255 and an error", code, errs)
	}
	e.must("delete", "lc")
	if _, errs, code := e.run("state", "lc"); code == 0 || !strings.Contains(errs, "does not exist") {
		t.Errorf("state after delete: exit %d, %q; want does not exist", code, errs)
	}
	if _, err := os.Stat(filepath.Join(e.root, "lc")); !os.IsNotExist(err) {
		t.Errorf("state directory left after delete: %v", err)
	}
}

// TestKillSignals sends signals by number, short and full name, and
// --all; delete --force ends a running container and a created one.
func TestKillSignals(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "kill", nil)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"number", []string{"10"}},
		{"short name", []string{"usr1"}},
		{"full name", []string{"SIGUSR1"}},
		{"--all", []string{"--all", "SIGUSR1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.must("run", "--detach", "--bundle", b, "k")
			waitTrapped(t, b)
			args := []string{"kill"}
			if tc.args[0] == "--all" {
				args = append(args, "--all", "k", tc.args[1])
			} else {
				args = append(args, "k", tc.args[0])
			}
			e.must(args...)
			e.waitStatus("k", "stopped")
			e.must("delete", "k")
		})
	}
	if _, errs, code := e.run("kill", "nosuch", "KILL"); code == 0 || !strings.Contains(errs, "does not exist") {
		t.Errorf("kill of a missing container: exit %d, %q", code, errs)
	}
	e.must("run", "--detach", "--bundle", b, "k")
	if _, errs, code := e.run("kill", "k", "NOSUCHSIG"); code == 0 || !strings.Contains(errs, `unknown signal "NOSUCHSIG"`) {
		t.Errorf("kill k NOSUCHSIG: exit %d, %q; want unknown signal", code, errs)
	}
	e.must("delete", "--force", "k")
	e.must("create", "--bundle", b, "k")
	e.must("delete", "k")            // created: delete kills its waiting init
	e.must("delete", "--force", "k") // gone: --force is not an error
	if _, errs, code := e.run("delete", "k"); code == 0 || !strings.Contains(errs, "does not exist") {
		t.Errorf("delete of a missing container: exit %d, %q", code, errs)
	}
}

// TestRunForeground runs a bundle in the foreground: the exit status is
// the process's, and the container is gone afterwards.
func TestRunForeground(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "fg", func(s *specs.Spec) { s.Process.Args = []string{"sh", "-c", "echo hello; exit 3"} })
	out, _, code := e.run("run", "--bundle", b, "fg")
	if code != 3 || out != "hello\n" {
		t.Errorf("run fg: exit %d, stdout %q; want 3, hello", code, out)
	}
	if out := e.must("list", "-q"); out != "" {
		t.Errorf("list after run = %q, want nothing", out)
	}
	// Relative --bundle and a relative rootfs, from the bundle's parent.
	out, _, code = e.runIn(filepath.Dir(b), nil, "run", "-b", filepath.Base(b), "fg2")
	if code != 3 || out != "hello\n" {
		t.Errorf("run -b main fg2: exit %d, stdout %q; want 3, hello", code, out)
	}
}

// TestHooks checks that every hook runs, in the runtime spec's order and
// with the state it defines: prestart created (as crun and the
// runtime-tools suite have it), createRuntime while creating,
// createContainer in the container's namespaces, startContainer in the
// container before the process, poststart after start, poststop after
// delete.
func TestHooks(t *testing.T) {
	e := newEnv(t)
	tmp := t.TempDir()
	log := filepath.Join(tmp, "hooks.log")
	hook := hookScript(t, tmp, log)
	h := func(name string) specs.Hook { return specs.Hook{Path: hook, Args: []string{"hook.sh", name}} }
	b := bundle(t, podSleep, "hooks", func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "echo process >> /tmp/in.log; sleep 60"}
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{h("prestart")}, //nolint:staticcheck // the spec still defines it
			CreateRuntime:   []specs.Hook{h("createRuntime")},
			CreateContainer: []specs.Hook{h("createContainer")},
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo startContainer >> /tmp/in.log"}}},
			Poststart:       []specs.Hook{h("poststart")},
			Poststop:        []specs.Hook{h("poststop")},
		}
	})
	e.must("create", "--bundle", b, "hk")
	assertLog(t, log, "prestart created", "createRuntime creating", "createContainer creating")
	e.must("start", "hk")
	e.waitStatus("hk", "running")
	assertLog(t, log, "prestart created", "createRuntime creating", "createContainer creating", "poststart running")
	waitFile(t, filepath.Join(b, "rootfs", "tmp", "in.log"), "startContainer\nprocess\n")
	e.must("delete", "--force", "hk")
	assertLog(t, log, "prestart created", "createRuntime creating", "createContainer creating", "poststart running", "poststop stopped")
}

// TestCreatingState reads the state while create runs (from a
// createRuntime hook): creating, as the runtime spec names it.
func TestCreatingState(t *testing.T) {
	e := newEnv(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "state.json")
	script := filepath.Join(tmp, "state.sh")
	mkfile(t, script, "#!/bin/sh\n"+runtimeBin+" --root "+e.root+" state cr > "+out+"\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	b := bundle(t, podSleep, "creating", func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: script}}}
	})
	e.must("create", "--bundle", b, "cr")
	got, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(got), `"status": "creating"`) || !strings.Contains(string(got), `"bundle": "`+b+`"`) {
		t.Errorf("state during create = %s, %v; want status creating and the bundle", got, err)
	}
	e.must("delete", "cr")
}

func assertLog(t *testing.T, path string, want ...string) {
	t.Helper()
	got, _ := os.ReadFile(path)
	if strings.TrimSpace(string(got)) != strings.Join(want, "\n") {
		t.Errorf("hooks ran:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	var got []byte
	for range 200 {
		got, _ = os.ReadFile(path)
		if string(got) == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Errorf("%s = %q, want %q", path, got, want)
}
