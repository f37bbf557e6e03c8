package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

func TestUnpackLimits(t *testing.T) {
	requireRoot(t)
	lim := Limits{MaxManifestSize: 1 << 20, MaxConfigSize: 1 << 20, MaxLayerSize: 64 << 10, MaxLayerFiles: 4}
	big := strings.Repeat("0", 80<<10)
	tests := []struct {
		name    string
		ents    []ent
		wantErr string
	}{
		{"at the limits", []ent{file("a", strings.Repeat("0", 32<<10)), file("b", ""), dir("d"), file("d/c", "")}, ""},
		{"too many entries", []ent{file("a", ""), file("b", ""), file("c", ""), file("d", ""), file("e", "")},
			"number of entries exceeds the limit of 4 (--max-layer-files)"},
		{"stream too large", []ent{file("big", big)}, "unpacked size exceeds the limit of 64KiB (--max-layer-size)"},
		{"declared file size too large", []ent{{name: "f", typ: tar.TypeReg, mode: 0o644, body: "abc", size: 1 << 40}},
			"unpacked size exceeds the limit of 64KiB (--max-layer-size)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUnpackTest(t)
			_, _, err := unpackLayer(bytes.NewReader(mkTar(t, tc.ents...)), u.layer, lim)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unpackLayer() = %v, want success", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrLimitExceeded) {
				t.Fatalf("unpackLayer() = %v, want %q (ErrLimitExceeded)", err, tc.wantErr)
			}
		})
	}
}

// storeListing lists every path under the store with its type, but for
// the lock file, which the first change creates.
func storeListing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(root, p); rel != "lock" {
			out = append(out, fmt.Sprintf("%s %v", rel, d.Type()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// loadQuickly runs Load with a deadline: a hostile layout must fail fast,
// never hang.
func loadQuickly(t *testing.T, s *Store, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.Load(path, nil)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%s) still running after 10s", path)
		return nil
	}
}

// TestLoadHostileLayout: files of an OCI layout that are symlinks, fifos
// or too large are refused by name, quickly, and leave the store as it
// was.
func TestLoadHostileLayout(t *testing.T) {
	a, _ := testImages(t)
	cf, _ := a.ConfigFile()
	m, _ := a.Manifest()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("node file"), 0o600); err != nil {
		t.Fatal(err)
	}
	blob := func(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", "sha256", h.Hex) }
	tests := []struct {
		name    string
		lim     Limits
		mangle  func(t *testing.T, dir string)
		wantErr string
	}{
		{"index.json symlink to /dev/zero", Limits{}, func(t *testing.T, dir string) {
			replace(t, filepath.Join(dir, "index.json"), func(p string) error { return os.Symlink("/dev/zero", p) })
		}, "layout index.json: not a regular file (a symlink)"},
		{"index.json fifo", Limits{}, func(t *testing.T, dir string) {
			replace(t, filepath.Join(dir, "index.json"), func(p string) error { return unix.Mkfifo(p, 0o600) })
		}, "layout index.json: not a regular file (fifo)"},
		{"oci-layout device", Limits{}, func(t *testing.T, dir string) {
			replace(t, filepath.Join(dir, "oci-layout"), func(p string) error { return unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 5))) })
		}, "layout oci-layout: not a regular file (character device)"},
		{"blobs directory symlink", Limits{}, func(t *testing.T, dir string) {
			real := filepath.Join(dir, "real-blobs")
			if err := os.Rename(filepath.Join(dir, "blobs"), real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, filepath.Join(dir, "blobs")); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file (a symlink)"},
		{"config blob symlink", Limits{}, func(t *testing.T, dir string) {
			replace(t, blob(dir, m.Config.Digest), func(p string) error { return os.Symlink(outside, p) })
		}, "layout blobs/sha256/" + m.Config.Digest.Hex + ": not a regular file (a symlink)"},
		{"layer blob fifo", Limits{}, func(t *testing.T, dir string) {
			replace(t, blob(dir, m.Layers[1].Digest), func(p string) error { return unix.Mkfifo(p, 0o600) })
		}, "layout blobs/sha256/" + m.Layers[1].Digest.Hex + ": not a regular file (fifo)"},
		{"index.json too large", Limits{MaxManifestSize: 64}, func(*testing.T, string) {},
			"layout index.json: size exceeds the limit of 64B (--max-manifest-size)"},
		{"config too large", Limits{MaxConfigSize: 16}, func(*testing.T, string) {},
			"config " + m.Config.Digest.String() + ": declared size"},
		{"layer blob tampered", Limits{}, func(t *testing.T, dir string) {
			b, _ := os.ReadFile(blob(dir, m.Layers[1].Digest))
			b[9] ^= 0xff // the gzip header's OS byte: the tar unpacks, the blob digest is wrong
			replace(t, blob(dir, m.Layers[1].Digest), func(p string) error { return os.WriteFile(p, b, 0o644) })
		}, "digest mismatch"},
		{"layer blob longer than declared", Limits{}, func(t *testing.T, dir string) {
			f, err := os.OpenFile(blob(dir, m.Layers[1].Digest), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(make([]byte, 100))
			f.Close()
		}, "longer than its declared size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "device") {
				requireRoot(t)
			}
			dir := writeLayout(t, filepath.Join(t.TempDir(), "layout"), map[string]v1.Image{"localhost/a:1": a})
			tc.mangle(t, dir)
			s, err := Open(filepath.Join(t.TempDir(), "images"), WithLimits(tc.lim))
			if err != nil {
				t.Fatal(err)
			}
			before := storeListing(t, s.Root())
			err = loadQuickly(t, s, dir)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "loading "+dir+": ") {
				t.Fatalf("Load(%s) = %v, want an error containing %q", tc.name, err, tc.wantErr)
			}
			if after := storeListing(t, s.Root()); !equal(before, after) {
				t.Errorf("Load(%s) changed the store:\nbefore %q\nafter  %q", tc.name, before, after)
			}
			mustNotExist(t, s.layerPath(cf.RootFS.DiffIDs[0].String()))
		})
	}
}

func replace(t *testing.T, p string, mk func(string) error) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := mk(p); err != nil {
		t.Fatal(err)
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestLoadArgumentNotRegular: the path to load must be a directory or a
// regular file; a fifo fails at once instead of waiting for a writer.
func TestLoadArgumentNotRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo.tar")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, filepath.Join(t.TempDir(), "images"))
	err := loadQuickly(t, s, p)
	if err == nil || !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "(fifo)") {
		t.Fatalf("Load(fifo) = %v, want not a regular file (fifo)", err)
	}
}

// TestLoadZipBomb: a small gzip of zeros that expands beyond the layer
// limit stops at the limit and leaves the store as it was.
func TestLoadZipBomb(t *testing.T) {
	requireRoot(t)
	var tb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&tb, gzip.BestCompression)
	hdr := mkTar(t, ent{name: "zeros", typ: tar.TypeReg, mode: 0o644, size: 64 << 20})
	zw.Write(hdr)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	raw, _ := io.ReadAll(&tb)
	if len(raw) > 1<<20 {
		t.Fatalf("bomb is %d bytes", len(raw))
	}
	img := mkImage(t, v1.Config{}, raw)
	dir := writeLayout(t, filepath.Join(t.TempDir(), "layout"), map[string]v1.Image{"localhost/bomb:1": img})
	s, err := Open(filepath.Join(t.TempDir(), "images"), WithLimits(Limits{MaxLayerSize: 8 << 20}))
	if err != nil {
		t.Fatal(err)
	}
	before := storeListing(t, s.Root())
	err = loadQuickly(t, s, dir)
	if err == nil || !strings.Contains(err.Error(), "unpacked size exceeds the limit of 8MiB (--max-layer-size)") {
		t.Fatalf("Load(bomb) = %v, want the layer size limit", err)
	}
	if after := storeListing(t, s.Root()); !equal(before, after) {
		t.Errorf("Load(bomb) changed the store:\nbefore %q\nafter  %q", before, after)
	}
}

// TestPullHugeConfig: a registry that declares a config of 3 GiB and
// would stream it is refused before the config is fetched.
func TestPullHugeConfig(t *testing.T) {
	var blobGets int
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":"sha256:%s"},"layers":[]}`, int64(3)<<30, strings.Repeat("ab", 32))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			io.WriteString(w, manifest)
		case strings.Contains(r.URL.Path, "/blobs/"):
			blobGets++
			zeros := make([]byte, 1<<20)
			for range 3 << 10 {
				if _, err := w.Write(zeros); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name    string
		lim     Limits
		wantErr string
	}{
		{"declared config", Limits{}, "declared size 3221225472 exceeds the limit of 8MiB (--max-config-size)"},
		{"manifest", Limits{MaxManifestSize: 100}, "size exceeds the limit of 100B (--max-manifest-size)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "images"), WithLimits(tc.lim))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = s.Pull(ctx, host+"/hostile/config:1", PullOptions{Insecure: true})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrLimitExceeded) {
				t.Fatalf("Pull() = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if blobGets != 0 {
		t.Errorf("the config blob was fetched %d times, want 0", blobGets)
	}
}
