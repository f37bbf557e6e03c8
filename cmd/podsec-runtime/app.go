package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/internal/lc"
	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/oci"
)

// globals are the flags every verb shares, as runc's.
type globals struct {
	name          string
	version       string
	root          string
	log           string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
	policy        string
	logging       bool // configLogging ran
}

// exitCode ends the command with a code and no message: the container's
// own exit status (run, exec) or a failure already reported.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// runMain runs one command line of the runtime named name and returns its
// exit code. Errors are logged (to --log, in --log-format) and printed on
// stderr, as runc does; a panic is reported as an error, never a trace.
func runMain(name, version string, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			reportError(fmt.Errorf("internal error: %v", r))
			code = 2
		}
	}()
	// PODSEC_TRACE=1: how long each step of the verb took, on stderr.
	trace.FromEnv()
	defer trace.Report(os.Stderr)
	g := &globals{name: name, version: version}
	cmd := newRootCommand(g)
	cmd.SetArgs(args)
	err := cmd.Execute()
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	}
	if !g.logging {
		// An argument error comes before the verb's setup: log it where
		// the caller reads errors all the same.
		_ = g.configLogging()
	}
	reportError(err)
	var fail *failure
	if errors.As(err, &fail) {
		return fail.code
	}
	return 1
}

// failure carries a non-default exit code with an error (exec fails with
// 255, as runc's does, so that a caller tells it from the process's code).
type failure struct {
	err  error
	code int
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// reportError logs err and, when the log is not stderr, prints it there
// too: containerd reads the log file, a person reads stderr.
// A text log on stderr gets the bare message: that is what podman shows
// its user for a runtime it does not ask for JSON logs.
func reportError(err error) {
	l := logrus.StandardLogger()
	f, ok := l.Out.(*os.File)
	toStderr := ok && f.Fd() == os.Stderr.Fd()
	if _, text := l.Formatter.(*logrus.TextFormatter); toStderr && text {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	logrus.Error(err)
	if !toStderr {
		fmt.Fprintln(os.Stderr, err)
	}
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   g.name,
		Short: "run OCI bundles with the node's security policy enforced (runc's command line)",
		Long: g.name + ` is podsec's OCI runtime. It answers runc's command line, so
containerd (ctr run --runc-binary, the runc shim's BinaryName), podman
(--runtime), CRI-O and Docker can run containers with it, and it refuses
any spec that breaks the node's Pod Security Standards level (--policy).`,
		Example: `  # Run a bundle in the foreground
  ` + g.name + ` run --bundle /tmp/bundle mycontainer

  # What containerd's shim does
  ` + g.name + ` --root /run/containerd/runc/default --log log.json --log-format json \
      create --bundle /tmp/bundle --pid-file /tmp/bundle/init.pid mycontainer
  ` + g.name + ` start mycontainer`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           g.version,
		PersistentPreRunE: func(*cobra.Command, []string) error { return g.setup() },
	}
	root.SetVersionTemplate(fmt.Sprintf("%s version {{.Version}}\nspec: %s\ngo: %s\n", g.name, specs.Version, runtime.Version()))
	pf := root.PersistentFlags()
	pf.StringVar(&g.root, "root", oci.DefaultRoot, "root directory for storage of container state (this should be located in tmpfs)")
	pf.StringVar(&g.log, "log", "", "set the log file to write logs to (default is '/dev/stderr')")
	pf.StringVar(&g.logFormat, "log-format", "text", "set the log format ('text' (default), or 'json')")
	pf.BoolVar(&g.debug, "debug", false, "enable debug logging")
	pf.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "refused: podsec drives cgroups through cgroupfs")
	pf.StringVar(&g.rootless, "rootless", "auto", "only 'auto' and 'false' are accepted: podsec-runtime runs as root")
	pf.StringVar(&g.policy, "policy", "", "node policy file (default "+oci.DefaultPolicyPath+" when it exists; none: no policy)")
	// Flags of runc that tooling may pass and that change nothing here.
	pf.String("criu", "", "not supported: no checkpoint and restore")
	_ = pf.MarkHidden("criu")
	root.AddCommand(
		newCreateCommand(g), newStartCommand(g), newRunCommand(g), newStateCommand(g),
		newKillCommand(g), newDeleteCommand(g), newExecCommand(g), newPsCommand(g),
		newListCommand(g), newPauseCommand(g), newResumeCommand(g), newUpdateCommand(g),
		newEventsCommand(g), newFeaturesCommand(g),
	)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	})
	return root
}

// setup checks the global flags and configures logging.
func (g *globals) setup() error {
	if err := g.configLogging(); err != nil {
		return err
	}
	if g.systemdCgroup {
		why := "this node has no systemd"
		if _, err := os.Stat("/run/systemd/system"); err == nil {
			why = "podsec does not use systemd's cgroup driver"
		}
		return fmt.Errorf("%w: %s; podsec-runtime manages cgroups through cgroupfs: "+
			"drop the flag (containerd: SystemdCgroup = false in the runc options; podman: cgroup_manager = \"cgroupfs\")", ErrSystemdCgroup, why)
	}
	switch g.rootless {
	case "", "auto", "false":
	default:
		return fmt.Errorf("--rootless=%s: not supported: %s runs containers as root", g.rootless, g.name)
	}
	root, err := filepath.Abs(g.root)
	if err != nil {
		return err
	}
	if root == "/" {
		return errors.New("--root must not be /")
	}
	g.root = root
	return nil
}

func (g *globals) configLogging() error {
	g.logging = true
	if g.debug {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch g.logFormat {
	case "", "text":
	case "json":
		logrus.SetFormatter(new(logrus.JSONFormatter))
	default:
		return fmt.Errorf("%w: invalid --log-format %q: want text or json", ErrUsage, g.logFormat)
	}
	if g.log != "" {
		f, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("opening the log file: %w", err)
		}
		logrus.SetOutput(f)
	}
	return nil
}

// args checks a verb's positional arguments as runc does.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%w: %q requires exactly %d argument(s): %s", ErrUsage, cmd.Name(), n, what)
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return fmt.Errorf("%w: %q requires at least %d argument(s): %s", ErrUsage, cmd.Name(), n, what)
		}
		return nil
	}
}

func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return fmt.Errorf("%w: %q requires %d to %d argument(s): %s", ErrUsage, cmd.Name(), lo, hi, what)
		}
		return nil
	}
}

// load loads a container by ID.
func (g *globals) load(id string) (*libcontainer.Container, error) {
	return lc.Load(g.root, id)
}

// loadPolicy reads --policy, else the default file if it exists.
func (g *globals) loadPolicy() (*oci.NodePolicy, error) {
	return oci.LoadPolicy(g.policy)
}
