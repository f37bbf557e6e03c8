package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// PodFile is the pod as it runs, with status.podIP, in its directory.
const PodFile = "pod.json"

// ErrPodExists: a pod of that name already runs in the namespace.
var ErrPodExists = errors.New("pod already exists")

// Pod is a pod running on this node.
type Pod struct {
	rt    *Runtime
	pod   *corev1.Pod
	plan  *pipeline.Plan
	dir   string
	sb    *sandbox
	vols  *podVolumes
	shm   string
	files map[string]string
	att   *network.Attachment
	res   spec.PodResources
	// userns is the range of host IDs the pod holds (hostUsers: false).
	userns *spec.IDRange

	// stopWatch ends the local storage watch.
	stopWatch context.CancelFunc
	evictedCh chan struct{}

	mu      sync.Mutex
	inits   []ContainerResult
	apps    []*container
	exits   chan ContainerResult
	cleaned bool
	evicted string // the eviction message
	// pre is the first container's root filesystem, prepared while the
	// sandbox starts (prepareFirst).
	pre *pendingPrep
}

// Result is how a pod ended.
type Result struct {
	// ExitCode is 0 when every container succeeded, otherwise the exit
	// code of the first container that failed.
	ExitCode   int               `json:"exitCode"`
	Containers []ContainerResult `json:"containers"`
	// Reason and Message are the pod's status reason and message when the
	// node ended it: Evicted, and which limit it outgrew.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Run runs a validated, defaulted pod in the foreground: Start, then Wait.
// When ctx ends first (SIGINT, SIGTERM), the pod is stopped with its
// terminationGracePeriodSeconds. Nothing of the pod is left afterwards.
func (r *Runtime) Run(ctx context.Context, pod *corev1.Pod, opts ...RunOption) (Result, error) {
	p, err := r.Start(ctx, pod, opts...)
	if err != nil {
		return Result{ExitCode: p.firstFailure()}, err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			p.Stop(gracePeriod(pod))
		case <-done:
		}
	}()
	end := trace.Step("wait")
	res := p.Wait()
	end()
	close(done)
	end = trace.Step("cleanup")
	cerr := p.Cleanup()
	end()
	if msg := p.Eviction(); msg != "" {
		res.Reason, res.Message = EvictedReason, msg
		return res, errors.Join(evictedError(msg), cerr)
	}
	return res, cerr
}

func evictedError(msg string) error {
	return fmt.Errorf("%w: %s", ErrEvicted, strings.TrimSpace(msg))
}

func gracePeriod(pod *corev1.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// Start creates the pod's sandbox and volumes, runs its init containers in
// order, each to success, and starts its app containers. On error the pod
// is cleaned up and the returned Pod (never nil) tells how far it got.
func (r *Runtime) Start(ctx context.Context, pod *corev1.Pod, opts ...RunOption) (p *Pod, err error) {
	defer pauseGC()()
	ro := &runOptions{}
	for _, o := range opts {
		o(ro)
	}
	p = &Pod{rt: r, pod: pod, dir: r.layout.PodDir(pod.Namespace, pod.Name), files: map[string]string{},
		exits: make(chan ContainerResult, 64), evictedCh: make(chan struct{})}
	// A pod with a user namespace holds its range of host IDs from here
	// until it is cleaned up; what fails before the pod's directory is
	// made frees it here.
	node, madeDir := r.node, false
	if pipeline.NeedsUserNS(pod) {
		if p.userns, err = r.allocUserNS(pod); err != nil {
			return p, err
		}
		n := *r.node
		n.UserNS, node = p.userns, &n
		defer func() {
			if err != nil && !madeDir {
				if rerr := r.layout.releaseUserNS(pod, p.userns); rerr != nil {
					err = errors.Join(err, rerr)
				}
			}
		}()
	}
	// Every decision about the pod is made once, by the pipeline; from
	// here on the pod's fields are only names, images and logs.
	end := trace.Step("plan")
	if p.plan, err = pipeline.Build(pod, node, ro.admission, ro.objects); err != nil {
		return p, err
	}
	end()
	// A held hostPort refuses the pod before anything is made, as a
	// scheduler keeps such a pod Pending.
	if r.cfg.Network != nil && p.plan.Sandbox.Net {
		if err := r.cfg.Network.CheckPorts(podRef(pod), hostPorts(p.plan)); err != nil {
			return p, err
		}
	}
	end = trace.Step("pod directory")
	if err := os.MkdirAll(filepath.Dir(p.dir), 0o711); err != nil {
		return p, fmt.Errorf("creating pod directory: %w", err)
	}
	// The directory appears with its owner already named in it (made
	// aside, then renamed into place without replacing anything), so a
	// concurrent GC never finds it ownerless and takes it for dead.
	if err := r.createPodDir(p.dir); err != nil {
		if errors.Is(err, os.ErrExist) {
			return p, fmt.Errorf("%w: pod %q in namespace %q", ErrPodExists, pod.Name, pod.Namespace)
		}
		return p, fmt.Errorf("creating pod directory: %w", err)
	}
	end()
	// From here Cleanup frees the range, once nothing of the pod is left.
	madeDir = true
	defer func() {
		if err != nil {
			p.Stop(0)
			if cerr := p.Cleanup(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	// The pod's cgroup, with its limits, before anything of the pod runs.
	p.res = p.plan.Resources
	end = trace.Step("pod cgroup")
	if err := createPodCgroup(r.layout, pod, p.res); err != nil {
		return p, err
	}
	end()
	warmEncoders()
	p.prepareFirst(ctx)
	end = trace.Step("sandbox")
	if p.sb, err = startSandbox(r.layout, pod, p.plan.Sandbox, p.plan.UserNS); err != nil {
		return p, err
	}
	end()
	failpoint(StepSandbox)
	if r.cfg.Network != nil && p.plan.Sandbox.Net {
		// The network goes into a namespace whose sandbox is set up
		// (loopback up), as it always has.
		if err := p.sb.waitReady(); err != nil {
			return p, err
		}
		end := trace.Step("network")
		if p.att, err = r.cfg.Network.Setup(ctx, podRef(pod), p.sb.paths["net"], hostPorts(p.plan)); err != nil {
			return p, err
		}
		end()
		r.event(pod, "Network", "Pod IP %s", p.att.IP)
		failpoint(StepNetwork)
	}
	// The pod as it runs, with its IP: what the NetworkPolicy engine reads.
	running := pod.DeepCopy()
	if p.att != nil {
		running.Status.PodIP = p.att.IP.String()
	}
	end = trace.Step("pod files")
	if err := writeRunState(filepath.Join(p.dir, PodFile), running); err != nil {
		return p, err
	}
	if r.cfg.NetworkChanged != nil && p.att != nil {
		if err := r.cfg.NetworkChanged(); err != nil {
			return p, err
		}
	}
	if err := p.writeFiles(); err != nil {
		return p, err
	}
	end()
	memSize := func(v *corev1.EmptyDirVolumeSource) int64 {
		return spec.MemoryEmptyDirSize(v, p.res.MemoryLimit, r.node.Spec.NodeMemoryBytes)
	}
	end = trace.Step("volumes")
	if p.vols, err = prepareVolumes(r.layout, pod, p.plan, memSize); err != nil {
		return p, err
	}
	if needsStorageWatch(pod) {
		var wctx context.Context
		wctx, p.stopWatch = context.WithCancel(context.Background())
		go p.watchStorage(wctx, r.housekeeping())
	}
	if p.userns != nil {
		if err := checkIdmappable(p.sb.paths["user"], p.volumeSources()); err != nil {
			return p, err
		}
	}
	if err := p.applyFSGroup(); err != nil {
		return p, err
	}
	end()
	failpoint(StepVolumes)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		ct, err := p.startContainer(ctx, c, true, 0)
		if err != nil {
			return p, err
		}
		select {
		case <-ct.done:
		case <-ctx.Done():
			ct.signal(unix.SIGKILL)
			<-ct.done
		case <-p.evictedCh:
			ct.signal(unix.SIGKILL)
			<-ct.done
		}
		p.mu.Lock()
		p.inits = append(p.inits, ct.state)
		p.mu.Unlock()
		if cerr := ct.cleanup(); cerr != nil {
			return p, cerr
		}
		if msg := p.Eviction(); msg != "" {
			return p, evictedError(msg)
		}
		if ct.state.ExitCode != 0 {
			return p, fmt.Errorf("init container %q failed with exit code %d", c.Name, ct.state.ExitCode)
		}
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
	}
	for i := range pod.Spec.Containers {
		if msg := p.Eviction(); msg != "" {
			return p, evictedError(msg)
		}
		ct, err := p.startContainer(ctx, &pod.Spec.Containers[i], false, 0)
		if err != nil {
			return p, err
		}
		p.addApp(ct)
	}
	return p, nil
}

// createPodDir makes a pod's directory holding its owner record, or fails
// with os.ErrExist when the pod exists.
func (r *Runtime) createPodDir(dir string) error {
	tmpRoot := filepath.Join(r.layout.Root, "pods", ".tmp")
	if err := os.MkdirAll(tmpRoot, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(tmpRoot, "pod-")
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o711); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	o, err := SelfOwner()
	if err == nil {
		err = writeRunState(filepath.Join(tmp, ownerFile), o)
	}
	if err == nil {
		err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_NOREPLACE)
		if errors.Is(err, unix.EEXIST) {
			err = os.ErrExist
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
	}
	return err
}

// writeRunState writes v as JSON to path, whole but without waiting for
// the disk: a pod's run state is gone with the pod, and with every pod at
// a reboot (a pod directory whose owner record a crash of the node lost
// is a dead pod's, for GC), while readers and a podsec started after a
// crash of podsec see it whole.
func writeRunState(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return atomicfile.WriteVolatile(path, append(b, '\n'), 0o644)
}

// addApp records a started app container and reports its exit on Exits.
func (p *Pod) addApp(ct *container) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.evicted != "" {
		// Started while the pod was being evicted: it goes too.
		ct.signal(syscall.SIGKILL)
	}
	for i, old := range p.apps {
		if old.name == ct.name {
			p.apps[i] = ct
			go p.report(ct)
			return
		}
	}
	p.apps = append(p.apps, ct)
	go p.report(ct)
}

func (p *Pod) report(ct *container) {
	<-ct.done
	select {
	case p.exits <- ct.state:
	default:
		// Nobody reads Exits (a foreground run): Wait reads the states.
	}
}

// Exits reports each app container's exit, restarts included.
func (p *Pod) Exits() <-chan ContainerResult { return p.exits }

// Pod is the pod as it runs.
func (p *Pod) Pod() *corev1.Pod { return p.pod }

// RestartContainer starts an app container again, after it has exited, in
// the same pod sandbox, as the kubelet does for restartPolicy: its old
// rootfs, mounts and cgroup are removed and a new attempt begins.
func (p *Pod) RestartContainer(ctx context.Context, name string, attempt int) error {
	p.mu.Lock()
	var old *container
	for _, ct := range p.apps {
		if ct.name == name {
			old = ct
		}
	}
	cleaned, evicted := p.cleaned, p.evicted
	p.mu.Unlock()
	if old == nil || cleaned {
		return fmt.Errorf("restarting container %q: no such container in pod %q", name, p.pod.Name)
	}
	if evicted != "" {
		return fmt.Errorf("restarting container %q: %w", name, evictedError(evicted))
	}
	<-old.done
	if err := old.cleanup(); err != nil {
		return fmt.Errorf("restarting container %q: %w", name, err)
	}
	var c *corev1.Container
	for i := range p.pod.Spec.Containers {
		if p.pod.Spec.Containers[i].Name == name {
			c = &p.pod.Spec.Containers[i]
		}
	}
	ct, err := p.startContainer(ctx, c, false, attempt)
	if err != nil {
		return err
	}
	p.addApp(ct)
	return nil
}

// Running reports whether the app container runs now.
func (p *Pod) Running(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ct := range p.apps {
		if ct.name == name {
			select {
			case <-ct.done:
				return false
			default:
				return true
			}
		}
	}
	return false
}

// Signal sends sig to an app container's processes.
func (p *Pod) Signal(name string, sig os.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ct := range p.apps {
		if ct.name == name {
			ct.signal(sig)
		}
	}
}

// Wait waits until every app container has exited.
func (p *Pod) Wait() Result {
	p.mu.Lock()
	apps := append([]*container{}, p.apps...)
	p.mu.Unlock()
	for _, ct := range apps {
		<-ct.done
	}
	return Result{ExitCode: p.firstFailure(), Containers: p.results()}
}

func (p *Pod) results() []ContainerResult {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]ContainerResult{}, p.inits...)
	for _, ct := range p.apps {
		select {
		case <-ct.done:
			out = append(out, ct.state)
		default:
		}
	}
	return out
}

// firstFailure is the exit code of the first container that failed, 0 if
// none did, and 1 when the pod failed before any container ran.
func (p *Pod) firstFailure() int {
	if p == nil {
		return 1
	}
	for _, r := range p.results() {
		if r.ExitCode != 0 {
			return r.ExitCode
		}
	}
	return 0
}

// Stop stops the app containers as the kubelet does: SIGTERM, then SIGKILL
// to those still running after grace.
func (p *Pod) Stop(grace time.Duration) {
	p.mu.Lock()
	apps := append([]*container{}, p.apps...)
	p.mu.Unlock()
	failpoint(StepStopping)
	var running []*container
	for _, ct := range apps {
		select {
		case <-ct.done:
		default:
			running = append(running, ct)
			p.rt.event(p.pod, "Killing", "Stopping container %s", ct.name)
			ct.signal(syscall.SIGTERM)
		}
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for _, ct := range running {
		select {
		case <-ct.done:
		case <-deadline.C:
			for _, k := range running {
				k.signal(syscall.SIGKILL)
			}
			<-ct.done
		}
	}
}

// Cleanup removes everything the pod made: containers, mounts, emptyDirs,
// namespaces, cgroups and state. It is safe to call more than once.
func (p *Pod) Cleanup() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cleaned {
		return nil
	}
	if p.stopWatch != nil {
		p.stopWatch()
	}
	var errs []error
	for _, ct := range p.apps {
		select {
		case <-ct.done:
		default:
			ct.signal(syscall.SIGKILL)
			<-ct.done
		}
	}
	// Nothing of the pod runs any more: the sandbox ends while the rest
	// is removed (its namespaces stay held by their bind mounts until
	// sb.stop), rather than after it.
	if p.sb != nil {
		p.sb.kill()
	}
	// The network is taken down while the containers are removed: its
	// kernel part is mostly waiting for RCU grace periods. It needs
	// nothing of theirs, and is done before the sandbox's namespaces go.
	var netDown func() error
	if p.att != nil {
		endNet := trace.Step("network")
		c := make(chan error, 1)
		go func() {
			defer endNet()
			c <- p.rt.cfg.Network.Teardown(context.Background(), podRef(p.pod))
		}()
		netDown = func() error { return <-c }
	}
	for _, ct := range p.apps {
		if err := ct.destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	// With the containers' processes and cgroups gone, their mounts and
	// directories, the prepared root filesystems and the volumes are
	// removed while the network goes down, the sandbox is reaped and the
	// pod cgroups are removed: neither side needs the other's.
	var fsErrs []error
	fsDone := make(chan struct{})
	go func() {
		defer close(fsDone)
		for _, ct := range p.apps {
			end := trace.Step("container " + ct.name)
			if err := ct.cleanup(); err != nil {
				fsErrs = append(fsErrs, err)
			}
			end()
			failpoint(StepCleanedUp)
		}
		if err := p.dropPrepared(); err != nil {
			fsErrs = append(fsErrs, err)
		}
		end := trace.Step("volumes")
		if p.vols != nil {
			if err := p.vols.cleanup(); err != nil {
				fsErrs = append(fsErrs, err)
			}
		}
		if p.shm != "" {
			if err := unmountRemove(p.shm); err != nil {
				fsErrs = append(fsErrs, err)
			}
		}
		end()
	}()
	if netDown != nil {
		// Before the namespace goes, so CNI DEL still finds the veth.
		if err := netDown(); err != nil {
			errs = append(errs, err)
		} else {
			p.att = nil
			os.Remove(filepath.Join(p.dir, PodFile))
			if p.rt.cfg.NetworkChanged != nil {
				if err := p.rt.cfg.NetworkChanged(); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if p.sb != nil {
		end := trace.Step("sandbox")
		if err := p.sb.stop(p.rt.layout, p.pod); err != nil {
			errs = append(errs, err)
		}
		end()
	}
	end := trace.Step("pod cgroups")
	if err := removePodCgroups(p.rt.layout, p.pod); err != nil {
		errs = append(errs, err)
	}
	end()
	<-fsDone
	errs = append(errs, fsErrs...)
	if len(errs) == 0 {
		end := trace.Step("pod directory")
		if err := removeAll(p.dir); err != nil {
			errs = append(errs, err)
		}
		end()
	}
	// The range is free once nothing of the pod runs or is left.
	if len(errs) == 0 && p.userns != nil {
		if err := p.rt.layout.releaseUserNS(p.pod, p.userns); err != nil {
			errs = append(errs, err)
		}
	}
	p.cleaned = len(errs) == 0
	return errors.Join(errs...)
}

// applyFSGroup gives the pod's volumes the ownership the plan decided
// (fsGroup; hostPath volumes are never changed) before any container
// starts.
func (p *Pod) applyFSGroup() error {
	for _, v := range p.plan.Volumes {
		if v.FSGroup == nil {
			continue
		}
		if err := applyFSGroup(p.vols.dirs[v.Name], *v.FSGroup, v.ReadOnly, v.OnRootMismatch); err != nil {
			return fmt.Errorf("volume %q: %w", v.Name, err)
		}
	}
	return nil
}

// volumeSources are the pod's volume directories, for the
// idmap check of a pod with a user namespace.
func (p *Pod) volumeSources() []volumeSource {
	var out []volumeSource
	for i, v := range p.plan.Volumes {
		out = append(out, volumeSource{fmt.Sprintf("spec.volumes[%d]: volume %q", i, v.Name), p.vols.dirs[v.Name]})
	}
	return out
}

// Plan is the plan the pod runs by.
func (p *Pod) Plan() *pipeline.Plan { return p.plan }

// hostPorts are the plan's host ports as the network forwards them.
func hostPorts(plan *pipeline.Plan) []network.PortMapping {
	var out []network.PortMapping
	for _, hp := range plan.HostPorts {
		out = append(out, network.PortMapping{HostPort: hp.HostPort, ContainerPort: hp.ContainerPort, Protocol: hp.Protocol, HostIP: hp.HostIP})
	}
	return out
}

// IP is the pod's IP on the pod network; nil with hostNetwork or without
// a network.
func (p *Pod) IP() net.IP {
	if p.att == nil {
		return nil
	}
	return p.att.IP
}

func podRef(pod *corev1.Pod) network.PodRef {
	return network.PodRef{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID)}
}

func (r *Runtime) event(pod *corev1.Pod, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(pod, reason, msg)
		return
	}
	fmt.Fprintf(r.cfg.Events, "%-8s pod/%s: %s\n", reason, pod.Name, msg)
}

// InitResults are how the pod's init containers ended, in order.
func (p *Pod) InitResults() []ContainerResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ContainerResult{}, p.inits...)
}
