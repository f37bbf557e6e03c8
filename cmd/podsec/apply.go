package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/spec"
	"github.com/podsec/podsec/store"
)

// openStore opens the object store of the state root.
func openStore(g *globals) (*store.Store, error) {
	return store.Open(g.root)
}

func newApplyCommand(g *globals) *cobra.Command {
	var files []string
	var namespace string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "create or replace policy objects: PodSecurityPolicies, RBAC roles and bindings, namespaces, service accounts",
		Long: `apply stores every object of the manifests in podsec's state root, creating it
or replacing the object of the same kind, namespace and name, and prints what it
did as kubectl does: created, configured or unchanged. Objects are decoded
strictly and validated; an invalid object is reported with its field paths and
the others are still applied.

Pods are not stored: run them with "podsec run".`,
		Example: `  # Store a PodSecurityPolicy and the role that lets a group use it
  podsec apply -f psp.yaml -f psp-rbac.yaml

  # Label a namespace with a Pod Security Standard
  cat <<EOF | podsec apply -f -
  apiVersion: v1
  kind: Namespace
  metadata:
    name: team
    labels:
      pod-security.kubernetes.io/enforce: restricted
  EOF`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(g)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			changed := false
			err = forEachObject(cmd.InOrStdin(), files, st, namespace, func(obj store.Object, k *store.Kind, group string) error {
				res, obj, err := st.Apply(obj)
				if err != nil {
					return err
				}
				changed = changed || affectsNetworkPolicy(k)
				fmt.Fprintf(out, "%s/%s %s\n", k.KindGroup(group), obj.GetName(), res)
				return nil
			})
			if changed {
				err = errors.Join(err, syncNetworkPolicies(cmd, g))
			}
			return err
		},
	}
	addFileFlag(cmd, &files)
	addNamespaceFlag(cmd, &namespace)
	return cmd
}

func addNamespaceFlag(cmd *cobra.Command, ns *string) {
	cmd.Flags().StringVarP(ns, "namespace", "n", "", `namespace of namespaced objects (default "default")`)
}

// errPodNotStored refuses pods in commands that store objects.
var errPodNotStored = errors.New(`pods are not stored objects: run a pod with "podsec run -f FILE"`)

// forEachObject decodes every document of the named manifests as a stored
// kind and calls fn with it, the kind and the group the manifest named. A
// document that fails does not stop the others; every error is returned,
// labelled with its file and document.
func forEachObject(stdin io.Reader, files []string, st *store.Store, namespace string, fn func(store.Object, *store.Kind, string) error) error {
	var errs []error
	for _, name := range files {
		docs, label, err := readDocuments(stdin, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(docs) == 0 {
			errs = append(errs, fmt.Errorf("%s: no objects passed to apply", label))
		}
		for _, doc := range docs {
			if err := oneObject(doc, st, namespace, fn); err != nil {
				var de *spec.DecodeError
				if !errors.As(err, &de) {
					err = &spec.DecodeError{Index: doc.Index, Errs: []error{err}}
				}
				errs = append(errs, fmt.Errorf("%s: %s", label, indent(err.Error())))
			}
		}
	}
	return errors.Join(errs...)
}

func oneObject(doc spec.Document, st *store.Store, namespace string, fn func(store.Object, *store.Kind, string) error) error {
	if doc.TypeMeta.Kind == "Pod" && doc.TypeMeta.APIVersion == "v1" {
		return errPodNotStored
	}
	obj, k, err := st.Decode(doc)
	if err != nil {
		return err
	}
	if k.Namespaced && namespace != "" {
		if ns := obj.GetNamespace(); ns != "" && ns != namespace {
			return fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation", ns, namespace, ns)
		}
		obj.SetNamespace(namespace)
	}
	return fn(obj, k, doc.TypeMeta.GroupVersionKind().Group)
}

// readDocuments splits one manifest file, or standard input for "-".
func readDocuments(stdin io.Reader, name string) ([]spec.Document, string, error) {
	r, label := stdin, "<stdin>"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, name, fmt.Errorf("reading manifest: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, name, fmt.Errorf("reading manifest %q: is a directory", name)
		}
		r, label = f, name
	}
	docs, err := spec.SplitDocuments(r)
	if err != nil {
		return nil, label, fmt.Errorf("%s: %s", label, indent(err.Error()))
	}
	return docs, label, nil
}
