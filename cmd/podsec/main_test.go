package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// podsec runs one command line in-process.
func podsec(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if !hasRoot(args) {
		args = append([]string{"--root", t.TempDir()}, args...)
	}
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const pods = "../../testdata/pods/"

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		stdin     string
		wantCode  int
		wantOut   string
		wantErrIn []string
	}{
		{name: "valid", args: []string{"validate", "-f", pods + "pod-as-user-guest.yaml"}, wantOut: "pod/pod-as-user-guest valid\n"},
		{name: "stdin", args: []string{"validate", "-f", "-"}, stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec: {containers: [{name: c, image: i}]}\n", wantOut: "pod/s valid\n"},
		{name: "unknown field", args: []string{"validate", "-f", "-"}, wantCode: 1,
			stdin:     "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec: {containers: [{name: c, image: i, securityContxt: {}}]}\n",
			wantErrIn: []string{"error: <stdin>: document 1: spec.containers[0].securityContxt: unknown field"}},
		{name: "every problem at once", args: []string{"validate", "-f", "-"}, wantCode: 1,
			stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: BAD_NAME}\nspec: {containers: [{name: c, image: i, securityContext: {runAsUser: -1, capabilities: {add: [NOPE]}}}]}\n",
			wantErrIn: []string{`The Pod "BAD_NAME" is invalid:`, "* metadata.name: Invalid value", "* spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
				"spec.containers[0].securityContext.capabilities.add[0]"}},
		{name: "other kind", args: []string{"validate", "-f", "-"}, wantCode: 1, stdin: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
			wantErrIn: []string{`unsupported kind: Service "v1"`}},
		{name: "missing file", args: []string{"validate", "-f", "/nonexistent/pod.yaml"}, wantCode: 1, wantErrIn: []string{"error: reading manifest", "no such file"}},
		{name: "directory", args: []string{"validate", "-f", pods}, wantCode: 1, wantErrIn: []string{"is a directory"}},
		{name: "no -f", args: []string{"validate"}, wantCode: 1, wantErrIn: []string{`required flag(s) "filename" not set`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := podsec(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Errorf("podsec %v: exit %d, want %d (stderr %q)", tc.args, code, tc.wantCode, errs)
			}
			if tc.wantOut != "" && out != tc.wantOut {
				t.Errorf("podsec %v: stdout %q, want %q", tc.args, out, tc.wantOut)
			}
			for _, w := range tc.wantErrIn {
				if !strings.Contains(errs, w) {
					t.Errorf("podsec %v: stderr %q does not contain %q", tc.args, errs, w)
				}
			}
			if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
				t.Errorf("podsec %v: stderr has a Go stack trace: %s", tc.args, errs)
			}
		})
	}
}

func TestSpecPrintsContainer(t *testing.T) {
	code, out, errs := podsec(t, "", "--root", t.TempDir(), "spec", "-f", pods+"pod-with-shared-volume-fsgroup.yaml", "--container", "second")
	if code != 0 {
		t.Fatalf("podsec spec: exit %d: %s", code, errs)
	}
	var s specs.Spec
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("podsec spec: stdout is not a spec: %v", err)
	}
	if s.Process.User.UID != 2222 || s.Annotations["io.kubernetes.cri.container-name"] != "second" {
		t.Errorf("podsec spec --container second: uid %d, container %q", s.Process.User.UID, s.Annotations["io.kubernetes.cri.container-name"])
	}
	if !strings.Contains(errs, "Warning: image") {
		t.Errorf("podsec spec without the image: stderr %q has no warning", errs)
	}
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Errorf("podsec spec: seccomp %+v, want RuntimeDefault by default", s.Linux.Seccomp)
	}
	code, out, _ = podsec(t, "", "spec", "--seccomp-default", "Unconfined", "-f", pods+"pod-as-user-guest.yaml")
	if code != 0 || strings.Contains(out, `"seccomp"`) {
		t.Errorf("podsec spec --seccomp-default Unconfined: exit %d, seccomp present: %v", code, strings.Contains(out, `"seccomp"`))
	}
	if code, _, errs = podsec(t, "", "spec", "--seccomp-default", "Bogus", "-f", pods+"pod-as-user-guest.yaml"); code == 0 || !strings.Contains(errs, "--seccomp-default") {
		t.Errorf("podsec spec --seccomp-default Bogus: exit %d, stderr %q", code, errs)
	}
}

func TestSpecBundleDir(t *testing.T) {
	dir := t.TempDir()
	args := []string{"spec", "-f", pods + "share-process-namespace.yaml", "--bundle-dir", dir}
	code, out, errs := podsec(t, "", args...)
	if code != 0 {
		t.Fatalf("podsec %v: exit %d: %s", args, code, errs)
	}
	for _, c := range []string{"prepare", "app", "sidecar"} {
		b, err := os.ReadFile(filepath.Join(dir, c, "config.json"))
		if err != nil {
			t.Fatalf("podsec %v: %v (stdout %q)", args, err, out)
		}
		var s specs.Spec
		if err := json.Unmarshal(b, &s); err != nil || s.Annotations["io.kubernetes.cri.container-name"] != c {
			t.Errorf("%s/config.json: %v, container %q", c, err, s.Annotations["io.kubernetes.cri.container-name"])
		}
	}
	// A second run must not replace what is there.
	before, _ := os.ReadFile(filepath.Join(dir, "app", "config.json"))
	if code, _, errs = podsec(t, "", args...); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("podsec %v again: exit %d, stderr %q, want a refusal", args, code, errs)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "app", "config.json"))
	if !bytes.Equal(before, after) {
		t.Errorf("podsec %v again changed app/config.json", args)
	}
}

func TestSpecBundleDirSymlinkNotFollowed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "victim")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "main"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "main", "config.json")); err != nil {
		t.Fatal(err)
	}
	code, _, _ := podsec(t, "", "spec", "-f", pods+"pod-as-user-guest.yaml", "--bundle-dir", dir)
	if b, _ := os.ReadFile(target); code == 0 || string(b) != "keep" {
		t.Errorf("podsec spec --bundle-dir with a planted symlink: exit %d, victim now %q", code, b)
	}
}

func TestSpecInvalidPodWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundles")
	code, _, errs := podsec(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, securityContext: {runAsUser: -5}}]}\n",
		"spec", "-f", "-", "--bundle-dir", dir)
	if code == 0 || !strings.Contains(errs, "runAsUser") {
		t.Errorf("podsec spec invalid pod: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("podsec spec invalid pod created %s", dir)
	}
}

// TestSpecVolumeObjects: podsec spec plans with the manifest's ConfigMaps
// as run does, so a ConfigMap the pod needs and the manifest lacks is its
// error too, naming the volume; an optional one may be absent.
func TestSpecVolumeObjects(t *testing.T) {
	pod := func(optional string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, command: [\"true\"], volumeMounts: [{name: v, mountPath: /v}]}]\n" +
			"  volumes: [{name: v, configMap: {name: cm" + optional + "}}]\n"
	}
	cm := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n"
	for _, tc := range []struct {
		name, stdin, wantErr string
		wantCode             int
	}{
		{name: "given", stdin: pod("") + cm},
		{name: "optional", stdin: pod(", optional: true")},
		{name: "missing", stdin: pod(""), wantCode: 1, wantErr: `error: spec.volumes[0]: volume "v": configmap "cm" not found: give it in the manifest with the pod`},
	} {
		code, out, errs := podsec(t, tc.stdin, "spec", "-f", "-")
		if code != tc.wantCode || !strings.Contains(errs, tc.wantErr) {
			t.Errorf("podsec spec (%s): exit %d, stderr %q; want %d and %q", tc.name, code, errs, tc.wantCode, tc.wantErr)
		}
		if code == 0 && !strings.Contains(out, `"destination": "/v"`) {
			t.Errorf("podsec spec (%s): no mount of the volume in\n%s", tc.name, out)
		}
	}
}

// TestRunNetworkFlag: an unknown --network is refused before anything is
// made, for run -d as for run.
func TestRunNetworkFlag(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"run", "-d"}} {
		root := t.TempDir()
		args = append(append([]string{"--root", root}, args...), "--network", "bogus", "-f", pods+"pod-as-user-guest.yaml")
		code, _, errs := podsec(t, "", args...)
		if want := `--network: Unsupported value: "bogus"`; code != 1 || !strings.Contains(errs, want) {
			t.Errorf("podsec %v: exit %d, stderr %q, want 1 and %q", args, code, errs, want)
		}
		if ents, _ := os.ReadDir(root); len(ents) != 0 {
			t.Errorf("podsec %v left %d entries in its root", args, len(ents))
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := podsec(t, "", "version"); code != 0 || !strings.HasPrefix(out, "podsec version ") {
		t.Errorf("podsec version: exit %d, %q", code, out)
	}
	for _, cmd := range []string{"validate", "spec", "version"} {
		code, out, _ := podsec(t, "", cmd, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("podsec %s --help: exit %d, no examples in %q", cmd, code, out)
		}
	}
	if code, out, _ := podsec(t, "", "completion", "bash"); code != 0 || !strings.Contains(out, "podsec") {
		t.Errorf("podsec completion bash: exit %d", code)
	}
	if code, _, errs := podsec(t, "", "nosuchcommand"); code == 0 || !strings.Contains(errs, "unknown command") {
		t.Errorf("podsec nosuchcommand: exit %d, %q", code, errs)
	}
}

// TestVagrantfile keeps the Vagrantfile valid Ruby.
func TestVagrantfile(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ruby is not installed: make setup installs it")
		}
		t.Skip("ruby is not installed")
	}
	out, err := exec.Command(ruby, "-c", "../../Vagrantfile").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Syntax OK") {
		t.Fatalf("ruby -c Vagrantfile: %v: %s", err, out)
	}
}

func hasRoot(args []string) bool {
	for _, a := range args {
		if a == "--root" || strings.HasPrefix(a, "--root=") {
			return true
		}
	}
	return false
}
