package webhook

import (
	"errors"
	"net/http"
	"strings"
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

// TestWorkerPanic: a review that panics on a worker panics in the
// request's goroutine, where net/http recovers it and resets only that
// request; before, it ended the process, and every review in flight
// with it. The worker keeps serving.
func TestWorkerPanic(t *testing.T) {
	p := newWorkers(2)
	got := func() (v any) {
		defer func() { v = recover() }()
		p.run(func() { panic("boom") })
		return nil
	}()
	wp, ok := got.(workerPanic)
	if !ok || wp.value != "boom" || !strings.Contains(wp.String(), "TestWorkerPanic") {
		t.Fatalf("run of a panicking job panicked with %v, want workerPanic{boom} with the worker's stack", got)
	}
	func() {
		defer func() {
			if v := recover(); !errors.Is(v.(error), http.ErrAbortHandler) {
				t.Errorf("run of a job aborting its request panicked with %v, want http.ErrAbortHandler itself", v)
			}
		}()
		p.run(func() { panic(http.ErrAbortHandler) })
	}()
	ran := false
	p.run(func() { ran = true })
	if !ran || p.inflight.Load() != 0 {
		t.Errorf("after the panics: ran %v, %d in flight; want the next job run and none in flight", ran, p.inflight.Load())
	}
}
