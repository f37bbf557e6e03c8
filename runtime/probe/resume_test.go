package probe

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// TestWorkerGoesOn: a worker started from another's standing (as the
// supervisor does when it takes a pod back from podsec-monitor) counts
// on from there, and its standing is what Snapshot gives.
func TestWorkerGoesOn(t *testing.T) {
	tests := []struct {
		name        string
		kind        Kind
		from        netprobe.State
		script      []Result
		wantChanges []Result
		want        netprobe.State
	}{
		{name: "two failures of three already counted", kind: Liveness, from: netprobe.State{Result: S, Last: F, Run: 2},
			script: []Result{F}, wantChanges: []Result{F}, want: netprobe.State{Result: F, Last: F, Run: 3}},
		{name: "ready stays ready, not reported again", kind: Readiness, from: netprobe.State{Result: S, Last: S, Run: 7},
			script: []Result{S, F}, wantChanges: nil, want: netprobe.State{Result: S, Last: F, Run: 1}},
		{name: "not ready after a flip", kind: Readiness, from: netprobe.State{Result: F, Last: F, Run: 3},
			script: []Result{S}, wantChanges: []Result{S}, want: netprobe.State{Result: S, Last: S, Run: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := tc.from
			var w *Worker
			changes, _, _ := runWith(t, tc.kind, &corev1.Probe{}, tc.script, WorkerOptions{State: &from}, len(tc.script), &w)
			st, next := w.Snapshot()
			if !slices.Equal(changes, tc.wantChanges) || st != tc.want {
				t.Errorf("worker from %+v on %v: changes %v, standing %+v; want %v, %+v", tc.from, tc.script, changes, st, tc.wantChanges, tc.want)
			}
			if next.IsZero() {
				t.Errorf("Snapshot after attempts: next attempt at zero time")
			}
		})
	}
}

// TestWorkerFirstAt: a worker handed a due time makes no attempt before.
func TestWorkerFirstAt(t *testing.T) {
	calls := 0
	w, err := NewWorker(Readiness, &corev1.Probe{}, Target{}, nil, WorkerOptions{
		FirstAt: time.Now().Add(time.Hour),
		Prober: func(ctx context.Context, p *corev1.Probe, t Target) (Result, string) {
			calls++
			return Success, ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	cancel()
	<-done
	if st, next := w.Snapshot(); calls != 0 || st != netprobe.Initial(Readiness) || next.Before(time.Now().Add(59*time.Minute)) {
		t.Errorf("worker due in an hour, cancelled: %d attempts, standing %+v, next %v; want none, the initial, in an hour", calls, st, next)
	}
}
