package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ent is one entry of a test tar.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	uid, gid         int
	size             int64 // header size when not len(body)
	major, minor     int64
	xattrs           map[string]string
}

var testTime = time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)

func file(name, body string) ent { return ent{name: name, body: body, typ: tar.TypeReg, mode: 0o644} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) ent {
	return ent{name: name, link: to, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, to string) ent {
	return ent{name: name, link: to, typ: tar.TypeLink, mode: 0o644}
}

// mkTar returns a tar of ents; a size larger than the body makes a
// truncated stream.
func mkTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Size: int64(len(e.body)), ModTime: testTime, Devmajor: e.major, Devminor: e.minor, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if len(e.xattrs) > 0 {
			h.PAXRecords = map[string]string{}
			for k, v := range e.xattrs {
				h.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if e.size != 0 {
			h.Size = e.size
			if err := tw.WriteHeader(h); err != nil {
				t.Fatalf("tar.WriteHeader(%q): %v", e.name, err)
			}
			_, _ = tw.Write([]byte(e.body))
			// Return what was written so far: a truncated stream.
			_ = tw.Flush()
			return buf.Bytes()
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar.WriteHeader(%q): %v", e.name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("tar.Write(%q): %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mkImage returns an OCI image of the given layer tars and config.
func mkImage(t testing.TB, cfg v1.Config, layers ...[]byte) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		b := l
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			t.Fatalf("tarball.LayerFromOpener: %v", err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			t.Fatalf("mutate.AppendLayers: %v", err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config, cf.Created = "linux", "amd64", cfg, v1.Time{Time: testTime}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatalf("mutate.ConfigFile: %v", err)
	}
	return img
}

// requireRoot skips a test that needs root, except on CI where a missing
// prerequisite is a failure.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root, and CI=true: not skipping")
	}
	t.Skip("needs root")
}

func openStore(t *testing.T, root string) *Store {
	t.Helper()
	s, err := Open(root)
	if err != nil {
		t.Fatalf("Open(%s) = %v", root, err)
	}
	return s
}

// writeLayout writes imgs as an OCI layout named with
// org.opencontainers.image.ref.name.
func writeLayout(t *testing.T, dir string, imgs map[string]v1.Image) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatalf("layout.Write(%s) = %v", dir, err)
	}
	for ref, img := range imgs {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationRefName: ref})); err != nil {
			t.Fatalf("AppendImage(%s) = %v", ref, err)
		}
	}
	return dir
}

func mustRead(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != want {
		t.Errorf("ReadFile(%s) = %q, %v; want %q", p, b, err, want)
	}
}

func mustNotExist(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Lstat(%s) = %v, want it not to exist", p, err)
	}
}
