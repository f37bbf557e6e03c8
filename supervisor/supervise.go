package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/netpolsync"
	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/runtime/logs"
)

// NodePortsReason is the status reason of a pod refused because a host
// port it asks for is held (the kubelet's NodePorts admission predicate):
// kubectl shows it as the pod's STATUS.
const NodePortsReason = "NodePorts"

// supervisor keeps one pod running as its restartPolicy says.
type supervisor struct {
	store  *Store
	opts   Options
	pod    *corev1.Pod
	dir    string
	p      *runtime.Pod
	rt     *runtime.Runtime
	mu     sync.Mutex
	status corev1.PodStatus
	ctrs   map[string]*ctrState
	events *os.File
	probes chan probeEvent
	timers chan string
	// pumps copy the running containers' output into their logs.
	pumps map[string]*logs.Pump
	// hand is how the supervisor hands the pod to its monitor.
	hand Handoff
}

// ctrState is what the supervisor tracks of one app container.
type ctrState struct {
	idx       int
	attempt   int
	restarts  int // since the last back-off reset
	running   bool
	waiting   bool // waiting for a restart
	restartAt time.Time
	started   bool // startupProbe passed (or none)
	ready     bool
	cancel    context.CancelFunc
	startedAt time.Time
	// probes are the probe workers of this start.
	probes []*probeRun
	// killing: a probe failure's SIGTERM is sent, its SIGKILL timer runs.
	killing bool
}

// Supervise runs a recorded pod until it has ended by its restartPolicy or
// ctx ends (podsec stop or delete: the pod is then stopped with its grace
// period). It writes "R" to ready once the pod's containers run, or "E"
// and the reason when the pod cannot start. Nothing of the pod is left on
// the node when it returns; its record stays. While the pod only needs
// watching, the supervisor hands it to its monitor (see Handoff): then
// Supervise does not return.
func Supervise(ctx context.Context, root, namespace, name string, images runtime.ImageSource, ready io.Writer, h Handoff) error {
	sv, src, err := load(root, namespace, name, h)
	if err != nil {
		return err
	}
	self, err := runtime.SelfOwner()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(filepath.Join(sv.dir, "supervisor.json"), self); err != nil {
		return err
	}
	if err := sv.openEvents(); err != nil {
		return err
	}
	defer sv.events.Close()
	sv.status.ContainerStatuses = nil
	for _, c := range sv.pod.Spec.Containers {
		sv.status.ContainerStatuses = append(sv.status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image,
			ContainerID: containerID(sv.pod, c.Name), State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}})
	}
	closeNet, err := sv.newRuntime(root, images)
	if err != nil {
		return sv.fail(ready, err)
	}
	defer closeNet()
	now := time.Now()
	sv.status.StartTime = ptr(metav1.NewTime(now))
	setCondition(&sv.status, corev1.PodScheduled, true, now)
	sv.writeStatus()
	p, err := sv.rt.Start(ctx, sv.pod, runtime.WithConfigMaps(src.ConfigMaps...), runtime.WithSecrets(src.Secrets...))
	sv.p = p
	sv.recordInits()
	if err != nil {
		return sv.fail(ready, err)
	}
	sv.started(now)
	fmt.Fprint(ready, "R")
	sv.loop(ctx, false)
	return sv.finish()
}

// load reads a recorded pod into a supervisor.
func load(root, namespace, name string, h Handoff) (*supervisor, Sources, error) {
	store := Open(root)
	rec, err := store.Get(namespace, name)
	if err != nil {
		return nil, Sources{}, err
	}
	src, opts, err := store.sources(namespace, name)
	if err != nil {
		return nil, Sources{}, err
	}
	sv := &supervisor{store: store, opts: opts, pod: rec.Pod, dir: store.Dir(namespace, name), status: rec.Status,
		ctrs: map[string]*ctrState{}, probes: make(chan probeEvent, 16), timers: make(chan string, 16),
		pumps: map[string]*logs.Pump{}, hand: h}
	for i, c := range sv.pod.Spec.Containers {
		sv.ctrs[c.Name] = &ctrState{idx: i}
	}
	return sv, src, nil
}

func (sv *supervisor) openEvents() (err error) {
	sv.events, err = os.OpenFile(filepath.Join(sv.dir, "events.jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	return err
}

// newRuntime makes the supervisor's runtime (and its network, which the
// returned function closes).
func (sv *supervisor) newRuntime(root string, images runtime.ImageSource) (func(), error) {
	opts, store := sv.opts, sv.store
	var nw *network.Manager
	var err error
	if opts.Network != "none" {
		if nw, err = network.New(network.Config{StateDir: filepath.Join(root, "network"), ConfDir: opts.CNIConfDir, BinDirs: opts.CNIBinDirs}); err != nil {
			return func() {}, err
		}
	}
	closeNet := func() {
		if nw != nil {
			nw.Close(context.Background())
		}
	}
	var changed func() error
	if nw != nil {
		changed = func() error { return netpolsync.Sync(root, opts.NetpolTable) }
	}
	sv.rt, err = runtime.New(runtime.Config{
		Root: root, Images: images, Network: nw, NetworkChanged: changed,
		SeccompProfileRoot: opts.SeccompProfileRoot, SeccompDefault: corev1.SeccompProfileType(opts.SeccompDefault),
		OnEvent:     func(_ *corev1.Pod, reason, msg string) { sv.event(eventType(reason), reason, msg) },
		ContainerIO: sv.containerIO,
		PidsLimit:   opts.PodPidsLimit, HousekeepingInterval: opts.HousekeepingInterval, UserNSBase: opts.UserNSBase,
		ContainerLogDir: func(pod *corev1.Pod, name string) string {
			return filepath.Dir(store.LogPath(pod.Namespace, pod.Name, name, 0))
		},
	})
	return closeNet, err
}

// fail records a pod that could not start and tells the waiting command.
func (sv *supervisor) fail(ready io.Writer, err error) error {
	sv.event("Warning", "Failed", err.Error())
	sv.mu.Lock()
	sv.status.Phase = corev1.PodFailed
	sv.status.Message = err.Error()
	if errors.Is(err, network.ErrPortConflict) {
		// As the kubelet rejects a pod whose host ports are taken: reason
		// NodePorts (the predicate's name), the containers never made.
		sv.status.Reason = NodePortsReason
		sv.status.Message = "Pod was rejected: " + err.Error()
		sv.status.ContainerStatuses = nil
	}
	sv.mu.Unlock()
	sv.writeStatus()
	fmt.Fprint(ready, "E"+err.Error())
	return err
}

// recordInits puts the init containers' results into the status.
func (sv *supervisor) recordInits() {
	if sv.p == nil {
		return
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.status.InitContainerStatuses = nil
	for _, r := range sv.p.InitResults() {
		c := containerSpec(sv.pod.Spec.InitContainers, r.Name)
		sv.status.InitContainerStatuses = append(sv.status.InitContainerStatuses, corev1.ContainerStatus{
			Name: r.Name, Image: c.Image, ContainerID: containerID(sv.pod, r.Name), Ready: r.ExitCode == 0,
			State: corev1.ContainerState{Terminated: terminated(sv.pod, r)},
		})
	}
	setCondition(&sv.status, corev1.PodInitialized, len(sv.p.InitResults()) == len(sv.pod.Spec.InitContainers), time.Now())
}

// started marks every app container running and starts its probes.
func (sv *supervisor) started(now time.Time) {
	sv.mu.Lock()
	sv.status.Phase = corev1.PodRunning
	if ip := sv.p.IP(); ip != nil {
		sv.status.PodIP = ip.String()
		sv.status.PodIPs = []corev1.PodIP{{IP: ip.String()}}
	}
	sv.mu.Unlock()
	for _, c := range sv.pod.Spec.Containers {
		sv.containerStarted(c.Name, now)
	}
	sv.writeStatus()
}

// loop reacts to exits, restart timers, probes and the end of ctx until
// no container runs and none will be restarted.
func (sv *supervisor) loop(ctx context.Context, stop bool) {
	stopping := false
	stopNow := make(chan struct{})
	if stop {
		close(stopNow)
	}
	idle := time.NewTimer(suspendAfter)
	defer idle.Stop()
	for !sv.done(stopping) {
		// Only a supervisor that may hand off wakes when idle.
		var idleC <-chan time.Time
		if !stopping && sv.canSuspend() {
			idle.Reset(suspendAfter)
			idleC = idle.C
		}
		select {
		case <-idleC:
			sv.suspend()
			// Still here: nothing happened, nothing to write.
			continue
		case <-stopNow:
			stopNow = nil
			if !stopping {
				stopping = true
				sv.event("Normal", "Killing", "Stopping the pod")
				sv.cancelRestarts()
				go sv.p.Stop(sv.stopGrace())
			}
		case r := <-sv.p.Exits():
			sv.exited(r, stopping)
		case name := <-sv.timers:
			if !stopping {
				sv.restart(ctx, name)
			}
		case pe := <-sv.probes:
			sv.probed(pe)
		case <-sv.p.Evicted():
			// The runtime kills the containers; none restarts.
			if !stopping {
				stopping = true
				sv.cancelRestarts()
				sv.markEvicted()
			}
		case <-ctx.Done():
			if !stopping {
				stopping = true
				sv.event("Normal", "Killing", "Stopping the pod")
				sv.cancelRestarts()
				go sv.p.Stop(sv.stopGrace())
			}
		}
		sv.writeStatus()
	}
}

// done reports whether the pod has ended: nothing runs and nothing waits
// for a restart.
func (sv *supervisor) done(stopping bool) bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, c := range sv.ctrs {
		if c.running || (c.waiting && !stopping) {
			return false
		}
	}
	return true
}

func (sv *supervisor) cancelRestarts() {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, c := range sv.ctrs {
		c.waiting = false
	}
}

// exited records a container's exit and decides on its restart.
func (sv *supervisor) exited(r runtime.ContainerResult, stopping bool) {
	sv.finishPump(r.Name)
	sv.mu.Lock()
	c := sv.ctrs[r.Name]
	c.running, c.ready, c.probes, c.killing = false, false, nil, false
	if c.cancel != nil {
		c.cancel()
	}
	st := &sv.status.ContainerStatuses[c.idx]
	st.State = corev1.ContainerState{Terminated: terminated(sv.pod, r)}
	st.Ready, st.Started = false, ptr(false)
	evicted := sv.p.Eviction() != ""
	restart := !stopping && !evicted && shouldRestart(sv.pod.Spec.RestartPolicy, r.ExitCode)
	var delay time.Duration
	if restart {
		if time.Since(c.startedAt) >= sv.opts.BackoffReset {
			c.restarts = 0
		}
		delay = backoff(c.restarts, sv.opts.BackoffBase, sv.opts.BackoffMax)
		c.waiting = true
		if delay > 0 {
			st.LastTerminationState = st.State
			st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s", delay, r.Name, sv.pod.Name, sv.pod.Namespace)}}
		}
	}
	sv.updatePhase()
	sv.mu.Unlock()
	if evicted {
		sv.markEvicted()
	}
	typ := "Normal"
	if r.ExitCode != 0 {
		typ = "Warning"
	}
	sv.event(typ, r.Reason, fmt.Sprintf("Container %s exited with code %d", r.Name, r.ExitCode))
	if !restart {
		return
	}
	if delay > 0 {
		sv.event("Warning", "BackOff", fmt.Sprintf("Back-off %s restarting failed container %s", delay, r.Name))
	}
	sv.restartAfter(r.Name, delay)
}

// restartAfter has the container restarted after delay.
func (sv *supervisor) restartAfter(name string, delay time.Duration) {
	sv.mu.Lock()
	sv.ctrs[name].restartAt = time.Now().Add(delay)
	sv.mu.Unlock()
	time.AfterFunc(delay, func() { sv.timers <- name })
}

// restart starts a container again after its back-off.
func (sv *supervisor) restart(ctx context.Context, name string) {
	sv.mu.Lock()
	c := sv.ctrs[name]
	if !c.waiting {
		sv.mu.Unlock()
		return
	}
	c.attempt++
	c.restarts++
	attempt := c.attempt
	sv.mu.Unlock()
	err := sv.p.RestartContainer(ctx, name, attempt)
	sv.mu.Lock()
	c.waiting = false
	st := &sv.status.ContainerStatuses[c.idx]
	st.RestartCount++
	if st.State.Terminated != nil {
		st.LastTerminationState = st.State
	}
	sv.mu.Unlock()
	if err != nil {
		sv.event("Warning", "Failed", err.Error())
		return
	}
	sv.containerStarted(name, time.Now())
}

// containerStarted marks a container running and starts its probes.
func (sv *supervisor) containerStarted(name string, now time.Time) {
	sv.mu.Lock()
	c := sv.ctrs[name]
	spec := sv.pod.Spec.Containers[c.idx]
	c.running, c.startedAt, c.probes, c.killing = true, now, nil, false
	c.started = spec.StartupProbe == nil
	c.ready = spec.ReadinessProbe == nil && c.started
	st := &sv.status.ContainerStatuses[c.idx]
	st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}
	st.Started, st.Ready = ptr(c.started), c.ready
	pctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	sv.updatePhase()
	sv.mu.Unlock()
	sv.startProbes(pctx, spec)
}

// updatePhase sets the phase and conditions from the containers, as the
// kubelet does. The caller holds mu.
func (sv *supervisor) updatePhase() {
	running, waiting, failed, allReady := 0, 0, 0, true
	for _, c := range sv.ctrs {
		st := sv.status.ContainerStatuses[c.idx]
		switch {
		case c.running:
			running++
		case c.waiting:
			waiting++
		case st.State.Terminated != nil && st.State.Terminated.ExitCode != 0:
			failed++
		}
		if !c.ready {
			allReady = false
		}
	}
	switch {
	case sv.status.Reason == runtime.EvictedReason:
		sv.status.Phase = corev1.PodFailed
	case running > 0 || waiting > 0:
		sv.status.Phase = corev1.PodRunning
	case failed > 0:
		sv.status.Phase = corev1.PodFailed
	default:
		sv.status.Phase = corev1.PodSucceeded
	}
	now := time.Now()
	setCondition(&sv.status, corev1.ContainersReady, allReady, now)
	setCondition(&sv.status, corev1.PodReady, allReady, now)
}

// finish cleans the pod off the node and writes its final status.
func (sv *supervisor) finish() error {
	err := sv.p.Cleanup()
	if err != nil {
		sv.event("Warning", "CleanupFailed", err.Error())
	}
	sv.mu.Lock()
	sv.updatePhase()
	sv.mu.Unlock()
	sv.writeStatus()
	return err
}

// shouldRestart applies restartPolicy to an exit.
func shouldRestart(policy corev1.RestartPolicy, exitCode int) bool {
	switch policy {
	case corev1.RestartPolicyAlways:
		return true
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return false
}

// backoff is the delay before restart n (from 0) since the last reset: the
// first restart is at once, then base, doubling up to max, as the kubelet.
func backoff(n int, base, max time.Duration) time.Duration {
	if n == 0 {
		return 0
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// stopGrace is the grace period of a stop: delete --grace-period, or the
// pod's own.
func (sv *supervisor) stopGrace() time.Duration {
	if b, err := os.ReadFile(filepath.Join(sv.dir, "grace")); err == nil {
		var n int64
		if _, err := fmt.Sscan(string(b), &n); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return gracePeriod(sv.pod)
}

func gracePeriod(pod *corev1.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// containerIO gives one start of a container pipes for its stdout and
// stderr, copied by a Pump into its CRI log file: the pipes, unlike the
// copying, survive the supervisor's hand-off to its monitor.
func (sv *supervisor) containerIO(pod *corev1.Pod, name string, attempt int) (io.Writer, io.Writer, func(), error) {
	path := sv.store.LogPath(pod.Namespace, pod.Name, name, attempt)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, nil, err
	}
	if err := pruneLogs(filepath.Dir(path), attempt); err != nil {
		return nil, nil, nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, nil, err
	}
	pump, err := logs.NewPump(path, outR, errR, logs.WriterOptions{})
	if err != nil {
		for _, f := range []*os.File{outR, outW, errR, errW} {
			f.Close()
		}
		return nil, nil, nil, err
	}
	sv.mu.Lock()
	sv.pumps[name] = pump
	sv.mu.Unlock()
	// The runtime closes the write ends once the container runs; a start
	// that failed leaves them to this.
	return outW, errW, func() {
		outW.Close()
		errW.Close()
		pump.Finish(pumpDrain)
	}, nil
}

// pumpDrain bounds how long a container's output is awaited after its
// exit (a process it left behind may hold its pipes).
const pumpDrain = 2 * time.Second

// finishPump ends the copying of a container's output once it has exited.
func (sv *supervisor) finishPump(name string) {
	sv.mu.Lock()
	pump := sv.pumps[name]
	delete(sv.pumps, name)
	sv.mu.Unlock()
	if pump != nil {
		pump.Finish(pumpDrain)
	}
}

// writeStatus stores the status atomically.
func (sv *supervisor) writeStatus() {
	sv.mu.Lock()
	st := *sv.status.DeepCopy()
	sv.mu.Unlock()
	_ = atomicfile.WriteJSON(filepath.Join(sv.dir, "status.json"), st)
}

// event appends an event to the pod's record.
func (sv *supervisor) event(typ, reason, msg string) {
	b, _ := json.Marshal(Event{Time: time.Now().UTC(), Type: typ, Reason: reason, Message: msg})
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.events != nil {
		sv.events.Write(append(b, '\n'))
	}
}

func containerSpec(list []corev1.Container, name string) corev1.Container {
	for _, c := range list {
		if c.Name == name {
			return c
		}
	}
	return corev1.Container{Name: name}
}

func ptr[T any](v T) *T { return &v }

// execIn runs a probe's command in a container, bounded by ctx.
func (sv *supervisor) execIn(ctx context.Context, name string, cmd []string) (int, []byte, error) {
	var out bytes.Buffer
	code, err := sv.rt.Layout().Exec(sv.pod.Namespace, sv.pod.Name, name, runtime.ExecOptions{
		Args: cmd, Context: ctx, Stdout: &out, Stderr: &out})
	return code, out.Bytes(), err
}

// kill ends a container whose liveness or startup probe failed; its exit
// then restarts it by the pod's restartPolicy.
func (sv *supervisor) kill(name string, attempt int) {
	// The SIGKILL timer lives in this process: no hand-off until the exit.
	sv.mu.Lock()
	sv.ctrs[name].killing = true
	sv.mu.Unlock()
	sv.p.Signal(name, syscall.SIGTERM)
	time.AfterFunc(gracePeriod(sv.pod), func() {
		// Only the start the probe judged: a restarted container is new.
		sv.mu.Lock()
		same := sv.ctrs[name].attempt == attempt && sv.ctrs[name].running
		sv.mu.Unlock()
		if same {
			sv.p.Signal(name, syscall.SIGKILL)
		}
	})
}
