package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/podsec/podsec/spec"
)

func TestNormalize(t *testing.T) {
	const d = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	tests := []struct{ in, want, wantErr string }{
		{in: "busybox", want: "docker.io/library/busybox:latest"},
		{in: "busybox:1.36", want: "docker.io/library/busybox:1.36"},
		{in: "docker.io/busybox", want: "docker.io/library/busybox:latest"},
		{in: "index.docker.io/library/busybox:1", want: "docker.io/library/busybox:1"},
		{in: "user/app", want: "docker.io/user/app:latest"},
		{in: "localhost/busybox", want: "localhost/busybox:latest"},
		{in: "localhost/busybox:nonroot", want: "localhost/busybox:nonroot"},
		{in: "127.0.0.1:5000/a/b:c", want: "127.0.0.1:5000/a/b:c"},
		{in: "quay.io/x/y@" + d, want: "quay.io/x/y@" + d},
		{in: "busybox@" + d, want: "docker.io/library/busybox@" + d},
		{in: "Busybox", wantErr: "invalid reference format"},
		{in: "", wantErr: "invalid reference format"},
		{in: " busybox", wantErr: "invalid reference format"},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Normalize(%q) = %q, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// testImages are two images sharing a base layer.
func testImages(t *testing.T) (a, b v1.Image) {
	base := mkTar(t, dir("bin"), file("bin/base", "base"), dir("etc"), file("etc/passwd", "root:x:0:0::/:/bin/sh\n"))
	a = mkImage(t, v1.Config{User: "1000", Cmd: []string{"sh"}, Env: []string{"A=1"}, WorkingDir: "/w"},
		base, mkTar(t, file("a", "a")))
	b = mkImage(t, v1.Config{Entrypoint: []string{"/bin/b"}}, base, mkTar(t, file("b", "b")))
	return a, b
}

// archives writes img in each format Load reads and returns the paths.
func archives(t *testing.T, dir, ref string, img v1.Image) map[string]string {
	t.Helper()
	oci := writeLayout(t, filepath.Join(dir, "oci"), map[string]v1.Image{ref: img})
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker.tar")
	if err := tarball.WriteToFile(docker, tag, img); err != nil {
		t.Fatalf("tarball.WriteToFile() = %v", err)
	}
	archive := filepath.Join(dir, "oci-archive.tar")
	tarDir(t, oci, archive)
	return map[string]string{"oci layout": oci, "docker save tar": docker, "oci-archive": archive}
}

// tarDir writes the files of dir as a tar at out.
func tarDir(t *testing.T, dir, out string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := d.Info()
		h, _ := tar.FileInfoHeader(fi, "")
		h.Name = rel
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = os.WriteFile(out, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatalf("tarDir(%s) = %v", dir, err)
	}
}

func TestLoadFormats(t *testing.T) {
	a, _ := testImages(t)
	id, _ := a.ConfigName()
	digest, _ := a.Digest()
	for format, path := range archives(t, t.TempDir(), "localhost/a:1", a) {
		t.Run(format, func(t *testing.T) {
			s := openStore(t, filepath.Join(t.TempDir(), "images"))
			imgs, err := s.Load(path, nil)
			if err != nil {
				t.Fatalf("Load(%s) = %v", path, err)
			}
			if len(imgs) != 1 || imgs[0].Ref != "localhost/a:1" || imgs[0].ID != id.String() {
				t.Fatalf("Load(%s) = %+v, want localhost/a:1 %s", path, imgs, id)
			}
			wantDigest := digest.String()
			if format == "docker save tar" {
				wantDigest = ""
			}
			got, err := s.Get("localhost/a:1")
			if err != nil {
				t.Fatalf("Get(localhost/a:1) = %v", err)
			}
			wantCfg := spec.ImageConfig{User: "1000", Cmd: []string{"sh"}, Env: []string{"A=1"}, WorkingDir: "/w"}
			if got.Digest != wantDigest || !reflect.DeepEqual(got.Config, wantCfg) || !got.Created.Equal(testTime) || got.Size <= 0 {
				t.Errorf("Get(localhost/a:1) = %+v, want digest %q config %+v", got, wantDigest, wantCfg)
			}
			if len(got.Layers) != 2 {
				t.Fatalf("Get(localhost/a:1).Layers = %v, want 2", got.Layers)
			}
			mustRead(t, filepath.Join(got.Layers[0], "bin/base"), "base")
			mustRead(t, filepath.Join(got.Layers[1], "a"), "a")
			list, err := s.List()
			if err != nil || len(list) != 1 || list[0].Ref != "localhost/a:1" {
				t.Errorf("List() = %+v, %v", list, err)
			}
			tmp, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
			if len(tmp) != 0 {
				t.Errorf("Load(%s) left %v in tmp/", path, tmp)
			}
		})
	}
}

func TestSharedLayersAndRemove(t *testing.T) {
	a, b := testImages(t)
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "images"))
	if _, err := s.Load(writeLayout(t, filepath.Join(dir, "a"), map[string]v1.Image{"localhost/a:1": a}), nil); err != nil {
		t.Fatalf("Load(a) = %v", err)
	}
	ia, _ := s.Get("localhost/a:1")
	var before, after os.FileInfo
	before, _ = os.Stat(ia.Layers[0])
	var progress bytes.Buffer
	if _, err := s.Load(writeLayout(t, filepath.Join(dir, "b"), map[string]v1.Image{"localhost/b:1": b}), &progress); err != nil {
		t.Fatalf("Load(b) = %v", err)
	}
	ib, _ := s.Get("localhost/b:1")
	after, _ = os.Stat(ib.Layers[0])
	if ib.Layers[0] != ia.Layers[0] || !os.SameFile(before, after) {
		t.Errorf("base layer of b = %s, want a's %s unpacked once", ib.Layers[0], ia.Layers[0])
	}
	if got := strings.Count(progress.String(), "already present"); got != 1 {
		t.Errorf("Load(b) progress = %q, want the base layer already present", progress.String())
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers/sha256")); n != 3 {
		t.Errorf("layers = %d, want 3", n)
	}

	if err := s.Remove("localhost/a:1"); err != nil {
		t.Fatalf("Remove(localhost/a:1) = %v", err)
	}
	if _, err := s.Get("localhost/a:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(localhost/a:1) after Remove = %v, want ErrNotFound", err)
	}
	mustNotExist(t, ia.Layers[1])
	mustNotExist(t, s.blobPath(ia.ID))
	mustNotExist(t, s.blobPath(ia.Digest))
	if _, err := s.Get("localhost/b:1"); err != nil {
		t.Errorf("Get(localhost/b:1) after removing a = %v", err)
	}
	if err := s.Remove("localhost/a:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(localhost/a:1) twice = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ib.ID[len("sha256:") : len("sha256:")+12]); err != nil {
		t.Fatalf("Remove(b by ID prefix) = %v", err)
	}
	for _, d := range []string{"layers/sha256", "blobs/sha256", "tmp"} {
		if n := countDir(t, filepath.Join(s.Root(), d)); n != 0 {
			t.Errorf("%s holds %d entries after removing every image, want 0", d, n)
		}
	}
}

func TestGetBy(t *testing.T) {
	a, _ := testImages(t)
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "images"))
	if _, err := s.Load(writeLayout(t, filepath.Join(dir, "a"), map[string]v1.Image{"docker.io/library/a:1": a}), nil); err != nil {
		t.Fatalf("Load(a) = %v", err)
	}
	id, _ := a.ConfigName()
	d, _ := a.Digest()
	tests := []struct{ ref, wantErr string }{
		{ref: "a:1"},
		{ref: "docker.io/library/a:1"},
		{ref: "a@" + d.String()},
		{ref: id.String()},
		{ref: id.Hex[:12]},
		{ref: "a:2", wantErr: "image not found: docker.io/library/a:2"},
		{ref: "b@" + d.String(), wantErr: "image not found"},
		{ref: "NOPE", wantErr: "invalid reference format"},
	}
	for _, tc := range tests {
		img, err := s.Get(tc.ref)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Get(%q) = %v, want error %q", tc.ref, err, tc.wantErr)
			}
			continue
		}
		if err != nil || img.ID != id.String() || img.Ref != "docker.io/library/a:1" {
			t.Errorf("Get(%q) = %+v, %v; want docker.io/library/a:1 %s", tc.ref, img, err, id)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	a, _ := testImages(t)
	dir := t.TempDir()
	cf, _ := a.ConfigFile()
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[1] = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	bad, err := mutate.ConfigFile(a, cf)
	if err != nil {
		t.Fatal(err)
	}
	nameless := filepath.Join(dir, "nameless")
	writeLayout(t, nameless, map[string]v1.Image{"": a})
	notTar := filepath.Join(dir, "not.tar")
	_ = os.WriteFile(notTar, []byte(strings.Repeat("x", 2048)), 0o644)
	emptyTar := filepath.Join(dir, "empty.tar")
	_ = os.WriteFile(emptyTar, mkTar(t), 0o644)
	tests := []struct{ name, path, wantErr string }{
		{"diffID mismatch", writeLayout(t, filepath.Join(dir, "bad"), map[string]v1.Image{"localhost/bad:1": bad}), "digest mismatch"},
		{"nameless", nameless, "has no name"},
		{"not a tar", notTar, "not an image archive"},
		{"empty tar", emptyTar, "not an OCI layout, an oci-archive nor a docker save tar"},
		{"missing", filepath.Join(dir, "missing"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, filepath.Join(t.TempDir(), "images"))
			_, err := s.Load(tc.path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "loading "+tc.path) {
				t.Fatalf("Load(%s) = %v, want error %q", tc.path, err, tc.wantErr)
			}
			if tc.name == "diffID mismatch" {
				// Neither the bad layer nor the good base layer unpacked
				// before it stays: a failed load leaves nothing.
				mustNotExist(t, s.layerPath(cf.RootFS.DiffIDs[1].String()))
				mustNotExist(t, s.layerPath(cf.RootFS.DiffIDs[0].String()))
			}
			if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 0 {
				t.Errorf("Load(%s) left %d entries in tmp/", tc.path, n)
			}
		})
	}
}

// TestConcurrentLoads loads the same images from several stores opened on
// one directory at once, as separate podsec processes would.
func TestConcurrentLoads(t *testing.T) {
	a, b := testImages(t)
	dir := t.TempDir()
	lp := writeLayout(t, filepath.Join(dir, "ab"), map[string]v1.Image{"localhost/a:1": a, "localhost/b:1": b})
	root := filepath.Join(dir, "images")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(root)
			if err == nil {
				_, err = s.Load(lp, nil)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Load #%d = %v", i, err)
		}
	}
	s := openStore(t, root)
	if list, err := s.List(); err != nil || len(list) != 2 {
		t.Errorf("List() = %v, %v; want 2 images", list, err)
	}
	if n := countDir(t, filepath.Join(root, "layers/sha256")); n != 3 {
		t.Errorf("layers = %d, want 3", n)
	}
}

func countDir(t *testing.T, d string) int {
	t.Helper()
	ents, err := os.ReadDir(d)
	if err != nil {
		t.Fatalf("ReadDir(%s) = %v", d, err)
	}
	return len(ents)
}

// TestCrashLeftovers: what an interrupted change leaves (a half layer
// renamed in place before the index was written, files in tmp/) is not
// trusted and is cleaned by the next change.
func TestCrashLeftovers(t *testing.T) {
	a, _ := testImages(t)
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "images"))
	cf, _ := a.ConfigFile()
	half := s.layerPath(cf.RootFS.DiffIDs[0].String())
	if err := os.MkdirAll(filepath.Join(half, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(s.Root(), "tmp", "unpack-123", "layer")
	if err := os.MkdirAll(junk, 0o755); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.Load(writeLayout(t, filepath.Join(dir, "a"), map[string]v1.Image{"localhost/a:1": a}), nil)
	if err != nil {
		t.Fatalf("Load(a) = %v", err)
	}
	mustRead(t, filepath.Join(imgs[0].Layers[0], "bin/base"), "base")
	if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 0 {
		t.Errorf("tmp/ holds %d entries after Load, want 0", n)
	}
}
