package supervisor

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime/probe"
	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// pausedProbe is a probe worker stopped for a hand-off, and where it
// stood: what podsec-monitor goes on with.
type pausedProbe struct {
	run  *probeRun
	spec netprobe.Spec
}

// probesWatchable reports whether podsec-monitor can run every probe
// that runs: tcpSocket and http httpGet probes to an IP address (see
// probe.Plain), and no kill pending after a probe failure (its SIGKILL
// timer lives in this process). The caller holds mu.
func (sv *supervisor) probesWatchable() bool {
	for _, c := range sv.ctrs {
		if c.killing {
			return false
		}
		if !c.running {
			continue
		}
		for _, r := range c.probes {
			if r.plainErr != nil && !ended(r) {
				return false
			}
		}
	}
	return true
}

func ended(r *probeRun) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// pauseProbes stops the probe workers of the running containers and
// returns where each stood, and the changes any reported meanwhile: then
// the pod is not handed off, and the caller acts on them.
func (sv *supervisor) pauseProbes() (paused []pausedProbe, changes []probeEvent) {
	sv.mu.Lock()
	for name, c := range sv.ctrs {
		if !c.running {
			continue
		}
		for _, r := range c.probes {
			if !ended(r) {
				paused = append(paused, pausedProbe{run: r, spec: r.plain})
				paused[len(paused)-1].spec.Container = name
				paused[len(paused)-1].spec.StartedAt = c.startedAt
			}
		}
		c.probes = nil
	}
	sv.mu.Unlock()
	for _, p := range paused {
		p.run.cancel()
	}
	now := time.Now()
	for i := range paused {
		p := &paused[i]
		for running := true; running; {
			// A worker reporting a change waits for the channel.
			select {
			case <-p.run.done:
				running = false
			case pe := <-sv.probes:
				changes = append(changes, pe)
			}
		}
		st, next := p.run.w.Snapshot()
		if next.IsZero() {
			next = now
		}
		p.spec.Attempt, p.spec.State, p.spec.Next = p.run.attempt, st, next
	}
	// All stopped: what they sent is queued.
	for {
		select {
		case pe := <-sv.probes:
			changes = append(changes, pe)
		default:
			return paused, changes
		}
	}
}

// unpauseProbes starts the paused workers again from where they stood,
// for the containers' same start.
func (sv *supervisor) unpauseProbes(paused []pausedProbe) {
	for _, p := range paused {
		sv.restartProbe(p.run.ctx, p.spec)
	}
}

// restartProbe starts a worker for the probe s describes, from where it
// stood, unless it has ended (a failed liveness or startup probe, a
// startup probe that passed) or its container's start is over.
func (sv *supervisor) restartProbe(ctx context.Context, s netprobe.Spec) {
	if ctx.Err() != nil || (s.Kind != probe.Readiness && s.Result == probe.Failure) || (s.Kind == probe.Startup && s.Result == probe.Success) {
		return
	}
	sv.mu.Lock()
	c := sv.ctrs[s.Container]
	same := c != nil && c.running && c.attempt == s.Attempt
	var spec corev1.Container
	if same {
		spec = sv.pod.Spec.Containers[c.idx]
	}
	sv.mu.Unlock()
	if p := kindProbe(spec, s.Kind); same && p != nil {
		sv.runProbe(ctx, spec, s.Attempt, s.Kind, p, &s)
	}
}

func kindProbe(c corev1.Container, k probe.Kind) *corev1.Probe {
	switch k {
	case probe.Liveness:
		return c.LivenessProbe
	case probe.Readiness:
		return c.ReadinessProbe
	case probe.Startup:
		return c.StartupProbe
	}
	return nil
}

// resumeProbes goes on with the probes podsec-monitor ran (ctxs: the
// running containers' probe contexts) and returns the changes they
// reported. A probe the monitor could not judge (an HTTP redirect) is
// the supervisor's from then on, and the pod stays with it.
func (sv *supervisor) resumeProbes(ctxs map[string]context.Context, specs []netprobe.Spec) (changes []probeEvent, handback bool) {
	for _, s := range specs {
		ctx := ctxs[s.Container]
		if ctx == nil {
			continue
		}
		if s.Handback {
			handback = true
			s.Next = time.Time{}
			sv.event("Normal", "ProbeWatched", fmt.Sprintf("%s probe of container %s redirects: the supervisor runs it", s.Kind, s.Container))
		}
		if s.Changed {
			changes = append(changes, probeEvent{name: s.Container, attempt: s.Attempt, kind: s.Kind, result: s.Result})
		}
		sv.restartProbe(ctx, s)
	}
	if handback {
		sv.hand.Monitor = ""
	}
	// A running container whose probes did not come back (the monitor
	// could not write them) has them start again, as after a start.
	for name, ctx := range ctxs {
		sv.mu.Lock()
		c := sv.ctrs[name]
		fresh := c.running && len(c.probes) == 0
		spec := sv.pod.Spec.Containers[c.idx]
		sv.mu.Unlock()
		if fresh && !returned(specs, name) {
			sv.startProbes(ctx, spec)
		}
	}
	return changes, handback
}

func returned(specs []netprobe.Spec, name string) bool {
	for _, s := range specs {
		if s.Container == name {
			return true
		}
	}
	return false
}
