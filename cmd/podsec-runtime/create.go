package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/internal/lc"
	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/oci"
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
			if err := g.startContainer(args[0], f, true); err != nil {
				return fmt.Errorf("%s create failed: %w", g.name, err)
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

// startContainer is create and run: load the bundle's spec, hold it to
// the policy, create the libcontainer container and start its init
// (createOnly: leave it waiting for start).
func (g *globals) startContainer(id string, f *createFlags, createOnly bool) error {
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
	// libcontainer encodes the configuration into the container's state
	// and the init's configuration: its encoders are built meanwhile.
	lc.WarmJSON(&libcontainer.State{})
	end := trace.Step("spec and policy")
	s, err := oci.LoadSpec("config.json")
	if err != nil {
		return err
	}
	pol, err := g.loadPolicy()
	if err != nil {
		return err
	}
	end()
	bundle, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	end = trace.Step("create")
	c, poststart, early, err := oci.Create(g.root, id, bundle, s, pol, oci.CreateOptions{NoPivotRoot: f.noPivot, NoNewKeyring: f.noNewKeyring})
	if err != nil {
		return err
	}
	end()
	r := &lc.Runner{
		C:             c,
		CreateOnly:    createOnly,
		Init:          true,
		Detach:        f.detach,
		Destroy:       !f.keep,
		Subreaper:     !f.noSubreaper,
		ConsoleSocket: f.consoleSocket,
		PidFile:       f.pidFile,
		PreserveFDs:   f.preserveFDs,
		Prepare:       early.Prepare,
		AfterCreate: func(p *libcontainer.Process) error {
			if err := early.Check(p); err != nil {
				return err
			}
			return oci.AfterCreate(c, s)
		},
	}
	if createOnly {
		r.Destroy = true // a failed create leaves nothing behind
	} else if len(poststart) > 0 {
		r.AfterStart = func() { oci.RunPoststart(c, poststart) }
	}
	status, err := r.Run(s.Process)
	if err != nil {
		return err
	}
	if status != 0 {
		return exitCode(status)
	}
	return nil
}
