package lc

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CreateOptions are the choices of a create beyond the spec.
type CreateOptions struct {
	// NoPivotRoot and NoNewKeyring are runc's --no-pivot and
	// --no-new-keyring.
	NoPivotRoot  bool
	NoNewKeyring bool
	// Adjust, when set, changes the libcontainer configuration made from
	// the spec before the container is created (podsec-runtime drops
	// what the kernel ignores and runs poststart hooks itself); an error
	// stops the create before anything is made.
	Adjust func(*configs.Config) error
}

// Create converts s and creates container id under stateRoot, with its
// cgroup named id. Its init is started by a Runner or by Run.
func Create(stateRoot, id string, s *specs.Spec, o CreateOptions) (*libcontainer.Container, error) {
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:   id,
		NoPivotRoot:  o.NoPivotRoot,
		NoNewKeyring: o.NoNewKeyring,
		Spec:         s,
	})
	if err != nil {
		return nil, fmt.Errorf("converting spec: %w", err)
	}
	if o.Adjust != nil {
		if err := o.Adjust(cfg); err != nil {
			return nil, err
		}
	}
	c, err := libcontainer.Create(stateRoot, id, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating container: %w", err)
	}
	return c, nil
}

// Load loads container id of stateRoot.
func Load(stateRoot, id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errors.New("container id cannot be empty")
	}
	return libcontainer.Load(stateRoot, id)
}
