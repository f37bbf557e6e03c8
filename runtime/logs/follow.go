package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// follow prints records as they are written, polling, until ctx ends or
// opts.Stop is closed and everything written is printed. Polling every
// 100 ms is cheaper to reason about than inotify across renames and is
// what a person watching `kubectl logs -f` can notice at most.
func (r *reader) follow(ctx context.Context, st os.FileInfo) error {
	tick := time.NewTicker(r.opts.PollInterval)
	defer tick.Stop()
	stopping := false
	for {
		if err := r.drain(); err != nil {
			return err
		}
		next, err := r.nextFile(st)
		if err != nil {
			return err
		}
		if next != nil {
			st = next
			continue
		}
		if stopping {
			return r.flushRest()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.opts.Stop:
			// The writer is closed: one more pass prints what it wrote
			// last, even across a final rotation.
			stopping = true
		case <-tick.C:
		}
	}
}

// nextFile checks whether the file being followed was rotated away. If so it
// prints the rest of it and of any files rotated after it, switches to the
// new file at path and returns its info; otherwise it returns nil.
func (r *reader) nextFile(st os.FileInfo) (os.FileInfo, error) {
	fi, err := os.Stat(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // between the writer's rename and its create
	}
	if err != nil {
		return nil, fmt.Errorf("following log file: %w", err)
	}
	if os.SameFile(fi, st) {
		return nil, nil
	}
	// The writer renames only after its last write to the old file, so
	// reading it to the end now gets all of it.
	if err := r.drain(); err != nil {
		return nil, err
	}
	if err := r.flushRest(); err != nil {
		return nil, err
	}
	f, err := os.Open(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("following log file: %w", err)
	}
	newSt, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("following log file: %w", err)
	}
	// Files rotated after ours and before the one just opened were never
	// at path while we looked: read them whole. If ours is gone already
	// (removed past MaxFiles), which files came after it is unknown and
	// they are skipped.
	rs, err := listRotated(r.path)
	if err != nil {
		f.Close()
		return nil, err
	}
	after := false
	for _, rf := range rs {
		rfi, err := os.Stat(rf.path)
		if err != nil {
			continue
		}
		if os.SameFile(rfi, newSt) {
			break
		}
		if after {
			if err := r.readFile(rf.path); err != nil {
				f.Close()
				return nil, err
			}
		}
		if os.SameFile(rfi, st) {
			after = true
		}
	}
	r.cur.f.Close()
	r.cur = newForward(f)
	return newSt, nil
}
