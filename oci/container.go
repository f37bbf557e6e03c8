package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/internal/lc"
)

// CreateOptions are runc's create flags that change the container.
type CreateOptions struct {
	NoPivotRoot  bool
	NoNewKeyring bool
}

// Create holds the bundle's spec s to the node policy and creates
// container id under root, its init not yet started (lc.Runner starts
// it). bundle is the bundle directory, and the working directory:
// specconv reads a relative root.path from there, as runc's. It returns
// the poststart hooks, which are the caller's to run once the process
// runs: libcontainer would run them while creating; and the init's early
// seccomp filter, whose Files the init takes and whose Check runs once
// it is started.
func Create(root, id, bundle string, s *specs.Spec, pol *NodePolicy, o CreateOptions) (*libcontainer.Container, []specs.Hook, *EarlySeccomp, error) {
	if err := pol.CheckSpec(s, bundle); err != nil {
		return nil, nil, nil, err
	}
	var poststart []specs.Hook
	if s.Hooks != nil {
		poststart = s.Hooks.Poststart
	}
	var early *configs.Seccomp
	var filter *EarlySeccomp
	c, err := lc.Create(root, id, s, lc.CreateOptions{
		NoPivotRoot:  o.NoPivotRoot,
		NoNewKeyring: o.NoNewKeyring,
		Adjust: func(cfg *configs.Config) error {
			// specconv has read the mappings of a user namespace joined
			// by path (runc's own reading, the ones that will apply).
			if err := pol.checkJoinedUserNamespace(s, cfg); err != nil {
				return err
			}
			adaptConfig(cfg)
			early, filter = splitProfile(root, cfg)
			if cfg.Hooks != nil {
				delete(cfg.Hooks, configs.Poststart)
				if self, err := os.Executable(); err == nil && len(cfg.Hooks[configs.Prestart]) > 0 {
					prestartAsCreated(cfg, self)
				}
			}
			return nil
		},
	})
	if err != nil {
		filter.close()
		return nil, nil, nil, err
	}
	side := sidecar{Bundle: bundle, Annotations: s.Annotations, Poststart: poststart, EarlySeccomp: early}
	if err := side.write(root, id); err != nil {
		filter.close()
		_ = c.Destroy()
		return nil, nil, nil, err
	}
	return c, poststart, filter, nil
}

// Start runs the process of a created container, then its poststart
// hooks.
func Start(root string, c *libcontainer.Container) error {
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
	if side, err := readSidecar(root, c.ID()); err == nil && len(side.Poststart) > 0 {
		RunPoststart(c, side.Poststart)
	}
	return nil
}

// Delete deletes a stopped or created container; with force a running
// one too, killed first. A container whose create died half way has no
// libcontainer state: whatever is left of it goes.
func Delete(root, id string, force bool) error {
	c, err := lc.Load(root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			path := filepath.Join(root, id)
			if e := os.RemoveAll(path); e != nil {
				fmt.Fprintf(os.Stderr, "removing %s: %v\n", path, e)
			}
			if force {
				return nil
			}
		}
		return err
	}
	if force {
		return lc.Kill(c)
	}
	st, err := c.Status()
	if err != nil {
		return err
	}
	switch st {
	case libcontainer.Stopped:
		return c.Destroy()
	case libcontainer.Created:
		return lc.Kill(c)
	default:
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, st)
	}
}

// LoadSpec reads and checks a bundle's config.json.
func LoadSpec(path string) (*specs.Spec, error) {
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
	if err := lc.ValidateProcess(s.Process); err != nil {
		return nil, err
	}
	return &s, nil
}
