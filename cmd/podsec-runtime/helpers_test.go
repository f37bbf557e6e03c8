package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Built once by TestMain.
var (
	runtimeBin string // bin/podsec-runtime, built from this module
	imageTar   string // localhost/busybox:latest as an OCI archive
	buildErr   error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podsec-runtime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Geteuid() == 0 {
		buildErr = build(dir)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build builds podsec-runtime and the test image archive: the image of
// image/internal/testimages (mktestimages), reduced to
// localhost/busybox:latest so that `podman load` takes it as well as
// `ctr images import`.
func build(dir string) error {
	runtimeBin = filepath.Join(dir, "podsec-runtime")
	if out, err := exec.Command("go", "build", "-tags", "seccomp", "-o", runtimeBin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	layout := filepath.Join(dir, "layout")
	if out, err := exec.Command("go", "run", "../../image/internal/mktestimages", "--out", layout).CombinedOutput(); err != nil {
		return fmt.Errorf("mktestimages: %v\n%s", err, out)
	}
	var index struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Manifests     []json.RawMessage `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return err
	}
	var keep []json.RawMessage
	for _, m := range index.Manifests {
		if bytes.Contains(m, []byte(`"localhost/busybox:latest"`)) {
			keep = append(keep, m)
		}
	}
	if len(keep) != 1 {
		return fmt.Errorf("mktestimages: want one localhost/busybox:latest, got %d", len(keep))
	}
	index.Manifests = keep
	if data, err = json.Marshal(index); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(layout, "index.json"), data, 0o644); err != nil {
		return err
	}
	imageTar = filepath.Join(dir, "busybox-oci.tar")
	if out, err := exec.Command("tar", "-C", layout, "-cf", imageTar, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("tar: %v\n%s", err, out)
	}
	return nil
}

// require skips without root or a tool, except on CI, where it fails.
func require(t *testing.T, tools ...string) {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	miss := func(format string, args ...any) {
		t.Helper()
		if ci {
			t.Fatalf(format+" (CI must run these tests: scripts/setup installs the tools)", args...)
		}
		t.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		miss("needs root: runs containers")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			miss("%s is not installed", tool)
		}
	}
}

// runCmd runs a command and returns its combined output and exit code.
func runCmd(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out), 0
}

// inTerminal runs a command line with a terminal (script(1) gives it a
// pty), as a person at a shell would.
func inTerminal(t *testing.T, env []string, cmdline string) (string, int) {
	t.Helper()
	return runCmd(t, env, "script", "-qec", cmdline, "/dev/null")
}

// policyWrapper writes a runtime that is podsec-runtime under a node
// policy of level (and more lines of the policy file): what a node
// administrator's /etc/podsec file does, without touching /etc.
func policyWrapper(t *testing.T, level string, more ...string) string {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte("level: "+level+"\n"+strings.Join(more, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := filepath.Join(dir, "podsec-runtime-"+level)
	script := "#!/bin/sh\nexec " + runtimeBin + " --policy " + pol + " \"$@\"\n"
	if err := os.WriteFile(w, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

// unmountUnder unmounts every mount under dir, deepest first (what
// containerd's snapshotter or podman's storage left).
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var mps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			mps = append(mps, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mps)))
	for _, mp := range mps {
		if out, err := exec.Command("umount", "-l", mp).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", mp, err, out)
		}
	}
}

// capEff is the effective capability mask in /proc/self/status output.
func capEff(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cleanHostDirs removes, at the end of the test, the directories the
// tooling leaves on the host that did not exist before it: the cgroup
// parents (containerd's namespace "default", podman's "libpod_parent")
// and containerd's shim socket directory /run/containerd/s, which it
// places there whatever its state directory. Only empty directories go
// (rmdir), so nothing another user put there is touched.
func cleanHostDirs(t *testing.T, globs ...string) {
	t.Helper()
	existed := map[string]bool{}
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		for _, p := range m {
			existed[p] = true
		}
	}
	t.Cleanup(func() {
		for _, g := range globs {
			m, _ := filepath.Glob(g)
			for _, p := range m {
				if !existed[p] {
					rmdirTree(p)
				}
			}
		}
	})
}

// rmdirTree removes the empty directories of a tree, deepest first.
func rmdirTree(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i])
	}
}
