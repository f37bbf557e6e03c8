// Command podsec runs Kubernetes Pods on a Linux node with every security
// setting of the pod enforced by the kernel.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/internal/trace"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// globals are the flags every command shares.
type globals struct {
	root                 string
	seccompProfileRoot   string
	seccompDefault       string
	cniConfDir           string
	cniBinDirs           []string
	podNetwork           string
	backoffBase          time.Duration
	netpolTable          string
	imageLimits          nodeImageLimits // --max-* image limits of image load/pull, run and supervise
	allowedUnsafeSysctls []string        // --allowed-unsafe-sysctls of run, spec and validate
	podPidsLimit         int64           // --pod-pids-limit of run
	housekeepingInterval time.Duration   // --housekeeping-interval of run
	userNSBase           uint32          // --userns-base of run and spec
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one podsec command line and returns its exit code. A panic
// is turned into an error line: a user never sees a Go stack trace.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	// PODSEC_TRACE=1 (or run --trace) ends the command with its steps'
	// times on stderr.
	trace.FromEnv()
	defer trace.Report(stderr)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "error: internal error: %v\n", r)
			code = 2
		}
	}()
	cmd := newRootCommand(stdin, stdout, stderr)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		// Errors quote manifests, images and pods: escaped (internal/term).
		fmt.Fprintf(stderr, "error: %s\n", term.Escape(strings.TrimSpace(err.Error())))
		return 1
	}
	return 0
}

// exitError ends podsec with a code after the command printed its own
// report.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "podsec",
		Short: "run Kubernetes pods on this node with their security settings enforced by the kernel",
		Long: `podsec runs Kubernetes Pods on a Linux node. It enforces what the pod's
security settings ask (host namespaces, users and groups, capabilities,
seccomp, read-only roots, sysctls) in the kernel, through runc's libcontainer.`,
		Example: `  # Check a pod manifest
  podsec validate -f pod.yaml

  # Print the OCI runtime spec of a pod's first app container
  podsec spec -f pod.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("podsec version {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&g.root, "root", "/var/lib/podsec", "directory of podsec's state")
	pf.StringVar(&g.seccompProfileRoot, "seccomp-profile-root", "/var/lib/kubelet/seccomp", "directory of Localhost seccomp profiles")
	pf.StringVar(&g.seccompDefault, "seccomp-default", "RuntimeDefault", "seccomp profile of containers whose pod names none: RuntimeDefault or Unconfined")
	pf.StringVar(&g.cniConfDir, "cni-conf-dir", "/etc/cni/net.d", "directory of CNI network configurations; podsec writes its own there when it has none")
	pf.StringVar(&g.netpolTable, "netpol-table", "", "nftables table of the NetworkPolicy dataplane (default podsec-netpol)")
	_ = pf.MarkHidden("netpol-table")
	pf.DurationVar(&g.backoffBase, "restart-backoff", 10*time.Second, "first delay of the restart back-off of detached pods (doubling to 5m)")
	_ = pf.MarkHidden("restart-backoff")
	pf.StringSliceVar(&g.cniBinDirs, "cni-bin-dir", []string{"/usr/lib/cni", "/opt/cni/bin"}, "directories of CNI plugins")
	root.AddCommand(
		newValidateCommand(g),
		newSpecCommand(g),
		newRunCommand(g),
		newImageCommand(g),
		newApplyCommand(g),
		newGetCommand(g),
		newDeleteCommand(g),
		newCreateCommand(g),
		newAdmitCommand(g),
		newDescribeCommand(g),
		newLogsCommand(g),
		newExecCommand(g),
		newStopCommand(g),
		newGCCommand(g),
		newLabelCommand(g),
		newAnnotateCommand(g),
		newNetpolCommand(g),
		newSuperviseCommand(g),
		newWebhookCommand(g),
		newVersionCommand(),
	)
	return root
}
