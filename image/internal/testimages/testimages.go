// Package testimages builds podsec's test images from a static busybox,
// without docker: one layer holding busybox, its applet links and a small
// user database, and three images over it whose configs and user
// databases are those of testdata/images.json.
package testimages

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Passwd and Group are the images' /etc/passwd and /etc/group.
const (
	Passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"guest:x:405:100:guest:/dev/null:/sbin/nologin\n" +
		"app:x:1000:1000:app:/home/app:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
	Group = "root:x:0:root\n" +
		"users:x:100:guest\n" +
		"wheel:x:10:root,app\n" +
		"app:x:1000:\n" +
		"nogroup:x:65534:\n"
)

// Path is the images' PATH.
const Path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Applets are the busybox applets linked in /bin.
var Applets = []string{
	"cat", "chmod", "chown", "cp", "cut", "date", "echo", "env", "false", "find",
	"grep", "head", "hostname", "httpd", "id", "ip", "kill", "ln", "ls", "mkdir",
	"mount", "mv", "nc", "ping", "printf", "ps", "readlink", "rm", "sed", "seq",
	"sh", "sleep", "sort", "stat", "tail", "tee", "test", "timeout", "touch", "tr",
	"true", "umount", "uname", "wc", "wget", "whoami", "xargs",
}

// epoch is every file's and image's time, so that builds are reproducible
// and loading them again changes nothing.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Configs are the images by reference.
var Configs = map[string]v1.Config{
	"localhost/busybox:latest": {Cmd: []string{"sh"}, Env: []string{Path}, WorkingDir: "/"},
	"localhost/busybox:nonroot": {User: "1000", Cmd: []string{"sh"},
		Env: []string{Path, "APP_HOME=/home/app"}, WorkingDir: "/home/app"},
	"localhost/busybox:named-user": {User: "guest", Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"id"},
		Env: []string{Path}},
}

// Layer returns the root filesystem tar of the images, with busybox read
// from busybox (Debian's busybox-static installs /bin/busybox).
func Layer(busybox string) ([]byte, error) {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	type ent struct {
		hdr  tar.Header
		body []byte
	}
	var ents []ent
	dir := func(name string, mode int64, uid int) {
		ents = append(ents, ent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid}})
	}
	file := func(name string, mode int64, body []byte) {
		ents = append(ents, ent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}, body: body})
	}
	link := func(name, target string) {
		ents = append(ents, ent{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}})
	}
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "sbin", "sys", "usr", "usr/bin", "usr/sbin", "var"} {
		dir(d, 0o755, 0)
	}
	dir("home/app", 0o755, 1000)
	dir("root", 0o700, 0)
	dir("tmp", 0o1777, 0)
	file("bin/busybox", 0o755, bb)
	for _, a := range Applets {
		link("bin/"+a, "busybox")
	}
	link("sbin/nologin", "/bin/busybox")
	file("etc/passwd", 0o644, []byte(Passwd))
	file("etc/group", 0o644, []byte(Group))
	sort.Slice(ents, func(i, j int) bool { return ents[i].hdr.Name < ents[j].hdr.Name })

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := e.hdr
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Images returns the test images by reference.
func Images(busybox string) (map[string]v1.Image, error) {
	tarBytes, err := Layer(busybox)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err = mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "podsec testimages"}})
	if err != nil {
		return nil, err
	}
	out := map[string]v1.Image{}
	for ref, c := range Configs {
		cf, err := base.ConfigFile()
		if err != nil {
			return nil, err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Created, cf.Config = "linux", goruntime.GOARCH, v1.Time{Time: epoch}, c
		img, err := mutate.ConfigFile(base, cf)
		if err != nil {
			return nil, err
		}
		out[ref] = img
	}
	return out, nil
}

// WriteLayout writes the test images as an OCI image layout in dir, each
// named by the annotations io.containerd.image.name and
// org.opencontainers.image.ref.name.
func WriteLayout(dir, busybox string) error {
	imgs, err := Images(busybox)
	if err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	refs := make([]string, 0, len(imgs))
	for r := range imgs {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	for _, r := range refs {
		ann := map[string]string{"io.containerd.image.name": r, "org.opencontainers.image.ref.name": r}
		if err := p.AppendImage(imgs[r], layout.WithAnnotations(ann)); err != nil {
			return fmt.Errorf("writing %s: %w", r, err)
		}
	}
	return nil
}
