// Command podsec-monitor watches a detached pod while its supervisor has
// nothing to do, so that what stays resident per pod is small (as
// conmon): a supervisor (podsec supervise) executes it in its own process
// (see supervisor.Handoff), and it executes the supervisor again when a
// container exits, a restart is due, a probe's result changes or the pod
// is to stop. Meanwhile it copies the containers' output into their CRI
// log files, keeps the pod's sandbox and containers as its children, and
// runs the containers' tcpSocket and httpGet probes (netprobe.Spec: the
// supervisor hands them over with their thresholds and where they stand).
//
// It uses only the standard library, golang.org/x/sys and podsec's log
// writer and network probes: no Kubernetes types, no libcontainer, no
// net package.
//
//	podsec-monitor --record DIR --sandbox PID --keep-fd FD
//	    [--timer NAME:UNIXNANO]... [--container NAME:PID:STDOUTFD:STDERRFD:LOGPATH]...
//	    [--probes FILE] -- SUPERVISE-COMMAND...
//
// make build links it with asynchronous preemption off (GODEBUG's
// asyncpreemptoff=1 as the binary's default, which //go:debug does not
// accept): the monitor has no loop that needs a signal to be preempted,
// and each such signal has the runtime look up the interrupted function
// in the binary's tables (pclntab), which the kernel maps 64 KiB at a
// time. On a busy node, 5 monitors running probes came to hold 280-400
// KiB of those tables each, against 12 KiB with the signals off.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/handover"
	"github.com/podsec/podsec/internal/memtrim"
	"github.com/podsec/podsec/runtime/logs"
	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// stopFile is supervisor.StopFile (this binary does not import
// supervisor, which brings the Kubernetes types).
const stopFile = "stop"

// drain bounds how long an exited container's output is awaited.
const drain = 2 * time.Second

// config is the monitor's command line.
type config struct {
	record     string
	sandbox    int
	keep       []int
	timers     map[string]time.Time
	containers []*container
	probes     []*netprobe.Spec
	probesFile string // where the probes came from and go back
	supervise  []string
}

// container is a running container the monitor watches.
type container struct {
	name     string
	pid      int
	out, err int
	log      string
	pump     *logs.Pump
}

func main() {
	goruntime.GOMAXPROCS(1)
	// Signals first: a stop that comes now is kept for the supervisor.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	cfg, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "podsec-monitor: %v\n", err)
		os.Exit(2)
	}
	if err := run(cfg, sigs); err != nil {
		fmt.Fprintf(os.Stderr, "podsec-monitor: %v\n", err)
		os.Exit(1)
	}
}

func parse(args []string) (*config, error) {
	cfg := &config{timers: map[string]time.Time{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			cfg.supervise = args[i+1:]
			break
		}
		if i+1 >= len(args) {
			return nil, fmt.Errorf("%s: no value", a)
		}
		v := args[i+1]
		i++
		switch a {
		case "--record":
			cfg.record = v
		case "--sandbox", "--keep-fd":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", a, v, err)
			}
			if a == "--sandbox" {
				cfg.sandbox = n
			} else {
				cfg.keep = append(cfg.keep, n)
			}
		case "--timer":
			name, at, ok := strings.Cut(v, ":")
			ns, err := strconv.ParseInt(at, 10, 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("--timer %q: want NAME:UNIXNANO", v)
			}
			cfg.timers[name] = time.Unix(0, ns)
		case "--probes":
			b, err := os.ReadFile(v)
			if err != nil {
				return nil, err
			}
			specs, err := netprobe.DecodeAll(b)
			if err != nil {
				return nil, fmt.Errorf("--probes %s: %w", v, err)
			}
			for i := range specs {
				cfg.probes = append(cfg.probes, &specs[i])
			}
			cfg.probesFile = v
		case "--container":
			f := strings.SplitN(v, ":", 5)
			if len(f) != 5 {
				return nil, fmt.Errorf("--container %q: want NAME:PID:STDOUTFD:STDERRFD:LOGPATH", v)
			}
			c := &container{name: f[0], log: f[4]}
			for j, p := range []*int{&c.pid, &c.out, &c.err} {
				n, err := strconv.Atoi(f[j+1])
				if err != nil {
					return nil, fmt.Errorf("--container %q: %w", v, err)
				}
				*p = n
			}
			cfg.containers = append(cfg.containers, c)
		default:
			return nil, fmt.Errorf("unknown argument %q", a)
		}
	}
	if cfg.record == "" || len(cfg.supervise) == 0 {
		return nil, fmt.Errorf("usage: podsec-monitor --record DIR --sandbox PID --keep-fd FD [--timer NAME:UNIXNANO]... [--container NAME:PID:STDOUTFD:STDERRFD:LOGPATH]... [--probes FILE] -- SUPERVISE-COMMAND")
	}
	return cfg, nil
}

// events is what the supervisor is executed again for.
type events struct {
	stop   bool
	exits  []string // PID:WAITSTATUS:UNIXNANO
	timers []string
	probed bool // a probe's result changed, or it needs the supervisor
}

func (e *events) any() bool { return e.stop || len(e.exits) > 0 || len(e.timers) > 0 || e.probed }

func run(cfg *config, sigs chan os.Signal) error {
	// Nothing the monitor starts (none) may inherit the pod's descriptors.
	for _, fd := range cfg.keep {
		unix.CloseOnExec(fd)
	}
	for _, c := range cfg.containers {
		out, errf := handover.Pipe(c.out, "stdout"), handover.Pipe(c.err, "stderr")
		p, err := logs.NewPump(c.log, out, errf, logs.WriterOptions{})
		if err != nil {
			// The supervisor takes the pod back, pipes and all.
			fmt.Fprintf(os.Stderr, "podsec-monitor: container %s: %v\n", c.name, err)
			return resume(cfg, &events{})
		}
		c.pump = p
	}
	// Only what the monitor touches stays mapped of its binary.
	memtrim.UnmapStatic()
	var ev events
	if _, err := os.Stat(filepath.Join(cfg.record, stopFile)); err == nil {
		ev.stop = true
	}
	probes := startProbers(cfg.probes)
	// One timer for the whole watch.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		// Exits that came before the signal handler, or between signals.
		reap(cfg, &ev)
		now := time.Now()
		var next time.Time
		for name, at := range cfg.timers {
			if !at.After(now) {
				ev.timers = append(ev.timers, name)
				delete(cfg.timers, name)
			} else if next.IsZero() || at.Before(next) {
				next = at
			}
		}
		next = probes.start(now, next)
		if ev.any() {
			return resume(cfg, &ev)
		}
		var wake <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			wake = timer.C
		}
		select {
		case s := <-sigs:
			if s != syscall.SIGCHLD {
				ev.stop = true
			}
		case <-wake:
		case r := <-probes.results:
			ev.probed = probes.done(r) || ev.probed
		}
		timer.Stop()
	}
}

// writeProbes puts the probes of the containers still running, where
// they stand (one in flight as it was before: the supervisor makes it
// again), back in their file, whole or not at all. Without them the
// supervisor starts the probes again.
func writeProbes(cfg *config) error {
	exited := map[string]bool{}
	for _, c := range cfg.containers {
		exited[c.name] = c.pid < 0
	}
	var specs []netprobe.Spec
	for _, p := range cfg.probes {
		if !exited[p.Container] {
			specs = append(specs, *p)
		}
	}
	b, err := netprobe.EncodeAll(specs)
	if err != nil {
		return err
	}
	// A new file of its own (O_EXCL, no symlink followed, mode 0600
	// whatever was there), not atomicfile: that package pulls
	// encoding/json into this small binary.
	tmp := cfg.probesFile + ".tmp"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, cfg.probesFile)
}

// reap collects the exits of the monitor's children: a container's is an
// event; the sandbox's and others' are only reaped.
func reap(cfg *config, ev *events) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		for _, c := range cfg.containers {
			if c.pid == pid {
				ev.exits = append(ev.exits, fmt.Sprintf("%d:%d:%d", pid, uint32(ws), time.Now().UnixNano()))
				c.pid = -1
			}
		}
	}
}

// resume executes the supervisor again with the events and the running
// containers' pipes. It returns only if it could not.
func resume(cfg *config, ev *events) error {
	argv := append([]string{}, cfg.supervise...)
	if ev.stop {
		argv = append(argv, "--stop")
	}
	for _, e := range ev.exits {
		argv = append(argv, "--exit="+e)
	}
	for _, t := range ev.timers {
		argv = append(argv, "--timer="+t)
	}
	if cfg.probesFile != "" && writeProbes(cfg) == nil {
		argv = append(argv, "--probes")
	}
	keep := append([]int{}, cfg.keep...)
	for _, c := range cfg.containers {
		if c.pid < 0 && c.pump != nil {
			// Its output up to its end, in its log: the supervisor records
			// the exit after it.
			c.pump.Finish(drain)
			continue
		}
		o, e := c.out, c.err
		if c.pump != nil {
			out, errf, _ := c.pump.Detach()
			if out == nil {
				continue
			}
			o, e = handover.FD(out), handover.FD(errf)
		}
		keep = append(keep, o, e)
		argv = append(argv, fmt.Sprintf("--logs=%s:%d:%d", c.name, o, e))
	}
	return handover.Exec(argv[0], argv, keep)
}
