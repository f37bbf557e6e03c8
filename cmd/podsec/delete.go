package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/store"
)

func newDeleteCommand(g *globals) *cobra.Command {
	var files []string
	var namespace string
	var ignoreNotFound, allPods bool
	var gracePeriod int64
	cmd := &cobra.Command{
		Use:   "delete (KIND NAME... | -f FILE)",
		Short: "delete stored policy objects by kind and name, or those of manifests",
		Long: `delete removes stored objects, named by kind and name or by the manifests they
were applied from, and prints each one it deleted as kubectl does.`,
		Example: `  # Delete a PodSecurityPolicy
  podsec delete psp restricted

  # Delete a RoleBinding of namespace team
  podsec delete rolebinding psp-users -n team

  # Delete every object of a manifest
  podsec delete -f psp-rbac.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && isPodKind(args[0]) {
				if len(args) == 1 && !allPods {
					return errors.New("give the pods' names, or --all")
				}
				return deletePods(cmd, g, namespace, args[1:], allPods, gracePeriod)
			}
			if (len(files) > 0) == (len(args) > 0) {
				return errors.New("give either KIND and NAME or -f FILE, not both or neither")
			}
			if len(args) == 1 {
				return fmt.Errorf("no name given to delete %s: give KIND and NAME", args[0])
			}
			st, err := openStore(g)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			del := func(k *store.Kind, ns, name string) error {
				err := st.Delete(k.Plural, ns, name)
				if err == nil {
					fmt.Fprintf(out, "%s %q deleted\n", k.KindGroup(k.Group()), name)
					if affectsNetworkPolicy(k) {
						err = syncNetworkPolicies(cmd, g)
					}
				}
				if ignoreNotFound && errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			}
			if len(files) > 0 {
				return deleteFiles(cmd, g, st, files, namespace, gracePeriod, ignoreNotFound, del)
			}
			k, err := st.Resolve(args[0])
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args[1:] {
				errs = append(errs, del(k, namespace, name))
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest whose objects to delete; - reads standard input")
	addNamespaceFlag(cmd, &namespace)
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat a missing object as deleted")
	cmd.Flags().BoolVar(&allPods, "all", false, "with pod: every pod of the namespace")
	cmd.Flags().Int64Var(&gracePeriod, "grace-period", -1, "with pods: seconds between SIGTERM and SIGKILL (default: the pod's)")
	return cmd
}

// deletePods stops and forgets detached pods (node.DeletePods).
func deletePods(cmd *cobra.Command, g *globals, ns string, names []string, all bool, grace int64) error {
	n, err := openNode(cmd, g)
	if err != nil {
		return err
	}
	return n.DeletePods(ns, names, all, grace, func(name string) {
		fmt.Fprintf(cmd.OutOrStdout(), "pod %q deleted\n", name)
	})
}

// deleteFiles deletes every object of the manifests, as kubectl delete -f
// does: their pods (stopped with their grace period) and the objects
// podsec stores, in one pass. The ConfigMaps and Secrets given with pods
// are not stored: nothing to delete.
func deleteFiles(cmd *cobra.Command, g *globals, st *store.Store, files []string, namespace string, grace int64, ignoreNotFound bool,
	del func(k *store.Kind, ns, name string) error) error {
	var errs []error
	for _, name := range files {
		docs, label, err := readDocuments(cmd.InOrStdin(), name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, doc := range docs {
			var err error
			switch tm := doc.TypeMeta; {
			case tm.APIVersion == "v1" && tm.Kind == "Pod":
				var meta struct {
					Metadata metav1.ObjectMeta `json:"metadata"`
				}
				if err = json.Unmarshal(doc.Raw, &meta); err != nil {
					break
				}
				ns := meta.Metadata.Namespace
				switch {
				case ns == "":
					ns = namespace
				case namespace != "" && ns != namespace:
					err = fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation", ns, namespace, ns)
				}
				if ns == "" {
					ns = store.DefaultNamespace
				}
				if err == nil {
					err = deletePods(cmd, g, ns, []string{meta.Metadata.Name}, false, grace)
				}
				if ignoreNotFound && err != nil && strings.Contains(err.Error(), "not found") {
					err = nil
				}
			case tm.APIVersion == "v1" && (tm.Kind == "ConfigMap" || tm.Kind == "Secret"):
			default:
				err = oneObject(doc, st, namespace, func(obj store.Object, k *store.Kind, _ string) error {
					return del(k, obj.GetNamespace(), obj.GetName())
				})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s", label, indent(err.Error())))
			}
		}
	}
	return errors.Join(errs...)
}
