//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podsec/podsec/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// e2eBin is the path of a component built by scripts/e2e-build: in
// $PODSEC_E2E_BIN, else build/e2e/bin. Missing, the test fails on CI and
// skips elsewhere.
func e2eBin(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("PODSEC_E2E_BIN")
	if dir == "" {
		dir = filepath.Join(repoRoot, "build", "e2e", "bin")
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		need(t, fmt.Sprintf("%s (run scripts/e2e-build): %v", name, err))
	}
	return p
}

// need fails on CI and skips elsewhere: a prerequisite is missing.
func need(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("e2e: missing prerequisite on CI: %s", what)
	}
	t.Skipf("e2e: missing prerequisite: %s", what)
}

// versions are the pinned versions of scripts/e2e-versions.
func versions(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "scripts", "e2e-versions"))
	if err != nil {
		t.Fatalf("reading the pinned versions: %v", err)
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, val, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			v[k] = val
		}
	}
	return v
}

// freePort is a TCP port free on 127.0.0.1 now. The kernel does not hand
// the same ephemeral port out again at once, which is enough for a test.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a process the test started; stop ends it by its PID.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs bin in the background with its output in a log file of dir;
// the test's cleanup stops it (SIGTERM, then SIGKILL after 10s). It dies
// with the test binary too (Pdeathsig).
func start(t *testing.T, dir, name, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", name, logPath, tail(logPath, 40))
		}
	})
	return p
}

// stop ends the process and waits for it.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls ready every 200ms until it returns nil, p exits or the
// timeout passes.
func waitFor(t *testing.T, what string, p *proc, timeout time.Duration, ready func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	for {
		if err = ready(ctx); err == nil {
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("%s: %s exited: %v\n%s", what, p.name, err, tail(p.log, 30))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not ready after %s: %v", what, timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runCmd runs a program to its end (bounded to 2 minutes) and gives its
// output, stdout and stderr together.
func runCmd(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}
