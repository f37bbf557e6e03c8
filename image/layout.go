package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layoutDir reads an OCI image layout through a directory fd: oci-layout,
// index.json and every blob are opened with openBeneath (regular files
// only, no symlink, nothing outside the directory) and read within the
// store's limits, each blob checked against its digest.
// go-containerregistry's layout package opens them by path, following
// symlinks, and reads index.json whole: /dev/zero grew podsec to 24 GB
// and a fifo hung it under the store lock.
type layoutDir struct {
	dir *os.File
	lim Limits
}

func openLayout(path string, lim Limits) (*layoutDir, error) {
	d, err := openDirPath(path)
	if err != nil {
		return nil, err
	}
	l := &layoutDir{dir: d, lim: lim}
	raw, err := l.readFile("oci-layout", lim.MaxManifestSize, "--max-manifest-size")
	if err != nil {
		d.Close()
		return nil, err
	}
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(raw, &ol); err != nil || ol.Version == "" {
		d.Close()
		return nil, fmt.Errorf("layout oci-layout: not an OCI image layout file")
	}
	return l, nil
}

func (l *layoutDir) Close() error { return l.dir.Close() }

// readFile reads the layout file name, at most limit bytes.
func (l *layoutDir) readFile(name string, limit int64, flag string) ([]byte, error) {
	f, size, err := openBeneath(l.dir, name)
	if err != nil {
		return nil, fmt.Errorf("layout %w", err)
	}
	defer f.Close()
	if size > limit {
		return nil, fmt.Errorf("layout %s: %w", name, sizeLimit("size", limit, flag))
	}
	b, err := readAllLimit(f, limit, flag)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", name, err)
	}
	return b, nil
}

func blobName(h v1.Hash) (string, error) {
	if !digestPattern().MatchString(h.String()) {
		return "", fmt.Errorf("unsupported digest %q", h)
	}
	return "blobs/sha256/" + h.Hex, nil
}

// blob reads and verifies the blob h, at most limit bytes.
func (l *layoutDir) blob(h v1.Hash, limit int64, flag string) ([]byte, error) {
	n, err := blobName(h)
	if err != nil {
		return nil, err
	}
	b, err := l.readFile(n, limit, flag)
	if err != nil {
		return nil, err
	}
	if got := sha256Digest(b); got != h.String() {
		return nil, fmt.Errorf("layout %s: %w: content has digest %s", n, ErrDigestMismatch, got)
	}
	return b, nil
}

// index reads index.json.
func (l *layoutDir) index() (*v1.IndexManifest, error) {
	raw, err := l.readFile("index.json", l.lim.MaxManifestSize, "--max-manifest-size")
	if err != nil {
		return nil, err
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("layout index.json: %w", err)
	}
	return im, nil
}

// image returns the image a descriptor of index.json names: itself, or
// the entry of a nested index for platform. It returns nil for
// descriptors of other kinds.
func (l *layoutDir) image(desc v1.Descriptor, platform v1.Platform) (v1.Image, error) {
	switch {
	case desc.MediaType.IsImage():
		return l.manifestImage(desc)
	case desc.MediaType.IsIndex():
		raw, err := l.blob(desc.Digest, l.lim.MaxManifestSize, "--max-manifest-size")
		if err != nil {
			return nil, err
		}
		cm, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		for _, d := range cm.Manifests {
			if d.MediaType.IsImage() && (d.Platform == nil || d.Platform.Satisfies(platform)) {
				return l.manifestImage(d)
			}
		}
		return nil, fmt.Errorf("no image for platform %s", platform)
	}
	return nil, nil
}

func (l *layoutDir) manifestImage(desc v1.Descriptor) (v1.Image, error) {
	raw, err := l.blob(desc.Digest, l.lim.MaxManifestSize, "--max-manifest-size")
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if err := checkManifestLimits(m, l.lim); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&layoutImage{l: l, raw: raw, m: m, mt: desc.MediaType})
}

// checkManifestLimits refuses a manifest whose config or layers are
// declared larger than the limits, before anything of them is read.
func checkManifestLimits(m *v1.Manifest, lim Limits) error {
	if m.Config.Size > lim.MaxConfigSize || int64(len(m.Config.Data)) > lim.MaxConfigSize {
		return fmt.Errorf("config %s: %w", m.Config.Digest, sizeLimit(fmt.Sprintf("declared size %d", m.Config.Size), lim.MaxConfigSize, "--max-config-size"))
	}
	for _, d := range m.Layers {
		if d.Size > lim.MaxLayerSize {
			return fmt.Errorf("layer %s: %w", d.Digest, sizeLimit(fmt.Sprintf("compressed size %d", d.Size), lim.MaxLayerSize, "--max-layer-size"))
		}
	}
	return nil
}

// layoutImage is partial.CompressedImageCore over a layout's manifest.
type layoutImage struct {
	l   *layoutDir
	raw []byte
	m   *v1.Manifest
	mt  types.MediaType
}

var _ partial.CompressedImageCore = (*layoutImage)(nil)

func (i *layoutImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *layoutImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType != "" {
		return i.m.MediaType, nil
	}
	return i.mt, nil
}

func (i *layoutImage) RawConfigFile() ([]byte, error) {
	if i.m.Config.Data != nil {
		if got := sha256Digest(i.m.Config.Data); got != i.m.Config.Digest.String() {
			return nil, fmt.Errorf("config %s: %w: inline data has digest %s", i.m.Config.Digest, ErrDigestMismatch, got)
		}
		return i.m.Config.Data, nil
	}
	return i.l.blob(i.m.Config.Digest, i.l.lim.MaxConfigSize, "--max-config-size")
}

func (i *layoutImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range i.m.Layers {
		if d.Digest == h {
			return &layoutLayer{l: i.l, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("layer %s: not in the manifest", h)
}

// layoutLayer is one layer blob; ensureLayer checks its digest and size
// while it streams.
type layoutLayer struct {
	l    *layoutDir
	desc v1.Descriptor
}

func (b *layoutLayer) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *layoutLayer) Size() (int64, error)                { return b.desc.Size, nil }
func (b *layoutLayer) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }

func (b *layoutLayer) Compressed() (io.ReadCloser, error) {
	n, err := blobName(b.desc.Digest)
	if err != nil {
		return nil, err
	}
	f, _, err := openBeneath(b.l.dir, n)
	if err != nil {
		return nil, fmt.Errorf("layout %w", err)
	}
	return f, nil
}
