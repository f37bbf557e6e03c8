package probe

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// run drives a Worker whose prober answers script in order (Unknown after
// it) on a fake ticker. Every tick send waits for the worker to come back
// to its select, so the attempt before it has finished: no timing involved.
// It returns the reported changes, the number of prober calls, and whether
// Run returned by itself.
func run(t *testing.T, kind Kind, p *corev1.Probe, script []Result, opts WorkerOptions, ticks int) ([]Result, int, bool) {
	t.Helper()
	return runWith(t, kind, p, script, opts, ticks, nil)
}

// runWith is run, keeping the worker in *w if w is set.
func runWith(t *testing.T, kind Kind, p *corev1.Probe, script []Result, opts WorkerOptions, ticks int, keep **Worker) ([]Result, int, bool) {
	t.Helper()
	var mu sync.Mutex
	var changes []Result
	calls := 0
	synced := false // after the last tick: probes are not counted
	tick := make(chan time.Time)
	opts.Ticker = func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }
	opts.Prober = func(context.Context, *corev1.Probe, Target) (Result, string) {
		mu.Lock()
		defer mu.Unlock()
		if synced {
			return Unknown, ""
		}
		calls++
		if calls <= len(script) {
			return script[calls-1], ""
		}
		return Unknown, ""
	}
	w, err := NewWorker(kind, p, Target{}, func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, r)
	}, opts)
	if err != nil {
		t.Fatalf("NewWorker(%v) = %v", kind, err)
	}
	if keep != nil {
		*keep = w
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	early := false
	timeout := time.After(10 * time.Second)
send:
	for range ticks {
		select {
		case tick <- time.Time{}:
		case <-done:
			early = true
			break send
		case <-timeout:
			t.Fatal("worker stuck for 10s")
		}
	}
	// The last tick's attempt may still run: cancelling now would drop
	// it. One more tick is taken only once the worker is back waiting;
	// its probe (thrown away as an error) is not counted.
	if !early {
		mu.Lock()
		synced = true
		mu.Unlock()
		select {
		case tick <- time.Time{}:
		case <-done:
		case <-timeout:
			t.Fatal("worker stuck for 10s")
		}
	}
	cancel()
	select {
	case <-done:
	case <-timeout:
		t.Fatal("Run did not return within 10s of cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(changes); n > 0 && w.Result() != changes[n-1] {
		t.Errorf("Result() = %v, want the last change %v", w.Result(), changes[n-1])
	}
	return changes, calls, early
}

const (
	S = Success
	W = Warning
	F = Failure
	U = Unknown
)

func TestWorkerThresholds(t *testing.T) {
	tests := []struct {
		name        string
		kind        Kind
		success     int32
		failure     int32
		script      []Result
		wantChanges []Result
		wantEarly   bool
	}{
		{name: "readiness starts not ready, one success flips", kind: Readiness, script: []Result{F, S}, wantChanges: []Result{S}},
		{name: "readiness failures under threshold", kind: Readiness, script: []Result{S, F, F, S, F, F}, wantChanges: []Result{S}},
		{name: "readiness failure threshold", kind: Readiness, script: []Result{S, F, F, F, F, S}, wantChanges: []Result{S, F, S}},
		{name: "readiness success threshold 2", kind: Readiness, success: 2, script: []Result{S, F, S, S}, wantChanges: []Result{S}},
		{name: "readiness success run broken", kind: Readiness, success: 2, script: []Result{S, F, S}, wantChanges: nil},
		{name: "warning is success", kind: Readiness, script: []Result{W}, wantChanges: []Result{S}},
		{name: "unknown neither counts nor resets", kind: Readiness, failure: 2, script: []Result{S, F, U, F}, wantChanges: []Result{S, F}},
		{name: "liveness starts alive, success not reported", kind: Liveness, script: []Result{S, S, F, F, S, F, F}, wantChanges: nil},
		{name: "liveness failure stops the worker", kind: Liveness, script: []Result{F, F, F, S}, wantChanges: []Result{F}, wantEarly: true},
		{name: "liveness threshold 1", kind: Liveness, failure: 1, script: []Result{S, F}, wantChanges: []Result{F}, wantEarly: true},
		{name: "startup success stops the worker", kind: Startup, script: []Result{F, F, S, S}, wantChanges: []Result{S}, wantEarly: true},
		{name: "startup failure", kind: Startup, script: []Result{F, F, F}, wantChanges: []Result{F}, wantEarly: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Probe{SuccessThreshold: tc.success, FailureThreshold: tc.failure}
			// len(script) ticks: the first attempt needs none, the last
			// tick only confirms the last attempt finished.
			changes, _, early := run(t, tc.kind, p, tc.script, WorkerOptions{}, len(tc.script))
			if !slices.Equal(changes, tc.wantChanges) || early != tc.wantEarly {
				t.Errorf("%v worker on %v: changes %v, returned early %v; want %v, %v",
					tc.kind, tc.script, changes, early, tc.wantChanges, tc.wantEarly)
			}
		})
	}
}

func TestWorkerInitialDelay(t *testing.T) {
	// The clock moves 10 s per attempt; with a 25 s delay the attempts at
	// 0, 10 and 20 s are skipped, as the kubelet skips ticks before it.
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var mu sync.Mutex
	opts := WorkerOptions{
		StartedAt: start,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			t := now
			now = now.Add(10 * time.Second)
			return t
		},
	}
	p := &corev1.Probe{InitialDelaySeconds: 25}
	changes, calls, _ := run(t, Readiness, p, []Result{S, S}, opts, 5)
	if calls != 3 || !slices.Equal(changes, []Result{S}) {
		t.Errorf("worker with 25 s delay over 6 attempts: %d probes, changes %v; want 3, [success]", calls, changes)
	}
}

func TestWorkerInitialState(t *testing.T) {
	for kind, want := range map[Kind]Result{Readiness: Failure, Liveness: Success, Startup: Unknown} {
		w, err := NewWorker(kind, &corev1.Probe{}, Target{}, nil, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Result(); got != want {
			t.Errorf("NewWorker(%v).Result() = %v, want %v", kind, got, want)
		}
	}
}

func TestNewWorkerInvalid(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		p    *corev1.Probe
	}{
		{"nil probe", Readiness, nil},
		{"liveness success threshold", Liveness, &corev1.Probe{SuccessThreshold: 2}},
		{"startup success threshold", Startup, &corev1.Probe{SuccessThreshold: 3}},
		{"negative period", Readiness, &corev1.Probe{PeriodSeconds: -1}},
	}
	for _, tc := range tests {
		if _, err := NewWorker(tc.kind, tc.p, Target{}, nil, WorkerOptions{}); !errors.Is(err, ErrInvalidProbe) {
			t.Errorf("NewWorker(%s) = %v, want ErrInvalidProbe", tc.name, err)
		}
	}
}
