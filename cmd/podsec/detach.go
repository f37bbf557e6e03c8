package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/node"
	"github.com/podsec/podsec/supervisor"
)

// startTimeout bounds how long `podsec run -d` waits for the pod's
// containers to run (image pulls included).
const startTimeout = 5 * time.Minute

// supervisorExitWait bounds how long `podsec run -d` waits for a
// supervisor that reported a failure to exit.
const supervisorExitWait = 30 * time.Second

// runDetached records the pod, starts its supervisor as a process of its
// own (a new session, surviving this command) and waits until the pod's
// containers run or the supervisor gives the reason they cannot.
func runDetached(cmd *cobra.Command, g *globals, n *node.Node, pod *corev1.Pod, opts node.RunOptions) error {
	// The network is only for the cleanup (the supervisor attaches the
	// pod): without one, dead pods' addresses cannot be released, so
	// nothing is cleaned.
	if _, err := n.Network(); err == nil {
		implicitGC(cmd, n)
	}
	st := n.Detached()
	if err := n.RecordDetached(pod, opts); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	logf, err := os.OpenFile(st.Dir(pod.Namespace, pod.Name)+"/supervisor.log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return err
	}
	defer logf.Close()
	sup := exec.Command(self, append([]string{"--root", g.root, "supervise", pod.Namespace, pod.Name}, imageLimitArgs(g)...)...)
	sup.Stdout, sup.Stderr = logf, logf
	sup.ExtraFiles = []*os.File{w}
	sup.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := sup.Start(); err != nil {
		w.Close()
		st.Remove(pod.Namespace, pod.Name)
		return fmt.Errorf("starting the pod's supervisor: %w", err)
	}
	w.Close()
	// Reap it should it end while we wait; it runs on alone otherwise.
	ended := make(chan struct{})
	go func() { sup.Wait(); close(ended) }()
	msg := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		msg <- string(b)
	}()
	select {
	case m := <-msg:
		if strings.HasPrefix(m, "R") {
			fmt.Fprintf(cmd.OutOrStdout(), "pod/%s created\n", pod.Name)
			return nil
		}
		// The supervisor ends: the pipe closes as it exits, before it is
		// gone. Returned once it is, the error is what the next command
		// sees too (a supervisor still alive keeps the pod's status).
		select {
		case <-ended:
		case <-time.After(supervisorExitWait):
		}
		if strings.HasPrefix(m, "E") {
			return fmt.Errorf("pod %q: %s", pod.Name, m[1:])
		}
		return fmt.Errorf("pod %q: the supervisor ended before the pod ran (see %s/supervisor.log)", pod.Name, st.Dir(pod.Namespace, pod.Name))
	case <-time.After(startTimeout):
		return fmt.Errorf("pod %q: not running after %s; it goes on starting (podsec get pods)", pod.Name, startTimeout)
	}
}

func newSuperviseCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "supervise NAMESPACE NAME",
		Short:  "supervise a detached pod (started by podsec run -d)",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rest, ev, resume, err := supervisor.ParseEvents(os.Args)
			if err != nil {
				return err
			}
			n, err := openNode(cmd, g)
			if err != nil {
				return err
			}
			store, err := n.Images()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
			h := handoff(rest)
			images := node.ImageSource(store, nil)
			if resume {
				return supervisor.Resume(ctx, g.root, args[0], args[1], images, ev, h)
			}
			// Keep the ready pipe from every process the supervisor starts.
			unix.CloseOnExec(3)
			ready := os.NewFile(3, "ready")
			sink := &onceCloser{f: ready}
			err = supervisor.Supervise(ctx, g.root, args[0], args[1], images, sink, h)
			sink.Close()
			return err
		},
	}
	addImageLimitFlags(cmd, g)
	// The events podsec-monitor passes (supervisor.ParseEvents reads them).
	cmd.Flags().Bool("resume", false, "take the pod back from its monitor")
	cmd.Flags().Bool("stop", false, "stop the pod")
	cmd.Flags().StringArray("exit", nil, "a container's exit: PID:WAITSTATUS:UNIXNANO")
	cmd.Flags().StringArray("timer", nil, "a container whose restart is due")
	cmd.Flags().StringArray("logs", nil, "a container's output pipes: NAME:STDOUTFD:STDERRFD")
	cmd.Flags().Bool("probes", false, "the monitor ran probes (in the pod's record)")
	for _, f := range []string{"resume", "stop", "exit", "timer", "logs", "probes"} {
		cmd.Flags().MarkHidden(f)
	}
	return cmd
}

// monitorName is the monitor's binary, next to podsec's.
const monitorName = "podsec-monitor"

// handoff is how the supervisor of this command line (without its event
// arguments) hands its pod to the monitor: none if podsec-monitor is not
// installed next to podsec.
func handoff(args []string) supervisor.Handoff {
	self, err := os.Executable()
	if err != nil {
		return supervisor.Handoff{}
	}
	mon := filepath.Join(filepath.Dir(self), monitorName)
	if st, err := os.Stat(mon); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return supervisor.Handoff{}
	}
	return supervisor.Handoff{Monitor: mon, Argv: append(append([]string{self}, args[1:]...), supervisor.ArgResume)}
}

// onceCloser closes the ready pipe after its one message, so the waiting
// command reads it and goes.
type onceCloser struct{ f *os.File }

func (o *onceCloser) Write(b []byte) (int, error) {
	n, err := o.f.Write(b)
	o.f.Close()
	if len(b) > 0 && b[0] == 'R' {
		// The pod runs: from here the supervisor mostly waits.
		supervisor.Settle()
	}
	return n, err
}

func (o *onceCloser) Close() { o.f.Close() }
