package webhook

import "time"

// workerIdle is how long a worker waits for another review before it
// ends.
const workerIdle = 30 * time.Second

// workers runs reviews on goroutines that outlive them. Each HTTP/2
// request has a goroutine of its own, whose stack starts small: decoding
// a pod and deciding it go deep enough that the runtime grew (copied) that
// stack several times per review, some 8% of the server's CPU. A worker
// keeps the stack the previous review grew. Workers are started on demand
// and end when idle, so there are never more of them than reviews in
// flight at the peak (Config.MaxInflight bounds those).
type workers struct {
	jobs chan func()
}

func newWorkers() *workers { return &workers{jobs: make(chan func())} }

// run runs job on an idle worker, or a new one, and returns when it is
// done.
func (p *workers) run(job func()) {
	done := make(chan struct{})
	f := func() {
		defer close(done)
		job()
	}
	select {
	case p.jobs <- f:
	default:
		go p.work(f)
	}
	<-done
}

// work runs f, then the jobs given to it until it has been idle for
// workerIdle.
func (p *workers) work(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-p.jobs:
		case <-idle.C:
			return
		}
	}
}
