package seccompsplit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestBPFCacheTrust: the seccomp cache gives back what it stored, and
// nothing that someone other than this user could have written or
// changed: another owner, group or world access, a symlink, a second
// hard link, a torn or altered program, a cache directory open to others.
func TestBPFCacheTrust(t *testing.T) {
	requireRoot(t)                                                   // the cache's files are chowned to another user
	prog := bytes.Repeat([]byte{0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}, 3) // ret ALLOW, three times
	key := Key([]byte("profile"), []byte("v1"))
	fresh := func(t *testing.T) (Cache, string) {
		c := NewCache(t.TempDir())
		if err := c.Put(key, prog); err != nil {
			t.Fatalf("put: %v", err)
		}
		if got := c.Get(key); !bytes.Equal(got, prog) {
			t.Fatalf("get after put = %x, want %x", got, prog)
		}
		return c, filepath.Join(c.dir, key)
	}
	if Key([]byte("ab"), []byte("c")) == Key([]byte("a"), []byte("bc")) {
		t.Errorf("Key does not separate its parts")
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, c Cache, file string) error
	}{
		{"owned by another user", func(_ *testing.T, _ Cache, f string) error { return os.Chown(f, 65534, 0) }},
		{"group writable", func(_ *testing.T, _ Cache, f string) error { return os.Chmod(f, 0o620) }},
		{"world readable", func(_ *testing.T, _ Cache, f string) error { return os.Chmod(f, 0o604) }},
		{"a second hard link", func(t *testing.T, _ Cache, f string) error { return os.Link(f, filepath.Join(t.TempDir(), "x")) }},
		{"a symlink", func(t *testing.T, _ Cache, f string) error {
			other := filepath.Join(t.TempDir(), "prog")
			b, _ := os.ReadFile(f)
			if err := os.WriteFile(other, b, 0o600); err != nil {
				return err
			}
			os.Remove(f)
			return os.Symlink(other, f)
		}},
		{"an altered program", func(_ *testing.T, _ Cache, f string) error {
			b, _ := os.ReadFile(f)
			b[len(b)-1] ^= 0xff
			return os.WriteFile(f, b, 0o600)
		}},
		{"a torn program", func(_ *testing.T, _ Cache, f string) error {
			b, _ := os.ReadFile(f)
			return os.WriteFile(f, b[:len(b)-3], 0o600)
		}},
		{"a directory others may write in", func(_ *testing.T, c Cache, _ string) error { return os.Chmod(c.dir, 0o733) }},
		{"a directory of another user", func(_ *testing.T, c Cache, _ string) error { return os.Chown(c.dir, 65534, 0) }},
		{"a symlinked directory", func(t *testing.T, c Cache, _ string) error {
			moved := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.Rename(c.dir, moved); err != nil {
				return err
			}
			return os.Symlink(moved, c.dir)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, file := fresh(t)
			if err := tc.tamper(t, c, file); err != nil {
				t.Fatalf("tampering: %v", err)
			}
			if got := c.Get(key); got != nil {
				t.Errorf("get of a cache file with %s = %x, want nothing", tc.name, got)
			}
		})
	}
	t.Run("put makes the directory 0700 whatever the umask", func(t *testing.T) {
		c, file := fresh(t)
		for path, want := range map[string]os.FileMode{c.dir: os.ModeDir | 0o700, file: 0o600} {
			if st, err := os.Lstat(path); err != nil || st.Mode() != want {
				t.Errorf("mode of %s = %v (%v), want %v", path, st.Mode(), err, want)
			}
		}
	})
}
