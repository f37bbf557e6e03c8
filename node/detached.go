package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/supervisor"
)

// Detached is the store of the node's detached pods (podsec run -d): their
// records, status, events and logs, each kept by the pod's supervisor.
func (n *Node) Detached() *supervisor.Store { return supervisor.Open(n.root) }

// SupervisorOptions are the node's settings a detached pod's supervisor
// inherits: recorded with the pod (RecordDetached), read by
// supervisor.Supervise.
func (n *Node) SupervisorOptions() supervisor.Options {
	o := supervisor.Options{
		BackoffBase: n.cfg.RestartBackoff, Network: "none",
		SeccompProfileRoot: n.cfg.SeccompProfileRoot, SeccompDefault: string(n.cfg.SeccompDefault),
		PodPidsLimit: n.cfg.PidsLimit, HousekeepingInterval: n.cfg.HousekeepingInterval, UserNSBase: n.cfg.UserNSBase,
	}
	if c := n.cfg.CNI; c != nil {
		o.Network, o.CNIConfDir, o.CNIBinDirs, o.NetpolTable = "cni", c.ConfDir, c.BinDirs, c.NetpolTable
	}
	return o
}

// RecordDetached records an admitted pod (Prepare) for a supervisor to
// run, with the objects its volumes read and the node's
// SupervisorOptions; the caller then starts the supervisor
// (supervisor.Supervise) in a process of its own.
func (n *Node) RecordDetached(pod *corev1.Pod, opts RunOptions) error {
	return n.Detached().Create(pod, supervisor.Sources{ConfigMaps: opts.ConfigMaps, Secrets: opts.Secrets}, n.SupervisorOptions())
}

// stopMargin is how long past the grace period a stop waits for a
// supervisor to end.
const stopMargin = 30 * time.Second

// StopPod asks a detached pod's supervisor to stop it (SIGTERM to the
// containers, their grace period, then SIGKILL) and waits until it has,
// at most grace and a margin. The pod's record stays.
func (n *Node) StopPod(namespace, name string, grace time.Duration) error {
	wait, err := n.SignalStop(namespace, name)
	if err != nil {
		return err
	}
	return wait(grace)
}

// SignalStop asks a detached pod's supervisor to stop the pod; the
// function it returns waits until the supervisor has (at most its grace
// argument and a margin), so that many pods stop at once.
func (n *Node) SignalStop(namespace, name string) (wait func(grace time.Duration) error, err error) {
	rec, err := n.Detached().Get(namespace, name)
	if err != nil {
		return nil, err
	}
	if !rec.SupervisorAlive {
		return func(time.Duration) error { return nil }, nil
	}
	// The request, kept for a supervisor that changes image (it hands its
	// pod to its monitor and back) when the signal comes.
	if f, err := os.OpenFile(filepath.Join(n.Detached().Dir(namespace, name), supervisor.StopFile), os.O_WRONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	if err := syscall.Kill(rec.Supervisor.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf("stopping pod %q: %w", name, err)
	}
	return func(grace time.Duration) error {
		deadline := time.Now().Add(grace + stopMargin)
		for time.Now().Before(deadline) {
			if !rec.Supervisor.Alive() {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("stopping pod %q: its supervisor (pid %d) still runs", name, rec.Supervisor.PID)
	}, nil
}

// DeletePods stops detached pods and removes their records, as kubectl
// deletes pods: every pod is told to stop first, then each is waited for,
// so their grace periods run at once. all adds every pod of the
// namespace; gracePeriod, in seconds, replaces the pods' own when it is
// not negative. deleted is called for each pod removed.
func (n *Node) DeletePods(namespace string, names []string, all bool, gracePeriod int64, deleted func(name string)) error {
	st := n.Detached()
	if namespace == "" {
		namespace = "default"
	}
	if all {
		recs, err := st.List(namespace)
		if err != nil {
			return err
		}
		for _, r := range recs {
			names = append(names, r.Pod.Name)
		}
	}
	var errs []error
	waits := map[string]func(time.Duration) error{}
	for _, name := range names {
		if gracePeriod >= 0 {
			// The supervisor reads it when it stops the pod.
			_ = os.WriteFile(filepath.Join(st.Dir(namespace, name), "grace"), []byte(strconv.FormatInt(gracePeriod, 10)), 0o600)
		}
		wait, err := n.SignalStop(namespace, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		waits[name] = wait
	}
	for _, name := range names {
		wait, ok := waits[name]
		if !ok {
			continue
		}
		// As podsec stop waits: the default grace period, then the margin.
		if err := wait(30 * time.Second); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := st.Remove(namespace, name); err != nil {
			errs = append(errs, err)
			continue
		}
		deleted(name)
	}
	return errors.Join(errs...)
}
