package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/image"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/seccomp"
	"github.com/podsec/podsec/spec"
)

type specFlags struct {
	files     []string
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
	return cmd
}

func runSpec(cmd *cobra.Command, g *globals, f *specFlags) error {
	pods, err := readPods(cmd, f.files)
	if err != nil {
		return err
	}
	pod, err := pickPod(pods, f.pod)
	if err != nil {
		return err
	}
	if err := validatePodsOnNode(g, []*corev1.Pod{pod}); err != nil {
		return err
	}
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
	opts, err := nodeOptions(g, pod)
	if err != nil {
		return err
	}
	// A read-only command: the store is opened only where it exists.
	var store *image.Store
	if _, err := os.Stat(g.imageRoot()); err == nil {
		if store, err = image.Open(g.imageRoot()); err != nil {
			return err
		}
	}
	warned := map[string]bool{}
	out := make([]*specs.Spec, len(names))
	for i, name := range names {
		in := specInput(g, pod, name, opts)
		c, err := spec.Find(&in)
		if err != nil {
			return err
		}
		if img, err := storeGet(store, c.C.Image); err == nil {
			in.Image = &img.Config
			if in.Users, err = runtime.LayersUserDB(img.Layers); err != nil {
				return err
			}
		} else if !warned[c.C.Image] {
			warned[c.C.Image] = true
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: image %q is not in podsec's image store: the spec holds only the pod's own fields (no entrypoint, env, working directory or user of the image)\n", c.C.Image)
		}
		if out[i], err = spec.Translate(in); err != nil {
			return fmt.Errorf("pod %q: %w", pod.Name, err)
		}
	}
	if f.bundleDir == "" {
		return writeJSON(cmd.OutOrStdout(), out[0])
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

// nodeOptions reads the node's facts the translation needs.
func nodeOptions(g *globals, pod *corev1.Pod) (spec.Options, error) {
	opts := spec.Options{
		SeccompDefault: corev1.SeccompProfileType(g.seccompDefault),
		Seccomp:        seccomp.Profiles{Root: g.seccompProfileRoot},
	}
	switch opts.SeccompDefault {
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
	default:
		return opts, fmt.Errorf("--seccomp-default: Unsupported value: %q: supported values: \"RuntimeDefault\", \"Unconfined\"", g.seccompDefault)
	}
	caps, err := runtime.Capabilities()
	if err != nil {
		return opts, err
	}
	opts.AllCapabilities = caps
	if opts.NodeMemoryBytes, err = runtime.MemoryBytes(); err != nil {
		return opts, err
	}
	opts.NodeName, _ = os.Hostname()
	return opts, nil
}

// specInput gives the container the paths the runtime will prepare for it.
func specInput(g *globals, pod *corev1.Pod, name string, opts spec.Options) spec.Input {
	p := runtime.Layout{Root: g.root}.Paths(pod, name)
	if privileged(pod) {
		if devs, err := runtime.HostDevices(); err == nil {
			p.HostDevices = devs
		}
	}
	return spec.Input{Pod: pod, ContainerName: name, Paths: p, Options: opts}
}

func privileged(pod *corev1.Pod) bool {
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			return true
		}
	}
	return false
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding spec: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeBundles writes every config.json, refusing to replace one that
// exists (as runc spec does), and leaves nothing behind on failure.
func writeBundles(cmd *cobra.Command, dir string, names []string, out []*specs.Spec) error {
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
func writeFileNew(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func storeGet(s *image.Store, ref string) (*image.Image, error) {
	if s == nil {
		return nil, image.ErrNotFound
	}
	return s.Get(ref)
}
