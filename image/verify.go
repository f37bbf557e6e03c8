package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
)

// checkedBlob reads a layer's compressed blob, hashing it as it streams
// and holding it to the size its manifest declares: a byte past that size
// fails the read at once, and the digest is compared when the stream ends,
// before the unpacked layer is renamed into the store.
type checkedBlob struct {
	r        io.ReadCloser
	h        hash.Hash
	want     string
	size, n  int64
	verified bool
}

func newCheckedBlob(r io.ReadCloser, digest v1.Hash, size int64) *checkedBlob {
	return &checkedBlob{r: r, h: sha256.New(), want: digest.String(), size: size}
}

func (c *checkedBlob) Read(p []byte) (int, error) {
	if int64(len(p)) > c.size-c.n+1 {
		p = p[:c.size-c.n+1]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if c.n > c.size {
		return n, fmt.Errorf("blob %s: %w: longer than its declared size of %d bytes", c.want, ErrDigestMismatch, c.size)
	}
	if err == io.EOF {
		if c.n != c.size {
			return n, fmt.Errorf("blob %s: %w: %d bytes, its manifest declares %d", c.want, ErrDigestMismatch, c.n, c.size)
		}
		if got := "sha256:" + hex.EncodeToString(c.h.Sum(nil)); got != c.want {
			return n, fmt.Errorf("blob %s: %w: the content has digest %s", c.want, ErrDigestMismatch, got)
		}
		c.verified = true
	}
	return n, err
}

func (c *checkedBlob) Close() error { return c.r.Close() }

// finish reads what the decompressor left of the blob (at most its
// declared size) and reports whether it matched.
func (c *checkedBlob) finish() error {
	if _, err := io.Copy(io.Discard, c); err != nil {
		return err
	}
	if !c.verified {
		return fmt.Errorf("blob %s: %w: not verified", c.want, ErrDigestMismatch)
	}
	return nil
}

// checkedLayer is a layer whose Compressed stream is a checkedBlob;
// partial.CompressedToLayer decompresses it (gzip, zstd or none, by its
// first bytes).
type checkedLayer struct {
	partial.CompressedLayer
	blob *checkedBlob
}

func (l *checkedLayer) Compressed() (io.ReadCloser, error) { return l.blob, nil }

// uncompressedChecked opens l's uncompressed stream through a checkedBlob
// when its digest and size are known (a manifest names them), and returns
// that blob to finish once the stream is read.
func uncompressedChecked(l v1.Layer, lim Limits) (io.ReadCloser, *checkedBlob, error) {
	digest, err := l.Digest()
	if err != nil {
		return nil, nil, err
	}
	size, err := l.Size()
	if err != nil {
		return nil, nil, err
	}
	if size > lim.MaxLayerSize {
		return nil, nil, sizeLimit(fmt.Sprintf("compressed size %d", size), lim.MaxLayerSize, "--max-layer-size")
	}
	if !digestPattern().MatchString(digest.String()) {
		return nil, nil, fmt.Errorf("unsupported layer digest %q", digest)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, nil, err
	}
	blob := newCheckedBlob(rc, digest, size)
	ul, err := partial.CompressedToLayer(&checkedLayer{CompressedLayer: l, blob: blob})
	if err == nil {
		var u io.ReadCloser
		if u, err = ul.Uncompressed(); err == nil {
			return u, blob, nil
		}
	}
	rc.Close()
	return nil, nil, err
}
