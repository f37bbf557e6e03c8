package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/node"
	"github.com/podsec/podsec/runtime"
)

func newRunCommand(g *globals) *cobra.Command {
	var files []string
	var podName string
	var detach bool
	var as string
	var asGroups []string
	var withTrace bool
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
			switch g.podNetwork {
			case "cni", "none":
			default:
				return fmt.Errorf("--network: Unsupported value: %q: supported values: \"cni\", \"none\"", g.podNetwork)
			}
			if withTrace {
				trace.Enable()
			}
			end := trace.Step("decode")
			objs, err := readObjects(cmd, files)
			if err != nil {
				return err
			}
			pod, err := pickPod(objs.Pods, podName)
			if err != nil {
				return err
			}
			end()
			end = trace.Step("open node")
			n, err := openNode(cmd, g)
			if err != nil {
				return err
			}
			end()
			// The pipeline: the API server's validation, admission (the
			// admitted pod, with its PodSecurityPolicy defaults, is the one
			// that runs), then this node's checks, before anything is made.
			end = trace.Step("validation and admission")
			adm, err := n.Prepare(pod, node.AdmitOptions{As: as, AsGroups: asGroups})
			if err != nil {
				return err
			}
			end()
			opts := node.RunOptions{ConfigMaps: objs.ConfigMaps, Secrets: objs.Secrets}
			if detach {
				return runDetached(cmd, g, n, adm.Pod, opts)
			}
			return runPod(cmd, g, n, adm, opts)
		},
	}
	addFileFlag(cmd, &files)
	cmd.Flags().StringVar(&podName, "pod", "", "name of the pod to run when the manifest holds several")
	cmd.Flags().BoolVar(&withTrace, "trace", false, "print the time each step of the pod's start and end took (decode, admission, image, sandbox, mounts, create, start, wait, cleanup) on stderr; PODSEC_TRACE=1 does the same")
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "run the pod in the background under a supervisor and return once its containers run")
	cmd.Flags().StringVar(&g.podNetwork, "network", "cni", "pod network: cni (a pod IP on the node's CNI network) or none (loopback only)")
	addRequesterFlags(cmd, &as, &asGroups)
	addAllowedUnsafeSysctlsFlag(cmd, g)
	addImageLimitFlags(cmd, g)
	cmd.Flags().Int64Var(&g.podPidsLimit, "pod-pids-limit", runtime.DefaultPidsLimit, "the most processes a pod may have, all its containers together (its cgroup's pids.max); -1 for no limit")
	addUserNSBaseFlag(cmd, g)
	cmd.Flags().DurationVar(&g.housekeepingInterval, "housekeeping-interval", runtime.DefaultHousekeepingInterval, "how often pods with a local storage limit (ephemeral-storage, an emptyDir sizeLimit) are measured, to evict those over it")
	return cmd
}

func runPod(cmd *cobra.Command, g *globals, n *node.Node, adm *node.Admitted, opts node.RunOptions) error {
	end := trace.Step("image store and network")
	if _, err := n.Images(); err != nil {
		return err
	}
	if _, err := n.Network(); err != nil {
		return err
	}
	end()
	// The bridge goes when the last pod of the node has gone.
	defer func() {
		defer trace.Step("network teardown")()
		n.Close(context.Background())
	}()
	// Where it is safe, as here: only pods whose podsec is gone are
	// touched, so a pod that died with its podsec does not hold its name,
	// host ports or IP.
	end = trace.Step("gc of dead pods")
	implicitGC(cmd, n)
	end()
	if _, err := n.Runtime(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pod := adm.Pod
	end = trace.Step("pod")
	res, err := n.RunAdmitted(ctx, adm, opts)
	end()
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

// implicitGC removes what dead pods left, reporting each thing on stderr;
// its errors are reported, not fatal: podsec gc says more.
func implicitGC(cmd *cobra.Command, n *node.Node) {
	err := n.GC(cmd.Context(), func(what string) {
		fmt.Fprintf(cmd.ErrOrStderr(), "%-8s removed %s, left by a podsec that is gone\n", "Cleanup", what)
	})
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: cleaning up after dead pods: %v\n", err)
	}
}
