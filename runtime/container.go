package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	// Device rules for the cgroup managers.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/internal/lc"
	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// container is one running (or finished) container of a pod.
type container struct {
	name    string
	init    bool
	attempt int
	dir     string
	lc      *libcontainer.Container
	proc    *libcontainer.Process
	early   *os.File // the early seccomp filter of a split profile
	pid     int      // a resumed container's init process (proc is nil)
	flush   func()
	oom     <-chan struct{}
	// oomKilled, for a container resumed after a re-exec, reads its
	// cgroup's OOM kills (an eventfd of the earlier image is gone).
	oomKilled func() bool
	done      chan struct{}
	state     ContainerResult
	subs      []string // subPath mount points
	cleaned   sync.Once
	destroyed sync.Once
}

// ContainerResult is how a container ended.
type ContainerResult struct {
	Name     string `json:"name"`
	Init     bool   `json:"init,omitempty"`
	ExitCode int    `json:"exitCode"`
	Signal   string `json:"signal,omitempty"`
	// Reason is Completed (exit 0), Error or OOMKilled, as in a
	// terminated ContainerStatus.
	Reason string `json:"reason"`
	// Attempt counts the container's starts in this pod, from 0.
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// containerID is the libcontainer ID of a container of a pod.
func containerID(pod *corev1.Pod, name string) string {
	return pod.Namespace + "_" + pod.Name + "_" + name
}

// startContainer prepares and starts one container of the pod.
func (p *Pod) startContainer(ctx context.Context, c *corev1.Container, init bool, attempt int) (ct *container, err error) {
	r, pod := p.rt, p.pod
	defer trace.Step("container " + c.Name)()
	prep := p.takePrepared(c.Name, attempt)
	if prep != nil {
		trace.Step("image and rootfs, made beside the sandbox")()
	} else {
		end := trace.Step("image and rootfs")
		prep = p.prepareRootfs(ctx, c)
		end()
	}
	if prep.img != nil {
		r.event(pod, "Pulled", "Container image %q present", c.Image)
	}
	if prep.dir == "" {
		return nil, prep.err
	}
	ct = &container{name: c.Name, init: init, attempt: attempt, dir: prep.dir, done: make(chan struct{})}
	defer func() {
		if err != nil {
			ct.cleanup()
		}
	}()
	if prep.err != nil {
		return ct, prep.err
	}
	img, rootfs, users := prep.img, prep.rootfs, prep.users
	failpoint(StepRootfs)
	end := trace.Step("paths")
	if err := p.preparePaths(c, ct, rootfs); err != nil {
		return ct, fmt.Errorf("container %q: %w", c.Name, err)
	}
	end()
	end = trace.Step("spec")
	podIP := ""
	if ip := p.IP(); ip != nil {
		podIP = ip.String()
	}
	// The spec comes from the plan, as podsec spec prints it; the bytes
	// kept in the pod's directory are those of the spec handed to
	// libcontainer below.
	s, err := p.plan.ContainerSpec(c.Name, &img.Config, users, podIP)
	if err != nil {
		return ct, fmt.Errorf("container %q: %w", c.Name, err)
	}
	b, err := pipeline.EncodeSpec(s)
	if err != nil {
		return ct, fmt.Errorf("container %q: %w", c.Name, err)
	}
	for _, f := range []string{filepath.Join(ct.dir, "config.json"), pipeline.Places{Root: r.layout.Root}.SpecFile(pod.Namespace, pod.Name, c.Name)} {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return ct, fmt.Errorf("container %q: %w", c.Name, err)
		}
		// Run state: gone with the pod, and with every pod at a reboot.
		if err := atomicfile.WriteVolatile(f, b, 0o600); err != nil {
			return ct, fmt.Errorf("container %q: %w", c.Name, err)
		}
	}
	end()
	end = trace.Step("create")
	if err := ct.create(r, pod, s); err != nil {
		return ct, fmt.Errorf("container %q: %w", c.Name, err)
	}
	end()
	r.event(pod, "Created", "Created container %s", c.Name)
	failpoint(StepCreated)
	if r.cfg.ContainerIO != nil {
		if ct.proc.Stdout, ct.proc.Stderr, ct.flush, err = r.cfg.ContainerIO(pod, c.Name, attempt); err != nil {
			return ct, fmt.Errorf("container %q: output: %w", c.Name, err)
		}
	} else {
		out := newPrefixWriter(r.cfg.Output, c.Name)
		ct.proc.Stdout, ct.proc.Stderr, ct.flush = out, out, out.Flush
	}
	ct.state.StartedAt = time.Now()
	// The container's init (a re-exec of podsec) sets up its mounts and
	// loads its seccomp filters while the sandbox finishes its own set-up
	// and its move into the pod cgroup: on cgroup v1 each move waits for
	// an RCU grace period (cgroup_threadgroup_rwsem), and the init's
	// move into its cgroups shares the sandbox's when they overlap. The
	// sandbox is ready and counted in the pod cgroup before the
	// container's process, the first of the pod, is executed.
	end = trace.Step("start")
	var sbErr error
	err = ct.run(func() error {
		if sbErr = p.sb.waitReady(); sbErr == nil {
			end := trace.Step("sandbox in pod cgroup")
			sbErr = p.sb.waitJoined()
			end()
		}
		return sbErr
	})
	switch {
	case sbErr != nil:
		return ct, fmt.Errorf("container %q: %w", c.Name, sbErr)
	case err != nil:
		if ferr := startError(p.plan, err); ferr != nil {
			return ct, fmt.Errorf("container %q: %w", c.Name, ferr)
		}
		return ct, fmt.Errorf("container %q: starting: %w", c.Name, err)
	}
	// Files a ContainerIO gave (the write ends of a supervisor's pipes)
	// are the container's now: this process's copies would keep the
	// pipes from ever ending.
	for _, w := range []io.Writer{ct.proc.Stdout, ct.proc.Stderr} {
		if f, ok := w.(*os.File); ok {
			f.Close()
		}
	}
	end()
	// An OOM kill of the container's cgroup, read when it has exited.
	ct.oom, _ = ct.lc.NotifyOOM()
	r.event(pod, "Started", "Started container %s", c.Name)
	failpoint(StepStarted)
	go ct.wait()
	return ct, nil
}

// preparePaths makes the places the plan names for c that are the
// container's own (its termination log, its subPath binds) and checks
// that the pod's are where the plan says, so that the spec made from the
// plan names what exists.
func (p *Pod) preparePaths(c *corev1.Container, ct *container, rootfs string) error {
	pc, err := p.plan.Container(c.Name)
	if err != nil {
		return err
	}
	paths := pc.Paths
	for what, pair := range map[string][2]string{
		"rootfs": {rootfs, paths.Rootfs}, "net": {p.sb.paths["net"], paths.NetNS}, "ipc": {p.sb.paths["ipc"], paths.IPCNS},
		"uts": {p.sb.paths["uts"], paths.UTSNS}, "pid": {p.sb.paths["pid"], paths.PIDNS}, "shm": {p.shm, paths.Shm},
		"hosts": {p.files["hosts"], paths.EtcHosts}, "hostname": {p.files["hostname"], paths.EtcHostname},
		"resolv.conf": {p.files["resolv.conf"], paths.ResolvConf}, "user": {p.sb.paths["user"], paths.UserNSPath},
	} {
		if pair[0] != pair[1] {
			return fmt.Errorf("%s is at %q, the plan says %q", what, pair[0], pair[1])
		}
	}
	for name, dir := range p.vols.dirs {
		if paths.Volumes[name] != dir {
			return fmt.Errorf("volume %q is at %q, the plan says %q", name, dir, paths.Volumes[name])
		}
	}
	tl := paths.TerminationLog
	if err := os.WriteFile(tl, nil, 0o666); err != nil {
		return err
	}
	if err := os.Chmod(tl, 0o666); err != nil {
		return err
	}
	// In a user namespace the pod's root group walks to the file: it is
	// the pod root's, never the node's, so a setuid copy over it gives
	// nothing the range does not have.
	if r := paths.UserNS; r != nil {
		if err := os.Lchown(tl, int(r.HostID), int(r.HostID)); err != nil {
			return err
		}
	}
	for i, m := range c.VolumeMounts {
		if m.SubPath == "" {
			continue
		}
		dst := paths.SubPaths[spec.SubPathKey(m.Name, m.SubPath)]
		if slices.Contains(ct.subs, dst) {
			continue // the same subPath mounted twice: bound once
		}
		if err := subPathMount(p.vols.dirs[m.Name], m.SubPath, dst); err != nil {
			return fmt.Errorf("volumeMounts[%d]: %w", i, err)
		}
		ct.subs = append(ct.subs, dst)
	}
	return nil
}

// create makes the libcontainer container and its init process from s.
func (ct *container) create(r *Runtime, pod *corev1.Pod, s *specs.Spec) error {
	var err error
	id := containerID(pod, ct.name)
	opts := lc.CreateOptions{}
	if path := userNSPath(s); path != "" {
		s, opts.Adjust = joinUserNS(s, path)
	}
	adjust := opts.Adjust
	opts.Adjust = func(cfg *configs.Config) error {
		if adjust != nil {
			if err := adjust(cfg); err != nil {
				return err
			}
		}
		split := splitSeccomp(cfg.Seccomp)
		if split == nil {
			return nil
		}
		defer trace.Step("seccomp filter")()
		// Without its early program (no ptrace for the export, say) the
		// profile stays whole, for libcontainer to compile as before.
		if f, err := earlyFilter(r.layout.Root, split); err == nil {
			ct.early, cfg.Seccomp = f, split.late
		}
		return nil
	}
	ct.lc, err = lc.Create(filepath.Join(r.layout.Root, "libcontainer"), id, s, opts)
	if err != nil {
		return err
	}
	if ct.proc, err = lc.NewProcess(s.Process, true); err != nil {
		return err
	}
	if ct.early != nil {
		askEarly(ct.proc, ct.early)
	}
	return nil
}

// run starts the container's init and execs its process once
// beforeExec allows it; the init is killed at its exec fifo if it does
// not. It is libcontainer's Run in two halves. With a split profile, Start returns with the
// init waiting on the exec fifo, both filters loaded (libcontainer loads
// the late one before that wait, standard_init_linux.go), so the filters
// are counted before the container's process exists; on a wrong count
// the init is killed at the fifo and the process never runs. (The init
// also refuses to go on without its early filter, ContainerInit: this
// check is the second lock, on what the kernel says.)
func (ct *container) run(beforeExec func() error) error {
	if err := ct.lc.Start(ct.proc); err != nil {
		return err
	}
	if ct.early != nil {
		ct.early.Close()
		pid, err := ct.proc.Pid()
		if err == nil {
			err = checkSeccompFilters(pid)
		}
		if err != nil {
			ct.kill()
			return fmt.Errorf("seccomp: %w: the container's process was not executed", err)
		}
	}
	if err := beforeExec(); err != nil {
		ct.kill()
		return err
	}
	return ct.lc.Exec()
}

// kill ends a container whose init was started but whose process must
// not run: its init is killed and reaped, and the container destroyed
// (cleanup, which the caller runs, finds it gone).
func (ct *container) kill() {
	_ = ct.lc.Signal(syscall.SIGKILL)
	_, _ = ct.proc.Wait()
	_ = ct.lc.Destroy()
}

// wait records how the container's init process ended.
func (ct *container) wait() {
	if pid, err := ct.proc.Pid(); err == nil {
		peekExit(pid)
	}
	reapMu.RLock()
	st, _ := ct.proc.Wait()
	reapMu.RUnlock()
	var ws syscall.WaitStatus
	ok := false
	if st != nil {
		ws, ok = st.Sys().(syscall.WaitStatus)
	}
	ct.finish(ws, ok, time.Now())
}

// finish records an exit: ws is its wait status (ok false when it is not
// known), at when it was seen.
func (ct *container) finish(ws syscall.WaitStatus, ok bool, at time.Time) {
	defer close(ct.done)
	if ct.flush != nil {
		ct.flush()
	}
	ct.state = ContainerResult{Name: ct.name, Init: ct.init, Reason: "Completed", Attempt: ct.attempt,
		StartedAt: ct.state.StartedAt, FinishedAt: at}
	defer func() {
		if ct.state.ExitCode == 0 {
			return
		}
		if ct.oomKilled != nil && ct.oomKilled() {
			ct.state.Reason = "OOMKilled"
			return
		}
		if ct.oom == nil {
			return
		}
		select {
		case <-ct.oom:
			ct.state.Reason = "OOMKilled"
		default:
		}
	}()
	if !ok {
		ct.state.ExitCode, ct.state.Reason = 255, "Error"
		return
	}
	if ws.Signaled() {
		ct.state.Signal = ws.Signal().String()
		ct.state.ExitCode = 128 + int(ws.Signal())
	} else {
		ct.state.ExitCode = ws.ExitStatus()
	}
	if ct.state.ExitCode != 0 {
		ct.state.Reason = "Error"
	}
}

// signal sends sig to the container's processes.
func (ct *container) signal(sig os.Signal) {
	if ct.lc != nil {
		_ = ct.lc.Signal(sig)
	}
}

// destroy destroys the libcontainer container: its processes and cgroup.
// It is done once; cleanup does it first.
func (ct *container) destroy() error {
	var err error
	ct.destroyed.Do(func() {
		if ct.early != nil {
			ct.early.Close()
		}
		if ct.lc != nil {
			end := trace.Step("destroy")
			if e := ct.lc.Destroy(); e != nil {
				err = fmt.Errorf("destroying container %s: %w", ct.name, e)
			}
			end()
		}
	})
	return err
}

// cleanup destroys the libcontainer container (its processes and
// cgroup), unmounts its rootfs and subPaths and removes its directory.
func (ct *container) cleanup() error {
	var errs []error
	ct.cleaned.Do(func() {
		if err := ct.destroy(); err != nil {
			errs = append(errs, err)
		}
		end := trace.Step("unmount and remove")
		for _, s := range ct.subs {
			if err := unmountRemove(s); err != nil {
				errs = append(errs, err)
			}
		}
		if err := unmountRootfs(ct.dir); err != nil {
			errs = append(errs, err)
		}
		if err := removeAll(ct.dir); err != nil {
			errs = append(errs, err)
		}
		end()
	})
	return errors.Join(errs...)
}
