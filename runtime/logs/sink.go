package logs

import (
	"errors"
	"io"
	"time"
)

// errLimit ends a read that reached ReadOptions.LimitBytes.
var errLimit = errors.New("byte limit reached")

// sink prints records as the kubelet's logWriter does, with two differences
// that only show on partial lines: the line-start state that decides the
// --timestamps prefix is kept per stream (the kubelet keeps one for both, so
// an interleaved stderr line could lose its prefix), and since filters a
// logical line by its first record, so a line is never cut in two.
type sink struct {
	stdout, stderr io.Writer
	timestamps     bool
	since          time.Time
	remain         int64 // < 0: no limit

	mid  map[string]bool // the stream is inside a partial line
	skip map[string]bool // the stream's current line is before since
	buf  []byte
}

func newSink(stdout, stderr io.Writer, opts ReadOptions) *sink {
	if stderr == nil {
		stderr = stdout
	}
	remain := opts.LimitBytes
	if remain <= 0 {
		remain = -1
	}
	return &sink{
		stdout: stdout, stderr: stderr,
		timestamps: opts.Timestamps, since: opts.Since, remain: remain,
		mid: map[string]bool{}, skip: map[string]bool{},
	}
}

func (s *sink) put(e entry) error {
	start := !s.mid[e.stream]
	if start {
		s.skip[e.stream] = !s.since.IsZero() && e.ts.Before(s.since)
	}
	s.mid[e.stream] = e.partial
	if s.skip[e.stream] {
		return nil
	}
	s.buf = s.buf[:0]
	if s.timestamps && start {
		s.buf = e.ts.AppendFormat(s.buf, TimestampFormat)
		s.buf = append(s.buf, ' ')
	}
	s.buf = append(s.buf, e.content...)
	if !e.partial {
		s.buf = append(s.buf, '\n')
	}
	out := s.buf
	if s.remain >= 0 && int64(len(out)) > s.remain {
		out = out[:s.remain]
	}
	w := s.stdout
	if e.stream == Stderr {
		w = s.stderr
	}
	n, err := w.Write(out)
	if s.remain >= 0 {
		s.remain -= int64(n)
	}
	if err != nil {
		return err
	}
	if n < len(out) {
		return io.ErrShortWrite
	}
	if s.remain == 0 {
		return errLimit
	}
	return nil
}
