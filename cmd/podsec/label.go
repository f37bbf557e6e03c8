package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/store"
	"github.com/podsec/podsec/supervisor"
)

// metaField is what `podsec label` and `podsec annotate` change: the
// labels or the annotations of an object's metadata.
type metaField struct {
	name     string // "label", "annotation"
	path     *field.Path
	get      func(meta *metaAccess) map[string]string
	set      func(meta *metaAccess, m map[string]string)
	validate func(m map[string]string, p *field.Path) field.ErrorList
}

// metaAccess reaches the metadata of a pod or of a stored object.
type metaAccess struct {
	labels, annotations map[string]string
}

var (
	labelsField = metaField{
		name: "label", path: field.NewPath("metadata", "labels"),
		get:      func(m *metaAccess) map[string]string { return m.labels },
		set:      func(m *metaAccess, v map[string]string) { m.labels = v },
		validate: metav1validation.ValidateLabels,
	}
	annotationsField = metaField{
		name: "annotation", path: field.NewPath("metadata", "annotations"),
		get:      func(m *metaAccess) map[string]string { return m.annotations },
		set:      func(m *metaAccess, v map[string]string) { m.annotations = v },
		validate: apivalidation.ValidateAnnotations,
	}
)

// metaChange is the KEY=VALUE and KEY- arguments of one command.
type metaChange struct {
	f         metaField
	set       map[string]string
	remove    []string
	overwrite bool
}

// splitMetaArgs separates the resource arguments from the changes, as
// kubectl does: an argument with "=" sets, one ending in "-" removes.
func splitMetaArgs(f metaField, args []string) (resources []string, c metaChange, err error) {
	c = metaChange{f: f, set: map[string]string{}}
	var errs field.ErrorList
	for _, a := range args {
		switch {
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			if _, dup := c.set[k]; dup {
				return nil, c, fmt.Errorf("%s %q is given twice", f.name, k)
			}
			c.set[k] = v
		case len(a) > 1 && strings.HasSuffix(a, "-"): // names never end in "-"
			c.remove = append(c.remove, strings.TrimSuffix(a, "-"))
		default:
			if len(c.set)+len(c.remove) > 0 {
				return nil, c, fmt.Errorf("all resources must be specified before %s changes: %s", f.name, a)
			}
			resources = append(resources, a)
		}
	}
	if len(c.set)+len(c.remove) == 0 {
		return nil, c, fmt.Errorf("at least one %s update is required", f.name)
	}
	for _, k := range c.remove {
		if _, both := c.set[k]; both {
			return nil, c, fmt.Errorf("can not both modify and remove %s %q in the same command", f.name, k)
		}
	}
	// The new values, and the keys to remove, with apimachinery's rules
	// and field paths (metadata.labels, metadata.annotations).
	errs = append(errs, f.validate(c.set, f.path)...)
	for _, k := range c.remove {
		errs = append(errs, metav1validation.ValidateLabelName(k, f.path)...)
	}
	if len(errs) > 0 {
		return nil, c, errs.ToAggregate()
	}
	return resources, c, nil
}

// apply changes m and reports whether anything changed and whether it
// only removed keys. Without --overwrite a key that has another value is
// an error, as in kubectl; removing a missing key is only reported.
func (c metaChange) apply(m map[string]string, warn func(string)) (map[string]string, bool, bool, error) {
	var conflicts []string
	for k, v := range c.set {
		if old, ok := m[k]; ok && old != v && !c.overwrite {
			conflicts = append(conflicts, fmt.Sprintf("'%s' already has a value (%s)", k, old))
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		if c.f.name == "annotation" {
			return nil, false, false, fmt.Errorf("--overwrite is false but found the following declared annotation(s): %s", strings.Join(conflicts, ", "))
		}
		return nil, false, false, fmt.Errorf("%s, and --overwrite is false", strings.Join(conflicts, ", "))
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	changed, removed := false, false
	for k, v := range c.set {
		if old, ok := out[k]; !ok || old != v {
			changed = true
		}
		out[k] = v
	}
	for _, k := range c.remove {
		if _, ok := out[k]; !ok {
			warn(fmt.Sprintf("%s %q not found.", c.f.name, k))
			continue
		}
		delete(out, k)
		removed = true
	}
	if len(out) == 0 {
		out = nil
	}
	return out, changed || removed, removed && !changed, nil
}

// verb is what the command prints after the object, as kubectl does.
func (c metaChange) verb(changed, onlyRemoved bool) string {
	if c.f.name == "annotation" {
		return "annotated"
	}
	switch {
	case !changed:
		return "not labeled"
	case onlyRemoved:
		return "unlabeled"
	}
	return "labeled"
}

func newLabelCommand(g *globals) *cobra.Command {
	return newMetaCommand(g, labelsField, "label", `update the labels of pods, namespaces and stored objects, as kubectl label does`,
		`label sets (KEY=VALUE) or removes (KEY-) labels of a pod (detached or in the
foreground, running or not), a namespace or any object "podsec apply" stores.
A label that already has another value is changed only with --overwrite. Keys
and values are checked as the API server checks them, and an invalid one is
reported with its field path. The NetworkPolicy dataplane follows the change at
once: a relabelled pod gets the policies its new labels select, a relabelled
namespace the namespaceSelectors that now match it.`,
		`  # Move pod web into the policies that select tier=db
  podsec label pod web tier=db --overwrite

  # Label a namespace, remove a label
  podsec label ns team-a team=a
  podsec label pod web tier-`)
}

func newAnnotateCommand(g *globals) *cobra.Command {
	return newMetaCommand(g, annotationsField, "annotate", `update the annotations of pods, namespaces and stored objects, as kubectl annotate does`,
		`annotate sets (KEY=VALUE) or removes (KEY-) annotations of a pod (detached or
in the foreground), a namespace or any object "podsec apply" stores. An
annotation that already has another value is changed only with --overwrite.`,
		`  podsec annotate pod web description='the shop front'
  podsec annotate ns team-a owner-`)
}

func newMetaCommand(g *globals, f metaField, use, short, long, example string) *cobra.Command {
	var overwrite, all bool
	var namespace string
	cmd := &cobra.Command{
		Use:     use + " [--overwrite] (TYPE NAME... | TYPE/NAME... | TYPE --all) KEY_1=VAL_1 ... KEY_N=VAL_N | KEY-",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			resources, change, err := splitMetaArgs(f, args)
			if err != nil {
				return err
			}
			change.overwrite = overwrite
			targets, err := metaTargets(resources, all)
			if err != nil {
				return err
			}
			if namespace == "" {
				namespace = store.DefaultNamespace
			}
			m := &metaUpdater{g: g, cmd: cmd, change: change, namespace: namespace}
			var errs []error
			for _, t := range targets {
				if err := m.update(t); err != nil {
					errs = append(errs, err)
				}
			}
			if m.netpolChanged {
				errs = append(errs, syncNetworkPolicies(cmd, g))
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "change "+f.name+"s that already have another value")
	cmd.Flags().BoolVar(&all, "all", false, "every object of the type in the namespace")
	addNamespaceFlag(cmd, &namespace)
	return cmd
}

// metaTarget is one object to change: a kind and a name ("" with --all).
type metaTarget struct{ kind, name string }

func metaTargets(resources []string, all bool) ([]metaTarget, error) {
	if len(resources) == 0 {
		return nil, errors.New("you must specify the type of resource to update")
	}
	var out []metaTarget
	if strings.Contains(resources[0], "/") {
		for _, r := range resources {
			k, n, ok := strings.Cut(r, "/")
			if !ok || k == "" || n == "" {
				return nil, fmt.Errorf("%q: give TYPE/NAME for every object, or TYPE NAME...", r)
			}
			out = append(out, metaTarget{k, n})
		}
		return out, nil
	}
	kind := resources[0]
	switch {
	case all && len(resources) > 1:
		return nil, errors.New("--all names no objects: give TYPE --all or TYPE NAME...")
	case all:
		return []metaTarget{{kind, ""}}, nil
	case len(resources) == 1:
		return nil, fmt.Errorf("no %s named: give TYPE NAME... or TYPE --all", kind)
	}
	for _, n := range resources[1:] {
		out = append(out, metaTarget{kind, n})
	}
	return out, nil
}

// metaUpdater changes the objects of one command.
type metaUpdater struct {
	g             *globals
	cmd           *cobra.Command
	change        metaChange
	namespace     string
	netpolChanged bool
}

func (m *metaUpdater) warn(s string) { fmt.Fprintln(m.cmd.ErrOrStderr(), term.Escape(s)) }

func (m *metaUpdater) update(t metaTarget) error {
	if isPodKind(t.kind) {
		names := []string{t.name}
		if t.name == "" {
			names = podNames(m.g.root, m.namespace)
		}
		var errs []error
		for _, n := range names {
			errs = append(errs, m.updatePod(n))
		}
		return errors.Join(errs...)
	}
	st, err := openStore(m.g)
	if err != nil {
		return err
	}
	k, err := st.Resolve(t.kind)
	if err != nil {
		return err
	}
	ns := ""
	if k.Namespaced {
		ns = m.namespace
	}
	var objs []store.Object
	if t.name == "" {
		if objs, err = st.List(k.Plural, ns); err != nil {
			return err
		}
	} else {
		o, err := st.Get(k.Plural, ns, t.name)
		if errors.Is(err, store.ErrNotFound) && k.Plural == "namespaces" && namespaceInUse(m.g.root, t.name) {
			// A namespace that pods use exists as kubectl users see it
			// (the default one, or one named by a pod) even if no
			// manifest stored it: labelling it stores it.
			o = &corev1.Namespace{}
			o.SetName(t.name)
			err = nil
		}
		if err != nil {
			return err
		}
		objs = []store.Object{o}
	}
	var errs []error
	for _, o := range objs {
		acc := &metaAccess{labels: o.GetLabels(), annotations: o.GetAnnotations()}
		next, changed, onlyRemoved, err := m.change.apply(m.change.f.get(acc), m.warn)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", k.Singular(), o.GetName(), err))
			continue
		}
		if changed {
			m.change.f.set(acc, next)
			o.SetLabels(acc.labels)
			o.SetAnnotations(acc.annotations)
			if o.GetObjectKind().GroupVersionKind().Kind == "" {
				o.GetObjectKind().SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(k.Kind))
			}
			if _, _, err := st.Apply(o); err != nil {
				errs = append(errs, err)
				continue
			}
			m.netpolChanged = m.netpolChanged || affectsNetworkPolicy(k) && m.change.f.name == "label"
		}
		fmt.Fprintf(term.NewWriter(m.cmd.OutOrStdout()), "%s/%s %s\n", k.Singular(), o.GetName(), m.change.verb(changed, onlyRemoved))
	}
	return errors.Join(errs...)
}

// metaLock orders label and annotate commands of a state root, so that
// two of them on one pod never lose each other's change.
func metaLock(root string) (func(), error) {
	return atomicfile.Lock(context.Background(), filepath.Join(root, "metadata.lock"), true)
}

// updatePod changes a pod where podsec keeps it: the record of a detached
// pod (what get and describe show) and the pod file of a running one
// (what the NetworkPolicy dataplane reads).
func (m *metaUpdater) updatePod(name string) error {
	unlock, err := metaLock(m.g.root)
	if err != nil {
		return err
	}
	defer unlock()
	ns := m.namespace
	recFile := filepath.Join(supervisor.Open(m.g.root).Dir(ns, name), "pod.json")
	runFile := filepath.Join(runtime.Layout{Root: m.g.root}.PodDir(ns, name), runtime.PodFile)
	var files []string
	var base *corev1.Pod
	for _, f := range []string{recFile, runFile} {
		p, err := readPod(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if base == nil {
			base = p
		}
		files = append(files, f)
	}
	if base == nil {
		return fmt.Errorf("pods %q not found", name)
	}
	acc := &metaAccess{labels: base.Labels, annotations: base.Annotations}
	next, changed, onlyRemoved, err := m.change.apply(m.change.f.get(acc), m.warn)
	if err != nil {
		return fmt.Errorf("pod/%s: %w", name, err)
	}
	if changed {
		write := func(f string) error {
			p, err := readPod(f)
			if err != nil {
				return err
			}
			if m.change.f.name == "label" {
				p.Labels = next
			} else {
				p.Annotations = next
			}
			if err := atomicfile.WriteJSON(f, p); err != nil {
				return fmt.Errorf("pod/%s: %w", name, err)
			}
			if f == runFile && m.change.f.name == "label" {
				m.netpolChanged = true
			}
			return nil
		}
		for _, f := range files {
			if err := write(f); err != nil {
				return err
			}
		}
		// A detached pod still starting: its supervisor writes the pod
		// file from the record it read at its start, labels and all, once
		// the pod has its network. Change that file too when it comes.
		if !slices.Contains(files, runFile) && startingPod(m.g.root, ns, name) {
			for deadline := time.Now().Add(startingWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if _, err := os.Stat(runFile); err == nil {
					if err := write(runFile); err != nil {
						return err
					}
					break
				}
				if !startingPod(m.g.root, ns, name) {
					break
				}
			}
		}
	}
	fmt.Fprintf(term.NewWriter(m.cmd.OutOrStdout()), "pod/%s %s\n", name, m.change.verb(changed, onlyRemoved))
	return nil
}

// startingWait bounds how long label waits for a starting pod's file.
const startingWait = 30 * time.Second

// startingPod reports whether a detached pod's supervisor runs and the
// pod has not started yet.
func startingPod(root, ns, name string) bool {
	r, err := supervisor.Open(root).Get(ns, name)
	return err == nil && r.SupervisorAlive && r.Status.Phase == corev1.PodPending
}

func readPod(file string) (*corev1.Pod, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := &corev1.Pod{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return p, nil
}

// podNames are the pods of a namespace, detached and in the foreground.
func podNames(root, ns string) []string {
	seen := map[string]bool{}
	for _, dir := range []string{supervisor.Open(root).Dir(ns, ""), filepath.Join(root, "pods", ns)} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if e.IsDir() {
				seen[e.Name()] = true
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// namespaceInUse reports whether pods of the state root use a namespace
// (the default one always exists).
func namespaceInUse(root, ns string) bool {
	return ns == store.DefaultNamespace || len(podNames(root, ns)) > 0
}
