package attack

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// moduleRoot is the repository root, relative to this package.
const moduleRoot = "../.."

// built builds a program once per test binary and remembers the result.
type built struct {
	once sync.Once
	path string
	err  error
}

var (
	podsecB, runtimeB, attackerB, imagesB built
)

// TestMain removes the binaries the suite built.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*built{&podsecB, &runtimeB, &attackerB, &imagesB} {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
	}
	os.Exit(code)
}

// requireRoot fails on CI and skips elsewhere: the attack suite runs real
// containers, which needs root, and on CI it must run.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the attack suite needs root on CI")
	}
	t.Skip("the attack suite needs root")
}

// build builds pkg (relative to the module root) into a temporary
// directory as name, with env added to the build's environment.
func (b *built) build(t *testing.T, pkg, name string, env ...string) string {
	t.Helper()
	requireRoot(t)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "podsec-attack-bin-")
		if err != nil {
			b.err = err
			return
		}
		// Readable and searchable by any user: pods running as non-root
		// users execute the attacker from a hostPath volume.
		if err := os.Chmod(dir, 0o755); err != nil {
			b.err = err
			return
		}
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-tags", "seccomp", "-o", out, pkg)
		cmd.Dir = moduleRoot
		cmd.Env = append(os.Environ(), env...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
			return
		}
		b.path = out
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// podsecBin is bin/podsec built from this tree, or the binary named by
// $PODSEC_ATTACK_PODSEC: to run the suite against an older podsec and see
// the attacks succeed there.
func podsecBin(t *testing.T) string {
	if p := os.Getenv("PODSEC_ATTACK_PODSEC"); p != "" {
		return p
	}
	return podsecB.build(t, "./cmd/podsec", "podsec")
}

// runtimeBin is bin/podsec-runtime built from this tree, or the binary
// named by $PODSEC_ATTACK_RUNTIME.
func runtimeBin(t *testing.T) string {
	if p := os.Getenv("PODSEC_ATTACK_RUNTIME"); p != "" {
		return p
	}
	return runtimeB.build(t, "./cmd/podsec-runtime", "podsec-runtime")
}

// attackerDir is a directory holding the static attacker program as
// "attacker", to be mounted read-only into pods.
func attackerDir(t *testing.T) string {
	return filepath.Dir(attackerB.build(t, "./test/attack/attacker", "attacker", "CGO_ENABLED=0"))
}

// node is a podsec state root of its own, with the test images, driven
// through the real binary.
type node struct {
	t    *testing.T
	bin  string
	root string
}

// newNode makes a state root with the test images. Its cleanup deletes
// every pod, collects what they left and checks that nothing remains.
func newNode(t *testing.T) *node {
	t.Helper()
	n := &node{t: t, bin: podsecBin(t)}
	mk := imagesB.build(t, "./image/internal/mktestimages", "mktestimages")
	root, err := os.MkdirTemp("", "podsec-attack-")
	if err != nil {
		t.Fatal(err)
	}
	n.root = root
	if out, err := exec.Command(mk, "--root", root).CombinedOutput(); err != nil {
		t.Fatalf("loading test images: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		n.podsec("delete", "pod", "--all")
		gc, _ := n.podsec("gc")
		mi, _ := os.ReadFile("/proc/self/mountinfo")
		if strings.Contains(string(mi), root+"/") {
			t.Errorf("mounts left below %s (gc said %q)", root, gc)
			return // never remove through a mount
		}
		for _, d := range []string{"pods/default", "libcontainer"} {
			if ents, _ := os.ReadDir(filepath.Join(root, d)); len(ents) > 0 {
				t.Errorf("%s left after the test: %v", d, ents)
			}
		}
		os.RemoveAll(root)
	})
	return n
}

// podsec runs podsec with the node's root and its own CNI configuration
// directory (nothing is written to the machine's /etc/cni/net.d).
func (n *node) podsec(args ...string) (string, error) {
	full := append([]string{"--root", n.root, "--cni-conf-dir", filepath.Join(n.root, "net.d")}, args...)
	cmd := exec.Command(n.bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// manifest writes a manifest into the node's root, with {{ATTACKER}}
// replaced by the attacker program's directory, and returns its path.
func (n *node) manifest(yaml string) string {
	n.t.Helper()
	if strings.Contains(yaml, "{{ATTACKER}}") {
		yaml = strings.ReplaceAll(yaml, "{{ATTACKER}}", attackerDir(n.t))
	}
	f := filepath.Join(n.root, fmt.Sprintf("pod-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		n.t.Fatal(err)
	}
	return f
}

// run runs a pod in the foreground until its containers end and returns
// what they printed (lines prefixed "[container] ") with podsec's own
// messages. Pods get no pod network unless args name one
// ("--network", "cni").
func (n *node) run(yaml string, args ...string) (string, error) {
	n.t.Helper()
	full := append([]string{"run", "-f", n.manifest(yaml)}, args...)
	if !containsFlag(args, "--network") {
		full = append(full, "--network", "none")
	}
	return n.podsec(full...)
}

func containsFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// mustRun is run that fails the test when podsec exits non-zero.
func (n *node) mustRun(yaml string, args ...string) string {
	n.t.Helper()
	out, err := n.run(yaml, args...)
	if err != nil {
		n.t.Fatalf("podsec run: %v\n%s", err, out)
	}
	return out
}

// attackerVolume is the volume and mount that put the attacker program at
// /attacker, to be appended to a pod's and a container's YAML.
const (
	attackerVolume = `
  volumes:
  - name: attacker
    hostPath: {path: "{{ATTACKER}}", type: Directory}`
	attackerMount = `
    volumeMounts:
    - {name: attacker, mountPath: /attacker, readOnly: true}`
)

// expectLine fails unless out has a line containing want.
func expectLine(t *testing.T, out, want string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, want) {
			return
		}
	}
	t.Fatalf("no line with %q in:\n%s", want, out)
}

// expectNoText fails if out contains text anywhere.
func expectNoText(t *testing.T, out, text string) {
	t.Helper()
	if strings.Contains(out, text) {
		t.Fatalf("%q found in:\n%s", text, out)
	}
}

// runDetached starts a pod under a supervisor (podsec run -d) with no pod
// network unless args name one, and returns once its containers run.
func (n *node) runDetached(yaml string, args ...string) {
	n.t.Helper()
	full := append([]string{"run", "-d", "-f", n.manifest(yaml)}, args...)
	if !containsFlag(args, "--network") {
		full = append(full, "--network", "none")
	}
	if out, err := n.podsec(full...); err != nil {
		n.t.Fatalf("podsec run -d: %v\n%s", err, out)
	}
}

// waitLog polls a container's log for at most timeout until it has a
// line containing want, and returns the log.
func (n *node) waitLog(pod, container, want string, timeout time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var out string
	for time.Now().Before(deadline) {
		out, _ = n.podsec("logs", pod, "-c", container)
		if strings.Contains(out, want) {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.t.Fatalf("no %q in the log of %s/%s within %v:\n%s", want, pod, container, timeout, out)
	return ""
}
