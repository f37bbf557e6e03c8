package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/lc"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// Suspended is a running pod as its process keeps it across an execve:
// what Start made that a later image of the same process needs to go on
// (restart, stop and clean up the pod). Its containers and sandbox stay
// the process's children; the sandbox's life pipe is the one descriptor
// it must keep open (SandboxLife).
type Suspended struct {
	Files       map[string]string `json:"files,omitempty"`
	Shm         string            `json:"shm,omitempty"`
	VolumeDirs  map[string]string `json:"volumeDirs,omitempty"`
	OwnedDirs   []string          `json:"ownedDirs,omitempty"`
	Tmpfss      []string          `json:"tmpfss,omitempty"`
	SandboxPid  int               `json:"sandboxPid"`
	SandboxLife int               `json:"sandboxLife"`
	Namespaces  map[string]string `json:"namespaces,omitempty"`
	UserNS      *spec.IDRange     `json:"userNS,omitempty"`
	Inits       []ContainerResult `json:"inits,omitempty"`
	Apps        []SuspendedApp    `json:"apps"`
}

// SuspendedApp is an app container of a suspended pod: running (Pid) or
// ended (Result, already reported on Exits).
type SuspendedApp struct {
	Name      string           `json:"name"`
	Attempt   int              `json:"attempt"`
	Pid       int              `json:"pid,omitempty"`
	StartedAt time.Time        `json:"startedAt"`
	Subs      []string         `json:"subs,omitempty"`
	Result    *ContainerResult `json:"result,omitempty"`
}

// Exit is how a child of the process ended while no Pod watched it (in
// another image of the process).
type Exit struct {
	Status syscall.WaitStatus
	At     time.Time
}

// ErrNotSuspendable: the pod needs the runtime's own watch (its local
// storage limits), which does not survive an execve.
var ErrNotSuspendable = errors.New("pod cannot be suspended")

// Suspend describes the pod for Resume, for an execve of the process
// (the caller makes the sandbox's life pipe, SandboxLife, inheritable
// just before it). From here until resume is called, no exit of a
// container is reaped: the next image of the process reaps them. Every
// exit already on Exits must have been read. resume undoes Suspend
// when the execve fails.
func (p *Pod) Suspend() (s Suspended, resume func(), err error) {
	reapMu.Lock()
	s, err = p.suspend()
	if err != nil {
		reapMu.Unlock()
		return Suspended{}, nil, err
	}
	return s, reapMu.Unlock, nil
}

func (p *Pod) suspend() (Suspended, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopWatch != nil || p.cleaned || p.sb == nil || p.sb.cmd == nil && p.sb.proc == nil || p.evicted != "" {
		return Suspended{}, ErrNotSuspendable
	}
	if len(p.exits) > 0 {
		return Suspended{}, fmt.Errorf("%w: an exit is not read", ErrNotSuspendable)
	}
	s := Suspended{Files: p.files, Shm: p.shm, Namespaces: p.sb.paths, UserNS: p.userns,
		Inits: p.inits, SandboxPid: p.sb.pid(), SandboxLife: int(p.sb.life.Fd())}
	if p.vols != nil {
		s.VolumeDirs, s.OwnedDirs, s.Tmpfss = p.vols.dirs, p.vols.owned, p.vols.tmpfss
	}
	for _, ct := range p.apps {
		a := SuspendedApp{Name: ct.name, Attempt: ct.attempt, StartedAt: ct.state.StartedAt, Subs: ct.subs}
		select {
		case <-ct.done:
			// Reported on Exits once read there: read already.
			st := ct.state
			a.Result = &st
		default:
			if ct.proc == nil && ct.pid == 0 {
				return Suspended{}, ErrNotSuspendable
			}
			a.Pid = ct.pidOf()
		}
		s.Apps = append(s.Apps, a)
	}
	return s, nil
}

// Resume takes up a pod that an earlier image of this process started
// and suspended: its sandbox and running containers are this process's
// children. exits are the children that ended in between, by PID; they
// are reported on Exits. opts are those Start was given: the plan is made
// again from them, as it was.
func (r *Runtime) Resume(pod *corev1.Pod, s Suspended, exits map[int]Exit, opts ...RunOption) (*Pod, error) {
	ro := &runOptions{}
	for _, o := range opts {
		o(ro)
	}
	p := &Pod{rt: r, pod: pod, dir: r.layout.PodDir(pod.Namespace, pod.Name), files: s.Files, shm: s.Shm,
		exits: make(chan ContainerResult, 64), evictedCh: make(chan struct{}), userns: s.UserNS, inits: s.Inits}
	if p.files == nil {
		p.files = map[string]string{}
	}
	node := r.node
	if s.UserNS != nil {
		n := *r.node
		n.UserNS, node = s.UserNS, &n
	}
	var err error
	if p.plan, err = pipeline.Build(pod, node, ro.admission, ro.objects); err != nil {
		return nil, fmt.Errorf("resuming pod %q: %w", pod.Name, err)
	}
	p.res = p.plan.Resources
	if r.cfg.Network != nil && p.plan.Sandbox.Net {
		if p.att, err = r.cfg.Network.Get(podRef(pod)); err != nil {
			return nil, fmt.Errorf("resuming pod %q: %w", pod.Name, err)
		}
	}
	proc, err := os.FindProcess(s.SandboxPid)
	if err != nil {
		return nil, fmt.Errorf("resuming pod %q: sandbox: %w", pod.Name, err)
	}
	joined := make(chan error, 1)
	joined <- nil
	p.sb = &sandbox{proc: proc, paths: s.Namespaces, life: os.NewFile(uintptr(s.SandboxLife), "sandbox-life"), joined: joined}
	unix.CloseOnExec(s.SandboxLife)
	p.vols = &podVolumes{dirs: s.VolumeDirs, owned: s.OwnedDirs, tmpfss: s.Tmpfss}
	if p.vols.dirs == nil {
		p.vols.dirs = map[string]string{}
	}
	root := filepath.Join(r.layout.Root, "libcontainer")
	for _, a := range s.Apps {
		ct := &container{name: a.Name, attempt: a.Attempt, dir: r.layout.ContainerDir(pod.Namespace, pod.Name, a.Name),
			subs: a.Subs, done: make(chan struct{}), pid: a.Pid}
		ct.state.StartedAt = a.StartedAt
		if c, err := lc.Load(root, containerID(pod, a.Name)); err == nil {
			ct.lc = c
		}
		ct.oomKilled = func() bool { return oomKills(ct.lc) > 0 }
		p.apps = append(p.apps, ct)
		if a.Result != nil {
			ct.state = *a.Result
			close(ct.done)
			continue
		}
		if e, ok := exits[a.Pid]; ok {
			ct.finish(e.Status, true, e.At)
		} else {
			go ct.waitPid()
		}
		go p.report(ct)
	}
	return p, nil
}

// waitPid waits for a resumed container's init process, a child of this
// process.
func (ct *container) waitPid() {
	peekExit(ct.pid)
	reapMu.RLock()
	defer reapMu.RUnlock()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(ct.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		ct.finish(syscall.WaitStatus(ws), err == nil, time.Now())
		return
	}
}

// reapMu keeps the containers' exits from being reaped (readers) while
// the process suspends its pod (the writer): an exit it has not reaped
// stays a zombie for the next image of the process to reap.
var reapMu sync.RWMutex

// peekExit waits until the process pid has ended, without reaping it.
func peekExit(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// pidOf is the PID of the container's init process.
func (ct *container) pidOf() int {
	if ct.pid != 0 {
		return ct.pid
	}
	pid, _ := ct.proc.Pid()
	return pid
}

// oomKills counts the OOM kills in a container's memory cgroup (cgroup v1
// memory.oom_control, v2 memory.events); 0 when unknown.
func oomKills(c *libcontainer.Container) int {
	if c == nil {
		return 0
	}
	st, err := c.State()
	if err != nil {
		return 0
	}
	if dir, ok := st.CgroupPaths["memory"]; ok {
		return readOOMKills(dir)
	}
	return readOOMKills(st.CgroupPaths[""])
}

// readOOMKills reads the oom_kill count of a memory cgroup directory.
func readOOMKills(dir string) int {
	for _, f := range []string{"memory.oom_control", "memory.events"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n
			}
		}
	}
	return 0
}
