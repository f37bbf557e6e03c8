package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/runtime"
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
	// The pods run in the foreground too, as kubectl lists every pod.
	recs = append(recs, foregroundRecords(g.root, ns, st)...)
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i].Pod, recs[j].Pod
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	var errs []error
	if len(names) > 0 {
		var picked []*supervisor.Record
		for _, n := range names {
			r, err := st.Get(ns, n)
			if err != nil {
				r = foregroundRecord(runtime.Layout{Root: g.root}, ns, n)
			}
			if r == nil {
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
