package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// add stores img under refs (normalized): its layers are unpacked unless
// already present, its config and manifest (raw may be nil) are written
// as blobs, and the index is updated. Images that lose their last
// reference are garbage-collected. The lock must be held.
//
// blobInfo says that the layers' digests and sizes are known without
// work (a manifest lists them); for a docker save tar's uncompressed
// layers, go-containerregistry would gzip each layer to compute them.
func (s *Store) add(ctx context.Context, img v1.Image, refs []string, digest string, rawManifest []byte, blobInfo bool, p *progress) ([]*Image, error) {
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	id := sha256Digest(rawCfg)
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("parsing image config %s: %w", id, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image %s: listing layers: %w", id, err)
	}
	if len(layers) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("image %s: %d layers but the config names %d diff_ids", id, len(layers), len(cfg.RootFS.DiffIDs))
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	diffIDs := make([]string, len(layers))
	for i, l := range layers {
		diffIDs[i] = cfg.RootFS.DiffIDs[i].String()
		if !digestPattern.MatchString(diffIDs[i]) {
			return nil, fmt.Errorf("image %s: unsupported diff_id %q", id, diffIDs[i])
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		size, err := s.ensureLayer(ctx, idx, l, diffIDs[i], blobInfo, p)
		if err != nil {
			return nil, fmt.Errorf("image %s: layer %s: %w", id, diffIDs[i], err)
		}
		idx.Layers[diffIDs[i]] = size
	}
	if err := s.writeBlob(id, rawCfg); err != nil {
		return nil, err
	}
	if rawManifest != nil {
		if sha256Digest(rawManifest) != digest {
			return nil, fmt.Errorf("image %s: manifest: %w: got %s, want %s", id, ErrDigestMismatch, sha256Digest(rawManifest), digest)
		}
		m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
		if err != nil {
			return nil, fmt.Errorf("image %s: parsing manifest: %w", id, err)
		}
		if m.Config.Digest.String() != id {
			return nil, fmt.Errorf("image %s: config: %w: the manifest names %s", id, ErrDigestMismatch, m.Config.Digest)
		}
		if err := s.writeBlob(digest, rawManifest); err != nil {
			return nil, err
		}
	}
	rec := &record{Digest: digest, Layers: diffIDs}
	if old := idx.Images[id]; old != nil && digest == "" {
		rec.Digest = old.Digest
	}
	idx.Images[id] = rec
	for _, r := range refs {
		idx.Refs[r] = id
	}
	if err := s.gc(idx); err != nil {
		return nil, err
	}
	imgs := make([]*Image, 0, len(refs))
	for _, r := range refs {
		im, err := s.image(idx, r, id)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, im)
	}
	return imgs, nil
}

// ensureLayer unpacks layer l into layers/sha256/<diffID hex> unless it
// is there and indexed, and returns its uncompressed size. A directory
// that is there but not indexed (a crash between rename and index write)
// is unpacked again rather than trusted.
func (s *Store) ensureLayer(ctx context.Context, idx *index, l v1.Layer, diffID string, blobInfo bool, p *progress) (int64, error) {
	dst := s.layerPath(diffID)
	_, statErr := os.Lstat(dst)
	if size, ok := idx.Layers[diffID]; ok && statErr == nil {
		p.line("%s: already present", short(diffID))
		return size, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "unpack-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if statErr == nil {
		if err := os.Rename(dst, filepath.Join(tmp, "stale")); err != nil {
			return 0, err
		}
	} else if !errors.Is(statErr, fs.ErrNotExist) {
		return 0, statErr
	}
	var total int64
	var blob string
	if blobInfo {
		if d, err := l.Digest(); err == nil {
			blob = d.String()
		}
		if sz, err := l.Size(); err == nil {
			total = sz
		}
	}
	bar := p.start(diffID, blob, total)
	rc, err := l.Uncompressed()
	if err != nil {
		bar.fail()
		return 0, err
	}
	defer rc.Close()
	dir := filepath.Join(tmp, "layer")
	if err := os.Mkdir(dir, 0o700); err != nil {
		bar.fail()
		return 0, err
	}
	got, size, err := unpackLayer(&ctxReader{ctx: ctx, r: rc}, dir)
	if err == nil {
		err = rc.Close() // a remote layer checks its compressed digest here
	}
	if err == nil && got != diffID {
		err = fmt.Errorf("%w: the layer's content has diffID %s", ErrDigestMismatch, got)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil {
		err = os.Rename(dir, dst)
	}
	if err != nil {
		bar.fail()
		return 0, err
	}
	bar.done(size)
	return size, nil
}

// writeBlob stores data as blob digest unless present.
func (s *Store) writeBlob(digest string, data []byte) error {
	p := s.blobPath(digest)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := writeFileAtomic(p, data); err != nil {
		return fmt.Errorf("writing blob %s: %w", digest, err)
	}
	return nil
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// short is a digest's first 12 hex digits, as docker prints IDs.
func short(digest string) string {
	h := hexOf(digest)
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// ctxReader stops a long unpack when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
