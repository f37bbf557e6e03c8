package logs

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// Pump copies a container's stdout and stderr pipes into its CRI log
// file. A supervisor hands the pipes from one process image to the next
// (Detach), so the copying goes on without the container noticing.
type Pump struct {
	w      *Writer
	files  [2]*os.File
	done   chan struct{}
	stopMu sync.Mutex
	closed bool
}

// NewPump opens the log file at path and copies the read ends stdout and
// stderr (pipes the Pump owns from now on) into it until both end.
func NewPump(path string, stdout, stderr *os.File, opts WriterOptions) (*Pump, error) {
	w, err := NewWriter(path, opts)
	if err != nil {
		return nil, err
	}
	p := &Pump{w: w, files: [2]*os.File{stdout, stderr}, done: make(chan struct{})}
	var wg sync.WaitGroup
	for i, name := range []string{Stdout, Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			copyUntil(w.Stream(name), p.files[i])
		}()
	}
	go func() { wg.Wait(); close(p.done) }()
	return p, nil
}

// copyUntil copies r to w until r ends, fails or reaches its deadline.
func copyUntil(w io.Writer, r *os.File) {
	// A pipe's page at a time: a watcher per pod keeps two of these.
	buf := make([]byte, 4<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Finish waits until both pipes end (the container and all its
// processes are gone) or wait has passed, then stops copying and closes
// the pipes and the log file, partial lines written as partial records.
// It may be called more than once.
func (p *Pump) Finish(wait time.Duration) error {
	select {
	case <-p.done:
	case <-time.After(wait):
	}
	files, err := p.stop()
	if files[0] != nil {
		files[0].Close()
		files[1].Close()
	}
	return err
}

// Detach stops copying, without losing what was read, closes the log
// file and gives the pipes back, to be copied on by a new Pump.
func (p *Pump) Detach() (stdout, stderr *os.File, err error) {
	files, err := p.stop()
	if files[0] == nil {
		return nil, nil, errors.New("detaching a log pump: already stopped")
	}
	// The read ends go on: clear the deadline that stopped the copy.
	for _, f := range files {
		f.SetReadDeadline(time.Time{})
	}
	return files[0], files[1], err
}

func (p *Pump) stop() ([2]*os.File, error) {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if p.closed {
		return [2]*os.File{}, nil
	}
	p.closed = true
	for _, f := range p.files {
		// A pipe made by os.Pipe is non-blocking in the poller: the
		// deadline ends a Read that waits.
		f.SetReadDeadline(time.Now())
	}
	<-p.done
	return p.files, p.w.Close()
}
