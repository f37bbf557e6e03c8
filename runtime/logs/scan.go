package logs

import (
	"bufio"
	"bytes"
	"io"
	"os"
)

// forward reads complete records from a file that may still grow.
type forward struct {
	f       *os.File
	r       *bufio.Reader
	pending []byte // an incomplete record, completed by a later read
}

func newForward(f *os.File) *forward {
	return &forward{f: f, r: bufio.NewReaderSize(f, 64<<10)}
}

// next returns the next complete record without its newline, or io.EOF when
// none is complete yet. bufio.Reader does not latch EOF, so next can be
// called again after the file grows.
func (fw *forward) next() ([]byte, error) {
	b, err := fw.r.ReadBytes('\n')
	if err != nil {
		fw.pending = append(fw.pending, b...)
		return nil, err
	}
	if len(fw.pending) > 0 {
		b = append(fw.pending, b...)
		fw.pending = nil
	}
	return b[:len(b)-1], nil
}

// rest returns the incomplete trailing record, if any.
func (fw *forward) rest() []byte {
	r := fw.pending
	fw.pending = nil
	return r
}

// backward reads the records of f[0:end) from the last to the first.
type backward struct {
	f   *os.File
	off int64  // file offset of buf[0]
	buf []byte // f[off:end'), holding whole records only at its end
}

const backChunk = 64 << 10

func newBackward(f *os.File, end int64) *backward {
	return &backward{f: f, off: end}
}

// prev returns the previous record without its newline, or io.EOF at the
// start of the file.
func (b *backward) prev() ([]byte, error) {
	for {
		if len(b.buf) == 0 && b.off == 0 {
			return nil, io.EOF
		}
		body := b.buf
		if n := len(body); n > 0 && body[n-1] == '\n' {
			body = body[:n-1]
		}
		if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
			line := body[i+1:]
			b.buf = b.buf[:i+1]
			return line, nil
		}
		if b.off == 0 {
			b.buf = nil
			return body, nil
		}
		n := min(int64(backChunk), b.off)
		chunk := make([]byte, n, int(n)+len(b.buf))
		if _, err := b.f.ReadAt(chunk, b.off-n); err != nil && err != io.EOF {
			return nil, err
		}
		b.off -= n
		b.buf = append(chunk, b.buf...)
	}
}

// completeEnd returns the offset just past the last newline in f[0:size), so
// that a record being written is left for a follower.
func completeEnd(f *os.File, size int64) (int64, error) {
	end := size
	buf := make([]byte, 4096)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}
