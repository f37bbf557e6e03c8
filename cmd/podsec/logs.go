package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime/logs"
	"github.com/podsec/podsec/supervisor"
)

func newLogsCommand(g *globals) *cobra.Command {
	var ns, container string
	var follow, previous, timestamps bool
	var tail int64
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "print the logs of a pod's container",
		Example: `  podsec logs web
  podsec logs web -c sidecar -f
  podsec logs web --previous --timestamps`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ns == "" {
				ns = "default"
			}
			st := supervisor.Open(g.root)
			r, err := st.Get(ns, args[0])
			if err != nil {
				return err
			}
			name, err := pickContainer(r, container)
			if err != nil {
				return err
			}
			attempt := 0
			for _, s := range r.Status.ContainerStatuses {
				if s.Name == name {
					attempt = int(s.RestartCount)
				}
			}
			if previous {
				if attempt == 0 {
					return fmt.Errorf("previous terminated container %q in pod %q not found", name, args[0])
				}
				attempt--
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := logs.ReadOptions{Follow: follow && !previous, Timestamps: timestamps, Tail: tail}
			if opts.Follow {
				opts.Stop = followStop(ctx, st, ns, args[0], name, attempt)
			}
			return logs.Read(ctx, st.LogPath(ns, args[0], name, attempt), opts, cmd.OutOrStdout(), nil)
		},
	}
	addNamespaceFlag(cmd, &ns)
	cmd.Flags().StringVarP(&container, "container", "c", "", "container to print the logs of")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the log until the container ends")
	cmd.Flags().BoolVarP(&previous, "previous", "p", false, "the logs of the previous start of the container")
	cmd.Flags().BoolVar(&timestamps, "timestamps", false, "prefix each line with its RFC3339 timestamp")
	cmd.Flags().Int64Var(&tail, "tail", -1, "the last lines to show; -1 shows all")
	return cmd
}

// pickContainer is -c, or the pod's only (first) container.
func pickContainer(r *supervisor.Record, c string) (string, error) {
	if c == "" {
		return r.Pod.Spec.Containers[0].Name, nil
	}
	for _, x := range append(append([]corev1.Container{}, r.Pod.Spec.InitContainers...), r.Pod.Spec.Containers...) {
		if x.Name == c {
			return c, nil
		}
	}
	return "", fmt.Errorf("container %s is not valid for pod %s", c, r.Pod.Name)
}

// followStop is closed once that start of the container has ended (or its
// supervisor is gone), so a followed log ends with it.
func followStop(ctx context.Context, st *supervisor.Store, ns, pod, name string, attempt int) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			r, err := st.Get(ns, pod)
			if err != nil || !r.SupervisorAlive {
				return
			}
			for _, s := range r.Status.ContainerStatuses {
				if s.Name == name && (int(s.RestartCount) > attempt || s.State.Running == nil) {
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return ch
}
