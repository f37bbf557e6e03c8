package seccompsplit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// allowAll is a program of one instruction: ret SECCOMP_RET_ALLOW.
var allowAll = []byte{0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}

// TestLoadEarly: an init marked as split (Ask) refuses to go on without
// its early filter, naming why; one not marked goes on without one; the
// filter is found after other extra files (preserved descriptors) and
// loaded; two are refused.
func TestLoadEarly(t *testing.T) {
	early := func(t *testing.T, name string) *os.File {
		f, err := SealedMemfd(name, encodeEarly(0, allowAll))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	asked := func() string {
		p := &libcontainer.Process{LogLevel: "4"}
		Ask(p)
		return p.LogLevel
	}()
	if asked != "004" {
		t.Errorf("Ask(LogLevel 4) = %q, want 004 (the same level, parsed as a number)", asked)
	}
	own, err := seccompFilters("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		level string
		files func(t *testing.T) []*os.File
		want  string // the init's error, "" for none
		loads bool
	}{
		{"split, no filter", asked, func(*testing.T) []*os.File { return nil }, NoEarlyMessage, false},
		{"split, a look-alike file", asked, func(t *testing.T) []*os.File { return []*os.File{early(t, "podsec-not-early")} }, NoEarlyMessage, false},
		{"whole, no filter", "4", func(*testing.T) []*os.File { return nil }, "", false},
		{"split, after a preserved file", asked, func(t *testing.T) []*os.File {
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return []*os.File{f, early(t, EarlyMemfdName)}
		}, "", true},
		{"two filters", asked, func(t *testing.T) []*os.File {
			return []*os.File{early(t, EarlyMemfdName), early(t, EarlyMemfdName)}
		}, "two early seccomp filters", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("/proc/self/exe", loadEarlyArg)
			cmd.Env = []string{logLevelEnv + "=" + tc.level}
			cmd.ExtraFiles = tc.files(t)
			var out bytes.Buffer
			cmd.Stdout = &out
			err := cmd.Run()
			var ee *exec.ExitError
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("LoadEarly in %s: %v, %q; want it to go on", tc.name, err, out.String())
			case tc.want != "" && (!errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(out.String(), tc.want)):
				t.Errorf("LoadEarly in %s: %v, %q; want the error %q", tc.name, err, out.String(), tc.want)
			case tc.want == "" && tc.loads && out.String() != strconv.Itoa(own+1):
				t.Errorf("LoadEarly in %s: the init runs under %s seccomp filters, want %d", tc.name, out.String(), own+1)
			}
		})
	}
	// The filter's own check: a memfd that is not sealed is refused.
	fd, err := unix.MemfdCreate(EarlyMemfdName, unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "unsealed")
	defer f.Close()
	if _, err := f.Write(encodeEarly(0, allowAll)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/proc/self/exe", loadEarlyArg)
	cmd.Env = []string{logLevelEnv + "=" + asked}
	cmd.ExtraFiles = []*os.File{f}
	if out, err := cmd.Output(); err == nil || !strings.Contains(string(out), "not sealed") {
		t.Errorf("LoadEarly of an unsealed filter: %v, %q; want refused as not sealed", err, out)
	}
}

// TestEarlyFilterLetsTheInitRun: under the early filter of a profile that
// refuses nearly everything (as runtime-tools' old default refuses rseq),
// the init, a Go program with glibc, starts threads and does its work,
// as runc's init does under no filter at all; the late filter keeps the
// profile's verdict for the calls the early one let through. Before,
// glibc aborted the init in its first new thread (rseq refused) or the
// init hung on a refused futex.
func TestEarlyFilterLetsTheInitRun(t *testing.T) {
	requireRoot(t)
	eperm := uint(unix.EPERM)
	cfg := &configs.Seccomp{DefaultAction: configs.Errno, DefaultErrnoRet: &eperm, Architectures: []string{"amd64"},
		Syscalls: []*configs.Syscall{{Name: "execve", Action: configs.Allow}, {Name: "fchmodat2", Action: configs.Allow}}}
	sp := Split(cfg)
	if sp == nil {
		t.Fatal("Split of a restrictive profile = nil, want a split")
	}
	for _, name := range []string{"rseq", "futex", "exit_group", "mmap", "clone3", "rt_sigreturn", "tgkill"} {
		if !slices.ContainsFunc(sp.Late.Syscalls, func(c *configs.Syscall) bool { return c.Name == name && c.Action == configs.Errno }) {
			t.Errorf("the late filter has no refusal of %s, which the profile refuses", name)
		}
	}
	f, err := EarlyFile(t.TempDir(), sp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 5 { // the runtime's threads come at various points
		cmd := exec.CommandContext(ctx, "/proc/self/exe", earlyThreadsArg)
		cmd.ExtraFiles = []*os.File{f}
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil || out.String() != "ok" {
			t.Fatalf("run %d of an init under the early filter: %v, stdout %q, stderr %.300q; want ok", i, err, out.String(), errs.String())
		}
	}
}
