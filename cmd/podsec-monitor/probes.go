package main

import (
	"time"

	"github.com/podsec/podsec/internal/memtrim"
	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// probers run the probes the supervisor handed over, in one goroutine
// living as long as the monitor, with its own copies of the probes: it
// makes the attempts it is told are due (at most one in flight per
// probe), one after the other, and sends each probe back after its
// attempt. An attempt blocks that goroutine in poll(2), never the loop.
// One goroutine, not one per probe, as each blocked goroutine holds a
// thread and a stack: attempts take well under a millisecond against a
// live server, and one that times out delays the pod's next attempts by
// at most its timeoutSeconds, never their count or their schedule (each
// probe's next attempt is due a period after the last was). Nothing is
// allocated per attempt, so the monitor's heap stays as it is: no
// collection runs for the probes.
type probers struct {
	specs    []*netprobe.Spec // the loop's copies, as of the last attempt
	due      chan dueAttempt
	results  chan stepped
	inflight []bool
	ended    []bool
	tried    []bool // has made an attempt
	fresh    int    // probes without an attempt yet
}

// stepped is a probe after an attempt.
type stepped struct {
	i    int
	spec netprobe.Spec
	more bool
}

// dueAttempt asks for probe i's attempt due at now.
type dueAttempt struct {
	i   int
	now time.Time
}

func startProbers(specs []*netprobe.Spec) *probers {
	p := &probers{specs: specs, due: make(chan dueAttempt, len(specs)), results: make(chan stepped, len(specs)),
		inflight: make([]bool, len(specs)), ended: make([]bool, len(specs)), tried: make([]bool, len(specs)), fresh: len(specs)}
	if len(specs) > 0 {
		own := make([]netprobe.Spec, len(specs))
		for i, s := range specs {
			own[i] = *s
		}
		go p.run(own)
	}
	return p
}

// run makes the attempts it is told are due, on its own copies.
//
// Its frame holds a 9 KiB ballast, so its goroutine's stack grows once,
// here, straight to 16 KiB, with one frame to copy; an attempt (about
// 3 KiB more) never grows it, and the collector never shrinks it (it
// shrinks stacks less than a quarter used). Growing or shrinking a stack
// walks the binary's tables (pclntab) for each frame on it: with the
// kernel's fault-around that maps some 500 KiB of the binary into a
// process that otherwise keeps 25 KiB of them.
func (p *probers) run(specs []netprobe.Spec) {
	var ballast [9 << 10]byte
	hold(&ballast)
	for d := range p.due {
		more := specs[d.i].Step(d.now)
		p.results <- stepped{d.i, specs[d.i], more}
	}
}

// hold keeps b, and so the frame that holds it, as it is.
//
//go:noinline
func hold(b *[9 << 10]byte) { b[0]++ }

// start starts the attempts due at now and returns the earliest of next
// and the next attempt due (zero: none).
func (p *probers) start(now, next time.Time) time.Time {
	for i, s := range p.specs {
		switch {
		case p.ended[i] || p.inflight[i]:
		case !s.Next.After(now):
			p.inflight[i] = true
			p.due <- dueAttempt{i, now}
		case next.IsZero() || s.Next.Before(next):
			next = s.Next
		}
	}
	return next
}

// done takes an attempt's outcome and reports whether the supervisor is
// needed: the probe's result changed, or it could not be judged here.
func (p *probers) done(r stepped) bool {
	p.inflight[r.i], p.ended[r.i] = false, !r.more
	*p.specs[r.i] = r.spec
	if !p.tried[r.i] {
		p.tried[r.i], p.fresh = true, p.fresh-1
		if p.fresh == 0 {
			// What the first attempts mapped of the binary (their code,
			// once) goes, as the start-up's did.
			memtrim.UnmapStatic()
		}
	}
	return r.spec.Changed || r.spec.Handback
}
