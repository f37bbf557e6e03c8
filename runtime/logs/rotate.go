package logs

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rotatedFormat names rotated files, as the kubelet's container log manager.
const rotatedFormat = "20060102-150405"

// rotated is one rotated file of a log.
type rotated struct {
	path  string
	stamp string // the rotatedFormat timestamp
	seq   int    // disambiguates rotations within one second
}

// rotate renames the current file to <path>.<timestamp>, opens a new one and
// removes the oldest rotated files beyond MaxFiles-1. The kubelet rotates
// from a 10 s loop, so two rotations in one second never meet there; this
// writer rotates inline, so a later rotation within the same second gets a
// ".N" suffix above any N of that second still on disk. Reusing a freed
// lower N would sort the newest file first, and the next cleanup would
// remove it.
func (w *Writer) rotate() error {
	stamp := w.opts.Now().Format(rotatedFormat)
	rs, err := listRotated(w.path)
	if err != nil {
		return fmt.Errorf("rotating log file: %w", err)
	}
	seq := -1
	for _, r := range rs {
		if r.stamp == stamp {
			seq = max(seq, r.seq)
		}
	}
	name := w.path + "." + stamp
	if seq >= 0 {
		name += "." + strconv.Itoa(seq+1)
	}
	if err := os.Rename(w.path, name); err != nil {
		return fmt.Errorf("rotating log file: %w", err)
	}
	f, size, err := openLog(w.path)
	if err != nil {
		return fmt.Errorf("rotating log file: %w", err)
	}
	w.f.Close()
	w.f, w.size = f, size
	return removeExcess(w.path, w.opts.MaxFiles-1)
}

// listRotated returns path's rotated files, oldest first. Files whose names
// do not parse (such as the kubelet's compressed .gz) are not ours and are
// left alone.
func listRotated(path string) ([]rotated, error) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+"."
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing rotated logs: %w", err)
	}
	var out []rotated
	for _, de := range des {
		suffix, ok := strings.CutPrefix(de.Name(), prefix)
		if !ok || de.IsDir() {
			continue
		}
		if r, ok := parseRotated(suffix); ok {
			r.path = filepath.Join(dir, de.Name())
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b rotated) int {
		return cmp.Or(cmp.Compare(a.stamp, b.stamp), cmp.Compare(a.seq, b.seq))
	})
	return out, nil
}

func parseRotated(suffix string) (rotated, bool) {
	stamp, seq, hasSeq := strings.Cut(suffix, ".")
	if _, err := time.Parse(rotatedFormat, stamp); err != nil || len(stamp) != len(rotatedFormat) {
		return rotated{}, false
	}
	r := rotated{stamp: stamp}
	if hasSeq {
		n, err := strconv.Atoi(seq)
		if err != nil || n < 1 || strconv.Itoa(n) != seq {
			return rotated{}, false
		}
		r.seq = n
	}
	return r, true
}

// removeExcess removes the oldest rotated files so that at most keep remain.
func removeExcess(path string, keep int) error {
	rs, err := listRotated(path)
	if err != nil {
		return err
	}
	for len(rs) > keep {
		if err := os.Remove(rs[0].path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing rotated log: %w", err)
		}
		rs = rs[1:]
	}
	return nil
}
