package abuse

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/test/harness"
)

// hostileRun is one podsec run against a hostile image, bounded whatever
// podsec does: a watchdog kills it past 1 GiB of RSS or a deadline, so
// the old code that read /dev/zero or a 3 GiB config cannot take the
// machine with it.
type hostileRun struct {
	out     string
	err     error
	elapsed time.Duration
	maxRSS  int64 // KiB
	killed  string
}

func podsecBounded(t *testing.T, n *harness.Node, timeout time.Duration, args ...string) hostileRun {
	t.Helper()
	cmd := exec.Command(n.Bin, append([]string{"--root", n.Root}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r := hostileRun{}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
wait:
	for {
		select {
		case r.err = <-done:
			break wait
		case <-deadline:
			r.killed = fmt.Sprintf("still running after %v", timeout)
		case <-tick.C:
			if kib := rssKiB(cmd.Process.Pid); kib > 1<<20 {
				r.killed = fmt.Sprintf("RSS %d KiB", kib)
			}
		}
		if r.killed != "" {
			cmd.Process.Kill()
			r.err = <-done
			break
		}
	}
	r.out, r.elapsed = out.String(), time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss
	}
	if r.killed != "" {
		t.Errorf("podsec %s: killed, %s: %s", strings.Join(args, " "), r.killed, r.out)
	}
	return r
}

func rssKiB(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}

// expectRefused fails unless the run failed with want in its output.
func (r hostileRun) expectRefused(t *testing.T, want string) {
	t.Helper()
	if r.err == nil || !strings.Contains(r.out, want) {
		t.Fatalf("podsec = %v after %v, want an error with %q:\n%s", r.err, r.elapsed, want, r.out)
	}
}

// storeListing lists the node's image store, but for its lock file.
func storeListing(t *testing.T, n *harness.Node) string {
	t.Helper()
	root := filepath.Join(n.Root, "images")
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(root, p); rel != "lock" {
			out = append(out, rel+" "+d.Type().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func expectStoreUnchanged(t *testing.T, n *harness.Node, before string) {
	t.Helper()
	if after := storeListing(t, n); after != before {
		t.Errorf("the image store changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// layoutOf writes an OCI layout holding one image named ref whose layers
// are the given blobs (gzip or plain tar), and returns its directory and
// the manifest.
func layoutOf(t *testing.T, ref string, blobs ...[]byte) (string, *v1.Manifest) {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, b := range blobs {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
			tarball.WithMediaType(types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config.Cmd = "linux", "amd64", []string{"sh"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// tarOf is a tar of empty files named by names, and of one file of size
// zero bytes when size > 0.
func tarOf(t *testing.T, names []string, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	if size > 0 {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "zeros", Mode: 0o644, Size: size}); err != nil {
			t.Fatal(err)
		}
		zeros := make([]byte, 1<<20)
		for left := size; left > 0; left -= int64(len(zeros)) {
			if _, err := tw.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// TestImageZipBomb: a 150 KB gzip layer of 150 MB of zeros stops at the
// node's --max-layer-size, and a layer of 3000 files at --max-layer-files;
// neither leaves anything in the store.
func TestImageZipBomb(t *testing.T) {
	n := harness.NewNode(t)
	before := storeListing(t, n)
	bomb := tarOf(t, nil, 150<<20)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	dir, _ := layoutOf(t, "localhost/bomb:1", bomb)
	r := podsecBounded(t, n, 60*time.Second, "image", "load", "--max-layer-size", "16MiB", dir)
	r.expectRefused(t, "unpacked size exceeds the limit of 16MiB (--max-layer-size)")
	expectStoreUnchanged(t, n, before)

	names := make([]string, 3000)
	for i := range names {
		names[i] = fmt.Sprintf("f%05d", i)
	}
	dir, _ = layoutOf(t, "localhost/files:1", tarOf(t, names, 0))
	r = podsecBounded(t, n, 60*time.Second, "image", "load", "--max-layer-files", "1000", dir)
	r.expectRefused(t, "number of entries exceeds the limit of 1000 (--max-layer-files)")
	expectStoreUnchanged(t, n, before)
}

// TestImageHugeDeclaredConfig: a registry on loopback declares a config
// of 3 GiB and would stream zeros (at most 512 MiB, without a
// Content-Length). The pull is refused at the manifest, before any blob,
// quickly and with a small RSS; the store is unchanged.
func TestImageHugeDeclaredConfig(t *testing.T) {
	n := harness.NewNode(t)
	var blobBytes atomic.Int64
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":"sha256:%s"},"layers":[]}`,
		int64(3)<<30, strings.Repeat("ab", 32))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			io.WriteString(w, manifest)
		case strings.Contains(r.URL.Path, "/blobs/"):
			zeros := make([]byte, 1<<20)
			for range 512 {
				k, err := w.Write(zeros)
				blobBytes.Add(int64(k))
				if err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	before := storeListing(t, n)
	r := podsecBounded(t, n, 60*time.Second, "image", "pull", "--insecure", ln.Addr().String()+"/hostile/config:1")
	r.expectRefused(t, "declared size 3221225472 exceeds the limit of 8MiB (--max-config-size)")
	if got := blobBytes.Load(); got != 0 {
		t.Errorf("the registry streamed %d bytes of the config, want 0", got)
	}
	if r.elapsed > 10*time.Second || r.maxRSS > 200<<10 {
		t.Errorf("the refused pull took %v and %d KiB of RSS, want under 10s and 200 MiB", r.elapsed, r.maxRSS)
	}
	t.Logf("refused in %v, max RSS %d KiB", r.elapsed, r.maxRSS)
	expectStoreUnchanged(t, n, before)
}

// TestImageLayoutIndexNotRegular: index.json as a symlink to /dev/zero
// and as a fifo is refused by name at once; while the fifo load runs,
// image ls answers.
func TestImageLayoutIndexNotRegular(t *testing.T) {
	n := harness.NewNode(t)
	before := storeListing(t, n)
	for _, tc := range []struct {
		name string
		mk   func(p string) error
		want string
	}{
		{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "layout index.json: not a regular file (a symlink)"},
		{"fifo", func(p string) error { return unix.Mkfifo(p, 0o600) }, "layout index.json: not a regular file (fifo)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := layoutOf(t, "localhost/x:1", tarOf(t, []string{"a"}, 0))
			idx := filepath.Join(dir, "index.json")
			if err := os.Remove(idx); err != nil {
				t.Fatal(err)
			}
			if err := tc.mk(idx); err != nil {
				t.Fatal(err)
			}
			ls := make(chan hostileRun, 1)
			go func() {
				time.Sleep(500 * time.Millisecond) // while the load would hang
				ls <- podsecBounded(t, n, 5*time.Second, "image", "ls")
			}()
			r := podsecBounded(t, n, 15*time.Second, "image", "load", dir)
			r.expectRefused(t, tc.want)
			if r.elapsed > 5*time.Second {
				t.Errorf("the load took %v to fail, want under 5s", r.elapsed)
			}
			if l := <-ls; l.err != nil || !strings.Contains(l.out, "localhost/busybox") {
				t.Errorf("image ls during the load = %v:\n%s", l.err, l.out)
			}
			expectStoreUnchanged(t, n, before)
		})
	}
}

// TestImageLayerDigestMismatch: a layer blob whose bytes do not match its
// digest (the tar inside unchanged), and an image whose second layer does
// not match its diffID, are refused and leave the store as it was: no
// layer directory (not even the good first layer), no blob, no index
// entry, nothing in tmp/.
func TestImageLayerDigestMismatch(t *testing.T) {
	n := harness.NewNode(t)
	before := storeListing(t, n)
	t.Run("compressed digest", func(t *testing.T) {
		dir, m := layoutOf(t, "localhost/tampered:1", tarOf(t, []string{"a"}, 0), tarOf(t, []string{"b"}, 0))
		p := filepath.Join(dir, "blobs", "sha256", m.Layers[1].Digest.Hex)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[9] ^= 0xff // the gzip header's OS byte: the same tar, another digest
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := podsecBounded(t, n, 60*time.Second, "image", "load", dir)
		r.expectRefused(t, "digest mismatch")
		expectStoreUnchanged(t, n, before)
	})
	t.Run("diffID", func(t *testing.T) {
		dir, m := layoutOf(t, "localhost/tampered:2", tarOf(t, []string{"c"}, 0), tarOf(t, []string{"d"}, 0))
		// Swap the second layer's blob for another tar, renamed to the
		// digest the manifest names: its compressed digest is wrong too,
		// but the old code checked only the diffID, after unpacking.
		other := tarOf(t, []string{"e", "f"}, 0)
		p := filepath.Join(dir, "blobs", "sha256", m.Layers[1].Digest.Hex)
		if err := os.WriteFile(p, other, 0o644); err != nil {
			t.Fatal(err)
		}
		r := podsecBounded(t, n, 60*time.Second, "image", "load", dir)
		r.expectRefused(t, "digest mismatch")
		expectStoreUnchanged(t, n, before)
	})
	if out, err := n.Podsec("image", "ls"); err != nil || strings.Contains(out, "tampered") {
		t.Errorf("image ls = %v:\n%s", err, out)
	}
}
