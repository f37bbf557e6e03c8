package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// DefaultPollInterval is how often a following Read looks for new records.
const DefaultPollInterval = 100 * time.Millisecond

// ReadOptions select what Read prints, as `kubectl logs` flags do.
type ReadOptions struct {
	// Follow keeps printing new records, across rotations, until ctx ends
	// or Stop is closed.
	Follow bool
	// Stop, when closed, tells a following Read that the container has
	// exited and the Writer is closed: Read prints what is left and
	// returns nil. Without it Follow runs until ctx ends.
	Stop <-chan struct{}
	// Timestamps prefixes each line with its timestamp (TimestampFormat)
	// and a space.
	Timestamps bool
	// Tail is the number of lines to print from the end; -1 prints all.
	// Lines are logical: the partial records of one line count once.
	Tail int64
	// Since skips lines stamped before it; zero keeps all.
	Since time.Time
	// LimitBytes stops after printing this many bytes; 0 is no limit.
	LimitBytes int64
	// OnCorrupt, if set, is called for each record that does not parse;
	// the record is skipped either way, as the kubelet does. err wraps
	// ErrCorruptLine.
	OnCorrupt func(path string, line []byte, err error)
	// PollInterval is how often Follow looks for new records;
	// DefaultPollInterval if zero.
	PollInterval time.Duration
}

// Read prints the log at path and its rotated files, oldest first, to
// stdout and stderr by stream; with stderr nil both go to stdout, as
// `kubectl logs` prints them. Partial records are joined into their line.
func Read(ctx context.Context, path string, opts ReadOptions, stdout, stderr io.Writer) error {
	if stdout == nil {
		return errors.New("reading logs: stdout is nil")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	r := &reader{path: path, opts: opts, out: newSink(stdout, stderr, opts)}
	err := r.run(ctx)
	if r.cur != nil {
		r.cur.f.Close()
	}
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

type reader struct {
	path string
	opts ReadOptions
	out  *sink
	cur  *forward // the file at path, as opened
}

func (r *reader) run(ctx context.Context) error {
	// Open the current file before listing rotated ones: if it rotates in
	// between, it shows up in the list and is dropped from it by identity.
	f, err := os.Open(r.path)
	if err != nil {
		return fmt.Errorf("opening log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening log file: %w", err)
	}
	r.cur = newForward(f)
	older, err := r.olderThan(st)
	if err != nil {
		return err
	}
	if r.opts.Tail >= 0 {
		if err := r.tail(older, st.Size()); err != nil {
			return err
		}
	} else {
		for _, p := range older {
			if err := r.readFile(p); err != nil {
				return err
			}
		}
	}
	if !r.opts.Follow {
		if err := r.drain(); err != nil {
			return err
		}
		return r.flushRest()
	}
	return r.follow(ctx, st)
}

// olderThan lists the rotated files before the file st, oldest first.
func (r *reader) olderThan(st os.FileInfo) ([]string, error) {
	rs, err := listRotated(r.path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rf := range rs {
		if fi, err := os.Stat(rf.path); err == nil && os.SameFile(fi, st) {
			break
		}
		out = append(out, rf.path)
	}
	return out, nil
}

// put parses and prints one record.
func (r *reader) put(name string, line []byte) error {
	e, err := parseRecord(line)
	if err != nil {
		r.corrupt(name, line, err)
		return nil
	}
	return r.out.put(e)
}

func (r *reader) corrupt(name string, line []byte, err error) {
	if r.opts.OnCorrupt != nil {
		r.opts.OnCorrupt(name, line, err)
	}
}

// readFile prints a whole rotated file; it no longer grows.
func (r *reader) readFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // removed by rotation meanwhile
	}
	if err != nil {
		return fmt.Errorf("opening rotated log: %w", err)
	}
	defer f.Close()
	fw := newForward(f)
	for {
		line, err := fw.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading rotated log: %w", err)
		}
		if err := r.put(path, line); err != nil {
			return err
		}
	}
	if rest := fw.rest(); len(rest) > 0 {
		return r.put(path, rest)
	}
	return nil
}

// drain prints the complete records of the current file up to its end.
func (r *reader) drain() error {
	for {
		line, err := r.cur.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading log file: %w", err)
		}
		if err := r.put(r.path, line); err != nil {
			return err
		}
	}
}

// flushRest prints a trailing record left without its newline, as the
// kubelet prints an incomplete last line when not following.
func (r *reader) flushRest() error {
	if rest := r.cur.rest(); len(rest) > 0 {
		return r.put(r.path, rest)
	}
	return nil
}

// tail prints the last Tail lines of the older files and the current file
// up to size, and leaves the current file positioned after them.
func (r *reader) tail(older []string, size int64) error {
	end, err := completeEnd(r.cur.f, size)
	if err != nil {
		return fmt.Errorf("reading log file: %w", err)
	}
	files := append(slices.Clone(older), r.path)
	sel := newTailSelector(r.opts.Tail)
	for i := len(files) - 1; i >= 0 && !sel.done(); i-- {
		if err := r.selectFrom(sel, files[i], i == len(files)-1, end); err != nil {
			return err
		}
	}
	slices.Reverse(sel.picked)
	for _, e := range sel.picked {
		if err := r.out.put(e); err != nil {
			return err
		}
	}
	if _, err := r.cur.f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("reading log file: %w", err)
	}
	r.cur.r.Reset(r.cur.f)
	return nil
}

func (r *reader) selectFrom(sel *tailSelector, path string, current bool, end int64) error {
	f := r.cur.f
	if !current {
		var err error
		if f, err = os.Open(path); errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("opening rotated log: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("opening rotated log: %w", err)
		}
		end = st.Size()
	}
	b := newBackward(f, end)
	for !sel.done() {
		line, err := b.prev()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading log file: %w", err)
		}
		e, err := parseRecord(line)
		if err != nil {
			r.corrupt(path, line, err)
			continue
		}
		sel.add(e)
	}
	return nil
}
