package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/spec"
)

// Store is a local image store in one directory:
//
//	lock                      flock(2) taken by every change
//	index.json                references -> images (written to a temp file, then renamed)
//	blobs/sha256/<hex>        manifests and configs, by digest
//	layers/sha256/<hex>/      unpacked layers in overlayfs format, by diffID
//	tmp/                      unpacks and removals in progress
//
// Changes (Load, Pull, Remove) hold the lock for their whole run, so two
// podsec processes never write at once; reads (Get, List) take no lock,
// as every file they read is replaced by rename. A layer directory
// appears by rename once fully unpacked and verified, so a crash never
// leaves a half layer that a later image would reuse.
type Store struct {
	root   string
	limits Limits
}

// Image is an image of the store, ready to become an overlay's lower
// layers.
type Image struct {
	// Ref is the normalized reference, e.g. "localhost/busybox:latest".
	Ref string
	// ID is the config's digest, "sha256:...".
	ID string
	// Digest is the manifest's digest; empty for an image loaded from a
	// docker save tar, which carries no manifest (docker shows none).
	Digest string
	// Config is the part of the image config that shapes the process.
	Config spec.ImageConfig
	// Layers are the unpacked layer directories, lowest first; overlay's
	// lowerdir lists them the other way round. A layer the image lists
	// twice appears once, at its highest position.
	Layers []string
	// Size is the uncompressed size of the layers and the config.
	Size int64
	// Created is the image config's creation time (zero when unset).
	Created time.Time
}

// index is index.json.
type index struct {
	// Refs maps normalized references to image IDs.
	Refs map[string]string `json:"refs"`
	// Images maps image IDs to what the store keeps of them.
	Images map[string]*record `json:"images"`
	// Layers maps diffIDs to their uncompressed sizes.
	Layers map[string]int64 `json:"layers"`
}

type record struct {
	Digest string   `json:"digest,omitempty"`
	Layers []string `json:"layers"` // diffIDs, lowest first
}

// Open opens the image store at root (<state root>/images), creating it
// when missing. The directory is made mode 0700: unpacked layers keep
// their setuid binaries and device nodes, which no other user of the
// node may reach. The store has DefaultLimits unless WithLimits says
// otherwise.
func Open(root string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening image store %q: %w", root, err)
	}
	for _, d := range []string{abs, filepath.Join(abs, "blobs", "sha256"), filepath.Join(abs, "layers", "sha256"), filepath.Join(abs, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("opening image store: %w", err)
		}
	}
	if err := os.Chmod(abs, 0o700); err != nil {
		return nil, fmt.Errorf("opening image store: %w", err)
	}
	s := &Store{root: abs, limits: DefaultLimits()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Limits returns the store's limits.
func (s *Store) Limits() Limits { return s.limits }

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (s *Store) layerPath(diffID string) string {
	return filepath.Join(s.root, "layers", "sha256", strings.TrimPrefix(diffID, "sha256:"))
}

// Get returns the image with reference ref (normalized first). A digest
// reference also finds an image of the same repository pulled by tag
// whose manifest has that digest; an image ID or a prefix of it of 12
// hex digits or more finds the image too. It returns ErrNotFound when no
// image matches.
func (s *Store) Get(ref string) (*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	key, id, _, err := idx.lookup(ref)
	if err != nil {
		return nil, err
	}
	return s.image(idx, key, id)
}

// lookup resolves ref to the index's reference key and image ID; byID
// says ref was an image ID (or a prefix of one).
func (idx *index) lookup(ref string) (key, id string, byID bool, err error) {
	n, nerr := Normalize(ref)
	if nerr == nil {
		if id, ok := idx.Refs[n]; ok {
			return n, id, false, nil
		}
		if isDigestRef(n) {
			repo, digest := repository(n), n[strings.LastIndex(n, "@")+1:]
			for _, k := range idx.sortedRefs() {
				if r := idx.Images[idx.Refs[k]]; repository(k) == repo && r != nil && r.Digest == digest {
					return k, idx.Refs[k], false, nil
				}
			}
		}
	}
	if looksLikeID(ref) {
		want := "sha256:" + strings.TrimPrefix(ref, "sha256:")
		var found []string
		for id := range idx.Images {
			if strings.HasPrefix(id, want) {
				found = append(found, id)
			}
		}
		if len(found) > 1 {
			return "", "", false, fmt.Errorf("image ID %q is ambiguous", ref)
		}
		if len(found) == 1 {
			return idx.firstRef(found[0]), found[0], true, nil
		}
	}
	if nerr != nil {
		return "", "", false, nerr
	}
	return "", "", false, fmt.Errorf("%w: %s", ErrNotFound, n)
}

func (idx *index) sortedRefs() []string {
	refs := make([]string, 0, len(idx.Refs))
	for r := range idx.Refs {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	return refs
}

func (idx *index) firstRef(id string) string {
	for _, r := range idx.sortedRefs() {
		if idx.Refs[r] == id {
			return r
		}
	}
	return ""
}

// List returns every reference of the store, sorted by reference.
func (s *Store) List() ([]*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var imgs []*Image
	for _, r := range idx.sortedRefs() {
		img, err := s.image(idx, r, idx.Refs[r])
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// image builds the Image of one reference from the index and the config
// blob.
func (s *Store) image(idx *index, ref, id string) (*Image, error) {
	rec := idx.Images[id]
	if rec == nil {
		return nil, fmt.Errorf("image store: reference %s names missing image %s", ref, id)
	}
	raw, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", ref, err)
	}
	cfg, err := v1.ParseConfigFile(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("parsing config of %s: %w", ref, err)
	}
	img := &Image{
		Ref:     ref,
		ID:      id,
		Digest:  rec.Digest,
		Created: cfg.Created.Time,
		Size:    int64(len(raw)),
		Config: spec.ImageConfig{
			User:       cfg.Config.User,
			Entrypoint: cfg.Config.Entrypoint,
			Cmd:        cfg.Config.Cmd,
			Env:        cfg.Config.Env,
			WorkingDir: cfg.Config.WorkingDir,
		},
	}
	for i, d := range rec.Layers {
		if contains(rec.Layers[i+1:], d) {
			continue // kept at its highest position
		}
		p := s.layerPath(d)
		if _, err := os.Lstat(p); err != nil {
			return nil, fmt.Errorf("image %s: layer %s: %w", ref, d, err)
		}
		img.Layers = append(img.Layers, p)
		img.Size += idx.Layers[d]
	}
	return img, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Remove removes the reference ref (or, given an image ID, every
// reference of that image) and then every blob and unpacked layer no
// remaining image uses. A digest reference that Get resolves to a tagged
// reference of the same manifest removes that tagged reference. It
// returns ErrNotFound when nothing matches.
func (s *Store) Remove(ref string) error {
	unlock, err := s.lock(context.Background())
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	key, id, byID, err := idx.lookup(ref)
	if err != nil {
		return err
	}
	delete(idx.Refs, key)
	if byID {
		for r, rid := range idx.Refs {
			if rid == id {
				delete(idx.Refs, r)
			}
		}
	}
	return s.gc(idx)
}

// gc drops unreferenced images from idx, writes it, then deletes the
// blobs and layers that no image uses. Layers are renamed into tmp/
// before deletion so that a crash never leaves a partial layer in place.
// The lock must be held.
func (s *Store) gc(idx *index) error {
	keepBlobs, keepLayers := map[string]bool{}, map[string]bool{}
	used := map[string]bool{}
	for _, id := range idx.Refs {
		used[id] = true
	}
	for id, rec := range idx.Images {
		if !used[id] {
			delete(idx.Images, id)
			continue
		}
		keepBlobs[hexOf(id)] = true
		if rec.Digest != "" {
			keepBlobs[hexOf(rec.Digest)] = true
		}
		for _, l := range rec.Layers {
			keepLayers[hexOf(l)] = true
		}
	}
	for l := range idx.Layers {
		if !keepLayers[hexOf(l)] {
			delete(idx.Layers, l)
		}
	}
	if err := s.writeIndex(idx); err != nil {
		return err
	}
	var errs []error
	blobs, err := os.ReadDir(filepath.Join(s.root, "blobs", "sha256"))
	errs = append(errs, err)
	for _, b := range blobs {
		if !keepBlobs[b.Name()] {
			errs = append(errs, os.Remove(filepath.Join(s.root, "blobs", "sha256", b.Name())))
		}
	}
	layers, err := os.ReadDir(filepath.Join(s.root, "layers", "sha256"))
	errs = append(errs, err)
	for _, l := range layers {
		if keepLayers[l.Name()] {
			continue
		}
		tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "gc-")
		if err == nil {
			err = os.Rename(filepath.Join(s.root, "layers", "sha256", l.Name()), filepath.Join(tmp, "layer"))
		}
		errs = append(errs, err)
	}
	errs = append(errs, s.cleanTmp())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("garbage-collecting image store: %w", err)
	}
	return nil
}

func hexOf(digest string) string { return strings.TrimPrefix(digest, "sha256:") }

// cleanTmp removes what interrupted changes left in tmp/. The lock must
// be held: only a change under the lock uses tmp/.
func (s *Store) cleanTmp() error {
	dir := filepath.Join(s.root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

func (s *Store) readIndex() (*index, error) {
	idx := &index{Refs: map[string]string{}, Images: map[string]*record{}, Layers: map[string]int64{}}
	b, err := os.ReadFile(filepath.Join(s.root, "index.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading image index: %w", err)
	}
	if err := json.Unmarshal(b, idx); err != nil {
		return nil, fmt.Errorf("reading image index %s: %w", filepath.Join(s.root, "index.json"), err)
	}
	if idx.Refs == nil {
		idx.Refs = map[string]string{}
	}
	if idx.Images == nil {
		idx.Images = map[string]*record{}
	}
	if idx.Layers == nil {
		idx.Layers = map[string]int64{}
	}
	return idx, nil
}

func (s *Store) writeIndex(idx *index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("writing image index: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(s.root, "index.json"), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing image index: %w", err)
	}
	return nil
}
