package image

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// TestOverlayWhiteouts loads a two-layer image and mounts its layers as
// the runtime will: a deleted file must be gone, an opaque directory must
// hide the lower layer's entries, and the rest must show through.
func TestOverlayWhiteouts(t *testing.T) {
	requireRoot(t)
	lower := mkTar(t, dir("a"), file("a/keep", "keep"), file("a/gone", "gone"), dir("a/sub"), file("a/sub/f", "f"),
		dir("o"), file("o/old", "old"), dir("o/olddir"), file("top", "lower"), file("replaced", "lower"))
	upper := mkTar(t, dir("a"), file("a/.wh.gone", ""), file("a/.wh.sub", ""),
		dir("o"), file("o/.wh..wh..opq", ""), file("o/new", "new"),
		file(".wh.top", ""), file("replaced", "upper"), file("fresh/.wh..wh..opq", ""))
	img := mkImage(t, v1.Config{}, lower, upper)
	root := t.TempDir()
	s := openStore(t, filepath.Join(root, "images"))
	lp := writeLayout(t, filepath.Join(root, "oci"), map[string]v1.Image{"localhost/ovl:1": img})
	imgs, err := s.Load(lp, nil)
	if err != nil {
		t.Fatalf("Load(%s) = %v", lp, err)
	}
	layers := imgs[0].Layers
	if len(layers) != 2 {
		t.Fatalf("Load(%s) layers = %v, want 2", lp, layers)
	}

	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(layers[1], "a", "gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("upper a/gone = mode %o rdev %d, %v; want a 0:0 character device", st.Mode, st.Rdev, err)
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(layers[1], "o"), overlayOpaque, buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("upper o %s = %q, %v; want y", overlayOpaque, buf[:n], err)
	}

	mnt, work, up := filepath.Join(root, "mnt"), filepath.Join(root, "work"), filepath.Join(root, "upper")
	for _, d := range []string{mnt, work, up} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + layers[1] + ":" + layers[0] + ",upperdir=" + up + ",workdir=" + work
	if err := unix.Mount("overlay", mnt, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay %s: %v", opts, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	for _, p := range []string{"a/gone", "a/sub", "o/old", "o/olddir", "top"} {
		mustNotExist(t, filepath.Join(mnt, p))
	}
	mustRead(t, filepath.Join(mnt, "a/keep"), "keep")
	mustRead(t, filepath.Join(mnt, "o/new"), "new")
	mustRead(t, filepath.Join(mnt, "replaced"), "upper")
	ents, err := os.ReadDir(filepath.Join(mnt, "o"))
	if err != nil || len(ents) != 1 {
		t.Errorf("ReadDir(o) = %v, %v; want only new", ents, err)
	}
	if fi, err := os.Stat(filepath.Join(mnt, "fresh")); err != nil || !fi.IsDir() {
		t.Errorf("Stat(fresh) = %v, %v; want the directory an opaque marker implies", fi, err)
	}
}
