package webhook

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// workerIdle is how long a worker waits for another review before it
// ends.
const workerIdle = 30 * time.Second

// workers runs reviews on goroutines that outlive them. Each HTTP/2
// request has a goroutine of its own, whose stack starts small: decoding
// a pod and deciding it go deep enough that the runtime grew (copied) that
// stack several times per review, some 8% of the server's CPU. A worker
// keeps the stack the previous review grew. Workers are started when
// there are fewer of them than reviews in flight and end when idle, so
// there are never more of them than reviews in flight at the peak
// (Config.MaxInflight bounds those).
type workers struct {
	jobs              chan func()
	inflight, started atomic.Int64
}

// newWorkers returns workers for at most max reviews at once.
func newWorkers(max int) *workers { return &workers{jobs: make(chan func(), max)} }

// run runs job on a worker and returns when it is done. A panic of job
// is the caller's, as it was when the request's own goroutine decided:
// net/http recovers it there and resets that one request, while on the
// worker it ended the whole process, every review in flight with it.
func (p *workers) run(job func()) {
	done := make(chan struct{})
	var panicked any
	p.jobs <- func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				panicked = workerPanic{v, debug.Stack()}
				if v == http.ErrAbortHandler {
					panicked = v
				}
			}
		}()
		job()
	}
	n := p.inflight.Add(1)
	defer p.inflight.Add(-1)
	// The job is queued before the workers are counted: a worker that
	// ends meanwhile sees it queued and stays (work).
	for s := p.started.Load(); s < n; s = p.started.Load() {
		if p.started.CompareAndSwap(s, s+1) {
			go p.work()
			break
		}
	}
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

// workerPanic is a job's panic with the worker's stack, where it
// happened, for the server's log.
type workerPanic struct {
	value any
	stack []byte
}

func (w workerPanic) String() string { return fmt.Sprintf("%v\n%s", w.value, w.stack) }

// work runs jobs until it has been idle for workerIdle with none queued.
func (p *workers) work() {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case f := <-p.jobs:
			f()
		case <-idle.C:
			p.started.Add(-1)
			if len(p.jobs) == 0 {
				return
			}
			p.started.Add(1)
		}
		idle.Reset(workerIdle)
	}
}
