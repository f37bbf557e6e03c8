package image

import (
	"errors"
	"fmt"
	"io"

	"github.com/docker/go-units"
)

// Limits bound what one image may make podsec read, hold in memory and
// write. Everything an image carries is untrusted: a registry can declare
// a config of gigabytes, a 2 MB gzip can expand to gigabytes of zeros,
// and an OCI layout's index.json can be /dev/zero. Each limit is enforced
// while the bytes stream, never after reading the whole thing.
type Limits struct {
	// MaxManifestSize bounds a manifest and an image index (a layout's
	// index.json included), in bytes: they are read into memory.
	MaxManifestSize int64
	// MaxConfigSize bounds an image config, in bytes: it is read into
	// memory and kept as a blob.
	MaxConfigSize int64
	// MaxLayerSize bounds a layer's uncompressed size in bytes: its tar
	// stream and the sum of its files' sizes (a sparse entry is written
	// out whole). A compressed layer larger than this is refused too.
	MaxLayerSize int64
	// MaxLayerFiles bounds the number of entries of one layer, each an
	// inode on the node.
	MaxLayerFiles int64
}

// Defaults of Limits. Manifests and indexes get the 4 MiB that the
// distribution registry accepts; configs twice that, as long histories
// make them larger; a layer 1 GiB and 500000 entries, about a third of
// the inodes of a 20 GB ext4 filesystem.
const (
	DefaultMaxManifestSize = 4 << 20
	DefaultMaxConfigSize   = 8 << 20
	DefaultMaxLayerSize    = 1 << 30
	DefaultMaxLayerFiles   = 500000
)

// DefaultLimits returns the limits a store has unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxManifestSize: DefaultMaxManifestSize,
		MaxConfigSize:   DefaultMaxConfigSize,
		MaxLayerSize:    DefaultMaxLayerSize,
		MaxLayerFiles:   DefaultMaxLayerFiles,
	}
}

// Validate checks that every limit is positive; the error names the flag.
func (l Limits) Validate() error {
	var errs []error
	for _, c := range []struct {
		flag string
		v    int64
	}{
		{"--max-manifest-size", l.MaxManifestSize},
		{"--max-config-size", l.MaxConfigSize},
		{"--max-layer-size", l.MaxLayerSize},
		{"--max-layer-files", l.MaxLayerFiles},
	} {
		if c.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: Invalid value: %d: must be greater than 0", c.flag, c.v))
		}
	}
	return errors.Join(errs...)
}

// Option is an option of Open.
type Option func(*Store)

// WithLimits sets the store's limits; a zero field keeps its default.
func WithLimits(l Limits) Option {
	return func(s *Store) {
		d := DefaultLimits()
		for _, p := range []struct{ v, d *int64 }{
			{&l.MaxManifestSize, &d.MaxManifestSize},
			{&l.MaxConfigSize, &d.MaxConfigSize},
			{&l.MaxLayerSize, &d.MaxLayerSize},
			{&l.MaxLayerFiles, &d.MaxLayerFiles},
		} {
			if *p.v <= 0 {
				*p.v = *p.d
			}
		}
		s.limits = l
	}
}

// limitError is a limit that an input went over, naming the flag that
// raises it.
type limitError struct {
	what  string // "unpacked size", "size", "entries"
	limit int64
	flag  string
	bytes bool
}

func (e *limitError) Error() string {
	v := fmt.Sprint(e.limit)
	if e.bytes {
		v = units.BytesSize(float64(e.limit))
	}
	return fmt.Sprintf("%s exceeds the limit of %s (%s)", e.what, v, e.flag)
}

func (e *limitError) Is(target error) bool { return target == ErrLimitExceeded }

func sizeLimit(what string, limit int64, flag string) error {
	return &limitError{what: what, limit: limit, flag: flag, bytes: true}
}

// readAllLimit reads r to its end, failing as soon as it has more than
// limit bytes: at most limit+1 bytes are ever held.
func readAllLimit(r io.Reader, limit int64, flag string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, sizeLimit("size", limit, flag)
	}
	return b, nil
}

// cappedReader fails with err once more than n bytes have been read
// through it, instead of the silent io.EOF of io.LimitReader.
type cappedReader struct {
	r   io.Reader
	n   int64 // bytes still allowed
	err error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, c.err
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, c.err
	}
	return n, err
}
