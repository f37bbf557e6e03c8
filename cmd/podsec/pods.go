package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/containerd/console"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/runtime/logs"
	"github.com/podsec/podsec/supervisor"
)

// isPodKind reports whether a kind argument names pods, as kubectl takes
// them.
func isPodKind(k string) bool {
	switch strings.ToLower(k) {
	case "pod", "pods", "po":
		return true
	}
	return false
}

// podObject is a record as a v1 Pod with its status, as the API shows it.
func podObject(r *supervisor.Record) corev1.Pod {
	p := *r.Pod.DeepCopy()
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	p.Status = r.Status
	if !r.SupervisorAlive && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		p.Status.Phase = corev1.PodUnknown
		p.Status.Reason = "SupervisorLost"
		p.Status.Message = "the pod's supervisor is gone: podsec gc cleans what it left"
	}
	return p
}

// getPods prints pods as kubectl get pods does.
func getPods(cmd *cobra.Command, g *globals, o *getOptions, names []string) error {
	st := supervisor.Open(g.root)
	ns := o.namespace
	if ns == "" {
		ns = "default"
	}
	if o.allNamespaces {
		ns = ""
	}
	recs, err := st.List(ns)
	if err != nil {
		return err
	}
	var errs []error
	if len(names) > 0 {
		var picked []*supervisor.Record
		for _, n := range names {
			r, err := st.Get(ns, n)
			if err != nil {
				errs = append(errs, fmt.Errorf("pods %q not found", n))
				continue
			}
			picked = append(picked, r)
		}
		recs = picked
	}
	// Tables and names are for people: escaped (internal/term). JSON and
	// YAML escape control characters themselves.
	out := term.NewWriter(cmd.OutOrStdout())
	switch {
	case len(recs) == 0 && len(names) == 0:
		if o.allNamespaces {
			fmt.Fprintln(cmd.ErrOrStderr(), "No resources found")
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", ns)
		}
	case o.output == "json" || o.output == "yaml":
		var v any
		if len(names) == 1 && len(recs) == 1 {
			v = podObject(recs[0])
		} else {
			list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
			for _, r := range recs {
				list.Items = append(list.Items, podObject(r))
			}
			v = list
		}
		if err := printAs(cmd.OutOrStdout(), o.output, v); err != nil {
			return err
		}
	case o.output == "name":
		for _, r := range recs {
			fmt.Fprintf(out, "pod/%s\n", r.Pod.Name)
		}
	default:
		tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
		head := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
		if o.allNamespaces {
			head = append([]string{"NAMESPACE"}, head...)
		}
		if o.output == "wide" {
			head = append(head, "IP", "NODE")
		}
		fmt.Fprintln(tw, strings.Join(head, "\t"))
		host, _ := os.Hostname()
		for _, r := range recs {
			ready, status, restarts := supervisor.Summary(r)
			row := []string{r.Pod.Name, ready, status, fmt.Sprint(restarts), podAge(r)}
			if o.allNamespaces {
				row = append([]string{r.Pod.Namespace}, row...)
			}
			if o.output == "wide" {
				ip := r.Status.PodIP
				if ip == "" {
					ip = "<none>"
				}
				row = append(row, ip, host)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	return errors.Join(errs...)
}

func podAge(r *supervisor.Record) string {
	if r.Status.StartTime == nil {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(r.Status.StartTime.Time))
}

func printAs(w io.Writer, format string, v any) error {
	if format == "yaml" {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

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

func newExecCommand(g *globals) *cobra.Command {
	var ns, container string
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
		Short: "run a command in a running container of a pod",
		Long: `exec runs a process in a running container, as kubectl exec does: in the
container's namespaces and cgroup, with its user, groups, capabilities,
seccomp profile and no_new_privs.`,
		Example: `  podsec exec web -- id
  podsec exec -it web -c main -- sh`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ns == "" {
				ns = "default"
			}
			r, err := supervisor.Open(g.root).Get(ns, args[0])
			if err != nil {
				return err
			}
			name, err := pickContainer(r, container)
			if err != nil {
				return err
			}
			opts := runtime.ExecOptions{Args: args[1:], Tty: tty, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
			if stdin {
				opts.Stdin = cmd.InOrStdin()
			}
			if tty {
				if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
					if err := cur.SetRaw(); err == nil {
						defer cur.Reset()
					}
					opts.Resize = func(c console.Console) { c.ResizeFrom(cur) }
				}
			}
			code, err := runtime.Layout{Root: g.root}.Exec(ns, args[0], name, opts)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	addNamespaceFlag(cmd, &ns)
	cmd.Flags().StringVarP(&container, "container", "c", "", "container to run the command in")
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "pass standard input to the command")
	cmd.Flags().BoolVarP(&tty, "tty", "t", false, "give the command a terminal")
	return cmd
}

func newStopCommand(g *globals) *cobra.Command {
	var ns string
	cmd := &cobra.Command{
		Use:     "stop POD...",
		Short:   "stop pods: SIGTERM, their grace period, then SIGKILL; their records stay",
		Example: "  podsec stop web",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ns == "" {
				ns = "default"
			}
			var errs []error
			for _, name := range args {
				if err := stopPod(g, ns, name, 30*time.Second); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pod/%s stopped\n", name)
			}
			return errors.Join(errs...)
		},
	}
	addNamespaceFlag(cmd, &ns)
	return cmd
}

// deletePods stops and forgets pods.
func deletePods(cmd *cobra.Command, g *globals, ns string, names []string, all bool, grace int64) error {
	st := supervisor.Open(g.root)
	if ns == "" {
		ns = "default"
	}
	if all {
		recs, err := st.List(ns)
		if err != nil {
			return err
		}
		for _, r := range recs {
			names = append(names, r.Pod.Name)
		}
	}
	var errs []error
	// Every pod is told to stop first, then each is waited for, so their
	// grace periods run at once, as when kubectl deletes many pods.
	waits := map[string]func(time.Duration) error{}
	for _, name := range names {
		if grace >= 0 {
			_ = os.WriteFile(st.Dir(ns, name)+"/grace", []byte(fmt.Sprint(grace)), 0o600)
		}
		wait, err := signalStop(g, ns, name)
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
		if err := wait(30 * time.Second); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := st.Remove(ns, name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "pod %q deleted\n", name)
	}
	return errors.Join(errs...)
}

func newGCCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "remove whatever dead pods left on the node and print what was removed",
		Long: `gc finds pods whose podsec process is gone (killed, or the node rebooted) and
removes what they left: container processes and cgroups, mounts and overlays,
network namespaces, links, IP allocations and host ports, state directories.
Pods whose podsec runs are never touched. Records of detached pods whose
supervisor died are marked Failed.`,
		Example: "  podsec gc",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var nw *network.Manager
			if g.podNetwork != "none" {
				var err error
				if nw, err = network.New(network.Config{StateDir: g.root + "/network", ConfDir: g.cniConfDir, BinDirs: g.cniBinDirs}); err != nil {
					return err
				}
				defer nw.Close(context.Background())
			}
			n := 0
			err := runtime.GC(cmd.Context(), g.root, nw, func(what string) {
				n++
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", what)
			})
			recs, _ := supervisor.Open(g.root).List("")
			for _, r := range recs {
				if marked, merr := supervisor.Open(g.root).MarkLost(r); merr == nil && marked {
					n++
					fmt.Fprintf(cmd.OutOrStdout(), "pod %s/%s marked Failed: its supervisor is gone\n", r.Pod.Namespace, r.Pod.Name)
				}
			}
			if n == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to remove")
			}
			// Without pods to isolate, the dataplane's table goes too.
			if g.podNetwork != "none" {
				err = errors.Join(err, syncNetworkPolicies(g))
			}
			return err
		},
	}
}
