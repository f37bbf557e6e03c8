package webhook

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestWorkers: every job runs once, on no more workers than jobs were in
// flight at once, and reviews one after another reuse one worker.
func TestWorkers(t *testing.T) {
	p := newWorkers(8)
	var ran atomic.Int64
	for range 1000 {
		p.run(func() { ran.Add(1) })
	}
	if got := p.started.Load(); got != 1 {
		t.Errorf("%d workers after 1000 jobs one at a time, want 1", got)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				p.run(func() { ran.Add(1) })
			}
		})
	}
	wg.Wait()
	if got := ran.Load(); got != 9000 {
		t.Errorf("%d jobs ran, want 9000", got)
	}
	if got := p.started.Load(); got < 1 || got > 8 {
		t.Errorf("%d workers after jobs from 8 goroutines, want 1 to 8", got)
	}
}
