package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/store"
)

type getOptions struct {
	namespace     string
	allNamespaces bool
	output        string
}

func newGetCommand(g *globals) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get KIND [NAME...]",
		Short: "list stored policy objects, or print some of them",
		Long: `get prints stored objects as kubectl does: a table with aligned columns, or the
objects as YAML, JSON or kind/name lines. KIND is any name kubectl accepts for
the kind: plural, singular or short name (psp, ns, sa), optionally with its
group (podsecuritypolicies.policy).`,
		Example: `  # List the PodSecurityPolicies
  podsec get psp

  # Print one ClusterRole as YAML
  podsec get clusterrole psp:restricted -o yaml

  # List the RoleBindings of every namespace, with their subjects
  podsec get rolebindings -A -o wide`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.output {
			case "", "wide", "yaml", "json", "name":
			default:
				return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,name,wide,yaml", o.output)
			}
			if isPodKind(args[0]) {
				return getPods(cmd, g, o, args[1:])
			}
			st, err := openStore(g)
			if err != nil {
				return err
			}
			return runGet(cmd, st, o, args[0], args[1:])
		},
	}
	addNamespaceFlag(cmd, &o.namespace)
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the objects of every namespace")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "output format: yaml, json, name or wide")
	return cmd
}

func runGet(cmd *cobra.Command, st *store.Store, o *getOptions, kind string, names []string) error {
	k, err := st.Resolve(kind)
	if err != nil {
		return err
	}
	ns := o.namespace
	if ns == "" && !o.allNamespaces {
		ns = store.DefaultNamespace
	}
	if o.allNamespaces {
		ns = ""
	}
	var objs []store.Object
	var errs []error
	if len(names) == 0 {
		if objs, err = st.List(k.Plural, ns); err != nil {
			return err
		}
	}
	for _, name := range names {
		obj, err := st.Get(k.Plural, ns, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, obj)
	}
	// Tables and names are for people: escaped (internal/term). JSON and
	// YAML escape control characters themselves.
	out := term.NewWriter(cmd.OutOrStdout())
	switch {
	case len(objs) == 0 && len(names) == 0:
		if k.Namespaced && !o.allNamespaces {
			fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", ns)
		} else {
			fmt.Fprintln(cmd.ErrOrStderr(), "No resources found")
		}
	case len(objs) == 0:
	case o.output == "name":
		for _, obj := range objs {
			fmt.Fprintf(out, "%s/%s\n", k.KindGroup(k.Group()), obj.GetName())
		}
	case o.output == "yaml" || o.output == "json":
		if err := printObjects(cmd.OutOrStdout(), o.output, objs, len(names) == 1); err != nil {
			return err
		}
	default:
		printTable(out, k, objs, o.allNamespaces && k.Namespaced, o.output == "wide")
	}
	return errors.Join(errs...)
}

// printObjects prints one object, or a v1 List of several, as kubectl
// does.
func printObjects(w io.Writer, format string, objs []store.Object, single bool) error {
	var v any = objs[0]
	if !single {
		v = map[string]any{"apiVersion": "v1", "kind": "List", "items": objs, "metadata": map[string]string{"resourceVersion": ""}}
	}
	var data []byte
	var err error
	if format == "json" {
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return fmt.Errorf("printing objects: %w", err)
	}
	_, err = w.Write(data)
	return err
}

// printTable prints kubectl's columns for the kind.
func printTable(w io.Writer, k *store.Kind, objs []store.Object, withNamespace, wide bool) {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	defer tw.Flush()
	header, row := columns(k.Plural, wide)
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, obj := range objs {
		cells := row(obj)
		if withNamespace {
			cells = append([]string{obj.GetNamespace()}, cells...)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
}

// columns gives kubectl's header and row of a kind (pkg/printers/
// internalversion/printers.go); kinds without their own get NAME and AGE.
func columns(plural string, wide bool) ([]string, func(store.Object) []string) {
	switch plural {
	case "namespaces":
		return []string{"NAME", "STATUS", "AGE"}, func(o store.Object) []string {
			return []string{o.GetName(), string(o.(*corev1.Namespace).Status.Phase), age(o)}
		}
	case "serviceaccounts":
		return []string{"NAME", "SECRETS", "AGE"}, func(o store.Object) []string {
			return []string{o.GetName(), fmt.Sprint(len(o.(*corev1.ServiceAccount).Secrets)), age(o)}
		}
	case "clusterroles", "roles":
		return []string{"NAME", "CREATED AT"}, func(o store.Object) []string {
			return []string{o.GetName(), o.GetCreationTimestamp().UTC().Format(time.RFC3339)}
		}
	case "clusterrolebindings", "rolebindings":
		header := []string{"NAME", "ROLE", "AGE"}
		if wide {
			header = append(header, "USERS", "GROUPS", "SERVICEACCOUNTS")
		}
		return header, func(o store.Object) []string {
			var ref rbacv1.RoleRef
			var subjects []rbacv1.Subject
			switch b := o.(type) {
			case *rbacv1.ClusterRoleBinding:
				ref, subjects = b.RoleRef, b.Subjects
			case *rbacv1.RoleBinding:
				ref, subjects = b.RoleRef, b.Subjects
			}
			cells := []string{o.GetName(), ref.Kind + "/" + ref.Name, age(o)}
			if wide {
				cells = append(cells, subjectColumns(subjects, o.GetNamespace())...)
			}
			return cells
		}
	case "podsecuritypolicies":
		return []string{"NAME", "PRIV", "CAPS", "SELINUX", "RUNASUSER", "FSGROUP", "SUPGROUP", "READONLYROOTFS", "VOLUMES"}, pspRow
	}
	return []string{"NAME", "AGE"}, func(o store.Object) []string { return []string{o.GetName(), age(o)} }
}

// subjectColumns are the USERS, GROUPS and SERVICEACCOUNTS of a binding.
func subjectColumns(subjects []rbacv1.Subject, bindingNamespace string) []string {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = bindingNamespace
			}
			sas = append(sas, ns+"/"+s.Name)
		}
	}
	return []string{strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

// pspRow reads the printed fields through JSON, so that it serves any Go
// type the PodSecurityPolicy kind is stored as.
func pspRow(o store.Object) []string {
	var p struct {
		Spec struct {
			Privileged             bool     `json:"privileged"`
			AllowedCapabilities    []string `json:"allowedCapabilities"`
			SELinux                rule     `json:"seLinux"`
			RunAsUser              rule     `json:"runAsUser"`
			FSGroup                rule     `json:"fsGroup"`
			SupplementalGroups     rule     `json:"supplementalGroups"`
			ReadOnlyRootFilesystem bool     `json:"readOnlyRootFilesystem"`
			Volumes                []string `json:"volumes"`
		} `json:"spec"`
	}
	if data, err := json.Marshal(o); err == nil {
		_ = json.Unmarshal(data, &p) // a field of another type stays empty
	}
	s := p.Spec
	return []string{o.GetName(), fmt.Sprint(s.Privileged), strings.Join(s.AllowedCapabilities, ","), s.SELinux.Rule,
		s.RunAsUser.Rule, s.FSGroup.Rule, s.SupplementalGroups.Rule, fmt.Sprint(s.ReadOnlyRootFilesystem), strings.Join(s.Volumes, ",")}
}

type rule struct {
	Rule string `json:"rule"`
}

// age is kubectl's AGE column.
func age(o store.Object) string {
	ts := o.GetCreationTimestamp()
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(ts.Time))
}
