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
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podsec/podsec/internal/atomicfile"
)

// digestPattern is compiled on first use: its bounded repetitions make
// a large program, which every start of podsec (each container's init
// and pod sandbox too) would otherwise build.
var digestPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^sha256:[0-9a-f]{64}$`) })

// add stores img under refs (normalized): its layers are unpacked unless
// already present, its config and manifest (raw may be nil) are written
// as blobs, and the index is updated. Images that lose their last
// reference are garbage-collected. The lock must be held. When add
// fails, the layers and blobs it made are removed: the store is left as
// it was.
//
// blobInfo says that the layers' digests and sizes are known without
// work (a manifest lists them); for a docker save tar's uncompressed
// layers, go-containerregistry would gzip each layer to compute them.
func (s *Store) add(ctx context.Context, img v1.Image, refs []string, digest string, rawManifest []byte, blobInfo bool, p *progress) (_ []*Image, err error) {
	var madeLayers, madeBlobs []string
	defer func() {
		if err != nil {
			s.undo(madeLayers, madeBlobs)
		}
	}()
	var m *v1.Manifest
	if rawManifest != nil {
		if int64(len(rawManifest)) > s.limits.MaxManifestSize {
			return nil, fmt.Errorf("manifest %s: %w", digest, sizeLimit("size", s.limits.MaxManifestSize, "--max-manifest-size"))
		}
		if sha256Digest(rawManifest) != digest {
			return nil, fmt.Errorf("manifest %s: %w: got %s", digest, ErrDigestMismatch, sha256Digest(rawManifest))
		}
		if m, err = v1.ParseManifest(bytes.NewReader(rawManifest)); err != nil {
			return nil, fmt.Errorf("parsing manifest %s: %w", digest, err)
		}
		if err := checkManifestLimits(m, s.limits); err != nil {
			return nil, err
		}
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	id := sha256Digest(rawCfg)
	if int64(len(rawCfg)) > s.limits.MaxConfigSize {
		return nil, fmt.Errorf("config %s: %w", id, sizeLimit("size", s.limits.MaxConfigSize, "--max-config-size"))
	}
	if m != nil && m.Config.Digest.String() != id {
		return nil, fmt.Errorf("image %s: config: %w: the manifest names %s", id, ErrDigestMismatch, m.Config.Digest)
	}
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
		if !digestPattern().MatchString(diffIDs[i]) {
			return nil, fmt.Errorf("image %s: unsupported diff_id %q", id, diffIDs[i])
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		size, made, err := s.ensureLayer(ctx, idx, l, diffIDs[i], blobInfo, p)
		if made {
			madeLayers = append(madeLayers, diffIDs[i])
		}
		if err != nil {
			return nil, fmt.Errorf("image %s: unpacking layer %s: %w", id, diffIDs[i], err)
		}
		idx.Layers[diffIDs[i]] = size
	}
	blobs := [][2]string{{id, string(rawCfg)}}
	if rawManifest != nil {
		blobs = append(blobs, [2]string{digest, string(rawManifest)})
	}
	for _, b := range blobs {
		made, err := s.writeBlob(b[0], []byte(b[1]))
		if made {
			madeBlobs = append(madeBlobs, b[0])
		}
		if err != nil {
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

// undo removes the layers and blobs a failed add made, which no index
// entry names yet. Layers go through tmp/ so that a crash never leaves a
// partial one in place.
func (s *Store) undo(layers, blobs []string) {
	for _, d := range layers {
		if tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "undo-"); err == nil {
			_ = os.Rename(s.layerPath(d), filepath.Join(tmp, "layer"))
		}
	}
	for _, d := range blobs {
		_ = os.Remove(s.blobPath(d))
	}
	_ = s.cleanTmp()
}

// ensureLayer unpacks layer l into layers/sha256/<diffID hex> unless it
// is there and indexed, and returns its uncompressed size and whether it
// made the directory. A directory that is there but not indexed (a crash
// between rename and index write) is unpacked again rather than trusted.
// The layer is held to the store's limits while it streams, and its
// diffID (and, with blobInfo, its compressed digest and size) are
// checked before the directory is renamed into place.
func (s *Store) ensureLayer(ctx context.Context, idx *index, l v1.Layer, diffID string, blobInfo bool, p *progress) (int64, bool, error) {
	dst := s.layerPath(diffID)
	_, statErr := os.Lstat(dst)
	if size, ok := idx.Layers[diffID]; ok && statErr == nil {
		p.line("%s: already present", short(diffID))
		return size, false, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "unpack-")
	if err != nil {
		return 0, false, err
	}
	defer os.RemoveAll(tmp)
	if statErr == nil {
		if err := os.Rename(dst, filepath.Join(tmp, "stale")); err != nil {
			return 0, false, err
		}
	} else if !errors.Is(statErr, fs.ErrNotExist) {
		return 0, false, statErr
	}
	var total int64
	var blobDigest string
	if blobInfo {
		if d, err := l.Digest(); err == nil {
			blobDigest = d.String()
		}
		if sz, err := l.Size(); err == nil {
			total = sz
		}
	}
	bar := p.start(diffID, blobDigest, total)
	var rc io.ReadCloser
	var blob *checkedBlob
	if blobInfo {
		rc, blob, err = uncompressedChecked(l, s.limits)
	} else {
		rc, err = l.Uncompressed()
	}
	if err != nil {
		bar.fail()
		return 0, false, err
	}
	defer rc.Close()
	dir := filepath.Join(tmp, "layer")
	if err := os.Mkdir(dir, 0o700); err != nil {
		bar.fail()
		return 0, false, err
	}
	got, size, err := unpackLayer(&ctxReader{ctx: ctx, r: rc}, dir, s.limits)
	if err == nil && blob != nil {
		err = blob.finish()
	}
	if err == nil {
		err = rc.Close() // a remote layer checks its compressed digest here too
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
		return 0, false, err
	}
	bar.done(size)
	return size, true, nil
}

// writeBlob stores data as blob digest unless present, and reports
// whether it wrote it.
func (s *Store) writeBlob(digest string, data []byte) (bool, error) {
	p := s.blobPath(digest)
	if _, err := os.Stat(p); err == nil {
		return false, nil
	}
	if err := atomicfile.Write(p, data, 0o600); err != nil {
		return false, fmt.Errorf("writing blob %s: %w", digest, err)
	}
	return true, nil
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
