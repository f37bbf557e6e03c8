package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ErrInvalidProbe is wrapped by NewWorker for a probe the API server would
// have refused.
var ErrInvalidProbe = errors.New("invalid probe")

// Probe defaults, as the API server fills them in.
const (
	DefaultPeriodSeconds    = 10
	DefaultTimeoutSeconds   = 1
	DefaultSuccessThreshold = 1
	DefaultFailureThreshold = 3
)

// WorkerOptions replace a Worker's clock and prober, for tests and for
// reporting each attempt.
type WorkerOptions struct {
	// Ticker returns a channel ticking every d and a func stopping it;
	// time.NewTicker if nil.
	Ticker func(d time.Duration) (<-chan time.Time, func())
	// Now is the clock InitialDelaySeconds is measured on; time.Now if nil.
	Now func() time.Time
	// StartedAt is when the container started; Now() when Run starts if
	// zero.
	StartedAt time.Time
	// Prober makes one attempt; Do if nil.
	Prober func(ctx context.Context, p *corev1.Probe, t Target) (Result, string)
	// OnProbe, if set, is called with every attempt's result and output,
	// for events such as "Readiness probe failed: ...".
	OnProbe func(Result, string)
}

// Worker probes one container periodically, as the kubelet's prober worker.
type Worker struct {
	kind     Kind
	probe    corev1.Probe // defaulted
	target   Target
	onChange func(Result)
	opts     WorkerOptions

	lastResult Result // the last attempt's, Warning folded into Success
	resultRun  int    // how many attempts in a row gave lastResult

	mu     sync.Mutex
	result Result
}

// NewWorker returns a worker for probe p of kind against t. onChange is
// called, from Run's goroutine, each time the state changes. The state
// starts as the kubelet's: Failure (not ready) for readiness, Success for
// liveness, Unknown for startup; that start is not reported.
func NewWorker(kind Kind, p *corev1.Probe, t Target, onChange func(Result), opts WorkerOptions) (*Worker, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: %s probe is nil", ErrInvalidProbe, kind)
	}
	pr := *p
	if pr.PeriodSeconds == 0 {
		pr.PeriodSeconds = DefaultPeriodSeconds
	}
	if pr.TimeoutSeconds == 0 {
		pr.TimeoutSeconds = DefaultTimeoutSeconds
	}
	if pr.SuccessThreshold == 0 {
		pr.SuccessThreshold = DefaultSuccessThreshold
	}
	if pr.FailureThreshold == 0 {
		pr.FailureThreshold = DefaultFailureThreshold
	}
	switch {
	case pr.InitialDelaySeconds < 0, pr.PeriodSeconds < 0, pr.TimeoutSeconds < 0,
		pr.SuccessThreshold < 0, pr.FailureThreshold < 0:
		return nil, fmt.Errorf("%w: %s probe has a negative field", ErrInvalidProbe, kind)
	case kind != Readiness && pr.SuccessThreshold != 1:
		return nil, fmt.Errorf("%w: %s probe successThreshold must be 1", ErrInvalidProbe, kind)
	}
	if opts.Ticker == nil {
		opts.Ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Prober == nil {
		opts.Prober = Do
	}
	if onChange == nil {
		onChange = func(Result) {}
	}
	w := &Worker{kind: kind, probe: pr, target: t, onChange: onChange, opts: opts}
	switch kind {
	case Readiness:
		w.result = Failure
	case Liveness:
		w.result = Success
	default:
		w.result = Unknown
	}
	return w, nil
}

// Result returns the current state.
func (w *Worker) Result() Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.result
}

// Run probes at once and then every periodSeconds until ctx ends. It also
// returns after a liveness or startup probe is reported failed (the kubelet
// holds such a worker until the container restarts: start a new Worker for
// the new container) and after a startup probe succeeds (it is not run
// again).
func (w *Worker) Run(ctx context.Context) {
	tick, stop := w.opts.Ticker(time.Duration(w.probe.PeriodSeconds) * time.Second)
	defer stop()
	if w.opts.StartedAt.IsZero() {
		w.opts.StartedAt = w.opts.Now()
	}
	for w.attempt(ctx) {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// attempt is the kubelet's doProbe; it returns whether to keep probing.
func (w *Worker) attempt(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	// The kubelet compares whole seconds since the container started, on
	// each tick, so the first probe comes on the first tick past the delay.
	if int32(w.opts.Now().Sub(w.opts.StartedAt).Seconds()) < w.probe.InitialDelaySeconds {
		return true
	}
	res, out := w.opts.Prober(ctx, &w.probe, w.target)
	if ctx.Err() != nil {
		return false
	}
	if w.opts.OnProbe != nil {
		w.opts.OnProbe(res, out)
	}
	switch res {
	case Success, Warning:
		res = Success
	case Failure:
	default:
		return true // a probe error: the kubelet throws the result away
	}
	if w.lastResult == res {
		w.resultRun++
	} else {
		w.lastResult, w.resultRun = res, 1
	}
	if (res == Failure && w.resultRun < int(w.probe.FailureThreshold)) ||
		(res == Success && w.resultRun < int(w.probe.SuccessThreshold)) {
		return true
	}
	w.set(res)
	switch {
	case w.kind != Readiness && res == Failure:
		return false
	case w.kind == Startup && res == Success:
		return false
	}
	return true
}

func (w *Worker) set(r Result) {
	w.mu.Lock()
	changed := w.result != r
	w.result = r
	w.mu.Unlock()
	if changed {
		w.onChange(r)
	}
}
