package main

import (
	"time"

	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// probers run the probes the supervisor handed over: one goroutine each,
// living as long as the monitor, with its own copy of the probe, making
// an attempt when told (at most one in flight) and sending the probe back
// after it. An attempt blocks its goroutine in poll(2), never the loop.
// Nothing is allocated per attempt, so the monitor's heap stays as it
// is: no collection runs for the probes.
type probers struct {
	specs    []*netprobe.Spec // the loop's copies, as of the last attempt
	due      []chan time.Time
	results  chan stepped
	inflight []bool
	ended    []bool
}

// stepped is a probe after an attempt.
type stepped struct {
	i    int
	spec netprobe.Spec
	more bool
}

func startProbers(specs []*netprobe.Spec) *probers {
	p := &probers{specs: specs, results: make(chan stepped, len(specs)),
		inflight: make([]bool, len(specs)), ended: make([]bool, len(specs))}
	for i, s := range specs {
		due := make(chan time.Time, 1)
		p.due = append(p.due, due)
		go func(s netprobe.Spec) {
			for now := range due {
				more := s.Step(now)
				p.results <- stepped{i, s, more}
			}
		}(*s)
	}
	return p
}

// start starts the attempts due at now and returns the earliest of next
// and the next attempt due (zero: none).
func (p *probers) start(now, next time.Time) time.Time {
	for i, s := range p.specs {
		switch {
		case p.ended[i] || p.inflight[i]:
		case !s.Next.After(now):
			p.inflight[i] = true
			p.due[i] <- now
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
	return r.spec.Changed || r.spec.Handback
}
