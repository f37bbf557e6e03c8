// Package atomicfile is how podsec processes share files on the node:
// written whole, so that a reader, or a podsec started after a crash, sees
// the old content or the new and never a part (a synced temporary file in
// the same directory renamed over the target, then the directory synced),
// and locked with flock(2) while they read and change them.
//
// It is the one copy of both: the image store, the object store, the
// network records, the pid files of podsec-runtime and the pods' own files
// used five writers and four locks of their own before.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return Write(path, append(b, '\n'), 0o644)
}

// Write writes data to path atomically with the given mode.
func Write(path string, data []byte, mode os.FileMode) error {
	return write(path, data, mode, true)
}

// WriteVolatile writes data to path atomically, as Write does, but does
// not wait for the disk: for run state that no reboot keeps (a running
// pod's specs and files), which readers and a podsec started after a
// crash of podsec still see whole.
func WriteVolatile(path string, data []byte, mode os.FileMode) error {
	return write(path, data, mode, false)
}

func write(path string, data []byte, mode os.FileMode, durable bool) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer root.Close()
	if err := writeIn(root, filepath.Base(path), data, mode, durable); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteIn writes data to rel beneath root atomically with the given mode:
// neither the file nor its temporary twin can be reached through a
// symlink out of root.
func WriteIn(root *os.Root, rel string, data []byte, mode os.FileMode) error {
	return writeIn(root, rel, data, mode, true)
}

func writeIn(root *os.Root, rel string, data []byte, mode os.FileMode, durable bool) error {
	dir, base := filepath.Dir(rel), filepath.Base(rel)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	// A leading dot: directory readers skip temporary files.
	tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	merr := f.Chmod(mode)
	var serr error
	if durable {
		serr = f.Sync()
	}
	cerr := f.Close()
	if err := errors.Join(werr, merr, serr, cerr); err != nil {
		_ = root.Remove(tmp)
		return err
	}
	if err := root.Rename(tmp, rel); err != nil {
		_ = root.Remove(tmp)
		return err
	}
	if !durable {
		return nil
	}
	// The rename itself survives a crash once the directory is synced.
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
