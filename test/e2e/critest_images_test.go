//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The images critest v1.37.0 pulls (pkg/validate/consts.go, consts_linux.go,
// security_context_linux.go, multi_container_linux.go and
// pkg/framework/util.go), served as busybox-static stand-ins. The registry
// path is the image's repository without its registry host: containerd
// reaches every host through a mirror on loopback, so registry.k8s.io/pause
// and k8s.gcr.io/pause are one repository there.
const (
	e2eImages    = "e2e-test-images/"
	criTestRepos = "k8s-staging-cri-tools/"
	// sandboxImage is containerd 1.6's default sandbox_image; pause:3.9 is
	// a different image (critest counts the tags of the one it pulls).
	sandboxImage = "registry.k8s.io/pause:3.6"
)

// busyboxPasswd and busyboxGroup are the user database of the busybox
// images cri-tools builds its own from (busybox:1.37.0): www-data is 33.
const (
	busyboxPasswd = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n" +
		"bin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\n" +
		"mail:x:8:8:mail:/var/spool/mail:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n" +
		"operator:x:37:37:Operator:/var:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
	busyboxGroup = "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\nlp:x:7:\n" +
		"mail:x:8:\nkmem:x:9:\nwheel:x:10:root\ncdrom:x:11:\ndialout:x:18:\nfloppy:x:19:\nvideo:x:28:\n" +
		"audio:x:29:\ntape:x:32:\nwww-data:x:33:\noperator:x:37:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\n"
)

// nginxScript is the nginx stand-in's PID 1: a shell whose command line
// says "master process" (critest looks for it in /proc/1/cmdline) running
// busybox httpd under the name nginx (critest runs `pidof nginx`), with its
// PID in /var/run/nginx.pid.
const nginxScript = `# nginx: master process (busybox stand-in)
trap 'kill $pid; exit 0' TERM INT
(exec -a httpd /usr/sbin/nginx -f -p "${PORT:-80}" -h /usr/share/nginx/html) &
pid=$!
echo $pid >/var/run/nginx.pid
wait`

// Scripts for the two programs critest runs that Debian's busybox lacks
// (e2e-test-images/busybox has them): `pgrep sleep` and `ipcs -m`, whose
// output critest only searches for a PID or a segment's id.
const (
	pgrepScript = "#!/bin/sh\n# pgrep NAME (stand-in): the PIDs of the processes named NAME\nexec pidof \"$@\"\n"
	ipcsScript  = "#!/bin/sh\n# ipcs -m (stand-in): the shared memory segments' keys and ids\n" +
		"echo '------ Shared Memory Segments --------'\necho 'key shmid'\n" +
		"exec awk 'NR > 1 { print $1, $2 }' /proc/sysvipc/shm\n"
)

// layerFile is one entry of a layer built here.
type layerFile struct {
	hdr  tar.Header
	body []byte
}

func dirEntry(name string, mode int64) layerFile {
	return layerFile{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}}
}

func fileEntry(name string, mode int64, body []byte) layerFile {
	return layerFile{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}, body: body}
}

func linkEntry(name, target string) layerFile {
	return layerFile{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

// buildLayer is a reproducible layer of files.
func buildLayer(t *testing.T, files []layerFile) v1.Layer {
	t.Helper()
	sort.Slice(files, func(i, j int) bool { return files[i].hdr.Name < files[j].hdr.Name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		h := f.hdr
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("layer %s: %v", h.Name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatalf("layer %s: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatalf("layer: %v", err)
	}
	return l
}

// busyboxLayer is Debian's static busybox with a link for each applet at
// the path busybox gives it, busybox's user database and the directories
// the stand-ins use.
func busyboxLayer(t *testing.T) v1.Layer {
	t.Helper()
	const bb = "/bin/busybox"
	body, err := os.ReadFile(bb)
	if err != nil {
		need(t, fmt.Sprintf("busybox-static (%s): %v", bb, err))
	}
	out, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		t.Fatalf("busybox --list-full: %v", err)
	}
	files := []layerFile{fileEntry("bin/busybox", 0o755, body),
		fileEntry("etc/passwd", 0o644, []byte(busyboxPasswd)),
		fileEntry("etc/group", 0o644, []byte(busyboxGroup)),
		dirEntry("tmp", 0o1777), dirEntry("root", 0o700), dirEntry("run", 0o755), linkEntry("var/run", "../run"),
		dirEntry("usr/share/nginx/html", 0o755), dirEntry("var/www", 0o755),
		fileEntry("usr/share/nginx/html/index.html", 0o644, []byte("<h1>Welcome to the busybox stand-in</h1>\n")),
		fileEntry("usr/bin/pgrep", 0o755, []byte(pgrepScript)), fileEntry("usr/bin/ipcs", 0o755, []byte(ipcsScript)),
	}
	dirs := map[string]bool{}
	for _, f := range files {
		for d := filepath.Dir(strings.TrimSuffix(f.hdr.Name, "/")); d != "."; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "bin/busybox" || p == "usr/bin/pgrep" || p == "usr/bin/ipcs" {
			continue
		}
		rel, _ := filepath.Rel(filepath.Dir(p), "bin/busybox")
		files = append(files, linkEntry(p, rel))
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		files = append(files, dirEntry(d, 0o755))
	}
	return buildLayer(t, files)
}

// standinBinary builds testdata/standin (pause and nnp) static.
func standinBinary(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "standin")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/standin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/standin: %v\n%s", err, b)
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// criImages are the stand-ins by repository path and tag.
func criImages(t *testing.T) map[string]v1.Image {
	t.Helper()
	base := busyboxLayer(t)
	standin := standinBinary(t)
	path := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	image := func(c v1.Config, extra ...layerFile) v1.Image {
		img, err := mutate.AppendLayers(empty.Image, base)
		if err == nil && len(extra) > 0 {
			img, err = mutate.AppendLayers(img, buildLayer(t, extra))
		}
		if err != nil {
			t.Fatalf("image: %v", err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		c.Env = append(path, c.Env...)
		cf.OS, cf.Architecture, cf.Config = "linux", goruntime.GOARCH, c
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		return img
	}
	// marked is an image told apart from the others by a file of its name,
	// as cri-tools's images/image-test does.
	marked := func(n string, c v1.Config) v1.Image {
		return image(c, fileEntry(strings.ReplaceAll(n, ":", "-"), 0o644, nil))
	}
	sh := v1.Config{Cmd: []string{"sh"}}
	nginx := func(port string) v1.Image {
		return image(v1.Config{Entrypoint: []string{"/bin/sh", "-c", nginxScript}, Env: []string{"PORT=" + port},
			ExposedPorts: map[string]struct{}{port + "/tcp": {}}, StopSignal: "SIGTERM"},
			linkEntry("usr/sbin/nginx", "../../bin/busybox"))
	}
	pause := func(n string) v1.Image {
		return image(v1.Config{Entrypoint: []string{"/pause"}, Labels: map[string]string{"podsec.e2e/image": n}},
			fileEntry("pause", 0o755, standin))
	}
	tags := marked("test-image-tags", sh)
	ims := map[string]v1.Image{
		e2eImages + "busybox:1.29-2": image(sh),
		e2eImages + "nginx:1.14-2":   nginx("80"),
		e2eImages + "httpd:2.4.39-4": image(v1.Config{Entrypoint: []string{"/bin/sh", "-c",
			`echo "httpd (busybox stand-in) listening on port 80"; exec httpd -f -v -p 80 -h /usr/share/nginx/html`}}),
		e2eImages + "nonewprivs:1.3": image(v1.Config{Entrypoint: []string{"/usr/local/bin/nnp"}},
			layerFile{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "usr/local/bin/nnp", Mode: 0o4755, Size: int64(len(standin))}, body: standin}),
		"pause:3.6": pause("pause:3.6"),
		"pause:3.9": pause("pause:3.9"),
		criTestRepos + "hostnet-nginx-" + goruntime.GOARCH + ":latest": nginx("12003"),
		criTestRepos + "test-image-predefined-group:latest": image(v1.Config{User: "1000"},
			fileEntry("etc/passwd", 0o644, []byte(busyboxPasswd+"default-user:x:1000:1000::/home/default-user:/bin/sh\n")),
			fileEntry("etc/group", 0o644, []byte(busyboxGroup+"default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"))),
	}
	for _, n := range []string{"test-image-latest:latest", "test-image-tag:test", "test-image-tag:all",
		"test-image-1:latest", "test-image-2:latest", "test-image-3:latest"} {
		ims[criTestRepos+n] = marked(n, sh)
	}
	for _, n := range []string{"1", "2", "3"} {
		ims[criTestRepos+"test-image-tags:"+n] = tags
	}
	for n, user := range map[string]string{"test-image-user-uid": "1002", "test-image-user-username": "www-data",
		"test-image-user-uid-group": "1003:1004", "test-image-user-username-group": "www-data:1004"} {
		ims[criTestRepos+n+":latest"] = image(v1.Config{User: user, Cmd: []string{"sh"}})
	}
	return ims
}

// readOnly refuses every request but reads once the registry is filled.
type readOnly struct {
	h      http.Handler
	locked atomic.Bool
}

func (r *readOnly) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.locked.Load() && req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "read-only registry", http.StatusMethodNotAllowed)
		return
	}
	r.h.ServeHTTP(w, req)
}

// serveCRIImages starts a registry on 127.0.0.1 holding the stand-ins,
// read-only once filled, stopped by the test's cleanup. It returns its
// host:port.
func serveCRIImages(t *testing.T) string {
	t.Helper()
	images := criImages(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	ro := &readOnly{h: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	srv := &http.Server{Handler: ro, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	host := ln.Addr().String()
	for ref, img := range images {
		r, err := name.ParseReference(host+"/"+ref, name.Insecure)
		if err != nil {
			t.Fatalf("registry: %v", err)
		}
		if err := remote.Write(r, img); err != nil {
			t.Fatalf("registry: pushing %s: %v", ref, err)
		}
	}
	ro.locked.Store(true)
	return host
}
