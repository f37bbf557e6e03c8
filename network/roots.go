package network

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/podsec/podsec/internal/atomicfile"
)

// rootsDir lists the state directories of the node's podsec roots that
// have set a pod up since the node booted: one file per root, named by a
// hash of its state directory and holding its path. Host ports are the
// node's, not a root's: every root's NAT table (or portmap's chain)
// DNATs the ports its own records hold, and of two tables sending one
// port to two pods the first the kernel runs takes the traffic. So a
// root's Setup checks the other roots' records too, under the node lock.
// It lives in /run: a reboot ends every pod and forgets the list.
const rootsDir = "/run/podsec/roots"

// stateDirReal is the state directory's absolute path, symbolic links
// resolved, so that two spellings of one root are one root.
func (m *Manager) stateDirReal() string { return m.realDir }

// realPath is dir's absolute path with symbolic links resolved, or as
// much of that as can be had.
func realPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

func (m *Manager) rootFile() (dir, path string) {
	dir = m.stateDirReal()
	sum := sha256.Sum256([]byte(dir))
	return dir, filepath.Join(rootsDir, hex.EncodeToString(sum[:8]))
}

// registerRoot adds the state directory to rootsDir, once. The caller
// holds the state lock.
func (m *Manager) registerRoot() error {
	dir, path := m.rootFile()
	if b, err := os.ReadFile(path); err == nil && string(b) == dir {
		return nil
	}
	if err := os.MkdirAll(rootsDir, 0o700); err != nil {
		return fmt.Errorf("registering state root %s: %w", dir, err)
	}
	if err := atomicfile.WriteVolatile(path, []byte(dir), 0o600); err != nil {
		return fmt.Errorf("registering state root %s: %w", dir, err)
	}
	return nil
}

// unregisterRoot takes the state directory out of rootsDir: it holds no
// attachment. The caller holds the state lock.
func (m *Manager) unregisterRoot() error {
	dir, path := m.rootFile()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unregistering state root %s: %w", dir, err)
	}
	return nil
}

// otherRootsConflict refuses ports that a pod of another registered root
// holds. A root whose state directory is gone holds nothing. The caller
// holds the node lock.
func (m *Manager) otherRootsConflict(ports []PortMapping) error {
	if len(ports) == 0 {
		return nil
	}
	ents, err := os.ReadDir(rootsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the node's state roots: %w", err)
	}
	self := m.stateDirReal()
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue // atomicfile.Write's temporary files
		}
		b, err := os.ReadFile(filepath.Join(rootsDir, e.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		dir := string(b)
		if dir == self || !filepath.IsAbs(dir) {
			continue
		}
		recs, err := readRecords(filepath.Join(dir, "pods"))
		if errors.Is(err, os.ErrNotExist) {
			// The root is gone (its next hostPort pod registers it again).
			os.Remove(filepath.Join(rootsDir, e.Name()))
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the network records of state root %s: %w", dir, err)
		}
		if err := conflict(ports, recs); err != nil {
			return fmt.Errorf("%w (state root %s)", err, dir)
		}
	}
	return nil
}

// readRecords reads the attachment records of another root's directory.
func readRecords(dir string) ([]*Attachment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*Attachment
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // torn down meanwhile
		}
		if err != nil {
			return nil, err
		}
		var a Attachment
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", e.Name(), err)
		}
		out = append(out, &a)
	}
	return out, nil
}
