package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLayersUserDB reads the user database of the highest layer that has
// it, honours whiteouts, and never follows a layer's symlink onto the node.
func TestLayersUserDB(t *testing.T) {
	requireRoot(t)
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte("node:x:0:0::/:/bin/sh\n"), 0o644))
	must(t, unix.Mknod(filepath.Join(outside, "group"), unix.S_IFCHR|0o600, 0))

	low, mid, high := t.TempDir(), t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(low, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(low, "etc/passwd"), []byte("low:x:1:1::/:/bin/sh\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(low, "etc/group"), []byte("low:x:1:\n"), 0o644))
	// mid deletes /etc/group with a whiteout.
	must(t, os.MkdirAll(filepath.Join(mid, "etc"), 0o755))
	must(t, unix.Mknod(filepath.Join(mid, "etc/group"), unix.S_IFCHR|0o600, 0))
	// high's etc is a symlink out of the layer: inside the image it is
	// resolved in the layer, where nothing is.
	must(t, os.Symlink(outside, filepath.Join(high, "etc")))

	db, err := LayersUserDB([]string{low, mid, high})
	if err != nil {
		t.Fatal(err)
	}
	if string(db.Passwd) != "low:x:1:1::/:/bin/sh\n" {
		t.Errorf("LayersUserDB passwd = %q, want the low layer's (never the node's)", db.Passwd)
	}
	if len(db.Group) != 0 {
		t.Errorf("LayersUserDB group = %q, want none: the mid layer deletes it", db.Group)
	}
	// Without mid: the node's 0:0 device behind high's symlink must not
	// count as a whiteout of low's group.
	db, err = LayersUserDB([]string{low, high})
	if err != nil {
		t.Fatal(err)
	}
	if string(db.Group) != "low:x:1:\n" {
		t.Errorf("LayersUserDB group = %q, want the low layer's: a symlink out of a layer was followed", db.Group)
	}
}
