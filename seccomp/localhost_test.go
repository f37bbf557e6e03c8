package seccomp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLocalhost(t *testing.T) {
	eperm, enosys, seven := uint(1), uint(38), uint(7)
	tests := []struct {
		name string
		caps []string
		want *specs.LinuxSeccomp
	}{
		{"profiles/audit.json", nil, &specs.LinuxSeccomp{DefaultAction: specs.ActLog}},
		{"profiles/deny-mkdir.json", nil, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &eperm},
			},
		}},
		{"./profiles//audit.json", nil, &specs.LinuxSeccomp{DefaultAction: specs.ActLog}},
		{"oci/trace.json", nil, &specs.LinuxSeccomp{
			DefaultAction:   specs.ActErrno,
			DefaultErrnoRet: &enosys,
			Architectures:   []specs.Arch{specs.ArchX86_64},
			Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
			Syscalls: []specs.LinuxSyscall{
				allow("read", "write"),
				{Names: []string{"personality"}, Action: specs.ActAllow,
					Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
				{Names: []string{"ptrace"}, Action: specs.ActTrace, ErrnoRet: &seven},
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Localhost("testdata", tc.name, tc.caps)
			if err != nil {
				t.Fatalf("Localhost(testdata, %q) error = %v", tc.name, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Localhost(testdata, %q) =\n%+v\nwant\n%+v", tc.name, got, tc.want)
			}
		})
	}
}

// TestLocalhostCaps checks includes/excludes.caps through Localhost; the
// other filters are covered by TestParseDockerFilters.
func TestLocalhostCaps(t *testing.T) {
	tests := []struct {
		caps      []string
		wantMount bool
		wantClone bool
	}{
		{nil, false, true},
		{[]string{"CAP_CHOWN"}, false, true},
		{[]string{"CAP_CHOWN", "CAP_SYS_ADMIN"}, true, false},
	}
	for _, tc := range tests {
		p, err := Localhost("testdata", "moby/filters.json", tc.caps)
		if err != nil {
			t.Fatalf("Localhost(testdata, moby/filters.json, %v) error = %v", tc.caps, err)
		}
		if got := mentions(p, specs.ActAllow, "mount"); got != tc.wantMount {
			t.Errorf("Localhost(moby/filters.json, %v) allows mount = %v, want %v", tc.caps, got, tc.wantMount)
		}
		if got := mentions(p, specs.ActAllow, "clone"); got != tc.wantClone {
			t.Errorf("Localhost(moby/filters.json, %v) allows clone = %v, want %v", tc.caps, got, tc.wantClone)
		}
		if want := goArches[runtime.GOARCH].arches; runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
			if !reflect.DeepEqual(p.Architectures, want) {
				t.Errorf("Localhost(moby/filters.json).Architectures = %v, want %v", p.Architectures, want)
			}
		}
	}
}

func TestLocalhostFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		wantErr error
		want    string
	}{
		{"bad/syntax.json", ErrInvalidProfile, `seccomp profile "bad/syntax.json": decoding JSON`},
		{"bad/unknown-field.json", ErrInvalidProfile, `seccomp profile "bad/unknown-field.json": decoding JSON`},
		{"bad/unknown-action.json", ErrInvalidProfile,
			`seccomp profile "bad/unknown-action.json": syscalls[1].action: unknown action "SCMP_ACT_FOO"`},
		{"bad/empty.json", ErrInvalidProfile, `seccomp profile "bad/empty.json": empty file`},
		{"", ErrInvalidProfile, "empty localhostProfile"},
		{"profiles/missing.json", fs.ErrNotExist, `seccomp profile "profiles/missing.json": reading from profile root "testdata"`},
		{"profiles", ErrNotRegularFile, `seccomp profile "profiles": is a directory, not a regular file`},
		{"../testdata/profiles/audit.json", ErrProfileEscapes, `path has a ".." element`},
		{"profiles/../profiles/audit.json", ErrProfileEscapes, `path has a ".." element`},
		{"/etc/passwd", ErrProfileEscapes, "absolute path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Localhost("testdata", tc.name, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Localhost(testdata, %q) = %v, %v; want error %v", tc.name, p, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Localhost(testdata, %q) error = %q, want it to contain %q", tc.name, err, tc.want)
			}
		})
	}
}

// TestLocalhostSymlinks builds a profile root whose links point inside and
// outside it.
func TestLocalhostSymlinks(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	audit := []byte(`{"defaultAction": "SCMP_ACT_LOG"}`)
	mustWrite(t, filepath.Join(dir, "outside.json"), audit)
	mustWrite(t, filepath.Join(root, "profiles", "audit.json"), audit)
	links := map[string]string{
		"profiles/inside.json":   "audit.json",
		"profiles/up.json":       "../profiles/audit.json",
		"profiles/relative.json": "../../outside.json",
		"profiles/absolute.json": filepath.Join(dir, "outside.json"),
		"escape":                 dir,
		"self.json":              filepath.Join(root, "profiles", "audit.json"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatalf("cannot create symlinks: %v", err)
		}
	}
	mustWrite(t, filepath.Join(root, "big.json"), nil)
	if err := os.Truncate(filepath.Join(root, "big.json"), MaxProfileSize+1); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		wantErr error
	}{
		{"profiles/audit.json", nil},
		{"profiles/inside.json", nil},
		{"profiles/up.json", nil},
		{"profiles/relative.json", ErrProfileEscapes},
		{"profiles/absolute.json", ErrProfileEscapes},
		{"escape/outside.json", ErrProfileEscapes},
		// An absolute link is resolved against the host's /, not the
		// root, so it escapes even when it names a file inside.
		{"self.json", ErrProfileEscapes},
		{"big.json", ErrProfileTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Localhost(root, tc.name, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Localhost(%q, %q) = %v, %v; want error %v", root, tc.name, p, err, tc.wantErr)
			}
			if err == nil && p.DefaultAction != specs.ActLog {
				t.Errorf("Localhost(%q, %q).DefaultAction = %q, want %q", root, tc.name, p.DefaultAction, specs.ActLog)
			}
		})
	}
}

func TestLocalhostMissingRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "none")
	_, err := Localhost(root, "audit.json", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Localhost(%q, audit.json) = %v, want fs.ErrNotExist", root, err)
	}
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
