package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/policy/admission"
)

// generationFile names the store's generation: a random token written
// atomically, under the exclusive lock, after every change. It is removed
// before the change is made, so that a change whose new token could not
// be written leaves no generation, and nothing is served from a cache.
const generationFile = ".generation"

// generationLen is the length of a generation token: 16 random bytes in
// hex.
const generationLen = 32

// admissionCache is the admission objects of one generation.
type admissionCache struct {
	generation string
	objs       admission.Objects
}

// cache holds what the store has made of one generation; the zero value
// is empty.
type cache struct {
	admission atomic.Pointer[admissionCache]
	// mu serializes the reads of a new generation: concurrent requests
	// that all miss read the store once.
	mu sync.Mutex
}

// Generation returns the store's generation: a token that every Apply,
// Create and Delete replaces once the change is on disk, read without the
// lock (the token is renamed into place whole). It is "" when the store
// has none, which is the case only while a change is being made or after
// one failed half-way; callers must then read the store again.
//
// It is read with three system calls (open, read, close) and none of
// os.File's poller registration: a webhook reads it for every review.
func (s *Store) Generation() (string, error) {
	fd, err := syscall.Open(s.genPath, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the object store's generation: %w", &fs.PathError{Op: "open", Path: s.genPath, Err: err})
	}
	defer syscall.Close(fd)
	// A token is generationLen bytes written whole: one read gets it, and
	// anything longer is not one of ours.
	var buf [2 * generationLen]byte
	n, err := syscall.Read(fd, buf[:])
	if err != nil {
		return "", fmt.Errorf("reading the object store's generation: %w", &fs.PathError{Op: "read", Path: s.genPath, Err: err})
	}
	if n != generationLen {
		return "", nil
	}
	return string(buf[:n]), nil
}

// invalidate removes the generation before a change; the exclusive lock
// is held.
func (s *Store) invalidate() error {
	if err := os.Remove(s.genPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("changing the object store's generation: %w", err)
	}
	return nil
}

// bump writes a new generation after a change; the exclusive lock is held.
func (s *Store) bump() error {
	if err := atomicfile.Write(s.genPath, []byte(hex.EncodeToString(randomBytes(generationLen/2))), 0o600); err != nil {
		return fmt.Errorf("changing the object store's generation: %w", err)
	}
	return nil
}

// ensureGeneration gives a store written before generations existed its
// first one, so that its readers may cache it.
func (s *Store) ensureGeneration() error {
	if gen, err := s.Generation(); err != nil || gen != "" {
		return err
	}
	unlock, err := s.flock(true)
	if err != nil {
		return err
	}
	defer unlock()
	if gen, err := s.Generation(); err != nil || gen != "" {
		return err
	}
	return s.bump()
}

// AdmissionObjects returns the stored objects admission decides with
// (Snapshot.AdmissionObjects), indexed (admission.Objects.Indexed): read
// and indexed once per generation and shared by every caller until the
// next change. A change written by any process (Apply, Create or Delete
// returned) is seen by every call that starts after it. The objects must
// not be changed.
func (s *Store) AdmissionObjects() (admission.Objects, error) {
	if objs, ok, err := s.cachedAdmission(); ok || err != nil {
		return objs, err
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if objs, ok, err := s.cachedAdmission(); ok || err != nil {
		return objs, err
	}
	snap, gen, err := s.snapshot()
	if err != nil {
		return admission.Objects{}, err
	}
	objs := snap.AdmissionObjects().Indexed()
	if gen != "" {
		s.cache.admission.Store(&admissionCache{generation: gen, objs: objs})
	}
	return objs, nil
}

// cachedAdmission is the cached objects if they are of the store's
// generation now.
func (s *Store) cachedAdmission() (admission.Objects, bool, error) {
	gen, err := s.Generation()
	if err != nil {
		return admission.Objects{}, false, err
	}
	if c := s.cache.admission.Load(); c != nil && gen != "" && c.generation == gen {
		return c.objs, true, nil
	}
	return admission.Objects{}, false, nil
}
