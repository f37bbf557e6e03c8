package supervisor

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime/probe"
	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// probeEvent is a probe's change of result for one start of a container.
type probeEvent struct {
	name    string
	attempt int
	kind    probe.Kind
	result  probe.Result
}

// startProbes runs the container's probes for this start of it: the
// startup probe first; liveness and readiness once it has passed, as the
// kubelet does.
func (sv *supervisor) startProbes(ctx context.Context, c corev1.Container) {
	sv.mu.Lock()
	st := sv.ctrs[c.Name]
	attempt, started := st.attempt, st.started
	sv.mu.Unlock()
	if c.StartupProbe != nil {
		sv.runProbe(ctx, c, attempt, probe.Startup, c.StartupProbe, nil)
	}
	if started {
		sv.startLiveReady(ctx, c, attempt)
	}
}

func (sv *supervisor) startLiveReady(ctx context.Context, c corev1.Container, attempt int) {
	if c.LivenessProbe != nil {
		sv.runProbe(ctx, c, attempt, probe.Liveness, c.LivenessProbe, nil)
	}
	if c.ReadinessProbe != nil {
		sv.runProbe(ctx, c, attempt, probe.Readiness, c.ReadinessProbe, nil)
	}
}

// probeRun is a running probe worker of one start of a container.
type probeRun struct {
	ctx     context.Context // the container start's
	kind    probe.Kind
	attempt int
	w       *probe.Worker
	cancel  context.CancelFunc // pauses it (see pauseProbes)
	done    chan struct{}      // closed when its Run returns
	// plain is what podsec-monitor runs of it, if plainErr is nil.
	plain    netprobe.Spec
	plainErr error
}

// runProbe starts a probe worker for this start of the container (ctx
// ends with it), from where another left it if from is set.
func (sv *supervisor) runProbe(ctx context.Context, c corev1.Container, attempt int, kind probe.Kind, p *corev1.Probe, from *netprobe.Spec) {
	sv.mu.Lock()
	target := probe.Target{PodIP: sv.status.PodIP, HostNetwork: !sv.p.Plan().Sandbox.Net, Ports: c.Ports,
		Exec: func(ctx context.Context, cmd []string) (int, []byte, error) { return sv.execIn(ctx, c.Name, cmd) }}
	sv.mu.Unlock()
	name := c.Name
	opts := probe.WorkerOptions{StartedAt: sv.ctrStartedAt(name)}
	if from != nil {
		st := from.State
		opts.State, opts.FirstAt = &st, from.Next
	}
	w, err := probe.NewWorker(kind, p, target, func(r probe.Result) {
		// Sent even while the worker is paused: a change is never lost
		// (pauseProbes takes it); only the container's end drops it.
		select {
		case sv.probes <- probeEvent{name: name, attempt: attempt, kind: kind, result: r}:
		case <-ctx.Done():
		}
	}, opts)
	if err != nil {
		sv.event("Warning", "Unhealthy", fmt.Sprintf("probe of container %s: %v", name, err))
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	run := &probeRun{ctx: ctx, kind: kind, attempt: attempt, w: w, cancel: cancel, done: make(chan struct{})}
	run.plain, run.plainErr = probe.Plain(kind, p, target)
	sv.mu.Lock()
	sv.ctrs[name].probes = append(sv.ctrs[name].probes, run)
	sv.mu.Unlock()
	go func() {
		defer close(run.done)
		w.Run(wctx)
	}()
}

func (sv *supervisor) ctrStartedAt(name string) time.Time {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.ctrs[name].startedAt
}

// probed acts on a probe's change: readiness sets Ready; a failed
// liveness or startup probe kills the container, which then restarts by
// the pod's restartPolicy.
func (sv *supervisor) probed(pe probeEvent) {
	sv.mu.Lock()
	c := sv.ctrs[pe.name]
	if c.attempt != pe.attempt || !c.running {
		sv.mu.Unlock()
		return
	}
	st := &sv.status.ContainerStatuses[c.idx]
	spec := sv.pod.Spec.Containers[c.idx]
	ok := pe.result == probe.Success || pe.result == probe.Warning
	var startLive bool
	switch pe.kind {
	case probe.Readiness:
		c.ready = ok && c.started
		st.Ready = c.ready
	case probe.Startup:
		if ok && !c.started {
			c.started, startLive = true, true
			st.Started = ptr(true)
			c.ready = spec.ReadinessProbe == nil
			st.Ready = c.ready
		}
	}
	sv.updatePhase()
	attempt := c.attempt
	sv.mu.Unlock()
	if startLive {
		ctx, cancel := context.WithCancel(context.Background())
		sv.mu.Lock()
		old := c.cancel
		c.cancel = func() { cancel(); old() }
		sv.mu.Unlock()
		sv.startLiveReady(ctx, spec, attempt)
	}
	if ok || pe.kind == probe.Readiness {
		if !ok {
			sv.event("Warning", "Unhealthy", fmt.Sprintf("Readiness probe failed for container %s", pe.name))
		}
		return
	}
	what := map[probe.Kind]string{probe.Liveness: "liveness", probe.Startup: "startup"}[pe.kind]
	sv.event("Warning", "Unhealthy", fmt.Sprintf("%s probe failed for container %s", capitalize(what), pe.name))
	sv.event("Normal", "Killing", fmt.Sprintf("Container %s failed %s probe, will be restarted", pe.name, what))
	sv.kill(pe.name, attempt)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
