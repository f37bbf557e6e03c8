package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
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
//
// path may be reached through symlinks, but must be a directory or a
// regular file; every file inside a layout must be a regular file reached
// without a symlink. What is read before the store lock is taken (the
// layout's index.json, the archive's table of contents) is bounded by the
// store's limits or the archive's size, so a hostile input never holds
// the lock while it hangs.
func (s *Store) Load(path string, progress io.Writer) ([]*Image, error) {
	imgs, err := s.load(context.Background(), path, newProgress(progress))
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	return imgs, nil
}

func (s *Store) load(ctx context.Context, path string, p *progress) ([]*Image, error) {
	f, size, isDir, err := openArgument(path)
	if err != nil {
		return nil, err
	}
	if isDir {
		l, err := openLayout(path, s.limits)
		if err != nil {
			return nil, err
		}
		defer l.Close()
		return s.lockedLoadLayout(ctx, l, p)
	}
	defer f.Close()
	toc, err := sniffTar(f)
	if err != nil {
		return nil, err
	}
	switch {
	case toc.docker:
		if err := toc.checkDocker(f, size, s.limits); err != nil {
			return nil, err
		}
		unlock, err := s.lock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
		return s.loadDocker(ctx, f, size, p)
	case toc.oci:
		unlock, err := s.lock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
		dir, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "archive-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if err := extractLayout(f, size, dir); err != nil {
			return nil, err
		}
		l, err := openLayout(dir, s.limits)
		if err != nil {
			return nil, err
		}
		defer l.Close()
		return s.loadLayout(ctx, l, p)
	}
	return nil, errors.New("not an OCI layout, an oci-archive nor a docker save tar")
}

// tarTOC is what sniffTar saw of an archive: the first header of each
// name, as go-containerregistry's tarball package finds them.
type tarTOC struct {
	docker, oci bool
	hdrs        map[string]*tar.Header
}

// sniffTar reads the headers of the tar f: whether it has a docker
// manifest.json and whether it has an OCI layout's index.json.
func sniffTar(f *os.File) (*tarTOC, error) {
	toc := &tarTOC{hdrs: map[string]*tar.Header{}}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return toc, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not an image archive: %w", tarError(err))
		}
		if _, ok := toc.hdrs[hdr.Name]; !ok {
			toc.hdrs[hdr.Name] = hdr
		}
		switch n, _ := cleanName(hdr.Name); n {
		case "manifest.json":
			toc.docker = true
		case "index.json":
			toc.oci = true
		}
	}
}

// size is the size of the entry name, links followed as
// go-containerregistry's tarball package follows them.
func (t *tarTOC) size(name string) (int64, error) {
	for range 16 {
		hdr := t.hdrs[name]
		if hdr == nil {
			return 0, fmt.Errorf("archive entry %q: not found", name)
		}
		if hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
			return hdr.Size, nil
		}
		name = hdr.Linkname
	}
	return 0, fmt.Errorf("archive entry %q: too many links", name)
}

// checkDocker holds manifest.json and each image's config to the limits
// before go-containerregistry reads them whole.
func (t *tarTOC) checkDocker(f *os.File, size int64, lim Limits) error {
	n, err := t.size("manifest.json")
	if err != nil {
		return err
	}
	if n > lim.MaxManifestSize {
		return fmt.Errorf("archive manifest.json: %w", sizeLimit("size", lim.MaxManifestSize, "--max-manifest-size"))
	}
	m, err := tarball.LoadManifest(sectionOpener(f, size))
	if err != nil {
		return fmt.Errorf("reading manifest.json: %w", err)
	}
	for _, d := range m {
		n, err := t.size(d.Config)
		if err != nil {
			return err
		}
		if n > lim.MaxConfigSize {
			return fmt.Errorf("archive config %s: %w", d.Config, sizeLimit("size", lim.MaxConfigSize, "--max-config-size"))
		}
	}
	return nil
}

// sectionOpener reads the archive through the one descriptor opened and
// checked, never by its path again.
func sectionOpener(f *os.File, size int64) tarball.Opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, size)), nil }
}

var layoutFile = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(oci-layout|index\.json|blobs/[a-z0-9]+/[a-f0-9]{32,128})$`)
})

// extractLayout copies the OCI layout files of an oci-archive into dir.
// Only regular files with a layout name are taken, and nothing in the
// archive can make a symlink, so nothing lands outside dir. All the
// entries together may not be larger than the archive: a sparse entry
// would otherwise expand to any size on the node's disk.
func extractLayout(f *os.File, size int64, dir string) error {
	tr := tar.NewReader(io.NewSectionReader(f, 0, size))
	budget := &cappedReader{r: tr, n: size, err: errors.New("the entries are larger than the archive (sparse entries are refused)")}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading oci-archive: %w", tarError(err))
		}
		n, err := cleanName(hdr.Name)
		if err != nil || hdr.Typeflag != tar.TypeReg || !layoutFile().MatchString(n) {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // the first entry of a name wins, as sniffTar saw it
		}
		if err != nil {
			return err
		}
		_, err = io.Copy(out, budget)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("reading oci-archive entry %q: %w", hdr.Name, tarError(err))
		}
	}
}

// lockedLoadLayout reads the layout's index.json before taking the lock
// (it is bounded, but a layout is the user's and may change under us:
// nothing unbounded happens under the lock), then stores its images.
func (s *Store) lockedLoadLayout(ctx context.Context, l *layoutDir, p *progress) ([]*Image, error) {
	if _, err := l.index(); err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.loadLayout(ctx, l, p)
}

// loadLayout stores the named images of an OCI layout. The lock must be
// held.
func (s *Store) loadLayout(ctx context.Context, l *layoutDir, p *progress) ([]*Image, error) {
	im, err := l.index()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, desc := range im.Manifests {
		refs, err := descRefs(desc)
		if err != nil {
			return nil, err
		}
		img, err := l.image(desc, defaultPlatform())
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
func (s *Store) loadDocker(ctx context.Context, f *os.File, size int64, p *progress) ([]*Image, error) {
	opener := sectionOpener(f, size)
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
