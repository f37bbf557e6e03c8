package webhook

import (
	"io"
	"sync"
	"time"
)

// Batching of the server's log.
const (
	// logDelay is the longest a line waits before it is written.
	logDelay = 50 * time.Millisecond
	// logBatchBytes is written at once, without waiting.
	logBatchBytes = 32 << 10
)

// batchLog gathers the lines written to it and writes them to out in
// batches, at most logDelay after the first: a write system call per
// review, to a pipe or a file, cost the server some 3% of its CPU at
// thousands of reviews a second. Lines are written whole, in order.
type batchLog struct {
	mu   sync.Mutex // held while buf is appended to or written out
	buf  []byte
	out  io.Writer
	kick chan struct{}
}

func newBatchLog(out io.Writer) *batchLog {
	return &batchLog{out: out, kick: make(chan struct{}, 1)}
}

// Write appends p; it does not fail: a log that cannot be written must
// not fail the reviews.
func (l *batchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	first := len(l.buf) == 0
	l.buf = append(l.buf, p...)
	if len(l.buf) >= logBatchBytes {
		l.flushLocked()
	}
	l.mu.Unlock()
	if first {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes what is gathered.
func (l *batchLog) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
}

func (l *batchLog) flushLocked() {
	if len(l.buf) > 0 {
		_, _ = l.out.Write(l.buf)
		l.buf = l.buf[:0]
	}
}

// run writes the gathered lines logDelay after the first of each batch
// until stop is closed, then writes the rest.
func (l *batchLog) run(stop <-chan struct{}) {
	wait := time.NewTimer(logDelay)
	wait.Stop()
	defer l.Flush()
	for {
		select {
		case <-stop:
			return
		case <-l.kick:
		}
		wait.Reset(logDelay)
		select {
		case <-stop:
			return
		case <-wait.C:
		}
		l.Flush()
	}
}
