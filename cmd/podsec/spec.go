package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/node"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/spec"
)

type specFlags struct {
	files     []string
	as        string
	asGroups  []string
	pod       string
	container string
	bundleDir string
}

func newSpecCommand(g *globals) *cobra.Command {
	f := &specFlags{}
	cmd := &cobra.Command{
		Use:   "spec -f POD.yaml [--container NAME] [--bundle-dir DIR]",
		Short: "print the OCI runtime spec of a pod's container",
		Long: `spec translates a pod into OCI runtime specs (config.json), one per init and
app container, as podsec would run them on this node. Without --bundle-dir it
prints the spec of one container (by default the first app container). With
--bundle-dir it writes DIR/<container>/config.json for every container.

The ConfigMaps and Secrets of the manifest fill the pod's volumes, as for
podsec run: one the pod needs and the manifest lacks is an error here as there.

When the pod's image is not in podsec's image store, the spec holds only the
pod's own fields (no entrypoint, env, working directory or user of the image)
and a warning says so.`,
		Example: `  # The spec of the first app container
  podsec spec -f testdata/pods/pod-as-user-guest.yaml

  # The spec of a named container
  podsec spec -f pod.yaml --container second

  # One bundle directory per container
  podsec spec -f pod.yaml --bundle-dir /tmp/bundles`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSpec(cmd, g, f)
		},
	}
	addFileFlag(cmd, &f.files)
	cmd.Flags().StringVar(&f.pod, "pod", "", "name of the pod to use when the manifest holds several")
	cmd.Flags().StringVarP(&f.container, "container", "c", "", "container to print (default: the first app container)")
	cmd.Flags().StringVar(&f.bundleDir, "bundle-dir", "", "write DIR/<container>/config.json for every container instead of printing")
	addAllowedUnsafeSysctlsFlag(cmd, g)
	addRequesterFlags(cmd, &f.as, &f.asGroups)
	cmd.Flags().Int64Var(&g.podPidsLimit, "pod-pids-limit", runtime.DefaultPidsLimit, "the pod limit of podsec run --pod-pids-limit the spec is for")
	addUserNSBaseFlag(cmd, g)
	return cmd
}

// addUserNSBaseFlag adds --userns-base: where the ranges of pods with
// hostUsers: false start on the node.
func addUserNSBaseFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().Uint32Var(&g.userNSBase, "userns-base", pipeline.DefaultUserNSBase, "the first host ID given to pods with hostUsers: false, a multiple of 65536 (IDs below it are the node's); each pod gets 65536")
}

func runSpec(cmd *cobra.Command, g *globals, f *specFlags) error {
	objs, err := readObjects(cmd, f.files)
	if err != nil {
		return err
	}
	pod, err := pickPod(objs.Pods, f.pod)
	if err != nil {
		return err
	}
	n, err := openNode(cmd, g)
	if err != nil {
		return err
	}
	// The pipeline of podsec run, so that the specs are those it runs:
	// validation, admission (without an audit entry: nothing is asked of
	// the cluster), the node's checks, the plan with the manifest's
	// ConfigMaps and Secrets.
	plan, err := n.Plan(pod, node.RunOptions{Admit: node.AdmitOptions{As: f.as, AsGroups: f.asGroups, NoAudit: true},
		ConfigMaps: objs.ConfigMaps, Secrets: objs.Secrets})
	if err != nil {
		return err
	}
	pod = plan.Pod
	names := spec.ContainerNames(pod)
	if f.bundleDir == "" {
		name := f.container
		if name == "" {
			name = pod.Spec.Containers[0].Name
		}
		names = []string{name}
	} else if f.container != "" {
		names = []string{f.container}
	}
	warned := map[string]bool{}
	out := make([][]byte, len(names))
	for i, name := range names {
		in := spec.Input{Pod: pod, ContainerName: name}
		c, err := spec.Find(&in)
		if err != nil {
			return err
		}
		s, found, err := n.ContainerSpec(plan, name)
		if err != nil {
			return fmt.Errorf("pod %q: %w", pod.Name, err)
		}
		if img := c.C.Image; !found && !warned[img] {
			warned[img] = true
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: image %q is not in podsec's image store: the spec holds only the pod's own fields (no entrypoint, env, working directory or user of the image)\n", img)
		}
		if out[i], err = pipeline.EncodeSpec(s); err != nil {
			return err
		}
	}
	if f.bundleDir == "" {
		_, err := cmd.OutOrStdout().Write(out[0])
		return err
	}
	return writeBundles(cmd, f.bundleDir, names, out)
}

func pickPod(pods []*corev1.Pod, name string) (*corev1.Pod, error) {
	if name == "" {
		if len(pods) != 1 {
			return nil, fmt.Errorf("the manifest holds %d pods: name one with --pod", len(pods))
		}
		return pods[0], nil
	}
	for _, p := range pods {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("pod %q is not in the manifest", name)
}

// writeBundles writes every config.json, refusing to replace one that
// exists (as runc spec does), and leaves nothing behind on failure.
func writeBundles(cmd *cobra.Command, dir string, names []string, out [][]byte) error {
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(dir, name, "config.json")); err == nil {
			return fmt.Errorf("writing bundle: %s exists: remove it first", filepath.Join(dir, name, "config.json"))
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("writing bundle: %w", err)
		}
	}
	var written []string
	for i, name := range names {
		path := filepath.Join(dir, name, "config.json")
		if err := writeFileNew(path, out[i]); err != nil {
			for _, w := range written {
				os.Remove(w)
			}
			return fmt.Errorf("writing bundle: %w", err)
		}
		written = append(written, path)
		fmt.Fprintf(cmd.OutOrStdout(), "%s written\n", path)
	}
	return nil
}

// writeFileNew creates path with O_EXCL, so a file (or symlink) placed
// there since the check is never overwritten or followed.
func writeFileNew(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
