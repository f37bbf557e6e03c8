package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/supervisor"
)

func newDescribeCommand(g *globals) *cobra.Command {
	var ns string
	cmd := &cobra.Command{
		Use:     "describe pod NAME",
		Short:   "show a pod, its containers' states and the events of its life",
		Example: "  podsec describe pod web",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isPodKind(args[0]) {
				return fmt.Errorf("describe knows pods: podsec describe pod NAME")
			}
			if ns == "" {
				ns = "default"
			}
			st := supervisor.Open(g.root)
			r, err := st.Get(ns, args[1])
			if err != nil {
				return err
			}
			evs, _ := st.Events(ns, args[1])
			// Names, messages and events come from the pod and its image.
			describePod(term.NewWriter(cmd.OutOrStdout()), r, evs)
			return nil
		},
	}
	addNamespaceFlag(cmd, &ns)
	return cmd
}

func describePod(w io.Writer, r *supervisor.Record, evs []supervisor.Event) {
	p := podObject(r)
	_, status, _ := supervisor.Summary(r)
	fmt.Fprintf(w, "Name:         %s\nNamespace:    %s\n", p.Name, p.Namespace)
	if p.Status.StartTime != nil {
		fmt.Fprintf(w, "Start Time:   %s\n", p.Status.StartTime.Format(time.RFC1123Z))
	}
	fmt.Fprintf(w, "Labels:       %s\n", labels(p.Labels))
	fmt.Fprintf(w, "Status:       %s\n", p.Status.Phase)
	if status != string(p.Status.Phase) {
		fmt.Fprintf(w, "Reason:       %s\n", status)
	}
	if p.Status.Message != "" {
		fmt.Fprintf(w, "Message:      %s\n", p.Status.Message)
	}
	fmt.Fprintf(w, "IP:           %s\nQoS Class:    %s\n", orNone(p.Status.PodIP), p.Status.QOSClass)
	section := func(title string, cs []corev1.Container, sts []corev1.ContainerStatus) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, c := range cs {
			fmt.Fprintf(w, "  %s:\n    Image:          %s\n", c.Name, c.Image)
			for _, s := range sts {
				if s.Name != c.Name {
					continue
				}
				fmt.Fprintf(w, "    State:          %s\n", stateLine(s.State))
				if s.LastTerminationState.Terminated != nil || s.LastTerminationState.Waiting != nil {
					fmt.Fprintf(w, "    Last State:     %s\n", stateLine(s.LastTerminationState))
				}
				fmt.Fprintf(w, "    Ready:          %v\n    Restart Count:  %d\n", s.Ready, s.RestartCount)
			}
		}
	}
	section("Init Containers", p.Spec.InitContainers, p.Status.InitContainerStatuses)
	section("Containers", p.Spec.Containers, p.Status.ContainerStatuses)
	fmt.Fprintln(w, "Conditions:\n  Type              Status")
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(w, "  %-17s %s\n", c.Type, c.Status)
	}
	fmt.Fprintln(w, "Events:")
	if len(evs) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Type\tReason\tAge\tMessage")
	fmt.Fprintln(tw, "  ----\t------\t----\t-------")
	for _, e := range evs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.Type, e.Reason, duration.HumanDuration(time.Since(e.Time)), e.Message)
	}
	tw.Flush()
}

func stateLine(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "Running (started " + s.Running.StartedAt.Format(time.RFC1123Z) + ")"
	case s.Waiting != nil:
		return "Waiting (" + s.Waiting.Reason + ")"
	case s.Terminated != nil:
		return fmt.Sprintf("Terminated (%s, exit code %d, finished %s)", s.Terminated.Reason, s.Terminated.ExitCode, s.Terminated.FinishedAt.Format(time.RFC1123Z))
	}
	return "Waiting"
}

func labels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, "\n              ")
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
