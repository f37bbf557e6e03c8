// Package harness drives podsec's real binaries for the attack and abuse
// suites (test/attack, test/abuse): a node is a state root of its own with
// the test images; pods run through the podsec binary built from this tree;
// the attacker program (test/attack/attacker) is mounted into pods.
package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is the repository root, relative to the suites' packages
// (test/attack, test/abuse), where go test runs them.
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

// Main is a suite's TestMain: it runs the tests and removes the binaries
// they built.
func Main(m *testing.M) {
	code := m.Run()
	for _, b := range []*built{&podsecB, &runtimeB, &attackerB, &imagesB} {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
	}
	os.Exit(code)
}

// RequireRoot fails on CI and skips elsewhere: the suites run real
// containers, which needs root, and on CI it must run.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the attack and abuse suites need root on CI")
	}
	t.Skip("the attack and abuse suites need root")
}

// build builds pkg (relative to the module root) into a temporary
// directory as name, with env added to the build's environment.
func (b *built) build(t testing.TB, pkg, name string, env ...string) string {
	t.Helper()
	RequireRoot(t)
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

// PodsecBin is bin/podsec built from this tree, or the binary named by
// $PODSEC_ATTACK_PODSEC: to run the suite against an older podsec and see
// the attacks succeed there. Benchmarks may call it too.
func PodsecBin(t testing.TB) string {
	if p := os.Getenv("PODSEC_ATTACK_PODSEC"); p != "" {
		return p
	}
	p := podsecB.build(t, "./cmd/podsec", "podsec")
	// Its detached pods' monitor, next to it as make build puts it.
	monitorOnce.Do(func() {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(filepath.Dir(p), "podsec-monitor"), "./cmd/podsec-monitor")
		cmd.Dir = moduleRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			monitorErr = fmt.Errorf("go build ./cmd/podsec-monitor: %v\n%s", err, msg)
		}
	})
	if monitorErr != nil {
		t.Fatal(monitorErr)
	}
	return p
}

var (
	monitorOnce sync.Once
	monitorErr  error
)

// RuntimeBin is bin/podsec-runtime built from this tree, or the binary
// named by $PODSEC_ATTACK_RUNTIME.
func RuntimeBin(t *testing.T) string {
	if p := os.Getenv("PODSEC_ATTACK_RUNTIME"); p != "" {
		return p
	}
	return runtimeB.build(t, "./cmd/podsec-runtime", "podsec-runtime")
}

// AttackerDir is a directory holding the static attacker program as
// "attacker", to be mounted read-only into pods.
func AttackerDir(t *testing.T) string {
	return filepath.Dir(attackerB.build(t, "./test/attack/attacker", "attacker", "CGO_ENABLED=0"))
}

// Node is a podsec state root of its own, with the test images, driven
// through the real binary.
type Node struct {
	t *testing.T
	// Bin is the podsec binary the node runs.
	Bin string
	// Root is the node's state root.
	Root string
}

// NewNode makes a state root with the test images. Its cleanup deletes
// every pod, collects what they left and checks that nothing remains.
func NewNode(t *testing.T) *Node {
	t.Helper()
	n := &Node{t: t, Bin: PodsecBin(t)}
	mk := imagesB.build(t, "./image/internal/mktestimages", "mktestimages")
	root, err := os.MkdirTemp("", "podsec-attack-")
	if err != nil {
		t.Fatal(err)
	}
	n.Root = root
	if out, err := exec.Command(mk, "--root", root).CombinedOutput(); err != nil {
		t.Fatalf("loading test images: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		n.Podsec("delete", "pod", "--all")
		gc, _ := n.Podsec("gc")
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

// Podsec runs podsec with the node's root and its own CNI configuration
// directory (nothing is written to the machine's /etc/cni/net.d).
func (n *Node) Podsec(args ...string) (string, error) {
	full := append([]string{"--root", n.Root, "--cni-conf-dir", filepath.Join(n.Root, "net.d")}, args...)
	cmd := exec.Command(n.Bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Manifest writes a manifest into the node's root, with {{ATTACKER}}
// replaced by the attacker program's directory, and returns its path.
func (n *Node) Manifest(yaml string) string {
	n.t.Helper()
	if strings.Contains(yaml, "{{ATTACKER}}") {
		yaml = strings.ReplaceAll(yaml, "{{ATTACKER}}", AttackerDir(n.t))
	}
	f := filepath.Join(n.Root, fmt.Sprintf("pod-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		n.t.Fatal(err)
	}
	return f
}

// Run runs a pod in the foreground until its containers end and returns
// what they printed (lines prefixed "[container] ") with podsec's own
// messages. Pods get no pod network unless args name one
// ("--network", "cni").
func (n *Node) Run(yaml string, args ...string) (string, error) {
	n.t.Helper()
	full := append([]string{"run", "-f", n.Manifest(yaml)}, args...)
	if !containsFlag(args, "--network") {
		full = append(full, "--network", "none")
	}
	return n.Podsec(full...)
}

func containsFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// MustRun is Run that fails the test when podsec exits non-zero.
func (n *Node) MustRun(yaml string, args ...string) string {
	n.t.Helper()
	out, err := n.Run(yaml, args...)
	if err != nil {
		n.t.Fatalf("podsec run: %v\n%s", err, out)
	}
	return out
}

// AttackerVolume and AttackerMount are the volume and mount that put the
// attacker program at /attacker, to be appended to a pod's and a
// container's YAML.
const (
	AttackerVolume = `
  volumes:
  - name: attacker
    hostPath: {path: "{{ATTACKER}}", type: Directory}`
	AttackerMount = `
    volumeMounts:
    - {name: attacker, mountPath: /attacker, readOnly: true}`
)

// ExpectLine fails unless out has a line containing want.
func ExpectLine(t *testing.T, out, want string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, want) {
			return
		}
	}
	t.Fatalf("no line with %q in:\n%s", want, out)
}

// ExpectNoText fails if out contains text anywhere.
func ExpectNoText(t *testing.T, out, text string) {
	t.Helper()
	if strings.Contains(out, text) {
		t.Fatalf("%q found in:\n%s", text, out)
	}
}

// RunDetached starts a pod under a supervisor (podsec run -d) with no pod
// network unless args name one, and returns once its containers run.
func (n *Node) RunDetached(yaml string, args ...string) {
	n.t.Helper()
	full := append([]string{"run", "-d", "-f", n.Manifest(yaml)}, args...)
	if !containsFlag(args, "--network") {
		full = append(full, "--network", "none")
	}
	if out, err := n.Podsec(full...); err != nil {
		n.t.Fatalf("podsec run -d: %v\n%s", err, out)
	}
}

// WaitLog polls a container's log for at most timeout until it has a
// line containing want, and returns the log.
func (n *Node) WaitLog(pod, container, want string, timeout time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var out string
	for time.Now().Before(deadline) {
		out, _ = n.Podsec("logs", pod, "-c", container)
		if strings.Contains(out, want) {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.t.Fatalf("no %q in the log of %s/%s within %v:\n%s", want, pod, container, timeout, out)
	return ""
}

// MustPodsec is Podsec that fails the test when podsec exits non-zero.
func (n *Node) MustPodsec(args ...string) string {
	n.t.Helper()
	out, err := n.Podsec(args...)
	if err != nil {
		n.t.Fatalf("podsec %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// StopAtCleanup stops a process the test started when the test ends, by
// its PID: SIGTERM, then SIGKILL if it has not ended within 15s. done is
// closed once the process has been waited for.
func StopAtCleanup(tb testing.TB, p *os.Process, done <-chan struct{}) {
	tb.Cleanup(func() {
		_ = p.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.Kill()
			<-done
		}
	})
}
