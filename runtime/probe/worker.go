package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime/probe/netprobe"
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
	// State, if set, is where the probe stands (see Snapshot), for a
	// worker that goes on from another's: its start is not reported.
	State *netprobe.State
	// FirstAt, if set, is when the first attempt is due (see Snapshot);
	// at once if zero.
	FirstAt time.Time
}

// Worker probes one container periodically, as the kubelet's prober worker.
type Worker struct {
	kind     Kind
	probe    corev1.Probe // defaulted
	target   Target
	onChange func(Result)
	opts     WorkerOptions

	mu    sync.Mutex
	state netprobe.State
	next  time.Time // when the next attempt is due
}

// NewWorker returns a worker for probe p of kind against t. onChange is
// called, from Run's goroutine, each time the state changes. The state
// starts as the kubelet's: Failure (not ready) for readiness, Success for
// liveness, Unknown for startup; that start is not reported.
func NewWorker(kind Kind, p *corev1.Probe, t Target, onChange func(Result), opts WorkerOptions) (*Worker, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: %s probe is nil", ErrInvalidProbe, kind)
	}
	pr, err := Defaulted(kind, p)
	if err != nil {
		return nil, err
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
	w := &Worker{kind: kind, probe: pr, target: t, onChange: onChange, opts: opts, state: netprobe.Initial(kind), next: opts.FirstAt}
	if opts.State != nil {
		w.state = *opts.State
	}
	return w, nil
}

// Defaulted is p with the API server's defaults filled in, checked as it
// checks them.
func Defaulted(kind Kind, p *corev1.Probe) (corev1.Probe, error) {
	if p == nil {
		return corev1.Probe{}, fmt.Errorf("%w: %s probe is nil", ErrInvalidProbe, kind)
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
		return pr, fmt.Errorf("%w: %s probe has a negative field", ErrInvalidProbe, kind)
	case kind != Readiness && pr.SuccessThreshold != 1:
		return pr, fmt.Errorf("%w: %s probe successThreshold must be 1", ErrInvalidProbe, kind)
	}
	return pr, nil
}

// Result returns the current state.
func (w *Worker) Result() Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state.Result
}

// Snapshot returns where the probe stands and when its next attempt is
// due (zero: at once), for another worker or podsec-monitor to go on
// from (WorkerOptions.State and FirstAt). Take it once Run has returned.
func (w *Worker) Snapshot() (netprobe.State, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state, w.next
}

// Run probes at once and then every periodSeconds until ctx ends. It also
// returns after a liveness or startup probe is reported failed (the kubelet
// holds such a worker until the container restarts: start a new Worker for
// the new container) and after a startup probe succeeds (it is not run
// again).
func (w *Worker) Run(ctx context.Context) {
	if d := time.Until(w.opts.FirstAt); !w.opts.FirstAt.IsZero() && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
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
	now := w.opts.Now()
	w.mu.Lock()
	w.next = now.Add(time.Duration(w.probe.PeriodSeconds) * time.Second)
	w.mu.Unlock()
	// The kubelet compares whole seconds since the container started, on
	// each tick, so the first probe comes on the first tick past the delay.
	if int32(now.Sub(w.opts.StartedAt).Seconds()) < w.probe.InitialDelaySeconds {
		return true
	}
	res, out := w.opts.Prober(ctx, &w.probe, w.target)
	if ctx.Err() != nil {
		// Not counted: whoever goes on from here makes it again at once.
		w.mu.Lock()
		w.next = now
		w.mu.Unlock()
		return false
	}
	if w.opts.OnProbe != nil {
		w.opts.OnProbe(res, out)
	}
	w.mu.Lock()
	changed, more := w.state.Observe(res, w.kind, w.probe.SuccessThreshold, w.probe.FailureThreshold)
	r := w.state.Result
	w.mu.Unlock()
	if changed {
		w.onChange(r)
	}
	return more
}
