package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/image"
	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
)

func newRunCommand(g *globals) *cobra.Command {
	var files []string
	var podName string
	var detach bool
	var as string
	var asGroups []string
	cmd := &cobra.Command{
		Use:   "run -f POD.yaml",
		Short: "run a pod on this node in the foreground",
		Long: `run runs a pod on this node with every security setting enforced by the
kernel. It validates the pod, admits it as "podsec admit" does (PodSecurityPolicy
with RBAC, then the Pod Security Standards; the admitted pod, with its policy's
defaults, is the one that runs), pulls its images as imagePullPolicy says, runs
the init containers in order, each to success, then the app containers
together, and streams each container's output prefixed with its name.

podsec exits 0 when every app container exits 0, otherwise with the exit code
of the first container that failed. SIGINT or SIGTERM stops the pod: SIGTERM
to its containers, terminationGracePeriodSeconds, then SIGKILL. When the pod
ends, nothing of it is left on the node.`,
		Example: `  # Run the seed's pod as user guest
  podsec run -f testdata/pods/pod-as-user-guest.yaml

  # Run a pod given on standard input
  cat pod.yaml | podsec run -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readObjects(cmd, files)
			if err != nil {
				return err
			}
			pod, err := pickPod(objs.Pods, podName)
			if err != nil {
				return err
			}
			// The pipeline: the API server's validation, admission (the
			// admitted pod, with its PodSecurityPolicy defaults, is the one
			// that runs), then this node's checks, before anything is made.
			if err := pipeline.Validate(pod); err != nil {
				return err
			}
			adm, err := admitPod(cmd, g, pod, as, asGroups)
			if err != nil {
				return err
			}
			node, err := nodeFacts(g)
			if err != nil {
				return err
			}
			if err := pipeline.CheckNode(node, adm.Pod); err != nil {
				return err
			}
			if detach {
				return runDetached(cmd, g, adm.Pod, objs)
			}
			return runPod(cmd, g, adm.Pod, runtime.WithConfigMaps(objs.ConfigMaps...), runtime.WithSecrets(objs.Secrets...),
				runtime.WithAdmission(admissionOf(pod, adm)))
		},
	}
	addFileFlag(cmd, &files)
	cmd.Flags().StringVar(&podName, "pod", "", "name of the pod to run when the manifest holds several")
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "run the pod in the background under a supervisor and return once its containers run")
	cmd.Flags().StringVar(&g.podNetwork, "network", "cni", "pod network: cni (a pod IP on the node's CNI network) or none (loopback only)")
	addRequesterFlags(cmd, &as, &asGroups)
	addAllowedUnsafeSysctlsFlag(cmd, g)
	addImageLimitFlags(cmd, g)
	cmd.Flags().Int64Var(&g.podPidsLimit, "pod-pids-limit", runtime.DefaultPidsLimit, "the most processes a pod may have, all its containers together (its cgroup's pids.max); -1 for no limit")
	cmd.Flags().DurationVar(&g.housekeepingInterval, "housekeeping-interval", runtime.DefaultHousekeepingInterval, "how often pods with a local storage limit (ephemeral-storage, an emptyDir sizeLimit) are measured, to evict those over it")
	return cmd
}

func runPod(cmd *cobra.Command, g *globals, pod *corev1.Pod, opts ...runtime.RunOption) error {
	store, err := openImageStore(g)
	if err != nil {
		return err
	}
	var nw *network.Manager
	switch g.podNetwork {
	case "cni":
		if nw, err = network.New(network.Config{StateDir: filepath.Join(g.root, "network"), ConfDir: g.cniConfDir, BinDirs: g.cniBinDirs}); err != nil {
			return err
		}
		// The bridge goes when the last pod of the node has gone.
		defer nw.Close(context.Background())
	case "none":
	default:
		return fmt.Errorf("--network: Unsupported value: %q: supported values: \"cni\", \"none\"", g.podNetwork)
	}
	var changed func() error
	if nw != nil {
		changed = func() error { return syncNetworkPolicies(g) }
	}
	// Where it is safe, as here: only pods whose podsec is gone are
	// touched, so a pod that died with its podsec does not hold its name,
	// host ports or IP.
	implicitGC(cmd, g, nw)
	rt, err := runtime.New(runtime.Config{
		Network:              nw,
		NetworkChanged:       changed,
		Root:                 g.root,
		Images:               imageSource{store: store, progress: cmd.ErrOrStderr()},
		SeccompProfileRoot:   g.seccompProfileRoot,
		SeccompDefault:       corev1.SeccompProfileType(g.seccompDefault),
		Output:               cmd.OutOrStdout(),
		Events:               term.NewWriter(cmd.ErrOrStderr()), // messages quote the pod: escaped
		PidsLimit:            g.podPidsLimit,
		HousekeepingInterval: g.housekeepingInterval,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := rt.Run(ctx, pod, opts...)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "error: pod %q: %s\n", pod.Name, term.Escape(err.Error()))
		return &exitError{code: max(res.ExitCode, 1)}
	}
	for _, c := range res.Containers {
		fmt.Fprintf(cmd.ErrOrStderr(), "%-8s pod/%s: container %s exited with code %d (%s)\n", "Finished", pod.Name, c.Name, c.ExitCode, c.Reason)
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	return nil
}

// imageSource gives the runtime the images of podsec's store.
type imageSource struct {
	store    *image.Store
	progress io.Writer
}

func (s imageSource) Ensure(ctx context.Context, ref string, policy corev1.PullPolicy) (*runtime.Image, error) {
	// As podman does, the "localhost/" registry names images built or
	// loaded on this node: there is nothing to pull them from, so Always
	// means the local copy. ("localhost:5000/" is a real registry.)
	if policy == corev1.PullAlways && strings.HasPrefix(ref, "localhost/") {
		policy = corev1.PullIfNotPresent
	}
	img, err := s.store.Ensure(ctx, ref, policy, image.PullOptions{Progress: s.progress})
	if err != nil {
		return nil, err
	}
	return &runtime.Image{Config: img.Config, Layers: img.Layers}, nil
}

// implicitGC removes what dead pods left, reporting each thing on stderr;
// its errors are reported, not fatal: podsec gc says more.
func implicitGC(cmd *cobra.Command, g *globals, nw *network.Manager) {
	err := runtime.GC(cmd.Context(), g.root, nw, func(what string) {
		fmt.Fprintf(cmd.ErrOrStderr(), "%-8s removed %s, left by a podsec that is gone\n", "Cleanup", what)
	})
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: cleaning up after dead pods: %v\n", err)
	}
}
