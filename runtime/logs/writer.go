package logs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Defaults, as the kubelet (containerLogMaxSize, containerLogMaxFiles) and
// containerd (max_container_log_line_size) have them.
const (
	DefaultMaxSize     = 10 << 20
	DefaultMaxFiles    = 5
	DefaultMaxLineSize = 16 << 10
)

// WriterOptions tune a Writer. Zero values take the defaults.
type WriterOptions struct {
	// MaxSize is the size in bytes past which the file is rotated.
	MaxSize int64
	// MaxFiles is the number of files kept, the current one included. The
	// kubelet requires at least 2; so does NewWriter.
	MaxFiles int
	// MaxLineSize is the longest content of one record; longer lines are
	// split into partial records.
	MaxLineSize int
	// Now stamps records and names rotated files.
	Now func() time.Time
}

// Writer writes a container's stdout and stderr to one CRI log file. It
// must be the file's only writer.
type Writer struct {
	path string
	opts WriterOptions

	mu      sync.Mutex // guards everything below and the file
	f       *os.File
	size    int64
	closed  bool
	streams map[string]*streamWriter
	buf     []byte
}

// NewWriter opens path for appending, creating it if needed, and removes
// rotated files beyond opts.MaxFiles left by an earlier writer.
func NewWriter(path string, opts WriterOptions) (*Writer, error) {
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxFiles == 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if opts.MaxLineSize == 0 {
		opts.MaxLineSize = DefaultMaxLineSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case opts.MaxSize < 0:
		return nil, fmt.Errorf("%w: MaxSize %d is negative", ErrInvalidOptions, opts.MaxSize)
	case opts.MaxFiles < 2:
		return nil, fmt.Errorf("%w: MaxFiles %d must be at least 2", ErrInvalidOptions, opts.MaxFiles)
	case opts.MaxLineSize < 0:
		return nil, fmt.Errorf("%w: MaxLineSize %d is negative", ErrInvalidOptions, opts.MaxLineSize)
	}
	f, size, err := openLog(path)
	if err != nil {
		return nil, err
	}
	w := &Writer{path: path, opts: opts, f: f, size: size, streams: map[string]*streamWriter{}}
	if err := removeExcess(path, opts.MaxFiles-1); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func openLog(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, 0, fmt.Errorf("opening log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("opening log file: %w", err)
	}
	return f, st.Size(), nil
}

// Stream returns the writer for stream name, "stdout" or "stderr"; writes to
// any other name fail, since the CRI format has no place for it. Writes split
// their input into records; the returned writer and the other stream's may be
// used from different goroutines.
func (w *Writer) Stream(name string) io.Writer {
	if name != Stdout && name != Stderr {
		return errWriter{fmt.Errorf("writing log stream %q: %w", name, ErrUnknownStream)}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.streams[name]
	if !ok {
		s = &streamWriter{w: w, name: name}
		w.streams[name] = s
	}
	return s
}

// Close writes out what the streams hold without a newline, as partial
// records, and closes the file. Later writes fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	streams := []*streamWriter{w.streams[Stdout], w.streams[Stderr]}
	w.mu.Unlock()
	var firstErr error
	for _, s := range streams {
		if s == nil {
			continue
		}
		if err := s.flush(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return firstErr
	}
	w.closed = true
	if err := w.f.Close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("closing log file: %w", err)
	}
	return firstErr
}

// record writes one record, rotating first if it would take the file past
// MaxSize. A record is one write(2), so a reader sees it whole or not at all
// once the rename is visible.
func (w *Writer) record(stream string, partial bool, content []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.buf = appendRecord(w.buf[:0], w.opts.Now(), stream, partial, content)
	if w.size > 0 && w.size+int64(len(w.buf)) > w.opts.MaxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("writing log file: %w", err)
	}
	return nil
}

// streamWriter buffers one stream's unterminated line.
type streamWriter struct {
	w    *Writer
	name string

	mu  sync.Mutex
	buf []byte
}

var _ io.Writer = (*streamWriter)(nil)

// Write splits p into records as containerd does: a newline ends a full
// record ("\r\n" counts as the newline), and pending content past the max
// line size is written in partial records of exactly that size.
func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	max := s.w.opts.MaxLineSize
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p...)
			for max > 0 && len(s.buf) > max {
				if err := s.w.record(s.name, true, s.buf[:max]); err != nil {
					return 0, err
				}
				s.buf = append(s.buf[:0], s.buf[max:]...)
			}
			break
		}
		line := append(s.buf, p[:i]...)
		p = p[i+1:]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		for max > 0 && len(line) > max {
			if err := s.w.record(s.name, true, line[:max]); err != nil {
				return 0, err
			}
			line = line[max:]
		}
		if err := s.w.record(s.name, false, line); err != nil {
			return 0, err
		}
		s.buf = s.buf[:0]
	}
	return n, nil
}

func (s *streamWriter) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) == 0 {
		return nil
	}
	err := s.w.record(s.name, true, s.buf)
	s.buf = s.buf[:0]
	return err
}

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }
