package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// unpackTest unpacks b into a fresh layer directory nested two levels
// below a test directory that also holds a sentinel directory, so that
// escapes by "..", absolute paths or symlinks can be seen.
type unpackTest struct {
	base, layer, sentinel string
}

func newUnpackTest(t *testing.T) *unpackTest {
	t.Helper()
	base := t.TempDir()
	u := &unpackTest{base: base, layer: filepath.Join(base, "a", "b", "layer"), sentinel: filepath.Join(base, "sentinel")}
	for _, d := range []string{u.layer, u.sentinel} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(u.sentinel, "keep"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

// checkSentinel fails unless the sentinel directory holds only "keep",
// unchanged, and nothing appeared beside the layer's parents.
func (u *unpackTest) checkSentinel(t *testing.T) {
	t.Helper()
	ents, err := os.ReadDir(u.sentinel)
	if err != nil || len(ents) != 1 || ents[0].Name() != "keep" {
		t.Errorf("sentinel directory changed: %v %v", ents, err)
	}
	if b, err := os.ReadFile(filepath.Join(u.sentinel, "keep")); err != nil || string(b) != "keep" {
		t.Errorf("sentinel file changed: %q %v", b, err)
	}
	for _, d := range []string{u.base, filepath.Join(u.base, "a"), filepath.Join(u.base, "a", "b")} {
		ents, _ := os.ReadDir(d)
		if len(ents) != map[string]int{u.base: 2}[d]+map[bool]int{true: 1}[d != u.base] {
			t.Errorf("unexpected entries in %s: %v", d, ents)
		}
	}
}

func TestUnpackHostile(t *testing.T) {
	requireRoot(t)
	esc := "podsec-escape-" + strings.ReplaceAll(t.Name(), "/", "-")
	tests := []struct {
		name    string
		ents    func(u *unpackTest) []ent
		wantErr string // substring; "" means success
		check   func(t *testing.T, u *unpackTest)
	}{
		{name: "dotdot climbs out", wantErr: "climbs out of the layer",
			ents: func(*unpackTest) []ent { return []ent{file("../../etc/"+esc, "x")} }},
		{name: "dotdot inside stays", ents: func(*unpackTest) []ent { return []ent{file("d/../f", "x")} },
			check: func(t *testing.T, u *unpackTest) { mustRead(t, filepath.Join(u.layer, "f"), "x") }},
		{name: "absolute name is relative to the layer",
			ents: func(*unpackTest) []ent { return []ent{file("/"+esc+"/path", "abs")} },
			check: func(t *testing.T, u *unpackTest) {
				mustRead(t, filepath.Join(u.layer, esc, "path"), "abs")
				mustNotExist(t, "/"+esc)
			}},
		{name: "symlink parent to an absolute path", wantErr: "no such file",
			ents: func(u *unpackTest) []ent { return []ent{symlink("a", u.sentinel), file("a/pwned", "x")} }},
		{name: "symlink parent to an absolute existing path stays inside",
			ents: func(u *unpackTest) []ent { return []ent{dir("etc"), symlink("a", "/etc"), file("a/pwned", "x")} },
			check: func(t *testing.T, u *unpackTest) {
				mustRead(t, filepath.Join(u.layer, "etc", "pwned"), "x")
				mustNotExist(t, "/etc/pwned")
			}},
		{name: "symlink parent climbing with dotdot stops at the root",
			ents:  func(*unpackTest) []ent { return []ent{symlink("a", "../../.."), file("a/"+esc, "x")} },
			check: func(t *testing.T, u *unpackTest) { mustRead(t, filepath.Join(u.layer, esc), "x") }},
		{name: "nested symlink parent", wantErr: "no such file",
			ents: func(u *unpackTest) []ent {
				return []ent{dir("d"), symlink("d/s", u.sentinel), file("d/s/pwned", "x")}
			}},
		{name: "hardlink to /etc/passwd", wantErr: "no such file",
			ents: func(*unpackTest) []ent { return []ent{hardlink("h", "/etc/passwd")} }},
		{name: "hardlink climbing out", wantErr: "climbs out of the layer",
			ents: func(*unpackTest) []ent { return []ent{hardlink("h", "../x")} }},
		{name: "hardlink through a symlink", wantErr: "no such file",
			ents: func(*unpackTest) []ent { return []ent{symlink("s", "/etc"), hardlink("h", "s/passwd")} }},
		{name: "hardlink through a relative symlink", wantErr: "no such file",
			ents: func(*unpackTest) []ent {
				return []ent{symlink("s", "../../../../../../etc"), hardlink("h", "s/passwd")}
			}},
		{name: "hardlink to a symlink pointing out links the symlink",
			ents: func(*unpackTest) []ent { return []ent{symlink("s", "/etc/passwd"), hardlink("h", "s")} },
			check: func(t *testing.T, u *unpackTest) {
				fi, err := os.Lstat(filepath.Join(u.layer, "h"))
				if err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("Lstat(h) = %v, %v; want a symlink", fi, err)
				}
			}},
		{name: "hardlink to the root", wantErr: "hard link to the layer root",
			ents: func(*unpackTest) []ent { return []ent{hardlink("h", "/")} }},
		{name: "file replaces a directory that had a symlink",
			ents: func(u *unpackTest) []ent {
				return []ent{dir("d"), symlink("d/s", u.sentinel), file("d/s-file", "y"), file("d", "now a file")}
			},
			check: func(t *testing.T, u *unpackTest) { mustRead(t, filepath.Join(u.layer, "d"), "now a file") }},
		{name: "file replaces a symlink instead of writing through it",
			ents: func(u *unpackTest) []ent {
				return []ent{symlink("f", filepath.Join(u.sentinel, "keep")), file("f", "evil")}
			},
			check: func(t *testing.T, u *unpackTest) { mustRead(t, filepath.Join(u.layer, "f"), "evil") }},
		{name: "directory replaces a symlink to a directory",
			ents:  func(u *unpackTest) []ent { return []ent{symlink("d", u.sentinel), dir("d"), file("d/x", "x")} },
			check: func(t *testing.T, u *unpackTest) { mustRead(t, filepath.Join(u.layer, "d", "x"), "x") }},
		{name: "opaque marker under a symlink", wantErr: "no such file",
			ents: func(u *unpackTest) []ent { return []ent{symlink("s", u.sentinel), file("s/.wh..wh..opq", "")} }},
		{name: "whiteout under a symlink", wantErr: "no such file",
			ents: func(u *unpackTest) []ent { return []ent{symlink("s", u.sentinel), file("s/.wh.keep", "")} }},
		{name: "huge header size", wantErr: "unpacked size exceeds the limit of 1GiB (--max-layer-size)",
			ents: func(*unpackTest) []ent {
				return []ent{{name: "big", typ: tar.TypeReg, mode: 0o644, body: "abc", size: 1 << 40}}
			}},
		{name: "truncated stream", wantErr: "truncated",
			ents: func(*unpackTest) []ent {
				return []ent{{name: "f", typ: tar.TypeReg, mode: 0o644, body: "abc", size: 4096}}
			}},
		{name: "root that is not a directory", wantErr: "layer root is not a directory",
			ents: func(*unpackTest) []ent { return []ent{file(".", "x")} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUnpackTest(t)
			b := mkTar(t, tc.ents(u)...)
			_, _, err := unpackLayer(bytes.NewReader(b), u.layer, DefaultLimits())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unpackLayer() = %v, want success", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("unpackLayer() = %v, want an error containing %q", err, tc.wantErr)
			}
			u.checkSentinel(t)
			mustNotExist(t, filepath.Join(u.base, esc))
			mustNotExist(t, filepath.Join("/etc", esc))
			if tc.check != nil {
				tc.check(t, u)
			}
		})
	}
}

func TestUnpackGarbage(t *testing.T) {
	u := newUnpackTest(t)
	_, _, err := unpackLayer(strings.NewReader(strings.Repeat("not a tar ", 100)), u.layer, DefaultLimits())
	if err == nil {
		t.Fatal("unpackLayer(garbage) = nil, want an error")
	}
}

func TestUnpackMetadata(t *testing.T) {
	requireRoot(t)
	u := newUnpackTest(t)
	suid := file("bin/su", "su")
	suid.mode, suid.uid, suid.gid = 0o4755, 0, 0
	sticky := dir("tmp")
	sticky.mode = 0o1777
	owned := file("home/app/f", "mine")
	owned.mode, owned.uid, owned.gid = 0o600, 1000, 100
	sgid := dir("srv")
	sgid.mode, sgid.uid, sgid.gid = 0o2775, 33, 33
	x := file("x", "x")
	x.xattrs = map[string]string{"user.podsec": "v", "trusted.overlay.opaque": "y"}
	null := ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3}
	fifo := ent{name: "fifo", typ: tar.TypeFifo, mode: 0o640}
	b := mkTar(t, dir("bin"), suid, sticky, dir("home"), dir("home/app"), owned, sgid, x,
		hardlink("bin/su-link", "bin/su"), symlink("bin/sh", "/bin/busybox"), dir("dev"), null, fifo)
	digest, size, err := unpackLayer(bytes.NewReader(b), u.layer, DefaultLimits())
	if err != nil {
		t.Fatalf("unpackLayer() = %v", err)
	}
	sum := sha256.Sum256(b)
	if want := "sha256:" + hex.EncodeToString(sum[:]); digest != want || size != int64(len(b)) {
		t.Errorf("unpackLayer() = %s, %d; want %s, %d", digest, size, want, len(b))
	}
	tests := []struct {
		path     string
		mode     uint32
		uid, gid uint32
	}{
		{"bin/su", unix.S_IFREG | 0o4755, 0, 0},
		{"tmp", unix.S_IFDIR | 0o1777, 0, 0},
		{"home/app/f", unix.S_IFREG | 0o600, 1000, 100},
		{"srv", unix.S_IFDIR | 0o2775, 33, 33},
		{"dev/null", unix.S_IFCHR | 0o666, 0, 0},
		{"fifo", unix.S_IFIFO | 0o640, 0, 0},
	}
	for _, tc := range tests {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(u.layer, tc.path), &st); err != nil {
			t.Errorf("Lstat(%s) = %v", tc.path, err)
			continue
		}
		if st.Mode != tc.mode || st.Uid != tc.uid || st.Gid != tc.gid {
			t.Errorf("Lstat(%s) = mode %o %d:%d, want %o %d:%d", tc.path, st.Mode, st.Uid, st.Gid, tc.mode, tc.uid, tc.gid)
		}
		if mt := time.Unix(st.Mtim.Unix()); !mt.Equal(testTime) {
			t.Errorf("Lstat(%s) mtime = %v, want %v", tc.path, mt, testTime)
		}
	}
	var a, l unix.Stat_t
	_ = unix.Lstat(filepath.Join(u.layer, "bin/su"), &a)
	_ = unix.Lstat(filepath.Join(u.layer, "bin/su-link"), &l)
	if a.Ino != l.Ino {
		t.Errorf("bin/su-link is not a hard link of bin/su")
	}
	if got, err := os.Readlink(filepath.Join(u.layer, "bin/sh")); err != nil || got != "/bin/busybox" {
		t.Errorf("Readlink(bin/sh) = %q, %v", got, err)
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(u.layer, "x"), "user.podsec", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("Lgetxattr(x, user.podsec) = %q, %v; want v", buf[:n], err)
	}
	if _, err := unix.Lgetxattr(filepath.Join(u.layer, "x"), overlayOpaque, buf); !errors.Is(err, unix.ENODATA) {
		t.Errorf("Lgetxattr(x, %s) = %v; a layer's trusted.* xattrs must be dropped", overlayOpaque, err)
	}
}
