package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
)

// createFlags are the flags of create and run.
type createFlags struct {
	bundle        string
	consoleSocket string
	pidFile       string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
	// run only
	detach      bool
	keep        bool
	noSubreaper bool
}

func (f *createFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.bundle, "bundle", "b", "", "path to the root of the bundle directory, defaults to the current directory")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	fs.StringVar(&f.pidFile, "pid-file", "", "specify the file to write the process id to")
	fs.BoolVar(&f.noPivot, "no-pivot", false, "do not use pivot root to jail process inside rootfs (for a rootfs on a ramdisk)")
	fs.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "do not create a new session keyring for the container")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass N additional file descriptors to the container (stdio + N in total)")
}

func newCreateCommand(g *globals) *cobra.Command {
	f := &createFlags{}
	cmd := &cobra.Command{
		Use:   "create [flags] ID",
		Short: "create a container from a bundle; start runs its process",
		Long: `create creates a container from the bundle's config.json and root filesystem
and leaves its process waiting: start runs it. The spec is first held to the
node policy.`,
		Args: exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := g.startContainer(args[0], f, actCreate); err != nil {
				return fmt.Errorf("%s create failed: %w", g.name, err)
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newRunCommand(g *globals) *cobra.Command {
	f := &createFlags{}
	cmd := &cobra.Command{
		Use:   "run [flags] ID",
		Short: "create and start a container, and wait for it unless --detach",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			err := g.startContainer(args[0], f, actRun)
			var ec exitCode
			if err != nil && !errors.As(err, &ec) {
				return fmt.Errorf("%s run failed: %w", g.name, err)
			}
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&f.detach, "detach", "d", false, "detach from the container's process")
	cmd.Flags().BoolVar(&f.keep, "keep", false, "do not delete the container after it exits")
	cmd.Flags().BoolVar(&f.noSubreaper, "no-subreaper", false, "disable the use of the subreaper used to reap reparented processes")
	return cmd
}

// startContainer is create and run: load the bundle's spec, hold it to
// the policy, create the libcontainer container and start its init.
func (g *globals) startContainer(id string, f *createFlags, act action) error {
	if f.pidFile != "" {
		abs, err := filepath.Abs(f.pidFile)
		if err != nil {
			return err
		}
		f.pidFile = abs
	}
	if f.bundle != "" {
		// specconv reads the bundle (its label, a relative root.path)
		// from the working directory, as runc's.
		if err := os.Chdir(f.bundle); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
	}
	s, err := loadSpec("config.json")
	if err != nil {
		return err
	}
	pol, err := g.loadPolicy()
	if err != nil {
		return err
	}
	bundle, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := pol.check(s, bundle); err != nil {
		return err
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:   id,
		NoPivotRoot:  f.noPivot,
		NoNewKeyring: f.noNewKeyring,
		Spec:         s,
	})
	if err != nil {
		return err
	}
	adaptConfig(cfg)
	// libcontainer runs poststart hooks while creating; the runtime spec
	// wants them after the start operation, so they are ours to run.
	var poststart []specs.Hook
	if s.Hooks != nil {
		poststart = s.Hooks.Poststart
	}
	if cfg.Hooks != nil {
		delete(cfg.Hooks, configs.Poststart)
	}
	c, err := libcontainer.Create(g.root, id, cfg)
	if err != nil {
		return err
	}
	side := sidecar{Bundle: bundle, Annotations: s.Annotations, Poststart: poststart}
	if err := side.write(g.root, id); err != nil {
		_ = c.Destroy()
		return err
	}
	r := &runner{
		c:             c,
		action:        act,
		init:          true,
		detach:        f.detach,
		destroy:       !f.keep,
		subreaper:     !f.noSubreaper,
		consoleSocket: f.consoleSocket,
		pidFile:       f.pidFile,
		preserveFDs:   f.preserveFDs,
	}
	if act == actCreate {
		r.destroy = true // a failed create leaves nothing behind
	} else if len(poststart) > 0 {
		r.afterStart = func() { runPoststart(c, poststart) }
	}
	status, err := r.run(s.Process)
	if err != nil {
		return err
	}
	if status != 0 {
		return exitCode(status)
	}
	return nil
}

// loadSpec reads and checks a bundle's config.json.
func loadSpec(path string) (*specs.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the bundle has no %s: %w", path, err)
		}
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if s.Root == nil {
		return nil, errors.New("root: must be set")
	}
	if err := validateProcess(s.Process); err != nil {
		return nil, err
	}
	return &s, nil
}

func newStartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start ID",
		Short: "run the process of a created container",
		Args:  exactArgs(1, "the container ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.load(args[0])
			if err != nil {
				return err
			}
			st, err := c.Status()
			if err != nil {
				return err
			}
			switch st {
			case libcontainer.Created:
			case libcontainer.Stopped:
				return errors.New("cannot start a container that has stopped")
			case libcontainer.Running:
				return errors.New("cannot start an already running container")
			default:
				return fmt.Errorf("cannot start a container in the %s state", st)
			}
			if err := c.Exec(); err != nil {
				return err
			}
			if side, err := readSidecar(g.root, c.ID()); err == nil && len(side.Poststart) > 0 {
				runPoststart(c, side.Poststart)
			}
			return nil
		},
	}
}

// load loads a container by ID.
func (g *globals) load(id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errors.New("container id cannot be empty")
	}
	return libcontainer.Load(g.root, id)
}
