package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/internal/handover"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/runtime/logs"
	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// suspendAfter is how long a supervisor waits with nothing happening
// before it hands its pod to the monitor.
const suspendAfter = time.Second

// suspendedFile holds what the supervisor needs to take its pod back.
const suspendedFile = "suspended.json"

// ProbesFile holds, in a pod's record, the probes the supervisor and its
// monitor hand each other (netprobe.EncodeAll), where they stand.
const ProbesFile = "probes"

// StopFile is made in a pod's record by podsec stop and delete before
// they signal its supervisor: the request survives a signal that comes
// while the supervisor's process changes image.
const StopFile = "stop"

// Handoff is how a supervisor hands its pod to podsec-monitor, a small
// program that only waits, while nothing needs the supervisor: the same
// process executes the monitor (execve), which keeps the containers and
// the sandbox as its children and their log pipes and copies the logs,
// and executes the supervisor again (Argv, with the events as
// arguments: see ParseEvents) when a container exits, a restart is due
// or the pod is to stop. The process, and so the supervisor's identity
// recorded for the pod, stays the same throughout.
type Handoff struct {
	// Monitor is the podsec-monitor binary; "" keeps the supervisor.
	Monitor string
	// Argv is the supervise command line, the binary first.
	Argv []string
}

// Events are what happened while the monitor watched the pod.
type Events struct {
	// Exits are the containers' exits, by PID.
	Exits map[int]runtime.Exit
	// Timers are the containers whose restart is due.
	Timers []string
	// Stop asks for the pod to stop.
	Stop bool
	// Logs are the read ends of the running containers' stdout and
	// stderr pipes, by container.
	Logs map[string][2]int
	// Probed says the monitor ran probes: where they stand is in the
	// record's ProbesFile.
	Probed bool
}

// Event arguments of the supervise command, as podsec-monitor passes them.
const (
	ArgResume = "--resume"
	argExit   = "--exit="  // PID:WAITSTATUS:UNIXNANO
	argTimer  = "--timer=" // CONTAINER
	argStop   = "--stop"
	argLogs   = "--logs=" // CONTAINER:STDOUTFD:STDERRFD
	argProbes = "--probes"
)

// ParseEvents splits the event arguments from the other arguments of a
// supervise command line. resume reports whether it resumes a pod.
func ParseEvents(args []string) (rest []string, ev Events, resume bool, err error) {
	ev = Events{Exits: map[int]runtime.Exit{}, Logs: map[string][2]int{}}
	for _, a := range args {
		switch {
		case a == ArgResume:
			resume = true
		case a == argStop:
			ev.Stop = true
		case strings.HasPrefix(a, argTimer):
			ev.Timers = append(ev.Timers, strings.TrimPrefix(a, argTimer))
		case strings.HasPrefix(a, argExit):
			f := strings.Split(strings.TrimPrefix(a, argExit), ":")
			n, e := atois(f, 3)
			if e != nil {
				return nil, ev, false, fmt.Errorf("%s: %w", a, e)
			}
			ev.Exits[int(n[0])] = runtime.Exit{Status: syscall.WaitStatus(n[1]), At: time.Unix(0, n[2])}
		case a == argProbes:
			ev.Probed = true
		case strings.HasPrefix(a, argLogs):
			f := strings.Split(strings.TrimPrefix(a, argLogs), ":")
			if len(f) != 3 {
				return nil, ev, false, fmt.Errorf("%s: want CONTAINER:STDOUTFD:STDERRFD", a)
			}
			n, e := atois(f[1:], 2)
			if e != nil {
				return nil, ev, false, fmt.Errorf("%s: %w", a, e)
			}
			ev.Logs[f[0]] = [2]int{int(n[0]), int(n[1])}
		default:
			rest = append(rest, a)
		}
	}
	return rest, ev, resume, nil
}

func atois(f []string, want int) ([]int64, error) {
	if len(f) != want {
		return nil, fmt.Errorf("want %d numbers", want)
	}
	out := make([]int64, want)
	for i, s := range f {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// suspended is the supervisor's state across a hand-off.
type suspended struct {
	Pod        runtime.Suspended     `json:"pod"`
	Containers map[string]savedState `json:"containers"`
}

// savedState is a ctrState across a hand-off.
type savedState struct {
	Attempt   int       `json:"attempt"`
	Restarts  int       `json:"restarts"`
	Running   bool      `json:"running,omitempty"`
	Waiting   bool      `json:"waiting,omitempty"`
	Started   bool      `json:"started,omitempty"`
	Ready     bool      `json:"ready,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	RestartAt time.Time `json:"restartAt"`
}

// canSuspend reports whether nothing but the monitor's waiting, copying
// and probing is needed.
func (sv *supervisor) canSuspend() bool {
	if sv.hand.Monitor == "" || len(sv.timers) > 0 || len(sv.probes) > 0 {
		return false
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.probesWatchable()
}

// suspend hands the pod to the monitor: the process executes it, and
// suspend returns only if it could not. The probe workers stop first and
// the monitor goes on from where they stood; if a change came meanwhile,
// or the hand-off fails, they go on here and the supervisor acts on it.
func (sv *supervisor) suspend() {
	if !sv.canSuspend() {
		return
	}
	paused, changes := sv.pauseProbes()
	defer func() {
		sv.unpauseProbes(paused)
		for _, pe := range changes {
			sv.probed(pe)
		}
		if len(changes) > 0 {
			sv.writeStatus()
		}
	}()
	if len(changes) == 0 {
		sv.handOff(paused)
	}
}

// handOff executes the monitor with the pod and its paused probes.
func (sv *supervisor) handOff(paused []pausedProbe) {
	s, resume, err := sv.p.Suspend()
	if err != nil {
		return
	}
	defer resume()
	st := suspended{Pod: s, Containers: map[string]savedState{}}
	sv.mu.Lock()
	for name, c := range sv.ctrs {
		st.Containers[name] = savedState{Attempt: c.attempt, Restarts: c.restarts, Running: c.running, Waiting: c.waiting,
			Started: c.started, Ready: c.ready, StartedAt: c.startedAt, RestartAt: c.restartAt}
	}
	pumps := map[string]*logs.Pump{}
	for _, a := range s.Apps {
		// An exit the loop has not seen yet, or a container without its
		// pump: not now.
		if st.Containers[a.Name].Running != (a.Result == nil) || a.Result == nil && sv.pumps[a.Name] == nil {
			sv.mu.Unlock()
			return
		}
		if a.Result == nil {
			pumps[a.Name] = sv.pumps[a.Name]
		}
	}
	sv.mu.Unlock()
	argv := []string{sv.hand.Monitor, "--record", sv.dir, "--sandbox", strconv.Itoa(s.SandboxPid), "--keep-fd", strconv.Itoa(s.SandboxLife)}
	keep := []int{s.SandboxLife}
	type pipes struct{ out, err *os.File }
	detached := map[string]pipes{}
	for _, a := range s.Apps {
		c := st.Containers[a.Name]
		if c.Waiting {
			argv = append(argv, "--timer", a.Name+":"+strconv.FormatInt(c.RestartAt.UnixNano(), 10))
		}
		pump := pumps[a.Name]
		if pump == nil {
			continue
		}
		out, errf, _ := pump.Detach()
		if out == nil {
			continue
		}
		detached[a.Name] = pipes{out, errf}
		o, e := handover.FD(out), handover.FD(errf)
		keep = append(keep, o, e)
		argv = append(argv, "--container", fmt.Sprintf("%s:%d:%d:%d:%s", a.Name, a.Pid, o, e,
			sv.store.LogPath(sv.pod.Namespace, sv.pod.Name, a.Name, a.Attempt)))
	}
	if len(paused) > 0 {
		specs := make([]netprobe.Spec, len(paused))
		for i, p := range paused {
			specs[i] = p.spec
		}
		var b []byte
		if b, err = netprobe.EncodeAll(specs); err == nil {
			path := filepath.Join(sv.dir, ProbesFile)
			err = atomicfile.Write(path, b, 0o600)
			argv = append(argv, "--probes", path)
		}
	}
	if err == nil {
		err = atomicfile.WriteJSON(filepath.Join(sv.dir, suspendedFile), st)
	}
	if err == nil {
		argv = append(append(argv, "--"), sv.hand.Argv...)
		sv.events.Sync()
		err = handover.Exec(sv.hand.Monitor, argv, keep)
	}
	// The supervisor goes on watching, and no longer hands off.
	sv.event("Warning", "MonitorFailed", fmt.Sprintf("handing the pod to %s: %v", sv.hand.Monitor, err))
	sv.hand.Monitor = ""
	for name, p := range detached {
		pump, perr := logs.NewPump(sv.store.LogPath(sv.pod.Namespace, sv.pod.Name, name, st.Containers[name].Attempt), p.out, p.err, logs.WriterOptions{})
		if perr != nil {
			sv.event("Warning", "Failed", fmt.Sprintf("logs of container %s: %v", name, perr))
			continue
		}
		sv.mu.Lock()
		sv.pumps[name] = pump
		sv.mu.Unlock()
	}
}

// Resume takes back a pod from podsec-monitor (see Handoff) and goes on
// supervising it, with what happened meanwhile (ev), as Supervise does.
func Resume(ctx context.Context, root, namespace, name string, images runtime.ImageSource, ev Events, h Handoff) error {
	sv, src, err := load(root, namespace, name, h)
	if err != nil {
		return err
	}
	if err := sv.openEvents(); err != nil {
		return err
	}
	defer sv.events.Close()
	var st suspended
	if err := readJSONFile(filepath.Join(sv.dir, suspendedFile), &st); err != nil {
		return fmt.Errorf("resuming pod %q: %w", name, err)
	}
	for n, c := range st.Containers {
		if cs := sv.ctrs[n]; cs != nil {
			cs.attempt, cs.restarts, cs.running, cs.waiting = c.Attempt, c.Restarts, c.Running, c.Waiting
			cs.started, cs.ready, cs.startedAt, cs.restartAt = c.Started, c.Ready, c.StartedAt, c.RestartAt
		}
	}
	closeNet, err := sv.newRuntime(root, images)
	defer closeNet()
	if err == nil {
		sv.p, err = sv.rt.Resume(sv.pod, st.Pod, ev.Exits, runtime.WithConfigMaps(src.ConfigMaps...), runtime.WithSecrets(src.Secrets...))
	}
	if err != nil {
		// Nothing can run the pod now: its containers stay, the supervisor
		// goes, and the pod is Unknown until gc settles it.
		sv.event("Warning", "Failed", err.Error())
		return err
	}
	for n, fds := range ev.Logs {
		c := sv.ctrs[n]
		if c == nil {
			continue
		}
		out, errf := handover.Pipe(fds[0], "stdout"), handover.Pipe(fds[1], "stderr")
		pump, err := logs.NewPump(sv.store.LogPath(sv.pod.Namespace, sv.pod.Name, n, c.attempt), out, errf, logs.WriterOptions{})
		if err != nil {
			sv.event("Warning", "Failed", fmt.Sprintf("logs of container %s: %v", n, err))
			continue
		}
		sv.pumps[n] = pump
	}
	ctxs := map[string]context.Context{}
	for n, c := range sv.ctrs {
		if c.running {
			ctx, cancel := context.WithCancel(context.Background())
			c.cancel, ctxs[n] = cancel, ctx
		}
	}
	var probes []netprobe.Spec
	if ev.Probed {
		b, err := os.ReadFile(filepath.Join(sv.dir, ProbesFile))
		if err == nil {
			probes, err = netprobe.DecodeAll(b)
		}
		if err != nil {
			sv.event("Warning", "Unhealthy", fmt.Sprintf("probes from the monitor: %v; they start again", err))
		}
	}
	changes, handback := sv.resumeProbes(ctxs, probes)
	due := map[string]bool{}
	for _, n := range ev.Timers {
		due[n] = true
	}
	for n, c := range sv.ctrs {
		if !c.waiting {
			continue
		}
		if due[n] {
			sv.timers <- n
		} else {
			sv.restartAfter(n, time.Until(c.restartAt))
		}
	}
	_, statErr := os.Stat(filepath.Join(sv.dir, StopFile))
	stop := ev.Stop || statErr == nil
	for _, pe := range changes {
		sv.probed(pe)
	}
	sv.writeStatus()
	if !stop && len(ev.Exits) == 0 && len(ev.Timers) == 0 && len(changes) == 0 && !handback {
		// The monitor gave the pod back for nothing: it could not watch it
		// (see supervisor.log). The supervisor keeps it.
		sv.event("Warning", "MonitorFailed", "the monitor gave the pod back; the supervisor keeps watching it")
		sv.hand.Monitor = ""
	}
	sv.loop(ctx, stop)
	return sv.finish()
}
