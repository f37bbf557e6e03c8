package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Annotations that name an image of an OCI layout. containerd's full
// name wins over the OCI ref name, which podman and skopeo also fill
// with a full reference.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// Load stores the images of path: an OCI image layout directory, an
// oci-archive (an OCI layout in a tar) or a docker save tar (manifest.json;
// a docker save tar that also holds an OCI layout is read as docker's).
// Each image must be named (RepoTags, or the annotations
// io.containerd.image.name or org.opencontainers.image.ref.name); an
// index in the layout contributes its image for this machine's platform.
// Progress lines, if progress is not nil, go to progress.
func (s *Store) Load(path string, progress io.Writer) ([]*Image, error) {
	ctx := context.Background()
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p := newProgress(progress)
	imgs, err := s.load(ctx, path, p)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	return imgs, nil
}

func (s *Store) load(ctx context.Context, path string, p *progress) ([]*Image, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return s.loadLayout(ctx, path, p)
	}
	docker, oci, err := sniffTar(path)
	if err != nil {
		return nil, err
	}
	switch {
	case docker:
		return s.loadDocker(ctx, path, p)
	case oci:
		dir, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "archive-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if err := extractLayout(path, dir); err != nil {
			return nil, err
		}
		return s.loadLayout(ctx, dir, p)
	}
	return nil, errors.New("not an OCI layout, an oci-archive nor a docker save tar")
}

// sniffTar reports whether the tar at path has a docker manifest.json and
// whether it has an OCI layout's index.json.
func sniffTar(path string) (docker, oci bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return docker, oci, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("not an image archive: %w", tarError(err))
		}
		switch n, _ := cleanName(hdr.Name); n {
		case "manifest.json":
			docker = true
		case "index.json":
			oci = true
		}
	}
}

var layoutFile = regexp.MustCompile(`^(oci-layout|index\.json|blobs/[a-z0-9]+/[a-f0-9]{32,128})$`)

// extractLayout copies the OCI layout files of an oci-archive into dir.
// Only regular files with a layout name are taken, and nothing in the
// archive can make a symlink, so nothing lands outside dir.
func extractLayout(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading oci-archive: %w", tarError(err))
		}
		n, err := cleanName(hdr.Name)
		if err != nil || hdr.Typeflag != tar.TypeReg || !layoutFile.MatchString(n) {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("reading oci-archive entry %q: %w", hdr.Name, tarError(err))
		}
	}
}

// loadLayout stores the named images of an OCI layout directory.
func (s *Store) loadLayout(ctx context.Context, dir string, p *progress) ([]*Image, error) {
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout: %w", err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout index: %w", err)
	}
	var out []*Image
	for _, desc := range im.Manifests {
		refs, err := descRefs(desc)
		if err != nil {
			return nil, err
		}
		img, err := layoutImage(ii, desc)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
		}
		if img == nil {
			continue
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		raw, err := img.RawManifest()
		if err != nil {
			return nil, err
		}
		imgs, err := s.add(ctx, img, refs, d.String(), raw, true, p)
		if err != nil {
			return nil, err
		}
		out = append(out, imgs...)
	}
	if len(out) == 0 {
		return nil, errors.New("no image in the OCI layout")
	}
	return out, nil
}

// layoutImage returns the image a layout descriptor names: itself, or the
// entry of an index for this machine's platform. It returns nil for
// descriptors of other kinds.
func layoutImage(ii v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	switch {
	case desc.MediaType.IsImage():
		return ii.Image(desc.Digest)
	case desc.MediaType.IsIndex():
		child, err := ii.ImageIndex(desc.Digest)
		if err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, err
		}
		want := defaultPlatform()
		for _, d := range cm.Manifests {
			if d.MediaType.IsImage() && (d.Platform == nil || d.Platform.Satisfies(want)) {
				return child.Image(d.Digest)
			}
		}
		return nil, fmt.Errorf("no image for platform %s", want)
	}
	return nil, nil
}

func descRefs(desc v1.Descriptor) ([]string, error) {
	n := desc.Annotations[annotationContainerdName]
	if n == "" {
		n = desc.Annotations[annotationRefName]
	}
	if n == "" {
		return nil, fmt.Errorf("manifest %s has no name (annotation %s or %s)", desc.Digest, annotationContainerdName, annotationRefName)
	}
	r, err := Normalize(n)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return []string{r}, nil
}

// loadDocker stores the images of a docker save tar.
func (s *Store) loadDocker(ctx context.Context, path string, p *progress) ([]*Image, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json: %w", err)
	}
	var out []*Image
	for i, d := range m {
		if len(d.RepoTags) == 0 {
			return nil, fmt.Errorf("image %d (config %s) has no RepoTags", i, d.Config)
		}
		var refs []string
		for _, t := range d.RepoTags {
			r, err := Normalize(t)
			if err != nil {
				return nil, err
			}
			refs = append(refs, r)
		}
		tag, err := name.NewTag(d.RepoTags[0])
		if err != nil {
			return nil, fmt.Errorf("%w: %q", ErrInvalidReference, d.RepoTags[0])
		}
		img, err := tarball.Image(opener, &tag)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.RepoTags[0], err)
		}
		imgs, err := s.add(ctx, img, refs, "", nil, false, p)
		if err != nil {
			return nil, err
		}
		out = append(out, imgs...)
	}
	if len(out) == 0 {
		return nil, errors.New("no image in manifest.json")
	}
	return out, nil
}

func defaultPlatform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}
}
